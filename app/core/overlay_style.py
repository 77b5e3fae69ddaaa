"""How skeletons look, in one place: the exported overlay video and the app's player share it.

Left and right are ``rhpnet.skeleton``'s blue/orange pair; the trunk and head are light grey.
Points and bones below ``FADE_BELOW`` confidence are drawn faded (partly transparent), below
``HIDE_BELOW`` not at all (``point_opacities`` is that rule, for both renderers). Colours are RGB
(Qt's order); ``bgr`` converts for OpenCV.
"""

from __future__ import annotations

import numpy as np

from rhpnet.skeleton import (
    CENTRE_RGB,
    LEFT_RGB,
    NUM_POSE_KEYPOINTS,
    POSE_LEFT,
    POSE_RIGHT,
    POSE_SKELETON,
    RIGHT_RGB,
)

LABEL_RGB = (255, 255, 255)
FADE_BELOW = 0.5
HIDE_BELOW = 0.05
FADED_OPACITY = 0.35
OTHER_PERSON_OPACITY = 0.6  # people other than the analysed runner

# COCO-17 bones plus the foot segments (ankle-heel-toe), in the pose layout.
SKELETON_EDGES = POSE_SKELETON


def keypoint_side(index: int) -> str:
    """'left', 'right' or 'centre' (the nose) for a pose-layout keypoint index."""
    if index in POSE_LEFT:
        return "left"
    if index in POSE_RIGHT:
        return "right"
    return "centre"


def edge_side(a: int, b: int) -> str:
    """A bone is left or right when both ends are; the shoulder/hip lines and face are centre."""
    side_a, side_b = keypoint_side(a), keypoint_side(b)
    return side_a if side_a == side_b else "centre"


def side_rgb(side: str) -> tuple[int, int, int]:
    return {"left": LEFT_RGB, "right": RIGHT_RGB}.get(side, CENTRE_RGB)


def plot_colour(side: str) -> str:
    """Matplotlib colour of a side's curves in the report figures: the skeleton's own left and
    right, so a PNG or PDF reads like the overlay; anything else black (on white paper)."""
    if side not in ("left", "right"):
        return "black"
    return "#{:02x}{:02x}{:02x}".format(*side_rgb(side))


EDGE_RGB: tuple[tuple[int, int, int], ...] = tuple(
    side_rgb(edge_side(a, b)) for a, b in SKELETON_EDGES
)
KEYPOINT_RGB: tuple[tuple[int, int, int], ...] = tuple(
    side_rgb(keypoint_side(k)) for k in range(NUM_POSE_KEYPOINTS)
)


def point_opacities(points: np.ndarray) -> np.ndarray:
    """(K,) opacity of each (x, y, score) point: 1.0 when confident, ``FADED_OPACITY`` below
    ``FADE_BELOW``, 0.0 (not drawn) below ``HIDE_BELOW`` or when any of x, y, score is missing.

    A bone is drawn at the smaller opacity of its two ends.
    """
    points = np.asarray(points, np.float64)
    score = np.where(np.isfinite(points).all(axis=-1), points[..., 2], -np.inf)
    return np.where(score >= FADE_BELOW, 1.0, np.where(score >= HIDE_BELOW, FADED_OPACITY, 0.0))


def bgr(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return rgb[2], rgb[1], rgb[0]


def line_width(image_height: int, image_width: int) -> int:
    """Bone thickness in pixels that reads well from phone portrait to 4K landscape."""
    return max(2, round(min(image_height, image_width) / 270))
