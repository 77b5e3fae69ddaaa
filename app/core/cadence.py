"""Cadence as a count: landings per minute over the runs of steps that follow one another.

A coach counts cadence by counting landings against a stopwatch. Averaging per-step values
is not the same thing once steps are screened: an initial contact timed a few frames early makes
one step short and the next one long, and when the short one is left out (a step rate above
running's, a contact too short to be real) the long one alone pulls the mean down. On
``tracking_shot_road.mp4`` (slow motion, analysed at ``--slowmo 2``) the mean of the screened
steps read 166 steps/min against 172 counted by hand (tests/data/step_counts/).

Here every landing the gait events found counts, whatever its own step's values: a step
interval (one landing to the other foot's next) joins the count when the feet alternate and the
interval is shorter than ``GAP_RATIO`` times the clip's median interval; elsewhere a landing was
missed or the runner was out of sight (two landings of one foot in a row, or a gap), and the
count stops there and resumes at the next good interval. Early and late landings inside a run
cancel out: the run's duration depends only on its first and last landing, so a short interval
is kept with the long one beside it (leaving it out, as a band around the median would, biases
the count low).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

GAP_RATIO = 1.6  # x the median interval: longer hides a missed landing
MIN_INTERVALS = 3  # fewer alternating intervals than this count nothing


@dataclass(frozen=True)
class CountedCadence:
    """The step intervals counted: each one's duration in real seconds, and the side of the
    landing that ends it (a left step runs from the right foot's landing to the left's)."""

    intervals_s: np.ndarray
    sides: np.ndarray

    @property
    def steps(self) -> int:
        return len(self.intervals_s)

    @property
    def duration_s(self) -> float:
        return float(np.sum(self.intervals_s))

    @property
    def steps_per_min(self) -> float:
        return 60.0 * self.steps / self.duration_s


def count_cadence(landings: Sequence[tuple[float, str]]) -> CountedCadence | None:
    """The step intervals counted from landings given as (real time in s, side); None where
    fewer than ``MIN_INTERVALS`` can be counted."""
    ordered = sorted((float(t), side) for t, side in landings if np.isfinite(t))
    times = np.array([t for t, _ in ordered], np.float64)
    sides = np.array([side for _, side in ordered])
    if len(times) < 2:
        return None
    intervals = np.diff(times)
    alternating = (sides[:-1] != sides[1:]) & (intervals > 0)
    if alternating.sum() < MIN_INTERVALS:
        return None
    median = float(np.median(intervals[alternating]))
    counted = alternating & (intervals < GAP_RATIO * median)
    if counted.sum() < MIN_INTERVALS:
        return None
    return CountedCadence(intervals[counted], sides[1:][counted])
