"""Scene cuts in edited footage: where one shot ends and another begins.

A compilation of clips (a pace ladder cut together, a highlight reel) shows a different runner
position, scale and background from one frame to the next. Tracking across such a cut follows a
box that jumped, and a gait event or step spanning it is not a step. The pipeline ends every
track at a cut and the running report says where the cuts are (docs/engine.md, "Scene cuts").

Two cues must agree, because each alone fires on ordinary footage:

- the colour histograms of consecutive frames differ (Bhattacharyya distance above
  ``HISTOGRAM_DISTANCE``): a pan or a runner filling more of a handheld frame changes the
  histogram too, by up to 0.24 on the handheld test clip;
- the frames do not match after undoing the camera's shift (normalised cross-correlation of
  64 x 64 greyscale thumbnails, aligned by phase correlation, below ``ALIGNED_CORRELATION``): a
  fast pan's motion blur lowers that too, to 0.88 on the race clip, but leaves the histogram.

On the test clips (tests/test_scene_cuts.py):
the handheld compilation's four cuts (frames 62, 205, 345, 524) score 0.23-0.57 and 0.81-0.92;
no frame of the treadmill, race, tracking-shot or slow clips passes both thresholds.
"""

from __future__ import annotations

import cv2
import numpy as np

HISTOGRAM_DISTANCE = 0.2
ALIGNED_CORRELATION = 0.93
THUMBNAIL = 64
HISTOGRAM_BINS = [8, 8, 8]


class SceneCutDetector:
    """Fed every frame in order; says whether a frame starts a new shot."""

    def __init__(self, rgb: bool = False) -> None:
        self._grey_code = cv2.COLOR_RGB2GRAY if rgb else cv2.COLOR_BGR2GRAY
        self._window = cv2.createHanningWindow((THUMBNAIL, THUMBNAIL), cv2.CV_32F)
        self._previous: tuple[np.ndarray, np.ndarray] | None = None

    def is_cut(self, image: np.ndarray) -> bool:
        """True when ``image`` (H, W, 3 uint8) is the first frame of a new shot."""
        small = thumbnail_of(image, THUMBNAIL)
        histogram = cv2.calcHist([small], [0, 1, 2], None, HISTOGRAM_BINS, [0, 256] * 3)
        histogram = cv2.normalize(histogram, histogram).flatten()
        grey = cv2.cvtColor(small, self._grey_code).astype(np.float32)
        previous, self._previous = self._previous, (histogram, grey)
        if previous is None:
            return False
        distance = cv2.compareHist(previous[0], histogram, cv2.HISTCMP_BHATTACHARYYA)
        if distance <= HISTOGRAM_DISTANCE:
            return False
        return self._aligned_correlation(previous[1], grey) < ALIGNED_CORRELATION

    def _aligned_correlation(self, before: np.ndarray, after: np.ndarray) -> float:
        (dx, dy), _ = cv2.phaseCorrelate(before, after, self._window)
        shift = np.float32([[1, 0, -dx], [0, 1, -dy]])
        aligned = cv2.warpAffine(
            after, shift, (THUMBNAIL, THUMBNAIL), borderMode=cv2.BORDER_REPLICATE
        )
        a, b = before - before.mean(), aligned - aligned.mean()
        norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
        return float((a * b).sum() / norm) if norm > 0 else 1.0


def thumbnail_of(image: np.ndarray, side: int) -> np.ndarray:
    """A ``side`` x ``side`` thumbnail: a ``4 * side`` square of the frame's pixels picked by
    nearest-neighbour sampling, then area-averaged.

    Area-averaging a full HD frame straight down to a thumbnail costs about 5.5 ms per frame, a
    quarter of a BlazePose estimate; sampling first and averaging the sample costs 0.15 ms and
    gives the thumbnail to within a few grey levels, far below what a cut changes."""
    sample = cv2.resize(image, (4 * side, 4 * side), interpolation=cv2.INTER_NEAREST)
    return cv2.resize(sample, (side, side), interpolation=cv2.INTER_AREA)
