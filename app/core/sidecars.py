"""Where the app keeps the analysis sidecar of a video it opened, and when one can be reused.

A sidecar sits beside the video (``<stem>.analysis.npz``, as the ``analyze`` command writes
into its output folder) when that folder is writable, so results travel with the footage. For
read-only folders (a camera card, a shared drive) it goes to the user data folder instead, named
with the video's fingerprint so two clips called ``run.mp4`` never collide. A sidecar is reused
only when the video's fingerprint and the model settings match the current ones: changing the
model or the checkpoint re-analyses, renaming or copying the video does not.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.core.analysis import SIDECAR_SUFFIX, Analysis, sidecar_path
from rhpnet.errors import DataError
from rhpnet.media.info import video_fingerprint

APP_DIR_NAME = "rhpnet-coach"


def user_data_dir() -> Path:
    """The per-user data folder (XDG on Linux, Application Support on macOS, LOCALAPPDATA)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / APP_DIR_NAME


def user_sidecar_path(video_path: str | os.PathLike[str], fingerprint: str) -> Path:
    """``<data dir>/analyses/<stem>.<fingerprint digest>.analysis.npz``."""
    digest = fingerprint.rsplit(":", 1)[-1][:16] or "unknown"
    return user_data_dir() / "analyses" / f"{Path(video_path).stem}.{digest}{SIDECAR_SUFFIX}"


def _folder_writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def sidecar_candidates(video_path: str | os.PathLike[str], fingerprint: str) -> list[Path]:
    """Where to look for an existing sidecar, in order: beside the video, then the data dir."""
    video_path = Path(video_path)
    return [sidecar_path(video_path.parent, video_path), user_sidecar_path(video_path, fingerprint)]


def sidecar_target(video_path: str | os.PathLike[str], fingerprint: str) -> Path:
    """Where a new sidecar goes: beside the video if that folder is writable, else the data dir."""
    video_path = Path(video_path)
    if _folder_writable(video_path.parent):
        return sidecar_path(video_path.parent, video_path)
    return user_sidecar_path(video_path, fingerprint)


def analysis_matches(
    analysis: Analysis, fingerprint: str, model_settings: Mapping[str, Any]
) -> bool:
    """Same video bytes and the same model settings (every key given must be equal)."""
    if analysis.video.fingerprint != fingerprint:
        return False
    stored = analysis.model.get("settings", {})
    return all(stored.get(key) == value for key, value in model_settings.items())


def find_sidecar(
    video_path: str | os.PathLike[str],
    model_settings: Mapping[str, Any],
    fingerprint: str | None = None,
) -> tuple[Analysis, Path] | None:
    """The first reusable sidecar for this video and model settings, or None.

    Unreadable or stale sidecars are skipped (they will be overwritten by the next analysis).
    """
    fingerprint = fingerprint or video_fingerprint(video_path)
    for candidate in sidecar_candidates(video_path, fingerprint):
        if not candidate.is_file():
            continue
        try:
            analysis = Analysis.load(candidate)
        except DataError:
            continue
        if analysis_matches(analysis, fingerprint, model_settings):
            return analysis, candidate
    return None


def save_sidecar(analysis: Analysis, video_path: str | os.PathLike[str]) -> Path:
    """Save beside the video, falling back to the data dir if that write fails (read-only, full)."""
    fingerprint = analysis.video.fingerprint or video_fingerprint(video_path)
    target = sidecar_target(video_path, fingerprint)
    try:
        return analysis.save(target)
    except OSError:
        fallback = user_sidecar_path(video_path, fingerprint)
        if fallback == target:
            raise
        return analysis.save(fallback)
