"""The main window: player in the centre, metrics on the right, angle curves below.

It owns the current video, its ``Analysis`` and the kinematics report, and wires the views to
background tasks (``app/ui/tasks.py``), which call ``app/core`` for all real work. Errors from any
task go through ``report_error``: a signal tests can observe plus a non-modal message box, so the
app stays usable after a bad file or checkpoint.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QByteArray, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QWidget,
)

from app.core.analysis import Analysis, Track
from app.core.corrections import Corrections
from app.ui import tasks
from app.ui.clock import format_clock
from app.ui.compare_view import CompareLauncher
from app.ui.correction_actions import CorrectionActions
from app.ui.cycle_view import AnglePane
from app.ui.export_dialog import ExportController
from app.ui.metrics_panel import MetricsPanel
from app.ui.overlay import AngleLabel, PersonPose
from app.ui.player import PlayerWidget
from app.ui.plots import AnglePlotPanel
from app.ui.report_view import ReportView, angle_labels_at
from app.ui.settings import AppSettings
from app.ui.settings_dialog import SettingsDialog
from app.ui.step_rows import step_rows
from app.ui.steps_table import StepsTable
from app.ui.workers import Task, remaining_seconds
from rhpnet.media.video import VIDEO_EXTENSIONS

log = logging.getLogger(__name__)

VIDEO_FILTER = f"Videos ({' '.join('*' + ext for ext in VIDEO_EXTENSIONS)});;All files (*)"
SIDECAR_NOTE = "Reopened from the saved analysis"


class MainWindow(QMainWindow):
    errorReported = Signal(str)
    videoOpened = Signal(str)
    analysisFinished = Signal(object)
    reportUpdated = Signal(object)

    def __init__(self, settings: AppSettings | None = None, camera_factory=None) -> None:
        super().__init__()
        self.settings = settings or AppSettings()
        self.camera_factory = camera_factory
        self.setWindowTitle("RHPNet Coach")
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self.video_path: Path | None = None
        self.analysis: Analysis | None = None
        self.report: ReportView | None = None
        self.sidecar_file: Path | None = None
        self.video_slowmo = 1.0  # the open video's slow-motion factor (saved in its sidecar)
        self.live_poses: tasks.LivePoses | None = None
        self.analysis_task: Task | None = None
        self._tasks: set[Task] = set()
        self._message_boxes: list[QMessageBox] = []
        self.webcam_window = None

        self.player = PlayerWidget(self)
        self.player.positionChanged.connect(self._on_position_changed)
        self.player.personClicked.connect(self.set_subject)
        self.player.error.connect(self.report_error)
        self.player.set_overlay_provider(self._overlay_at)
        self.setCentralWidget(self.player)
        self.corrections = CorrectionActions(
            self,
            analysis=lambda: self.analysis,
            frame=lambda: self.player.position,
            use_analysis=self._use_corrected_analysis,
            events=lambda: self.report.report.gait.events if self.report is not None else [],
            seek=self.player.seek,
        )
        self.player.keypointMoved.connect(self.corrections.move_keypoint)
        self._shown_tracks: tuple[Analysis | None, dict[int, Track]] = (None, {})

        self.metrics_panel = MetricsPanel(self)
        self.plots = AnglePlotPanel(self)
        self.plots.seekRequested.connect(self.player.seek_time)
        self.plots.eventDragged.connect(self.corrections.move_event)
        self.plots.set_selected(
            self.settings.value("plot_angles", list(self.plots.selected())) or self.plots.selected()
        )
        self.plots.selectionChanged.connect(self._on_plot_selection)
        self.angle_pane = AnglePane(self.plots, self)
        self.reportUpdated.connect(lambda view: self.angle_pane.set_report(view.report))
        self.metrics_dock = self._dock(
            "Metrics", "metricsDock", self.metrics_panel, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.steps_table = StepsTable(self)
        self.steps_table.strikeChosen.connect(self.player.seek)
        self.steps_dock = self._dock(
            "Steps", "stepsDock", self.steps_table, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.tabifyDockWidget(self.metrics_dock, self.steps_dock)
        self.metrics_dock.raise_()
        self.plots_dock = self._dock(
            "Angles", "plotsDock", self.angle_pane, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.resizeDocks([self.metrics_dock], [480], Qt.Orientation.Horizontal)
        self.resizeDocks([self.plots_dock], [290], Qt.Orientation.Vertical)

        self.exporter = ExportController(self)
        self.compare = CompareLauncher(self)
        self._build_status_bar()
        self._build_actions()
        self._elapsed_timer = QTimer(self)
        self._elapsed_timer.setInterval(250)
        self._elapsed_timer.timeout.connect(self._update_elapsed)
        self._progress = (0, 0)
        self._playhead_timer = QTimer(self)
        self._playhead_timer.setSingleShot(True)
        self._playhead_timer.setInterval(33)
        self._playhead_timer.timeout.connect(self._flush_playhead)
        self._restore_window_state()
        self._update_actions()

    # --- construction -------------------------------------------------------------------
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _metrics_message(self, text: str) -> None:
        """No report (yet): the metrics panel says why and the steps table is empty."""
        self.metrics_panel.set_message(text)
        self.steps_table.set_rows([])

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_label = QLabel("Ready", self)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setFixedWidth(260)
        self.progress_bar.setVisible(False)
        self.time_label = QLabel("", self)
        self.time_label.setVisible(False)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_analysis)
        bar.addWidget(self.status_label, 1)
        bar.addPermanentWidget(self.time_label)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)

    def _action(
        self, text: str, slot, shortcut=None, checkable=False, checked=False, tip=""
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [shortcut])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if checkable:
            action.setCheckable(True)
            action.setChecked(checked)
            action.toggled.connect(slot)
        else:
            action.triggered.connect(slot)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        key = QKeySequence
        p = self.player
        self.open_action = self._action(
            "&Open video…", self.choose_video, key(key.StandardKey.Open), tip="Open a running video"
        )
        self.webcam_action = self._action(
            "&Webcam…",
            self.show_webcam,
            key("Ctrl+W"),
            tip="Live camera, recording and delayed replay",
        )
        self.reanalyse_action = self._action(
            "&Re-analyse",
            self.reanalyse,
            key("Ctrl+R"),
            tip="Analyse the video again with the current settings",
        )
        self.settings_action = self._action("&Settings…", self.show_settings, key("Ctrl+,"))
        self.quit_action = self._action("&Quit", self.close, key(key.StandardKey.Quit))
        self.play_action = self._action("Play / pause", p.toggle_play, key(Qt.Key.Key_Space))
        self.step_back_action = self._action(
            "Previous frame", lambda: p.step(-1), key(Qt.Key.Key_Left)
        )
        self.step_forward_action = self._action(
            "Next frame", lambda: p.step(1), key(Qt.Key.Key_Right)
        )
        self.prev_strike_action = self._action(
            "Previous foot strike", p.previous_strike, key(Qt.Key.Key_Comma)
        )
        self.next_strike_action = self._action(
            "Next foot strike", p.next_strike, key(Qt.Key.Key_Period)
        )
        self.first_action = self._action("First frame", p.go_first, key(Qt.Key.Key_Home))
        self.last_action = self._action("Last frame", p.go_last, key(Qt.Key.Key_End))
        self.faster_action = self._action("Faster", lambda: p.change_speed(1), key(Qt.Key.Key_Up))
        self.slower_action = self._action(
            "Slower", lambda: p.change_speed(-1), key(Qt.Key.Key_Down)
        )
        self.fit_action = self._action("Fit to window", p.canvas.fit_to_window, key("F"))
        self.zoom_in_action = self._action("Zoom in", lambda: p.zoom_by(1.25), [key("+"), key("=")])
        self.zoom_out_action = self._action("Zoom out", lambda: p.zoom_by(1 / 1.25), key("-"))
        self.actual_size_action = self._action(
            "Actual size (100%)", lambda: p.canvas.set_zoom(1.0), key("1")
        )
        canvas_options = p.canvas.options
        canvas_options.show_skeleton = bool(self.settings.value("show_skeleton", True))
        canvas_options.show_angles = bool(self.settings.value("show_angles", True))
        canvas_options.show_others = bool(self.settings.value("show_others", True))
        self.skeleton_action = self._action(
            "Skeleton",
            self._toggle_skeleton,
            key("S"),
            True,
            canvas_options.show_skeleton,
            "Show the skeleton overlay",
        )
        self.angles_action = self._action(
            "Angle labels",
            self._toggle_angles,
            key("A"),
            True,
            canvas_options.show_angles,
            "Show joint angles next to the joints",
        )
        self.others_action = self._action(
            "Other people",
            self._toggle_others,
            key("O"),
            True,
            canvas_options.show_others,
            "Show people other than the analysed runner",
        )

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &recent")
        self._rebuild_recent_menu()
        file_menu.addAction(self.webcam_action)
        file_menu.addAction(self.compare.action)
        file_menu.addSeparator()
        self.export_menu = file_menu.addMenu("&Export")
        self.exporter.populate_menu(self.export_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = menu.addMenu("&Edit")
        for action in self.corrections.all_actions():
            self.addAction(action)
        view_menu = menu.addMenu("&View")
        for action in (self.skeleton_action, self.angles_action, self.others_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        for action in (
            self.fit_action,
            self.actual_size_action,
            self.zoom_in_action,
            self.zoom_out_action,
        ):
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.metrics_dock.toggleViewAction())
        view_menu.addAction(self.plots_dock.toggleViewAction())
        play_menu = menu.addMenu("&Playback")
        for action in (
            self.play_action,
            self.step_back_action,
            self.step_forward_action,
            self.prev_strike_action,
            self.next_strike_action,
            self.first_action,
            self.last_action,
            self.faster_action,
            self.slower_action,
        ):
            play_menu.addAction(action)
        analysis_menu = menu.addMenu("&Analysis")
        analysis_menu.addAction(self.reanalyse_action)
        analysis_menu.addAction(self.settings_action)
        help_menu = menu.addMenu("&Help")
        help_menu.addAction(self._action("&About RHPNet Coach", self.show_about))

        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.addAction(self.open_action)
        toolbar.addAction(self.webcam_action)
        export_button = toolbar.addAction("Export")
        export_button.setMenu(self.export_menu)
        toolbar.widgetForAction(export_button).setPopupMode(
            toolbar.widgetForAction(export_button).ToolButtonPopupMode.InstantPopup
        )
        toolbar.addSeparator()
        toolbar.addAction(self.skeleton_action)
        toolbar.addAction(self.angles_action)
        toolbar.addAction(self.others_action)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Runner ", self))
        self.runner_box = QComboBox(self)
        self.runner_box.setMinimumWidth(170)
        self.runner_box.setToolTip("The person analysed (or click them in the video)")
        self.runner_box.activated.connect(lambda i: self.set_subject(self.runner_box.itemData(i)))
        toolbar.addWidget(self.runner_box)
        toolbar.addSeparator()
        toolbar.addAction(self.reanalyse_action)
        toolbar.addAction(self.settings_action)
        toolbar.addSeparator()
        self.corrections.populate(edit_menu, toolbar)

    # --- error reporting ----------------------------------------------------------------
    def report_error(self, message: str, details: str = "") -> None:
        """Tell the user without blocking: a signal (for tests and logs) and a non-modal box."""
        log.error("%s", message)
        self.errorReported.emit(message)
        self.status_label.setText(message)
        box = QMessageBox(
            QMessageBox.Icon.Warning, "RHPNet Coach", message, QMessageBox.StandardButton.Ok, self
        )
        if details:
            box.setDetailedText(details)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(
            lambda _=0, b=box: self._message_boxes.remove(b) if b in self._message_boxes else None
        )
        self._message_boxes.append(box)
        box.open()

    # --- tasks --------------------------------------------------------------------------
    def start_task(self, task: Task) -> Task:
        """Keep a reference until the thread ends, and route failures to the error dialog."""
        self._tasks.add(task)
        task.failed.connect(self.report_error)
        task.finished.connect(lambda t=task: self._tasks.discard(t))
        task.start(QThread.Priority.LowPriority)
        return task

    @property
    def busy(self) -> bool:
        return any(t.isRunning() for t in self._tasks)

    # --- opening ------------------------------------------------------------------------
    def choose_video(self) -> None:
        start = (
            str(Path(self.settings.recent_files()[0]).parent)
            if self.settings.recent_files()
            else ""
        )
        path, _ = QFileDialog.getOpenFileName(self, "Open a running video", start, VIDEO_FILTER)
        if path:
            self.open_video(path)

    def open_video(self, path: str | Path) -> None:
        """Probe the file in a worker; reuse its sidecar or start the analysis."""
        path = Path(path).expanduser()
        self._abandon_analysis()
        self.player.close_video()
        self.analysis, self.report, self.sidecar_file = None, None, None
        self.live_poses = None
        self.corrections.reset()
        self.video_path = path
        self.video_slowmo = 1.0  # real time, unless its sidecar or the user says otherwise
        self.plots.clear()
        self.angle_pane.set_report(None)
        self._metrics_message("Opening…")
        self.runner_box.clear()
        self.setWindowTitle(f"{path.name} — RHPNet Coach")
        self.status_label.setText(f"Opening {path.name}…")
        prefs = self.settings.analysis()
        task = Task("Opening the video", tasks.probe_video, path, prefs, parent=self)
        task.succeeded.connect(lambda opened, p=path: self._on_probed(p, opened))
        task.failed.connect(lambda *_: self._on_open_failed(path))
        self.start_task(task)
        self._update_actions()

    def _on_open_failed(self, path: Path) -> None:
        if self.video_path == path:
            self.video_path = None
            self.setWindowTitle("RHPNet Coach")
            self._metrics_message("No analysis yet.")
        self.settings.remove_recent_file(str(path.resolve()))
        self._rebuild_recent_menu()
        self._update_actions()

    def _on_probed(self, path: Path, opened: tasks.OpenedVideo) -> None:
        if path != self.video_path:
            return
        self.settings.add_recent_file(path)
        self._rebuild_recent_menu()
        self.player.set_video(lambda p=path: tasks.open_reader(p), opened.times_s)
        self.videoOpened.emit(str(path))
        info = opened.info
        self.status_label.setText(
            f"{path.name}: {info.width}×{info.height}, {info.fps:.3g} fps, {info.frame_count} frames"
            + (f" — {'; '.join(opened.warnings)}" if opened.warnings else "")
        )
        if opened.sidecar is not None:
            analysis, sidecar = opened.sidecar
            self.sidecar_file = sidecar
            self.video_slowmo = analysis.slowmo
            self._set_analysis(analysis)
            self.status_label.setText(f"{SIDECAR_NOTE} ({sidecar.name})")
            self.analysisFinished.emit(analysis)
            self.request_report()
        else:
            self.start_analysis()

    def reanalyse(self) -> None:
        if self.video_path is not None and self.player.frame_count:
            self.start_analysis()

    def start_analysis(self) -> None:
        if self.video_path is None:
            return
        self._abandon_analysis()
        prefs = self.settings.analysis()
        task = Task(
            "Analysing the video",
            tasks.analyse_video,
            self.video_path,
            prefs,
            self.video_slowmo,
            self._corrections_to_keep(prefs),
            parent=self,
        )
        # Each slot is told which task spoke: a task abandoned for another video is ignored.
        task.progress.connect(partial(self._on_progress, task))
        task.partial.connect(partial(self._on_partial_analysis, task))
        task.succeeded.connect(partial(self._on_analysis_done, task))
        task.cancelled.connect(partial(self._on_analysis_cancelled, task))
        task.finished.connect(partial(self._on_analysis_thread_finished, task))
        self.analysis_task = task
        self._metrics_message("Analysing… the skeleton appears on analysed frames as it runs.")
        self.status_label.setText(f"Analysing {self.video_path.name} ({prefs.model} model)…")
        self._progress = (0, 0)
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setVisible(True)
        self.time_label.setVisible(True)
        self.cancel_button.setVisible(True)
        self._elapsed_timer.start()
        self.start_task(task)
        self._update_actions()

    def _corrections_to_keep(self, prefs) -> Corrections:
        """The open analysis' hand corrections, for the new analysis: kept with the same model
        settings; with others (the points may have moved) only if the user says so."""
        if self.analysis is None or not self.analysis.corrections:
            return Corrections()
        if self.analysis.model.get("settings") == tasks.model_settings(prefs):
            return self.analysis.corrections
        answer = QMessageBox.question(
            self,
            "Keep the corrections?",
            "This video has hand corrections made on an analysis with another model or other "
            "settings. Keep them for the new analysis?",
        )
        keep = answer == QMessageBox.StandardButton.Yes
        return self.analysis.corrections if keep else Corrections()

    def cancel_analysis(self) -> None:
        """The Cancel button: the analysis stops at its next frame and says so when it has."""
        if self.analysis_task is not None:
            self.analysis_task.cancel()

    def _abandon_analysis(self) -> None:
        """Cancel the running analysis without waiting for it, for another video or a re-analysis.

        Its worker may be in the middle of a frame (tens of ms for BlazePose, far more for a
        network on a CPU): it finishes in the background, keeps its place in ``_tasks`` until
        then (closing the window still waits for it), and whatever it reports meanwhile is
        ignored because it is no longer ``analysis_task``.
        """
        task, self.analysis_task = self.analysis_task, None
        if task is None:
            return
        task.cancel()
        self._hide_progress()

    def _on_progress(self, task: Task, done: int, total: int, message: str) -> None:
        """Remember the progress; the bar is redrawn by the twice-a-second status timer.

        QProgressBar.setValue repaints synchronously (the whole window's pending updates with
        it), which at the worker's 30 Hz would be needless UI work.
        """
        if task is not self.analysis_task:
            return
        first = self._progress == (0, 0)
        self._progress = (done, total)
        if first or (total > 0 and done >= total):
            self._update_elapsed()

    def _update_elapsed(self) -> None:
        task = self.analysis_task
        if task is None or not task.started_at:
            return
        done, total = self._progress
        if total > 0:
            self.progress_bar.setFormat("%v / %m frames")
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)
        elapsed = time.monotonic() - task.started_at
        remaining = remaining_seconds(elapsed, *self._progress)
        text = f"elapsed {format_clock(elapsed)}"
        if remaining is not None:
            text += f", about {format_clock(remaining)} left"
        self.time_label.setText(text)

    def _on_partial_analysis(self, task: Task, live: tasks.LivePoses) -> None:
        if task is not self.analysis_task or task.is_cancelled:
            return
        self.live_poses = live
        if self.player.displayed_index in live.frames:
            self.player.refresh_overlay()

    def _on_analysis_done(self, task: Task, result: tasks.AnalysisResult) -> None:
        if task is not self.analysis_task:
            return
        self.sidecar_file = result.sidecar
        self._set_analysis(result.analysis)
        self._set_slowmo(self.video_slowmo)  # in case it was changed while the analysis ran
        self.status_label.setText(
            f"Analysed {result.analysis.frame_count} frames in {format_clock(result.seconds)}"
            f" — saved {result.sidecar}"
        )
        self.analysisFinished.emit(result.analysis)
        self.request_report()

    def _on_analysis_cancelled(self, task: Task) -> None:
        if task is not self.analysis_task:
            return
        self.status_label.setText("Analysis cancelled — nothing was saved.")
        self._metrics_message("Analysis cancelled. Use Analysis ▸ Re-analyse to start again.")

    def _on_analysis_thread_finished(self, task: Task) -> None:
        if task is not self.analysis_task:
            return
        self.analysis_task = None
        self._hide_progress()

    def _hide_progress(self) -> None:
        self._elapsed_timer.stop()
        self.progress_bar.setVisible(False)
        self.time_label.setVisible(False)
        self.cancel_button.setVisible(False)
        self._update_actions()

    # --- analysis and report ------------------------------------------------------------
    def _set_analysis(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.live_poses = None
        self.player.set_editable_track(analysis.subject_id)
        self._fill_runner_box()
        self.player.refresh_overlay()
        self._update_actions()

    def _fill_runner_box(self) -> None:
        self.runner_box.clear()
        if self.analysis is None:
            return
        for track_id in sorted(self.analysis.tracks):
            track = self.analysis.tracks[track_id]
            share = track.frame_count_present / max(1, self.analysis.frame_count)
            self.runner_box.addItem(f"#{track_id}  ·  seen in {share:.0%}", track_id)
        if self.analysis.subject_id is not None:
            self.runner_box.setCurrentIndex(self.runner_box.findData(self.analysis.subject_id))

    def set_subject(self, track_id: int) -> None:
        """Make ``track_id`` the analysed runner: save the choice and recompute the report."""
        if self.analysis is None or track_id not in self.analysis.tracks:
            return
        if self.analysis_task is not None:
            self.status_label.setText("Wait for the analysis to finish before choosing the runner.")
            return
        if track_id == self.analysis.subject_id:
            return
        self.analysis.subject_id = int(track_id)
        self.player.set_editable_track(int(track_id))
        self.runner_box.setCurrentIndex(self.runner_box.findData(track_id))
        self.status_label.setText(f"Person #{track_id} is now the analysed runner.")
        self.player.refresh_overlay()
        self._save_analysis("Saving the runner choice")
        self.request_report()

    def _set_slowmo(self, factor: float) -> None:
        """Make ``factor`` the open video's slow-motion factor, saved with its analysis.

        The analysis is replaced, not changed: a report being computed from the old one in a
        worker is then recognised as outdated.
        """
        self.video_slowmo = float(factor)
        if self.analysis is not None and self.analysis.slowmo != self.video_slowmo:
            self.analysis = dataclasses.replace(self.analysis, slowmo=self.video_slowmo)
            self._save_analysis("Saving the slow-motion factor")

    def _use_corrected_analysis(self, analysis: Analysis, text: str) -> None:
        """An edit (or its undo): show, save and measure the analysis that holds it."""
        self.analysis = analysis
        self.status_label.setText(text)
        self.player.refresh_overlay()
        self._save_analysis("Saving the corrections")
        self.request_report()

    def _shown_track(self, analysis: Analysis, track_id: int) -> Track:
        """The track as corrected by hand, computed once per analysis."""
        cached_for, shown = self._shown_tracks
        if cached_for is not analysis:
            shown = {}
            self._shown_tracks = (analysis, shown)
        if track_id not in shown:
            shown[track_id] = analysis.corrected_track(track_id)[0]
        return shown[track_id]

    def _save_analysis(self, name: str) -> None:
        """Save the analysis (a changed runner or slow-motion factor) into its sidecar."""
        if self.video_path is None or self.analysis is None:
            return
        task = Task(name, tasks.save_analysis, self.analysis, self.video_path, parent=self)
        task.succeeded.connect(lambda path: setattr(self, "sidecar_file", path))
        self.start_task(task)

    def request_report(self) -> None:
        if self.analysis is None:
            return
        self._metrics_message("Computing angles, gait events and metrics…")
        task = Task(
            "Computing the running report",
            tasks.compute_report,
            self.analysis,
            self.settings.analysis(),
            parent=self,
        )
        analysis = self.analysis
        subject = analysis.subject_id
        task.succeeded.connect(lambda view, a=analysis, s=subject: self._on_report(a, s, view))
        self.start_task(task)

    def _on_report(self, analysis: Analysis, subject: int | None, view: ReportView) -> None:
        if analysis is not self.analysis or subject != analysis.subject_id:
            return  # a newer analysis or runner choice superseded this report
        self.report = view
        self.plots.set_data(
            view.times_s, view.angles, view.events, view.ranges, view.edited_spans_s()
        )
        self.plots.set_playhead(self._current_time())
        self.metrics_panel.set_rows(view.metric_rows, view.summary)
        self.steps_table.set_rows(step_rows(view.report) if view.report is not None else [])
        self.player.set_strike_frames(view.strike_frames, view.edited_frames, view.manual_frames())
        self.player.refresh_overlay()
        self._update_actions()
        self.reportUpdated.emit(view)

    # --- views --------------------------------------------------------------------------
    def _current_time(self) -> float:
        times = self.player.times_s
        return float(times[self.player.position]) if len(times) else 0.0

    def _on_position_changed(self, index: int) -> None:
        """Move the plot's playhead, at most ~30 times a second while playing.

        Each move repaints the whole plot; at 60 fps playback that would double the UI work.
        """
        if self._playhead_timer.isActive():
            return
        self.plots.set_playhead(self._current_time())
        if self.player.is_playing:
            self._playhead_timer.start()

    def _flush_playhead(self) -> None:
        self.plots.set_playhead(self._current_time())

    def _overlay_at(self, index: int) -> tuple[list[PersonPose], list[AngleLabel]]:
        analysis = self.analysis
        if analysis is None and self.live_poses is not None:
            return self._live_overlay_at(index), []
        if analysis is None or index >= analysis.frame_count:
            return [], []
        people = []
        for track_id in analysis.tracks:
            track = self._shown_track(analysis, track_id)
            if not np.isfinite(track.scores[index]):
                continue
            people.append(
                PersonPose(
                    track_id,
                    track.keypoints[index],
                    track.boxes[index],
                    track_id == analysis.subject_id,
                )
            )
        labels: list[AngleLabel] = []
        subject = (
            self._shown_track(analysis, analysis.subject_id)
            if analysis.subject_id in analysis.tracks
            else None
        )
        if (
            self.report is not None
            and subject is not None
            and self.report.subject_id == analysis.subject_id
        ):
            labels = angle_labels_at(
                self.report, subject.keypoints[index], index, self.plots.selected()
            )
        return people, labels

    def _live_overlay_at(self, index: int) -> list[PersonPose]:
        """While analysing, every detected person is drawn in full (no runner is chosen yet)."""
        result = self.live_poses.frames.get(index) if self.live_poses else None
        if result is None:
            return []
        poses = result.poses
        return [
            PersonPose(int(tid), poses.keypoints[i], poses.boxes[i], True)
            for i, tid in enumerate(result.track_ids)
        ]

    def _on_plot_selection(self, names: list[str]) -> None:
        self.settings.set_value("plot_angles", names)
        self.player.refresh_overlay()

    def _toggle_skeleton(self, on: bool) -> None:
        self.player.canvas.options.show_skeleton = on
        self.settings.set_value("show_skeleton", on)
        self.player.canvas.update()

    def _toggle_angles(self, on: bool) -> None:
        self.player.canvas.options.show_angles = on
        self.settings.set_value("show_angles", on)
        self.player.canvas.update()

    def _toggle_others(self, on: bool) -> None:
        self.player.canvas.options.show_others = on
        self.settings.set_value("show_others", on)
        self.player.canvas.update()

    def _update_actions(self) -> None:
        has_video = self.player.frame_count > 0
        self.corrections.set_enabled(
            self.analysis is not None
            and self.analysis.subject() is not None
            and self.analysis_task is None
        )
        self.reanalyse_action.setEnabled(has_video and self.analysis_task is None)
        self.exporter.update_enabled(
            has_analysis=self.analysis is not None and self.analysis_task is None,
            has_report=self.report is not None,
        )

    # --- recent files, drag and drop ----------------------------------------------------
    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for path in files:
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_video(p))
        self.recent_menu.setEnabled(bool(files))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                event.acceptProposedAction()
                self.open_video(url.toLocalFile())
                return

    # --- dialogs ------------------------------------------------------------------------
    def show_settings(self) -> None:
        slowmo = self.video_slowmo if self.video_path is not None else None
        dialog = SettingsDialog(self.settings.analysis(), self, slowmo=slowmo)
        dialog.accepted.connect(lambda: self._apply_settings(dialog))
        dialog.open()

    def _apply_settings(self, dialog: SettingsDialog) -> None:
        before = self.settings.analysis()
        after = dialog.preferences()
        self.settings.set_analysis(after)
        slowmo = dialog.slowmo()
        slowmo_changed = slowmo is not None and slowmo != self.video_slowmo
        if slowmo_changed:
            self._set_slowmo(slowmo)
        if self.analysis is None:
            return
        if tasks.model_settings(before) != tasks.model_settings(after):
            self.status_label.setText(
                "Model settings changed: use Analysis ▸ Re-analyse to apply them."
            )
        if slowmo_changed or tasks.report_settings(before) != tasks.report_settings(after):
            self.request_report()

    def show_webcam(self) -> None:
        from app.ui.webcam import WebcamWindow

        if self.webcam_window is None:
            self.webcam_window = WebcamWindow(
                self.settings, camera_factory=self.camera_factory, parent=self
            )
            self.webcam_window.recordingSaved.connect(self.open_video)
            self.webcam_window.error.connect(self.report_error)
        self.webcam_window.show()
        self.webcam_window.raise_()

    def show_about(self) -> None:
        from rhpnet import __version__

        box = QMessageBox(
            QMessageBox.Icon.Information,
            "About RHPNet Coach",
            f"RHPNet Coach {__version__}\nRunning video analysis: pose, joint angles, "
            "gait events and running metrics.",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # --- window state and closing -------------------------------------------------------
    def _restore_window_state(self) -> None:
        geometry, state = self.settings.window_state()
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray | bytes):
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel running work, wait for the workers to stop, then close: nothing half-written."""
        for task in list(self._tasks):
            task.cancel()
        self.exporter.cancel_all()
        if self.webcam_window is not None:
            self.webcam_window.close()
        for task in list(self._tasks):
            task.wait()
        self.player.shutdown()
        self.settings.set_window_state(self.saveGeometry(), self.saveState())
        super().closeEvent(event)
