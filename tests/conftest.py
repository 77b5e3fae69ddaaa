"""Shared fixtures: where the real test data lives and small helpers for every test module.

The real data (COCO-format images with keypoints, running videos) sits outside the repository,
in ``../shared/data`` beside the checkout. ``RHPNET_COACH_DATA`` overrides the location.
Tests that need it fail loudly when it is missing: silently skipping would hide untested code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.clips import trim_video

REPO_ROOT = Path(__file__).resolve().parents[1]


def _find_shared_data() -> Path | None:
    candidates = [
        os.environ.get("RHPNET_COACH_DATA"),
        REPO_ROOT.parent / "shared" / "data",
        Path("/work/shared/data"),
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "dev-sportpose" / "annotations.json").is_file():
            return Path(candidate)
    return None


SHARED_DATA = _find_shared_data()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that reads the real data (clips, annotated images) is ``slow``, whichever fixture
    brings the data in; ``make test-fast`` leaves them out (``make test`` runs everything)."""
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if SHARED_DATA is None:
        pytest.fail(
            "real test data not found: set RHPNET_COACH_DATA to the folder holding "
            "dev-sportpose/, dev-running-lspet/ and videos/"
        )
    return SHARED_DATA


@pytest.fixture(scope="session")
def sportpose_dir(shared_data: Path) -> Path:
    return shared_data / "dev-sportpose"


@pytest.fixture(scope="session")
def running_lspet_dir(shared_data: Path) -> Path:
    return shared_data / "dev-running-lspet"


@pytest.fixture(scope="session")
def videos_dir(shared_data: Path) -> Path:
    return shared_data / "videos"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep caches and settings written by the code under test out of the real home folder."""
    home = tmp_path_factory.getbasetemp() / "home"
    home.mkdir(exist_ok=True)
    cache = Path(
        os.environ.get("RHPNET_COACH_TEST_CACHE", tmp_path_factory.getbasetemp() / "cache")
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))


@pytest.fixture(scope="session")
def built_model():
    """``built_model(arch, num_keypoints=17)``: an untrained network, built once per session.

    A full-size W32 network takes about a second to build on a CI core; tests that only read
    its structure or count it share one. Callers must not change its weights.
    """
    cache: dict[tuple[str, int], object] = {}

    def build(arch: str, num_keypoints: int = 17):
        if (arch, num_keypoints) not in cache:
            from rhpnet import build_model

            cache[arch, num_keypoints] = build_model(arch, num_keypoints=num_keypoints)
        return cache[arch, num_keypoints]

    return build


@pytest.fixture(scope="session")
def treadmill_segment(videos_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 60 frames (1 s at 60 fps) of the real portrait treadmill clip, at half size
    (540x960) so that tests stay fast."""
    target = tmp_path_factory.mktemp("clips") / "treadmill_segment.mp4"
    return trim_video(
        videos_dir / "treadmill_side_IMG_5396.mp4", target, max_frames=60, scale=0.5, crf=18
    )


@pytest.fixture(scope="session")
def treadmill_analysis(treadmill_segment: Path):
    """The bundled model's analysis of ``treadmill_segment``, computed once per test session."""
    from app.core.pipeline import analyze_video

    return analyze_video(treadmill_segment)


@pytest.fixture(scope="session")
def analysed_clip(videos_dir: Path):
    """``analysed_clip(name)``: the bundled model's analysis of a whole clip of ``videos_dir``.

    Each clip is analysed at most once per test session (tens of seconds each on a CPU), so
    every test module that needs real tracks of the same clip shares the work. Callers must not
    mutate the returned ``Analysis``; use ``dataclasses.replace`` to change e.g. ``slowmo``.
    """
    cache: dict[str, object] = {}

    def analyse(name: str):
        if name not in cache:
            from app.core.pipeline import analyze_video

            cache[name] = analyze_video(videos_dir / name)
        return cache[name]

    return analyse
