"""Looking again with the people found covered (rhpnet/estimators/look_again.py)."""

from __future__ import annotations

import numpy as np

from rhpnet.estimators.look_again import (
    CROP_MARGIN,
    LookAgainEstimator,
    covered,
    covered_share,
    pixel_extent,
)
from rhpnet.poses import FramePoses

BRIGHT = 200


def _poses(boxes: list, scores: list) -> FramePoses:
    keypoints = np.zeros((len(boxes), 21, 3), np.float32)
    for n, (x, y, w, h) in enumerate(boxes):
        keypoints[n, :, 0], keypoints[n, :, 1], keypoints[n, :, 2] = x + w / 2, y + h / 2, 0.9
    return FramePoses(keypoints, np.array(boxes, np.float32), np.array(scores, np.float32))


class _SalientOnly:
    """Like BlazePose in a crowd: finds only the brightest bright block of the image."""

    keypoint_names = tuple(f"k{i}" for i in range(21))
    made = 0

    def __init__(self) -> None:
        _SalientOnly.made += 1
        self.closed = False

    def estimate(self, image: np.ndarray, timestamp_s: float) -> FramePoses:
        grey = image[..., 0].astype(np.int32)
        if grey.max() < BRIGHT:
            return FramePoses.empty(21)
        ys, xs = np.nonzero(grey == grey.max())
        box = [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
        return _poses([box], [0.9])

    def describe(self) -> dict:
        return {"name": "salient"}

    def close(self) -> None:
        self.closed = True


def _crowd() -> np.ndarray:
    image = np.full((200, 300, 3), 40, np.uint8)
    image[20:120, 20:60] = 250  # the most salient person
    image[30:150, 120:170] = 230
    image[50:130, 220:250] = 210
    return image


def test_each_look_finds_the_next_person_until_no_one_is_left():
    _SalientOnly.made = 0
    estimator = LookAgainEstimator(_SalientOnly(), _SalientOnly, looks=3)
    poses = estimator.estimate(_crowd(), 0.0)
    assert sorted(poses.boxes[:, 0].tolist()) == [20, 120, 220]
    assert np.allclose(poses.boxes[1], [120, 30, 50, 120]) or np.allclose(
        poses.boxes[2], [120, 30, 50, 120]
    )
    assert "look_again" in estimator.describe()
    estimator.close()


def test_looks_stop_at_their_limit():
    estimator = LookAgainEstimator(_SalientOnly(), _SalientOnly, looks=1)
    assert len(estimator.estimate(_crowd(), 0.0)) == 2
    estimator.close()


def test_a_piece_of_a_person_already_found_is_not_a_new_person():
    image = np.full((200, 300, 3), 40, np.uint8)
    image[20:120, 20:60] = 250
    first = _SalientOnly()

    class _PieceFinder(_SalientOnly):
        def estimate(self, image: np.ndarray, timestamp_s: float) -> FramePoses:
            return _poses([[25, 30, 20, 40]], [0.8])  # inside the covered box

    estimator = LookAgainEstimator(first, _PieceFinder)
    assert len(estimator.estimate(image, 0.0)) == 1
    estimator.close()


def test_covering_fills_boxes_with_the_mean_colour_inside_the_image():
    image = np.zeros((10, 10, 3), np.uint8)
    image[:, 5:] = 100
    out = covered(image, np.array([[-3, -3, 5, 5]], np.float32))
    assert (out[:2, :2] == 50).all() and (out[2:, :5] == 0).all() and (image[:2, :2] == 0).all()


def test_covered_share_and_crop():
    assert covered_share(np.array([0, 0, 10, 10]), np.array([[5, 0, 10, 10]])) == 0.5
    assert covered_share(np.array([0, 0, 10, 10]), np.zeros((0, 4))) == 0.0
    assert pixel_extent(np.array([10, 10, 20, 40]), 35, 100, CROP_MARGIN) == (5, 0, 35, 60)


class _Fixed(_SalientOnly):
    """Finds one given person, wherever the brightest block is."""

    def __init__(self, box: list) -> None:
        super().__init__()
        self.box = box

    def estimate(self, image: np.ndarray, timestamp_s: float) -> FramePoses:
        return _poses([self.box], [0.9])


def test_a_new_persons_pose_is_redone_on_the_uncovered_picture():
    """The first person's box reaches over the second, so the look sees the second cut by the
    cover; redone on the uncovered picture, their pose covers all of them."""
    image = np.full((200, 300, 3), 40, np.uint8)
    image[20:120, 20:90] = 230
    image[30:150, 90:170] = 250
    estimator = LookAgainEstimator(_Fixed([20, 20, 80, 100]), _SalientOnly, looks=1)
    poses = estimator.estimate(image, 0.0)
    assert len(poses) == 2
    assert np.allclose(poses.boxes[1], [90, 30, 80, 120])  # not [100, 30, 70, 120]
    estimator.close()


def test_a_redo_that_finds_someone_else_keeps_the_looks_pose():
    made: list[_Fixed] = []

    def make() -> _Fixed:  # the look finds the person; the redo, on its crop, someone else
        made.append(_Fixed([150, 30, 50, 120] if not made else [0, 0, 5, 5]))
        return made[-1]

    estimator = LookAgainEstimator(_Fixed([20, 20, 80, 100]), make, looks=1)
    poses = estimator.estimate(np.zeros((200, 300, 3), np.uint8), 0.0)
    assert len(made) == 2 and len(poses) == 2
    assert np.allclose(poses.boxes[1], [150, 30, 50, 120])
    estimator.close()
    assert all(estimator.closed for estimator in made)
