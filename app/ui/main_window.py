"""The main window: player in the centre, metrics and steps on the right, angle curves below.

A thin view over one ``VideoSession`` (app/ui/session.py), which owns the open video, its
analysis and report and runs every background task; the window lays out the widgets, routes the
session's signals to them and shows errors (docs/layers.md). Errors go through
``report_error``: a signal tests can observe plus a non-modal message box, so the app stays
usable after a bad file or checkpoint.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from app.core.analysis import Analysis
from app.ui import tasks
from app.ui.analysis_status import AnalysisStatus
from app.ui.compare_view import CompareLauncher
from app.ui.correction_actions import CorrectionActions
from app.ui.export_menu import ExportController
from app.ui.message_boxes import MessageBoxes
from app.ui.panels import Panels
from app.ui.player import PlayerWidget
from app.ui.runner_box import RunnerBox
from app.ui.session import VideoSession
from app.ui.settings import AppSettings
from app.ui.settings_dialog import SettingsDialog
from app.ui.window_menus import MenuParts, WindowCommands, WindowMenus
from app.viewmodels.overlay_people import OverlayPeople
from app.viewmodels.report_view import ReportView
from rhpnet.media.video import VIDEO_EXTENSIONS

log = logging.getLogger(__name__)

VIDEO_FILTER = f"Videos ({' '.join('*' + ext for ext in VIDEO_EXTENSIONS)});;All files (*)"
PLAYHEAD_MS = 33  # the plot's playhead follows playback at most ~30 times a second


class MainWindow(QMainWindow):
    errorReported = Signal(str)

    def __init__(self, settings: AppSettings | None = None, camera_factory=None) -> None:
        super().__init__()
        self.settings = settings or AppSettings()
        self.camera_factory = camera_factory
        self.setWindowTitle("RHPNet Coach")
        self.setAcceptDrops(True)
        self.resize(1400, 900)
        self.messages = MessageBoxes(self)
        self.webcam_window = None
        self.session = VideoSession(self.settings, self._ask, self)
        self.overlay = OverlayPeople()

        self.player = PlayerWidget(self)
        self.player.set_overlay_provider(self._overlay_at)
        self.setCentralWidget(self.player)
        self.corrections = CorrectionActions(
            self,
            analysis=lambda: self.session.analysis,
            frame=lambda: self.player.position,
            use_analysis=self.session.use_corrected_analysis,
            events=self._events,
            seek=self.player.seek,
        )
        self.panels = Panels(self, self.settings)
        self.plots = self.panels.plots

        self.exporter = ExportController(self.session, self)
        self.compare = CompareLauncher(self.session, self)
        self.analysis_status = AnalysisStatus(self.session, self.statusBar())
        self.runner_box = RunnerBox(self)
        self.menus = WindowMenus(
            self,
            self.player,
            self.settings,
            WindowCommands(
                choose_video=self.choose_video,
                open_video=self.open_video,
                show_webcam=self.show_webcam,
                reanalyse=self.session.reanalyse,
                show_settings=self.show_settings,
                quit=self.close,
                show_about=self.show_about,
            ),
            MenuParts(
                compare_action=self.compare.action,
                populate_export_menu=self.exporter.populate_menu,
                corrections=self.corrections,
                docks=self.panels.docks,
                runner_box=self.runner_box,
            ),
        )
        self._playhead_timer = QTimer(self)
        self._playhead_timer.setSingleShot(True)
        self._playhead_timer.setInterval(PLAYHEAD_MS)
        self._playhead_timer.timeout.connect(self._flush_playhead)
        self._connect()
        self._restore_window_state()
        self._update_actions()

    # --- wiring -------------------------------------------------------------------------
    def _connect(self) -> None:
        """Route the session's signals to the views and the views' requests to the session."""
        session, player = self.session, self.player
        player.positionChanged.connect(self._on_position_changed)
        player.personClicked.connect(session.set_subject)
        player.error.connect(self.report_error)
        player.keypointMoved.connect(self.corrections.move_keypoint)
        self.plots.seekRequested.connect(player.seek_time)
        self.plots.eventDragged.connect(self.corrections.move_event)
        self.plots.selectionChanged.connect(lambda _names: player.refresh_overlay())
        self.panels.steps_table.strikeChosen.connect(player.seek)
        self.runner_box.runnerChosen.connect(session.set_subject)
        session.failed.connect(self.report_error)
        session.opening.connect(self._on_opening)
        session.opened.connect(self._on_opened)
        session.openFailed.connect(self._on_open_failed)
        session.recentFilesChanged.connect(self.menus.rebuild_recent_menu)
        session.analysisStarted.connect(self._on_analysis_started)
        session.analysisStopped.connect(self._update_actions)
        session.analysisCancelled.connect(
            lambda: self.panels.show_message(
                "Analysis cancelled. Use Analysis ▸ Re-analyse to start again."
            )
        )
        session.livePosesArrived.connect(self._on_live_poses)
        session.analysisChanged.connect(self._on_analysis_changed)
        session.analysisEdited.connect(lambda _analysis: player.refresh_overlay())
        session.subjectChanged.connect(self._on_subject_changed)
        session.reportRequested.connect(
            lambda: self.panels.show_message("Computing angles, gait events and metrics…")
        )
        session.reportUpdated.connect(self._on_report)

    def _ask(self, title: str, question: str) -> bool:
        return QMessageBox.question(self, title, question) == QMessageBox.StandardButton.Yes

    # --- error reporting ----------------------------------------------------------------
    def report_error(self, message: str, details: str = "") -> None:
        """Tell the user without blocking: a signal (for tests and logs) and a non-modal box."""
        log.error("%s", message)
        self.errorReported.emit(message)
        self.analysis_status.message.setText(message)
        self.messages.warn(message, details)

    # --- the session's lifecycle, shown -------------------------------------------------
    def choose_video(self) -> None:
        recent = self.settings.recent_files()
        start = str(Path(recent[0]).parent) if recent else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a running video", start, VIDEO_FILTER)
        if path:
            self.open_video(path)

    def open_video(self, path: str | Path) -> None:
        self.session.open(path)

    def _on_opening(self, path: Path) -> None:
        self.player.close_video()
        self.corrections.reset()
        self.panels.clear("Opening…")
        self.runner_box.clear()
        self.setWindowTitle(f"{path.name} — RHPNet Coach")
        self._update_actions()

    def _on_open_failed(self, _path: Path) -> None:
        self.setWindowTitle("RHPNet Coach")
        self.panels.show_message("No analysis yet.")
        self._update_actions()

    def _on_opened(self, path: Path, opened: tasks.OpenedVideo) -> None:
        self.player.set_video(lambda p=path: tasks.open_reader(p), opened.times_s)

    def _on_analysis_started(self) -> None:
        self.panels.show_message("Analysing… the skeleton appears on analysed frames as it runs.")
        self._update_actions()

    def _on_live_poses(self, live: tasks.LivePoses) -> None:
        if self.player.displayed_index in live.frames:
            self.player.refresh_overlay()

    def _on_analysis_changed(self, analysis: Analysis) -> None:
        self.player.set_editable_track(analysis.subject_id)
        self.runner_box.set_analysis(analysis)
        self.player.refresh_overlay()
        self._update_actions()

    def _on_subject_changed(self, track_id: int) -> None:
        self.player.set_editable_track(track_id)
        self.runner_box.show_runner(track_id)
        self.player.refresh_overlay()

    def _on_report(self, view: ReportView) -> None:
        self.panels.show_report(view, self._current_time())
        self.player.set_strike_frames(view.strike_frames, view.edited_frames, view.manual_frames())
        self.player.refresh_overlay()
        self._update_actions()

    def _events(self) -> list:
        view = self.session.report_view
        return view.report.gait.events if view is not None and view.report is not None else []

    # --- views --------------------------------------------------------------------------
    def _current_time(self) -> float:
        times = self.player.times_s
        return float(times[self.player.position]) if len(times) else 0.0

    def _on_position_changed(self, _index: int) -> None:
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

    def _overlay_at(self, index: int):
        session = self.session
        return self.overlay.at(
            index, session.analysis, session.live_poses, session.report_view, self.plots.selected()
        )

    def _update_actions(self) -> None:
        session = self.session
        self.corrections.set_enabled(session.editable)
        self.menus.reanalyse_action.setEnabled(session.frame_count > 0 and not session.analysing)
        self.exporter.update_enabled(
            has_analysis=session.analysis is not None and not session.analysing,
            has_report=session.report_view is not None,
        )

    # --- drag and drop, dialogs ---------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile():
                event.acceptProposedAction()
                self.open_video(url.toLocalFile())
                return

    def show_settings(self) -> None:
        slowmo = self.session.slowmo if self.session.video_path is not None else None
        dialog = SettingsDialog(self.settings.analysis(), self, slowmo=slowmo)
        dialog.accepted.connect(lambda: self.apply_settings(dialog))
        dialog.open()

    def apply_settings(self, dialog: SettingsDialog) -> None:
        self.session.apply_settings(self.settings.analysis(), dialog.preferences(), dialog.slowmo())

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

        self.messages.inform(
            "About RHPNet Coach",
            f"RHPNet Coach {__version__}\nRunning video analysis: pose, joint angles, "
            "gait events and running metrics.",
        )

    # --- window state and closing -------------------------------------------------------
    def _restore_window_state(self) -> None:
        geometry, state = self.settings.window_state()
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray | bytes):
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel running work, wait for the workers to stop, then close: nothing half-written."""
        self.session.cancel_all()
        self.exporter.cancel_all()
        if self.webcam_window is not None:
            self.webcam_window.close()
        self.session.wait_all()
        self.player.shutdown()
        self.settings.set_window_state(self.saveGeometry(), self.saveState())
        super().closeEvent(event)
