"""The docked panels around the player: metrics and steps on the right, angle curves below.

They show one report at a time (``show_report``) or say why there is none (``show_message``);
where each dock sits is remembered with the window's state.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from app.ui.cycle_view import AnglePane
from app.ui.metrics_panel import MetricsPanel
from app.ui.plots import AnglePlotPanel
from app.ui.settings import AppSettings
from app.ui.steps_table import StepsTable
from app.viewmodels.report_view import ReportView
from app.viewmodels.step_rows import step_rows


class Panels:
    """Builds the panels into ``window``'s docks; the ticked angles are kept in ``settings``."""

    def __init__(self, window: QMainWindow, settings: AppSettings) -> None:
        self.window = window
        self.metrics_panel = MetricsPanel(window)
        self.plots = AnglePlotPanel(window)
        chosen = settings.value("plot_angles", list(self.plots.selected()))
        self.plots.set_selected(chosen or self.plots.selected())
        self.plots.selectionChanged.connect(lambda names: settings.set_value("plot_angles", names))
        self.angle_pane = AnglePane(self.plots, window)
        self.steps_table = StepsTable(window)
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.metrics_dock = self._dock("Metrics", "metricsDock", self.metrics_panel, right)
        self.steps_dock = self._dock("Steps", "stepsDock", self.steps_table, right)
        window.tabifyDockWidget(self.metrics_dock, self.steps_dock)
        self.metrics_dock.raise_()
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.plots_dock = self._dock("Angles", "plotsDock", self.angle_pane, bottom)
        window.resizeDocks([self.metrics_dock], [480], Qt.Orientation.Horizontal)
        window.resizeDocks([self.plots_dock], [290], Qt.Orientation.Vertical)

    @property
    def docks(self) -> tuple[QDockWidget, ...]:
        return (self.metrics_dock, self.steps_dock, self.plots_dock)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.window.addDockWidget(area, dock)
        return dock

    def show_message(self, text: str) -> None:
        """No report (yet): the metrics panel says why and the steps table is empty."""
        self.metrics_panel.set_message(text)
        self.steps_table.set_rows([])

    def clear(self, text: str) -> None:
        """A new video: no curves, no cycles, and ``text`` instead of metrics."""
        self.plots.clear()
        self.angle_pane.set_report(None)
        self.show_message(text)

    def show_report(self, view: ReportView, time_s: float) -> None:
        self.plots.set_data(
            view.times_s, view.angles, view.events, view.ranges, view.edited_spans_s()
        )
        self.plots.set_playhead(time_s)
        self.angle_pane.set_report(view)
        self.metrics_panel.set_rows(view.metric_rows, view.summary)
        self.steps_table.set_rows(step_rows(view.report) if view.report is not None else [])
