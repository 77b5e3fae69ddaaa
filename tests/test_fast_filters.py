"""The fast filters, medians and event readings give exactly what scipy and numpy give
(docs/corrections.md: they exist for the recompute budget, not to change any number)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.ndimage import median_filter
from scipy.signal import savgol_filter
from scipy.stats import siegelslopes

from app.core.event_values import interpolate_at, values_at_events
from app.core.nanstats import nanmedian, repeated_median_slope
from app.core.run_filters import median_over_runs, savgol_over_runs, savgol_run

RUNS = [(0, 9), (12, 40), (41, 52), (60, 75)]


@pytest.mark.parametrize("shape", [(40,), (40, 2), (9,), (9, 3)])
@pytest.mark.parametrize("deriv", [0, 1])
def test_savgol_run_matches_scipy_interp_mode(shape: tuple[int, ...], deriv: int) -> None:
    values = np.random.default_rng(3).normal(size=shape).cumsum(axis=0)
    expected = savgol_filter(values, 9, 2, deriv=deriv, axis=0)
    np.testing.assert_allclose(savgol_run(values, 9, 2, deriv), expected, atol=1e-10)


def test_savgol_run_refuses_a_run_shorter_than_its_window() -> None:
    with pytest.raises(ValueError, match="cannot take"):
        savgol_run(np.zeros(5), 7, 2)
    with pytest.raises(ValueError, match="cannot take"):
        savgol_run(np.zeros(20), 8, 2)


@pytest.mark.parametrize("shape", [(80,), (80, 2)])
@pytest.mark.parametrize("deriv", [0, 1])
def test_savgol_over_runs_filters_each_run_as_scipy_does_and_leaves_the_rest_nan(
    shape: tuple[int, ...], deriv: int
) -> None:
    values = np.random.default_rng(4).normal(size=shape).cumsum(axis=0)
    got = savgol_over_runs(values, RUNS, 9, 2, deriv)
    inside = np.zeros(len(values), bool)
    for start, stop in RUNS:
        expected = savgol_filter(values[start:stop], 9, 2, deriv=deriv, axis=0)
        np.testing.assert_allclose(got[start:stop], expected, atol=1e-10)
        inside[start:stop] = True
    assert np.isnan(got[~inside]).all()


@pytest.mark.parametrize("shape", [(80,), (80, 2)])
def test_median_over_runs_repeats_each_runs_ends_as_scipys_nearest_mode(
    shape: tuple[int, ...],
) -> None:
    values = np.random.default_rng(6).normal(size=shape)
    got = median_over_runs(values, RUNS + [(76, 77)], 3)
    for start, stop in RUNS + [(76, 77)]:
        size = (3,) + (1,) * (values.ndim - 1)
        expected = median_filter(values[start:stop], size=size, mode="nearest")
        np.testing.assert_array_equal(got[start:stop], expected)
    assert np.isnan(got[52:60]).all()


def test_repeated_median_slope_is_siegels_slope() -> None:
    rng = np.random.default_rng(8)
    for count in (2, 3, 7, 12, 25):
        x = rng.permutation(np.arange(count, dtype=float) * 1.5 + 3)
        y = -2.5 * x + rng.normal(size=count)
        y[rng.random(count) < 0.2] += 40.0  # outliers
        assert repeated_median_slope(y, x) == pytest.approx(siegelslopes(y, x)[0], abs=1e-12)
    with pytest.raises(ValueError, match="distinct"):
        repeated_median_slope(np.zeros(3), np.array([1.0, 1.0, 2.0]))


def _corner_fit_at(values: np.ndarray, times: np.ndarray, event_s: float) -> float:
    """One event's two-quadratic fit by plain least squares (the reference)."""
    near = (np.abs(times - event_s) <= 0.1) & np.isfinite(values)
    offset = (times[near] - event_s) / 0.1
    after = np.maximum(offset, 0.0)
    design = np.stack([np.ones_like(offset), offset, offset**2, after, after**2], axis=1)
    return float(np.linalg.lstsq(design, values[near], rcond=None)[0][0])


def test_values_at_events_fit_every_event_as_one_least_squares_fit_each() -> None:
    times = np.arange(300) / 60.0
    # A knee that is still, then flexes fast from a corner at each contact.
    events = np.array([0.51, 1.237, 2.004, 3.333, 4.1])
    values = 5.0 + 0.5 * np.sin(times)
    for event in events:
        values += 400.0 * np.clip(times - event, 0.0, 0.2) ** 1.5
    values += np.random.default_rng(9).normal(0, 0.3, len(times))
    values[130:133] = np.nan  # unseen frames near the 2.0 s event
    got = values_at_events(values, times, events)
    expected = [_corner_fit_at(values, times, event) for event in events]
    np.testing.assert_allclose(got, expected, atol=1e-9)


def test_values_at_events_interpolate_where_a_side_has_too_few_samples() -> None:
    times = np.arange(60) / 60.0
    values = times * 10.0
    values[22:40] = np.nan  # the event's right side is unseen
    event = np.array([0.35])
    got = values_at_events(values, times, event)
    np.testing.assert_allclose(got, interpolate_at(values, times, event), equal_nan=True)
    edge = values_at_events(values, times, np.array([0.0]))  # no samples before the clip
    assert edge[0] == pytest.approx(0.0)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_nanmedian_matches_numpy_and_stays_silent(axis: int) -> None:
    rng = np.random.default_rng(5)
    values = rng.normal(size=(30, 7))
    values[rng.random(values.shape) < 0.4] = np.nan
    values[3] = np.nan  # one all-NaN row
    values[:, 2] = np.nan  # and one all-NaN column
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmedian(values, axis=axis)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = nanmedian(values, axis=axis)
    np.testing.assert_allclose(got, expected, equal_nan=True)


def test_nanmedian_of_one_value_per_vector_is_that_value() -> None:
    values = np.array([[1.0, np.nan, 3.0]])
    np.testing.assert_array_equal(nanmedian(values, axis=0), values[0])
