"""Stable person ids across frames, and the choice of the analysed runner.

Online tracking (``Tracker.update`` once per frame): every live track predicts where its person
is now (constant velocity of the box centre over the ground: the camera's own motion, where
known, moves the last observation first), then detections are assigned to tracks by
``scipy.optimize.linear_sum_assignment`` on a similarity that is the OKS of the keypoints when
both poses have enough confident keypoints, and the box IoU otherwise. Pairs below
``min_similarity`` are never matched. Where the detections' looks are known
(``app.core.appearance``), the assignment weighs each pair's similarity by how alike the person
and the track's running look are, so of two runners a box overlaps equally, the one who looks
like the track's person is chosen. A track that finds no detection stays alive, coasting on its
prediction, for ``max_lost_s`` (bridging short occlusions such as a runner passing behind a
bystander); after that its id is retired and a person who reappears gets a new id.

Offline, ``TrackSet.finish`` re-links fragments of one person split by a longer dropout when
the later fragment starts where the earlier one ended and does not look like someone else, and
``choose_subject`` picks the runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from app.core.analysis import Track
from app.core.appearance import DESCRIPTOR_SIZE, Looks, appearance_distance
from rhpnet.boxes import box_iou
from rhpnet.oks import keypoint_oks
from rhpnet.poses import FramePoses, in_pose_layout
from rhpnet.skeleton import NUM_POSE_KEYPOINTS, POSE_KEYPOINT_NAMES


@dataclass
class TrackerConfig:
    """Tuning of the online tracker (defaults suit 25-240 fps running footage)."""

    max_lost_s: float = 0.5
    min_similarity: float = 0.1
    min_keypoint_score: float = 0.3
    min_common_keypoints: int = 4
    # Weight of the newest velocity estimate in the running average (0..1).
    velocity_smoothing: float = 0.5
    # Weight of the newest look in a track's running look (0..1).
    appearance_smoothing: float = 0.05
    # A pair's similarity counts (1 - distance of looks) times in the assignment; a pair whose
    # look is unknown counts as this far apart.
    unknown_appearance_distance: float = 0.5
    # Looks further apart than this are two people, however well their boxes overlap (race
    # clip: a runner's detections lie at most about 0.45 from their own look, 0.6-0.7 from the
    # other runners').
    max_appearance_distance: float = 0.6


@dataclass
class _LiveTrack:
    track_id: int
    box: np.ndarray  # last observed (x, y, w, h)
    keypoints: np.ndarray  # last observed (K, 3)
    time_s: float
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # box centre, px/s
    # Running look (``app.core.appearance``); NaN until one is seen.
    appearance: np.ndarray = field(
        default_factory=lambda: np.full(DESCRIPTOR_SIZE, np.nan, np.float32)
    )

    def predicted_shift(self, time_s: float) -> np.ndarray:
        return self.velocity * (time_s - self.time_s)

    def move_with_camera(self, shift: np.ndarray) -> None:
        """Where the last observation is in this frame had the person stood still (both arrays
        are the track's own copies)."""
        self.box[:2] += shift
        self.keypoints[:, :2] += shift


class Tracker:
    """Frame-by-frame assignment of detections to persistent track ids (0, 1, 2, ...)."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        self._live: list[_LiveTrack] = []
        self._next_id = 0

    def update(
        self,
        time_s: float,
        poses: FramePoses,
        camera_shift: tuple[float, float] | None = None,
        appearance: np.ndarray | None = None,
    ) -> np.ndarray:
        """Track ids (N,) for the N detections of the frame shown at ``time_s``.

        ``appearance`` holds the detections' looks ((N, D), ``app.core.appearance``; None or
        NaN rows where unknown).

        ``camera_shift`` is the background's shift since the previous frame
        (``app.core.camera_motion``; NaN or None where unknown). Where the people are matched
        better with it than without, every live track's last observation first moves with it,
        so predictions and velocities are over the ground, not the picture: a bystander stays
        where they stand when a pan starts or stops, and a runner the camera follows keeps
        their own speed while hidden behind another. A shift that matches the people worse is
        taken for a misreading (a changing overlay, a damaged frame) and left out.
        """
        cfg = self.config
        self._live = [t for t in self._live if time_s - t.time_s <= cfg.max_lost_s]
        if appearance is None:
            appearance = np.full((len(poses), DESCRIPTOR_SIZE), np.nan, np.float32)
        ids = np.full(len(poses), -1, np.int64)
        pairs: list[tuple[int, int]] = []
        if self._live and len(poses):
            pairs, moved = self._assign(time_s, poses, camera_shift, appearance)
        else:
            moved = camera_shift is not None and bool(np.isfinite(camera_shift).all())
        if moved:
            for track in self._live:
                track.move_with_camera(np.asarray(camera_shift, np.float64))
        for r, c in pairs:
            ids[c] = self._live[r].track_id
            self._observe(self._live[r], time_s, poses, c, appearance[c])
        for c in np.flatnonzero(ids < 0):
            track = _LiveTrack(
                self._next_id,
                poses.boxes[c].astype(np.float64),
                poses.keypoints[c].copy(),
                time_s,
                appearance=np.asarray(appearance[c], np.float32).copy(),
            )
            self._live.append(track)
            ids[c] = track.track_id
            self._next_id += 1
        return ids

    def end_all(self) -> None:
        """End every live track (at a scene cut): the next detections start new tracks."""
        self._live = []

    def _assign(
        self,
        time_s: float,
        poses: FramePoses,
        camera_shift: tuple[float, float] | None,
        appearance: np.ndarray,
    ) -> tuple[list[tuple[int, int]], bool]:
        """The (track row, detection) pairs matched, and whether the camera's shift was used:
        the assignment with or without it whose matched, look-weighted similarities add up to
        more. Whether a pair may match at all rests on its similarity alone: a look changes
        which of the close candidates is chosen, not how far a person may move; only a look
        unlike the track's beyond ``max_appearance_distance`` rules a pair out."""
        offsets = [np.zeros(2)]
        if camera_shift is not None and np.isfinite(camera_shift).all():
            offsets.append(np.asarray(camera_shift, np.float64))
        models = np.stack([t.appearance for t in self._live])
        distance = appearance_distance(models, appearance)
        alike = 1.0 - np.where(
            np.isnan(distance), self.config.unknown_appearance_distance, distance
        )
        candidates = []
        for moved, offset in enumerate(offsets):
            similarity = self._similarity(time_s, poses, offset)
            weighted = similarity * alike
            rows, cols = linear_sum_assignment(-weighted)
            pairs = [
                (int(r), int(c))
                for r, c in zip(rows, cols, strict=True)
                if similarity[r, c] >= self.config.min_similarity
                and not distance[r, c] > self.config.max_appearance_distance
            ]
            candidates.append((float(sum(weighted[r, c] for r, c in pairs)), moved, pairs))
        _, moved, pairs = max(candidates, key=lambda candidate: candidate[:2])
        return pairs, bool(moved)

    def _similarity(self, time_s: float, poses: FramePoses, offset: np.ndarray) -> np.ndarray:
        cfg = self.config
        shifts = np.stack([t.predicted_shift(time_s) for t in self._live]) + offset  # (N, 2)
        boxes = np.stack([t.box for t in self._live]).copy()
        boxes[:, :2] += shifts
        keypoints = np.stack([t.keypoints for t in self._live]).astype(np.float64)
        keypoints[:, :, :2] += shifts[:, None, :]
        iou = box_iou(boxes, poses.boxes)
        area = poses.boxes[:, 2].astype(np.float64) * poses.boxes[:, 3]
        oks = keypoint_oks(
            keypoints, poses.keypoints, area, cfg.min_keypoint_score, cfg.min_common_keypoints
        )
        return np.where(np.isnan(oks), iou, oks)

    def _observe(
        self, track: _LiveTrack, time_s: float, poses: FramePoses, c: int, look: np.ndarray
    ) -> None:
        if np.isfinite(look).all():
            if np.isfinite(track.appearance).all():
                a = self.config.appearance_smoothing
                track.appearance = (a * look + (1 - a) * track.appearance).astype(np.float32)
            else:
                track.appearance = np.asarray(look, np.float32).copy()
        box = poses.boxes[c].astype(np.float64)
        dt = time_s - track.time_s
        if dt > 0:
            centre_shift = (box[:2] + box[2:] / 2) - (track.box[:2] + track.box[2:] / 2)
            a = self.config.velocity_smoothing
            track.velocity = a * centre_shift / dt + (1 - a) * track.velocity
        track.box = box
        track.keypoints = poses.keypoints[c].copy()
        track.time_s = time_s


