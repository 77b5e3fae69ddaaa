"""Following a runner into the frames the detector missed (where, whom, and where not), and
finding the runners beside them."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.analysis import Track
from app.core.appearance import Looks, appearance_descriptors
from app.core.neighbour_search import MIN_FINDS, SEARCH_EVERY, find_neighbours
from app.core.track_extension import extend_tracks
from rhpnet.media.info import VideoInfo
from rhpnet.media.video import Frame, VideoSource
from rhpnet.poses import FramePoses
from rhpnet.skeleton import NUM_POSE_KEYPOINTS
from tests.support.people import RED_AND_BLUE, WHITE_AND_BLACK, dressed, person, poses_of

FPS, COUNT, SIZE = 30.0, 60, (320, 240)


def runner_at(frame: int) -> np.ndarray:
    """The runner's keypoints: 4 px a frame to the right."""
    return person(20 + 4 * frame, 60, 40, 120)


BYSTANDER = person(240, 60, 40, 120)


def neighbour_at(frame: int, beside: float) -> np.ndarray:
    """A second runner's keypoints: ``beside`` px to the right of the runner, at their pace."""
    return person(20 + 4 * frame + beside, 60, 40, 120)


class PaintedClip(VideoSource):
    """Frames with the runner (red shirt, blue shorts) painted where ``runner_at`` says, up to
    ``runner_until``, and a bystander in white and black from ``bystander_from``; or, where
    ``beside`` is given, a runner in white and black that far to the runner's right."""

    info = VideoInfo("painted.mp4", SIZE[0], SIZE[1], FPS, COUNT, COUNT / FPS)
    times_s = np.arange(COUNT) / FPS

    def __init__(
        self, runner_until: int = COUNT, bystander_from: int = COUNT, beside: float | None = None
    ) -> None:
        self.warnings: list[str] = []
        self.runner_until, self.bystander_from = runner_until, bystander_from
        self.beside = beside
        self.decoded = 0

    def image(self, index: int) -> np.ndarray:
        image = np.full((SIZE[1], SIZE[0], 3), 128, np.uint8)
        if index < self.runner_until:
            dressed(image, runner_at(index), RED_AND_BLUE)
        if self.beside is not None:
            dressed(image, neighbour_at(index, self.beside), WHITE_AND_BLACK)
        elif index >= self.bystander_from:
            dressed(image, BYSTANDER, WHITE_AND_BLACK)
        return image

    def frames(self, start: int = 0, *, rgb: bool = False):
        for index in range(start, COUNT):
            self.decoded += 1
            yield Frame(index, float(self.times_s[index]), self.image(index))

    def read_frame(self, index: int) -> Frame:
        return Frame(index, float(self.times_s[index]), self.image(index))

    def close(self) -> None:
        pass


def crop_estimate(image: np.ndarray, box: np.ndarray) -> FramePoses:
    """A stand-in for BlazePose on a crop: the painted person nearest the box's centre, if one
    is inside the crop (1.8 x the box); a person covered over is not seen."""
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    people = []
    for shirt, _ in (RED_AND_BLUE, WHITE_AND_BLACK):
        ys, xs = np.nonzero(np.all(image == shirt, axis=2))
        if not len(xs):
            continue
        keypoints = person(float(xs.min()) - 0.28 * 40, 60, 40, 120)  # shirt from 0.28 w
        centre = keypoints[:, :2].mean(axis=0)
        if abs(centre[0] - cx) <= 0.9 * box[2] and abs(centre[1] - cy) <= 0.9 * box[3]:
            people.append((np.hypot(*(centre - (cx, cy))), keypoints))
    if not people:
        return FramePoses.empty(NUM_POSE_KEYPOINTS)
    keypoints = min(people, key=lambda p: p[0])[1]
    padded = np.concatenate([keypoints, np.full((4, 3), np.nan)])  # no feet
    padded[17:, 2] = 0.0
    poses = poses_of([keypoints])
    return FramePoses(padded[None].astype(np.float32), poses.boxes, np.array([0.9], np.float32))


def track_seen(frames: range, track_id: int = 0) -> Track:
    track = Track.empty(track_id, COUNT)
    for frame in frames:
        poses = poses_of([runner_at(frame)])
        track.keypoints[frame, :17] = poses.keypoints[0]
        track.boxes[frame] = poses.boxes[0]
        track.scores[frame] = 0.9
    return track


def looks_of(clip: PaintedClip, track: Track) -> Looks:
    looks = Looks()
    for frame in np.flatnonzero(track.present):
        pose = FramePoses(track.keypoints[frame : frame + 1], track.boxes[frame : frame + 1], None)
        looks.add(appearance_descriptors(clip.image(frame), pose, rgb=False)[0])
    return looks


def extend(clip: PaintedClip, tracks: dict[int, Track], cuts=()) -> dict[int, int]:
    looks = {tid: looks_of(clip, t) for tid, t in tracks.items()}
    return extend_tracks(tracks, looks, clip, clip.times_s, None, list(cuts), crop_estimate)


