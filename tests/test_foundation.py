"""Shared building blocks: skeleton tables, atomic writes, the analysis sidecar and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app import cli
from app.core.analysis import Analysis, Track, sidecar_path
from rhpnet import skeleton
from rhpnet.atomic import atomic_open, atomic_write_text
from rhpnet.errors import DataError
from rhpnet.media.info import VideoInfo, video_fingerprint
from rhpnet.poses import FramePoses


def test_coco_flip_permutation_swaps_left_and_right():
    perm = skeleton.COCO_FLIP_PERMUTATION
    assert list(perm) == [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    for left, right in zip(skeleton.COCO_LEFT, skeleton.COCO_RIGHT, strict=True):
        assert (
            skeleton.COCO_KEYPOINT_NAMES[left].replace("left", "right")
            == (skeleton.COCO_KEYPOINT_NAMES[right])
        )
    assert skeleton.flip_permutation(skeleton.MPII_FLIP_PAIRS, 16)[:6] == [5, 4, 3, 2, 1, 0]


def test_flip_pairs_follow_from_left_and_right_names():
    assert skeleton.flip_pairs_from_names(skeleton.COCO_KEYPOINT_NAMES) == skeleton.COCO_FLIP_PAIRS
    assert skeleton.flip_pairs_from_names(skeleton.MPII_KEYPOINT_NAMES) == skeleton.MPII_FLIP_PAIRS
    assert skeleton.flip_pairs_from_names(["nose", "left_toe", "tail", "right_toe"]) == ((1, 3),)
    assert skeleton.flip_pairs_from_names(["head", "neck"]) == ()


def test_keypoint_index_names_valid_choices():
    assert skeleton.keypoint_index("left_knee") == 13
    with pytest.raises(KeyError, match="left_knee"):
        skeleton.keypoint_index("knee")


def test_frame_poses_validates_lengths():
    empty = FramePoses.empty()
    assert len(empty) == 0 and empty.keypoints.shape == (0, 17, 3)
    with pytest.raises(ValueError, match="inconsistent"):
        FramePoses(np.zeros((2, 17, 3)), np.zeros((1, 4)), np.zeros(2))


def test_atomic_write_leaves_old_file_on_error(tmp_path):
    target = tmp_path / "result.txt"
    atomic_write_text(target, "first")
    with pytest.raises(RuntimeError), atomic_open(target, "w") as handle:
        handle.write("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["result.txt"]


def test_atomic_write_flushes_the_file_through_a_writable_handle(tmp_path, monkeypatch):
    """On Windows fsync needs write access (FlushFileBuffers): a read-only descriptor fails with
    EBADF there, so every atomic write would fail. Emulated here for regular files."""
    import errno
    import fcntl
    import os
    import stat

    real_fsync = os.fsync

    def windows_like_fsync(fd: int) -> None:
        read_only = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY
        if stat.S_ISREG(os.fstat(fd).st_mode) and read_only:
            raise OSError(errno.EBADF, "Bad file descriptor")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", windows_like_fsync)
    atomic_write_text(tmp_path / "result.txt", "whole")
    assert (tmp_path / "result.txt").read_text() == "whole"


def _toy_analysis(tmp_path) -> Analysis:
    frames = 5
    track = Track.empty(3, frames)
    track.keypoints[1:4, :17] = np.random.default_rng(0).uniform(0, 100, (3, 17, 3))
    track.scores[1:4] = 0.9
    track.boxes[1:4] = [10, 20, 30, 40]
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not really a video but bytes to fingerprint")
    info = VideoInfo(
        str(video), 640, 480, 30.0, frames, frames / 30, fingerprint=video_fingerprint(video)
    )
    return Analysis(
        info, np.arange(frames) / 30.0, {3: track}, subject_id=3, model={"name": "test"}
    )


def test_analysis_sidecar_round_trip(tmp_path):
    analysis = _toy_analysis(tmp_path)
    path = analysis.save(sidecar_path(tmp_path / "out", analysis.video.path))
    assert path.name == "clip.analysis.npz"
    assert json.loads(path.with_suffix(".json").read_text())["subject_id"] == 3
    loaded = Analysis.load(path)
    assert loaded.video == analysis.video
    np.testing.assert_array_equal(loaded.times_s, analysis.times_s)
    np.testing.assert_array_equal(loaded.subject().keypoints, analysis.subject().keypoints)
    assert loaded.subject().frame_count_present == 3
    assert np.isnan(loaded.subject().keypoints[0]).all()


def test_the_camera_shifts_survive_the_sidecar_and_older_sidecars_have_none(tmp_path):
    """An analysis made before the camera's motion was measured opens with it unknown (None),
    and its metrics keep vertical oscillation (docs/engine.md, "Camera motion")."""
    analysis = _toy_analysis(tmp_path)
    path = analysis.save(sidecar_path(tmp_path / "out", analysis.video.path))
    assert Analysis.load(path).camera_shift_px is None
    shifts = np.array([[np.nan, np.nan], [1, 0], [2, 0.5], [3, 0], [4, -1]], np.float32)
    analysis.camera_shift_px = shifts
    loaded = Analysis.load(analysis.save(path))
    np.testing.assert_array_equal(loaded.camera_shift_px, shifts)
    with np.load(path) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["camera_shift_px"] = shifts[:3]
    np.savez_compressed(path, **arrays)
    with pytest.raises(DataError, match="inconsistent"):
        Analysis.load(path)


def test_a_format_1_sidecar_of_17_keypoints_still_opens_with_no_feet(tmp_path):
    """Sidecars written before the feet (format 1, COCO-17) open, their foot points NaN."""
    analysis = _toy_analysis(tmp_path)
    path = analysis.save(sidecar_path(tmp_path / "out", analysis.video.path))
    with np.load(path) as stored:
        arrays = {name: stored[name] for name in stored.files}
    meta = json.loads(str(arrays["metadata_json"]))
    meta["format"] = 1
    meta["keypoint_names"] = meta["keypoint_names"][:17]
    arrays["metadata_json"] = np.asarray(json.dumps(meta))
    arrays["keypoints"] = arrays["keypoints"][:, :, :17]
    np.savez_compressed(path, **arrays)
    loaded = Analysis.load(path)
    assert loaded.subject().keypoints.shape == (5, 21, 3)
    np.testing.assert_array_equal(
        loaded.subject().keypoints[:, :17], analysis.subject().keypoints[:, :17]
    )
    assert np.isnan(loaded.subject().keypoints[:, 17:]).all()
    meta["keypoint_names"][0] = "snout"  # not ours: refused with the reason, not misread
    arrays["metadata_json"] = np.asarray(json.dumps(meta))
    np.savez_compressed(path, **arrays)
    with pytest.raises(DataError, match="nose"):
        Analysis.load(path)


def test_analysis_load_rejects_garbage(tmp_path):
    bad = tmp_path / "bad.analysis.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(DataError, match="not a readable analysis"):
        Analysis.load(bad)


def test_slowmo_scales_real_time(tmp_path):
    analysis = _toy_analysis(tmp_path)
    analysis.slowmo = 8.0
    assert analysis.real_times_s[-1] == pytest.approx(4 / 30 / 8)


def test_cli_rejects_unknown_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["analyse-typo"])
    assert exit_info.value.code == 2
    assert "unknown command" in capsys.readouterr().err


def test_cli_version(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert "rhpnet-coach" in capsys.readouterr().out
