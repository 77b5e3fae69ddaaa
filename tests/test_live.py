import numpy as np
import pytest

from app.core.live import DelayBuffer, LiveFrame, Recorder


def _frame(index: int, fps: float = 30.0) -> LiveFrame:
    return LiveFrame(index, index / fps, np.full((4, 4, 3), index % 255, np.uint8))


def test_delay_buffer_returns_frame_captured_delay_seconds_ago():
    buffer = DelayBuffer(max_delay_s=2.0)
    for index in range(90):  # 3 s at 30 fps
        buffer.push(_frame(index))
    assert buffer.latest.index == 89
    assert buffer.delayed(0).index == 89
    assert buffer.delayed(1.0).index == 59
    assert buffer.delayed(2.0).index == 29
    # older frames beyond the horizon (2 s + 1 s margin) were dropped; 3 s ago is the edge
    assert len(buffer) <= 91
    assert buffer.delayed(5.0) is None


def test_delay_buffer_not_yet_filled_returns_none():
    buffer = DelayBuffer(max_delay_s=10.0)
    for index in range(15):
        buffer.push(_frame(index))
    assert buffer.delayed(1.0) is None
    assert buffer.delayed(0.2).index == 8


def test_poses_attach_and_fall_back_to_latest_earlier():
    buffer = DelayBuffer()
    for index in range(5):
        buffer.push(_frame(index))
    buffer.attach_poses(2, "poses-2")
    assert buffer.latest_poses_up_to(4) == "poses-2"
    assert buffer.latest_poses_up_to(1) is None


def test_recorder_finish_writes_video_and_abort_leaves_nothing(tmp_path):
    from rhpnet.media.video import open_video

    path = tmp_path / "take.mp4"
    recorder = Recorder(path, 64, 48, 30.0)
    for index in range(12):
        recorder.write(np.full((48, 64, 3), index * 20, np.uint8), 100.0 + index / 30)
    assert not path.exists()  # written under a temporary name until finished
    assert recorder.finish() == path
    with open_video(path) as video:
        assert video.info.frame_count == 12
        assert abs(video.times_s[-1] - 11 / 30) < 1e-3

    aborted = tmp_path / "aborted.mp4"
    recorder = Recorder(aborted, 64, 48, 30.0)
    recorder.write(np.zeros((48, 64, 3), np.uint8), 0.0)
    recorder.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.mp4"]


def test_recorder_block_keeps_the_file_only_when_it_succeeds(tmp_path):
    with Recorder(tmp_path / "kept.mp4", 64, 48, 30.0) as recorder:
        for index in range(3):
            recorder.write(np.zeros((48, 64, 3), np.uint8), index / 30)
    with (
        pytest.raises(RuntimeError, match="camera unplugged"),
        Recorder(tmp_path / "dropped.mp4", 64, 48, 30.0) as recorder,
    ):
        recorder.write(np.zeros((48, 64, 3), np.uint8), 0.0)
        raise RuntimeError("camera unplugged")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.mp4"]
