"""Tiles of an image and the merge of the people found in them (rhpnet/estimators/tiled.py)."""

from __future__ import annotations

import numpy as np

from rhpnet.estimators.tiled import TiledEstimator, merge_poses, tile_boxes
from rhpnet.poses import FramePoses


def _poses(boxes: list, scores: list) -> FramePoses:
    keypoints = np.zeros((len(boxes), 21, 3), np.float32)
    for n, (x, y, w, h) in enumerate(boxes):
        keypoints[n, :, 0], keypoints[n, :, 1] = x + w / 2, y + h / 2
    return FramePoses(keypoints, np.array(boxes, np.float32), np.array(scores, np.float32))


def test_tiles_cover_the_image_and_overlap():
    boxes = tile_boxes(1280, 720)
    assert boxes[0] == (0, 0, 1280, 720) and len(boxes) == 5
    for x0, y0, x1, y1 in boxes[1:]:
        assert 0 <= x0 < x1 <= 1280 and 0 <= y0 < y1 <= 720
        assert x1 - x0 > 640 and y1 - y0 > 360  # each tile overlaps its neighbours
    assert max(b[2] for b in boxes[1:]) == 1280 and max(b[3] for b in boxes[1:]) == 720


def test_merge_keeps_the_most_confident_of_overlapping_boxes():
    full = _poses([[100, 100, 50, 120]], [0.6])
    tile = _poses([[102, 98, 50, 122], [400, 300, 30, 70]], [0.9, 0.8])
    merged = merge_poses([full, tile])
    assert merged.scores.tolist() == [np.float32(0.9), np.float32(0.8)]


class _FixedEstimator:
    """Finds one person at the centre of whatever image it is given."""

    keypoint_names = tuple(f"k{i}" for i in range(21))

    def __init__(self) -> None:
        self.closed = False

    def estimate(self, image: np.ndarray, timestamp_s: float) -> FramePoses:
        h, w = image.shape[:2]
        return _poses([[w / 2 - 5, h / 2 - 10, 10, 20]], [0.5])

    def describe(self) -> dict:
        return {"name": "fixed"}

    def close(self) -> None:
        self.closed = True


def test_tiled_estimator_maps_every_region_back_to_frame_pixels():
    made: list[_FixedEstimator] = []

    def make() -> _FixedEstimator:
        made.append(_FixedEstimator())
        return made[-1]

    tiled = TiledEstimator(make)
    poses = tiled.estimate(np.zeros((400, 600, 3), np.uint8), 0.0)
    centres = sorted((b[0] + b[2] / 2, b[1] + b[3] / 2) for b in poses.boxes.tolist())
    expected = sorted(((x0 + x1) / 2, (y0 + y1) / 2) for x0, y0, x1, y1 in tile_boxes(600, 400))
    assert len(made) == 5 and np.allclose(centres, expected, atol=0.5)
    assert "2x2 tiles" in tiled.describe()["tiles"]
    tiled.close()
    assert all(estimator.closed for estimator in made)
