"""Pictures of what the network sees: augmented crops with keypoints, and prediction overlays.

Used by ``train preview`` (a PNG grid a user can inspect before spending GPU days) and by the
trainer's TensorBoard images (predicted vs target keypoints on validation crops).
Left keypoints are drawn in blue, right ones in orange, centre ones in light grey (the app's
colours), so a flip whose labels were not swapped shows up at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from rhpnet.skeleton import CENTRE_RGB, COCO_KEYPOINT_NAMES, COCO_SKELETON, LEFT_RGB, RIGHT_RGB

LEFT_BGR = LEFT_RGB[::-1]
RIGHT_BGR = RIGHT_RGB[::-1]
CENTRE_BGR = CENTRE_RGB[::-1]
PREDICTION_BGR = (0, 0, 255)
TARGET_BGR = (0, 220, 0)

# MPII bones by name (display only; MPII has no official skeleton list).
_MPII_BONES = (
    ("right_ankle", "right_knee"), ("right_knee", "right_hip"), ("right_hip", "pelvis"),
    ("left_ankle", "left_knee"), ("left_knee", "left_hip"), ("left_hip", "pelvis"),
    ("pelvis", "thorax"), ("thorax", "upper_neck"), ("upper_neck", "head_top"),
    ("right_wrist", "right_elbow"), ("right_elbow", "right_shoulder"),
    ("right_shoulder", "thorax"), ("left_wrist", "left_elbow"),
    ("left_elbow", "left_shoulder"), ("left_shoulder", "thorax"),
)  # fmt: skip


def skeleton_edges(keypoint_names: Sequence[str]) -> list[tuple[int, int]]:
    """Bones to draw between keypoints of this set (COCO's table, MPII's by name)."""
    names = list(keypoint_names)
    if tuple(names) == COCO_KEYPOINT_NAMES:
        return list(COCO_SKELETON)
    return [(names.index(a), names.index(b)) for a, b in _MPII_BONES if a in names and b in names]


def side_colour(name: str) -> tuple[int, int, int]:
    if name.startswith("left_"):
        return LEFT_BGR
    if name.startswith("right_"):
        return RIGHT_BGR
    return CENTRE_BGR


def draw_pose(
    image_bgr: np.ndarray,
    keypoints: np.ndarray,
    keypoint_names: Sequence[str],
    *,
    colour: tuple[int, int, int] | None = None,
    radius: int = 2,
) -> np.ndarray:
    """Draw (K, 3) keypoints (x, y, weight/score > 0 = drawn) and their bones on a copy."""
    canvas = image_bgr.copy()
    shown = keypoints[:, 2] > 0
    for a, b in skeleton_edges(keypoint_names):
        if shown[a] and shown[b]:
            pa = tuple(int(round(v)) for v in keypoints[a, :2])
            pb = tuple(int(round(v)) for v in keypoints[b, :2])
            cv2.line(canvas, pa, pb, colour or side_colour(keypoint_names[b]), 1, cv2.LINE_AA)
    for k in np.flatnonzero(shown):
        point = tuple(int(round(v)) for v in keypoints[k, :2])
        cv2.circle(canvas, point, radius, colour or side_colour(keypoint_names[k]), -1, cv2.LINE_AA)
    return canvas


def overlay_heatmaps(crop_bgr: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
    """Blend the per-pixel maximum of the target heatmaps over the crop (red = high)."""
    peak = heatmaps.max(axis=0) if len(heatmaps) else np.zeros(heatmaps.shape[-2:], np.float32)
    peak = cv2.resize(peak, (crop_bgr.shape[1], crop_bgr.shape[0]), interpolation=cv2.INTER_LINEAR)
    heat = cv2.applyColorMap(np.clip(peak * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)
    alpha = (np.clip(peak, 0, 1) * 0.6)[..., None]
    return (crop_bgr * (1 - alpha) + heat * alpha).astype(np.uint8)


def tile(images: Sequence[np.ndarray], columns: int, gap: int = 4) -> np.ndarray:
    """Arrange equally sized BGR images in a grid with a dark gap between them."""
    height, width = images[0].shape[:2]
    rows = (len(images) + columns - 1) // columns
    grid = np.full(
        (rows * height + (rows + 1) * gap, columns * width + (columns + 1) * gap, 3), 32, np.uint8
    )
    for i, image in enumerate(images):
        r, c = divmod(i, columns)
        y, x = gap + r * (height + gap), gap + c * (width + gap)
        grid[y : y + height, x : x + width] = image
    return grid


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    if factor <= 1:
        return image
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST)
