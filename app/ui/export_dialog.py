"""The Export menu: each file type the ``analyze`` command writes, from the app.

The writers are the ``app/core`` exporters the command line uses, run on worker threads. The
annotated video shows a progress dialog with Cancel; the exporters write atomically, so a
cancelled or failed export leaves no partial file behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QMenu, QProgressDialog

from app.ui import exports
from app.ui.workers import Task

if TYPE_CHECKING:
    from app.ui.main_window import MainWindow


@dataclass(frozen=True)
class ExportKind:
    key: str
    label: str
    suffix: str
    file_filter: str
    needs_report: bool
    writer: Callable
    long_running: bool = False


EXPORT_KINDS: tuple[ExportKind, ...] = (
    ExportKind(
        "keypoints_csv",
        "Keypoints CSV…",
        ".keypoints.csv",
        "CSV (*.csv)",
        False,
        exports.write_keypoints_csv,
    ),
    ExportKind(
        "coco_json",
        "Keypoints COCO JSON…",
        ".coco.json",
        "JSON (*.json)",
        False,
        exports.write_coco_json,
    ),
    ExportKind(
        "angles_csv", "Angles CSV…", ".angles.csv", "CSV (*.csv)", True, exports.write_angles_csv
    ),
    ExportKind(
        "metrics_json",
        "Metrics JSON…",
        ".metrics.json",
        "JSON (*.json)",
        True,
        exports.write_metrics_json,
    ),
    ExportKind(
        "metrics_csv",
        "Metrics CSV…",
        ".metrics.csv",
        "CSV (*.csv)",
        True,
        exports.write_metrics_csv,
    ),
    ExportKind(
        "plot_png",
        "Angle plot PNG…",
        ".angles.png",
        "PNG image (*.png)",
        True,
        exports.write_plot_png,
    ),
    ExportKind(
        "cycle_csv",
        "Gait-cycle curves CSV…",
        ".cycle.csv",
        "CSV (*.csv)",
        True,
        exports.write_cycle_csv,
    ),
    ExportKind(
        "cycle_png",
        "Gait-cycle plot PNG…",
        ".cycle.png",
        "PNG image (*.png)",
        True,
        exports.write_cycle_png,
    ),
    ExportKind(
        "report_pdf",
        "Athlete report (PDF)…",
        ".report.pdf",
        "PDF (*.pdf)",
        True,
        exports.write_report_pdf,
    ),
    ExportKind(
        "opensim_trc",
        "OpenSim markers (.trc)…",
        ".trc",
        "OpenSim marker file (*.trc)",
        True,
        exports.write_trc,
    ),
    ExportKind(
        "opensim_mot",
        "OpenSim angles (.mot)…",
        ".mot",
        "OpenSim motion file (*.mot)",
        True,
        exports.write_mot,
    ),
    ExportKind(
        "overlay_video",
        "Annotated video (MP4)…",
        ".overlay.mp4",
        "MP4 video (*.mp4)",
        False,
        exports.write_overlay_video,
        True,
    ),
)


class ExportController(QObject):
    """Builds the Export menu and runs exports; ``exported(path)`` when a file is written."""

    exported = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.actions = {}
        self.tasks: set[Task] = set()
        self.progress_dialog: QProgressDialog | None = None

    def populate_menu(self, menu: QMenu) -> None:
        for kind in EXPORT_KINDS:
            if kind.key == "overlay_video":
                menu.addSeparator()
            action = menu.addAction(kind.label)
            action.triggered.connect(lambda _=False, k=kind: self.choose_and_export(k))
            self.actions[kind.key] = action
        self.update_enabled(False, False)

    def update_enabled(self, has_analysis: bool, has_report: bool) -> None:
        for kind in EXPORT_KINDS:
            action = self.actions.get(kind.key)
            if action is not None:
                action.setEnabled(has_report if kind.needs_report else has_analysis)

    def default_path(self, kind: ExportKind) -> Path:
        video = self.window.video_path or Path("video.mp4")
        return video.parent / f"{video.stem}{kind.suffix}"

    def choose_and_export(self, kind: ExportKind) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.window,
            f"Export {kind.label.rstrip('…')}",
            str(self.default_path(kind)),
            kind.file_filter,
        )
        if path:
            self.export(kind.key, Path(path))

    def export(self, key: str, path: Path) -> Task | None:
        """Write one export to ``path`` on a worker; returns the task (None if nothing to export)."""
        kind = next(k for k in EXPORT_KINDS if k.key == key)
        window = self.window
        if window.analysis is None or (kind.needs_report and window.report is None):
            window.report_error("Nothing to export yet: open and analyse a video first.")
            return None
        job = exports.ExportJob(
            analysis=window.analysis,
            report=window.report.report if window.report is not None else None,
        )
        task = Task(
            f"Exporting {kind.label.rstrip('…').lower()}", kind.writer, job, path, parent=window
        )
        task.succeeded.connect(lambda written: self._on_done(Path(written)))
        task.cancelled.connect(
            lambda: window.status_label.setText("Export cancelled — no file written.")
        )
        if kind.long_running:
            self._show_progress(task, path)
        self.tasks.add(task)
        task.finished.connect(lambda t=task: self.tasks.discard(t))
        window.status_label.setText(f"Exporting {path.name}…")
        window.start_task(task)
        return task

    def _show_progress(self, task: Task, path: Path) -> None:
        dialog = QProgressDialog(f"Writing {path.name}…", "Cancel", 0, 0, self.window)
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
        self.window.status_label.setText(f"Exported {path}")
        self.exported.emit(str(path))

    def cancel_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()
