"""Impossible step values are dropped with their reason, never averaged into a metric."""

from __future__ import annotations

import math

import numpy as np

from app.core.cadence import CountedCadence
from app.core.metrics import StepMetrics
from app.core.plausibility import (
    CONTACT_OVER_STRIDE,
    COUNT_TOO_SLOW,
    FLIGHT_TO_BAD_STEP,
    LONG_FLIGHT,
    NEGATIVE_FLIGHT,
    NO_CONTACT,
    SHORT_CONTACT,
    STEP_OFF_MEDIAN,
    TOO_FAST,
    TOO_SLOW,
    dropped_note,
    screen_counted_cadence,
    screen_steps,
    slow_steps_hint,
)

FRAME_S = 1.0 / 60.0


def _step(frame: int, side: str = "left", **values: float) -> StepMetrics:
    defaults = {"contact_time_ms": 250.0, "flight_time_ms": 100.0, "step_time_ms": 350.0}
    defaults["duty_factor"] = 0.36
    defaults.update(values)
    return StepMetrics(side, frame, frame / 60.0, frame + 15, (frame + 15) / 60.0, **defaults)


def _running(n: int = 6) -> list[StepMetrics]:
    return [_step(21 * i, "left" if i % 2 else "right") for i in range(n)]


def test_possible_steps_pass_untouched():
    kept, dropped = screen_steps(_running(), FRAME_S)
    assert len(kept) == 6 and dropped == []
    assert dropped_note(dropped, 6) is None


def test_each_impossible_step_is_dropped_with_its_reason():
    steps = _running()
    steps[1].flight_time_ms = -120.0
    steps[2].contact_time_ms = -10.0
    steps[3].duty_factor = 1.2
    kept, dropped = screen_steps(steps, FRAME_S)
    assert [s.ic_frame for s in kept] == [0, 84, 105]
    assert [(d.ic_frame, d.what, d.reason) for d in dropped] == [
        (21, "step", NEGATIVE_FLIGHT),
        (42, "step", NO_CONTACT),
        (63, "step", CONTACT_OVER_STRIDE),
    ]
    note = dropped_note(dropped, 6)
    assert note.startswith("3 of 6 steps dropped as impossible (")


def test_a_flight_within_a_frame_below_zero_is_zero():
    steps = _running()
    steps[0].flight_time_ms = -10.0  # 60 fps: one frame is 16.7 ms
    kept, dropped = screen_steps(steps, FRAME_S)
    assert kept[0].flight_time_ms == 0.0 and dropped == []


def test_step_rates_no_runner_has_are_cleared_but_the_contact_kept():
    steps = _running()
    steps[0].step_time_ms = 700.0  # 86 steps/min
    steps[1].step_time_ms = 170.0  # 353 steps/min
    kept, dropped = screen_steps(steps, FRAME_S)
    assert len(kept) == 6
    assert [(d.ic_frame, d.what, d.reason) for d in dropped] == [
        (0, "step time", TOO_SLOW),
        (21, "step time", TOO_FAST),
    ]
    assert math.isnan(kept[0].step_time_ms) and math.isnan(kept[0].flight_time_ms)
    assert kept[0].contact_time_ms == 250.0
    assert "2 step times left out" in dropped_note(dropped, 6)


def test_the_flight_over_a_cleared_step_time_goes_with_it():
    """A contact missed between two landings makes the step time of the second impossible; the
    flight of the first (which ends at the second landing) spans the same gap and goes too (the
    race clip printed a 1064 ms flight beside a cleared 1450 ms step time). Each step of
    ``_running`` flies 100 ms into the next one's landing."""
    steps = _running()
    steps[3].step_time_ms = 1450.0
    kept, dropped = screen_steps(steps, FRAME_S)
    assert [(d.ic_frame, d.what, d.reason) for d in dropped] == [
        (63, "step time", TOO_SLOW),
        (42, "flight", FLIGHT_TO_BAD_STEP),
    ]
    assert math.isnan(kept[2].flight_time_ms) and math.isnan(kept[2].vertical_oscillation)
    assert kept[1].flight_time_ms == 100.0 and kept[2].contact_time_ms == 250.0
    assert "1 flight time left out (1 flight ends at" in dropped_note(dropped, 6)


def test_a_flight_ending_at_a_dropped_step_is_not_taken_for_the_next_one():
    steps = _running()
    steps[3].contact_time_ms = -10.0  # dropped whole: step 2's flight ends at its landing
    steps[4].step_time_ms = 1450.0
    kept, dropped = screen_steps(steps, FRAME_S)
    assert [(d.ic_frame, d.what) for d in dropped] == [(63, "step"), (84, "step time")]
    assert kept[2].flight_time_ms == 100.0


def test_no_flight_outlasts_the_slowest_running_step():
    steps = _running()
    steps[5].flight_time_ms = 1064.0  # the next landing was never found
    kept, dropped = screen_steps(steps, FRAME_S)
    assert [(d.ic_frame, d.what, d.reason) for d in dropped] == [(105, "flight", LONG_FLIGHT)]
    assert math.isnan(kept[5].flight_time_ms) and kept[5].contact_time_ms == 250.0


def test_a_step_time_far_from_the_median_is_cleared():
    steps = _running()
    steps[4].step_time_ms = 580.0  # a running rate, but 1.66 x the others: a contact missed
    _, dropped = screen_steps(steps, FRAME_S)
    assert [(d.ic_frame, d.reason) for d in dropped] == [
        (84, STEP_OFF_MEDIAN),
        (63, FLIGHT_TO_BAD_STEP),
    ]


def test_mostly_too_slow_steps_give_the_slow_motion_hint():
    steps = _running()
    for step in steps[:4]:
        step.step_time_ms = 700.0
    _, dropped = screen_steps(steps, FRAME_S)
    assert "4 of 6 steps are slower than running" in slow_steps_hint(dropped, 6)
    assert slow_steps_hint(dropped[:2], 6) is None


def test_a_contact_shorter_than_a_sprinters_is_dropped():
    steps = _running()
    steps[2].contact_time_ms = 35.0
    kept, dropped = screen_steps(steps, FRAME_S)
    assert len(kept) == 5 and [(d.ic_frame, d.reason) for d in dropped] == [(42, SHORT_CONTACT)]


def _counted(steps_per_min: float, steps: int) -> CountedCadence:
    sides = np.array(["left", "right"] * steps)[:steps]
    return CountedCadence(np.full(steps, 60.0 / steps_per_min), sides)


def test_a_counted_cadence_no_runner_has_clears_every_step_time():
    """Slow-motion footage analysed at its playback speed: the landings come 86 times a minute,
    so the few step times inside running's range are mistimed too and go with the rest."""
    steps = _running()
    kept, dropped = screen_steps(steps, FRAME_S)
    cadence, cleared = screen_counted_cadence(_counted(86.0, 20), kept)
    assert cadence is None
    assert [(d.ic_frame, d.what, d.reason) for d in cleared] == [
        (s.ic_frame, "step time", COUNT_TOO_SLOW) for s in steps
    ]
    assert all(math.isnan(s.step_time_ms) and math.isnan(s.flight_time_ms) for s in kept)
    assert slow_steps_hint(cleared, 6) is not None


def test_a_sprinters_counted_cadence_is_kept():
    """Sprinters at full speed take 270-300 steps/min: race_3runners_pan.mp4 counts 280."""
    kept, _ = screen_steps(_running(), FRAME_S)
    counted = _counted(285.0, 24)
    assert screen_counted_cadence(counted, kept) == (counted, [])
    assert screen_counted_cadence(None, kept) == (None, [])
