"""``rhpnet-coach analyze``: outputs per input, image folders, webcam, options, exit codes."""

from __future__ import annotations

import csv
import json
import shutil
import time

import cv2
import numpy as np
import pytest

from app import cli
from app.core.analysis import Analysis
from app.core.pipeline import AnalysisOptions
from app.core.sidecars import find_sidecar
from rhpnet.media.video import open_video

SOCCER = "posetrack18_000001_soccer_run_5frames.mp4"


def _outputs(folder, stem: str, video: bool = True) -> list[str]:
    names = [
        f"{stem}.analysis.npz",
        f"{stem}.analysis.json",
        f"{stem}.keypoints.csv",
        f"{stem}.coco.json",
        f"{stem}.angles.csv",
        f"{stem}.metrics.json",
        f"{stem}.metrics.csv",
    ]
    return sorted(names + ([f"{stem}.overlay.mp4"] if video else []))


def test_analyze_writes_every_output(tmp_path, videos_dir, capsys):
    out = tmp_path / "results"
    code = cli.main(["analyze", str(videos_dir / SOCCER), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    stem = SOCCER[:-4]
    assert sorted(p.name for p in out.iterdir()) == _outputs(out, stem)
    assert "5 frames in" in err and "runner = track 0" in err
    analysis = Analysis.load(out / f"{stem}.analysis.npz")
    assert analysis.frame_count == 5 and analysis.subject_id == 0
    assert analysis.model["name"] == "blazepose"
    assert analysis.video.fingerprint and analysis.video.codec == "mpeg4"
    rows = list(csv.DictReader((out / f"{stem}.keypoints.csv").open()))
    assert [int(r["frame"]) for r in rows] == [0, 1, 2, 3, 4]
    coco = json.loads((out / f"{stem}.coco.json").read_text())
    assert [r["image_id"] for r in coco] == [0, 1, 2, 3, 4]
    with open_video(out / f"{stem}.overlay.mp4") as overlay:
        assert overlay.info.codec == "h264" and overlay.info.frame_count == 5
        assert (overlay.info.width, overlay.info.height) == (1280, 720)


def test_image_folder_input_with_nominal_rate(tmp_path, videos_dir, capsys):
    folder = tmp_path / "sprint_frames"
    folder.mkdir()
    with open_video(videos_dir / SOCCER) as source:
        for frame in source.frames():
            cv2.imwrite(str(folder / f"frame_{frame.index + 1}.jpg"), frame.image)
    out = tmp_path / "out"
    code = cli.main(["analyze", str(folder), "--out", str(out), "--fps", "10", "--no-video"])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == _outputs(out, "sprint_frames", video=False)
    rows = list(csv.DictReader((out / "sprint_frames.keypoints.csv").open()))
    assert float(rows[4]["time_s"]) == pytest.approx(0.4)


def test_track_option_and_slowmo(tmp_path, videos_dir, capsys):
    out = tmp_path / "out"
    args = ["analyze", str(videos_dir / SOCCER), "--out", str(out), "--no-video"]
    assert cli.main([*args, "--track", "7"]) == 1
    err = capsys.readouterr().err
    assert f"rhpnet-coach: error: {SOCCER}: there is no track 7; tracks found: 0" in err
    assert not out.exists() or list(out.iterdir()) == []
    assert cli.main([*args, "--track", "0", "--slowmo", "8"]) == 0
    analysis = Analysis.load(out / f"{SOCCER[:-4]}.analysis.npz")
    assert analysis.subject_id == 0 and analysis.slowmo == 8


def test_pick_chooses_the_person_at_a_point(tmp_path, videos_dir, capsys):
    """--pick X,Y@FRAME is the command line's click on a runner; a miss names who is there."""
    out = tmp_path / "out"
    args = ["analyze", str(videos_dir / SOCCER), "--out", str(out), "--no-video"]
    assert cli.main(args) == 0
    analysis = Analysis.load(out / f"{SOCCER[:-4]}.analysis.npz")
    x, y, w, h = analysis.tracks[analysis.subject_id].boxes[2]
    assert cli.main([*args, "--pick", f"{x + w / 2:.0f},{y + h / 2:.0f}@2"]) == 0
    assert Analysis.load(out / f"{SOCCER[:-4]}.analysis.npz").subject_id == analysis.subject_id
    capsys.readouterr()
    assert cli.main([*args, "--pick", "1,1@2"]) == 1
    err = capsys.readouterr().err
    assert f"{SOCCER}: nobody at x 1, y 1 in frame 2; people there: track 0 at x " in err
    with pytest.raises(SystemExit):
        cli.main([*args, "--pick", "1,1"])
    assert "expected X,Y@FRAME such as 640,360@120" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "rhpnet"], "--model rhpnet needs --checkpoint PATH"),
        (["--model", "hrnet", "--checkpoint", "nowhere.pth"], "checkpoint file not found"),
        (["--max-people", "0"], "--max-people must be at least 1"),
        (["--fps", "0"], "--fps must be a positive frame rate, got 0.0"),
    ],
)
def test_bad_options_stop_before_any_video(tmp_path, videos_dir, capsys, extra, message):
    code = cli.main(["analyze", str(videos_dir / SOCCER), "--out", str(tmp_path / "o"), *extra])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_no_input_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["analyze", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "give at least one VIDEO" in capsys.readouterr().err


class FakeCamera:
    """Replaces cv2.VideoCapture: real frames of a clip, delivered at about 30 fps."""

    frames: list[np.ndarray] = []

    def __init__(self, index: int) -> None:
        self.count = 0

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return True

    def read(self):
        time.sleep(1 / 30)
        image = self.frames[self.count % len(self.frames)]
        self.count += 1
        return True, image.copy()

    def get(self, prop: int) -> float:
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        pass


def test_webcam_recording_is_saved_then_analysed(tmp_path, videos_dir, monkeypatch, capsys):
    with open_video(videos_dir / SOCCER) as source:
        FakeCamera.frames = [cv2.resize(f.image, (640, 360)) for f in source.frames()]
    monkeypatch.setattr("rhpnet.media.video.cv2.VideoCapture", FakeCamera)
    out = tmp_path / "out"
    code = cli.main(
        ["analyze", "--webcam", "0", "--duration", "0.4", "--out", str(out), "--no-video"]
    )
    assert code == 0, capsys.readouterr().err
    recordings = list(out.glob("webcam0-*.mp4"))
    assert len(recordings) == 1
    with open_video(recordings[0]) as recording:
        assert 5 <= recording.info.frame_count <= 14
        assert recording.times_s[-1] <= 0.45
    stem = recordings[0].stem
    assert Analysis.load(out / f"{stem}.analysis.npz").subject() is not None


def test_the_app_reuses_an_analysis_written_beside_the_video(tmp_path, videos_dir, capsys):
    """``analyze --out <the video's folder>`` leaves a sidecar the desktop app opens instantly,
    and only for the model settings it was made with."""
    video = tmp_path / SOCCER
    shutil.copyfile(videos_dir / SOCCER, video)
    assert cli.main(["analyze", str(video), "--out", str(tmp_path), "--no-video"]) == 0, (
        capsys.readouterr().err
    )
    default = AnalysisOptions().model_settings()
    found = find_sidecar(video, default)
    assert found is not None and found[1] == tmp_path / f"{SOCCER[:-4]}.analysis.npz"
    assert find_sidecar(video, AnalysisOptions(max_people=3).model_settings()) is None
