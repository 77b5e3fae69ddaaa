"""Running metrics per step and their summary, each with its typical range and source.

A *step* here is one ground contact of one foot (its initial contact IC to its toe-off TO), plus
what follows it until the other foot lands. Per step:

- step time: from the other foot's previous IC to this IC (cadence: the landings counted per
  minute, ``app.core.cadence``, or 60 / mean step time where too few can be counted);
- ground contact time: this IC to this TO;
- flight time: this TO to the other foot's next IC;
- duty factor: contact time / stride time (this IC to this foot's next IC), Patoz et al. 2019;
- knee flexion at IC, peak knee flexion during the contact, hip extension at TO (degrees of
  extension, positive = thigh behind the trunk line), mean trunk lean during the contact;
- overstride: how far the ankle lands in front of the mid-hip, in leg lengths, and the same for
  the heel point where the feet are tracked;
- at initial contact, from the feet: the foot strike angle and its pattern (rearfoot, midfoot,
  forefoot: Altman & Davis 2012), ankle dorsiflexion, and the shank angle;
- vertical oscillation: peak-to-peak mid-hip excursion from this IC to the next IC, after removing
  the straight line between the two ends (camera tilt, slopes), in leg lengths, and in
  centimetres when the runner's height is known.

Leg length is the hip-knee-ankle length of the track (thigh + shank); Winter's anthropometric
table gives thigh 0.245 H and shank 0.246 H, so leg length = 0.491 x body height H.

Summaries give mean, SD, the left and right means, their difference, and the symmetry index
100 x (left - right) / ((left + right) / 2) (Robinson et al. 1987), which is left out where it
means nothing: for trunk lean (a whole-body angle), and wherever a side's mean is not clearly away
from zero (see ``symmetry_index``), and wherever one leg is graded poor (``app.core.reliability``:
the hidden far leg of a side view). Metrics with a published typical range for recreational
runners are flagged low/high with the reason; the others say why there is no range.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from app.core.cadence import CountedCadence
from app.core.event_values import interpolate_at, values_at_events
from app.core.gait import Step
from app.core.kinematics import ANKLE, HEEL, SIDES, mid_hip
from app.core.reliability import (
    POOR,
    ClipConditions,
    Reliability,
    clip_reliability,
    side_reliability,
)

LEG_LENGTH_PER_HEIGHT = 0.491  # Winter (2009), thigh 0.245 H + shank 0.246 H


@dataclass(frozen=True)
class MetricSpec:
    """What a metric is, its unit and its typical range for recreational runners (if any)."""

    key: str
    label: str
    unit: str
    typical_range: tuple[float, float] | None
    source: str
    decimals: int = 1
    sided: bool = True  # False: a whole-body quantity, no left/right asymmetry


METRIC_SPECS: dict[str, MetricSpec] = {
    spec.key: spec
    for spec in (
        MetricSpec(
            "cadence_spm",
            "Cadence",
            "steps/min",
            (160.0, 190.0),
            "Typical preferred step rates of recreational runners (Heiderscheit et al. 2011, "
            "Med Sci Sports Exerc 43:296-302); below ~160 usually means long, loading steps.",
            0,
        ),
        MetricSpec(
            "step_time_ms",
            "Step time",
            "ms",
            None,
            "No separate range: step time is 60000 / cadence.",
            0,
        ),
        MetricSpec(
            "contact_time_ms",
            "Ground contact time",
            "ms",
            (200.0, 300.0),
            "Range commonly reported for recreational runners at 2.5-4 m/s; shorter at speed.",
            0,
        ),
        MetricSpec(
            "flight_time_ms",
            "Flight time",
            "ms",
            None,
            "No established range: it follows from cadence and contact time and grows with "
            "speed (step time - contact time).",
            0,
        ),
        MetricSpec(
            "duty_factor",
            "Duty factor",
            "",
            None,
            "No established range: Patoz et al. 2019 (Sports 7:233) split runners at about 0.28 "
            "(contact / stride time, 12 km/h) into 'aerial' and 'terrestrial' styles, both "
            "economical; 0.5 or more means there is no flight phase.",
            3,
        ),
        MetricSpec(
            "knee_flexion_ic_deg",
            "Knee flexion at initial contact",
            "deg",
            (10.0, 26.0),
            "About 18 deg at preferred step rate (Heiderscheit et al. 2011); range = 18 +- 8 deg. "
            "A nearly straight knee at contact goes with overstriding.",
        ),
        MetricSpec(
            "peak_knee_flexion_stance_deg",
            "Peak knee flexion in stance",
            "deg",
            (38.0, 54.0),
            "About 46 deg at preferred step rate (Heiderscheit et al. 2011); range = 46 +- 8 deg.",
        ),
        MetricSpec(
            "hip_extension_to_deg",
            "Hip extension at toe-off",
            "deg",
            None,
            "No established range for this 2D thigh-to-trunk-line angle (published values are "
            "3D, pelvis-based); compare a runner with themselves and left with right.",
        ),
        MetricSpec(
            "trunk_lean_deg",
            "Trunk lean (during contact)",
            "deg",
            (0.0, 15.0),
            "Self-selected trunk flexion of recreational runners 7.3 +- 3.6 deg during stance "
            "(Teng & Powers 2014, J Orthop Sports Phys Ther 44:785-792); range ~ mean +- 2 SD.",
            sided=False,
        ),
        MetricSpec(
            "overstride",
            "Overstride (ankle ahead of hip at contact)",
            "leg lengths",
            None,
            "No established range: landing further in front of the hip goes with larger braking "
            "forces (Lieberman et al. 2015, J Exp Biol 218:3406-3414); lower is gentler.",
            3,
        ),
        MetricSpec(
            "heel_ahead_ic",
            "Heel ahead of the pelvis at initial contact",
            "leg lengths",
            None,
            "No established range: the landing point in front of the body, from the heel "
            "point; lower is gentler (Lieberman et al. 2015).",
            3,
        ),
        MetricSpec(
            "shank_angle_ic_deg",
            "Shank angle at initial contact",
            "deg",
            None,
            "No established range for this 2D angle (positive: ankle in front of the knee); a "
            "shank near vertical at contact is the usual coaching aim (Souza 2016, Phys Med "
            "Rehabil Clin N Am 27:217-236).",
        ),
        MetricSpec(
            "foot_strike_angle_deg",
            "Foot strike angle",
            "deg",
            None,
            "Foot angle at contact minus the flat foot in mid-stance, toe up positive. Altman & "
            "Davis 2012 (Gait Posture 35:298-300): above 8 deg rearfoot, -1.6 to 8 midfoot, "
            "below -1.6 forefoot strike; no pattern is the right one for everybody.",
        ),
        MetricSpec(
            "ankle_dorsiflexion_ic_deg",
            "Ankle dorsiflexion at initial contact",
            "deg",
            None,
            "No established range for this 2D heel-toe-to-shank angle; it follows the strike "
            "pattern (toes up with a rearfoot strike, pointed with a forefoot strike).",
        ),
        MetricSpec(
            "vertical_oscillation",
            "Vertical oscillation of the pelvis",
            "leg lengths",
            None,
            "No established range from peer-reviewed studies; it falls as cadence rises "
            "(Heiderscheit et al. 2011). Shown in cm when the runner's height is given.",
            3,
        ),
    )
}


@dataclass
class StepMetrics:
    """Every metric of one step (NaN where it could not be measured)."""

    side: str
    ic_frame: int
    ic_time_s: float
    to_frame: int
    to_time_s: float
    step_time_ms: float = math.nan
    contact_time_ms: float = math.nan
    flight_time_ms: float = math.nan
    duty_factor: float = math.nan
    knee_flexion_ic_deg: float = math.nan
    peak_knee_flexion_stance_deg: float = math.nan
    hip_extension_to_deg: float = math.nan
    trunk_lean_deg: float = math.nan
    overstride: float = math.nan
    heel_ahead_ic: float = math.nan
    shank_angle_ic_deg: float = math.nan
    foot_strike_angle_deg: float = math.nan
    strike_pattern: str | None = None
    ankle_dorsiflexion_ic_deg: float = math.nan
    vertical_oscillation: float = math.nan


@dataclass
class MetricSummary:
    key: str
    label: str
    unit: str
    mean: float | None
    sd: float | None
    n: int
    left: float | None
    right: float | None
    asymmetry_pct: float | None
    left_minus_right: float | None
    typical_range: tuple[float, float] | None
    source: str
    flag: str | None = None  # "low", "high" or None
    reason: str | None = None
    extra: dict[str, float | None] = field(default_factory=dict)
    # {"level", "reasons", "left": {...}, "right": {...}} (app.core.reliability); None = ungraded
    reliability: dict | None = None
    # How far from 0 the asymmetry must be to tell the legs apart, in % (two standard errors of
    # the difference of the side means); None where there is no asymmetry.
    asymmetry_margin_pct: float | None = None

    @property
    def asymmetry_is_clear(self) -> bool:
        """The legs differ by more than their step-to-step scatter explains."""
        margin = self.asymmetry_margin_pct
        return (
            self.asymmetry_pct is not None
            and margin is not None
            and (abs(self.asymmetry_pct) > margin)
        )

    @property
    def is_poor(self) -> bool:
        """Graded poor: too unsure to compare with a typical range."""
        return self.reliability is not None and self.reliability["level"] == POOR

    def side_is_poor(self, side: str) -> bool:
        """That leg's value is graded poor (the hidden far leg, events timed from the ankle)."""
        grade = (self.reliability or {}).get(side)
        return grade is not None and grade["level"] == POOR

    def side_mark(self, side: str) -> str:
        """' (poor)' to print after that leg's mean where it is graded poor, else ''."""
        value = self.left if side == "left" else self.right
        return " (poor)" if value is not None and self.side_is_poor(side) else ""

    def to_dict(self) -> dict:
        return asdict(self)


