"""Compare two sessions: players side by side, synced at a strike, stepped stride by stride.

The window shows session A (the video open in the main window) and session B (a second video
or sidecar) in two players with their skeletons. The user picks which foot and which of each
session's strikes to line up; "Sync" puts both players on those strikes, and the stride buttons
move both to their next (or previous) strike of that foot, so the same moment of the stride is
on screen in both. Below: both sessions' gait-cycle curves over each other and the metrics
table with both values, the difference and whether it exceeds the step-to-step spread
(``app.core.compare``). "Report PDF…" writes the athlete's report with this comparison.
Docs: docs/compare.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.analysis import Analysis
from app.core.compare import ComparisonRow, compare_reports, comparison_sessions
from app.core.cycle_export import CycleSession
from app.core.gait_cycle import cycle_ranges
from app.core.running_report import RunningReport
from app.ui.cycle_view import CycleView
from app.ui.player import PlayerWidget
from app.ui.session import VideoSession
from app.viewmodels.items import PersonPose

TABLE_COLUMNS = ("Metric", "A", "B", "B - A", "Step spread", "Difference")


@dataclass
class ComparedRun:
    """One side of the comparison: its analysis, report and video."""

    analysis: Analysis
    report: RunningReport

    @property
    def name(self) -> str:
        return Path(self.analysis.video.path).name

    def strikes(self, side: str) -> list[int]:
        return [e.frame for e in self.report.gait.of(side, "IC")]

    def overlay(self, index: int) -> tuple[list[PersonPose], list]:
        track = self.analysis.subject()
        if track is None or index >= self.analysis.frame_count:
            return [], []
        if not np.isfinite(track.scores[index]):
            return [], []
        return [PersonPose(track.track_id, track.keypoints[index], track.boxes[index], True)], []


def _cell(value: float | None, decimals: int, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:+.{decimals}f}" if signed else f"{value:.{decimals}f}"


class CompareWindow(QWidget):
    """Top-level window comparing session ``a`` with session ``b``."""

    def __init__(self, a: ComparedRun, b: ComparedRun, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(f"Compare: {a.name} vs {b.name} — RHPNet Coach")
        self.sessions = (a, b)
        self.players = (PlayerWidget(self), PlayerWidget(self))
        self.rows: list[ComparisonRow] = compare_reports(a.report, b.report)
        self.stride_offset = 0
        self._tasks: set = set()
        from app.ui.tasks import open_reader

        players_row = QSplitter(Qt.Orientation.Horizontal, self)
        self.titles = []
        for session, player in zip(self.sessions, self.players, strict=True):
            box = QWidget(self)
            box_layout = QVBoxLayout(box)
            box_layout.setContentsMargins(0, 0, 0, 0)
            title = QLabel(f"{'AB'[len(self.titles)]}: {session.name}", box)
            title.setObjectName("panelTitle")
            self.titles.append(title)
            box_layout.addWidget(title)
            box_layout.addWidget(player, 1)
            player.set_overlay_provider(session.overlay)
            path = session.analysis.video.path
            if Path(path).is_file():
                player.set_video(lambda p=path: open_reader(p), session.analysis.times_s)
            else:
                title.setText(f"{session.name} (video not available)")
            players_row.addWidget(box)

        self.foot_box = QComboBox(self)
        self.foot_box.addItems(["left", "right"])
        self.strike_boxes = (QComboBox(self), QComboBox(self))
        self.sync_button = QPushButton("Sync at strike", self)
        self.previous_button = QPushButton("◀ Stride", self)
        self.next_button = QPushButton("Stride ▶", self)
        self.report_button = QPushButton("Report PDF…", self)
        self.status = QLabel("", self)
        self.foot_box.currentTextChanged.connect(self._fill_strikes)
        self.sync_button.clicked.connect(self.sync)
        self.previous_button.clicked.connect(lambda: self.step_stride(-1))
        self.next_button.clicked.connect(lambda: self.step_stride(+1))
        self.report_button.clicked.connect(self.choose_and_write_report)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Foot", self))
        controls.addWidget(self.foot_box)
        controls.addWidget(QLabel("A strike", self))
        controls.addWidget(self.strike_boxes[0])
        controls.addWidget(QLabel("B strike", self))
        controls.addWidget(self.strike_boxes[1])
        for widget in (self.sync_button, self.previous_button, self.next_button):
            controls.addWidget(widget)
        controls.addWidget(self.status, 1)
        controls.addWidget(self.report_button)

        self.cycle_view = CycleView(self)
        self.cycle_view.set_angles(["knee_flexion", "hip_flexion", "trunk_lean"])
        sessions = comparison_sessions(a.report, b.report)
        self.cycle_view.set_sessions(
            [CycleSession(letter, s.cycles) for letter, s in zip("AB", sessions, strict=True)],
            cycle_ranges(a.report.summary),
        )
        self.table = QTableWidget(len(self.rows), len(TABLE_COLUMNS), self)
        self.table.setHorizontalHeaderLabels(list(TABLE_COLUMNS))
        for column, session in ((1, a), (2, b)):
            self.table.horizontalHeaderItem(column).setToolTip(session.name)
        self.table.verticalHeader().setVisible(False)
        self._fill_table()
        lower = QSplitter(Qt.Orientation.Horizontal, self)
        lower.addWidget(self.cycle_view)
        lower.addWidget(self.table)
        lower.setSizes([700, 600])
        main = QSplitter(Qt.Orientation.Vertical, self)
        main.addWidget(players_row)
        main.addWidget(lower)
        main.setSizes([520, 360])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(main, 1)
        self._fill_strikes(self.foot_box.currentText())
        self.resize(1400, 950)

    # --- strikes and strides ------------------------------------------------------------
    def _fill_strikes(self, side: str) -> None:
        for session, box in zip(self.sessions, self.strike_boxes, strict=True):
            box.clear()
            for number, frame in enumerate(session.strikes(side), start=1):
                seconds = session.report.real_times_s[frame] - session.report.real_times_s[0]
                box.addItem(f"#{number}  frame {frame} ({seconds:.2f} s)", frame)
        enabled = all(box.count() for box in self.strike_boxes)
        for widget in (self.sync_button, self.previous_button, self.next_button):
            widget.setEnabled(enabled)
        self.status.setText("" if enabled else f"No {side} foot strike in one of the sessions.")
        self.stride_offset = 0

    def sync(self) -> None:
        """Both players to the chosen strikes (stride 0)."""
        self.stride_offset = 0
        self._show_stride()

    def step_stride(self, direction: int) -> None:
        """Both players to the next (+1) or previous (-1) strike of the chosen foot."""
        self.stride_offset += direction
        self._show_stride()

    def current_frames(self) -> tuple[int, int] | None:
        """The frames both players show for the current stride, or None past either's end."""
        side = self.foot_box.currentText()
        frames = []
        for session, box in zip(self.sessions, self.strike_boxes, strict=True):
            strikes = session.strikes(side)
            if not strikes or box.currentIndex() < 0:
                return None
            index = box.currentIndex() + self.stride_offset
            if not 0 <= index < len(strikes):
                return None
            frames.append(strikes[index])
        return frames[0], frames[1]

    def _show_stride(self) -> None:
        frames = self.current_frames()
        if frames is None:
            self.stride_offset -= int(np.sign(self.stride_offset)) or 0
            self.status.setText("No further stride in one of the sessions.")
            return
        for player, frame in zip(self.players, frames, strict=True):
            player.pause()
            player.seek(frame)
        self.status.setText(
            f"Stride {self.stride_offset:+d}: A frame {frames[0]}, B frame {frames[1]}"
        )

    # --- table and report ---------------------------------------------------------------
    def _fill_table(self) -> None:
        for row_index, row in enumerate(self.rows):
            unit = f" ({row.unit})" if row.unit else ""
            cells = [
                f"{row.label}{unit}",
                _cell(row.a_mean, row.decimals),
                _cell(row.b_mean, row.decimals),
                _cell(row.difference, row.decimals, signed=True),
                _cell(row.spread, row.decimals),
                row.verdict,
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if column == 5 and row.exceeds_spread:
                    item.setForeground(Qt.GlobalColor.yellow)
                self.table.setItem(row_index, column, item)
        self.table.resizeColumnsToContents()

    def choose_and_write_report(self) -> None:
        a = self.sessions[0]
        default = Path(a.analysis.video.path).with_suffix(".report.pdf")
        path, _ = QFileDialog.getSaveFileName(
            self, "Athlete report (PDF)", str(default), "PDF (*.pdf)"
        )
        if not path:
            return
        from app.ui.workers import Task

        task = Task(
            "Writing the report", lambda _context, p: self.write_report(p), Path(path), parent=self
        )
        task.succeeded.connect(lambda written: self.status.setText(f"Report written: {written}"))
        task.failed.connect(lambda message, _details: self.status.setText(message))
        task.finished.connect(lambda t=task: self._tasks.discard(t))
        self._tasks.add(task)
        self.status.setText(f"Writing {Path(path).name}…")
        task.start()

    def write_report(self, path: Path) -> Path:
        """The athlete's PDF of A with this comparison (key frames read from A's video)."""
        from app.core.athlete_pdf import report_inputs_from_video, write_athlete_pdf

        a, b = self.sessions
        inputs = report_inputs_from_video(a.report, a.analysis, comparison=b.report)
        return write_athlete_pdf(inputs, path)

    def closeEvent(self, event) -> None:
        for player in self.players:
            player.close_video()
        super().closeEvent(event)


def load_run(context, path: str, prefs) -> ComparedRun:
    """Worker task: the analysis (loaded, or computed and saved) and report of session B."""
    from app.core.analysis_input import load_analysis
    from app.core.running_report import build_report
    from app.ui.tasks import analysis_options

    analysis = load_analysis(path, analysis_options(prefs), progress=context.progress)
    report = build_report(
        analysis,
        runner_height_cm=prefs.runner_height_cm or None,
        cutoff_hz=prefs.filter_cutoff_hz,
    )
    return ComparedRun(analysis, report)


class CompareLauncher(QObject):
    """The main window's "Compare with another session…" entry and the windows it opens."""

    VIDEO_FILTER = "Videos and analyses (*.mp4 *.mov *.m4v *.avi *.mkv *.analysis.npz);;All (*)"

    def __init__(self, session: VideoSession, parent: QWidget) -> None:
        super().__init__(parent)
        self.session = session
        self.parent_widget = parent
        self.windows: list[CompareWindow] = []
        self.action = QAction("Compare with another session…", parent)
        self.action.triggered.connect(self.choose)

    def choose(self) -> None:
        video = self.session.video_path
        start = str(video.parent) if video else ""
        path, _ = QFileDialog.getOpenFileName(
            self.parent_widget, "Compare with (video or analysis)", start, self.VIDEO_FILTER
        )
        if path:
            self.open(path)

    def open(self, path: str):
        """Load session B on a worker, then show the comparison; returns the task (or None)."""
        from app.ui.workers import Task

        session = self.session
        if session.analysis is None or session.report_view is None:
            session.report_error("Open and analyse a video first, then compare it with another.")
            return None
        a = ComparedRun(session.analysis, session.report_view.report)
        task = Task(
            "Loading the comparison", load_run, path, session.settings.analysis(), parent=self
        )
        task.succeeded.connect(lambda b, a=a: self.show(a, b))
        session.status.emit(f"Loading {Path(path).name} for the comparison…")
        session.start_task(task)
        return task

    def show(self, a: ComparedRun, b: ComparedRun) -> CompareWindow:
        compare = CompareWindow(a, b)
        compare.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        compare.destroyed.connect(lambda _=None, w=compare: self._forget(w))
        self.windows.append(compare)
        compare.show()
        self.session.status.emit(f"Comparing {a.name} with {b.name}")
        return compare

    def _forget(self, compare: CompareWindow) -> None:
        if compare in self.windows:
            self.windows.remove(compare)