class _GrowingTrack:
    """Rows of one track, stored sparsely (frame index + values) in amortised-growth arrays."""

    def __init__(self) -> None:
        self.size = 0
        self.frames = np.zeros(64, np.int64)
        self.keypoints = np.zeros((64, NUM_POSE_KEYPOINTS, 3), np.float32)
        self.boxes = np.zeros((64, 4), np.float32)
        self.scores = np.zeros(64, np.float32)
        self.looks = Looks()  # ``app.core.appearance``

    def append(self, frame: int, keypoints: np.ndarray, box: np.ndarray, score: float) -> None:
        if self.size == len(self.frames):
            grow = len(self.frames)
            self.frames = np.concatenate([self.frames, np.zeros(grow, np.int64)])
            self.keypoints = np.concatenate([self.keypoints, np.zeros_like(self.keypoints)])
            self.boxes = np.concatenate([self.boxes, np.zeros_like(self.boxes)])
            self.scores = np.concatenate([self.scores, np.zeros_like(self.scores)])
        self.frames[self.size] = frame
        self.keypoints[self.size] = keypoints
        self.boxes[self.size] = box
        self.scores[self.size] = score
        self.size += 1

    def extend(self, other: _GrowingTrack) -> None:
        """Take ``other``'s rows (frames this track does not hold), kept in frame order."""
        for i in range(other.size):
            self.append(other.frames[i], other.keypoints[i], other.boxes[i], other.scores[i])
        self.looks.merge(other.looks)
        order = np.argsort(self.frames[: self.size], kind="stable")
        for name in ("frames", "keypoints", "boxes", "scores"):
            rows = getattr(self, name)
            rows[: self.size] = rows[: self.size][order]


