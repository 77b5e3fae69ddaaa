"""Synthetic COCO-17 people for tracking and detection tests."""

from __future__ import annotations

import numpy as np

from rhpnet.poses import FramePoses

# A standing person in a unit box (x right, y down), COCO order.
TEMPLATE = np.array(
    [
        [0.50, 0.08], [0.53, 0.06], [0.47, 0.06], [0.56, 0.07], [0.44, 0.07],
        [0.65, 0.22], [0.35, 0.22], [0.70, 0.38], [0.30, 0.38], [0.72, 0.52], [0.28, 0.52],
        [0.60, 0.52], [0.40, 0.52], [0.62, 0.75], [0.38, 0.75], [0.63, 0.97], [0.37, 0.97],
    ]
)  # fmt: skip


def person(
    x: float, y: float, w: float, h: float, phase: float = 0.0, swing: float = 0.0
) -> np.ndarray:
    """(17, 3) keypoints of a person in box (x, y, w, h); ``swing`` moves the legs and arms."""
    points = TEMPLATE.copy()
    legs = np.array([13, 14, 15, 16])
    arms = np.array([7, 8, 9, 10])
    sign = np.array([1, -1, 1, -1])
    points[legs, 0] += swing * np.sin(phase) * sign
    points[arms, 0] -= swing * np.sin(phase) * sign
    xy = points * [w, h] + [x, y]
    return np.concatenate([xy, np.ones((17, 1))], axis=1)


RED_AND_BLUE = ((0, 0, 220), (200, 40, 0))  # BGR: red shirt, blue shorts
WHITE_AND_BLACK = ((235, 235, 235), (20, 20, 20))


def poses_of(people: list[np.ndarray]) -> FramePoses:
    """The people as one frame's poses, each boxed by their keypoints' extent."""
    keypoints = np.stack(people).astype(np.float32)
    lo, hi = keypoints[:, :, :2].min(1), keypoints[:, :, :2].max(1)
    return FramePoses(keypoints, np.concatenate([lo, hi - lo], axis=1), np.ones(len(people)))


def dressed(image: np.ndarray, keypoints: np.ndarray, clothes) -> None:
    """Paint a shirt over the box from shoulders to hips and shorts from hips to knees."""
    shirt, shorts = clothes
    xs, ys = keypoints[:, 0], keypoints[:, 1]
    left, right = int(xs.min()), int(xs.max()) + 1
    shoulder, hip, knee = (int(ys[[a, b]].mean()) for a, b in ((5, 6), (11, 12), (13, 14)))
    image[shoulder:hip, left:right] = shirt
    image[hip:knee, left:right] = shorts
