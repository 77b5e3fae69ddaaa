"""The plain items the widgets draw: people, angle labels, event markers, metric rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.tracking import box_at


@dataclass
class PersonPose:
    """One person in the current frame, as the overlay needs it."""

    track_id: int
    keypoints: np.ndarray  # (17, 3) x, y, score in image pixels
    box: np.ndarray  # (4,) x, y, w, h
    is_subject: bool


@dataclass
class AngleLabel:
    """An angle value written next to a joint."""

    x: float
    y: float
    text: str
    side: str  # "left", "right" or "centre"


@dataclass
class EventMarker:
    """A gait event to mark on the curves (initial contact or toe-off of one foot)."""

    side: str  # "left" or "right"
    kind: str  # "ic" (initial contact / foot strike) or "to" (toe-off)
    frame: int
    time_s: float
    manual: bool = False  # placed by hand (docs/corrections.md)


@dataclass
class MetricRow:
    """One metric as displayed (already formatted by the report adapter).

    ``value`` is None when the clip gave no value (no steps found, say): the row then shows a
    dash and no verdict, as there is nothing to compare with the typical range.
    """

    key: str
    title: str
    value: str | None
    left: str = ""
    right: str = ""
    asymmetry: str = ""
    asymmetry_clear: bool = True  # False: within the legs' own scatter, shown muted
    asymmetry_note: str = ""
    typical: str = ""
    flagged: bool = False
    reason: str = ""
    source: str = ""
    trust: str = ""  # "good", "fair", "poor" or "" (ungraded)
    trust_reason: str = ""


def angle_side(name: str) -> str:
    """'left', 'right' or 'centre' from an angle name such as 'knee_flexion_left'."""
    for side in ("left", "right"):
        if name.endswith(f"_{side}") or name.startswith(f"{side}_"):
            return side
    return "centre"


def person_at(people: list[PersonPose], x: float, y: float) -> int | None:
    """Track id of the person whose box contains image point (x, y); the smallest box wins."""
    return box_at({person.track_id: np.asarray(person.box) for person in people}, x, y)
