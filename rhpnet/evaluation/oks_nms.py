"""OKS non-maximum suppression of predicted people (HRNet/mmpose ``oks_nms``, docs/rhpnet_spec.md §11.1).

With detector boxes, two boxes on the same person yield two nearly identical poses; COCOeval
would count the weaker one as a false positive. Per image, poses are visited by descending score
and any later pose whose OKS with a kept one exceeds the threshold (0.9) is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rhpnet.oks import keypoint_similarity
from rhpnet.skeleton import COCO_OKS_SIGMAS

DEFAULT_OKS_THRESHOLD = 0.9


def oks_between(
    reference: np.ndarray,
    others: np.ndarray,
    reference_area: float,
    other_areas: np.ndarray,
    sigmas: Sequence[float] = COCO_OKS_SIGMAS,
) -> np.ndarray:
    """OKS of one (K, 2+) pose against (M, K, 2+) poses, using the mean of the two areas."""
    scale = (reference_area + np.asarray(other_areas, np.float64)) / 2 + np.spacing(1)
    return keypoint_similarity(reference[None], others, scale, sigmas).mean(axis=1)


def oks_nms(
    keypoints: np.ndarray,
    scores: np.ndarray,
    areas: np.ndarray,
    threshold: float = DEFAULT_OKS_THRESHOLD,
    sigmas: Sequence[float] = COCO_OKS_SIGMAS,
) -> list[int]:
    """Indices of the poses to keep (highest score first) among (N, K, 3) poses of one image."""
    keypoints = np.asarray(keypoints, np.float64)
    order = list(np.argsort(-np.asarray(scores, np.float64), kind="stable"))
    areas = np.asarray(areas, np.float64)
    keep = []
    while order:
        best, rest = order[0], np.array(order[1:], dtype=np.int64)
        keep.append(int(best))
        if len(rest) == 0:
            break
        overlap = oks_between(keypoints[best], keypoints[rest], areas[best], areas[rest], sigmas)
        order = [int(i) for i in rest[overlap <= threshold]]
    return keep
