"""The fast Savitzky-Golay and NaN-median helpers give exactly what scipy and numpy give
(docs/corrections.md: they exist for the recompute budget, not to change any number)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.signal import savgol_filter

from app.core.nanstats import nanmedian
from app.core.savgol_runs import savgol_run


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
