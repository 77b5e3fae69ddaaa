"""The Export menu: every file type the ``analyze`` command writes, from the app.

The entries are the registry of ``app/core/outputs.py`` (the command line iterates the same
one), run on worker threads. The annotated video shows a progress dialog with Cancel; the
writers write atomically, so a cancelled or failed export leaves no partial file behind.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QProgressDialog, QWidget

from app.core.outputs import OUTPUT_KINDS, OUTPUTS, OutputInputs, OutputKind, output_stem
from app.ui.session import VideoSession
from app.ui.workers import Task, TaskContext


def run_output(context: TaskContext, kind: OutputKind, inputs: OutputInputs, path: Path) -> Path:
    """One output on a worker: the registry's writer, cancellable where it runs long."""
    return kind.write(inputs, path, context.progress, context.cancel)


class ExportController(QObject):
    """Builds the Export menu and runs exports of the session's analysis and report;
    ``exported(path)`` when a file is written. Dialogs open over ``parent``."""

    exported = Signal(str)

    def __init__(self, session: VideoSession, parent: QWidget) -> None:
        super().__init__(parent)
        self.session = session
        self.parent_widget = parent
        self.actions = {}
        self.tasks: set[Task] = set()
        self.progress_dialog: QProgressDialog | None = None

    def populate_menu(self, menu: QMenu) -> None:
        for kind in OUTPUTS:
            if kind.long_running:
                menu.addSeparator()
            action = menu.addAction(f"{kind.label}…")
            action.triggered.connect(lambda _=False, k=kind: self.choose_and_export(k))
            self.actions[kind.key] = action
        self.update_enabled(False, False)

    def update_enabled(self, has_analysis: bool, has_report: bool) -> None:
        for kind in OUTPUTS:
            action = self.actions.get(kind.key)
            if action is not None:
                action.setEnabled(has_report if kind.needs_report else has_analysis)

    def default_path(self, kind: OutputKind) -> Path:
        """Beside the video, named as ``analyze`` names it."""
        video = self.session.video_path or Path("video.mp4")
        analysis = self.session.analysis
        return kind.path(video.parent, output_stem(analysis) if analysis else video.stem)

    def choose_and_export(self, kind: OutputKind) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.parent_widget,
            f"Export {kind.label}",
            str(self.default_path(kind)),
            kind.file_filter,
        )
        if path:
            self.export(kind.key, Path(path))

    def export(self, key: str, path: Path) -> Task | None:
        """Write one export to ``path`` on a worker; returns the task (None if nothing to export)."""
        kind = OUTPUT_KINDS[key]
        session = self.session
        view = session.report_view
        if session.analysis is None or (kind.needs_report and view is None):
            session.report_error("Nothing to export yet: open and analyse a video first.")
            return None
        inputs = OutputInputs(session.analysis, view.report if view is not None else None)
        task = Task(f"Exporting {kind.label.lower()}", run_output, kind, inputs, path, parent=self)
        task.succeeded.connect(lambda written: self._on_done(Path(written)))
        task.cancelled.connect(lambda: session.status.emit("Export cancelled — no file written."))
        if kind.long_running:
            self._show_progress(task, path)
        self.tasks.add(task)
        task.finished.connect(lambda t=task: self.tasks.discard(t))
        session.status.emit(f"Exporting {path.name}…")
        session.start_task(task)
        return task

    def _show_progress(self, task: Task, path: Path) -> None:
        dialog = QProgressDialog(f"Writing {path.name}…", "Cancel", 0, 0, self.parent_widget)
        dialog.setWindowTitle("Export")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(task.cancel)

        def on_progress(done: int, total: int, _message: str) -> None:
            dialog.setMaximum(max(total, 1))
            dialog.setValue(min(done, max(total, 1)))

        task.progress.connect(on_progress)
        task.finished.connect(dialog.close)
        task.finished.connect(dialog.deleteLater)
        self.progress_dialog = dialog
        dialog.show()

    def _on_done(self, path: Path) -> None:
        self.session.status.emit(f"Exported {path}")
        self.exported.emit(str(path))

    def cancel_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()
