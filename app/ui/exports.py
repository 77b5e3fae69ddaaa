"""Export jobs run on worker threads: thin calls into the ``app/core`` exporters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.analysis import Analysis
from app.ui.workers import TaskContext


@dataclass
class ExportJob:
    """What an export needs, captured when the user asks for it."""

    analysis: Analysis
    report: Any
    video_path: Path | None
    selected_angles: list[str]


def write_keypoints_csv(context: TaskContext, job: ExportJob, path: Path) -> Path:
    raise NotImplementedError


write_coco_json = write_angles_csv = write_metrics_json = write_metrics_csv = write_plot_png = (
    write_overlay_video
) = write_keypoints_csv
