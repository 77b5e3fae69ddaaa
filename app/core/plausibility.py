"""Keep physically impossible step values out of the metrics, and say what was dropped and why.

A step whose toe-off comes before its contact, whose contact is shorter than a sprinter's or
outlasts its stride, or after which the other foot lands well before this one leaves the ground
is not a running step: one of its
events was mistimed (a foot hidden, the wrong person followed, a camera pan read as foot motion).
Averaging such a step in prints a negative flight time or a 300 steps/min cadence as if it were a
measurement. Here each such step is dropped whole, with its reason; a step whose only fault is its
step time (a contact missed or found twice in between) keeps its other values, but the flight
and vertical oscillation measured over the same interval (the previous step's, which end at this
landing) go with it, and no flight outlasts the slowest running step. Where the landings
counted over the whole clip (``app.core.cadence``) come slower or faster than any running, the
few step times that looked possible are not evidence of a running cadence either: every step
time is left out, and the clip gets the slow-motion hint. The report lists every drop and counts
them in its notes (docs/kinematics.md, "Impossible values").
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from app.core.cadence import GAP_RATIO, CountedCadence
from app.core.foot_contact import MIN_CONTACT_S
from app.core.metrics import StepMetrics

# Sprinters' contacts last about 80-100 ms; shorter is a mistimed event. The same bound the
# foot-contact detector puts on a contact it accepts.
MIN_CONTACT_MS = 1000.0 * MIN_CONTACT_S
MIN_RUNNING_CADENCE_SPM = 100.0  # slower is walking, slow-motion footage or missed contacts
# Elite sprinters at full speed take about 4.5-5 steps/s (270-300 steps/min); the sprinters of
# race_3runners_pan.mp4 take 280 (tests/data/step_counts/).
MAX_RUNNING_CADENCE_SPM = 330.0
# x the median step time: outside, a contact was missed (the cadence count's gap) or doubled
STEP_TIME_BAND = (0.5, GAP_RATIO)

NEGATIVE_FLIGHT = "negative flight time (the other foot landed before this one left the ground)"
NO_CONTACT = "toe-off not after initial contact"
SHORT_CONTACT = f"contact shorter than {MIN_CONTACT_MS:g} ms"
CONTACT_OVER_STRIDE = "contact longer than the stride"
STEP_OFF_MEDIAN = "step time far from the others (a contact missed or found twice)"
TOO_SLOW = f"step rate below running's {MIN_RUNNING_CADENCE_SPM:g} steps/min"
TOO_FAST = f"step rate above running's {MAX_RUNNING_CADENCE_SPM:g} steps/min"
COUNT_TOO_SLOW = (
    f"landings counted over the clip below running's {MIN_RUNNING_CADENCE_SPM:g} steps/min"
)
COUNT_TOO_FAST = (
    f"landings counted over the clip above running's {MAX_RUNNING_CADENCE_SPM:g} steps/min"
)
FLIGHT_TO_BAD_STEP = "flight ends at a landing whose step time was left out"
LONG_FLIGHT = (
    f"flight longer than the slowest running step ({60000.0 / MIN_RUNNING_CADENCE_SPM:g} ms)"
)


@dataclass(frozen=True)
class DroppedValue:
    """A step, or some of its values, left out of the metrics."""

    side: str
    ic_frame: int
    # "step" (every value), "step time" (step time, flight and oscillation) or "flight" (flight
    # and oscillation)
    what: str
    reason: str


def screen_steps(
    steps: list[StepMetrics], frame_s: float
) -> tuple[list[StepMetrics], list[DroppedValue]]:
    """The steps whose values are possible, and what was dropped.

    ``frame_s`` is the duration of one frame in real time: a flight time within one frame below
    zero is zero within the timing resolution and is kept as 0 ms, not dropped.
    """
    tolerance_ms = 1000.0 * frame_s if np.isfinite(frame_s) else 0.0
    kept: list[StepMetrics] = []
    dropped: list[DroppedValue] = []
    for step in steps:
        reason = _impossible(step, tolerance_ms)
        if reason is not None:
            dropped.append(DroppedValue(step.side, step.ic_frame, "step", reason))
            continue
        if step.flight_time_ms < 0:
            step.flight_time_ms = 0.0
        kept.append(step)
    dropped += _screen_step_times(kept)
    return kept, dropped


def _impossible(step: StepMetrics, tolerance_ms: float) -> str | None:
    if not step.contact_time_ms > 0:
        return NO_CONTACT
    if step.contact_time_ms < MIN_CONTACT_MS:
        return SHORT_CONTACT
    if step.duty_factor >= 1.0:
        return CONTACT_OVER_STRIDE
    if step.flight_time_ms < -tolerance_ms:
        return NEGATIVE_FLIGHT
    return None


def _screen_step_times(steps: list[StepMetrics]) -> list[DroppedValue]:
    """Clear step times no running step can have, then those far from the clip's median; then
    the flights that span a cleared step time or last longer than any running step."""
    dropped = []
    low, high = (60000.0 / c for c in (MAX_RUNNING_CADENCE_SPM, MIN_RUNNING_CADENCE_SPM))
    landings: set[int] = set()  # id() of the steps whose step time was cleared
    for step in steps:
        if step.step_time_ms > high:
            reason = TOO_SLOW
        elif step.step_time_ms < low:
            reason = TOO_FAST
        else:
            continue
        dropped.append(_clear_step_time(step, reason))
        landings.add(id(step))
    times = np.array([s.step_time_ms for s in steps], np.float64)
    finite = np.isfinite(times)
    if finite.sum() >= 3:
        median = float(np.median(times[finite]))
        for step in steps:
            ratio = step.step_time_ms / median
            if np.isfinite(ratio) and not STEP_TIME_BAND[0] < ratio < STEP_TIME_BAND[1]:
                dropped.append(_clear_step_time(step, STEP_OFF_MEDIAN))
                landings.add(id(step))
    for index, step in enumerate(steps):
        after = steps[index + 1] if index + 1 < len(steps) else None
        if after is not None and id(after) in landings and _flight_ends_at(step, after):
            dropped.append(_clear_flight(step, FLIGHT_TO_BAD_STEP))
        elif step.flight_time_ms > high:
            dropped.append(_clear_flight(step, LONG_FLIGHT))
    return dropped


def screen_counted_cadence(
    counted: CountedCadence | None, steps: list[StepMetrics]
) -> tuple[CountedCadence | None, list[DroppedValue]]:
    """The counted cadence where running can have it. Otherwise None, and every step time left
    out (with the flight and oscillation over it): on ``tracking_shot_road.mp4`` analysed
    without its slow-motion factor the landings come 86 times a minute, and the 4 of 26 step
    times inside running's range, all mistimed, once printed a cadence of 123."""
    if counted is None or (
        MIN_RUNNING_CADENCE_SPM <= counted.steps_per_min <= MAX_RUNNING_CADENCE_SPM
    ):
        return counted, []
    reason = COUNT_TOO_SLOW if counted.steps_per_min < MIN_RUNNING_CADENCE_SPM else COUNT_TOO_FAST
    return None, [_clear_step_time(s, reason) for s in steps if np.isfinite(s.step_time_ms)]


