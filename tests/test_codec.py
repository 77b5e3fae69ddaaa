"""UDP codec: crop geometry, heatmap targets, DARK-UDP / argmax decoding and flips."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rhpnet import codec
from rhpnet.skeleton import (
    COCO_FLIP_PERMUTATION,
    COCO_KEYPOINT_NAMES,
    MPII_FLIP_PAIRS,
    flip_permutation,
)

INPUT_COCO = (256, 192)
HEATMAP_COCO = (64, 48)
INPUT_MPII = (256, 256)
HEATMAP_MPII = (64, 64)


def random_heatmap_points(rng, count, heatmap_size, margin=8.0):
    """Sub-pixel heatmap locations at least ``margin`` pixels from every border."""
    hm_h, hm_w = heatmap_size
    return np.stack(
        [
            rng.uniform(margin, hm_w - 1 - margin, count),
            rng.uniform(margin, hm_h - 1 - margin, count),
        ],
        axis=-1,
    )


# ---------------------------------------------------------------------------------------------
# normalisation and boxes


def test_normalize_crops_converts_bgr_to_normalised_rgb_channels_first():
    crops = np.zeros((2, 4, 5, 3), np.uint8)
    crops[1, 2, 3] = (10, 128, 250)  # B, G, R
    inputs = codec.normalize_crops(crops)
    assert inputs.shape == (2, 3, 4, 5) and inputs.dtype == np.float32
    expected = (np.array([250, 128, 10]) / 255.0 - codec.INPUT_MEAN_RGB) / codec.INPUT_STD_RGB
    np.testing.assert_allclose(inputs[1, :, 2, 3], expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        inputs[0, :, 0, 0], -codec.INPUT_MEAN_RGB / codec.INPUT_STD_RGB, rtol=1e-6
    )


def test_box_to_center_scale_fixes_aspect_then_pads():
    boxes = np.array([[10, 20, 30, 100], [0, 0, 120, 60], [5, 5, 75, 100]], np.float64)
    center, scale = codec.box_to_center_scale(boxes, aspect_ratio=0.75, padding=1.25)
    np.testing.assert_allclose(center, [[25, 70], [60, 30], [42.5, 55]])
    # tall box: width grows to 0.75 * 100; wide box: height grows to 120 / 0.75; exact box unchanged
    np.testing.assert_allclose(scale, 1.25 * np.array([[75, 100], [120, 160], [75, 100]]))
    assert np.allclose(scale[:, 0] / scale[:, 1], 0.75)


def test_box_to_center_scale_handles_degenerate_boxes():
    center, scale = codec.box_to_center_scale([[50, 60, 0, 0]], aspect_ratio=0.75, padding=1.0)
    np.testing.assert_allclose(center, [[50, 60]])
    assert np.all(scale > 0) and np.allclose(scale[:, 0] / scale[:, 1], 0.75)
    with pytest.raises(ValueError, match="NaN"):
        codec.box_to_center_scale([[np.nan, 0, 10, 10]], aspect_ratio=0.75)
    with pytest.raises(ValueError, match="shaped"):
        codec.box_to_center_scale([[1, 2, 3]], aspect_ratio=0.75)


# ---------------------------------------------------------------------------------------------
# warp geometry


def test_box_corners_and_centre_map_to_the_udp_crop_corners():
    box = np.array([40.0, 30.0, 96.0, 128.0])  # already 3:4
    center, scale = codec.box_to_center_scale(box, aspect_ratio=0.75, padding=1.0)
    matrix = codec.udp_warp_matrix(center, scale, INPUT_COCO)
    corners = np.array([[40.0, 30.0], [136.0, 158.0], [88.0, 94.0], [136.0, 30.0]])
    mapped = codec.transform_points(corners, matrix)
    np.testing.assert_allclose(mapped, [[0, 0], [191, 255], [95.5, 127.5], [191, 0]], atol=1e-9)

    # with 1.25 padding the box edges sit 10 % inside the crop: (0.5 - 0.5 / 1.25) * (w_in - 1)
    center, scale = codec.box_to_center_scale(box, aspect_ratio=0.75, padding=1.25)
    mapped = codec.transform_points(corners[:2], codec.udp_warp_matrix(center, scale, INPUT_COCO))
    np.testing.assert_allclose(mapped, [[0.1 * 191, 0.1 * 255], [0.9 * 191, 0.9 * 255]], atol=1e-9)


def test_inverse_warp_undoes_the_warp_for_rotated_crops():
    rng = np.random.default_rng(1)
    centers = rng.uniform(0, 500, (6, 2))
    scales = rng.uniform(20, 300, (6, 2))
    rotations = rng.uniform(-90, 90, 6)
    matrices = codec.udp_warp_matrix(centers, scales, INPUT_COCO, rotations)
    assert matrices.shape == (6, 2, 3)
    points = rng.uniform(-100, 600, (6, 17, 2))
    back = codec.transform_points(
        codec.transform_points(points, matrices), codec.invert_affine(matrices)
    )
    np.testing.assert_allclose(back, points, atol=1e-9)


def test_rotation_turns_about_the_box_centre():
    center, scale = np.array([100.0, 80.0]), np.array([50.0, 50.0])
    size = (101, 101)  # square, crop centre (50, 50), 2 crop pixels per image pixel
    for angle in (0.0, 30.0, 90.0, -135.0):
        matrix = codec.udp_warp_matrix(center, scale, size, angle)
        np.testing.assert_allclose(
            codec.transform_points(center[None], matrix), [[50, 50]], atol=1e-9
        )
    # a point 10 px right of the centre ends up 20 crop px below it at +90 degrees (clockwise)
    matrix = codec.udp_warp_matrix(center, scale, size, 90.0)
    np.testing.assert_allclose(
        codec.transform_points([[110.0, 80.0]], matrix), [[50, 70]], atol=1e-9
    )
    matrix = codec.udp_warp_matrix(center, scale, size, 30.0)
    theta = np.deg2rad(30.0)
    expected = [50 + 20 * np.cos(theta), 50 + 20 * np.sin(theta)]
    np.testing.assert_allclose(
        codec.transform_points([[110.0, 80.0]], matrix), [expected], atol=1e-9
    )


def test_warp_crops_samples_the_image_at_the_udp_locations():
    # a float image whose value is the x (resp. y) coordinate: bilinear sampling is exact on it,
    # so every crop pixel must read back the image point the inverse warp assigns to it
    height, width = 300, 400
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([xs, ys, np.zeros_like(xs)], axis=-1)
    center, scale = codec.box_to_center_scale([[120.3, 50.7, 90.0, 160.0]], 0.75)
    matrices = codec.udp_warp_matrix(center, scale, INPUT_COCO, 20.0)
    crop = codec.warp_crops(image, matrices, INPUT_COCO)[0]
    assert crop.shape == (256, 192, 3)
    grid = np.stack(np.meshgrid(np.arange(192.0), np.arange(256.0)), axis=-1).reshape(1, -1, 2)
    source = codec.transform_points(grid, codec.invert_affine(matrices))[0]
    inside = np.all((source >= 0) & (source <= [width - 1, height - 1]), axis=-1)
    assert inside.mean() > 0.9
    # OpenCV quantises sampling positions to 1/32 px
    np.testing.assert_allclose(crop.reshape(-1, 3)[inside, :2], source[inside], atol=1 / 32 + 1e-3)


def test_warp_crops_fills_outside_the_image_with_black():
    image = np.full((20, 30, 3), 200, np.uint8)
    matrices = codec.udp_warp_matrix(np.array([[-500.0, -500.0]]), np.array([[30.0, 40.0]]), (8, 6))
    assert np.all(codec.warp_crops(image, matrices, (8, 6)) == 0)


@pytest.mark.parametrize(
    ("input_size", "heatmap_size"), [(INPUT_COCO, HEATMAP_COCO), (INPUT_MPII, HEATMAP_MPII)]
)
def test_box_to_crop_to_heatmap_to_image_returns_the_image_point(input_size, heatmap_size):
    rng = np.random.default_rng(2)
    boxes = np.column_stack(
        [rng.uniform(0, 400, 5), rng.uniform(0, 300, 5), rng.uniform(5, 300, (5, 2))]
    )
    center, scale = codec.box_to_center_scale(boxes, input_size[1] / input_size[0])
    matrices = codec.udp_warp_matrix(center, scale, input_size)
    points = rng.uniform(0, 600, (5, 17, 2))
    in_crop = codec.transform_points(points, matrices)
    in_heatmap = codec.input_to_heatmap(in_crop, input_size, heatmap_size)
    np.testing.assert_allclose(
        codec.heatmap_to_input(in_heatmap, input_size, heatmap_size), in_crop
    )
    back = codec.heatmap_to_image(in_heatmap, center, scale, heatmap_size)
    np.testing.assert_allclose(back, points, atol=1e-9)


def test_udp_heatmap_scaling_maps_crop_ends_to_heatmap_ends():
    ends = np.array([[0.0, 0.0], [191.0, 255.0], [95.5, 127.5]])
    np.testing.assert_allclose(
        codec.input_to_heatmap(ends, INPUT_COCO, HEATMAP_COCO), [[0, 0], [47, 63], [23.5, 31.5]]
    )


# ---------------------------------------------------------------------------------------------
# encoding


def test_encoded_target_is_a_subpixel_gaussian_inside_a_13_pixel_window():
    point_hm = np.array([[20.3, 30.8]])
    point_in = codec.heatmap_to_input(point_hm, INPUT_COCO, HEATMAP_COCO)
    heatmaps, weights = codec.encode_heatmaps(point_in, np.ones(1), INPUT_COCO, HEATMAP_COCO)
    assert heatmaps.shape == (1, 64, 48) and heatmaps.dtype == np.float32
    np.testing.assert_array_equal(weights, [1.0])
    ys, xs = np.nonzero(heatmaps[0])
    # window centred on the rounded location (20, 31), radius 3 sigma = 6
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (14, 26, 25, 37)
    x, y = 23, 29
    expected = np.exp(-((x - 20.3) ** 2 + (y - 30.8) ** 2) / 8.0)
    assert heatmaps[0, y, x] == pytest.approx(expected, rel=1e-6)
    assert heatmaps[0].max() == pytest.approx(np.exp(-(0.3**2 + 0.2**2) / 8.0), rel=1e-6)


def test_target_weights_for_unlabelled_and_out_of_heatmap_keypoints():
    points_hm = np.array(
        [
            [10.0, 10.0],  # labelled, inside
            [10.0, 10.0],  # unlabelled
            [-6.4, 30.0],  # window (rounded -6, radius 6) still touches column 0
            [-7.0, 30.0],  # window ends at column -1: entirely outside
            [20.0, 69.6],  # rounded 70, window starts at row 64 = H: outside
            [np.nan, 5.0],  # not finite
        ]
    )
    points_in = codec.heatmap_to_input(points_hm, INPUT_COCO, HEATMAP_COCO)
    labelled = np.array([1, 0, 2, 1, 1, 1])
    heatmaps, weights = codec.encode_heatmaps(points_in, labelled, INPUT_COCO, HEATMAP_COCO)
    np.testing.assert_array_equal(weights, [1, 0, 1, 0, 0, 0])
    assert np.all(heatmaps[weights == 0] == 0)
    assert heatmaps[2, 30, 0] > 0 and heatmaps[2, :, 1:].sum() == 0


def test_encoding_is_vectorised_over_instances_and_generic_in_sizes():
    rng = np.random.default_rng(3)
    points_hm = random_heatmap_points(rng, 3 * 16, HEATMAP_MPII).reshape(3, 16, 2)
    points_in = codec.heatmap_to_input(points_hm, INPUT_MPII, HEATMAP_MPII)
    heatmaps, weights = codec.encode_heatmaps(points_in, np.ones((3, 16)), INPUT_MPII, HEATMAP_MPII)
    assert heatmaps.shape == (3, 16, 64, 64) and weights.shape == (3, 16)
    single, _ = codec.encode_heatmaps(points_in[1, 5], np.ones(()), INPUT_MPII, HEATMAP_MPII)
    np.testing.assert_array_equal(single, heatmaps[1, 5])


# ---------------------------------------------------------------------------------------------
# decoding


@pytest.mark.parametrize(
    ("input_size", "heatmap_size"), [(INPUT_COCO, HEATMAP_COCO), (INPUT_MPII, HEATMAP_MPII)]
)
def test_encode_decode_round_trip(input_size, heatmap_size):
    rng = np.random.default_rng(4)
    truth = random_heatmap_points(rng, 40 * 17, heatmap_size).reshape(40, 17, 2)
    heatmaps, _ = codec.encode_heatmaps(
        codec.heatmap_to_input(truth, input_size, heatmap_size),
        np.ones((40, 17)),
        input_size,
        heatmap_size,
    )
    dark, scores = codec.decode_heatmaps(heatmaps, refine="dark_udp")
    assert dark.shape == (40, 17, 2) and scores.shape == (40, 17)
    assert np.all(scores > np.exp(-1 / 8.0))  # peak at most half a pixel from each axis
    dark_error = np.linalg.norm(dark - truth, axis=-1)
    assert dark_error.max() < 1e-3  # requirement: < 0.1 heatmap px

    argmax, _ = codec.decode_heatmaps(heatmaps, refine="argmax")
    np.testing.assert_array_equal(argmax, np.floor(truth + 0.5))
    assert np.abs(argmax - truth).max() <= 0.5


def test_dark_udp_recovers_the_mean_of_tilted_elongated_peaks():
    # a correlated Gaussian stays Gaussian under the blur, so its log is exactly quadratic and
    # one Newton step with the full Hessian (cross term included) lands on the mean
    rng = np.random.default_rng(8)
    means = np.stack([rng.uniform(12, 36, 50), rng.uniform(12, 52, 50)], axis=-1)
    precision = np.linalg.inv([[5.0, 3.5], [3.5, 5.0]])
    ys, xs = np.mgrid[0:64, 0:48]
    offsets = np.stack([xs - means[:, 0, None, None], ys - means[:, 1, None, None]], axis=-1)
    heatmaps = np.exp(-0.5 * np.einsum("nhwi,ij,nhwj->nhw", offsets, precision, offsets))
    decoded, _ = codec.decode_heatmaps(heatmaps.astype(np.float32)[None], refine="dark_udp")
    assert np.abs(decoded[0] - means).max() < 0.01


def literal_dark_udp(heatmap: np.ndarray, x: int, y: int, kernel: int = 11) -> np.ndarray:
    """Spec §8 DARK-UDP for one heatmap, written out step by step as a reference."""
    border = kernel // 2
    padded = np.pad(heatmap.astype(np.float32), border)
    blurred = cv2.GaussianBlur(padded, (kernel, kernel), 0)[border:-border, border:-border]
    blurred = blurred * (heatmap.max() / blurred.max())
    log = np.pad(np.log(np.clip(blurred, 1e-3, 50.0)), 1, mode="edge")
    x, y = x + 1, y + 1
    dx = 0.5 * (log[y, x + 1] - log[y, x - 1])
    dy = 0.5 * (log[y + 1, x] - log[y - 1, x])
    dxx = log[y, x + 1] - 2 * log[y, x] + log[y, x - 1]
    dyy = log[y + 1, x] - 2 * log[y, x] + log[y - 1, x]
    dxy = 0.5 * (
        log[y + 1, x + 1]
        - log[y, x + 1]
        - log[y + 1, x]
        + 2 * log[y, x]
        - log[y, x - 1]
        - log[y - 1, x]
        + log[y - 1, x - 1]
    )
    hessian = np.array([[dxx, dxy], [dxy, dyy]]) + np.finfo(np.float32).eps * np.eye(2)
    return np.array([x - 1, y - 1]) - np.linalg.inv(hessian) @ np.array([dx, dy])


def test_dark_udp_matches_the_literal_spec_on_noisy_heatmaps():
    rng = np.random.default_rng(9)
    truth = random_heatmap_points(rng, 30, HEATMAP_COCO, margin=3)
    heatmaps, _ = codec.encode_heatmaps(
        codec.heatmap_to_input(truth, INPUT_COCO, HEATMAP_COCO),
        np.ones(30),
        INPUT_COCO,
        HEATMAP_COCO,
    )
    # amplitudes around both clip limits (1e-3 and 50) exercise the clip and the peak rescale
    amplitude = np.resize([0.00106, 0.004, 0.8, 70.0], 30)[:, None, None]
    noise = rng.normal(0, 0.03, heatmaps.shape)
    heatmaps = (amplitude * (heatmaps + noise)).astype(np.float32)
    argmax, _ = codec.heatmap_maxima(heatmaps)
    refined = codec.refine_dark_udp(argmax, heatmaps, blur_kernel_size=11)
    expected = np.array(
        [literal_dark_udp(h, int(x), int(y)) for h, (x, y) in zip(heatmaps, argmax, strict=True)]
    )
    np.testing.assert_allclose(refined, expected, atol=1e-4)


def test_heatmap_maxima_returns_location_and_peak_value():
    heatmaps = np.zeros((2, 3, 5, 4), np.float32)
    heatmaps[1, 2, 4, 1] = 0.7
    heatmaps[0, 0, 0, 3] = -0.5 + 1.0
    coords, scores = codec.heatmap_maxima(heatmaps)
    np.testing.assert_array_equal(coords[1, 2], [1, 4])
    np.testing.assert_array_equal(coords[0, 0], [3, 0])
    assert scores[1, 2] == pytest.approx(0.7) and scores[0, 0] == pytest.approx(0.5)


def test_dark_udp_keeps_the_argmax_on_flat_or_degenerate_heatmaps():
    rng = np.random.default_rng(5)
    heatmaps = np.stack(
        [
            np.zeros((64, 48)),  # flat: zero gradient
            np.full((64, 48), -3.0),  # negative network output: everything clipped
            rng.normal(0, 1e-3, (64, 48)),  # noise around the clip floor
            rng.normal(0, 1.0, (64, 48)),  # untrained-network noise
        ]
    ).astype(np.float32)[None]
    argmax, _ = codec.heatmap_maxima(heatmaps)
    refined = codec.refine_dark_udp(argmax, heatmaps)
    assert np.all(np.isfinite(refined))
    assert np.all(np.abs(refined - argmax) <= 1.0)
    np.testing.assert_array_equal(refined[0, :2], argmax[0, :2])


def test_dark_udp_refines_peaks_on_the_heatmap_border():
    # a keypoint half a pixel outside the heatmap: the argmax sits on column 0 and the
    # edge-padded derivatives must still move it towards (not away from) the true location
    point_hm = np.array([[-0.4, 20.25]])
    heatmaps, _ = codec.encode_heatmaps(
        codec.heatmap_to_input(point_hm, INPUT_COCO, HEATMAP_COCO),
        np.ones(1),
        INPUT_COCO,
        HEATMAP_COCO,
    )
    coords, _ = codec.decode_heatmaps(heatmaps[None], refine="dark_udp")
    assert coords[0, 0, 0] <= 0.0 and abs(coords[0, 0, 1] - 20.25) < 0.05


def test_decode_rejects_unknown_refinement():
    with pytest.raises(ValueError, match="dark_udp"):
        codec.decode_heatmaps(np.zeros((1, 1, 4, 4)), refine="dark")


def test_dark_kernel_follows_sigma():
    assert codec.dark_blur_kernel_size(2.0) == 11
    assert codec.dark_blur_kernel_size(3.0) == 17


# ---------------------------------------------------------------------------------------------
# flips


def test_flipped_crop_heatmaps_flipped_back_equal_the_originals():
    rng = np.random.default_rng(6)
    points_in = codec.heatmap_to_input(
        random_heatmap_points(rng, 17, HEATMAP_COCO), INPUT_COCO, HEATMAP_COCO
    )
    labelled = np.ones(17)
    original, _ = codec.encode_heatmaps(points_in, labelled, INPUT_COCO, HEATMAP_COCO)
    # what a perfect network sees in the mirrored crop: mirrored points, left/right swapped
    mirrored_points = codec.flip_keypoints(points_in, INPUT_COCO[1], COCO_FLIP_PERMUTATION)
    mirrored, _ = codec.encode_heatmaps(mirrored_points, labelled, INPUT_COCO, HEATMAP_COCO)
    back = codec.flip_heatmaps(mirrored, COCO_FLIP_PERMUTATION)
    np.testing.assert_allclose(back, original, atol=1e-6)
    decoded, _ = codec.decode_heatmaps(((original + back) / 2)[None])
    np.testing.assert_allclose(
        decoded[0], codec.input_to_heatmap(points_in, INPUT_COCO, HEATMAP_COCO), atol=1e-3
    )


def test_flip_heatmaps_swaps_left_and_right_channels_and_mirrors_columns():
    heatmaps = np.zeros((17, 64, 48), np.float32)
    left_wrist = COCO_KEYPOINT_NAMES.index("left_wrist")
    right_wrist = COCO_KEYPOINT_NAMES.index("right_wrist")
    heatmaps[left_wrist, 10, 3] = 1.0
    heatmaps[0, 5, 7] = 1.0  # nose keeps its channel
    flipped = codec.flip_heatmaps(heatmaps, COCO_FLIP_PERMUTATION)
    assert flipped[right_wrist, 10, 44] == 1.0 and flipped[left_wrist].sum() == 0
    assert flipped[0, 5, 40] == 1.0
    np.testing.assert_array_equal(codec.flip_heatmaps(flipped, COCO_FLIP_PERMUTATION), heatmaps)


def test_flip_keypoints_twice_is_identity_and_matches_the_image_flip():
    rng = np.random.default_rng(7)
    image = np.zeros((40, 60, 3), np.uint8)
    keypoints = np.column_stack(
        [rng.integers(0, 60, 17), rng.integers(0, 40, 17), np.full(17, 2)]
    ).astype(np.float64)
    image[int(keypoints[9, 1]), int(keypoints[9, 0])] = 255  # left wrist
    flipped = codec.flip_keypoints(keypoints, 60, COCO_FLIP_PERMUTATION)
    np.testing.assert_array_equal(
        codec.flip_keypoints(flipped, 60, COCO_FLIP_PERMUTATION), keypoints
    )
    np.testing.assert_array_equal(flipped[:, 2], keypoints[COCO_FLIP_PERMUTATION, 2])
    mirrored = codec.flip_image(image)
    x, y = flipped[10, :2].astype(int)  # the left wrist is now labelled right wrist
    assert mirrored[y, x, 0] == 255
    np.testing.assert_array_equal(codec.flip_image(mirrored), image)


def test_cropping_the_flipped_image_equals_flipping_the_crop():
    # UDP consistency of the image flip (x -> w - 1 - x, centre flipped too) with the crop flip
    ys, xs = np.mgrid[0:120, 0:160]
    image = (127 + 60 * np.sin(xs / 9.0) * np.cos(ys / 7.0) + xs / 4).astype(np.uint8)
    image = np.dstack([image, image[::-1], 255 - image])
    center, scale = codec.box_to_center_scale([[30.4, 20.2, 60.0, 80.0]], 0.75)
    crop = codec.warp_crops(image, codec.udp_warp_matrix(center, scale, INPUT_COCO), INPUT_COCO)
    flipped_center = codec.flip_x(center, 160)
    crop_of_flipped = codec.warp_crops(
        codec.flip_image(image),
        codec.udp_warp_matrix(flipped_center, scale, INPUT_COCO),
        INPUT_COCO,
    )
    difference = np.abs(crop_of_flipped.astype(int) - crop[:, :, ::-1].astype(int))
    assert difference.max() <= 2  # OpenCV's 1/32 px position quantisation


def test_mpii_flip_permutation_from_the_skeleton_tables():
    permutation = flip_permutation(MPII_FLIP_PAIRS, 16)
    heatmaps = np.arange(16, dtype=np.float32)[:, None, None] * np.ones((16, 64, 64), np.float32)
    flipped = codec.flip_heatmaps(heatmaps, permutation)
    np.testing.assert_array_equal(flipped[:, 0, 0], permutation)