# Looks at the two ends of fragments further apart than this are two people (race clip: one
# runner's ends 0.28-0.45 apart, two runners' 0.56-0.87).
RELINK_MAX_DISTANCE = 0.5


class TrackSet:
    """Collects tracked detections while a video is analysed; ``finish`` gives dense ``Track``s.

    Memory grows only with detections (about 250 bytes per person per frame), never with images.
    """

    def __init__(self) -> None:
        self._rows: dict[int, _GrowingTrack] = {}
        # The looks of the tracks ``finish`` gave, by their ids (``app.core.appearance``).
        self.finished_looks: dict[int, Looks] = {}

    def add(
        self,
        frame_index: int,
        track_ids: np.ndarray,
        poses: FramePoses,
        appearance: np.ndarray | None = None,
    ) -> None:
        """Store one frame's tracked poses: pose layout, or COCO-17 (the layout's first 17
        points, whose feet stay NaN), and their looks where given."""
        count = poses.keypoints.shape[1]
        poses = in_pose_layout(poses, POSE_KEYPOINT_NAMES[:count])
        for n, tid in enumerate(track_ids):
            rows = self._rows.setdefault(int(tid), _GrowingTrack())
            rows.append(frame_index, poses.keypoints[n], poses.boxes[n], poses.scores[n])
            if appearance is not None:
                rows.looks.add(appearance[n])

    def absorb(self, later: TrackSet, start: int, min_iou: float = 0.5) -> None:
        """Append the tracks of a later chunk, whose own frames begin at ``start``.

        The later chunk also tracked some frames before ``start`` (its warm-up) that this set
        holds too. A later track continues the track of this set whose boxes it overlaps most over
        those shared frames (mean IoU at least ``min_iou``, one-to-one by
        ``linear_sum_assignment``); a track with no such partner (someone who enters after the
        border, or behind a scene cut in the warm-up) gets a new id. Only the later chunk's rows
        from ``start`` on are kept: the shared frames stay as this set analysed them.
        """
        ours = list(self._rows.items())
        theirs = [g for g in later._rows.values() if g.size]
        partner: dict[int, int] = {}
        if ours and theirs:
            overlap = np.array([[_mean_shared_iou(a, b, start) for _, a in ours] for b in theirs])
            rows, cols = linear_sum_assignment(1.0 - overlap)
            partner = {
                int(r): ours[c][0]
                for r, c in zip(rows, cols, strict=True)
                if overlap[r, c] >= min_iou
            }
        next_id = max(self._rows, default=-1) + 1
        for n, fragment in enumerate(theirs):
            keep = fragment.frames[: fragment.size] >= start
            if not keep.any():
                continue
            if n not in partner:
                partner[n] = next_id
                next_id += 1
            rows = self._rows.setdefault(partner[n], _GrowingTrack())
            for i in np.flatnonzero(keep):
                rows.append(
                    fragment.frames[i], fragment.keypoints[i], fragment.boxes[i], fragment.scores[i]
                )
            rows.looks.merge(fragment.looks)

    def finish(
        self,
        frame_count: int,
        times_s: np.ndarray,
        relink_gap_s: float = 2.0,
        relink_iou: float = 0.3,
        scene_cuts: tuple[int, ...] = (),
        relink_max_distance: float = RELINK_MAX_DISTANCE,
        relink_interleave_s: float = 0.5,
    ) -> dict[int, Track]:
        """Dense tracks over ``frame_count`` frames, with split fragments of one person re-linked.

        A fragment B is appended to an earlier track A when B starts after A ends, within
        ``relink_gap_s``, and B's first box overlaps A's last box by at least ``relink_iou``
        (a runner lost for a moment reappears where they were), unless the looks at A's end and
        B's start are known and further apart than ``relink_max_distance`` (another runner who
        takes the place of one who left). A fragment that starts before A ends is appended where
        both have looks, the two never hold the same frame and, wherever one is seen within
        ``relink_interleave_s`` of the other, their boxes overlap by ``relink_iou`` in the
        median (the detector found one person's box in two shapes, and the tracker took them
        for two people in turn), again unless they look like two people. Ids are renumbered
        0, 1, ...
        in order of first appearance. No fragment is re-linked across a scene cut (the frame
        indices that start a new shot).
        """
        rows = self._relink(
            times_s,
            relink_gap_s,
            relink_iou,
            np.asarray(scene_cuts, np.int64),
            relink_max_distance,
            relink_interleave_s,
        )
        tracks: dict[int, Track] = {}
        for new_id, growing in enumerate(sorted(rows, key=lambda g: g.frames[0])):
            track = Track.empty(new_id, frame_count)
            sl = slice(0, growing.size)
            frames = growing.frames[sl]
            track.keypoints[frames] = growing.keypoints[sl]
            track.boxes[frames] = growing.boxes[sl]
            track.scores[frames] = growing.scores[sl]
            tracks[new_id] = track
            self.finished_looks[new_id] = growing.looks
        return tracks

    def _relink(
        self,
        times_s: np.ndarray,
        gap_s: float,
        min_iou: float,
        cuts: np.ndarray,
        max_distance: float,
        interleave_s: float,
    ) -> list[_GrowingTrack]:
        fragments = sorted(
            (g for g in self._rows.values() if g.size), key=lambda g: int(g.frames[0])
        )
        merged: list[_GrowingTrack] = []
        for fragment in fragments:
            start = int(fragment.frames[0])
            stop = int(fragment.frames[fragment.size - 1])
            best, best_iou = None, min_iou
            for candidate in merged:
                end = int(candidate.frames[candidate.size - 1])
                if end < start:  # one after the other: the second starts where the first ended
                    if times_s[start] - times_s[end] > gap_s:
                        continue
                    iou = float(
                        box_iou(candidate.boxes[candidate.size - 1], fragment.boxes[0])[0, 0]
                    )
                    # who left and who came: the looks at the two ends, not the means (a track
                    # that ran on into a neighbour before it was cut has its mean mixed)
                    looks = (candidate.looks.end, fragment.looks.start)
                else:  # taking turns: one person's detections split between two ids
                    looks = (candidate.looks.mean, fragment.looks.mean)
                    if not (candidate.looks.count and fragment.looks.count):
                        continue  # two people seen at once are told apart only by their looks
                    iou = _interleaved_iou(candidate, fragment, times_s, interleave_s)
                first = min(start, int(candidate.frames[0]))
                if ((cuts > first) & (cuts <= max(stop, end))).any():
                    continue
                if appearance_distance(*looks)[0, 0] > max_distance:
                    continue  # NaN (a look unknown) compares False: position alone decides
                if iou >= best_iou:
                    best, best_iou = candidate, iou
            if best is None:
                merged.append(fragment)
            else:
                best.extend(fragment)
        return merged