def _flight_ends_at(step: StepMetrics, landing: StepMetrics) -> bool:
    """Whether ``step``'s flight is the one that ends at ``landing``'s initial contact (not at a
    step dropped in between)."""
    end_s = step.to_time_s + step.flight_time_ms / 1000.0
    return bool(np.isfinite(end_s)) and abs(end_s - landing.ic_time_s) < 1e-6


def _clear_step_time(step: StepMetrics, reason: str) -> DroppedValue:
    step.step_time_ms = math.nan
    _clear_flight_values(step)
    return DroppedValue(step.side, step.ic_frame, "step time", reason)


def _clear_flight(step: StepMetrics, reason: str) -> DroppedValue:
    _clear_flight_values(step)
    return DroppedValue(step.side, step.ic_frame, "flight", reason)


def _clear_flight_values(step: StepMetrics) -> None:
    """Flight and vertical oscillation: both are measured from this step to the next landing."""
    step.flight_time_ms = math.nan
    step.vertical_oscillation = math.nan


def dropped_note(dropped: list[DroppedValue], measured: int) -> str | None:
    """'3 of 17 steps dropped as impossible (2 negative flight time ..., 1 ...); 1 step time
    left out (...)', or None if nothing was."""
    if not dropped:
        return None
    parts = []
    for what, noun in (("step", "step"), ("step time", "step time"), ("flight", "flight time")):
        reasons = Counter(d.reason for d in dropped if d.what == what)
        if not reasons:
            continue
        count = sum(reasons.values())
        listed = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
        if what == "step":
            parts.append(f"{count} of {measured} steps dropped as impossible ({listed})")
        else:
            parts.append(f"{count} {noun}{'s' if count > 1 else ''} left out ({listed})")
    return "; ".join(parts)


def slow_steps_hint(dropped: list[DroppedValue], measured: int) -> str | None:
    """The slow-motion hint when most steps, or the landings counted together, are slower than
    any running (None otherwise)."""
    slow = sum(d.reason in (TOO_SLOW, COUNT_TOO_SLOW) for d in dropped)
    counted_slow = any(d.reason == COUNT_TOO_SLOW for d in dropped)
    if measured == 0 or (slow < measured / 2 and not counted_slow):
        return None
    return (
        f"{slow} of {measured} steps are slower than running: if the footage is slow motion, "
        "give its slow-motion factor (--slowmo or the app's settings); otherwise the legs were "
        "not followed reliably"
    )
