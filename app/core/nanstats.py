"""Medians of many short vectors, fast: a NaN-ignoring median along one axis, and the
repeated-median slope of a few points.

``np.nanmedian`` over many short vectors (the few neighbours of every point of a track, the
samples of a sliding window) takes a masked-array path that warns once per all-NaN vector: a
tenth of a second per call on a minute of running, most of a report's recompute budget after
a hand correction (docs/corrections.md). Sorting puts NaN last, so the median of each vector is
read from its sorted head; an all-NaN vector gives NaN, silently. ``scipy.stats.siegelslopes``
fits a line through a dozen points in a tenth of a millisecond, nearly all of it argument
handling; foot contact fits one per ground contact.
"""

from __future__ import annotations

import numpy as np


def nanmedian(values: np.ndarray, axis: int) -> np.ndarray:
    """Median of the non-NaN values along ``axis`` (NaN where there are none), as
    ``np.nanmedian`` without its warnings."""
    values = np.asarray(values, np.float64)
    if values.shape[axis] == 1:  # one value per vector (a one-frame neighbourhood): itself
        return np.take(values, 0, axis=axis)
    ordered = np.moveaxis(np.sort(values, axis=axis), axis, 0)
    count = (~np.isnan(ordered)).sum(axis=0)
    low = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[None], axis=0)[0]
    high = np.take_along_axis(ordered, np.maximum(count // 2, 0)[None], axis=0)[0]
    median = 0.5 * (low + high)
    return np.where(count > 0, median, np.nan)


def repeated_median_slope(y: np.ndarray, x: np.ndarray) -> float:
    """Siegel's repeated-median slope of points (x, y) with distinct x: for each point the
    median slope to every other one, then the median of those, as ``scipy.stats.siegelslopes``
    computes it."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    count = len(x)
    if count < 2 or len(np.unique(x)) < count:
        raise ValueError("a repeated-median slope needs at least two points with distinct x")
    dx = x[None, :] - x[:, None]
    np.fill_diagonal(dx, np.nan)
    # Each row holds the slopes to the other count - 1 points; sorting puts its NaN last.
    ordered = np.sort((y[None, :] - y[:, None]) / dx, axis=1)
    others = count - 1
    per_point = 0.5 * (ordered[:, (others - 1) // 2] + ordered[:, others // 2])
    return float(np.median(per_point))