def step_metrics(
    steps: list[Step],
    points: np.ndarray,
    real_times_s: np.ndarray,
    facing: np.ndarray,
    angles: dict[str, np.ndarray],
    leg_length_px: float | np.ndarray,
    unsmoothed_angles: dict[str, np.ndarray] | None = None,
) -> list[StepMetrics]:
    """Measure every step (see the module docstring for the definitions).

    ``leg_length_px`` is the leg's length, once for the clip or per frame (a zooming camera,
    ``local_leg_length_px``): distances are in leg lengths of the moment they are measured.
    ``unsmoothed_angles`` (angles of the track before its low-pass filter) are used for the
    values read at initial contact and toe-off, through :func:`values_at_events`.
    """
    at_event = unsmoothed_angles if unsmoothed_angles is not None else angles
    times = np.asarray(real_times_s, np.float64)
    pelvis = mid_hip(points)
    scale = np.broadcast_to(np.asarray(leg_length_px, np.float64), times.shape)
    pelvis_up = -pelvis[:, 1]

    def ahead_of_pelvis(joint: int) -> np.ndarray:
        return facing * (points[:, joint, 0] - pelvis[:, 0]) / scale

    ordered = sorted(steps, key=lambda s: s.ic.time_s)
    at = _EventReadings(ordered, times)
    knee_ic = at.ic(lambda side: at_event[f"knee_flexion_{side}"])
    hip_to = at.to(lambda side: at_event[f"hip_flexion_{side}"])
    shank_ic = at.ic(lambda side: at_event[f"shank_angle_{side}"])
    ankle_ic = at.ic(lambda side: at_event[f"ankle_dorsiflexion_{side}"])
    overstride = at.ic(lambda side: ahead_of_pelvis(ANKLE[side]), fit=False)
    heel_ahead = at.ic(lambda side: ahead_of_pelvis(HEEL[side]), fit=False)
    strike_angle = at.strike_angles(lambda side: at_event[f"foot_angle_{side}"])
    results = []
    for index, step in enumerate(ordered):
        side = step.side
        other = "right" if side == "left" else "left"
        m = StepMetrics(side, step.ic.frame, step.ic.time_s, step.to.frame, step.to.time_s)
        m.contact_time_ms = 1000.0 * step.contact_time_s
        previous = _neighbour(ordered, index, -1)
        following = _neighbour(ordered, index, +1)
        if previous is not None and previous.side == other:
            m.step_time_ms = 1000.0 * (step.ic.time_s - previous.ic.time_s)
        if following is not None and following.side == other:
            m.flight_time_ms = 1000.0 * (following.ic.time_s - step.to.time_s)
            rise_px = _detrended_range(pelvis_up, step.ic.frame, following.ic.frame)
            m.vertical_oscillation = rise_px / scale[step.ic.frame]
        same_next = next((s for s in ordered[index + 1 :] if s.side == side), None)
        if same_next is not None:
            stride = same_next.ic.time_s - step.ic.time_s
            if stride > 0:
                m.duty_factor = step.contact_time_s / stride
        contact = slice(step.ic.frame, step.to.frame + 1)
        m.knee_flexion_ic_deg = float(knee_ic[index])
        m.peak_knee_flexion_stance_deg = _nan_reduce(
            np.nanmax, angles[f"knee_flexion_{side}"][contact]
        )
        m.hip_extension_to_deg = -float(hip_to[index])
        m.trunk_lean_deg = _nan_reduce(np.nanmean, angles["trunk_lean"][contact])
        m.overstride = float(overstride[index])
        m.heel_ahead_ic = float(heel_ahead[index])
        m.shank_angle_ic_deg = float(shank_ic[index])
        m.ankle_dorsiflexion_ic_deg = float(ankle_ic[index])
        m.foot_strike_angle_deg = float(strike_angle[index])
        m.strike_pattern = strike_pattern(m.foot_strike_angle_deg)
        results.append(m)
    return results


