"""A video or its analysis sidecar, as the commands that take either (``compare``, ``report``) see it.

Given a sidecar (``<stem>.analysis.npz``, or its readable ``.analysis.json`` twin) the analysis
is loaded as saved. Given a video, a reusable sidecar (same video bytes, same model settings;
docs/app.md) is loaded when there is one, otherwise the video is analysed and its sidecar saved
where the app would save it, so the next command on the same video is immediate.

The sidecar records the video's path when it was analysed. When the video has moved with its
sidecar, ``locate_video`` finds it beside the sidecar, for the key frames of the report.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from app.core.analysis import SIDECAR_SUFFIX, Analysis
from app.core.options import AnalysisOptions
from app.core.progress import Progress
from rhpnet.errors import DataError


def is_sidecar(path: str | Path) -> bool:
    name = Path(path).name
    return name.endswith(SIDECAR_SUFFIX) or name.endswith(".analysis.json")


def load_analysis(
    path: str | Path,
    options: AnalysisOptions | None = None,
    *,
    slowmo: float | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """The analysis of ``path`` (a sidecar or a video); ``slowmo`` overrides the stored factor."""
    options = options or AnalysisOptions()
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if is_sidecar(path):
        npz = path.with_name(path.name.removesuffix(".analysis.json") + SIDECAR_SUFFIX)
        analysis = Analysis.load(npz if path.name.endswith(".json") else path)
        analysis.video = dataclasses.replace(
            analysis.video, path=str(locate_video(analysis, npz) or analysis.video.path)
        )
    else:
        from app.core.sidecars import find_sidecar, save_sidecar

        found = find_sidecar(path, options.model_settings())
        if found is not None:
            analysis = found[0]
        else:
            from app.core.pipeline import analyze_video

            if slowmo is not None:  # recorded in the sidecar, for the next command or the app
                options = dataclasses.replace(options, slowmo=float(slowmo))
            analysis = analyze_video(path, options, progress=progress)
            save_sidecar(analysis, path)
        analysis.video = dataclasses.replace(analysis.video, path=str(path))
    if slowmo is not None:
        analysis = dataclasses.replace(analysis, slowmo=float(slowmo))
    return analysis


def locate_video(analysis: Analysis, sidecar: Path) -> Path | None:
    """The analysed video: where it was analysed, else beside the sidecar; None if neither."""
    recorded = Path(analysis.video.path)
    for candidate in (recorded, sidecar.parent / recorded.name):
        if candidate.is_file():
            return candidate
    return None
