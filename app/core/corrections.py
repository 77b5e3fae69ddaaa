"""Hand corrections: a layer of edits over the estimate, never a change to it.

A coach who sees the model go wrong (a hidden far leg, a foot lost in blur, a left/right swap
the cleaning missed, a foot strike a frame off) fixes it by hand; the raw estimate stays in the
analysis and the edits live beside it in the sidecar (docs/corrections.md). Every view, export
and metric reads the corrected keypoints (``corrected_keypoints``) and the edited gait events
(``gait.with_event_edits``), so one edit updates cadence, contact times and angles at once.

Edits:

- ``KeypointMove``: one joint of one track put at (x, y) in one frame. A single corrected frame
  in a 60 fps clip would be a spike that the low-pass filter flattens, so the correction spreads
  to ``spread`` frames either side, its weight falling linearly to nothing (the neighbours move
  by the same offset, scaled), where the raw estimate takes over again.
- ``LegSwap``: the left and right legs (hip to toe) of a track swapped over a frame range.
- ``UnusableFrame``: a frame whose estimate is thrown away (motion blur, someone in front).
- ``EventEdit``: a foot strike or toe-off added, deleted or moved; a placed event is kept as
  placed and marked ``manual``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from rhpnet.errors import DataError
from rhpnet.skeleton import (
    NUM_POSE_KEYPOINTS,
    POSE_KEYPOINT_NAMES,
    flip_pairs_from_names,
    flip_permutation,
)

MANUAL = "manual"
# Frames either side of a moved keypoint that follow the move: about 0.1 s at 60 fps.
DEFAULT_SPREAD = 6
# A deleted or moved event is the detected one of its side and kind nearest the frame named,
# within this many frames.
EVENT_SNAP_FRAMES = 3
EVENT_KINDS = ("IC", "TO")
EVENT_ACTIONS = ("add", "delete", "move")


@dataclass(frozen=True)
class KeypointMove:
    track_id: int
    frame: int
    joint: str
    x: float
    y: float
    spread: int = DEFAULT_SPREAD


@dataclass(frozen=True)
class LegSwap:
    track_id: int
    first: int
    last: int  # inclusive


@dataclass(frozen=True)
class UnusableFrame:
    track_id: int
    frame: int


@dataclass(frozen=True)
class EventEdit:
    track_id: int
    side: str
    kind: str  # "IC" or "TO"
    action: str  # "add", "delete" or "move"
    frame: int
    to_frame: int | None = None  # for "move"


@dataclass(frozen=True)
class Corrections:
    """Every edit of one analysis, in the order made (later edits apply over earlier ones)."""

    moves: tuple[KeypointMove, ...] = ()
    swaps: tuple[LegSwap, ...] = ()
    unusable: tuple[UnusableFrame, ...] = ()
    events: tuple[EventEdit, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.moves or self.swaps or self.unusable or self.events)

    def plus(self, edit: KeypointMove | LegSwap | UnusableFrame | EventEdit) -> Corrections:
        """These corrections and one more edit (a new value: undo keeps the old one)."""
        kind = _FIELD_OF[type(edit)]
        return replace(self, **{kind: (*getattr(self, kind), edit)})

    def of_track(self, track_id: int) -> Corrections:
        return Corrections(
            *(
                tuple(e for e in getattr(self, kind) if e.track_id == track_id)
                for kind in _FIELD_OF.values()
            )
        )

    def to_json(self) -> dict[str, list[dict[str, Any]]]:
        return {kind: [asdict(e) for e in getattr(self, kind)] for kind in _FIELD_OF.values()}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Corrections:
        """Read the sidecar's ``corrections``; a malformed entry is a ``DataError``."""
        if not data:
            return cls()
        try:
            parts = {
                kind: tuple(edit_type(**entry) for entry in data.get(kind, []))
                for edit_type, kind in _FIELD_OF.items()
            }
            corrections = cls(**parts)
        except TypeError as error:
            raise DataError(f"corrections are malformed ({error})") from None
        for edit in corrections.moves:
            if edit.joint not in POSE_KEYPOINT_NAMES:
                raise DataError(f"corrections name an unknown joint {edit.joint!r}")
        for edit in corrections.events:
            if edit.kind not in EVENT_KINDS or edit.action not in EVENT_ACTIONS:
                raise DataError(f"corrections hold an unknown event edit {edit}")
        return corrections

    def summary(self, track_id: int) -> dict[str, int]:
        """How much of one track rests on edits, for the metrics JSON."""
        own = self.of_track(track_id)
        return {
            "moved_keypoints": len(own.moves),
            "swapped_frames": sum(s.last - s.first + 1 for s in own.swaps),
            "unusable_frames": len(own.unusable),
            "event_edits": len(own.events),
        }


