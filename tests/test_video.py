"""Video sources: exact seeking, container timestamps, rotation, codecs, folders, the writer."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rhpnet.media.video import (
    FileVideoSource,
    ImageFolderSource,
    VideoError,
    open_video,
)
from rhpnet.media.writer import H264Writer
from tests.support.media_factory import pattern_frame, read_index, write_video


def _sequential(source) -> dict[int, np.ndarray]:
    return {frame.index: frame.image.copy() for frame in source.frames()}


def test_real_clip_metadata_and_exact_seek(videos_dir):
    # 949 frames of 480x360 H.264; keyframes spaced, so seeks land mid-GOP.
    with open_video(videos_dir / "treadmill_side_slow.mp4") as source:
        info = source.info
        assert (info.width, info.height, info.frame_count) == (480, 360, 949)
        assert info.fps == pytest.approx(30000 / 1001)
        assert info.codec == "h264" and info.rotation_deg == 0
        assert info.fingerprint.startswith(
            str((videos_dir / "treadmill_side_slow.mp4").stat().st_size)
        )
        times = source.times_s
        assert len(times) == 949 and times[0] == 0.0
        assert np.all(np.diff(times) > 0)
        assert times[-1] == pytest.approx(948 * 1001 / 30000, abs=1e-3)
        wanted = [948, 500, 301, 300, 299, 7, 0, 1, 2, 640]
        seen = {}
        for frame in source.frames():
            assert frame.image.dtype == np.uint8 and frame.image.flags["C_CONTIGUOUS"]
            assert frame.time_s == times[frame.index]
            if frame.index in wanted:
                seen[frame.index] = frame.image.copy()
        assert len(seen) == len(wanted)
        for index in wanted:  # backwards, forwards, neighbours: always the identical pixels
            frame = source.read_frame(index)
            assert frame.index == index and frame.time_s == times[index]
            np.testing.assert_array_equal(frame.image, seen[index])


def test_a_seek_into_a_long_group_of_pictures_is_exact(videos_dir):
    """The iPhone clip has keyframes at frames 0 and 250 only, with B-frames: a seek to frame
    202 decodes 203 frames before it, skipping the non-reference ones, yet every frame from
    there on is the sequential decode's, pixel for pixel."""
    with open_video(videos_dir / "treadmill_side_IMG_5396.mp4") as source:
        assert source.frames_decoded_before(0) == source.frames_decoded_before(250) == 0
        assert source.frames_decoded_before(251) < 8 < 200 < source.frames_decoded_before(202)
        sequential = _sequential(source)
        from_202 = {frame.index: frame.image for frame in source.frames(start=202)}
        assert sorted(from_202) == list(range(202, 388))
        for index, image in from_202.items():
            np.testing.assert_array_equal(image, sequential[index])
        np.testing.assert_array_equal(source.read_frame(249).image, sequential[249])


def test_seek_matches_sequential_decode_with_b_frames(tmp_path):
    path = write_video(tmp_path / "gop.mp4", 75, gop=12)
    with FileVideoSource(path) as source:
        frames = _sequential(source)
        assert sorted(frames) == list(range(75))
        assert [read_index(frames[i]) for i in range(75)] == list(range(75))
        rng = np.random.default_rng(1)
        for index in list(rng.permutation(75)[:25]) + [74, 73, 0, 12, 11, 13]:
            np.testing.assert_array_equal(source.read_frame(int(index)).image, frames[index])
        with pytest.raises(IndexError):
            source.read_frame(75)
        # RGB straight from the decoder is the BGR frame with its channels swapped.
        rgb = [f.image for f in source.frames(start=40, rgb=True)]
        np.testing.assert_array_equal(rgb[0][..., ::-1], frames[40])
        assert len(rgb) == 35


def test_frames_from_start_index(tmp_path):
    path = write_video(tmp_path / "start.mp4", 40, gop=10)
    with FileVideoSource(path) as source:
        frames = list(source.frames(start=23))
        assert [f.index for f in frames] == list(range(23, 40))
        assert [read_index(f.image) for f in frames] == list(range(23, 40))


