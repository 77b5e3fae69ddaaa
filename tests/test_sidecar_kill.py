"""A process killed (SIGKILL) while it saves hand corrections never loses the edits it had
saved before: the sidecar is replaced atomically (docs/corrections.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from app.core import sidecars

REPO = Path(__file__).resolve().parents[1]

# Saves the sidecar of a minute of 60 fps over and over, one more moved keypoint each time,
# and prints how many edits the file on disk holds after each save. Files are written slowly, in
# small pieces, so that the kill lands while bytes are being written, the moment that matters.
_SAVER = textwrap.dedent(
    """
    import pathlib
    import sys
    import time
    import numpy as np
    from app.core import sidecars
    from app.core.analysis import Analysis, Track
    from app.core.corrections import KeypointMove
    from rhpnet.media.info import VideoInfo, video_fingerprint

    def write_slowly(path, data):
        with open(path, "wb") as file:
            for start in range(0, len(data), 32_768):
                file.write(data[start : start + 32_768])
                file.flush()
                time.sleep(0.002)
        return len(data)

    pathlib.Path.write_bytes = write_slowly
    video = sys.argv[1]
    frames = 3600
    rng = np.random.default_rng(0)
    track = Track.empty(0, frames)
    track.keypoints[:] = rng.uniform(0, 500, track.keypoints.shape)
    track.scores[:] = 0.9
    info = VideoInfo(video, 640, 480, 60.0, frames, frames / 60,
                     fingerprint=video_fingerprint(video))
    analysis = Analysis(info, np.arange(frames) / 60, {0: track}, 0, {"name": "x"})
    for edit in range(1, 10_000):
        move = KeypointMove(0, frame=edit % frames, joint="right_knee", x=float(edit), y=1.0)
        analysis.corrections = analysis.corrections.plus(move)
        sidecars.save_sidecar(analysis, video)
        print(edit, flush=True)
    """
)


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("delay_s", [0.0, 0.011, 0.023, 0.037, 0.051, 0.067])
def test_a_kill_during_a_save_keeps_every_earlier_edit(tmp_path, monkeypatch, delay_s):
    video = tmp_path / "run.mp4"
    video.write_bytes(os.urandom(4096))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    env = {**os.environ, "PYTHONPATH": str(REPO), "XDG_DATA_HOME": str(tmp_path / "data")}
    saver = subprocess.Popen(
        [sys.executable, "-c", _SAVER, str(video)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        saved = 0
        while saved < 4:  # several whole saves first, then a kill at some point of the next
            line = saver.stdout.readline()
            assert line, "the saving process stopped on its own"
            saved = int(line)
        time.sleep(delay_s)
        saver.send_signal(signal.SIGKILL)
        saver.wait(timeout=30)
        saved = max([saved, *(int(line) for line in saver.stdout.read().split())])
    finally:
        saver.kill()
        saver.stdout.close()
    found = sidecars.find_sidecar(video, {})
    assert found is not None, "the sidecar no longer loads"
    analysis, path = found
    kept = analysis.corrections.moves
    assert len(kept) >= saved  # nothing confirmed as saved is lost
    assert [m.x for m in kept] == [float(edit) for edit in range(1, len(kept) + 1)]
    leftovers = [p.name for p in path.parent.iterdir() if p.name.startswith(".")]
    assert len(leftovers) <= 1  # at most the one interrupted temporary file
    np.testing.assert_equal(analysis.frame_count, 3600)
