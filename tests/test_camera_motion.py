"""The background's shift between frames, with the people masked out (app/core/camera_motion.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.core.camera_motion import (
    MOVING_CAMERA_SHARE_PER_S,
    CameraMotionMeter,
    moving_share_per_s,
)

WIDTH, HEIGHT = 640, 480
NOBODY = np.zeros((0, 4))
RUNNER_WIDTH = 240  # a tracking shot's runner: big in the frame


def _scene(pan_px: int, runner_x: int) -> np.ndarray:
    """A textured background seen ``pan_px`` further right, and a striped runner at
    ``runner_x``."""
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (HEIGHT // 16, (WIDTH + 400) // 16), np.uint8)
    background = np.kron(texture, np.ones((16, 16), np.uint8))
    image = background[:, pan_px : pan_px + WIDTH].copy()
    stripes = np.where((np.arange(RUNNER_WIDTH) // 12) % 2, 255, 0).astype(np.uint8)
    image[60:440, runner_x : runner_x + RUNNER_WIDTH] = stripes  # a runner's strong edges
    return np.repeat(image[:, :, None], 3, axis=2)


def _runner_box(runner_x: int) -> np.ndarray:
    return np.array([[runner_x, 60, RUNNER_WIDTH, 380]], np.float64)


def test_a_pan_is_measured_on_the_background_not_on_the_runner_it_follows():
    """The camera pans 24 px a frame to keep the runner in the same place: the background moves,
    the runner does not."""
    meter = CameraMotionMeter()
    assert all(math.isnan(v) for v in meter.shift(_scene(0, 200), _runner_box(200)))
    dx, dy = meter.shift(_scene(24, 200), _runner_box(200))
    # Phase correlation of 96-pixel thumbnails reads a 3.6-pixel thumbnail shift about a tenth
    # short: enough to tell a moving camera from a still one.
    assert dx == pytest.approx(-24, rel=0.15) and dy == pytest.approx(0, abs=1)


def test_a_runner_crossing_a_still_background_is_no_camera_motion():
    """Unmasked, the runner's 60 px move pulls the reading to 0.8 px."""
    meter = CameraMotionMeter()
    meter.shift(_scene(0, 100), _runner_box(100))
    dx, dy = meter.shift(_scene(0, 160), _runner_box(160))
    assert abs(dx) < 0.3 and abs(dy) < 0.3


def test_nothing_is_measured_across_a_cut_or_where_people_fill_the_frame():
    meter = CameraMotionMeter()
    meter.shift(_scene(0, 260), NOBODY)
    meter.reset()
    assert math.isnan(meter.shift(_scene(8, 260), NOBODY)[0])
    everyone = np.array([[0, 0, WIDTH, HEIGHT]], np.float64)
    assert math.isnan(meter.shift(_scene(16, 260), everyone)[0])


def test_the_camera_counts_as_moving_from_its_median_speed():
    still = np.tile([0.1, -0.05], (300, 1))
    panning = np.tile([4.0, 0.5], (300, 1))
    panning[:100] = 0.0  # a pan that starts after a third of the clip still moves the camera
    assert moving_share_per_s(still, WIDTH, 30.0) < MOVING_CAMERA_SHARE_PER_S
    assert moving_share_per_s(panning, WIDTH, 30.0) == pytest.approx(4.0 * 30 / WIDTH)
    assert moving_share_per_s(None, WIDTH, 30.0) is None
    assert moving_share_per_s(np.full((5, 2), np.nan), WIDTH, 30.0) is None