@pytest.mark.parametrize("rotation", [90, -90, 180])
def test_rotated_phone_video_comes_out_upright(tmp_path, rotation):
    # Stored 128x96 with a display matrix, like a phone filming in portrait.
    path = write_video(tmp_path / f"rot{rotation}.mp4", 3, rotation=rotation)
    with FileVideoSource(path) as source:
        expected_ccw = rotation % 360
        assert source.info.rotation_deg == expected_ccw
        upright = source.read_frame(0).image
    stored = pattern_frame(0)
    turn = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 270: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180}
    expected = cv2.rotate(stored, turn[expected_ccw])
    assert upright.shape == expected.shape
    assert (source.info.width, source.info.height) == (expected.shape[1], expected.shape[0])
    assert np.abs(upright.astype(int) - expected).mean() < 4
    # OpenCV 5 applies the same display matrix on its own: both readers agree.
    capture = cv2.VideoCapture(str(path))
    ok, opencv_frame = capture.read()
    capture.release()
    assert ok and opencv_frame.shape == upright.shape
    assert np.abs(opencv_frame.astype(int) - upright).mean() < 4


def test_variable_frame_rate_keeps_container_times(tmp_path):
    rng = np.random.default_rng(0)
    times = np.round(np.cumsum(np.r_[0.0, rng.uniform(0.015, 0.06, 39)]), 3)
    path = write_video(tmp_path / "vfr.mp4", 40, times_s=times)
    with FileVideoSource(path) as source:
        np.testing.assert_allclose(source.times_s, times, atol=1e-4)
        decoded = [(f.index, f.time_s, read_index(f.image)) for f in source.frames()]
    assert [d[0] for d in decoded] == list(range(40))
    assert [d[2] for d in decoded] == list(range(40))
    np.testing.assert_allclose([d[1] for d in decoded], times, atol=1e-4)


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("clip.mkv", "libx264"),
        ("clip.mov", "libx264"),
        ("clip.webm", "libvpx-vp9"),
        ("clip.avi", "mpeg4"),
        ("clip_hevc.mp4", "libx265"),
    ],
)
def test_containers_and_codecs(tmp_path, name, codec):
    path = write_video(tmp_path / name, 20, codec=codec)
    with open_video(path) as source:
        assert source.info.frame_count == 20
        assert source.info.fps == pytest.approx(30, rel=1e-3)
        frames = _sequential(source)
        assert [read_index(frames[i]) for i in range(20)] == list(range(20))
        np.testing.assert_array_equal(source.read_frame(13).image, frames[13])


def test_image_folder_natural_order_and_nominal_rate(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(12):
        cv2.imwrite(str(folder / f"img{i}.png"), pattern_frame(i))
    (folder / "notes.txt").write_text("ignored")
    with open_video(folder, image_fps=25) as source:
        assert source.info.frame_count == 12 and source.info.fps == 25
        frames = list(source.frames())
        assert [read_index(f.image) for f in frames] == list(range(12))  # img10 after img9
        assert frames[10].time_s == pytest.approx(0.4)
        np.testing.assert_array_equal(source.read_frame(10).image, frames[10].image)
        assert source.info.fingerprint.startswith("images:12:")


def test_image_folder_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(VideoError, match="no images"):
        ImageFolderSource(empty)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    cv2.imwrite(str(mixed / "a1.png"), pattern_frame(1))
    cv2.imwrite(str(mixed / "a2.png"), pattern_frame(2, 64, 48))
    with ImageFolderSource(mixed) as source:
        assert [f.index for f in source.frames()] == [0]
        assert "skipped" in source.warnings[0]
        with pytest.raises(VideoError, match="differs from the first image"):
            source.read_frame(1)


def test_h264_writer_round_trip_keeps_times_and_odd_sizes(tmp_path):
    times = np.array([0.0, 0.04, 0.07, 0.13, 0.16])
    path = tmp_path / "out.mp4"
    with H264Writer(path, 129, 97, 30.0) as writer:
        for i, t in enumerate(times):
            writer.write(pattern_frame(i, 129, 97), t)
    with open_video(path) as source:
        assert source.info.codec == "h264"
        assert (source.info.width, source.info.height) == (130, 98)  # padded to even
        np.testing.assert_allclose(source.times_s, times, atol=1e-4)
        frames = _sequential(source)
    assert [read_index(frames[i]) for i in range(5)] == list(range(5))
    original = pattern_frame(3, 129, 97)
    assert np.abs(frames[3][:97, :129].astype(int) - original).mean() < 4
    with (
        pytest.raises(ValueError, match="differs"),
        H264Writer(tmp_path / "x.mp4", 64, 48, 30) as w,
    ):
        w.write(pattern_frame(0), 0.0)
