"""The status bar: the session's last message, and the running analysis' progress and Cancel.

The bar is redrawn by its own 4 Hz clock from ``VideoSession.progress``, not at every report
of the worker: ``QProgressBar.setValue`` repaints synchronously (the window's pending updates
with it), which at 30 reports a second would be needless UI work.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from app.ui.clock import format_clock
from app.ui.session import VideoSession
from app.ui.workers import remaining_seconds

REDRAW_MS = 250


class AnalysisStatus(QObject):
    """Widgets of the status bar that follow one session."""

    def __init__(self, session: VideoSession, bar: QStatusBar) -> None:
        super().__init__(bar)
        self.session = session
        self.message = QLabel("Ready", bar)
        self.progress_bar = QProgressBar(bar)
        self.progress_bar.setFixedWidth(260)
        self.time_label = QLabel("", bar)
        self.cancel_button = QPushButton("Cancel", bar)
        self.cancel_button.clicked.connect(session.cancel_analysis)
        bar.addWidget(self.message, 1)
        bar.addPermanentWidget(self.time_label)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)
        self._clock = QTimer(self)
        self._clock.setInterval(REDRAW_MS)
        self._clock.timeout.connect(self.redraw)
        session.status.connect(self.message.setText)
        session.analysisStarted.connect(self._show)
        session.progressChanged.connect(self.redraw)
        session.analysisStopped.connect(self._hide)
        self._set_visible(False)

    def _set_visible(self, visible: bool) -> None:
        for widget in (self.progress_bar, self.time_label, self.cancel_button):
            widget.setVisible(visible)

    def _show(self) -> None:
        self.progress_bar.setRange(0, 0)  # busy until the first report says how many frames
        self._set_visible(True)
        self._clock.start()

    def _hide(self) -> None:
        self._clock.stop()
        self._set_visible(False)

    def redraw(self) -> None:
        task = self.session.analysis_task
        if task is None or not task.started_at:
            return
        done, total = self.session.progress
        if total > 0:
            self.progress_bar.setFormat("%v / %m frames")
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)
        elapsed = time.monotonic() - task.started_at
        remaining = remaining_seconds(elapsed, done, total)
        text = f"elapsed {format_clock(elapsed)}"
        if remaining is not None:
            text += f", about {format_clock(remaining)} left"
        self.time_label.setText(text)
