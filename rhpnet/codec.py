"""UDP codec: person box -> network input crop -> heatmaps -> keypoints in image pixels.

One module holds every coordinate convention of the top-down pipeline so that training
(targets, augmentation) and inference (decoding, flip test) cannot drift apart. Conventions
(docs/rhpnet_spec.md §6, "unbiased data processing", Huang et al. CVPR 2020):

* Pixel centres sit at integer coordinates; an image ``w`` pixels wide spans ``[0, w - 1]``.
* Sizes are ``(height, width)`` like tensor shapes; points are ``(x, y)``.
* Box -> crop: the segment ``[c - s/2, c + s/2]`` maps onto ``[0, w_in - 1]`` (``s`` in pixels).
* Crop -> heatmap: ``x_hm = x_in * (W - 1) / (w_in - 1)`` (not ``/ 4``).
* Horizontal flip: ``x -> w - 1 - x`` for images, crops and heatmaps alike (no pixel shift).

Everything is vectorised over instances and keypoints: arrays carry leading batch dimensions
``(..., K, 2)`` for points and ``(..., K, H, W)`` for heatmaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import cv2
import numpy as np
from scipy import ndimage

# Input normalisation (docs/rhpnet_spec.md §10): ImageNet statistics of RGB images scaled to [0, 1].
INPUT_MEAN_RGB = np.array([0.485, 0.456, 0.406], dtype=np.float32)
INPUT_STD_RGB = np.array([0.229, 0.224, 0.225], dtype=np.float32)

DEFAULT_SIGMA = 2.0
DEFAULT_PADDING = 1.25
DEFAULT_ASPECT_RATIO = 192 / 256  # width / height of rhpnet.model.DEFAULT_INPUT_SIZE

Refinement = Literal["dark_udp", "argmax"]
REFINEMENTS: tuple[str, ...] = ("dark_udp", "argmax")

# The Newton step of DARK is a local correction; a well-formed peak never moves it further than
# half a pixel from the argmax. Larger (or non-finite) steps come from flat or saddle-shaped
# neighbourhoods, where the argmax itself is the better answer.
_MAX_DARK_STEP = 1.0


# --------------------------------------------------------------------------------------------
# Input normalisation


def normalize_crops(crops_bgr: np.ndarray) -> np.ndarray:
    """BGR uint8 crops (..., h, w, 3) -> normalised RGB float32 network input (..., 3, h, w)."""
    crops = np.asarray(crops_bgr)
    if crops.ndim < 3 or crops.shape[-1] != 3:
        raise ValueError(f"expected BGR crops shaped (..., h, w, 3), got {crops.shape}")
    rgb = crops[..., ::-1].astype(np.float32)
    # (x / 255 - mean) / std folded into one multiply-add per channel.
    gain = 1.0 / (255.0 * INPUT_STD_RGB)
    offset = -INPUT_MEAN_RGB / INPUT_STD_RGB
    normalised = rgb * gain + offset
    return np.ascontiguousarray(np.moveaxis(normalised, -1, -3))


# --------------------------------------------------------------------------------------------
# Box -> centre/scale -> affine crop


def box_to_center_scale(
    boxes_xywh: np.ndarray | Sequence[float],
    aspect_ratio: float = DEFAULT_ASPECT_RATIO,
    padding: float = DEFAULT_PADDING,
) -> tuple[np.ndarray, np.ndarray]:
    """Person boxes (..., 4) as x, y, w, h -> crop centres (..., 2) and scales (..., 2) in pixels.

    The short side is enlarged so that ``scale_w / scale_h == aspect_ratio`` (input width over
    height, 0.75 for 256x192), then both sides are multiplied by ``padding``. Scales are plain
    pixels (HRNet stores them divided by 200). Boxes of zero width or height get a 1-pixel
    minimum so the crop stays a finite, invertible transform.
    """
    boxes = np.asarray(boxes_xywh, dtype=np.float64)
    if boxes.shape[-1:] != (4,):
        raise ValueError(f"expected boxes shaped (..., 4) as x, y, w, h, got {boxes.shape}")
    if not np.all(np.isfinite(boxes)):
        raise ValueError("boxes contain NaN or infinite values")
    x, y, w, h = np.moveaxis(boxes, -1, 0)
    w = np.maximum(w, 1.0)
    h = np.maximum(h, 1.0)
    center = np.stack([x + 0.5 * boxes[..., 2], y + 0.5 * boxes[..., 3]], axis=-1)
    widen = w < aspect_ratio * h
    scale_w = np.where(widen, h * aspect_ratio, w)
    scale_h = np.where(widen, h, w / aspect_ratio)
    scale = np.stack([scale_w, scale_h], axis=-1) * padding
    return center, scale


def udp_warp_matrix(
    center: np.ndarray,
    scale: np.ndarray,
    input_size: tuple[int, int],
    rotation_deg: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Affine matrices (..., 2, 3) taking image points to input-crop points (docs/rhpnet_spec.md §6.2).

    ``u = (w_in - 1) / s_w * [R(p - c)]_x + (w_in - 1) / 2`` and likewise for y, with
    ``R = [[cos, -sin], [sin, cos]]``: the box segment ``[c - s/2, c + s/2]`` lands on
    ``[0, w_in - 1] x [0, h_in - 1]`` and a positive angle turns the crop's content clockwise
    on screen about the box centre. Same semantics as mmpose ``get_udp_warp_matrix``.
    """
    center = np.asarray(center, dtype=np.float64)
    scale = np.asarray(scale, dtype=np.float64)
    theta = np.deg2rad(np.asarray(rotation_deg, dtype=np.float64))
    shape = np.broadcast_shapes(center.shape[:-1], scale.shape[:-1], theta.shape)
    center = np.broadcast_to(center, (*shape, 2))
    scale = np.broadcast_to(scale, (*shape, 2))
    theta = np.broadcast_to(theta, shape)

    in_h, in_w = input_size
    gain_x = (in_w - 1) / scale[..., 0]
    gain_y = (in_h - 1) / scale[..., 1]
    cos, sin = np.cos(theta), np.sin(theta)
    cx, cy = center[..., 0], center[..., 1]

    matrix = np.empty((*shape, 2, 3), dtype=np.float64)
    matrix[..., 0, 0] = gain_x * cos
    matrix[..., 0, 1] = -gain_x * sin
    matrix[..., 0, 2] = -gain_x * (cos * cx - sin * cy) + 0.5 * (in_w - 1)
    matrix[..., 1, 0] = gain_y * sin
    matrix[..., 1, 1] = gain_y * cos
    matrix[..., 1, 2] = -gain_y * (sin * cx + cos * cy) + 0.5 * (in_h - 1)
    return matrix


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """Inverse of affine matrices (..., 2, 3): input-crop points back to image points."""
    matrix = np.asarray(matrix, dtype=np.float64)
    linear = matrix[..., :2]
    inverse_linear = np.linalg.inv(linear)
    inverse = np.empty_like(matrix)
    inverse[..., :2] = inverse_linear
    inverse[..., 2] = -np.einsum("...ij,...j->...i", inverse_linear, matrix[..., 2])
    return inverse


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply affine matrices (..., 2, 3) to points (..., K, 2) (or (..., K, D): x, y used)."""
    points = np.asarray(points, dtype=np.float64)[..., :2]
    matrix = np.asarray(matrix, dtype=np.float64)
    return np.einsum("...ij,...kj->...ki", matrix[..., :2], points) + matrix[..., None, :, 2]


def warp_crops(image: np.ndarray, matrices: np.ndarray, input_size: tuple[int, int]) -> np.ndarray:
    """Sample one crop per matrix (N, 2, 3) from ``image`` -> (N, h_in, w_in, C) like ``image``.

    Bilinear interpolation; pixels outside the image are black (constant border 0).
    """
    in_h, in_w = input_size
    matrices = np.asarray(matrices, dtype=np.float64).reshape(-1, 2, 3)
    crops = np.zeros((len(matrices), in_h, in_w, *image.shape[2:]), dtype=image.dtype)
    for crop, matrix in zip(crops, matrices, strict=True):
        crop[...] = cv2.warpAffine(
            image,
            matrix,
            (in_w, in_h),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        ).reshape(crop.shape)
    return crops


# --------------------------------------------------------------------------------------------
# Input crop <-> heatmap <-> image


def input_to_heatmap(
    points: np.ndarray, input_size: tuple[int, int], heatmap_size: tuple[int, int]
) -> np.ndarray:
    """Input-crop points (..., 2) -> heatmap points, UDP scaling (W - 1) / (w_in - 1)."""
    points = np.asarray(points, dtype=np.float64)[..., :2]
    return points * _udp_ratio(heatmap_size, input_size)


def heatmap_to_input(
    points: np.ndarray, input_size: tuple[int, int], heatmap_size: tuple[int, int]
) -> np.ndarray:
    """Heatmap points (..., 2) -> input-crop points (inverse of ``input_to_heatmap``)."""
    points = np.asarray(points, dtype=np.float64)[..., :2]
    return points * _udp_ratio(input_size, heatmap_size)


def heatmap_to_image(
    points: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    heatmap_size: tuple[int, int],
) -> np.ndarray:
    """Heatmap points (N, K, 2) of unrotated crops -> image pixels (docs/rhpnet_spec.md §6.4 step 3).

    ``p = c - s/2 + x_hm * s / (W - 1)`` with ``center``/``scale`` shaped (N, 2).
    """
    points = np.asarray(points, dtype=np.float64)[..., :2]
    center = np.asarray(center, dtype=np.float64)[..., None, :]
    scale = np.asarray(scale, dtype=np.float64)[..., None, :]
    hm_h, hm_w = heatmap_size
    step = scale / np.array([hm_w - 1, hm_h - 1], dtype=np.float64)
    return center - 0.5 * scale + points * step


def _udp_ratio(to_size: tuple[int, int], from_size: tuple[int, int]) -> np.ndarray:
    """Per-axis (x, y) factor (to - 1) / (from - 1) between two (height, width) sizes."""
    (to_h, to_w), (from_h, from_w) = to_size, from_size
    return np.array([(to_w - 1) / (from_w - 1), (to_h - 1) / (from_h - 1)], dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Encoding: Gaussian heatmap targets


def encode_heatmaps(
    keypoints: np.ndarray,
    keypoint_weights: np.ndarray,
    input_size: tuple[int, int],
    heatmap_size: tuple[int, int],
    sigma: float = DEFAULT_SIGMA,
) -> tuple[np.ndarray, np.ndarray]:
    """UDP Gaussian targets (docs/rhpnet_spec.md §6.3) for keypoints in input-crop pixels.

    keypoints: (..., K, 2+) x, y in input-crop pixels; keypoint_weights: (..., K), > 0 where
    the keypoint is labelled. Returns heatmaps (..., K, H, W) float32 and target weights
    (..., K) float32. Each heatmap holds ``exp(-d^2 / 2 sigma^2)`` around the sub-pixel
    location, evaluated on the integer grid inside the (6 sigma + 1)^2 window centred on the
    rounded location and zero elsewhere. The weight is 0 for unlabelled keypoints, non-finite
    coordinates and windows lying completely outside the heatmap (their heatmaps are all zero).
    """
    hm_h, hm_w = heatmap_size
    coords = input_to_heatmap(keypoints, input_size, heatmap_size)
    labelled = np.asarray(keypoint_weights) > 0
    finite = np.all(np.isfinite(coords), axis=-1)
    coords = np.where(finite[..., None], coords, 0.0)

    radius = 3.0 * sigma
    rounded = np.floor(coords + 0.5)
    window_hits_x = (rounded[..., 0] + radius >= 0) & (rounded[..., 0] - radius <= hm_w - 1)
    window_hits_y = (rounded[..., 1] + radius >= 0) & (rounded[..., 1] - radius <= hm_h - 1)
    weights = labelled & finite & window_hits_x & window_hits_y

    # The Gaussian is separable and so is its square window: build x and y profiles, multiply.
    profile_x = _windowed_gaussian(np.arange(hm_w), coords[..., 0], rounded[..., 0], radius, sigma)
    profile_y = _windowed_gaussian(np.arange(hm_h), coords[..., 1], rounded[..., 1], radius, sigma)
    profile_x *= weights[..., None]
    heatmaps = profile_y[..., :, None] * profile_x[..., None, :]
    return heatmaps.astype(np.float32), weights.astype(np.float32)


def _windowed_gaussian(
    grid: np.ndarray, mean: np.ndarray, window_centre: np.ndarray, radius: float, sigma: float
) -> np.ndarray:
    """exp(-(grid - mean)^2 / 2 sigma^2) where |grid - window_centre| <= radius, else 0."""
    offset = grid - mean[..., None]
    inside = np.abs(grid - window_centre[..., None]) <= radius
    return np.where(inside, np.exp(-(offset**2) / (2.0 * sigma**2)), 0.0)


# --------------------------------------------------------------------------------------------
# Decoding: argmax, DARK-UDP refinement


def heatmap_maxima(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer argmax location (..., K, 2) as float x, y and the peak value (..., K) per channel."""
    heatmaps = np.asarray(heatmaps)
    *lead, hm_h, hm_w = heatmaps.shape
    flat = heatmaps.reshape(*lead, hm_h * hm_w)
    index = np.argmax(flat, axis=-1)
    scores = np.take_along_axis(flat, index[..., None], axis=-1)[..., 0]
    coords = np.stack([index % hm_w, index // hm_w], axis=-1).astype(np.float64)
    return coords, scores.astype(np.float32)


def dark_blur_kernel_size(sigma: float) -> int:
    """Modulation kernel matched to the training sigma: 11 for sigma 2, 17 for sigma 3."""
    return int((sigma * 20 - 7) // 3)


def refine_dark_udp(
    coords: np.ndarray, heatmaps: np.ndarray, blur_kernel_size: int = 11
) -> np.ndarray:
    """DARK-UDP sub-pixel refinement (docs/rhpnet_spec.md §8; mmpose ``refine_keypoints_dark_udp``).

    coords: integer argmax locations (..., K, 2); heatmaps: (..., K, H, W). Blurs each heatmap
    (zero border, peak rescaled to the original maximum), clips to [1e-3, 50], takes the log,
    edge-pads by one pixel and takes one Newton step ``-(Hessian + eps I)^-1 gradient`` with
    UDP's finite differences. Steps that are non-finite or longer than one heatmap pixel (flat
    or saddle-shaped neighbourhoods) are dropped and the argmax is kept. Returns new coords.
    """
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    *lead, hm_h, hm_w = heatmaps.shape
    maps = heatmaps.reshape(-1, hm_h, hm_w)
    points = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    if len(maps) == 0:
        return np.asarray(coords, dtype=np.float64).copy()

    log_maps = np.log(np.clip(_modulate(maps, blur_kernel_size), 1e-3, 50.0))
    padded = np.pad(log_maps, ((0, 0), (1, 1), (1, 1)), mode="edge")

    channel = np.arange(len(maps))
    x = np.clip(points[:, 0].astype(np.int64), 0, hm_w - 1) + 1
    y = np.clip(points[:, 1].astype(np.int64), 0, hm_h - 1) + 1

    def at(dx: int, dy: int) -> np.ndarray:
        return padded[channel, y + dy, x + dx].astype(np.float64)

    centre = at(0, 0)
    right, left, down, up = at(1, 0), at(-1, 0), at(0, 1), at(0, -1)
    down_right, up_left = at(1, 1), at(-1, -1)

    grad_x = 0.5 * (right - left)
    grad_y = 0.5 * (down - up)
    eps = float(np.finfo(np.float32).eps)
    hess_xx = right - 2.0 * centre + left + eps
    hess_yy = down - 2.0 * centre + up + eps
    hess_xy = 0.5 * (down_right - right - down + 2.0 * centre - left - up + up_left)

    det = hess_xx * hess_yy - hess_xy * hess_xy
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        step_x = -(hess_yy * grad_x - hess_xy * grad_y) / det
        step_y = -(hess_xx * grad_y - hess_xy * grad_x) / det
    step = np.stack([step_x, step_y], axis=-1)
    usable = np.all(np.isfinite(step) & (np.abs(step) <= _MAX_DARK_STEP), axis=-1)
    refined = points + np.where(usable[:, None], step, 0.0)
    return refined.reshape(*lead, 2)


def _modulate(maps: np.ndarray, kernel_size: int) -> np.ndarray:
    """Gaussian blur (zero border) of (M, H, W) maps, each rescaled to keep its maximum."""
    kernel = cv2.getGaussianKernel(kernel_size, 0).ravel()
    blurred = ndimage.correlate1d(maps, kernel, axis=2, mode="constant")
    blurred = ndimage.correlate1d(blurred, kernel, axis=1, mode="constant")
    original_max = maps.max(axis=(1, 2), keepdims=True)
    blurred_max = blurred.max(axis=(1, 2), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(blurred_max != 0, original_max / blurred_max, 1.0)
    return blurred * ratio


def decode_heatmaps(
    heatmaps: np.ndarray, refine: Refinement = "dark_udp", sigma: float = DEFAULT_SIGMA
) -> tuple[np.ndarray, np.ndarray]:
    """Heatmaps (..., K, H, W) -> keypoints (..., K, 2) in heatmap pixels and scores (..., K).

    ``refine="argmax"`` is the paper's plain argmax; ``"dark_udp"`` (mmpose's UDP default)
    adds the sub-pixel DARK-UDP step. Scores are the heatmap peak values.
    """
    if refine not in REFINEMENTS:
        raise ValueError(f"unknown refinement {refine!r}; expected one of {REFINEMENTS}")
    coords, scores = heatmap_maxima(heatmaps)
    if refine == "dark_udp":
        coords = refine_dark_udp(coords, heatmaps, dark_blur_kernel_size(sigma))
    return coords, scores


# --------------------------------------------------------------------------------------------
# Flips


def flip_heatmaps(heatmaps: np.ndarray, flip_permutation: Sequence[int]) -> np.ndarray:
    """Mirror heatmaps (..., K, H, W) of a mirrored crop back: column i -> W - 1 - i, left and
    right channels swapped. UDP needs no pixel shift (docs/rhpnet_spec.md §9)."""
    heatmaps = np.asarray(heatmaps)
    return heatmaps[..., list(flip_permutation), :, ::-1]


def flip_image(image: np.ndarray) -> np.ndarray:
    """Mirror an image left-right (pixel x -> w - 1 - x)."""
    return np.ascontiguousarray(np.asarray(image)[:, ::-1])


def flip_x(points: np.ndarray, width: int) -> np.ndarray:
    """Mirror points (..., D) (x first) inside an image ``width`` pixels wide: x -> width - 1 - x.

    Use it for crop centres; keypoints also need their labels swapped (``flip_keypoints``).
    """
    flipped = np.array(points, dtype=np.float64, copy=True)
    flipped[..., 0] = (width - 1) - flipped[..., 0]
    return flipped


def flip_keypoints(
    keypoints: np.ndarray, width: int, flip_permutation: Sequence[int]
) -> np.ndarray:
    """Keypoints (..., K, D) of an image mirrored by ``flip_image``: x -> width - 1 - x and
    left/right labels swapped (e.g. ``rhpnet.skeleton.COCO_FLIP_PERMUTATION``). Columns after
    x (y, visibility, score) are kept."""
    return flip_x(keypoints, width)[..., list(flip_permutation), :]
