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


def write_cycle_csv(context: TaskContext, job: ExportJob, path: Path) -> Path:
    """Mean and SD per % of the gait cycle (the same CSV ``analyze --cycles`` writes)."""
    from app.core.cycle_export import write_cycle_csv as write
    from app.core.gait_cycle import report_cycles

    return write(report_cycles(job.report), path)


def write_cycle_png(context: TaskContext, job: ExportJob, path: Path) -> Path:
    from app.core.cycle_export import CycleSession
    from app.core.cycle_export import write_cycle_png as write
    from app.core.gait_cycle import cycle_ranges, report_cycles

    session = CycleSession(Path(job.report.video_path).stem, report_cycles(job.report))
    return write(
        [session],
        path,
        cycle_ranges(job.report.summary),
        title=f"{Path(job.report.video_path).name}: gait cycle",
    )


def write_report_pdf(context: TaskContext, job: ExportJob, path: Path) -> Path:
    """The athlete's PDF (as ``rhpnet-coach report`` writes it), key frames from the video."""
    from app.core.athlete_pdf import ReportInputs, write_athlete_pdf
    from app.core.key_frames import render_key_frames
    from rhpnet.errors import UserFacingError

    inputs = ReportInputs(job.report)
    try:
        inputs.key_frames = render_key_frames(
            job.report, job.analysis.video.path, job.analysis.video.fps
        )
    except UserFacingError as error:
        inputs.key_frames_missing = f"No key frames: {str(error).splitlines()[0]}"
    return write_athlete_pdf(inputs, path)


def write_trc(context: TaskContext, job: ExportJob, path: Path) -> Path:
    """OpenSim marker trajectories; needs the runner's height (Settings)."""
    from app.core.opensim import write_trc as write

    return write(job.report, path)


def write_mot(context: TaskContext, job: ExportJob, path: Path) -> Path:
    from app.core.opensim import write_mot as write

    return write(job.report, path)