def test_a_runner_is_followed_through_a_gap_and_beyond_both_ends():
    clip = PaintedClip()
    track = track_seen(range(10, 45))
    track.scores[20:30] = np.nan  # the detector lost them for a third of a second
    track.boxes[20:30] = np.nan
    track.keypoints[20:30] = np.nan
    added = extend(clip, {0: track})
    assert added == {0: 35} and track.present.all()
    expected = poses_of([runner_at(25)]).boxes[0]
    np.testing.assert_allclose(track.boxes[25], expected, atol=0.5)  # painted to the pixel
    assert clip.decoded < 3 * COUNT  # frames decoded a block at a time, not a seek per frame


def test_a_walk_does_not_take_someone_who_looks_different_where_the_runner_was():
    """The runner leaves at frame 45; a bystander in other clothes stands where the walk
    expects the runner next."""
    clip = PaintedClip(runner_until=45, bystander_from=45)
    track = track_seen(range(10, 45))
    extend(clip, {0: track})
    assert track.present[:45].all() and not track.present[45:].any()


def test_walks_stop_at_a_scene_cut_and_at_someone_else_s_track():
    clip = PaintedClip()
    ours, theirs = track_seen(range(10, 44)), track_seen(range(48, 60), track_id=1)
    extend(clip, {0: ours, 1: theirs}, cuts=(5,))
    assert not ours.present[:5].any() and ours.present[5:10].all()
    assert ours.present[44:48].all() and not ours.present[48:].any()  # there: track 1's


@pytest.mark.parametrize("frames", [range(10, 20), range(10, 11)])
def test_tracks_seen_briefly_are_left_as_they_are(frames):
    clip = PaintedClip()
    track = track_seen(frames)
    assert extend(clip, {0: track}) == {}
    assert track.frame_count_present == len(frames)


def search_beside(
    clip: PaintedClip, tracks: dict[int, Track], wanted: int = 1, estimate=crop_estimate
) -> dict:
    return find_neighbours(tracks, sorted(tracks), clip, clip.times_s, None, [], estimate, wanted)


def edge_crop_estimate(image: np.ndarray, box: np.ndarray) -> FramePoses:
    """A stand-in for BlazePose that, like it, also finds a person only partly in the crop:
    anyone whose shirt shows in it."""
    x0, y0 = int(box[0] - 0.4 * box[2]), int(box[1] - 0.4 * box[3])
    x1, y1 = int(box[0] + 1.4 * box[2]), int(box[1] + 1.4 * box[3])
    inside = image[max(0, y0) : y1, max(0, x0) : x1]
    for shirt, _ in (RED_AND_BLUE, WHITE_AND_BLACK):
        if np.all(inside == shirt, axis=2).any():
            ys, xs = np.nonzero(np.all(image == shirt, axis=2))
            keypoints = person(float(xs.min()) - 0.28 * 40, 60, 40, 120)
            padded = np.concatenate([keypoints, np.zeros((4, 3))])
            return FramePoses(
                padded[None].astype(np.float32),
                poses_of([keypoints]).boxes,
                np.array([0.9], np.float32),
            )
    return FramePoses.empty(NUM_POSE_KEYPOINTS)


def test_a_runner_beside_the_one_followed_is_found_and_becomes_a_track():
    """No detector ever boxed the runner in white and black beside the one followed."""
    clip = PaintedClip(beside=28.0)
    found = search_beside(clip, {0: track_seen(range(COUNT))})
    assert list(found) == [1]
    track, looks = found[1]
    frames = np.flatnonzero(track.present)
    assert len(frames) >= MIN_FINDS and (frames % SEARCH_EVERY == 0).all()
    for frame in frames:
        expected = poses_of([neighbour_at(frame, 28.0)]).boxes[0]
        np.testing.assert_allclose(track.boxes[frame], expected, atol=0.5)
    assert looks.count == len(frames)
    # Followed like any track, they are then found in the frames between the searches too.
    tracks = {0: track_seen(range(COUNT)), 1: track}
    extend_tracks(tracks, {1: looks}, clip, clip.times_s, None, [], crop_estimate, ids=[1])
    assert track.present.all() and tracks[0].frame_count_present == COUNT


def test_no_one_is_found_beside_a_runner_alone_nor_beyond_the_people_wanted():
    """The crop beside a runner alone shows only the runner, covered over and found already: no one
    new; and no one is looked for where no more people are wanted."""
    alone = PaintedClip()
    assert search_beside(alone, {0: track_seen(range(COUNT))}, 1, edge_crop_estimate) == {}
    beside = PaintedClip(beside=28.0)  # and the same estimator finds a runner beside
    assert list(search_beside(beside, {0: track_seen(range(COUNT))}, 1, edge_crop_estimate))
    assert search_beside(PaintedClip(beside=28.0), {0: track_seen(range(COUNT))}, 0) == {}
