"""Skeleton overlay drawn with QPainter over the video frame.

Keypoints stay in image pixels; the player passes the image-to-widget scale and offset so lines
keep a constant on-screen width whatever the zoom. Colours come from the one skeleton style
shared with the exported overlay video, so what a coach sees in the app and in the exported
clip is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from app.core.overlay_style import (
    EDGE_RGB,
    KEYPOINT_RGB,
    OTHER_PERSON_OPACITY,
    SKELETON_EDGES,
    point_opacities,
    side_rgb,
)
from app.viewmodels.items import AngleLabel, PersonPose


@dataclass
class OverlayOptions:
    show_skeleton: bool = True
    show_angles: bool = True
    show_others: bool = True
    line_width: float = 3.0
    point_radius: float = 4.0
    labels: list[AngleLabel] = field(default_factory=list)


def _qcolor(rgb: tuple[int, int, int], opacity: float) -> QColor:
    color = QColor(*rgb)
    color.setAlphaF(float(np.clip(opacity, 0.0, 1.0)))
    return color


def draw_overlay(
    painter: QPainter,
    people: list[PersonPose],
    scale: float,
    offset: QPointF,
    options: OverlayOptions,
) -> None:
    """Draw every person's skeleton (subject on top, others dimmer) and the angle labels."""
    if not options.show_skeleton:
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    ordered = sorted(people, key=lambda p: p.is_subject)
    for person in ordered:
        if not person.is_subject and not options.show_others:
            continue
        _draw_person(painter, person, scale, offset, options)
    if options.show_angles:
        _draw_labels(painter, options.labels, scale, offset)
    painter.restore()


def _draw_person(
    painter: QPainter, person: PersonPose, scale: float, offset: QPointF, options: OverlayOptions
) -> None:
    xy = person.keypoints[:, :2] * scale + np.array([offset.x(), offset.y()])
    opacity = point_opacities(person.keypoints)
    emphasis = 1.0 if person.is_subject else OTHER_PERSON_OPACITY
    width = options.line_width if person.is_subject else max(1.5, options.line_width * 0.6)
    if not person.is_subject:
        _draw_box(painter, person, scale, offset)
    for (a, b), rgb in zip(SKELETON_EDGES, EDGE_RGB, strict=True):
        shown = min(opacity[a], opacity[b])
        if shown == 0.0:
            continue
        pen = QPen(_qcolor(rgb, shown * emphasis), width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(*xy[a]), QPointF(*xy[b]))
    radius = options.point_radius if person.is_subject else options.point_radius * 0.7
    for point, rgb, shown in zip(xy, KEYPOINT_RGB, opacity, strict=True):
        if shown == 0.0:
            continue
        painter.setPen(QPen(_qcolor((20, 20, 20), shown * emphasis), 1.0))
        painter.setBrush(_qcolor(rgb, shown * emphasis))
        painter.drawEllipse(QPointF(*point), radius, radius)


def _draw_box(painter: QPainter, person: PersonPose, scale: float, offset: QPointF) -> None:
    box = person.box
    if not np.isfinite(box).all():
        return
    pen = QPen(QColor(220, 220, 220, 120), 1.0, Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    rect = QRectF(
        box[0] * scale + offset.x(), box[1] * scale + offset.y(), box[2] * scale, box[3] * scale
    )
    painter.drawRect(rect)
    painter.setPen(QColor(230, 230, 230, 170))
    painter.drawText(rect.topLeft() + QPointF(3, -4), f"#{person.track_id}  (click to analyse)")


def _draw_labels(
    painter: QPainter, labels: list[AngleLabel], scale: float, offset: QPointF
) -> None:
    font = QFont(painter.font())
    font.setPointSizeF(9.5)
    font.setBold(True)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    for label in labels:
        if not (np.isfinite(label.x) and np.isfinite(label.y)):
            continue
        anchor = QPointF(label.x * scale + offset.x(), label.y * scale + offset.y())
        dx = -metrics.horizontalAdvance(label.text) - 14 if label.side == "right" else 10
        rect = QRectF(
            anchor.x() + dx - 4,
            anchor.y() - metrics.height() / 2 - 2,
            metrics.horizontalAdvance(label.text) + 8,
            metrics.height() + 4,
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 160))
        painter.drawRoundedRect(rect, 4, 4)
        painter.setPen(_qcolor(side_rgb(label.side), 1.0))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label.text)
