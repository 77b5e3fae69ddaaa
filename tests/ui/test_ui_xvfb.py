"""The app on a real X server (Xvfb, xcb platform): it starts, shows a clip, and is not blank."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture
def xvfb_display(tmp_path):
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed (CI installs it in .ci/run: apt-get install xvfb ...)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "xvfb.log", "wb"),
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        pytest.fail(f"Xvfb did not start: {(tmp_path / 'xvfb.log').read_text()}")
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


@pytest.mark.xvfb
@pytest.mark.slow
def test_app_under_xvfb_shows_a_clip(xvfb_display, clip_with_sidecar, tmp_path):
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "xcb",
        "DISPLAY": xvfb_display,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PYTHONPATH": str(REPO_ROOT),
    }
    shots = tmp_path / "screenshots"
    shots.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "tests.ui.xvfb_app", str(clip_with_sidecar), str(shots)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    import cv2

    for name in ("main_window.png", "main_window_strike_zoomed.png"):
        image = cv2.imread(str(shots / name))
        assert image is not None and image.shape[0] >= 800 and image.shape[1] >= 1400
        colours = np.unique(image.reshape(-1, 3), axis=0)
        assert len(colours) > 2000, f"{name} looks blank ({len(colours)} colours)"
        assert image.std() > 20
        # the video area (upper left) shows footage, not the empty placeholder
        video_area = image[100:500, 100:700]
        assert len(np.unique(video_area.reshape(-1, 3), axis=0)) > 1000
    print(f"screenshots kept in {shots}")
