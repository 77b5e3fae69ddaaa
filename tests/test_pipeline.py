"""The analysis pipeline: real clip end to end, callbacks, cancel, bounded memory, errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.core.analysis import Analysis, sidecar_path
from app.core.pipeline import (
    QUEUE_SIZE,
    AnalysisOptions,
    analyze_video,
)
from app.core.progress import Cancelled
from rhpnet.errors import UserFacingError
from rhpnet.media.video import VideoError, open_video
from rhpnet.skeleton import keypoint_index
from tests.support.fakes import CountingSource, FakeEstimator
from tests.support.media_factory import write_video


def test_real_treadmill_clip_end_to_end(treadmill_analysis, treadmill_segment):
    analysis = treadmill_analysis
    assert analysis.frame_count == 60 and len(analysis.tracks) == 1
    runner = analysis.subject()
    assert analysis.subject_id == 0 and runner is not None
    assert runner.frame_count_present >= 58
    assert analysis.video.width == 540 and analysis.video.height == 960
    with open_video(treadmill_segment) as source:
        np.testing.assert_array_equal(analysis.times_s, source.times_s)
    assert analysis.model["name"] == "blazepose" and analysis.model["backend"] == "solution"
    seen = runner.present
    kp = runner.keypoints[seen]
    assert np.all((kp[:, :, 0] > -25) & (kp[:, :, 0] < 565))
    # Upright runner: ankles below knees below hips below shoulders below the nose.
    chain = ["nose", "left_shoulder", "left_hip", "left_knee", "left_ankle"]
    ys = np.stack([kp[:, keypoint_index(n), 1] for n in chain], axis=1)
    assert np.mean(np.all(np.diff(ys, axis=1) > 0, axis=1)) > 0.9
    # The runner is about 60-85 % of the frame height, the box holds every keypoint.
    heights = runner.boxes[seen, 3] / 960
    assert 0.5 < np.median(heights) < 0.9
    box = runner.boxes[seen]
    assert np.all(kp[:, :, 0] >= box[:, None, 0] - 1) and np.all(
        kp[:, :, 1] <= (box[:, 1] + box[:, 3])[:, None] + 1
    )


def test_sidecar_round_trip_of_a_real_analysis(treadmill_analysis, tmp_path):
    path = treadmill_analysis.save(sidecar_path(tmp_path, treadmill_analysis.video.path))
    loaded = Analysis.load(path)
    assert loaded.model == treadmill_analysis.model
    assert loaded.warnings == [] and loaded.subject_id == 0
    np.testing.assert_array_equal(
        loaded.subject().keypoints, treadmill_analysis.subject().keypoints
    )


def test_progress_and_partial_results_are_batched(tmp_path):
    path = write_video(tmp_path / "clip.mp4", 120)
    progress: list[tuple[int, int, float]] = []
    batches: list[list] = []
    started = time.monotonic()
    analysis = analyze_video(
        path,
        estimator=FakeEstimator(delay_s=0.004),
        progress=lambda done, total: progress.append((done, total, time.monotonic())),
        on_frames=batches.append,
    )
    elapsed = time.monotonic() - started
    assert progress[-1][:2] == (120, 120)
    assert len(progress) <= elapsed * 30 + 2  # at most ~30 updates a second
    assert len(batches) < 120
    delivered = [r.index for batch in batches for r in batch]
    assert delivered == list(range(120))
    first = batches[0][0]
    assert first.track_ids.tolist() == [0] and len(first.poses) == 1
    assert analysis.subject().frame_count_present == 120


def test_decoding_stays_a_bounded_queue_ahead(tmp_path):
    source = CountingSource(open_video(write_video(tmp_path / "clip.mp4", 40)))
    estimator = FakeEstimator(delay_s=0.01)
    ahead = []

    def watch(done: int, total: int) -> None:
        ahead.append(source.decoded - len(estimator.calls))

    analyze_video(source, estimator=estimator, progress=watch)
    source.close()
    # Queue plus the frame being put and the one being estimated: never more in memory.
    assert max(ahead) <= QUEUE_SIZE + 2


def test_cancel_stops_promptly_and_ends_the_decoder(tmp_path):
    path = write_video(tmp_path / "clip.mp4", 300)
    cancel = threading.Event()
    estimator = FakeEstimator(delay_s=0.005)

    def progress(done: int, total: int) -> None:
        if done >= 10:
            cancel.set()

    with pytest.raises(Cancelled):
        analyze_video(path, estimator=estimator, progress=progress, cancel=cancel)
    assert len(estimator.calls) < 40
    time.sleep(0.2)
    assert not any(t.name == "video-decoder" and t.is_alive() for t in threading.enumerate())


def test_decoder_errors_reach_the_caller(tmp_path):
    class Failing(CountingSource):
        def frames(self, start: int = 0, *, rgb: bool = False):
            yield from list(self.inner.frames(start, rgb=rgb))[:3]
            raise VideoError("clip.mp4: the disk went away")

    source = Failing(open_video(write_video(tmp_path / "clip.mp4", 10)))
    with pytest.raises(VideoError, match="disk went away"):
        analyze_video(source, estimator=FakeEstimator())
    source.close()


def test_track_option_selects_and_validates(tmp_path):
    path = write_video(tmp_path / "clip.mp4", 8)
    analysis = analyze_video(path, AnalysisOptions(track_id=0), estimator=FakeEstimator())
    assert analysis.subject_id == 0
    with pytest.raises(UserFacingError, match="no track 3; tracks found: 0"):
        analyze_video(path, AnalysisOptions(track_id=3), estimator=FakeEstimator())


def test_slowmo_scales_real_time(tmp_path):
    path = write_video(tmp_path / "clip.mp4", 9, fps=240)
    analysis = analyze_video(path, AnalysisOptions(slowmo=8), estimator=FakeEstimator())
    assert analysis.slowmo == 8
    assert analysis.real_times_s[8] == pytest.approx(analysis.times_s[8] / 8)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (AnalysisOptions(model="rhpnet"), "needs --checkpoint"),
        (AnalysisOptions(model="openpose"), "unknown model"),
        (AnalysisOptions(max_people=0), "at least 1"),
        (AnalysisOptions(slowmo=0), "positive"),
        (AnalysisOptions(device="tpu"), "unknown device"),
    ],
)
def test_invalid_options_are_user_errors(tmp_path, options, message):
    with pytest.raises(UserFacingError, match=message):
        analyze_video(tmp_path / "never-opened.mp4", options)


def test_an_rgb_estimator_is_fed_rgb_straight_from_the_decoder(tmp_path):
    path = write_video(tmp_path / "clip.mp4", 5)

    class RgbFake(FakeEstimator):
        def __init__(self) -> None:
            super().__init__()
            self.rgb_frames = 0

        def estimate_rgb(self, image_rgb, timestamp_s):
            self.rgb_frames += 1
            return self.estimate(image_rgb, timestamp_s)

    rgb, bgr = RgbFake(), FakeEstimator()
    analyze_video(path, estimator=rgb)
    analyze_video(path, estimator=bgr)
    assert rgb.rgb_frames == len(rgb.calls) == 5 and len(bgr.calls) == 5
