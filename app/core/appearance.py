"""What a person looks like: colour histograms of the torso and the thighs, to tell people apart.

Position and pose alone cannot tell two runners apart where they overlap: in a pack the
detector's box for one runner often takes in the next, and the tracker then follows whichever
person the box drifts onto (on ``race_3runners_pan.mp4`` a track followed the sprinter in blue
shorts into the pack and left it on the runner in a white shirt beside him). Clothing differs
where position does not, so each detection gets a descriptor: an HSV histogram of the torso
(a thick line from mid-shoulders to mid-hips) and one of the thighs (hips to knees), each
normalised, so neither the person's size nor the other region's area weighs in. Value (brightness)
is kept with coarse bins: a white and a black shirt differ only there.

The distance between two descriptors is the mean of the two regions' Hellinger (Bhattacharyya)
distances: 0 for identical histograms, 1 for histograms with no colour in common. On the race
clip a runner's detections lie about 0.25 from their own mean look in the clear (0.45 in the
pack, where a box takes in a neighbour) and 0.6-0.85 from the other runners' (docs/engine.md,
"Appearance").
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

from rhpnet.poses import FramePoses

# Hue, saturation, value bins of each region's histogram.
BINS = (8, 3, 3)
REGION_SIZE = int(np.prod(BINS))
DESCRIPTOR_SIZE = 2 * REGION_SIZE
MIN_SCORE = 0.3  # keypoints less sure than this do not outline a region
# Each region is painted as thick lines along the body: the torso from mid-shoulders to
# mid-hips, each thigh from hip to knee, as wide as these shares of the torso's length (a
# runner's trunk seen from the side, a thigh), so the histogram holds the person's clothes and
# skin, not the track around them or a neighbour beside them.
TORSO_WIDTH = 0.35
THIGH_WIDTH = 0.2
MIN_TORSO_PX = 8.0  # shorter torsos (people a few dozen pixels tall) have too few pixels
# Larger people are sampled on a coarser grid, every n-th pixel so that the torso spans about
# this many: a histogram needs no more (a 1080 x 1920 treadmill runner: 1.5 -> 0.2 ms).
SAMPLED_TORSO_PX = 40.0

SHOULDERS, HIPS, KNEES = (5, 6), (11, 12), (13, 14)


def appearance_descriptors(image: np.ndarray, poses: FramePoses, rgb: bool) -> np.ndarray:
    """(N, DESCRIPTOR_SIZE) float32: each person's look in ``image`` (RGB where ``rgb``, else
    BGR); a row of NaN where their torso or thighs are not seen well enough."""
    out = np.full((len(poses), DESCRIPTOR_SIZE), np.nan, np.float32)
    conversion = cv2.COLOR_RGB2HSV if rgb else cv2.COLOR_BGR2HSV
    for n in range(len(poses)):
        keypoints = poses.keypoints[n]
        points = np.where(keypoints[:, 2:3] >= MIN_SCORE, keypoints[:, :2], np.nan)
        look = _look(image, points, conversion)
        if look is not None:
            out[n] = look
    return out


def _look(image: np.ndarray, points: np.ndarray, conversion: int) -> np.ndarray | None:
    shoulder, hip = _middle(points[list(SHOULDERS)]), _middle(points[list(HIPS)])
    if shoulder is None or hip is None:
        return None
    torso = float(np.hypot(*(hip - shoulder)))
    if torso < MIN_TORSO_PX:
        return None
    thighs = [
        (points[h], points[k])
        for h, k in zip(HIPS, KNEES, strict=True)
        if np.isfinite(points[h]).all() and np.isfinite(points[k]).all()
    ]
    if not thighs:
        return None
    strokes = [[(shoulder, hip)], thighs]
    widths = [TORSO_WIDTH * torso, THIGH_WIDTH * torso]
    ends = np.array([p for region in strokes for line in region for p in line])
    margin = 0.5 * max(widths) + 1.0
    height, width = image.shape[:2]
    x0, y0 = np.maximum(np.floor(ends.min(axis=0) - margin), 0).astype(int)
    x1 = int(min(width, np.ceil(ends[:, 0].max() + margin)))
    y1 = int(min(height, np.ceil(ends[:, 1].max() + margin)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    step = max(1, int(torso // SAMPLED_TORSO_PX))
    hsv = cv2.cvtColor(np.ascontiguousarray(image[y0:y1:step, x0:x1:step]), conversion)
    histograms = []
    for region, thickness in zip(strokes, widths, strict=True):
        mask = np.zeros(hsv.shape[:2], np.uint8)
        for a, b in region:
            start = tuple(int(round(v)) for v in ((a[0] - x0) / step, (a[1] - y0) / step))
            stop = tuple(int(round(v)) for v in ((b[0] - x0) / step, (b[1] - y0) / step))
            cv2.line(mask, start, stop, 255, max(1, int(round(thickness / step))))
        histogram = cv2.calcHist([hsv], [0, 1, 2], mask, list(BINS), [0, 180, 0, 256, 0, 256])
        total = float(histogram.sum())
        if total <= 0:
            return None
        histograms.append(histogram.ravel() / total)
    return np.concatenate(histograms)


def _middle(points: np.ndarray) -> np.ndarray | None:
    """Mean of the points seen (a side view often shows one shoulder or hip); None if none."""
    seen = points[np.isfinite(points).all(axis=1)]
    return seen.mean(axis=0) if len(seen) else None


def appearance_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(M, N) distances in [0, 1] between descriptors (M, D) and (N, D); NaN where either
    is unknown."""
    a = np.asarray(a, np.float64).reshape(-1, DESCRIPTOR_SIZE)
    b = np.asarray(b, np.float64).reshape(-1, DESCRIPTOR_SIZE)
    distances = []
    for region in (slice(0, REGION_SIZE), slice(REGION_SIZE, DESCRIPTOR_SIZE)):
        overlap = (
            np.sqrt(np.clip(a[:, region], 0, None)) @ np.sqrt(np.clip(b[:, region], 0, None)).T
        )
        distances.append(np.sqrt(np.clip(1.0 - overlap, 0.0, 1.0)))
    return 0.5 * (distances[0] + distances[1])


