"""Savitzky-Golay filtering of one run of samples, as ``scipy.signal.savgol_filter`` does it,
without its per-call cost.

Foot contact filters every foot point over each run of finite samples; a minute of 60 fps
running holds thousands of such runs, and ``savgol_filter`` spends most of its time per call
(fitting the two edges with ``polyfit``), not per sample: that was most of the time of a report
after a hand correction (docs/corrections.md). The filter is linear, so every output sample is
a dot product of the window around it with fixed coefficients: ``savgol_coeffs`` at the window's
centre for the inside of the run and at each off-centre position for the edges, which is
exactly scipy's ``mode="interp"`` (a polynomial fitted to the first and the last window and
evaluated there). The coefficients are computed once per (window, order, derivative).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.signal import savgol_coeffs


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
    count = len(values)
    if window % 2 == 0 or count < window:
        raise ValueError(f"a run of {count} samples cannot take an odd window of {window}")
    weights = _coefficients(window, order, deriv)
    half = window // 2
    out = np.empty_like(values)
    windows = sliding_window_view(values, window, axis=0)  # (count - window + 1, ..., window)
    out[half : count - half] = windows @ weights[half]
    out[:half] = weights[:half] @ values[:window]
    out[count - half :] = weights[half + 1 :] @ values[count - window :]
    return out
