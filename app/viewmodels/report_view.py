"""The kinematics report shaped for the views: curves, event markers, ranges, metric rows.

Only reshaping and number formatting happen here; every number comes from the report that
``app/core`` computed (the same one the ``analyze`` command writes to ``metrics.json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from app.core.analysis import Analysis
from app.core.corrections import MANUAL, edited_spans
from app.core.gait_cycle import GaitCycles, report_cycles
from app.core.kinematics import ELBOW, HIP, KNEE, SHOULDER, mid_hip, mid_shoulder
from app.core.reliability import Reliability
from app.viewmodels.items import AngleLabel, EventMarker, MetricRow, angle_side

if TYPE_CHECKING:
    from app.core.metrics import MetricSummary
    from app.core.running_report import RunningReport

# Curves shaded with a metric's typical range: the band tells where the curve should sit at
# the instant the metric is taken (e.g. knee flexion at initial contact and peak in stance).
_CURVE_RANGES = {
    "knee_flexion": ("knee_flexion_ic_deg", "peak_knee_flexion_stance_deg"),
    "trunk_lean": ("trunk_lean_deg",),
}
# Order of the rows in the metrics panel (the list first).
METRIC_ORDER = (
    "cadence_spm",
    "step_time_ms",
    "contact_time_ms",
    "flight_time_ms",
    "duty_factor",
    "knee_flexion_ic_deg",
    "peak_knee_flexion_stance_deg",
    "hip_extension_to_deg",
    "overstride",
    "heel_ahead_ic",
    "shank_angle_ic_deg",
    "foot_strike_angle_deg",
    "ankle_dorsiflexion_ic_deg",
    "trunk_lean_deg",
    "vertical_oscillation",
)

# Where each angle's label is drawn: the joint it is measured at.
_LABEL_JOINTS = {
    "knee_flexion": KNEE,
    "hip_flexion": HIP,
    "elbow_flexion": ELBOW,
    "shoulder_flexion": SHOULDER,
}


@dataclass
class ReportView:
    subject_id: int | None
    times_s: np.ndarray
    angles: dict[str, np.ndarray]
    events: list[EventMarker]
    ranges: dict[str, tuple[float, float]]
    metric_rows: list[MetricRow]
    summary: str
    strike_frames: np.ndarray
    report: RunningReport | None = None
    # (T,) frames where a hand edit changed a point of the runner (docs/corrections.md)
    edited_frames: np.ndarray | None = None
    _cycles: GaitCycles | None = field(default=None, repr=False, compare=False)

    def gait_cycles(self) -> GaitCycles:
        """Every stride's curves on a 0-100 % cycle, resampled on first use and kept (a minute
        of running holds 180 strides: only a view that shows them should pay for them)."""
        if self.report is None:
            raise ValueError("a report view without a report has no gait cycles")
        if self._cycles is None:
            self._cycles = report_cycles(self.report)
        return self._cycles

    def edited_spans_s(self) -> list[tuple[float, float]]:
        """The edited stretches as (start, end) times, for the angle plot."""
        if self.edited_frames is None:
            return []
        return [(self.times_s[a], self.times_s[b]) for a, b in edited_spans(self.edited_frames)]

    def manual_frames(self) -> np.ndarray:
        """Frames of the events placed by hand."""
        return np.array(sorted({e.frame for e in self.events if e.manual}), dtype=int)


def label_position(name: str, keypoints: np.ndarray) -> tuple[float, float] | None:
    """Image point where the label of angle ``name`` goes, or None if that joint is unseen."""
    side = angle_side(name)
    if name == "trunk_lean":  # halfway along the trunk line the angle is measured on
        pose = keypoints[None]
        mid = (mid_hip(pose)[0] + mid_shoulder(pose)[0]) / 2
        return (float(mid[0]), float(mid[1])) if np.isfinite(mid).all() else None
    base = name.removesuffix(f"_{side}")
    joints = _LABEL_JOINTS.get(base)
    if joints is None or side not in joints:
        return None
    x, y, score = keypoints[joints[side]]
    return (float(x), float(y)) if np.isfinite([x, y, score]).all() else None


def angle_labels_at(
    view: ReportView, keypoints: np.ndarray, index: int, names: list[str]
) -> list[AngleLabel]:
    """Labels for the angles ``names`` (those ticked in the plot) that sit on a joint."""
    labels = []
    for name in names:
        values = view.angles.get(name)
        if values is None or index >= len(values) or not np.isfinite(values[index]):
            continue
        position = label_position(name, keypoints)
        if position is None:
            continue
        labels.append(
            AngleLabel(
                position[0], position[1], f"{round(float(values[index]))}°", angle_side(name)
            )
        )
    return labels


def _format(value: float | None, decimals: int) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.{decimals}f}"


def asymmetry_text(summary: MetricSummary) -> tuple[str, str]:
    """'+12%' and a sentence saying whether the legs can be told apart at all; an asymmetry
    inside its margin is bracketed, '(+30%)', so it never reads as a measured difference."""
    if summary.asymmetry_pct is None:
        return "", ""
    text = _signed_percent(summary.asymmetry_pct)
    margin = summary.asymmetry_margin_pct
    if margin is None:
        return text, ""
    if summary.asymmetry_is_clear:
        return (
            text,
            f"Left and right differ: more than the ±{margin:.0f} % their steps' scatter explains.",
        )
    return f"({text})", (
        f"No clear difference between the legs: within ±{margin:.0f} %, what the step-to-step "
        "scatter (and the timing to the nearest frame) explains."
    )


def _signed_percent(value: float) -> str:
    """'+12%', '-3%', and '0%' for anything that rounds to zero (never '-0%')."""
    rounded = round(value)
    return f"{rounded:+d}%" if rounded else "0%"


def reliability_text(grade: dict) -> str:
    """'fair: 50 fps: each event is timed to ±20 ms' for a tooltip ('' if ungraded)."""
    return Reliability(grade["level"], tuple(grade["reasons"])).text if grade else ""


def metric_rows(report: RunningReport) -> list[MetricRow]:
    """One row per metric summary of the report, in ``METRIC_ORDER``."""
    from app.core.metrics import METRIC_SPECS

    rows = []
    keys = [k for k in METRIC_ORDER if k in report.summary] + [
        k for k in report.summary if k not in METRIC_ORDER
    ]
    for key in keys:
        summary = report.summary[key]
        spec = METRIC_SPECS.get(key)
        decimals = spec.decimals if spec is not None else 1
        title = summary.label.split(" (")[0]
        if summary.unit:
            title += f" ({summary.unit})"
        value = None
        if summary.mean is not None and np.isfinite(summary.mean):
            value = _format(summary.mean, decimals)
            if summary.sd is not None:
                value += f" ± {_format(summary.sd, decimals)}"
        typical = ""
        if summary.typical_range is not None:
            low, high = summary.typical_range
            typical = f"{low:g}–{high:g}"
        asymmetry, asymmetry_note = asymmetry_text(summary)
        grade = summary.reliability or {}
        rows.append(
            MetricRow(
                key=key,
                title=title,
                value=value,
                left=_format(summary.left, decimals) + summary.side_mark("left"),
                right=_format(summary.right, decimals) + summary.side_mark("right"),
                asymmetry=asymmetry,
                asymmetry_clear=summary.asymmetry_is_clear,
                asymmetry_note=asymmetry_note,
                typical=typical,
                flagged=summary.flag is not None,
                reason=summary.reason or "",
                source=summary.source,
                trust=grade.get("level", ""),
                trust_reason=reliability_text(grade),
            )
        )
    return rows


def curve_ranges(report: RunningReport) -> dict[str, list[tuple[float, float]]]:
    """Typical-range bands to shade behind each angle curve."""
    ranges: dict[str, list[tuple[float, float]]] = {}
    for name in report.angles:
        side = angle_side(name)
        base = name.removesuffix(f"_{side}") if side != "centre" else name
        for key in _CURVE_RANGES.get(base, ()):
            summary = report.summary.get(key)
            if summary is not None and summary.typical_range is not None:
                ranges.setdefault(name, []).append(tuple(summary.typical_range))
    return ranges


def build_report_view(report: RunningReport, analysis: Analysis) -> ReportView:
    """Shape a ``RunningReport`` for the plots, the metrics panel and the player."""
    events = [
        EventMarker(
            e.side,
            e.kind.lower(),
            int(e.frame),
            float(analysis.times_s[e.frame]),
            manual=e.method == MANUAL,
        )
        for e in report.gait.events
        if 0 <= e.frame < analysis.frame_count
    ]
    strikes = np.array(sorted(e.frame for e in events if e.kind == "ic"), dtype=int)
    steps = len(report.steps)
    facing = {"both": "both ways"}.get(report.facing_label, report.facing_label)
    summary = f"Runner #{report.track_id}, facing {facing}, {steps} ground contacts"
    if report.slowmo != 1:
        summary += f", slow motion ×{report.slowmo:g}"
    if report.strike_text:
        summary += f", {report.strike_text}"
    if report.notes:
        summary += ". " + "; ".join(n[0].upper() + n[1:] for n in report.notes) + "."
    return ReportView(
        subject_id=report.track_id,
        times_s=np.asarray(analysis.times_s, np.float64),
        angles=dict(report.angles),
        events=events,
        ranges=curve_ranges(report),
        metric_rows=metric_rows(report),
        summary=summary,
        strike_frames=strikes,
        report=report,
        edited_frames=None if report.edited_points is None else report.edited_points.any(axis=1),
    )
