"""Person box geometry shared by estimators and tracking (boxes are x, y, width, height)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def extent_boxes(
    points_xy: np.ndarray,
    grow: Sequence[float] = (0.0, 0.0, 0.0, 0.0),
    image_size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Boxes (..., 4) around points (..., P, 2), grown and optionally clipped to the image.

    ``grow`` gives the margins (left, top, right, bottom) as fractions of the points' extent:
    keypoints stop short of the body's outline (no skull top, no toes), so person boxes are
    their extent plus a margin. An extent under one pixel counts as one, so even a degenerate
    set of points gets a margin. ``image_size`` (width, height) clips the box to the image.
    """
    points = np.asarray(points_xy, dtype=np.float64)
    low, high = points.min(axis=-2), points.max(axis=-2)
    extent = np.maximum(high - low, 1.0)
    left, top, right, bottom = grow
    start = low - extent * [left, top]
    end = high + extent * [right, bottom]
    if image_size is not None:
        start = np.clip(start, 0, image_size)
        end = np.clip(end, 0, image_size)
    return np.concatenate([start, end - start], axis=-1)


def box_intersection(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Area shared by boxes (x, y, w, h): (N, 4) x (M, 4) -> (N, M)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    left = np.maximum(a[:, None, 0], b[None, :, 0])
    top = np.maximum(a[:, None, 1], b[None, :, 1])
    right = np.minimum((a[:, 0] + a[:, 2])[:, None], (b[:, 0] + b[:, 2])[None])
    bottom = np.minimum((a[:, 1] + a[:, 3])[:, None], (b[:, 1] + b[:, 3])[None])
    return np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union between boxes (x, y, w, h): (N, 4) x (M, 4) -> (N, M)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    inter = box_intersection(a, b)
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)