# Altman & Davis 2012: foot strike angle thresholds between the three patterns (degrees).
REARFOOT_ABOVE_DEG = 8.0
FOREFOOT_BELOW_DEG = -1.6
# The flat foot of mid-stance, after the landing and before the heel lifts (about 60 % stance).
FLAT_FOOT_STANCE = (0.25, 0.5)


SideCurve = Callable[[str], np.ndarray]  # "left" or "right" -> that side's (T,) curve


class _EventReadings:
    """Per-step readings of per-side curves at IC or TO: each side's events are read in one
    batch (``event_values``), not one fit per step."""

    def __init__(self, ordered: list[Step], times: np.ndarray) -> None:
        self.times = times
        self.sides = np.array([step.side for step in ordered])
        self.ic_s = np.array([step.ic.time_s for step in ordered], np.float64)
        self.to_s = np.array([step.to.time_s for step in ordered], np.float64)

    def ic(self, curve: SideCurve, fit: bool = True) -> np.ndarray:
        return self._read(curve, self.ic_s, fit)

    def to(self, curve: SideCurve, fit: bool = True) -> np.ndarray:
        return self._read(curve, self.to_s, fit)

    def _read(self, curve: SideCurve, event_s: np.ndarray, fit: bool) -> np.ndarray:
        out = np.full(len(event_s), np.nan)
        read = values_at_events if fit else interpolate_at
        for side in SIDES:
            mine = self.sides == side
            if mine.any():
                out[mine] = read(curve(side), self.times, event_s[mine])
        return out

    def strike_angles(self, foot_angle: SideCurve) -> np.ndarray:
        """Foot angle at initial contact minus the foot's angle when flat in mid-stance (deg).

        Altman & Davis subtract the foot angle of a standing trial, which a running video lacks;
        the planted foot in mid-stance is flat on the same ground, so its image angle holds both
        the ground's tilt in the image and the offset between the heel and toe landmarks and the
        sole. A runner whose heel never touches the ground reads closer to midfoot than they are.
        """
        at_ic = self.ic(foot_angle)
        contact = self.to_s - self.ic_s
        starts, stops = (self.ic_s + f * contact for f in FLAT_FOOT_STANCE)
        first = np.searchsorted(self.times, starts, side="left")
        last = np.searchsorted(self.times, stops, side="right")
        out = np.full(len(at_ic), np.nan)
        for index, side in enumerate(self.sides):
            flat = foot_angle(side)[first[index] : last[index]]
            flat = flat[np.isfinite(flat)]
            if flat.size:
                out[index] = at_ic[index] - float(np.median(flat))
        return out


