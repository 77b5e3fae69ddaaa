"""A thin strip under the player's scrubber that marks what happens where in the clip.

Foot strikes are short white ticks; stretches whose points a hand edit changed are amber bands
and events placed by hand amber ticks (docs/corrections.md), so a coach walking through a clip
sees which parts of it rest on edits before trusting a number read there.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSlider, QStyle, QStyleOptionSlider, QWidget

from app.core.corrections import edited_spans
from app.ui.plots import EDIT_RGB

STRIP_HEIGHT = 8


class TimelineMarks(QWidget):
    """Marks aligned with a ``QSlider``'s groove (its frame index is the slider's value)."""

    def __init__(self, slider: QSlider, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = slider
        self.setFixedHeight(STRIP_HEIGHT)
        self.frame_count = 0
        self.strike_frames = np.zeros(0, dtype=int)
        self.manual_frames = np.zeros(0, dtype=int)
        self.edited: list[tuple[int, int]] = []
        self.setToolTip("white: foot strikes · amber: edited by hand")

    def set_marks(
        self,
        frame_count: int,
        strike_frames: np.ndarray,
        edited_frames: np.ndarray | None = None,
        manual_frames: np.ndarray | None = None,
    ) -> None:
        self.frame_count = int(frame_count)
        self.strike_frames = np.asarray(strike_frames, dtype=int)
        self.manual_frames = np.asarray(
            manual_frames if manual_frames is not None else [], dtype=int
        )
        self.edited = [] if edited_frames is None else edited_spans(edited_frames)
        self.update()

    def x_of(self, frame: float) -> float:
        """Horizontal position of a frame, where the slider's handle centre sits for it."""
        option = QStyleOptionSlider()
        self.slider.initStyleOption(option)
        style = self.slider.style()
        handle = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self.slider
        )
        half = handle.width() / 2.0
        span = max(self.width() - 2.0 * half, 1.0)
        last = max(self.frame_count - 1, 1)
        return half + span * float(frame) / last

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.frame_count <= 0:
            return
        painter = QPainter(self)
        height = float(self.height())
        for first, last in self.edited:
            left, right = self.x_of(first - 0.5), self.x_of(last + 0.5)
            painter.fillRect(
                QRectF(left, 0, max(right - left, 2.0), height), QColor(*EDIT_RGB, 150)
            )
        painter.setPen(QColor(235, 235, 235))
        for frame in self.strike_frames:
            x = self.x_of(frame)
            painter.drawLine(int(round(x)), 2, int(round(x)), int(height))
        painter.setPen(QColor(*EDIT_RGB))
        for frame in self.manual_frames:
            x = self.x_of(frame)
            painter.drawLine(int(round(x)), 0, int(round(x)), int(height))
        painter.end()