class Looks:
    """The looks of one track: their mean, and the means of the first and the last
    ``window`` of them (where a fragment of a track starts and ends: a track that ran on into a
    neighbour has its mean mixed, its ends not)."""

    def __init__(self, window: int = 15) -> None:
        self.window = window
        self.total = np.zeros(DESCRIPTOR_SIZE, np.float64)
        self.count = 0
        self.first: list[np.ndarray] = []
        self.last: deque[np.ndarray] = deque(maxlen=window)

    def add(self, look: np.ndarray) -> None:
        """Take a look (NaN: unknown, ignored)."""
        if not np.isfinite(look).all():
            return
        look = np.asarray(look, np.float64)
        self.total += look
        self.count += 1
        if len(self.first) < self.window:
            self.first.append(look)
        self.last.append(look)

    def merge(self, later: Looks) -> None:
        """Take the looks of ``later``, a stretch of the same person after this one's."""
        self.total += later.total
        self.count += later.count
        self.first = (self.first + later.first)[: self.window]
        self.last.extend(later.last)

    @property
    def mean(self) -> np.ndarray:
        return _mean(self.total / self.count if self.count else None)

    @property
    def start(self) -> np.ndarray:
        return _mean(np.mean(self.first, axis=0) if self.first else None)

    @property
    def end(self) -> np.ndarray:
        return _mean(np.mean(self.last, axis=0) if self.last else None)


def _mean(value: np.ndarray | None) -> np.ndarray:
    return np.full(DESCRIPTOR_SIZE, np.nan) if value is None else value
