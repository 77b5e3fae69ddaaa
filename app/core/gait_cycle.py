"""Angles per stride, normalised to 0-100 % of the gait cycle (docs/kinematics.md, "Gait cycle").

A gait cycle of one foot runs from its initial contact (IC, 0 %) to its next initial contact
(100 %). Every complete stride of each side is resampled at ``CYCLE_POINTS`` evenly spaced
percentages by monotone cubic interpolation in real time, and the strides are averaged per percentage:
the mean curve and its stride-to-stride standard deviation. That is how gait laboratories and
papers show running kinematics, and it makes two sessions comparable point by point.

Left-side angles are cut into left strides and right-side angles into right strides; whole-body
angles (trunk lean) are cut into the strides of both feet, each side on its own. A stride counts
only when it is plausible (within 0.6-1.5 x the median stride of that clip: a missed or doubled
contact in between would otherwise mix two strides) and, for a given angle, only when the angle
is known at every resampled point (a stride with a gap is left out of that angle's mean rather
than filled in). Toe-off is the same foot's TO inside the stride, as a percentage of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import PchipInterpolator

from app.core.gait import GaitEvents
from app.core.kinematics import ANGLE_DEFINITIONS, SIDES

CYCLE_POINTS = 101  # 0, 1, ..., 100 %
PERCENT = np.linspace(0.0, 100.0, CYCLE_POINTS)
MIN_STRIDE_RATIO, MAX_STRIDE_RATIO = 0.6, 1.5


def base_angle_names() -> tuple[str, ...]:
    """Angle names without their side: 'trunk_lean', 'hip_flexion', 'knee_flexion', ..."""
    names: list[str] = []
    for name in ANGLE_DEFINITIONS:
        base = name.removesuffix("_left").removesuffix("_right")
        if base not in names:
            names.append(base)
    return tuple(names)


CYCLE_ANGLES: tuple[str, ...] = base_angle_names()


@dataclass(frozen=True)
class Stride:
    """One stride of one foot: its IC, the next IC of the same foot, and its TO in between."""

    side: str
    start_s: float
    end_s: float
    start_frame: int
    end_frame: int
    toe_off_pct: float | None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class CycleCurves:
    """The strides of one angle on one side, resampled: ``curves`` is (strides, CYCLE_POINTS)."""

    angle: str
    side: str
    curves: np.ndarray

    @property
    def n(self) -> int:
        return int(self.curves.shape[0])

    @property
    def mean(self) -> np.ndarray:
        if self.n == 0:
            return np.full(CYCLE_POINTS, np.nan)
        return self.curves.mean(axis=0)

    @property
    def sd(self) -> np.ndarray:
        """Stride-to-stride SD per point (ddof=1); NaN with fewer than two strides."""
        if self.n < 2:
            return np.full(CYCLE_POINTS, np.nan)
        return self.curves.std(axis=0, ddof=1)


@dataclass
class GaitCycles:
    """Every angle's cycle curves per side, the strides they came from, and the toe-offs."""

    strides: dict[str, list[Stride]]
    curves: dict[str, dict[str, CycleCurves]]  # base angle -> side -> curves

    def toe_off_pct(self, side: str) -> float | None:
        """Mean toe-off of a side's strides, in % of the cycle (None if no TO was found)."""
        values = [s.toe_off_pct for s in self.strides.get(side, []) if s.toe_off_pct is not None]
        return float(np.mean(values)) if values else None

    def toe_off_sd(self, side: str) -> float | None:
        values = [s.toe_off_pct for s in self.strides.get(side, []) if s.toe_off_pct is not None]
        return float(np.std(values, ddof=1)) if len(values) >= 2 else None

    @property
    def empty(self) -> bool:
        return not any(self.strides.values())


def find_strides(gait: GaitEvents) -> dict[str, list[Stride]]:
    """Consecutive ICs of each foot, with the TO between them; implausible strides dropped."""
    strides: dict[str, list[Stride]] = {}
    for side in SIDES:
        contacts = sorted(gait.of(side, "IC"), key=lambda e: e.time_s)
        toe_offs = sorted(gait.of(side, "TO"), key=lambda e: e.time_s)
        candidates = []
        for first, second in zip(contacts, contacts[1:], strict=False):
            duration = second.time_s - first.time_s
            inside = [t for t in toe_offs if first.time_s < t.time_s < second.time_s]
            toe_off = (
                100.0 * (inside[0].time_s - first.time_s) / duration
                if len(inside) == 1 and duration > 0
                else None
            )
            candidates.append(
                Stride(side, first.time_s, second.time_s, first.frame, second.frame, toe_off)
            )
        if candidates:
            median = float(np.median([s.duration_s for s in candidates]))
            candidates = [
                s
                for s in candidates
                if MIN_STRIDE_RATIO * median <= s.duration_s <= MAX_STRIDE_RATIO * median
            ]
        strides[side] = candidates
    return strides