def _interleaved_iou(
    ours: _GrowingTrack, theirs: _GrowingTrack, times_s: np.ndarray, within_s: float
) -> float:
    """Median box IoU between each of ``theirs``'s frames and the nearest of ``ours`` within
    ``within_s`` seconds; 0 where they share a frame or are never that near."""
    frames_a = ours.frames[: ours.size]
    frames_b = theirs.frames[: theirs.size]
    if np.intersect1d(frames_a, frames_b).size:
        return 0.0
    after = np.clip(np.searchsorted(frames_a, frames_b), 1, len(frames_a) - 1)
    before = after - 1
    if len(frames_a) == 1:
        nearest = np.zeros(len(frames_b), np.int64)
    else:
        closer = np.abs(frames_a[after] - frames_b) < np.abs(frames_a[before] - frames_b)
        nearest = np.where(closer, after, before)
    near = np.abs(times_s[frames_a[nearest]] - times_s[frames_b]) <= within_s
    if not near.any():
        return 0.0
    overlaps = [
        float(box_iou(ours.boxes[a], theirs.boxes[b])[0, 0])
        for a, b in zip(nearest[near], np.flatnonzero(near), strict=True)
    ]
    return float(np.median(overlaps))


def _mean_shared_iou(ours: _GrowingTrack, theirs: _GrowingTrack, start: int) -> float:
    """Mean box IoU over the frames before ``start`` that both tracks hold (0 if none)."""
    frames_a = ours.frames[: ours.size]
    frames_b = theirs.frames[: theirs.size]
    shared, ia, ib = np.intersect1d(
        frames_a[frames_a < start], frames_b[frames_b < start], return_indices=True
    )
    if not len(shared):
        return 0.0
    a, b = ours.boxes[ia], theirs.boxes[ib]
    return float(np.mean([box_iou(a[i], b[i])[0, 0] for i in range(len(shared))]))


