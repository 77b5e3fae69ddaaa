"""Find small people: run a whole-image estimator on the image and on overlapping tiles of it.

BlazePose's person detector sees the whole frame shrunk to 224 x 224 pixels, so a runner a fifth
of the frame tall in a race shot is a few dozen pixels to it and often not found. Each of four
overlapping tiles (2 x 2, 30 % overlap) shows the same people at about twice the size. Every tile
has its own estimator, so a video-mode estimator keeps tracking within its tile; the poses of
the full frame and the tiles are mapped back to frame pixels and merged, the most confident of
overlapping boxes winning (box IoU above ``MERGE_IOU``). Five estimators cost about five times
one (docs/accuracy.md, "Person detection": recall 6 -> 10 of 12 people on dev-sportpose).
``eval --detect --tiles`` uses it; video analysis does not yet: on the race clip the tiles'
duplicate and partial people split the three sprinters into 60 tracks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rhpnet.boxes import box_iou
from rhpnet.poses import Estimator, FramePoses, concatenate_poses

GRID = 2
OVERLAP = 0.3  # of a tile's size; 0.5 and a 3 x 3 grid found fewer people (split across tiles)
MERGE_IOU = 0.5


def tile_boxes(width: int, height: int, grid: int = GRID, overlap: float = OVERLAP) -> list:
    """(x0, y0, x1, y1) of the whole image, then of ``grid`` x ``grid`` overlapping tiles."""
    tile_w = int(round(width / (grid - (grid - 1) * overlap)))
    tile_h = int(round(height / (grid - (grid - 1) * overlap)))
    boxes = [(0, 0, width, height)]
    for row in range(grid):
        for column in range(grid):
            x0 = min(int(round(column * tile_w * (1 - overlap))), width - tile_w)
            y0 = min(int(round(row * tile_h * (1 - overlap))), height - tile_h)
            boxes.append((x0, y0, x0 + tile_w, y0 + tile_h))
    return boxes


def merge_poses(found: list[FramePoses], iou: float = MERGE_IOU) -> FramePoses:
    """One pose per person: of boxes overlapping by more than ``iou``, the highest score."""
    everyone = concatenate_poses(found)
    boxes = everyone.boxes
    keep: list[int] = []
    for index in np.argsort(-everyone.scores, kind="stable"):
        if not keep or box_iou(boxes[index], boxes[keep]).max() <= iou:
            keep.append(int(index))
    return everyone.select(keep)


def shifted(poses: FramePoses, x0: int, y0: int) -> FramePoses:
    keypoints, boxes = poses.keypoints.copy(), poses.boxes.copy()
    keypoints[..., 0] += x0
    keypoints[..., 1] += y0
    boxes[:, 0] += x0
    boxes[:, 1] += y0
    return FramePoses(keypoints, boxes, poses.scores.copy())


class TiledEstimator:
    """An ``Estimator`` made of one estimator per region: the whole image and its tiles."""

    def __init__(self, make_estimator: Callable[[], Estimator]) -> None:
        self._make = make_estimator
        self._estimators: list[Estimator] = []
        self._regions: list[tuple[int, int, int, int]] = []
        first = make_estimator()
        self._estimators.append(first)
        self.keypoint_names = first.keypoint_names

    def estimate(self, image_bgr: np.ndarray, timestamp_s: float) -> FramePoses:
        height, width = image_bgr.shape[:2]
        if not self._regions:
            self._regions = tile_boxes(width, height)
            self._estimators += [self._make() for _ in self._regions[1:]]
        found = []
        for (x0, y0, x1, y1), estimator in zip(self._regions, self._estimators, strict=True):
            crop = np.ascontiguousarray(image_bgr[y0:y1, x0:x1])
            found.append(shifted(estimator.estimate(crop, timestamp_s), x0, y0))
        return merge_poses(found)

    def describe(self) -> dict[str, Any]:
        return {
            **self._estimators[0].describe(),
            "tiles": f"whole frame + {GRID}x{GRID} tiles, {OVERLAP:.0%} overlap",
        }

    def close(self) -> None:
        for estimator in self._estimators:
            estimator.close()
        self._estimators = []
