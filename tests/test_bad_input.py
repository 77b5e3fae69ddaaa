"""Bad input: every case gets a clear one-line error (or, for a truncated file, the readable
part with a warning), and nothing half-written is left behind."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from app import cli
from app.core.pipeline import NoPersonFoundError, analyze_video
from rhpnet.media.video import VideoError, WebcamError, open_video
from tests.support.fakes import FakeEstimator
from tests.support.media_factory import truncate, write_audio_only, write_video


def gradient_frame(index: int, width: int, height: int) -> np.ndarray:
    """A smooth moving colour gradient: a video with nobody in it."""
    x = np.linspace(0, 255, width)[None, :]
    y = np.linspace(0, 255, height)[:, None]
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = (x + 3 * index) % 256
    image[..., 1] = y
    image[..., 2] = (x + y) / 2
    return image


def make_bad_inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    zero = folder / "zero.mp4"
    zero.write_bytes(b"")
    text = folder / "notes.mp4"
    text.write_text("These are my running notes, not a video.\n" * 20)
    no_index = truncate(write_video(folder / "full.mp4", 30), folder / "no_index.mp4", 0.5)
    (folder / "full.mp4").unlink()
    return {
        "missing": folder / "does_not_exist.mp4",
        "zero": zero,
        "text": text,
        "audio": write_audio_only(folder / "voice_memo.mp4"),
        "no_index": no_index,
    }


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "file not found"),
        ("zero", "empty (0 bytes)"),
        ("text", "not a readable video file"),
        ("audio", "no video in this file (it holds only audio)"),
        ("no_index", "truncated or damaged"),
    ],
)
def test_unreadable_files_raise_clear_errors(tmp_path, case, message):
    path = make_bad_inputs(tmp_path)[case]
    with pytest.raises(VideoError, match=re.escape(message)) as caught:
        open_video(path)
    assert "\n" not in str(caught.value) and path.name in str(caught.value)


def test_missing_webcam_is_a_clear_error():
    with pytest.raises(WebcamError, match="webcam 57: no camera with this index"):
        open_video(57)


@pytest.mark.slow  # BlazePose on every frame of a clip
def test_video_without_a_person(tmp_path):
    path = write_video(tmp_path / "empty_room.mp4", 20, image_fn=gradient_frame)
    with pytest.raises(NoPersonFoundError, match="no person found in any of its 20 frames"):
        analyze_video(path)


def test_truncated_video_analyses_the_readable_part(treadmill_segment, tmp_path):
    # The segment is written with its index first (faststart), as phones and our writer do,
    # so a copy cut at 60 % still decodes up to the cut.
    cut = truncate(treadmill_segment, tmp_path / "cut.mp4", 0.6)
    analysis = analyze_video(cut)
    assert analysis.warnings and "truncated" in analysis.warnings[0]
    runner = analysis.subject()
    assert 15 <= runner.frame_count_present < 60
    assert runner.frame_count_present >= analysis.frame_count - 4


def test_damaged_packets_are_skipped_with_a_warning(tmp_path):
    path = write_video(tmp_path / "clip.mp4", 60, gop=5, faststart=True)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 400] = np.random.default_rng(0).integers(0, 256, 400, np.uint8).tobytes()
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    analysis = analyze_video(damaged, estimator=FakeEstimator())
    present = analysis.subject().present
    assert analysis.frame_count == 60
    assert 30 < present.sum() < 60  # the damaged frames are missing, the rest analysed
    assert present[:5].all() and present[-5:].all()
    assert any("damaged packets" in w for w in analysis.warnings)


def test_matroska_cut_short_is_reported(tmp_path):
    path = write_video(tmp_path / "clip.mkv", 90)
    cut = truncate(path, tmp_path / "cut.mkv", 0.4)
    with open_video(cut) as source:
        assert 0 < source.info.frame_count < 60
        assert "truncated or damaged" in source.warnings[0]


def test_cli_batch_reports_each_bad_file_on_one_line_and_goes_on(tmp_path, videos_dir, capsys):
    bad = make_bad_inputs(tmp_path / "in")
    silent = write_video(tmp_path / "in" / "empty_room.mp4", 10, image_fn=gradient_frame)
    good = videos_dir / "posetrack18_000001_soccer_run_5frames.mp4"
    out = tmp_path / "out"
    inputs = [str(p) for p in bad.values()] + [str(silent), str(good)]
    code = cli.main(["analyze", *inputs, "--out", str(out), "--no-video", "--webcam", "57"])
    err = capsys.readouterr().err
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("rhpnet-coach: error:")]
    assert len(errors) == len(bad) + 2  # the bad files, the empty room, the webcam
    for path in [*bad.values(), silent]:
        assert sum(path.name in line for line in errors) == 1
    assert any("webcam 57" in line for line in errors)
    assert "Traceback" not in err
    stem = good.stem
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [
            f"{stem}.analysis.npz",
            f"{stem}.analysis.json",
            f"{stem}.keypoints.csv",
            f"{stem}.coco.json",
            f"{stem}.angles.csv",
            f"{stem}.metrics.json",
            f"{stem}.metrics.csv",
        ]
    )
