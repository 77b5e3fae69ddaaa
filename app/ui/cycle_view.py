"""The angle pane's gait-cycle view, and the toggle between it and the time view.

``CycleView`` draws, for each chosen angle, every stride of each side normalised to 0-100 % of
the gait cycle (``app.core.gait_cycle``): the mean curve with a +-1 SD band per side, toe-off
as a dashed vertical line at its mean %, and the typical-range bands of the metrics read off
that curve. With a comparison session its curves are drawn dashed over the first session's.
``AnglePane`` holds the time view (``AnglePlotPanel``) and the cycle view behind two buttons;
the angle list of the time view chooses the angles of both. Docs: docs/app.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.cycle_export import CycleSession
from app.core.gait_cycle import (
    CYCLE_ANGLES,
    PERCENT,
    CycleRange,
    cycle_label,
    cycle_ranges,
    range_extent_pct,
)
from app.core.kinematics import SIDES
from app.core.overlay_style import LEFT_RGB, RIGHT_RGB
from app.ui.plots import AnglePlotPanel
from app.viewmodels.report_view import ReportView

EMPTY_CYCLE_TEXT = "Gait-cycle curves appear here once foot strikes are found in the video."
SIDE_RGB = {"left": LEFT_RGB, "right": RIGHT_RGB}
MAX_PANELS = 4
SESSION_PEN_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine)


def base_angles(selected: list[str]) -> list[str]:
    """'knee_flexion_left', 'knee_flexion_right', 'trunk_lean' -> ['knee_flexion', 'trunk_lean']."""
    names: list[str] = []
    for name in selected:
        base = name.removesuffix("_left").removesuffix("_right")
        if base in CYCLE_ANGLES and base not in names:
            names.append(base)
    return names[:MAX_PANELS] or ["knee_flexion"]


class CycleView(QWidget):
    """One plot per chosen angle, x = % of the gait cycle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sessions: list[CycleSession] = []
        self.ranges: list[CycleRange] = []
        self.angles: list[str] = ["knee_flexion", "trunk_lean"]
        self.plots: dict[str, pg.PlotItem] = {}
        self._stale = False  # new sessions or angles not drawn yet (the view was hidden)
        self.layout_widget = pg.GraphicsLayoutWidget(self)
        self.layout_widget.setBackground((24, 26, 30))
        self.placeholder = QLabel(EMPTY_CYCLE_TEXT, self)
        self.placeholder.setObjectName("plotPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.layout_widget)
        self.stack.addWidget(self.placeholder)
        self.stack.setCurrentWidget(self.placeholder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

    def set_sessions(self, sessions: list[CycleSession], ranges: list[CycleRange]) -> None:
        self.sessions = [s for s in sessions if s is not None]
        self.ranges = list(ranges)
        self._redraw_when_seen()

    def set_angles(self, angles: list[str]) -> None:
        self.angles = list(angles)
        self._redraw_when_seen()

    def _redraw_when_seen(self) -> None:
        """Redraw now if the view is on screen, else when it is next shown: every hand
        correction brings new cycles, and building the plots costs tens of milliseconds of the
        UI thread that a hidden view does not need to spend."""
        self._stale = not self.isVisible()
        if not self._stale:
            self._redraw()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self._redraw()

    def clear(self) -> None:
        self.set_sessions([], [])

    def _redraw(self) -> None:
        self.layout_widget.clear()
        self.plots = {}
        if not self.sessions or self.sessions[0].cycles.empty:
            self.stack.setCurrentWidget(self.placeholder)
            return
        self.stack.setCurrentWidget(self.layout_widget)
        for angle in self.angles:
            plot = self.layout_widget.addPlot(title=f"{cycle_label(angle)} (°)")
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(x=False, y=False)
            plot.setXRange(0, 100, padding=0)
            plot.setLabel("bottom", "% of gait cycle")
            plot.addLegend(offset=(4, 4), labelTextColor=(220, 220, 220))
            self._draw_ranges(plot, angle)
            for style, session in zip(SESSION_PEN_STYLES, self.sessions, strict=False):
                self._draw_session(plot, angle, session, style)
            self.plots[angle] = plot

    def _draw_ranges(self, plot: pg.PlotItem, angle: str) -> None:
        first = self.sessions[0].cycles
        toe_offs = [v for v in (first.toe_off_pct(s) for s in SIDES) if v is not None]
        toe_off = float(np.mean(toe_offs)) if toe_offs else None
        for cycle_range in self.ranges:
            if cycle_range.angle != angle:
                continue
            start, stop = range_extent_pct(cycle_range, toe_off)
            x = np.array([start, stop])
            low = pg.PlotDataItem(x, np.full(2, cycle_range.low))
            high = pg.PlotDataItem(x, np.full(2, cycle_range.high))
            band = pg.FillBetweenItem(low, high, brush=pg.mkBrush(80, 200, 120, 50))
            plot.addItem(band)

    def _draw_session(
        self, plot: pg.PlotItem, angle: str, session: CycleSession, style: Qt.PenStyle
    ) -> None:
        for side in SIDES:
            curves = session.cycles.curves[angle][side]
            if curves.n == 0:
                continue
            colour = QColor(*SIDE_RGB[side])
            name = f"{side} (n={curves.n})"
            if len(self.sessions) > 1:
                name = f"{session.label} {name}"
            plot.plot(PERCENT, curves.mean, pen=pg.mkPen(colour, width=2, style=style), name=name)
            if curves.n >= 2 and style == Qt.PenStyle.SolidLine:
                low = pg.PlotDataItem(PERCENT, curves.mean - curves.sd)
                high = pg.PlotDataItem(PERCENT, curves.mean + curves.sd)
                shade = QColor(colour)
                shade.setAlpha(60)
                plot.addItem(pg.FillBetweenItem(low, high, brush=pg.mkBrush(shade)))
            toe_off = session.cycles.toe_off_pct(side)
            if toe_off is not None:
                line = pg.InfiniteLine(
                    pos=toe_off, angle=90, pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DotLine)
                )
                plot.addItem(line, ignoreBounds=True)


class AnglePane(QWidget):
    """The angle dock's content: 'Time' and 'Gait cycle' buttons over the two views."""

    def __init__(self, time_view: AnglePlotPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.time_view = time_view
        self.cycle_view = CycleView(self)
        self._view: ReportView | None = None
        self._cycles_stale = False  # a report whose cycles the cycle view has not been given
        self.time_button = QPushButton("Time", self)
        self.cycle_button = QPushButton("Gait cycle", self)
        self.buttons = QButtonGroup(self)
        for button in (self.time_button, self.cycle_button):
            button.setCheckable(True)
            self.buttons.addButton(button)
        self.time_button.setChecked(True)
        self.time_button.setToolTip("Angles against time, synchronised with the video")
        self.cycle_button.setToolTip(
            "Every stride normalised to 0-100 % of the gait cycle: mean ± SD per side"
        )
        self.stack = QStackedWidget(self)
        self.stack.addWidget(time_view)
        self.stack.addWidget(self.cycle_view)
        self.time_button.toggled.connect(self._on_toggle)
        time_view.selectionChanged.connect(
            lambda names: self.cycle_view.set_angles(base_angles(list(names)))
        )
        self.cycle_view.set_angles(base_angles(time_view.selected()))
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(QLabel("View:", self))
        bar.addWidget(self.time_button)
        bar.addWidget(self.cycle_button)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.stack)

    @property
    def showing_cycle(self) -> bool:
        return self.stack.currentWidget() is self.cycle_view

    def show_cycle(self, on: bool = True) -> None:
        (self.cycle_button if on else self.time_button).setChecked(True)

    def _on_toggle(self, time_checked: bool) -> None:
        self.stack.setCurrentWidget(self.time_view if time_checked else self.cycle_view)
        if not time_checked and self._cycles_stale:
            self._show_cycles()

    def set_report(self, view: ReportView | None) -> None:
        """Show a report's cycles (None clears). Resampling every stride of a minute of running
        takes a few hundred milliseconds: it is done when the cycle view is shown, not after
        every hand correction made while the time view is on screen."""
        self._view = view
        self._cycles_stale = True
        if self.showing_cycle or view is None:
            self._show_cycles()

    def _show_cycles(self) -> None:
        self._cycles_stale = False
        view = self._view
        if view is None or view.report is None:
            self.cycle_view.clear()
            return
        session = CycleSession(Path(view.report.video_path).stem, view.gait_cycles())
        self.cycle_view.set_sessions([session], cycle_ranges(view.report.summary))
