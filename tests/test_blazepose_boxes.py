"""Box-prompted BlazePose: crop geometry, candidate fusion, and accuracy on real running images."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rhpnet.datasets.coco_format import load_coco_keypoints
from rhpnet.estimators.blazepose_boxes import (
    BASELINE_SETTINGS,
    DEFAULT_SETTINGS,
    BlazePoseBoxEstimator,
    BoxPromptSettings,
    combine_candidates,
    crop_for_box,
    extract_crop,
    mask_outside_box,
)
from rhpnet.evaluation.gt_boxes import evaluate_on_ground_truth_boxes
from rhpnet.skeleton import COCO_FLIP_PERMUTATION

# Measured with DEFAULT_SETTINGS on the whole of dev-running-lspet (30 runners), see
# docs/accuracy.md; the plain crop-and-run baseline scores 0.741 there.
LSPET_DEFAULT_AP = 0.805
LSPET_BASELINE_AP = 0.741


@pytest.fixture(scope="session")
def default_estimator():
    estimator = BlazePoseBoxEstimator(DEFAULT_SETTINGS)
    yield estimator
    estimator.close()


@pytest.fixture(scope="session")
def lspet_run(default_estimator, running_lspet_dir):
    dataset = load_coco_keypoints(running_lspet_dir)
    return evaluate_on_ground_truth_boxes(dataset, default_estimator.predict)


def test_square_crop_is_centred_and_small_crops_are_upscaled():
    crop = crop_for_box(np.array([100, 50, 40, 100]), (640, 480), 1.4, True, "pad", 256)
    assert crop.origin == pytest.approx((50.0, 30.0))  # 140 px square around the centre (120, 100)
    assert crop.scale == pytest.approx(256 / 140) and crop.size == (256, 256)
    big = crop_for_box(np.array([0, 0, 300, 400]), (640, 480), 1.4, True, "pad", 256)
    assert big.scale == 1.0 and big.size == (560, 560)


def test_aspect_crop_and_clipping_at_the_border():
    crop = crop_for_box(np.array([100, 50, 40, 100]), (640, 480), 1.4, False, "pad", 256)
    assert crop.size == (102, 256)  # 56 x 140 upscaled so the longer side is 256
    clipped = crop_for_box(np.array([0, 0, 40, 100]), (640, 480), 1.4, False, "clip", 1)
    assert clipped.origin == (0.0, 0.0) and clipped.size == (48, 120)


def test_crop_pixels_map_back_to_the_image_exactly():
    image = np.zeros((200, 300, 3), np.uint8)
    image[120, 77] = 255
    crop = crop_for_box(np.array([60, 90, 30, 60]), (300, 200), 1.4, True, "pad", 256)
    pixels = extract_crop(image, crop, "linear")
    peak = np.unravel_index(np.argmax(pixels[:, :, 0]), pixels.shape[:2])
    found = crop.to_image(np.array([[peak[1], peak[0]]], dtype=np.float64))[0]
    assert found == pytest.approx([77, 120], abs=0.5 / crop.scale + 1e-6)
    point = np.array([[10.0, 20.0]])
    assert crop.to_crop(crop.to_image(point)) == pytest.approx(point)


def test_padding_fills_outside_the_image_and_mask_blanks_around_the_box():
    image = np.full((100, 100, 3), 200, np.uint8)
    crop = crop_for_box(np.array([0, 0, 50, 50]), (100, 100), 2.0, True, "pad", 1)
    pixels = extract_crop(image, crop, "linear", pad_value=0)
    assert pixels[5, 5].tolist() == [0, 0, 0] and pixels[60, 60].tolist() == [200] * 3
    masked = mask_outside_box(pixels, crop, np.array([0, 0, 50, 50]), 0.1, 0)
    assert masked[60, 60].tolist() == [200] * 3  # inside the box
    assert masked[95, 95].tolist() == [0, 0, 0]  # beyond the box + 10 %


def _pose(x0: float, y0: float, visibility: float = 0.9) -> np.ndarray:
    xs = x0 + np.tile([0.0, 40.0], 9)[:17]
    ys = y0 + np.linspace(0, 180, 17)
    return np.stack([xs, ys, np.full(17, visibility)], axis=1)


def test_box_fit_anchor_ignores_a_neighbour_and_merges_agreeing_views():
    box = np.array([100, 0, 50, 190])
    on_target = _pose(105, 5)
    nudged = on_target + [1.0, 1.0, 0.0]
    neighbour = _pose(300, 5, visibility=1.0)
    combined = combine_candidates([neighbour, on_target, nudged], box, DEFAULT_SETTINGS)
    assert combined[:, :2] == pytest.approx(on_target[:, :2] + 0.5)
    # The neighbour disagrees with the result: a third of the views -> scores drop by about 1/3.
    assert combined[:, 2] == pytest.approx(np.full(17, 0.9 * 2 / 3), abs=0.01)
    naive = combine_candidates([neighbour, on_target], box, BASELINE_SETTINGS)
    assert naive[0, 0] == pytest.approx((300 * 1.0 + 105 * 0.9) / 1.9)
    assert combine_candidates([], box, DEFAULT_SETTINGS) is None


def test_settings_are_validated():
    with pytest.raises(ValueError, match="border"):
        BoxPromptSettings(border="wrap")
    with pytest.raises(ValueError, match="positive"):
        BoxPromptSettings(scales=())
    assert DEFAULT_SETTINGS.views_per_box == 2 and BASELINE_SETTINGS.views_per_box == 1
    assert DEFAULT_SETTINGS.as_dict()["mask_margins"] == [0.1]


@pytest.mark.slow
def test_default_pipeline_accuracy_on_held_out_running_images(lspet_run):
    metrics, run = lspet_run
    assert metrics["num_instances"] == 30 and run.num_missed == 0
    assert metrics["AP"] >= LSPET_DEFAULT_AP - 0.02
    assert metrics["AP"] > LSPET_BASELINE_AP + 0.04


@pytest.mark.slow
def test_blazepose_labels_the_body_so_a_mirrored_image_swaps_left_and_right(running_lspet_dir):
    """The assumption behind the flip views: on a mirrored image BlazePose's "left knee" is the
    person's right knee. One plain view per person, on the mirrored images, must score like the
    original once mirrored back with left and right swapped, and near zero without the swap."""
    dataset = load_coco_keypoints(running_lspet_dir)
    single_view = BlazePoseBoxEstimator(
        replace(BASELINE_SETTINGS, square=False, mask_margins=(0.1,))
    )
    swap = list(COCO_FLIP_PERMUTATION)

    def on_mirrored_image(keep_labels: bool):
        def predict(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
            width = image.shape[1]
            mirrored_boxes = boxes.copy()
            mirrored_boxes[:, 0] = width - boxes[:, 0] - boxes[:, 2]
            found = single_view.predict(np.ascontiguousarray(image[:, ::-1]), mirrored_boxes)
            found[:, :, 0] = width - 1 - found[:, :, 0]
            return found if keep_labels else found[:, swap]

        return predict

    try:
        direct = evaluate_on_ground_truth_boxes(dataset, single_view.predict)[0]["AP"]
        swapped = evaluate_on_ground_truth_boxes(dataset, on_mirrored_image(False))[0]["AP"]
        kept = evaluate_on_ground_truth_boxes(dataset, on_mirrored_image(True))[0]["AP"]
    finally:
        single_view.close()
    assert direct > 0.7 and abs(swapped - direct) < 0.1
    assert kept < 0.1


def test_a_box_with_nobody_in_it_gives_nan_and_zero_scores(default_estimator):
    blank = np.full((240, 320, 3), 90, np.uint8)
    keypoints = default_estimator.predict(blank, np.array([[100, 40, 60, 150], [0, 0, 50, 50]]))
    assert keypoints.shape == (2, 17, 3)
    assert np.isnan(keypoints[:, :, :2]).all() and (keypoints[:, :, 2] == 0).all()
    assert default_estimator.predict(blank, np.zeros((0, 4))).shape == (0, 17, 3)
