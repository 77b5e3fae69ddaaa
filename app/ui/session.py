"""The open video as a document: its analysis, report, runner, slow-motion factor and tasks.

The window, the player, the panels, the export and compare controllers all observe one
``VideoSession`` through its signals and never reach into each other (docs/layers.md). The
session runs the lifecycle of a video: open → probe → reuse its sidecar or analyse → report,
and every change that must be saved (runner choice, slow-motion factor, hand corrections) goes
through it, so the sidecar and the views can never disagree.

Every background job is a ``Task`` the session keeps a reference to until its thread ends, and
every slot is told which task spoke: a result for a video or analysis that has since been
replaced is ignored.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from app.core.analysis import Analysis
from app.core.corrections import Corrections
from app.core.report_cache import ReportCache
from app.ui import tasks
from app.ui.clock import format_clock
from app.ui.settings import AnalysisPreferences, AppSettings
from app.ui.workers import Task
from app.viewmodels.report_view import ReportView

log = logging.getLogger(__name__)

SIDECAR_NOTE = "Reopened from the saved analysis"
KEEP_CORRECTIONS_QUESTION = (
    "This video has hand corrections made on an analysis with another model or other "
    "settings. Keep them for the new analysis?"
)

# Asked when a decision needs the user: (title, question) -> yes?
AskUser = Callable[[str, str], bool]


class VideoSession(QObject):
    """One open video and everything known about it."""

    opening = Signal(object)  # Path: a new video replaces the open one (views clear)
    opened = Signal(object, object)  # Path, tasks.OpenedVideo: probed, ready to play
    openFailed = Signal(object)  # Path
    recentFilesChanged = Signal()
    analysisStarted = Signal()
    progressChanged = Signal()  # first and last progress of the running analysis
    livePosesArrived = Signal(object)  # tasks.LivePoses
    analysisChanged = Signal(object)  # Analysis: a new analysis (new runner list) is shown
    analysisEdited = Signal(object)  # Analysis: the same one with a hand edit more or less
    analysisFinished = Signal(object)  # Analysis: analysed, or reopened from its sidecar
    analysisCancelled = Signal()
    analysisStopped = Signal()  # no analysis runs any more (done, cancelled or abandoned)
    subjectChanged = Signal(int)
    reportRequested = Signal()
    reportUpdated = Signal(object)  # ReportView
    status = Signal(str)  # a line for the status bar
    failed = Signal(str, str)  # message, details: for the error dialog

    def __init__(self, settings: AppSettings, ask: AskUser, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.ask = ask
        self.video_path: Path | None = None
        self.frame_count = 0  # readable frames of the open video (0 until probed)
        self.analysis: Analysis | None = None
        self.report_view: ReportView | None = None
        self.sidecar_file: Path | None = None
        self.slowmo = 1.0  # the open video's slow-motion factor (saved in its sidecar)
        self.live_poses: tasks.LivePoses | None = None
        self.analysis_task: Task | None = None
        self.progress = (0, 0)  # frames done, frames in all, of the running analysis
        # The open video's last cleaning and foot contacts: an edit recomputes only what it changed.
        self.report_cache = ReportCache()
        self._tasks: set[Task] = set()

    # --- tasks --------------------------------------------------------------------------
    def start_task(self, task: Task) -> Task:
        """Keep a reference until the thread ends, and route failures to the error dialog."""
        self._tasks.add(task)
        task.failed.connect(self.report_error)
        task.finished.connect(lambda t=task: self._tasks.discard(t))
        task.start(QThread.Priority.LowPriority)
        return task

    def report_error(self, message: str, details: str = "") -> None:
        log.error("%s", message)
        self.failed.emit(message, details)

    @property
    def busy(self) -> bool:
        return any(t.isRunning() for t in self._tasks)

    @property
    def analysing(self) -> bool:
        return self.analysis_task is not None

    @property
    def editable(self) -> bool:
        """Hand corrections need a runner and no analysis replacing the points meanwhile."""
        analysis = self.analysis
        return analysis is not None and analysis.subject() is not None and not self.analysing

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def wait_all(self) -> None:
        """Block until every worker has stopped: nothing is left half-written on closing."""
        for task in list(self._tasks):
            task.wait()

    # --- opening ------------------------------------------------------------------------
    def open(self, path: str | Path) -> None:
        """Probe the file in a worker; reuse its sidecar or start the analysis."""
        path = Path(path).expanduser()
        self._abandon_analysis()
        self.analysis, self.report_view, self.sidecar_file = None, None, None
        self.live_poses = None
        self.report_cache = ReportCache()
        self.video_path = path
        self.frame_count = 0
        self.slowmo = 1.0  # real time, unless its sidecar or the user says otherwise
        self.opening.emit(path)
        self.status.emit(f"Opening {path.name}…")
        task = Task(
            "Opening the video", tasks.probe_video, path, self.settings.analysis(), parent=self
        )
        task.succeeded.connect(lambda opened, p=path: self._on_probed(p, opened))
        task.failed.connect(lambda *_: self._on_open_failed(path))
        self.start_task(task)

    def _on_open_failed(self, path: Path) -> None:
        if self.video_path == path:
            self.video_path = None
            self.openFailed.emit(path)
        self.settings.remove_recent_file(str(path.resolve()))
        self.recentFilesChanged.emit()

    def _on_probed(self, path: Path, opened: tasks.OpenedVideo) -> None:
        if path != self.video_path:
            return
        self.settings.add_recent_file(path)
        self.recentFilesChanged.emit()
        self.frame_count = len(opened.times_s)
        self.opened.emit(path, opened)
        info = opened.info
        self.status.emit(
            f"{path.name}: {info.width}×{info.height}, {info.fps:.3g} fps, {info.frame_count} frames"
            + (f" — {'; '.join(opened.warnings)}" if opened.warnings else "")
        )
        if opened.sidecar is None:
            self.start_analysis()
            return
        analysis, sidecar = opened.sidecar
        self.sidecar_file = sidecar
        self.slowmo = analysis.slowmo
        self._set_analysis(analysis)
        self.status.emit(f"{SIDECAR_NOTE} ({sidecar.name})")
        self.analysisFinished.emit(analysis)
        self.request_report()

    # --- analysing ----------------------------------------------------------------------
    def reanalyse(self) -> None:
        if self.video_path is not None and self.frame_count:
            self.start_analysis()

    def start_analysis(self) -> None:
        if self.video_path is None:
            return
        self._abandon_analysis()
        prefs = self.settings.analysis()
        task = Task(
            "Analysing the video",
            tasks.analyse_and_save,
            self.video_path,
            prefs,
            self.slowmo,
            self._corrections_to_keep(prefs),
            parent=self,
        )
        task.progress.connect(partial(self._on_progress, task))
        task.partial.connect(partial(self._on_live_poses, task))
        task.succeeded.connect(partial(self._on_analysis_done, task))
        task.cancelled.connect(partial(self._on_analysis_cancelled, task))
        task.finished.connect(partial(self._on_analysis_thread_finished, task))
        self.analysis_task = task
        self.progress = (0, 0)
        self.status.emit(f"Analysing {self.video_path.name} ({prefs.model} model)…")
        self.analysisStarted.emit()
        self.start_task(task)

    def _corrections_to_keep(self, prefs: AnalysisPreferences) -> Corrections:
        """The open analysis' hand corrections, for the new analysis: kept with the same model
        settings; with others (the points may have moved) only if the user says so."""
        if self.analysis is None or not self.analysis.corrections:
            return Corrections()
        if self.analysis.model.get("settings") == tasks.model_settings(prefs):
            return self.analysis.corrections
        keep = self.ask("Keep the corrections?", KEEP_CORRECTIONS_QUESTION)
        return self.analysis.corrections if keep else Corrections()

    def cancel_analysis(self) -> None:
        """The analysis stops at its next frame and says so when it has."""
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
        if task is not None:
            task.cancel()
            self.analysisStopped.emit()

    def _on_progress(self, task: Task, done: int, total: int, _message: str) -> None:
        """Remember the progress; views redraw it on their own clock.

        At the worker's 30 Hz a repaint per report would be needless UI work, so only the first
        and the last report are signalled.
        """
        if task is not self.analysis_task:
            return
        first = self.progress == (0, 0)
        self.progress = (done, total)
        if first or (total > 0 and done >= total):
            self.progressChanged.emit()

    def _on_live_poses(self, task: Task, live: tasks.LivePoses) -> None:
        if task is not self.analysis_task or task.is_cancelled:
            return
        self.live_poses = live
        self.livePosesArrived.emit(live)

    def _on_analysis_done(self, task: Task, result: tasks.AnalysisResult) -> None:
        if task is not self.analysis_task:
            return
        self.sidecar_file = result.sidecar
        self._set_analysis(result.analysis)
        self.set_slowmo(self.slowmo)  # in case it was changed while the analysis ran
        self.status.emit(
            f"Analysed {result.analysis.frame_count} frames in {format_clock(result.seconds)}"
            f" — saved {result.sidecar}"
        )
        self.analysisFinished.emit(result.analysis)
        self.request_report()

    def _on_analysis_cancelled(self, task: Task) -> None:
        if task is self.analysis_task:
            self.status.emit("Analysis cancelled — nothing was saved.")
            self.analysisCancelled.emit()

    def _on_analysis_thread_finished(self, task: Task) -> None:
        if task is self.analysis_task:
            self.analysis_task = None
            self.analysisStopped.emit()

    # --- the analysis and what is saved with it -----------------------------------------
    def _set_analysis(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.live_poses = None
        self.analysisChanged.emit(analysis)

    def set_subject(self, track_id: int) -> None:
        """Make ``track_id`` the analysed runner: save the choice and recompute the report."""
        if self.analysis is None or track_id not in self.analysis.tracks:
            return
        if self.analysing:
            self.status.emit("Wait for the analysis to finish before choosing the runner.")
            return
        if track_id == self.analysis.subject_id:
            return
        self.analysis.subject_id = int(track_id)
        self.status.emit(f"Person #{track_id} is now the analysed runner.")
        self.subjectChanged.emit(int(track_id))
        self._save("Saving the runner choice")
        self.request_report()

    def set_slowmo(self, factor: float) -> None:
        """Make ``factor`` the open video's slow-motion factor, saved with its analysis.

        The analysis is replaced, not changed: a report being computed from the old one in a
        worker is then recognised as outdated.
        """
        self.slowmo = float(factor)
        if self.analysis is not None and self.analysis.slowmo != self.slowmo:
            self.analysis = dataclasses.replace(self.analysis, slowmo=self.slowmo)
            self._save("Saving the slow-motion factor")

    def use_corrected_analysis(self, analysis: Analysis, text: str) -> None:
        """An edit (or its undo): show, save and measure the analysis that holds it."""
        self.analysis = analysis
        self.status.emit(text)
        self.analysisEdited.emit(analysis)
        self._save("Saving the corrections")
        self.request_report()

    def apply_settings(
        self, before: AnalysisPreferences, after: AnalysisPreferences, slowmo: float | None
    ) -> None:
        """New settings (and maybe a new slow-motion factor): recompute what they change."""
        self.settings.set_analysis(after)
        slowmo_changed = slowmo is not None and slowmo != self.slowmo
        if slowmo_changed:
            self.set_slowmo(slowmo)
        if self.analysis is None:
            return
        if tasks.model_settings(before) != tasks.model_settings(after):
            self.status.emit("Model settings changed: use Analysis ▸ Re-analyse to apply them.")
        if slowmo_changed or tasks.report_settings(before) != tasks.report_settings(after):
            self.request_report()

    def _save(self, name: str) -> None:
        """Save the analysis (runner, slow-motion factor, corrections) into its sidecar."""
        if self.video_path is None or self.analysis is None:
            return
        task = Task(name, tasks.save_analysis, self.analysis, self.video_path, parent=self)
        task.succeeded.connect(lambda path: setattr(self, "sidecar_file", path))
        self.start_task(task)

    # --- report -------------------------------------------------------------------------
    def request_report(self) -> None:
        if self.analysis is None:
            return
        self.reportRequested.emit()
        analysis = self.analysis
        task = Task(
            "Computing the running report",
            tasks.compute_report,
            analysis,
            self.settings.analysis(),
            self.report_cache,
            parent=self,
        )
        subject = analysis.subject_id
        task.succeeded.connect(lambda view, a=analysis, s=subject: self._on_report(a, s, view))
        self.start_task(task)

    def _on_report(self, analysis: Analysis, subject: int | None, view: ReportView) -> None:
        if analysis is not self.analysis or subject != analysis.subject_id:
            return  # a newer analysis or runner choice superseded this report
        self.report_view = view
        self.reportUpdated.emit(view)
