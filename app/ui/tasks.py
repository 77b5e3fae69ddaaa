"""The functions the app runs on worker threads. Each is thin glue over ``app/core``.

They take a ``TaskContext`` first (cancel flag, progress, partial results) and contain no Qt, so
what the GUI does is exactly what the ``analyze`` command does with the same settings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.core.analysis import Analysis
from app.core.corrections import Corrections
from app.core.options import AnalysisOptions, usable_cores
from app.core.sidecars import find_sidecar, save_sidecar
from app.ui.settings import AnalysisPreferences
from app.ui.workers import TaskContext
from app.viewmodels.report_view import ReportView, build_report_view
from rhpnet.media.info import VideoInfo

if TYPE_CHECKING:
    from app.core.pipeline import FrameResult
    from app.core.report_cache import ReportCache
    from rhpnet.media.video import VideoSource


@dataclass
class OpenedVideo:
    info: VideoInfo
    times_s: np.ndarray
    warnings: list[str]
    sidecar: tuple[Analysis, Path] | None


@dataclass
class AnalysisResult:
    analysis: Analysis
    sidecar: Path
    seconds: float


def analysis_options(prefs: AnalysisPreferences, slowmo: float = 1.0) -> AnalysisOptions:
    """The engine options the app's settings (and the video's slow-motion factor) stand for:
    the same ones ``analyze`` takes."""
    return AnalysisOptions(
        model=prefs.model,
        checkpoint=prefs.checkpoint or None,
        device=prefs.device,
        max_people=prefs.max_people,
        slowmo=slowmo,
        workers=prefs.workers or usable_cores(),
    )


def model_settings(prefs: AnalysisPreferences) -> dict[str, Any]:
    """The settings that change keypoints: a sidecar made with other values is not reused."""
    return analysis_options(prefs).model_settings()


def report_settings(prefs: AnalysisPreferences) -> dict[str, Any]:
    """The settings that only change the report (recomputed in a moment, no re-analysis)."""
    return {
        "filter_cutoff_hz": prefs.filter_cutoff_hz,
        "runner_height_cm": prefs.runner_height_cm,
    }


def open_reader(path: str | Path) -> VideoSource:
    """A frame reader for the player's decoding thread."""
    from rhpnet.media.video import open_video

    return open_video(path)


def probe_video(context: TaskContext, path: Path, prefs: AnalysisPreferences) -> OpenedVideo:
    """Open the file once (metadata, frame times, readable length) and look for its sidecar."""
    from rhpnet.media.video import open_video

    with open_video(path) as source:
        info, times, warnings = (
            source.info,
            np.asarray(source.times_s).copy(),
            list(source.warnings),
        )
    context.check_cancelled()
    found = find_sidecar(path, model_settings(prefs), fingerprint=info.fingerprint)
    if found is not None and found[0].frame_count != len(times):
        found = None
    return OpenedVideo(info, times, warnings, found)


class LivePoses:
    """Poses delivered while the analysis runs, by frame index, for the overlay.

    The worker only adds entries and the UI thread only looks them up, so one shared dict is
    handed over (no copies at 30 Hz). Track ids are the tracker's live ids; the final analysis
    may merge some of them.
    """

    def __init__(self) -> None:
        self.frames: dict[int, FrameResult] = {}
        self.done = 0

    def add(self, batch: list[FrameResult]) -> None:
        for result in batch:
            self.frames[result.index] = result
        self.done += len(batch)


def analyse_and_save(
    context: TaskContext,
    path: Path,
    prefs: AnalysisPreferences,
    slowmo: float = 1.0,
    corrections: Corrections | None = None,
) -> AnalysisResult:
    """Run the engine on the whole video, publishing poses as they come, then save the sidecar
    with the hand ``corrections`` to keep (docs/corrections.md)."""
    from app.core.pipeline import analyze_video

    started = time.monotonic()
    options = analysis_options(prefs, slowmo)
    live = LivePoses()

    def on_frames(batch: list[FrameResult]) -> None:
        live.add(batch)
        context.partial(live)

    analysis = analyze_video(
        path,
        options,
        progress=lambda done, total: context.progress(done, total),
        cancel=context.cancel,
        on_frames=on_frames,
    )
    context.check_cancelled()
    if corrections:
        analysis.corrections = corrections
    sidecar = save_sidecar(analysis, path)
    return AnalysisResult(analysis, sidecar, time.monotonic() - started)


def save_analysis(context: TaskContext, analysis: Analysis, path: Path) -> Path:
    """Persist a changed runner choice or slow-motion factor so reopening the video keeps it."""
    return save_sidecar(analysis, path)


def compute_report(
    context: TaskContext,
    analysis: Analysis,
    prefs: AnalysisPreferences,
    cache: ReportCache | None = None,
) -> ReportView:
    """Angles, gait events and metrics of the analysed runner (at the analysis' own slow-motion
    factor), shaped for the views; ``cache`` keeps the stages an edit did not change."""
    from app.core.running_report import build_report

    report = build_report(
        analysis,
        runner_height_cm=prefs.runner_height_cm or None,
        cutoff_hz=prefs.filter_cutoff_hz,
        cache=cache,
    )
    return build_report_view(report, analysis)