def resample_stride(values: np.ndarray, times_s: np.ndarray, stride: Stride) -> np.ndarray | None:
    """``values`` at CYCLE_POINTS evenly spaced times of ``stride``; None if any sample is unknown.

    The frames from the one before the stride to the one after it must all be known: bridging a
    gap would invent the curve there. Between frames the curve is a monotone cubic (PCHIP,
    scipy.interpolate): it follows the bends of a knee curve closer than straight lines (about
    0.9 deg worst case at 60 fps on the synthetic runners against 1.8 deg) and, unlike a spline,
    never overshoots the samples at the corner of an initial contact.
    """
    times = np.asarray(times_s, np.float64)
    values = np.asarray(values, np.float64)
    at = stride.start_s + PERCENT / 100.0 * stride.duration_s
    if len(times) < 2 or at[0] < times[0] - 1e-9 or at[-1] > times[-1] + 1e-9:
        return None
    first = max(0, int(np.searchsorted(times, at[0], side="right")) - 2)
    last = min(len(times), int(np.searchsorted(times, at[-1], side="left")) + 2)
    segment_t, segment_v = times[first:last], values[first:last]
    if len(segment_t) < 2 or not np.isfinite(segment_v).all():
        return None
    return PchipInterpolator(segment_t, segment_v)(np.clip(at, segment_t[0], segment_t[-1]))


def angle_column(angle: str, side: str) -> str:
    """The kinematics' column of a base angle for a side ('trunk_lean' has no side)."""
    sided = f"{angle}_{side}"
    return sided if sided in ANGLE_DEFINITIONS else angle


def gait_cycles(
    angles: dict[str, np.ndarray], real_times_s: np.ndarray, gait: GaitEvents
) -> GaitCycles:
    """Resample every angle of ``CYCLE_ANGLES`` into the strides of each side."""
    strides = find_strides(gait)
    curves: dict[str, dict[str, CycleCurves]] = {}
    for angle in CYCLE_ANGLES:
        curves[angle] = {}
        for side in SIDES:
            column = angles.get(angle_column(angle, side))
            rows = []
            if column is not None:
                for stride in strides[side]:
                    resampled = resample_stride(column, real_times_s, stride)
                    if resampled is not None:
                        rows.append(resampled)
            array = np.asarray(rows, np.float64).reshape(len(rows), CYCLE_POINTS)
            curves[angle][side] = CycleCurves(angle, side, array)
    return GaitCycles(strides, curves)


def report_cycles(report) -> GaitCycles:
    """The gait cycles of a ``RunningReport`` (its smoothed angles and its gait events)."""
    return gait_cycles(report.angles, report.real_times_s, report.gait)


def cycle_label(angle: str) -> str:
    """'knee_flexion' -> 'Knee flexion' (the definition's label without its side)."""
    definition = ANGLE_DEFINITIONS.get(angle_column(angle, "left"))
    if definition is None:
        return angle
    return definition.label.replace(" (left)", "")


@dataclass(frozen=True)
class CycleRange:
    """A typical range of a metric drawn on a cycle curve: values over a stretch of the cycle."""

    angle: str
    metric: str
    low: float
    high: float
    phase: str  # "contact" (a moment at 0 %) or "stance" (0 % to toe-off)


def cycle_ranges(summary: dict) -> list[CycleRange]:
    """Typical ranges of the metrics that are read off an angle curve (docs/kinematics.md)."""
    readings = (
        ("knee_flexion", "knee_flexion_ic_deg", "contact"),
        ("knee_flexion", "peak_knee_flexion_stance_deg", "stance"),
        ("trunk_lean", "trunk_lean_deg", "stance"),
    )
    ranges = []
    for angle, metric, phase in readings:
        entry = summary.get(metric)
        typical = getattr(entry, "typical_range", None)
        if typical is not None:
            ranges.append(CycleRange(angle, metric, float(typical[0]), float(typical[1]), phase))
    return ranges


def range_extent_pct(cycle_range: CycleRange, toe_off_pct: float | None) -> tuple[float, float]:
    """The % span a range covers: a narrow band at IC, or the stance phase."""
    if cycle_range.phase == "contact":
        return 0.0, 3.0
    return 0.0, toe_off_pct if toe_off_pct is not None and math.isfinite(toe_off_pct) else 40.0
