"""How skeletons look, in one place: the exported overlay video and the app's player share it.

Left and right are a colour-blind-safe blue/orange pair; the trunk and head are light grey.
Points and bones below ``FADE_BELOW`` confidence are drawn faded (partly transparent), below
``HIDE_BELOW`` not at all. Colours are RGB (Qt's order); ``bgr`` converts for OpenCV.
"""

from __future__ import annotations

from rhpnet.skeleton import COCO_LEFT, COCO_RIGHT, COCO_SKELETON

LEFT_RGB = (0, 114, 178)  # blue
RIGHT_RGB = (230, 159, 0)  # orange
CENTRE_RGB = (225, 225, 225)  # light grey
LABEL_RGB = (255, 255, 255)
FADE_BELOW = 0.5
HIDE_BELOW = 0.05
FADED_OPACITY = 0.35
OTHER_PERSON_OPACITY = 0.6  # people other than the analysed runner

SKELETON_EDGES = COCO_SKELETON


def keypoint_side(index: int) -> str:
    """'left', 'right' or 'centre' (the nose) for a COCO keypoint index."""
    if index in COCO_LEFT:
        return "left"
    if index in COCO_RIGHT:
        return "right"
    return "centre"


def edge_side(a: int, b: int) -> str:
    """A bone is left or right when both ends are; the shoulder/hip lines and face are centre."""
    side_a, side_b = keypoint_side(a), keypoint_side(b)
    return side_a if side_a == side_b else "centre"


def side_rgb(side: str) -> tuple[int, int, int]:
    return {"left": LEFT_RGB, "right": RIGHT_RGB}.get(side, CENTRE_RGB)


def bgr(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return rgb[2], rgb[1], rgb[0]


def line_width(image_height: int, image_width: int) -> int:
    """Bone thickness in pixels that reads well from phone portrait to 4K landscape."""
    return max(2, round(min(image_height, image_width) / 270))
