"""Track cleaning: confidence, left/right swaps, glitches, gaps, zero-lag low-pass in real time."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.cleaning import (
    CleaningSettings,
    clean_track,
    find_impossible_legs,
    lowpass_filter,
    sampling_rate_hz,
)
from tests.support.synthetic_runner import case


def _sine_track(frequency_hz: float, times: np.ndarray) -> np.ndarray:
    xy = np.zeros((len(times), 1, 2))
    xy[:, 0, 0] = np.sin(2 * np.pi * frequency_hz * times)
    return xy


def _amplitude(signal: np.ndarray) -> float:
    middle = signal[len(signal) // 4 : -len(signal) // 4]
    return float((middle.max() - middle.min()) / 2)


def test_points_below_the_confidence_threshold_are_dropped():
    run = case("treadmill_right_60fps")
    points = run.keypoints.copy()
    points[10:12, 13, 2] = 0.1  # low confidence, junk position
    points[10:12, 13, :2] += 200.0
    cleaned = clean_track(points, run.real_times_s, CleaningSettings(cutoff_hz=None))
    assert cleaned.interpolated[10:12, 13].all()  # dropped, then bridged (2 frames < 0.1 s)
    error = np.linalg.norm(cleaned.keypoints[10:12, 13, :2] - run.clean_keypoints[10:12, 13, :2])
    assert error < 10.0
    assert (cleaned.keypoints[10:12, 13, 2] == 0.0).all()  # bridged points are marked


@pytest.mark.parametrize(
    "name", ["treadmill_left_60fps_corrupted", "overground_right_60fps_corrupted"]
)
def test_injected_leg_and_arm_swaps_are_repaired_exactly(name):
    run = case(name)
    assert run.swapped_frames["legs"].sum() > 10
    cleaned = clean_track(run.keypoints, run.real_times_s)
    np.testing.assert_array_equal(cleaned.swapped["legs"], run.swapped_frames["legs"])
    np.testing.assert_array_equal(cleaned.swapped["arms"], run.swapped_frames["arms"])


@pytest.mark.parametrize(
    ("name", "fps"),
    [
        ("treadmill_right_60fps", 60.0),
        ("overground_left_60fps", 60.0),
        ("treadmill_right_240fps_slowmo8", 240.0),
        ("treadmill_left_30fps", 30.0),
    ],
)
def test_real_leg_crossings_are_never_swapped(name, fps):
    """Side-view legs cross twice a stride; noise included, none may be 'repaired'."""
    run = case(name, noise_px=2.0, leg_swaps=0, arm_swaps=0, glitches=0, dropouts=0)
    cleaned = clean_track(run.keypoints, run.real_times_s)
    assert not cleaned.swapped["legs"].any()
    assert not cleaned.swapped["arms"].any()


def test_a_frame_with_both_legs_merged_does_not_start_a_swap():
    """Estimators sometimes put both legs in the middle for a frame: not a swap, a glitch."""
    run = case("treadmill_right_60fps", noise_px=0.5)
    points = run.keypoints.copy()
    apart = np.minimum(
        np.linalg.norm(points[:, 13, :2] - points[:, 14, :2], axis=1),
        np.linalg.norm(points[:, 15, :2] - points[:, 16, :2], axis=1),
    )
    frame = 30 + int(np.argmax(apart[30:200]))  # knees and ankles both well apart
    middle = 0.5 * (points[frame, [11, 13, 15], :2] + points[frame, [12, 14, 16], :2])
    points[frame, [11, 13, 15], :2] = middle
    points[frame, [12, 14, 16], :2] = middle
    cleaned = clean_track(points, run.real_times_s)
    assert not cleaned.swapped["legs"].any()
    assert cleaned.glitches[frame, [13, 14, 15, 16]].all()


def test_single_frame_glitches_are_removed():
    run = case("treadmill_right_60fps", glitches=12, seed=11)
    jumped = np.linalg.norm(run.keypoints[..., :2] - run.clean_keypoints[..., :2], axis=-1) > 50
    cleaned = clean_track(run.keypoints, run.real_times_s)
    assert jumped.sum() >= 10
    assert cleaned.glitches[jumped].all()
    after = np.linalg.norm(cleaned.keypoints[..., :2] - run.clean_keypoints[..., :2], axis=-1)
    assert np.nanmax(after[jumped]) < 15.0


def test_a_leg_on_the_treadmill_console_is_rejected():
    """A lost leg drawn up and forward (shank pointing up in front) is no running pose."""
    run = case("treadmill_right_60fps", noise_px=0.0)
    points = run.clean_keypoints.copy()
    hip = points[100:120, 12, :2]
    points[100:120, 14, :2] = hip + [120.0, -10.0]  # knee level with the hip, in front
    points[100:120, 16, :2] = hip + [250.0, -40.0]  # ankle further forward and higher
    facing = np.ones(len(points))
    bad = find_impossible_legs(points, facing)
    assert bad[100:120, [14, 16]].all()
    assert not bad[:100].any() and not bad[120:].any()


def test_short_gaps_are_bridged_and_long_gaps_stay_missing():
    run = case("treadmill_right_60fps", long_gap_s=0.25)
    points = run.keypoints.copy()
    points[30:34, 13] = np.nan  # 4 frames: 0.083 s between the known samples
    cleaned = clean_track(points, run.real_times_s)
    assert np.isfinite(cleaned.keypoints[30:34, 13, :2]).all()
    assert cleaned.interpolated[30:34, 13].all()
    start = len(points) // 2
    gap = slice(start, start + 15)
    assert np.isnan(cleaned.keypoints[gap, 16, :2]).all()
    assert not cleaned.interpolated[gap, 16].any()


def test_gap_length_is_measured_in_real_time_for_slow_motion():
    """20 frames at 240 fps are 0.083 s of running: bridged, although 2/3 s of video."""
    run = case("treadmill_right_240fps_slowmo8", leg_swaps=0, glitches=0)
    points = run.keypoints.copy()
    points[200:220, 15] = np.nan
    cleaned = clean_track(points, run.real_times_s)
    assert cleaned.interpolated[200:220, 15].all()
    assert cleaned.sample_rate_hz == pytest.approx(240.0)


@pytest.mark.parametrize("rate", [60.0, 240.0])
def test_filter_is_minus_3db_at_the_cutoff_in_real_time(rate):
    times = np.arange(int(4 * rate)) / rate
    gains = {}
    for frequency in (2.0, 8.0, 20.0):
        filtered, _ = lowpass_filter(_sine_track(frequency, times), times, cutoff_hz=8.0)
        gains[frequency] = _amplitude(filtered[:, 0, 0])
    assert gains[2.0] > 0.97
    assert gains[8.0] == pytest.approx(1 / np.sqrt(2), abs=0.03)
    assert gains[20.0] < 0.1


def test_filter_keeps_gaps_and_leaves_runs_too_short_to_pad_unfiltered():
    times = np.arange(300) / 60.0
    xy = _sine_track(1.0, times) + np.random.default_rng(0).normal(0, 0.05, (300, 1, 2))
    xy[100:140] = np.nan
    xy[145:150] = np.nan  # leaves a 5-sample island at 140..144
    filtered, unfiltered = lowpass_filter(xy, times, cutoff_hz=8.0)
    assert np.isnan(filtered[100:140]).all() and np.isnan(filtered[145:150]).all()
    assert unfiltered[140:145, 0].all() and not unfiltered[:100, 0].any()
    np.testing.assert_array_equal(filtered[140:145], xy[140:145])
    error = filtered[20:80, 0, 0] - np.sin(2 * np.pi * times[20:80])
    assert np.sqrt(np.mean(error**2)) < 0.03  # most of the 0.05 noise removed, no lag
    assert abs(np.mean(error)) < 0.01


def test_variable_frame_rate_is_filtered_on_a_uniform_grid():
    rng = np.random.default_rng(1)
    steps = rng.uniform(0.6, 1.4, 400) / 60.0  # phone-like jitter, +-40 %
    times = np.cumsum(steps)
    truth = np.sin(2 * np.pi * 1.5 * times)
    xy = _sine_track(1.5, times) + rng.normal(0, 0.03, (400, 1, 2))
    filtered, _ = lowpass_filter(xy, times, cutoff_hz=8.0)
    assert np.isfinite(filtered).all()
    error = filtered[20:-20, 0, 0] - truth[20:-20]
    assert np.sqrt(np.mean(error**2)) < 0.02
    assert sampling_rate_hz(times) == pytest.approx(60.0, rel=0.05)


def test_slow_motion_is_filtered_at_the_capture_rate():
    """Given real times, 240 fps footage played at 30 fps is filtered as 240 Hz data."""
    run = case("treadmill_right_240fps_slowmo8", leg_swaps=0, glitches=0)
    cleaned = clean_track(run.keypoints, run.real_times_s)
    assert cleaned.sample_rate_hz == pytest.approx(240.0)
    raw_error = np.nanmean(np.abs(run.keypoints - run.clean_keypoints)[..., :2])
    error = np.nanmean(np.abs(cleaned.keypoints - run.clean_keypoints)[..., :2])
    assert error < 0.5 * raw_error


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="even"):
        CleaningSettings(filter_order=3)
    with pytest.raises(ValueError, match="cutoff"):
        CleaningSettings(cutoff_hz=0)
    with pytest.raises(ValueError, match="one time per frame"):
        clean_track(np.zeros((10, 17, 3)), np.arange(9) / 30.0)
