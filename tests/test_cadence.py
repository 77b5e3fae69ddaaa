"""Cadence is counted from the landings, as a coach counts it, not averaged from screened steps."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from app.core.cadence import count_cadence


def _landings(times: list[float]) -> list[tuple[float, str]]:
    return [(t, "left" if i % 2 else "right") for i, t in enumerate(times)]


def _regular(n: int = 12, step_s: float = 0.35) -> list[float]:
    return [i * step_s for i in range(n)]


def test_regular_landings_give_their_rate():
    counted = count_cadence(_landings(_regular()))
    assert counted.steps == 11
    assert counted.steps_per_min == pytest.approx(60.0 / 0.35)
    assert counted.duration_s == pytest.approx(11 * 0.35)


def test_a_landing_timed_early_changes_nothing():
    """Its short step and the long one after it add up to two steps: the count is exact, where
    the mean of the steps left after screening out the short one would read about 7 % slow."""
    times = _regular()
    times[5] -= 0.12
    assert count_cadence(_landings(times)).steps_per_min == pytest.approx(60.0 / 0.35)


def test_a_missed_landing_stops_the_count_there():
    """Two landings of one foot in a row hide a step: that interval is left out, the rest kept."""
    landings = _landings(_regular())
    del landings[6]
    counted = count_cadence(landings)
    assert counted.steps == 9
    assert counted.steps_per_min == pytest.approx(60.0 / 0.35)


def test_a_gap_while_the_runner_is_out_of_sight_is_not_counted():
    times = _regular(6) + [t + 3.0 for t in _regular(6, 0.35)[0:6]]
    times = sorted(times)
    counted = count_cadence(_landings(times))
    assert counted.steps == 10
    assert counted.steps_per_min == pytest.approx(60.0 / 0.35)


def test_too_few_landings_count_nothing():
    assert count_cadence(_landings(_regular(3))) is None
    assert count_cadence([]) is None
    assert count_cadence([(math.nan, "left"), (0.3, "right")]) is None


def test_each_step_is_named_after_the_foot_that_ends_it():
    counted = count_cadence(_landings([0.0, 0.30, 0.70, 1.00, 1.40]))
    assert list(counted.sides) == ["left", "right", "left", "right"]
    assert counted.intervals_s == pytest.approx([0.30, 0.40, 0.30, 0.40])


def test_unordered_and_unknown_landings_are_sorted_and_skipped():
    landings = _landings(_regular())
    landings.append((math.nan, "left"))
    counted = count_cadence(list(reversed(landings)))
    assert counted.steps == 11
    assert counted.steps_per_min == pytest.approx(60.0 / 0.35)


def test_the_hand_counts_are_whole():
    """tests/data/step_counts/: every file names its rule, and its step markers increase within
    the frames counted (a marker out of order or outside them is a typing error)."""
    files = sorted((Path(__file__).parent / "data" / "step_counts").glob("*.json"))
    assert len(files) == 3
    for path in files:
        count = json.loads(path.read_text())
        markers = count["markers"]
        first, last = count["counted_frames"]
        assert count["rule"] and count["fps"] > 0, path
        assert all(np.diff(markers) > 0), path
        assert first <= markers[0] and markers[-1] <= last, path