def box_at(boxes: dict[int, np.ndarray], x: float, y: float) -> int | None:
    """Id of the (x, y, w, h) box containing image point (x, y); the smallest box wins (the
    runner in front of a larger, nearer spectator's box is the one pointed at)."""
    best: tuple[float, int] | None = None
    for key, box in boxes.items():
        bx, by, bw, bh = (float(v) for v in box)
        if not np.isfinite([bx, by, bw, bh]).all():
            continue
        if bx <= x <= bx + bw and by <= y <= by + bh and (best is None or bw * bh < best[0]):
            best = (bw * bh, key)
    return None if best is None else best[1]


def track_at(tracks: dict[int, Track], x: float, y: float, frame: int) -> int | None:
    """The track whose box holds image point (x, y) in ``frame`` (None if nobody is there)."""
    return box_at({tid: track.boxes[frame] for tid, track in tracks.items()}, x, y)


@dataclass
class SubjectScore:
    """Why a track was (not) chosen as the runner; all terms in [0, 1] except ``motion``."""

    track_id: int
    presence: float  # fraction of frames in which the person is seen
    size: float  # median box height / frame height
    motion: float  # median keypoint speed, in body heights per second
    score: float


def subject_scores(
    tracks: dict[int, Track], times_s: np.ndarray, frame_height: int
) -> list[SubjectScore]:
    """Score = presence x size x (0.1 + 0.9 x min(1, motion / 0.3)).

    ``times_s`` are real (slow-motion corrected) seconds: the motion threshold is a real speed.

    The runner is the person seen longest, largest and moving: a static bystander keeps only a
    tenth of the score of an equally visible moving person; motion above 0.3 body heights per
    second (a jogger's limbs move well above that) counts fully.
    """
    results = []
    total = max(len(times_s), 1)
    for tid, track in tracks.items():
        present = track.present
        presence = float(present.sum()) / total
        heights = track.boxes[present, 3]
        size = (
            float(np.clip(np.median(heights) / max(frame_height, 1), 0.0, 1.0))
            if len(heights)
            else 0.0
        )
        motion = _median_keypoint_speed(track, times_s)
        factor = 0.1 + 0.9 * min(1.0, motion / 0.3)
        results.append(SubjectScore(tid, presence, size, motion, presence * size * factor))
    return results


def _median_keypoint_speed(track: Track, times_s: np.ndarray) -> float:
    """Median over consecutive seen frames of the mean keypoint speed / box height (1/s)."""
    frames = np.flatnonzero(track.present)
    if len(frames) < 2:
        return 0.0
    a, b = frames[:-1], frames[1:]
    dt = np.asarray(times_s, np.float64)[b] - np.asarray(times_s, np.float64)[a]
    step = np.linalg.norm(track.keypoints[b, :, :2] - track.keypoints[a, :, :2], axis=-1)
    height = np.maximum(track.boxes[a, 3], 1.0)
    speed = np.nanmean(step, axis=1) / height / np.maximum(dt, 1e-6)
    speed = speed[np.isfinite(speed)]
    return float(np.median(speed)) if len(speed) else 0.0


def choose_subject(tracks: dict[int, Track], times_s: np.ndarray, frame_height: int) -> int | None:
    """Id of the most persistent, largest, moving person (``None`` when nobody was seen).

    ``times_s`` are real (slow-motion corrected) seconds, as for :func:`subject_scores`.
    """
    scores = subject_scores(tracks, times_s, frame_height)
    if not scores:
        return None
    return max(scores, key=lambda s: (s.score, -s.track_id)).track_id
