"""A NaN-ignoring median along one axis, fast on many short vectors.

``np.nanmedian`` over many short vectors (the few neighbours of every point of a track, the
samples of a sliding window) takes a masked-array path that warns once per all-NaN vector: a
tenth of a second per call on a minute of running, most of a report's recompute budget after
a hand correction (docs/corrections.md). Sorting puts NaN last, so the median of each vector is
read from its sorted head; an all-NaN vector gives NaN, silently.
"""

from __future__ import annotations

import numpy as np


def nanmedian(values: np.ndarray, axis: int) -> np.ndarray:
    """Median of the non-NaN values along ``axis`` (NaN where there are none), as
    ``np.nanmedian`` without its warnings."""
    ordered = np.moveaxis(np.sort(np.asarray(values, np.float64), axis=axis), axis, 0)
    count = (~np.isnan(ordered)).sum(axis=0)
    low = np.take_along_axis(ordered, np.maximum((count - 1) // 2, 0)[None], axis=0)[0]
    high = np.take_along_axis(ordered, np.maximum(count // 2, 0)[None], axis=0)[0]
    median = 0.5 * (low + high)
    return np.where(count > 0, median, np.nan)
