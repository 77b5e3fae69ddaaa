"""Object keypoint similarity (OKS), the COCO measure of how close two poses are.

One keypoint's term is ``exp(-d^2 / (2 s (2 sigma)^2))``: ``d`` the distance between the two
positions, ``s`` the person's area (the object scale squared) and ``sigma`` the keypoint's COCO
constant (wider for hips than for eyes). The tracker, OKS non-maximum suppression and the
box-prompted BlazePose all average these terms in their own way (over confident keypoints,
over all of them, per candidate), so this module gives the terms and each caller its mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rhpnet.skeleton import COCO_OKS_SIGMAS, POSE_OKS_SIGMAS

# A person's area from its box where no segmentation exists (mmpose; the COCO-format dev sets
# and pseudo-labelled sets use it too).
AREA_FROM_BOX = 0.53


def keypoint_similarity(
    a: np.ndarray,
    b: np.ndarray,
    area: float | np.ndarray,
    sigmas: Sequence[float] = COCO_OKS_SIGMAS,
) -> np.ndarray:
    """Per-keypoint OKS terms between poses ``a`` and ``b`` (``(..., K, 2+)``, broadcast).

    ``area`` broadcasts against the leading dimensions (one scale per pose pair). A keypoint
    missing (NaN) in either pose gives a NaN term: callers mask those out.
    """
    kappa = 2.0 * np.asarray(sigmas, np.float64)
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    squared = ((a[..., :2] - b[..., :2]) ** 2).sum(axis=-1)
    scale = np.asarray(area, np.float64)[..., None]
    return np.exp(-squared / (2.0 * scale * kappa**2))


def keypoint_oks(
    a: np.ndarray, b: np.ndarray, area: np.ndarray, min_score: float, min_common: int
) -> np.ndarray:
    """OKS between pose sets (N, K, 3) and (M, K, 3) over keypoints confident in both.

    K is the pose layout's first K points (COCO-17, or COCO-17 plus the feet).

    ``area`` (M,) is the object scale s^2 of each pose in ``b`` (its box area). Pairs sharing
    fewer than ``min_common`` confident keypoints get NaN (not comparable).
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    scale = np.maximum(np.asarray(area, np.float64), 1.0)[None, :]
    sigmas = POSE_OKS_SIGMAS[: a.shape[-2]]
    similarity = keypoint_similarity(a[:, None], b[None, :], scale, sigmas)  # (N, M, K)
    valid = (a[:, None, :, 2] >= min_score) & (b[None, :, :, 2] >= min_score)
    valid &= np.isfinite(similarity)
    count = valid.sum(-1)
    oks = np.where(valid, similarity, 0.0).sum(-1) / np.maximum(count, 1)
    return np.where(count >= min_common, oks, np.nan)
