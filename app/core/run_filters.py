"""Savitzky-Golay and running-median filters over runs of finite samples, every run at once.

Foot contact filters every foot point over each run of finite samples (a landmark lost for a
frame splits its track); a minute of 60 fps running holds hundreds of runs per point, and
calling ``scipy.signal.savgol_filter`` or ``scipy.ndimage.median_filter`` once per run spends
its time per call, not per sample: that was most of a report's recompute after a hand
correction (docs/corrections.md). Both filters are computed here for all runs together, with
exactly scipy's results:

- Savitzky-Golay is linear, so every output sample is a dot product of the window around it with
  fixed coefficients: ``savgol_coeffs`` at the window's centre for the inside of a run and at
  each off-centre position for its edges, which is scipy's ``mode="interp"`` (a polynomial
  fitted to the first and the last window of the run and evaluated there). The coefficients
  are computed once per (window, order, derivative).
- The running median's ``mode="nearest"`` repeats a run's end sample beyond it: each sample's
  window is gathered with its indices clipped to its own run.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import savgol_coeffs

Runs = list[tuple[int, int]]  # [start, stop) of each run


@lru_cache(maxsize=32)
def _coefficients(window: int, order: int, deriv: int) -> np.ndarray:
    """Row p: the weights that give the fit's value (or derivative) at position p of the window."""
    return np.stack(
        [savgol_coeffs(window, order, deriv=deriv, pos=p, use="dot") for p in range(window)]
    )


def savgol_run(values: np.ndarray, window: int, order: int, deriv: int = 0) -> np.ndarray:
    """``savgol_filter(values, window, order, deriv, axis=0)`` (mode "interp") of a run at least
    ``window`` samples long; ``values`` is 1-D or 2-D (samples along axis 0)."""
    values = np.asarray(values, np.float64)
    return savgol_over_runs(values, [(0, len(values))], window, order, deriv)


def savgol_over_runs(
    values: np.ndarray, runs: Runs, window: int, order: int, deriv: int = 0
) -> np.ndarray:
    """``savgol_run`` of every run of ``values`` (1-D or 2-D, samples along axis 0); samples
    outside the runs are NaN. Every run must be at least ``window`` samples long."""
    values = np.asarray(values, np.float64)
    out = np.full_like(values, np.nan)
    if window % 2 == 0 or any(stop - start < window for start, stop in runs):
        shortest = min((stop - start for start, stop in runs), default=0)
        raise ValueError(f"a run of {shortest} samples cannot take an odd window of {window}")
    if not runs:
        return out
    weights = _coefficients(window, order, deriv)
    half = window // 2
    starts = np.array([start for start, _ in runs])
    stops = np.array([stop for _, stop in runs])
    # Inside every run: the centre weights over the whole series (windows that cross a run's
    # edge are overwritten by the edge fits below or lie outside every run).
    centre = sliding_window_view(values, window, axis=0) @ weights[half]
    inside = indices_in_ranges(starts + half, stops - half)
    out[inside] = centre[inside - half]
    first = values[starts[:, None] + np.arange(window)]  # (runs, window, ...)
    last = values[stops[:, None] - window + np.arange(window)]
    head = np.einsum("pw,rw...->rp...", weights[:half], first)
    tail = np.einsum("pw,rw...->rp...", weights[half + 1 :], last)
    out[(starts[:, None] + np.arange(half)).ravel()] = head.reshape(-1, *values.shape[1:])
    out[(stops[:, None] - half + np.arange(half)).ravel()] = tail.reshape(-1, *values.shape[1:])
    return out


def median_over_runs(values: np.ndarray, runs: Runs, size: int) -> np.ndarray:
    """``median_filter(run, size=(size, 1...), mode="nearest")`` of every run of ``values``;
    samples outside the runs are NaN."""
    if size % 2 == 0:
        raise ValueError(f"a running median needs an odd size, not {size}")
    values = np.asarray(values, np.float64)
    out = np.full_like(values, np.nan)
    if not runs:
        return out
    starts = np.array([start for start, _ in runs])
    stops = np.array([stop for _, stop in runs])
    where = indices_in_ranges(starts, stops)
    lengths = stops - starts
    first = np.repeat(starts, lengths)
    last = np.repeat(stops - 1, lengths)
    half = size // 2
    window = where[:, None] + np.arange(-half, half + 1)[None, :]
    gathered = np.clip(window, first[:, None], last[:, None])
    out[where] = np.median(values[gathered], axis=1)
    return out


def indices_in_ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Every index in the ranges [start, stop) (empty ranges give none), in order."""
    lengths = np.maximum(stops - starts, 0)
    if not lengths.sum():
        return np.zeros(0, int)
    offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets
