"""Draw tracked skeletons onto a BGR frame with OpenCV (for the exported overlay video)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from app.core import overlay_style as style
from rhpnet.skeleton import as_pose_layout

_Draw = Callable[[np.ndarray], None]


def draw_people(
    image: np.ndarray,
    keypoints: np.ndarray,
    track_ids: np.ndarray,
    subject_id: int | None,
) -> np.ndarray:
    """Draw (N, K, 3) pose-layout poses (COCO-17 + feet) onto ``image`` in place and return it.

    The analysed runner is drawn full strength and labelled "runner"; other people thinner and
    faded. Points and bones ``style.point_opacities`` fades are drawn on a copy that is blended
    back; those it hides are left out.
    """
    keypoints = as_pose_layout(keypoints)
    height, width = image.shape[:2]
    base = style.line_width(height, width)
    faded: list[_Draw] = []
    solid: list[_Draw] = []
    for n in sorted(range(len(track_ids)), key=lambda i: track_ids[i] == subject_id):
        is_subject = bool(track_ids[n] == subject_id)
        thickness = base if is_subject else max(1, base // 2)
        points = keypoints[n]
        opacity = style.point_opacities(points)
        for (a, b), rgb in zip(style.SKELETON_EDGES, style.EDGE_RGB, strict=True):
            shown = min(opacity[a], opacity[b])
            if shown == 0.0:
                continue
            op = _line(_pt(points[a]), _pt(points[b]), style.bgr(rgb), thickness)
            (solid if is_subject and shown == 1.0 else faded).append(op)
        for k, rgb in enumerate(style.KEYPOINT_RGB):
            if opacity[k] == 0.0:
                continue
            op = _dot(_pt(points[k]), style.bgr(rgb), thickness + 1)
            (solid if is_subject and opacity[k] == 1.0 else faded).append(op)
        label = _label(points[opacity > 0], int(track_ids[n]), is_subject, base)
        if label is not None:
            (solid if is_subject else faded).append(label)
    if faded:
        layer = image.copy()
        for op in faded:
            op(layer)
        cv2.addWeighted(layer, style.FADED_OPACITY, image, 1 - style.FADED_OPACITY, 0, dst=image)
    for op in solid:
        op(image)
    return image


def _pt(xy) -> tuple[int, int]:
    return int(round(float(xy[0]))), int(round(float(xy[1])))


def _line(p: tuple[int, int], q: tuple[int, int], colour, thickness: int) -> _Draw:
    return lambda canvas: cv2.line(canvas, p, q, colour, thickness, cv2.LINE_AA)


def _dot(p: tuple[int, int], colour, radius: int) -> _Draw:
    def draw(canvas: np.ndarray) -> None:
        cv2.circle(canvas, p, radius, colour, -1, cv2.LINE_AA)
        cv2.circle(canvas, p, radius, (30, 30, 30), 1, cv2.LINE_AA)

    return draw


def _label(visible: np.ndarray, track_id: int, is_subject: bool, base: int) -> _Draw | None:
    """The track's label above its drawn points (None when none is drawn)."""
    if not len(visible):
        return None
    origin = (int(visible[:, 0].min()), max(int(visible[:, 1].min()) - 4 * base, 12))
    text = f"#{track_id} runner" if is_subject else f"#{track_id}"
    scale = 0.35 * base
    font = cv2.FONT_HERSHEY_SIMPLEX
    colour = style.bgr(style.LABEL_RGB)

    def draw(canvas: np.ndarray) -> None:
        cv2.putText(canvas, text, origin, font, scale, (0, 0, 0), base + 1, cv2.LINE_AA)
        cv2.putText(canvas, text, origin, font, scale, colour, max(1, base // 2), cv2.LINE_AA)

    return draw