def strike_pattern(strike_angle_deg: float) -> str | None:
    """'rearfoot', 'midfoot' or 'forefoot' by Altman & Davis' thresholds (None if unmeasured)."""
    if not np.isfinite(strike_angle_deg):
        return None
    if strike_angle_deg > REARFOOT_ABOVE_DEG:
        return "rearfoot"
    if strike_angle_deg < FOREFOOT_BELOW_DEG:
        return "forefoot"
    return "midfoot"


def _neighbour(steps: list[Step], index: int, direction: int) -> Step | None:
    other = index + direction
    return steps[other] if 0 <= other < len(steps) else None


def _nan_reduce(reduce, values: np.ndarray) -> float:
    if not np.isfinite(values).any():
        return math.nan
    return float(reduce(values))


def _detrended_range(values: np.ndarray, start: int, stop: int) -> float:
    segment = values[start : stop + 1]
    if len(segment) < 3 or not np.isfinite(segment).all():
        return math.nan
    trend = np.linspace(segment[0], segment[-1], len(segment))
    residual = segment - trend
    return float(residual.max() - residual.min())


def summarize(
    steps: list[StepMetrics],
    runner_height_cm: float | None = None,
    conditions: ClipConditions | None = None,
    counted: CountedCadence | None = None,
) -> dict[str, MetricSummary]:
    """Mean, SD, left/right means, asymmetry and flags of every metric over the steps.

    ``counted`` holds the step intervals counted from every landing (``app.core.cadence``): where
    given, cadence and step time are summarised over them instead of over the screened steps.

    With ``conditions`` every summary is graded (``app.core.reliability``), and a leg graded
    poor (the hidden far leg) is left out of the mean and of the asymmetry: a mean of a good and
    a guessed leg is neither leg's value.
    """
    summaries: dict[str, MetricSummary] = {}
    for key, spec in METRIC_SPECS.items():
        if key == "cadence_spm":
            values, sides = _cadences(steps)
        else:
            values = np.array([getattr(s, key) for s in steps], np.float64)
            sides = np.array([s.side for s in steps])
        scale, unit = 1.0, spec.unit
        if key == "vertical_oscillation" and runner_height_cm:
            scale, unit = LEG_LENGTH_PER_HEIGHT * runner_height_cm, "cm"
        per_side = _side_grades(key, conditions)
        trusted = _trusted_sides(per_side)
        if key in ("cadence_spm", "step_time_ms") and counted is not None:
            # Every counted interval runs from one foot's landing to the other's: both legs
            # enter the mean, or the far leg's early or late landings would no longer cancel.
            summary = _counted_summary(spec, counted, unit)
        else:
            summary = _summary(spec, values * scale, sides, unit, trusted)
        if conditions is not None:
            summary.reliability = _grade(key, conditions, trusted, per_side, summary.n)
            if any(summary.side_is_poor(side) for side in SIDES):
                # An asymmetry needs both legs measured well, not merely alike.
                summary.asymmetry_pct = summary.left_minus_right = None
                summary.asymmetry_margin_pct = None
        _flag(summary)
        summaries[key] = summary
        if key == "vertical_oscillation":
            summaries[key].extra["mean_leg_lengths"] = _mean_or_none(values)
    if counted is None and "cadence_spm" in summaries and "step_time_ms" in summaries:
        step_time = summaries["step_time_ms"].mean
        if step_time:
            # Cadence from the mean step time is the count of steps per minute; the mean of
            # per-step cadences would be biased upwards by short steps.
            summaries["cadence_spm"].mean = 60000.0 / step_time
            _flag(summaries["cadence_spm"])
    return summaries


