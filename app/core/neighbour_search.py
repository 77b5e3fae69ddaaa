"""Find the runners beside the ones followed: a crop beside each, with everyone found covered.

Following (``app.core.track_extension``) finds a runner again only where they already have a
track. A runner the whole-frame detector never isolates has none: on ``race_3runners_pan.mp4``
the sprinter in the black shirt, between the other two, is only ever inside a box drawn over
him and the runner in the white shirt, although he is plainly there for the whole bend. In a
race the others run beside the one followed, so every ``SEARCH_EVERY`` frames a crop one box
width to each side of every runner followed is shown to BlazePose with the people already found
covered by the picture's mean colour (as ``rhpnet.estimators.look_again`` does for whole images):
what it finds there is someone new. The pose is then estimated again on the uncovered picture,
where the cover would have hidden a limb reaching into a neighbour's box.

The finds are joined into people frame to frame, up to ``MAX_LINK_GAP_S`` apart (box centre
within ``LINK_DISTANCE`` of the box height of where it was expected, look within ``LINK_LOOK``
of the person's), and a person
found at least ``MIN_FINDS`` times over at least ``MIN_SEEN_S`` becomes a new track, which the
caller follows into the frames between and beyond the finds. No more people are made than the
analysis was asked to follow.

Docs: docs/engine.md, "Finding the runners beside".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from app.core.analysis import Track
from app.core.appearance import Looks, appearance_descriptors, appearance_distance
from app.core.progress import raise_if_cancelled
from app.core.track_extension import (
    MIN_SEEN_S,
    PERSON_SHAPE,
    CropEstimate,
    frame_shifts,
    person_shaped,
)
from rhpnet.boxes import box_iou
from rhpnet.estimators.look_again import MAX_COVERED_SHARE, covered, covered_share
from rhpnet.media.video import VideoSource
from rhpnet.poses import FramePoses

# Frames between searches: a tenth of a second at 30 fps (every 6th found the race clip's
# runner in the black shirt in 64 frames instead of 83).
SEARCH_EVERY = 3
SIDES = (-1.0, 1.0)  # box widths beside the runner the crop is centred on
MIN_SCORE = 0.5  # mean keypoint visibility of a find
MIN_HEIGHT = 0.6  # of the box height of the runner beside: a smaller find is a piece of one
REDONE_IOU = 0.5  # the uncovered picture's pose replaces the covered one's where they agree
LINK_DISTANCE = 0.5  # of the box height: how far a person's box centre may move between finds
LINK_LOOK = 0.6  # as tracking's veto: a runner packed lies 0.45-0.55 from their mean, others 0.6+
MAX_LINK_GAP_S = 1.5  # a runner hidden behind another for a second is found again
MIN_FINDS = 4  # and over ``MIN_SEEN_S``, as a track must be seen to be followed


@dataclass
class _Find:
    """One person found beside a runner in one frame."""

    frame: int
    pose: FramePoses  # one person
    look: np.ndarray

    @property
    def box(self) -> np.ndarray:
        return self.pose.boxes[0].astype(np.float64)


@dataclass
class _Person:
    """Someone found beside the runners: their finds in frame order, and their looks."""

    finds: list[_Find] = field(default_factory=list)
    looks: Looks = field(default_factory=Looks)

    def take(self, find: _Find) -> None:
        self.finds.append(find)
        self.looks.add(find.look)

    @property
    def span(self) -> tuple[int, int]:
        return self.finds[0].frame, self.finds[-1].frame

    def expected_centres(self, frame: int, shifts: np.ndarray) -> list[np.ndarray]:
        """Where their box centre may be at ``frame``: where it was (a camera that follows the
        runners keeps those beside them in place), still over the ground (moved with the
        camera's shift), or moving as between their last two finds."""
        last = self.finds[-1]
        centre = last.box[:2] + last.box[2:] / 2
        expected = [centre, centre + shifts[last.frame + 1 : frame + 1].sum(axis=0)]
        if len(self.finds) < 2:
            return expected
        before = self.finds[-2]
        velocity = (centre - before.box[:2] - before.box[2:] / 2) / (last.frame - before.frame)
        return [*expected, centre + velocity * (frame - last.frame)]


def find_neighbours(
    tracks: dict[int, Track],
    anchors: list[int],
    video: VideoSource,
    times_s: np.ndarray,
    camera_shift_px: np.ndarray | None,
    scene_cuts: list[int],
    estimate: CropEstimate,
    wanted: int,
    cancel: threading.Event | None = None,
) -> dict[int, tuple[Track, Looks]]:
    """Up to ``wanted`` new tracks (id -> track and looks) of people found beside the
    ``anchors`` (ids of ``tracks`` being followed); see the module."""
    if wanted < 1 or not anchors:
        return {}
    frame_count = len(times_s)
    shifts = frame_shifts(camera_shift_px, frame_count)
    shaped = {track_id: person_shaped(tracks[track_id]) for track_id in anchors}
    held = np.logical_or.reduce(list(shaped.values()))
    searched = np.flatnonzero(held & (np.arange(frame_count) % SEARCH_EVERY == 0))
    if not searched.size:
        return {}
    people: list[_Person] = []
    wanted_frames = set(searched.tolist())
    for frame in video.frames(int(searched[0])):
        if frame.index > searched[-1]:
            break
        if frame.index not in wanted_frames:
            continue
        raise_if_cancelled(cancel)
        beside = [tracks[tid].boxes[frame.index] for tid in anchors if shaped[tid][frame.index]]
        for find in _finds_in(frame.image, frame.index, tracks, beside, estimate):
            _link(find, people, times_s, shifts, scene_cuts)
    kept = [
        person
        for person in people
        if len(person.finds) >= MIN_FINDS
        and times_s[person.span[1]] - times_s[person.span[0]] >= MIN_SEEN_S
    ]
    kept.sort(key=lambda person: -len(person.finds))
    first_id = max(tracks, default=-1) + 1
    return {
        first_id + n: (_as_track(first_id + n, person, frame_count), person.looks)
        for n, person in enumerate(kept[:wanted])
    }


def _finds_in(
    image: np.ndarray,
    frame: int,
    tracks: dict[int, Track],
    beside: list[np.ndarray],
    estimate: CropEstimate,
) -> list[_Find]:
    """The new people beside the runners whose boxes are ``beside`` in one frame, one find
    per person."""
    known = np.array([t.boxes[frame] for t in tracks.values() if t.present[frame]], np.float64)
    hidden = covered(image, known)
    finds: list[_Find] = []
    for box in beside:
        beside_of = np.asarray(box, np.float64)
        for side in SIDES:
            region = beside_of + np.array([side * beside_of[2], 0.0, 0.0, 0.0])
            pose = estimate(hidden, region)
            if not _is_someone_new(pose, beside_of, known):
                continue
            again = estimate(image, pose.boxes[0])
            if len(again) and box_iou(pose.boxes[0], again.boxes[0])[0, 0] >= REDONE_IOU:
                pose = again
            look = appearance_descriptors(image, pose, rgb=False)[0]
            if not np.isfinite(look).all():
                continue  # no look to follow them by
            same = [f for f in finds if _same_person(f.box, pose.boxes[0].astype(np.float64))]
            if not same:
                finds.append(_Find(frame, pose, look))
            elif float(pose.scores[0]) > float(same[0].pose.scores[0]):
                finds[finds.index(same[0])] = _Find(frame, pose, look)
    return finds


def _same_person(box: np.ndarray, other: np.ndarray) -> bool:
    """Two finds in one frame are one person, seen from both sides: one box mostly inside the
    other (alike boxes, or the same runner with and without an arm)."""
    return max(covered_share(box, other[None]), covered_share(other, box[None])) > MAX_COVERED_SHARE


def _is_someone_new(pose: FramePoses, beside_of: np.ndarray, known: np.ndarray) -> bool:
    """A whole person, sure enough, standing as tall as the runner beside, and not mostly
    inside anyone found already (a limb of theirs left outside their box)."""
    if len(pose) == 0 or float(pose.scores[0]) < MIN_SCORE:
        return False
    box = pose.boxes[0].astype(np.float64)
    if box[3] < PERSON_SHAPE * box[2] or box[3] < MIN_HEIGHT * beside_of[3]:
        return False
    return covered_share(box, known) <= MAX_COVERED_SHARE


def _link(
    find: _Find,
    people: list[_Person],
    times_s: np.ndarray,
    shifts: np.ndarray,
    scene_cuts: list[int],
) -> None:
    """Add ``find`` to the person it continues (nearest box, alike look), else a new one."""
    best: tuple[float, _Person] | None = None
    for person in people:
        last = person.finds[-1]
        if last.frame >= find.frame or times_s[find.frame] - times_s[last.frame] > MAX_LINK_GAP_S:
            continue
        if any(last.frame < cut <= find.frame for cut in scene_cuts):
            continue
        now = find.box[:2] + find.box[2:] / 2
        distance = min(
            float(np.hypot(*(now - expected))) / max(last.box[3], 1.0)
            for expected in person.expected_centres(find.frame, shifts)
        )
        if distance > LINK_DISTANCE:
            continue
        if not appearance_distance(person.looks.mean, find.look[None])[0, 0] <= LINK_LOOK:
            continue
        if best is None or distance < best[0]:
            best = (distance, person)
    if best is None:
        people.append(_Person())
        people[-1].take(find)
    else:
        best[1].take(find)


def _as_track(track_id: int, person: _Person, frame_count: int) -> Track:
    track = Track.empty(track_id, frame_count)
    for find in person.finds:
        track.keypoints[find.frame] = find.pose.keypoints[0]
        track.boxes[find.frame] = find.pose.boxes[0]
        track.scores[find.frame] = find.pose.scores[0]
    return track
