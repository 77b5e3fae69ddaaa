"""The skeleton colour scheme, in one place for every renderer (app overlay, exported video).

Left limbs are blue, right limbs orange, the head and the shoulder/hip lines neutral: a coach
must tell the sides apart at a glance, in the app and in the exported clip alike. Points the
model is unsure of are drawn faded rather than hidden, so the user sees where tracking is weak.
Colours are RGB tuples so OpenCV/PyAV writers and Qt can share them.
"""

from __future__ import annotations

import math

from rhpnet.skeleton import COCO_LEFT, COCO_RIGHT

LEFT_RGB: tuple[int, int, int] = (46, 155, 255)
RIGHT_RGB: tuple[int, int, int] = (255, 128, 32)
CENTRE_RGB: tuple[int, int, int] = (235, 235, 235)

# Below this score a point is not drawn at all; between the two it fades in.
MIN_DRAW_SCORE = 0.05
FULL_OPACITY_SCORE = 0.6
MIN_OPACITY = 0.25


def keypoint_side(index: int) -> str:
    """'left', 'right' or 'centre' for a COCO keypoint index."""
    if index in COCO_LEFT:
        return "left"
    if index in COCO_RIGHT:
        return "right"
    return "centre"


_SIDE_RGB = {"left": LEFT_RGB, "right": RIGHT_RGB, "centre": CENTRE_RGB}


def keypoint_color(index: int) -> tuple[int, int, int]:
    return _SIDE_RGB[keypoint_side(index)]


def bone_color(a: int, b: int) -> tuple[int, int, int]:
    """A bone takes its side's colour only when both ends are on that side."""
    side_a, side_b = keypoint_side(a), keypoint_side(b)
    return _SIDE_RGB[side_a] if side_a == side_b else CENTRE_RGB


def score_opacity(score: float) -> float:
    """Opacity in [MIN_OPACITY, 1] rising linearly with confidence; 0 for missing points."""
    if score is None or not math.isfinite(score) or score < MIN_DRAW_SCORE:
        return 0.0
    ramp = (score - MIN_DRAW_SCORE) / (FULL_OPACITY_SCORE - MIN_DRAW_SCORE)
    return MIN_OPACITY + (1.0 - MIN_OPACITY) * min(1.0, max(0.0, ramp))