def _counted_summary(spec: MetricSpec, counted: CountedCadence, unit: str) -> MetricSummary:
    """Step time or cadence over the counted intervals. Cadence is taken from the step times
    (60000 / their mean, overall and per foot; its SD and asymmetry follow from theirs): the
    steps/min of single intervals would let a two-frame interval between a late and an early
    landing read 870 steps/min and swamp the spread."""
    step_ms = 1000.0 * counted.intervals_s
    if spec.key == "step_time_ms":
        summary = _summary(spec, step_ms, counted.sides, unit)
    else:
        summary = _summary(spec, 60000.0 / step_ms, counted.sides, unit)
        per_side = [step_ms[counted.sides == side] for side in SIDES]
        rate = [60000.0 / float(np.mean(v)) if len(v) else None for v in per_side]
        summary.mean = 60000.0 / float(np.mean(step_ms))
        summary.sd = summary.mean * float(np.std(step_ms, ddof=1) / np.mean(step_ms))
        summary.left, summary.right = rate
        summary.left_minus_right = None if None in rate else rate[0] - rate[1]
        summary.asymmetry_pct = summary.asymmetry_margin_pct = None
        if symmetry_index(*per_side) is not None and None not in rate:
            summary.asymmetry_pct = 100.0 * (rate[0] - rate[1]) / (0.5 * (rate[0] + rate[1]))
            summary.asymmetry_margin_pct = symmetry_margin(*per_side)
    summary.extra["counted_over_s"] = counted.duration_s
    return summary


