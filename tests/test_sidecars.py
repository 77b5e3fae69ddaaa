import os

import numpy as np
import pytest

from app.core import sidecars
from app.core.analysis import Analysis, Track
from rhpnet.media.info import VideoInfo, video_fingerprint


def _analysis(video, settings) -> Analysis:
    track = Track.empty(0, 3)
    track.scores[:] = 0.9
    fingerprint = video_fingerprint(video)
    info = VideoInfo(str(video), 64, 48, 30.0, 3, 0.1, fingerprint=fingerprint)
    return Analysis(info, np.arange(3) / 30, {0: track}, 0, {"name": "x", "settings": settings})


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "clips" / "run.mp4"
    path.parent.mkdir()
    path.write_bytes(os.urandom(4096))
    return path


def test_sidecar_beside_a_writable_video_and_reused_only_for_same_settings(
    video, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    settings = {"model": "default", "checkpoint": "", "max_people": 1}
    saved = sidecars.save_sidecar(_analysis(video, settings), video)
    assert saved == video.parent / "run.analysis.npz"
    found = sidecars.find_sidecar(video, settings)
    assert found is not None and found[1] == saved
    assert sidecars.find_sidecar(video, {**settings, "max_people": 2}) is None
    video.write_bytes(os.urandom(4096))  # same name, different content
    assert sidecars.find_sidecar(video, settings) is None


def test_read_only_folder_goes_to_user_data_dir(video, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr(sidecars, "_folder_writable", lambda folder: False)
    settings = {"model": "default"}
    saved = sidecars.save_sidecar(_analysis(video, settings), video)
    assert saved.parent == tmp_path / "data" / "rhpnet-coach" / "analyses"
    assert sidecars.find_sidecar(video, settings)[1] == saved


def test_failed_write_beside_video_falls_back(video, tmp_path, monkeypatch):
    """Whatever makes the write fail (read-only mount, full disk), the data dir takes over."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    original_save = Analysis.save

    def failing_beside_video(self, path):
        if os.path.dirname(path) == str(video.parent):
            raise OSError(28, "No space left on device")
        return original_save(self, path)

    monkeypatch.setattr(Analysis, "save", failing_beside_video)
    saved = sidecars.save_sidecar(_analysis(video, {"model": "default"}), video)
    assert saved.parent == tmp_path / "data" / "rhpnet-coach" / "analyses"
    assert saved.name.startswith("run.") and saved.name.endswith(".analysis.npz")
    assert not list(video.parent.glob("*.analysis.*"))
