"""Fixtures for the desktop app tests: offscreen Qt, isolated settings, short real clips.

Every clip is analysed at most once per test session (session-scoped sidecars); tests copy the
clip and its sidecar into their own folder so they can change or delete them freely.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from tests.support.clips import trim_video  # noqa: E402

SOCCER_CLIP = "posetrack18_000001_soccer_run_5frames.mp4"
TREADMILL_CLIP = "treadmill_side_IMG_5396.mp4"  # 60 fps portrait, side view
SEGMENT_START_S = 1.0
SEGMENT_SECONDS = 3.0  # about six ground contacts
SEGMENT_SCALE = 0.5  # 540x960: same motion, a quarter of the pixels to decode and encode


def analyse_once(video: Path):
    """What the app's analysis task does (same options, same sidecar), without the UI."""
    from app.core.pipeline import analyze_video
    from app.core.sidecars import save_sidecar
    from app.ui.settings import AnalysisPreferences
    from app.ui.tasks import analysis_options

    analysis = analyze_video(video, analysis_options(AnalysisPreferences()))
    return analysis, save_sidecar(analysis, video)


@pytest.fixture(scope="session")
def treadmill_3s_clip(tmp_path_factory: pytest.TempPathFactory, videos_dir: Path) -> Path:
    """3 s of the side-view treadmill clip (half size), analysed once, its sidecar beside it.

    Shared by the whole session: tests open ``clip_with_sidecar`` or ``clip_without_sidecar``,
    their own copies, never this file.
    """
    folder = tmp_path_factory.mktemp("treadmill_3s")
    clip = trim_video(
        videos_dir / TREADMILL_CLIP,
        folder / "treadmill_3s.mp4",
        start_s=SEGMENT_START_S,
        seconds=SEGMENT_SECONDS,
        scale=SEGMENT_SCALE,
    )
    analyse_once(clip)
    return clip


@pytest.fixture
def clip_with_sidecar(treadmill_3s_clip: Path, tmp_path: Path) -> Path:
    """A private copy of the 3 s clip and its sidecar: opening it shows the analysis at once."""
    target = tmp_path / treadmill_3s_clip.name
    shutil.copy2(treadmill_3s_clip, target)
    for sidecar in treadmill_3s_clip.parent.glob(f"{treadmill_3s_clip.stem}.analysis.*"):
        shutil.copy2(sidecar, tmp_path / sidecar.name)
    return target


@pytest.fixture
def clip_without_sidecar(treadmill_3s_clip: Path, tmp_path: Path) -> Path:
    """A private copy of the 3 s clip alone: opening it starts an analysis."""
    target = tmp_path / "fresh" / treadmill_3s_clip.name
    target.parent.mkdir()
    shutil.copy2(treadmill_3s_clip, target)
    return target


@pytest.fixture
def soccer_clip(videos_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "soccer" / SOCCER_CLIP
    target.parent.mkdir()
    shutil.copy2(videos_dir / SOCCER_CLIP, target)
    return target


@pytest.fixture
def app_settings(tmp_path: Path):
    from PySide6.QtCore import QSettings

    from app.ui.settings import AppSettings

    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def window(qtbot, app_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The main window with isolated settings; sidecars that fall back go under tmp_path."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from app.ui.main_window import MainWindow

    win = MainWindow(app_settings)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    errors: list[str] = []
    win.errorReported.connect(errors.append)
    win.test_errors = errors
    yield win
    win.close()
