"""Export jobs run on worker threads: thin calls into the ``app/core`` exporters.

Each writer takes ``(context, job, path)`` and returns the path written. The exporters are the
ones the ``analyze`` command uses, so a file exported from the app is identical to the CLI's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.analysis import Analysis
from app.ui.workers import TaskContext

if TYPE_CHECKING:
    from app.core.running_report import RunningReport


@dataclass
class ExportJob:
    """What an export needs, captured when the user asks for it."""

    analysis: Analysis
    report: RunningReport | None  # None until the kinematics report is ready


def write_keypoints_csv(context: TaskContext, job: ExportJob, path: Path) -> Path:
    from app.core.export import write_keypoints_csv as write

    return write(job.analysis, path)


def write_coco_json(context: TaskContext, job: ExportJob, path: Path) -> Path:
    from app.core.export import write_coco_json as write

    return write(job.analysis, path)


def write_overlay_video(context: TaskContext, job: ExportJob, path: Path) -> Path:
    """The annotated MP4; cancellable, and a cancelled export leaves no file."""
    from app.core.export import write_overlay_video as write

    return write(job.analysis, path, progress=context.progress, cancel=context.cancel)


def write_angles_csv(context: TaskContext, job: ExportJob, path: Path) -> Path:
    from app.core.running_report import write_angles_csv as write

    return write(job.report, path)


def write_metrics_json(context: TaskContext, job: ExportJob, path: Path) -> Path:
    from app.core.running_report import write_metrics_json as write

    return write(job.report, path)


def write_metrics_csv(context: TaskContext, job: ExportJob, path: Path) -> Path:
    from app.core.metrics_table import write_metrics_csv as write

    return write(job.report, path)


def write_plot_png(context: TaskContext, job: ExportJob, path: Path) -> Path:
    """The report's angle figure (the same PNG ``analyze --plots`` writes)."""
    from app.core.running_report import write_angle_plot as write

    return write(job.report, path)