def _cadences(steps: list[StepMetrics]) -> tuple[np.ndarray, np.ndarray]:
    times = np.array([s.step_time_ms for s in steps], np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 60000.0 / times, np.array([s.side for s in steps])


def _side_grades(key: str, conditions: ClipConditions | None) -> dict[str, Reliability] | None:
    """Each leg's grade of a sided metric; None without conditions or for a whole-body value
    (trunk lean), in which no leg is hidden."""
    if conditions is None or not METRIC_SPECS[key].sided:
        return None
    return {side: side_reliability(key, side, conditions) for side in SIDES}


def _trusted_sides(per_side: dict[str, Reliability] | None) -> tuple[str, ...]:
    """The legs whose values enter the mean: both, unless one is poor and the other is not."""
    if per_side is None:
        return SIDES
    poor = {side for side, grade in per_side.items() if grade.level == POOR}
    return SIDES if len(poor) != 1 else tuple(side for side in SIDES if side not in poor)


def _grade(
    key: str,
    conditions: ClipConditions,
    trusted: tuple[str, ...],
    per_side: dict[str, Reliability] | None,
    values: int,
) -> dict:
    grade = clip_reliability(key, conditions, values)
    if per_side is None:
        return {**grade.to_dict(), **{side: grade.to_dict() for side in SIDES}}
    for side in trusted:
        for reason in per_side[side].reasons:
            if reason not in grade.reasons:
                grade = grade.worse(per_side[side].level, reason)
    if len(trusted) == 1:
        grade = grade.worse(grade.level, f"mean of the {trusted[0]} leg only")
    return {**grade.to_dict(), **{side: per_side[side].to_dict() for side in SIDES}}


def _summary(
    spec: MetricSpec,
    values: np.ndarray,
    sides: np.ndarray,
    unit: str,
    trusted: tuple[str, ...] = SIDES,
) -> MetricSummary:
    finite = np.isfinite(values)
    left_values = values[finite & (sides == "left")]
    right_values = values[finite & (sides == "right")]
    left, right = _mean_or_none(left_values), _mean_or_none(right_values)
    difference = left - right if left is not None and right is not None else None
    used = finite & np.isin(sides, trusted)
    asymmetry = symmetry_index(left_values, right_values) if spec.sided else None
    return MetricSummary(
        key=spec.key,
        label=spec.label,
        unit=unit,
        mean=_mean_or_none(values[used]),
        sd=float(np.std(values[used], ddof=1)) if used.sum() >= 2 else None,
        n=int(used.sum()),
        left=left,
        right=right,
        asymmetry_pct=asymmetry,
        asymmetry_margin_pct=symmetry_margin(left_values, right_values)
        if asymmetry is not None
        else None,
        left_minus_right=difference,
        typical_range=spec.typical_range,
        source=spec.source,
    )


def symmetry_index(left: np.ndarray, right: np.ndarray) -> float | None:
    """Robinson's symmetry index of the side means in %, or None where it would mean nothing.

    A ratio of means is only meaningful when both means are clearly on the same side of zero:
    each must lie at least two standard errors from it, which needs two steps or more per side.
    Otherwise a side whose mean is zero within its own step-to-step scatter (hip extension at
    toe-off or an overstride near zero) turns a small difference into -100 % or worse.
    """
    if len(left) < 2 or len(right) < 2:
        return None
    (left_mean, left_se), (right_mean, right_se) = _mean_and_error(left), _mean_and_error(right)
    if abs(left_mean) < 2.0 * left_se or abs(right_mean) < 2.0 * right_se:
        return None
    if left_mean * right_mean <= 0:
        return None
    return 100.0 * (left_mean - right_mean) / (0.5 * (left_mean + right_mean))


def symmetry_margin(left: np.ndarray, right: np.ndarray) -> float:
    """Two standard errors of the difference of the side means, in % of their average: the
    size a symmetry index must exceed before the legs can be told apart.

    With a handful of steps per side and 1-frame event timing this is often tens of percent
    (a 16 ms flight-time difference at 60 fps is one frame): printing "+30 %" alone would claim
    a limp the clip cannot show. Call only where ``symmetry_index`` gave a value.
    """
    (left_mean, left_se), (right_mean, right_se) = _mean_and_error(left), _mean_and_error(right)
    average = 0.5 * (left_mean + right_mean)
    return 100.0 * 2.0 * math.hypot(left_se, right_se) / abs(average)


def _mean_and_error(values: np.ndarray) -> tuple[float, float]:
    """Mean of one side's steps and its standard error (two steps or more)."""
    return float(np.mean(values)), float(np.std(values, ddof=1)) / math.sqrt(len(values))


def _flag(summary: MetricSummary) -> None:
    """Flag a mean outside the typical range, unless it is too unreliable to say so."""
    summary.flag, summary.reason = None, None
    if summary.typical_range is None or summary.mean is None:
        return
    if summary.is_poor:
        return
    low, high = summary.typical_range
    if summary.mean < low:
        summary.flag = "low"
    elif summary.mean > high:
        summary.flag = "high"
    else:
        return
    summary.reason = (
        f"{summary.label} {summary.mean:.1f} {summary.unit} is {'below' if summary.flag == 'low' else 'above'} "
        f"the typical {low:g}-{high:g} {summary.unit} of recreational runners"
    )


def _mean_or_none(values: np.ndarray) -> float | None:
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    if not values.size:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(np.mean(values))
