"""Follow each runner into the frames the detector missed them in.

The whole-frame detector misses runners who are small or in a pack: on
``race_3runners_pan.mp4`` the sprinter the camera follows is found in the bend only now and then,
and not at all before frame 158, although he is plainly there. Once a track says where someone
is, a crop around where they should be shows them large enough to find again
(``rhpnet.estimators.blazepose_crop``). So every track seen over at least ``MIN_SEEN_S`` is
passed over twice, forwards from its first frame and backwards from its last, one frame at a
time, going on up to ``MAX_WALK_S`` beyond its other end:

* where the track holds a person-shaped box where the person should be (IoU at least
  ``ADOPT_IOU`` with the prediction below, at most ``MAX_WIDENING`` times as wide), the pass
  takes it as the person's place;
* elsewhere the box is predicted from the last place: moved with the camera's shift
  (``app.core.camera_motion``) and the person's own velocity over the ground, at the median
  size of the last boxes; BlazePose runs on a crop around it, and the pose is kept only where
  its box overlaps the prediction (IoU at least ``MIN_IOU``), its keypoints are sure enough
  (mean visibility ``MIN_SCORE``), it looks like the track's person (``app.core.appearance``:
  within ``MAX_LOOK_DISTANCE`` of their mean look, drawn towards the looks of the poses the pass
  has found; a crop in a pack shows the neighbours too) and no other track
  holds that person in that frame; where that finds no one, a box of the track's own stays;
* after ``MAX_MISSES`` frames in a row with no pose kept the pass jumps to the track's next
  person-shaped box within ``MAX_GAP_S``, or ends; it ends too at a scene cut.

A box whose height is under ``PERSON_SHAPE`` times its width is a box over several people, not
one runner (in the pack the race clip's sprinter has frames with one box over all three): the
passes put the runner's own pose in its place where they find one.

Docs: docs/engine.md, "Following a runner into missed frames".
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator

import numpy as np

from app.core.analysis import Track
from app.core.appearance import Looks, appearance_descriptors, appearance_distance
from app.core.progress import raise_if_cancelled
from rhpnet.boxes import box_iou
from rhpnet.media.video import Frame, VideoSource
from rhpnet.poses import FramePoses

MIN_SEEN_S = 1.0  # tracks seen for less (a bystander passing, a box over two people) stay
MAX_MISSES = 8  # frames in a row with no pose kept end a walk
MAX_WALK_S = 3.0  # how far a walk goes beyond the track's first or last frame
MAX_GAP_S = 2.0  # longer gaps inside a track are two stretches, not one person missed
MIN_IOU = 0.3
MIN_SCORE = 0.5
MAX_LOOK_DISTANCE = 0.55  # a runner lies within about 0.45-0.55 of their mean look in a pack
OTHERS_IOU = 0.5  # a pose overlapping another track's box this much is that person
SIZE_FRAMES = 10  # the predicted box has the median size of this many boxes last accepted
LOOK_SMOOTHING = 0.2  # weight of a pose found in the look a pass expects next
BLOCK = 16  # frames decoded at a time
PERSON_SHAPE = 1.2  # box height / width: a running person's box is taller than wide
# The track's own box is taken where it overlaps the prediction this much; elsewhere a crop
# around the prediction is tried first (the box may have drifted onto a neighbour).
ADOPT_IOU = 0.5
MAX_WIDENING = 1.4  # nor where it is this much wider than the person's recent boxes (two people)

CropEstimate = Callable[[np.ndarray, np.ndarray], FramePoses]


def extend_tracks(
    tracks: dict[int, Track],
    looks: dict[int, Looks],
    video: VideoSource,
    times_s: np.ndarray,
    camera_shift_px: np.ndarray | None,
    scene_cuts: list[int],
    estimate: CropEstimate,
    cancel: threading.Event | None = None,
    ids: list[int] | None = None,
) -> dict[int, int]:
    """Fill in ``tracks`` (in place) where each person is found again; frames added per id.

    ``looks`` are the tracks' looks as tracking saw them; ``estimate(image, box)`` is the crop
    estimator; ``camera_shift_px`` the background's shift into each frame (NaN: unknown);
    ``ids`` the tracks to follow (all by default; the others are still no one else's)."""
    frames = _FrameCache(video)
    shifts = frame_shifts(camera_shift_px, len(times_s))
    cuts = np.asarray(sorted(scene_cuts), np.int64)
    added: dict[int, int] = {}
    for track_id in sorted(tracks if ids is None else ids):
        track = tracks[track_id]
        look = looks.get(track_id)
        if look is None or not followable(track, times_s):
            continue
        seen = np.flatnonzero(person_shaped(track))
        others = [t for tid, t in tracks.items() if tid != track_id]
        walk = _Walk(track, others, times_s, shifts, cuts, frames, estimate, cancel)
        count = walk.run(seen[0], +1, look.mean) + walk.run(seen[-1], -1, look.mean)
        if count:
            added[track_id] = count
    return added


def person_shaped(track: Track) -> np.ndarray:
    """(T,) bool: frames the track holds with a person-shaped box."""
    with np.errstate(invalid="ignore"):
        return track.present & (track.boxes[:, 3] >= PERSON_SHAPE * track.boxes[:, 2])


def followable(track: Track, times_s: np.ndarray) -> bool:
    """Whether the track holds a person-shaped box over at least ``MIN_SEEN_S``: someone to
    follow, not a bystander passing or a box over two people."""
    seen = np.flatnonzero(person_shaped(track))
    return len(seen) >= 2 and times_s[seen[-1]] - times_s[seen[0]] >= MIN_SEEN_S


class _Walk:
    """Walks of one track: from a frame it holds, frame by frame in one direction."""

    def __init__(
        self,
        track: Track,
        others: list[Track],
        times_s: np.ndarray,
        shifts: np.ndarray,
        cuts: np.ndarray,
        frames: _FrameCache,
        estimate: CropEstimate,
        cancel: threading.Event | None,
    ) -> None:
        self.track, self.others, self.times = track, others, times_s
        self.shifts, self.cuts, self.frames = shifts, cuts, frames
        self.estimate, self.cancel = estimate, cancel

    def run(self, anchor: int, step: int, look: np.ndarray) -> int:
        """Frames added passing from ``anchor`` in ``step`` (+1 or -1), for a person whose
        mean look is ``look``; see the module."""
        track = self.track
        solid = person_shaped(track)
        ahead = np.flatnonzero(solid)[::step]  # the track's own places, in walking order
        last_own = int(ahead[-1])
        box = track.boxes[anchor].astype(np.float64)
        sizes = deque([box[2:]], maxlen=SIZE_FRAMES)
        velocity = np.zeros(2)  # the person's own motion per frame over the ground
        # The look a pose must have: the track's mean, then drawn to the poses found (the same
        # runner looks different small in a bend and large in the straight).
        reference = look
        frame, misses, added = anchor, 0, 0
        while True:
            target = frame + step
            if not 0 <= target < len(self.times) or self._crosses_cut(frame, target):
                break
            beyond = step * (target - last_own) > 0
            if beyond and abs(self.times[target] - self.times[last_own]) > MAX_WALK_S:
                break
            raise_if_cancelled(self.cancel)
            moved = self.shifts[max(frame, target)] * step + velocity
            centre = box[:2] + box[2:] / 2 + moved
            width, height = np.median(np.asarray(sizes), axis=0)
            predicted = np.array([centre[0] - width / 2, centre[1] - height / 2, width, height])
            previous, frame = box, target
            own = track.boxes[frame].astype(np.float64)
            fits = own[2] <= MAX_WIDENING * width and box_iou(predicted, own)[0, 0] >= ADOPT_IOU
            if solid[frame] and fits:
                box, misses = own, 0
            elif (found := self._pose_at(frame, predicted, reference)) is not None:
                pose, look = found
                reference = (1 - LOOK_SMOOTHING) * reference + LOOK_SMOOTHING * look
                box, misses = pose.boxes[0].astype(np.float64), 0
                track.keypoints[frame] = pose.keypoints[0]
                track.boxes[frame] = pose.boxes[0]
                track.scores[frame] = pose.scores[0]
                added += 1
            elif solid[frame]:  # elsewhere than foreseen, and no one found there: the detector
                box, misses = own, 0
            else:
                box, misses = predicted, misses + 1
                if misses >= MAX_MISSES:  # lost: on from the track's next own place
                    nearer = ahead[step * (ahead - frame) > 0]
                    if (
                        not nearer.size
                        or abs(self.times[nearer[0]] - self.times[frame]) > MAX_GAP_S
                    ):
                        break
                    frame = int(nearer[0])
                    box, misses, velocity = track.boxes[frame].astype(np.float64), 0, np.zeros(2)
                continue
            sizes.append(box[2:])
            motion = (box[:2] + box[2:] / 2) - (previous[:2] + previous[2:] / 2)
            motion = motion - self.shifts[max(frame, frame - step)] * step
            velocity = 0.5 * velocity + 0.5 * motion
        return added

    def _pose_at(self, frame: int, predicted: np.ndarray, reference: np.ndarray):
        image = self.frames.get(frame)
        poses = self.estimate(image, predicted)
        if len(poses) == 0 or float(poses.scores[0]) < MIN_SCORE:
            return None
        box = poses.boxes[0]
        if box_iou(predicted, box)[0, 0] < MIN_IOU:
            return None
        for other in self.others:
            if other.present[frame] and box_iou(other.boxes[frame], box)[0, 0] >= OTHERS_IOU:
                return None
        look = appearance_descriptors(image, poses, rgb=False)
        if not appearance_distance(reference, look)[0, 0] <= MAX_LOOK_DISTANCE:
            return None  # unlike the person, or no look to tell (NaN)
        return poses, look[0]

    def _crosses_cut(self, frame: int, target: int) -> bool:
        """A cut starts a new shot at its frame: stepping onto it, or back from it, crosses."""
        return bool(np.isin(max(frame, target), self.cuts))


def frame_shifts(camera_shift_px: np.ndarray | None, frames: int) -> np.ndarray:
    """(frames, 2) shift into each frame from the one before, 0 where unknown."""
    if camera_shift_px is None:
        return np.zeros((frames, 2))
    return np.nan_to_num(np.asarray(camera_shift_px, np.float64).reshape(frames, 2))


class _FrameCache:
    """The last ``BLOCK`` frames decoded, for walks that go frame by frame either way: a seek
    per frame would decode from a keyframe each time (phone video: one in several seconds).
    Forwards the decoder runs on; anywhere else it starts again ``BLOCK`` frames before the
    frame asked for, so that a walk backwards finds the next ones already decoded."""

    def __init__(self, video: VideoSource) -> None:
        self.video = video
        self.images: dict[int, np.ndarray] = {}
        self.reader: Iterator[Frame] | None = None
        self.last = -1

    def get(self, index: int) -> np.ndarray:
        if index in self.images:
            return self.images[index]
        if self.reader is None or not self.last < index <= self.last + BLOCK:
            self.reader = self.video.frames(max(0, index - BLOCK + 1))
            self.images, self.last = {}, -1
        for frame in self.reader:
            self.images[frame.index] = frame.image
            self.last = frame.index
            if len(self.images) > BLOCK:
                del self.images[next(iter(self.images))]
            if frame.index >= index:
                break
        return self.images[index]
