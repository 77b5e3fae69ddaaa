"""Angle curves over time (pyqtgraph) with a playhead synchronised both ways with the player.

Left-side angles use the skeleton's left colour family and right-side angles the right one, so
the curves read like the overlay. Left-dragging or clicking in the plot scrubs the video; the
mouse wheel zooms the time axis and right-drag zooms a region (pyqtgraph's defaults).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.kinematics import ANGLE_DEFINITIONS
from app.core.overlay_style import CENTRE_RGB, LEFT_RGB, RIGHT_RGB
from app.viewmodels.items import EventMarker, angle_side

DEFAULT_ANGLES = ("knee_flexion_left", "knee_flexion_right", "trunk_lean")
EMPTY_TEXT = "The joint angles are plotted here once the video is analysed."
EDIT_RGB = (255, 190, 60)  # hand edits: the shaded frames and the outline of placed events
_JOINT_SHADE = {"knee": 100, "hip": 135, "thigh": 115, "shank": 155, "shoulder": 125, "elbow": 170}


def angle_title(name: str) -> str:
    """'knee_flexion_left' -> 'Knee flexion (left)', as the kinematics define it (degrees)."""
    definition = ANGLE_DEFINITIONS.get(name)
    return definition.label if definition is not None else name


def angle_color(name: str) -> QColor:
    side = angle_side(name)
    rgb = {"left": LEFT_RGB, "right": RIGHT_RGB, "centre": (120, 220, 140)}[side]
    color = QColor(*rgb)
    for joint, shade in _JOINT_SHADE.items():
        if joint in name:
            return color.lighter(shade)
    return color


MARKER_GRAB_PX = 8  # a press this close to an event marker picks the marker up


class _ScrubViewBox(pg.ViewBox):
    """Left click/drag scrubs the video instead of panning; a left drag that starts on an event
    marker moves that event (the video follows it); other buttons keep their zoom."""

    def __init__(self, panel: AnglePlotPanel) -> None:
        super().__init__()
        self._panel = panel
        self._grabbed: EventMarker | None = None
        self.setMouseMode(pg.ViewBox.RectMode)

    def mouseClickEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            event.accept()
            self._panel.request_seek(self.mapSceneToView(event.scenePos()).x())
        else:
            super().mouseClickEvent(event)

    def mouseDragEvent(self, event, axis=None) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(event, axis)
            return
        event.accept()
        if event.isStart():
            self._grabbed = self._panel.marker_at(event.buttonDownScenePos())
        time_s = self.mapSceneToView(event.scenePos()).x()
        self._panel.request_seek(time_s)
        if event.isFinish() and self._grabbed is not None:
            marker, self._grabbed = self._grabbed, None
            self._panel.drop_marker(marker, time_s)


class AnglePlotPanel(QWidget):
    """A checkable list of angles beside their curves. ``seekRequested(time_s)`` from the plot."""

    seekRequested = Signal(float)
    selectionChanged = Signal(list)
    # An event marker dragged to another frame: side, kind ("ic"/"to"), from frame, to frame
    eventDragged = Signal(str, str, int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.times_s = np.zeros(0)
        self.angles: dict[str, np.ndarray] = {}
        self.events: list[EventMarker] = []
        self.ranges: dict[str, list[tuple[float, float]]] = {}
        self.edited_spans_s: list[tuple[float, float]] = []
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.regions: list[pg.LinearRegionItem] = []
        self.markers: list[pg.ScatterPlotItem] = []
        self._selected: list[str] = list(DEFAULT_ANGLES)

        self.angle_list = QListWidget(self)
        self.angle_list.setObjectName("angleList")
        self.angle_list.setMinimumWidth(170)
        self.angle_list.itemChanged.connect(self._on_item_changed)
        hint = QLabel("Angles (°)", self)
        hint.setObjectName("panelTitle")
        list_box = QWidget(self)
        list_layout = QVBoxLayout(list_box)
        list_layout.setContentsMargins(0, 0, 0, 0)
        list_layout.addWidget(hint)
        list_layout.addWidget(self.angle_list)

        pg.setConfigOptions(antialias=True)
        self.view_box = _ScrubViewBox(self)
        self.plot_widget = pg.PlotWidget(viewBox=self.view_box, background=(24, 26, 30))
        self.plot = self.plot_widget.getPlotItem()
        # No grid: pyqtgraph draws it with the axes across the whole view, so every playhead
        # move would repaint both axes (the dominant cost of a frame during playback).
        self.plot.showGrid(x=False, y=False)
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.setLabel("left", "angle (°)")
        self.plot.setMenuEnabled(False)
        self.legend = self.plot.addLegend(offset=(8, 8), labelTextColor=(220, 220, 220))
        self.playhead = pg.InfiniteLine(
            pos=0.0,
            angle=90,
            movable=True,
            pen=pg.mkPen((255, 255, 255), width=1.5),
            hoverPen=pg.mkPen((255, 230, 80), width=3),
        )
        self.playhead.setZValue(100)
        self.playhead.sigDragged.connect(lambda line: self.request_seek(line.value()))
        self.plot.addItem(self.playhead, ignoreBounds=True)

        # Without curves, a sentence instead of empty axes (whose 0-1 ranges mean nothing).
        self.placeholder = QLabel(EMPTY_TEXT, self)
        self.placeholder.setObjectName("plotPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.plot_stack = QStackedWidget(self)
        self.plot_stack.addWidget(self.plot_widget)
        self.plot_stack.addWidget(self.placeholder)
        self.plot_stack.setCurrentWidget(self.placeholder)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(list_box)
        splitter.addWidget(self.plot_stack)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([180, 800])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

    # --- data ---------------------------------------------------------------------------
    def set_data(
        self,
        times_s: np.ndarray,
        angles: dict[str, np.ndarray],
        events: list[EventMarker] | None = None,
        ranges: dict[str, list[tuple[float, float]]] | None = None,
        edited_spans_s: list[tuple[float, float]] | None = None,
    ) -> None:
        """Curves over ``times_s``; ``edited_spans_s`` (start, end) times resting on hand edits."""
        self.times_s = np.asarray(times_s, dtype=np.float64)
        self.edited_spans_s = list(edited_spans_s or [])
        self.angles = {k: np.asarray(v, dtype=np.float64) for k, v in angles.items()}
        self.events = list(events or [])
        self.ranges = dict(ranges or {})
        self.angle_list.blockSignals(True)
        self.angle_list.clear()
        for name in self.angles:
            item = QListWidgetItem(angle_title(name))
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if name in self._selected else Qt.CheckState.Unchecked
            )
            item.setForeground(angle_color(name))
            self.angle_list.addItem(item)
        self.angle_list.blockSignals(False)
        self._redraw()

    def clear(self) -> None:
        self.set_data(np.zeros(0), {}, [], {}, [])

    def selected(self) -> list[str]:
        return (
            [n for n in self._selected if n in self.angles] if self.angles else list(self._selected)
        )

    def set_selected(self, names: list[str]) -> None:
        self._selected = list(names)
        self.angle_list.blockSignals(True)
        for row in range(self.angle_list.count()):
            item = self.angle_list.item(row)
            name = item.data(Qt.ItemDataRole.UserRole)
            item.setCheckState(Qt.CheckState.Checked if name in names else Qt.CheckState.Unchecked)
        self.angle_list.blockSignals(False)
        self._redraw()

    def set_playhead(self, time_s: float) -> None:
        if not self.playhead.moving:
            self.playhead.blockSignals(True)
            self.playhead.setValue(float(time_s))
            self.playhead.blockSignals(False)

    def request_seek(self, time_s: float) -> None:
        if len(self.times_s) == 0 or not np.isfinite(time_s):
            return
        time_s = float(np.clip(time_s, self.times_s[0], self.times_s[-1]))
        self.set_playhead(time_s)
        self.seekRequested.emit(time_s)

    # --- event markers ------------------------------------------------------------------
    def marker_at(self, scene_pos) -> EventMarker | None:
        """The event whose marker on a shown curve lies within ``MARKER_GRAB_PX`` of a scene
        point (the nearest one), or None."""
        best: tuple[float, EventMarker] | None = None
        for name in self.selected():
            side, values = angle_side(name), self.angles[name]
            for marker in self.events:
                if side != "centre" and marker.side != side:
                    continue
                if not 0 <= marker.frame < len(values) or not np.isfinite(values[marker.frame]):
                    continue
                point = self.view_box.mapViewToScene(QPointF(marker.time_s, values[marker.frame]))
                distance = float(np.hypot(point.x() - scene_pos.x(), point.y() - scene_pos.y()))
                if distance <= MARKER_GRAB_PX and (best is None or distance < best[0]):
                    best = (distance, marker)
        return None if best is None else best[1]

    def drop_marker(self, marker: EventMarker, time_s: float) -> None:
        """A dragged marker let go at ``time_s``: ask to move its event to the nearest frame."""
        if len(self.times_s) == 0 or not np.isfinite(time_s):
            return
        frame = int(np.argmin(np.abs(self.times_s - time_s)))
        if frame != marker.frame:
            self.eventDragged.emit(marker.side, marker.kind, marker.frame, frame)

    # --- drawing ------------------------------------------------------------------------
    def _on_item_changed(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.ItemDataRole.UserRole)
        checked = item.checkState() == Qt.CheckState.Checked
        if checked and name not in self._selected:
            self._selected.append(name)
        elif not checked and name in self._selected:
            self._selected.remove(name)
        self._redraw()
        self.selectionChanged.emit(list(self._selected))

    def _redraw(self) -> None:
        for item in [*self.curves.values(), *self.regions, *self.markers]:
            self.plot.removeItem(item)
        self.curves, self.regions, self.markers = {}, [], []
        self.legend.clear()
        self.plot_stack.setCurrentWidget(
            self.plot_widget if len(self.times_s) else self.placeholder
        )
        if len(self.times_s) == 0:
            return
        bands = {band for name in self.selected() for band in self.ranges.get(name, [])}
        for low, high in sorted(bands):
            region = pg.LinearRegionItem(
                values=(low, high),
                orientation="horizontal",
                movable=False,
                brush=QColor(120, 200, 140, 34),
                pen=pg.mkPen(QColor(120, 200, 140, 90), width=1, style=Qt.PenStyle.DotLine),
            )
            region.setZValue(-10)
            region.setToolTip(f"typical range {low:g}–{high:g}°")
            self.plot.addItem(region)
            self.regions.append(region)
        half_frame = 0.5 * float(np.median(np.diff(self.times_s))) if len(self.times_s) > 1 else 0
        for start, end in self.edited_spans_s:
            region = pg.LinearRegionItem(
                values=(start - half_frame, end + half_frame),
                movable=False,
                brush=QColor(*EDIT_RGB, 40),
                pen=pg.mkPen(QColor(*EDIT_RGB, 120), width=1),
            )
            region.setZValue(-5)
            region.setToolTip("edited by hand")
            self.plot.addItem(region)
            self.regions.append(region)
        for name in self.selected():
            values = self.angles[name]
            color = angle_color(name)
            curve = self.plot.plot(
                self.times_s,
                values,
                pen=pg.mkPen(color, width=2),
                name=angle_title(name),
                connect="finite",
            )
            # Stroked as separate segments: Qt strokes one long antialiased 2-pixel path of a
            # minute's 3600 frames in about 170 ms on every repaint (after every hand
            # correction), the segments in about 40 ms, and they look the same.
            curve.curve.setSegmentedLineMode("on")
            self.curves[name] = curve
            self._add_event_markers(name, values, color)
        self.plot.enableAutoRange()
        self.plot.autoRange()
        # Fixed ranges from here on: a moving playhead must not re-evaluate the auto range
        # (that repaints the axes at every frame); the wheel and right-drag still zoom.
        self.plot.disableAutoRange()

    def _add_event_markers(self, name: str, values: np.ndarray, color: QColor) -> None:
        side = angle_side(name)
        for kind, symbol in (("ic", "t"), ("to", "o")):
            chosen = [
                e
                for e in self.events
                if e.kind == kind and (side == "centre" or e.side == side)
                if 0 <= e.frame < len(values) and np.isfinite(values[e.frame])
            ]
            if not chosen:
                continue
            frames = np.array([e.frame for e in chosen], dtype=int)
            manual = np.array([e.manual for e in chosen])
            fill = (
                QColor(color)
                if kind == "ic"
                else QColor(CENTRE_RGB[0], CENTRE_RGB[1], CENTRE_RGB[2])
            )
            outline = pg.mkPen((15, 15, 15), width=1)
            placed = pg.mkPen(EDIT_RGB, width=2.5)
            scatter = pg.ScatterPlotItem(
                self.times_s[frames],
                values[frames],
                symbol=symbol,
                size=np.where(manual, 13, 10),
                brush=fill,
                pen=[placed if m else outline for m in manual],
            )
            scatter.setZValue(50)
            self.plot.addItem(scatter)
            self.markers.append(scatter)
