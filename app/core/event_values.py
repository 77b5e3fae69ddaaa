"""Values of a curve at gait events: every event of a clip read in one batch.

A metric read "at initial contact" (knee flexion, shank and ankle angles, the foot's angle) is
the value of an angle curve at a sub-frame event time. A minute of 60 fps running holds nearly
two hundred contacts and five such readings each; fitted one at a time, the per-call cost of
numpy's small solvers was a fifth of a report's recompute after a hand correction
(docs/corrections.md). Here all events of one curve share one stacked least-squares solve.
"""

from __future__ import annotations

import numpy as np

EVENT_WINDOW_S = 0.1
_PARAMETERS = 5  # two quadratics meeting at the event: 1, t, t^2 shared, t+ and t+^2 after
_MIN_SIDE_SAMPLES = 3
_SINGULAR = 1e-10  # |R| diagonal below this (relative): the samples cannot fix the fit


def values_at_events(
    values: np.ndarray,
    times: np.ndarray,
    event_times_s: np.ndarray,
    window_s: float = EVENT_WINDOW_S,
) -> np.ndarray:
    """Value of an angle curve at each gait event, allowing a corner there.

    At initial contact the knee, nearly still, starts flexing fast as the leg takes the load; a
    low-pass filter run through that corner rounds it off and reads several degrees too much
    flexion at the corner itself. Instead, two quadratics that meet at the event time (the curve
    is continuous there, its slope and curvature may jump) are fitted by least squares to the
    unfiltered samples within ``window_s`` of the event, and their common value there is
    returned. With fewer than three finite samples on either side, or samples that cannot fix
    the fit (repeated times), the curve is interpolated linearly instead.
    """
    values = np.asarray(values, np.float64)
    times = np.asarray(times, np.float64)
    events = np.atleast_1d(np.asarray(event_times_s, np.float64))
    result = interpolate_at(values, times, events)
    if not events.size or not times.size:
        return result
    lo = np.searchsorted(times, events - window_s, side="left")
    hi = np.searchsorted(times, events + window_s, side="right")
    width = int((hi - lo).max())
    if width < 2 * _MIN_SIDE_SAMPLES:
        return result
    index = lo[:, None] + np.arange(width)[None, :]
    inside = index < hi[:, None]
    index = np.minimum(index, len(times) - 1)
    samples = values[index]
    used = inside & np.isfinite(samples)
    # Unit scale keeps the fit well conditioned; unused samples become all-zero rows.
    offset = np.where(used, (times[index] - events[:, None]) / max(window_s, 1e-9), 0.0)
    fits = ((used & (offset < 0)).sum(axis=1) >= _MIN_SIDE_SAMPLES) & (
        (used & (offset > 0)).sum(axis=1) >= _MIN_SIDE_SAMPLES
    )
    if not fits.any():
        return result
    offset, used, samples = offset[fits], used[fits], np.where(used, samples, 0.0)[fits]
    after = np.maximum(offset, 0.0)
    design = np.stack([np.ones_like(offset), offset, offset**2, after, after**2], axis=2)
    design *= used[..., None]
    q, r = np.linalg.qr(design)
    diagonal = np.abs(np.diagonal(r, axis1=1, axis2=2))
    solvable = diagonal.min(axis=1) > _SINGULAR * np.maximum(diagonal.max(axis=1), 1e-300)
    if not solvable.any():
        return result
    rhs = np.einsum("eni,en->ei", q[solvable], samples[solvable])
    coefficients = np.linalg.solve(r[solvable], rhs[..., None])[..., 0]
    fitted = np.flatnonzero(fits)[solvable]
    result[fitted] = coefficients[:, 0]
    return result


def interpolate_at(values: np.ndarray, times: np.ndarray, at_s: np.ndarray) -> np.ndarray:
    """Linear interpolation of a (T,) series at sub-frame times (NaN where a neighbour is NaN;
    the end value outside the series)."""
    values = np.asarray(values, np.float64)
    at_s = np.atleast_1d(np.asarray(at_s, np.float64))
    if not len(times):
        return np.full(at_s.shape, np.nan)
    index = np.searchsorted(times, at_s)
    lo = np.clip(index - 1, 0, len(times) - 1)
    hi = np.clip(index, 0, len(times) - 1)
    span = times[hi] - times[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(span > 0, (at_s - times[lo]) / np.where(span > 0, span, 1.0), 0.0)
    return (1.0 - weight) * values[lo] + weight * values[hi]