_FIELD_OF = {
    KeypointMove: "moves",
    LegSwap: "swaps",
    UnusableFrame: "unusable",
    EventEdit: "events",
}
# A leg swap exchanges the whole chains, the feet with their legs, as the cleaning's own repair.
_LEG_JOINTS = ("hip", "knee", "ankle", "heel", "big_toe")
_LEG_SWAP_ORDER = flip_permutation(
    flip_pairs_from_names(
        n if n.partition("_")[2] in _LEG_JOINTS else f"not_{n}" for n in POSE_KEYPOINT_NAMES
    ),
    NUM_POSE_KEYPOINTS,
)


def corrected_keypoints(
    keypoints: np.ndarray, track_id: int, corrections: Corrections
) -> tuple[np.ndarray, np.ndarray]:
    """(T, K, 3) keypoints of ``track_id`` with its edits applied, and the (T, K) mask of the
    points an edit changed. The input is not modified."""
    points = np.array(keypoints, np.float32, copy=True)
    edited = np.zeros(points.shape[:2], bool)
    own = corrections.of_track(track_id)
    frames = len(points)
    for swap in own.swaps:
        span = slice(max(swap.first, 0), min(swap.last, frames - 1) + 1)
        points[span] = points[span][:, _LEG_SWAP_ORDER]
        edited[span] = True
    for frame in own.unusable:
        if 0 <= frame.frame < frames:
            points[frame.frame] = np.nan
            edited[frame.frame] = True
    placed = {(m.frame, m.joint) for m in own.moves}
    for move in own.moves:
        if 0 <= move.frame < frames:
            _spread_move(points, edited, move, placed)
    return points, edited


def _spread_move(
    points: np.ndarray, edited: np.ndarray, move: KeypointMove, placed: set[tuple[int, str]]
) -> None:
    """Put the joint at (x, y) in its frame and shift its neighbours by the same offset, weighted
    1 - distance / (spread + 1), so the corrected curve joins the estimate smoothly. A point the
    user placed in another frame stays where it was placed."""
    joint = POSE_KEYPOINT_NAMES.index(move.joint)
    here = points[move.frame, joint, :2].copy()
    offset = np.array([move.x, move.y], np.float32) - here
    points[move.frame, joint] = (move.x, move.y, 1.0)
    edited[move.frame, joint] = True
    if not np.isfinite(offset).all():
        return  # the estimate had no point here: nothing to blend the neighbours with
    for frame in range(move.frame - move.spread, move.frame + move.spread + 1):
        if (
            frame == move.frame
            or not 0 <= frame < len(points)
            or (frame, move.joint) in placed
            or not np.isfinite(points[frame, joint, :2]).all()
        ):
            continue
        points[frame, joint, :2] += (1.0 - abs(frame - move.frame) / (move.spread + 1)) * offset
        edited[frame, joint] = True


def edited_spans(edited_frames: np.ndarray) -> list[tuple[int, int]]:
    """The runs of edited frames as (first, last) pairs, last inclusive: what the timeline and
    the angle plot shade, so a coach sees at a glance which stretch rests on hand edits."""
    mask = np.asarray(edited_frames, bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], mask, [False]]).astype(np.int8)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def rests_on_edits(frames: range, edited_frames: np.ndarray, event_frames: list[int]) -> bool:
    """Whether a value measured over ``frames`` uses an edited keypoint or a placed event
    (``event_frames``: the frames of the events placed by hand)."""
    inside = edited_frames[max(frames.start, 0) : max(frames.stop, 0)]
    return bool(inside.any()) or any(frames.start <= f < frames.stop for f in event_frames)
