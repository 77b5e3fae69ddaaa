"""How the camera moves: the background's shift from one frame to the next.

A race is filmed by a camera that pans to follow the runners, a tracking shot from a vehicle
beside one. Their image coordinates are not ground coordinates: the mid-hip's height in the
picture moves with the camera as well as with the runner, so a metric that needs a still ground
(vertical oscillation) cannot be read from it. The shift is measured on the background alone:
phase correlation of two consecutive greyscale thumbnails (``THUMBNAIL`` square), with the
people found in either frame (their boxes, enlarged by ``BOX_MARGIN``) masked out, since a
runner filling the frame moves more than the background and would otherwise be measured.

Measured on the test clips (tests/test_running_real.py), as a share of the frame's width per
second of video: 0.4-0.8 % on the still treadmill clips and the handheld compilation (the
runner's limbs outside their box and the belt move a little), 5.6-8.5 % on the outdoor pan, the
panning race and the tracking shot: either side of ``MOVING_CAMERA_SHARE_PER_S``.
"""

from __future__ import annotations

import cv2
import numpy as np

from app.core.scene_cuts import thumbnail_of

THUMBNAIL = 96
BOX_MARGIN = (0.15, 0.1)  # of a box's width and height, on each side: limbs outside the box
MIN_BACKGROUND = 0.2  # of the thumbnail: less background than this measures nothing
# The median background speed, as a share of the frame's width per second of video, above which
# the camera counts as moving (the still clips read at most 0.8 %, the pans at least 5.6 %).
MOVING_CAMERA_SHARE_PER_S = 0.015


class CameraMotionMeter:
    """Fed every frame in order with the people's boxes; gives the background's shift since the
    previous frame, in frame pixels."""

    def __init__(self, rgb: bool = False) -> None:
        self._grey_code = cv2.COLOR_RGB2GRAY if rgb else cv2.COLOR_BGR2GRAY
        self._window = cv2.createHanningWindow((THUMBNAIL, THUMBNAIL), cv2.CV_32F)
        self._previous: tuple[np.ndarray, np.ndarray] | None = None

    def reset(self) -> None:
        """Forget the previous frame (a scene cut: the next frame has no shift to measure)."""
        self._previous = None

    def shift(self, image: np.ndarray, boxes: np.ndarray) -> tuple[float, float]:
        """(dx, dy) of the background from the previous frame to ``image`` (H, W, 3 uint8) in
        pixels; NaN for the first frame or where the people hide nearly all the background.
        ``boxes`` are the people's (x, y, width, height) in ``image``."""
        height, width = image.shape[:2]
        grey = cv2.cvtColor(thumbnail_of(image, THUMBNAIL), self._grey_code).astype(np.float32)
        mask = _background_mask(boxes, width, height)
        previous, self._previous = self._previous, (grey, mask)
        if previous is None:
            return (np.nan, np.nan)
        both = mask * previous[1]
        if both.mean() < MIN_BACKGROUND:
            return (np.nan, np.nan)
        weights = both * self._window
        (dx, dy), _ = cv2.phaseCorrelate(
            _masked(previous[0], both, weights), _masked(grey, both, weights)
        )
        return (dx * width / THUMBNAIL, dy * height / THUMBNAIL)


def moving_share_per_s(shifts_px: np.ndarray | None, width: int, fps: float) -> float | None:
    """The camera's typical speed: the median background shift (either axis' larger part), as a
    share of the frame's width per second of video; None where nothing was measured."""
    if shifts_px is None or width <= 0 or not fps > 0:
        return None
    speed = np.abs(np.asarray(shifts_px, np.float64)).max(axis=1)
    speed = speed[np.isfinite(speed)]
    if speed.size == 0:
        return None
    return float(np.median(speed)) * fps / width


def _masked(grey: np.ndarray, mask: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The background of a thumbnail, its mean removed (so the masked-out part adds no edge),
    tapered by the window."""
    mean = float((grey * mask).sum() / max(float(mask.sum()), 1.0))
    return ((grey - mean) * weights).astype(np.float32)


def _background_mask(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """1 where the thumbnail shows background, 0 under a person's enlarged box."""
    mask = np.ones((THUMBNAIL, THUMBNAIL), np.float32)
    sx, sy = THUMBNAIL / width, THUMBNAIL / height
    for x, y, w, h in np.asarray(boxes, np.float64).reshape(-1, 4):
        if not np.isfinite((x, y, w, h)).all():
            continue
        mx, my = BOX_MARGIN[0] * w, BOX_MARGIN[1] * h
        x0, x1 = int(max(0.0, (x - mx) * sx)), int(np.ceil((x + w + mx) * sx))
        y0, y1 = int(max(0.0, (y - my) * sy)), int(np.ceil((y + h + my) * sy))
        mask[y0:y1, x0:x1] = 0.0
    return mask
