"""Training augmentation on top of the UDP codec: what the network sees during training.

Geometry (docs/rhpnet_spec.md §10): random scale, rotation, horizontal flip with left/right label swap and
half-body crops are folded into the single UDP affine warp of ``rhpnet.codec``, so each training
crop is sampled once from the original image (no intermediate resampling) and its keypoints go
through exactly the same matrix. Targets are the codec's UDP Gaussians. Appearance changes
(colour jitter, RandomErasing, GridMask) act on the crop afterwards and leave targets untouched.

Every random draw comes from a ``numpy.random.Generator`` handed in by the caller, seeded per
sample from (run seed, epoch, sample index): a sample gets the same augmentation whichever
worker process or rank loads it, which is what makes resumed and multi-process runs repeat a
single-process run exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from rhpnet import codec
from rhpnet.datasets.keypoint_set import PersonInstance
from rhpnet.skeleton import flip_permutation
from training.config import AugmentConfig, ModelConfig

# Keypoints below the waist; everything else is "upper body" for half-body crops (HRNet).
_LOWER_BODY_WORDS = ("hip", "knee", "ankle", "pelvis", "heel", "toe", "foot")
# HRNet enlarges a half-body box by 1.5 so the crop keeps some context around the joints.
_HALF_BODY_PADDING = 1.5


@dataclass
class CropGeometry:
    center: np.ndarray  # (2,) image pixels (of the mirrored image when ``flipped``)
    scale: np.ndarray  # (2,) image pixels
    rotation_deg: float
    flipped: bool
    half_body: bool = False


@dataclass
class TrainingSample:
    """One augmented crop and its targets (numpy; the dataset turns them into tensors)."""

    image: np.ndarray  # (3, h, w) float32, normalised RGB
    heatmaps: np.ndarray  # (K, H, W) float32
    target_weight: np.ndarray  # (K,) float32
    keypoints: np.ndarray  # (K, 3) x, y in input-crop pixels and the target weight
    crop_bgr: np.ndarray  # (h, w, 3) uint8, after appearance augmentation (for previews)
    geometry: CropGeometry


class TopDownTransform:
    """Box + image -> augmented, normalised crop with UDP heatmap targets."""

    def __init__(
        self,
        model: ModelConfig,
        augment: AugmentConfig,
        keypoint_names: tuple[str, ...],
        flip_pairs: tuple[tuple[int, int], ...],
        *,
        train: bool,
    ) -> None:
        self.input_size = model.input_size
        self.heatmap_size = model.heatmap_size
        self.sigma = model.sigma
        self.augment = augment
        self.train = train
        self.flip_permutation = flip_permutation(flip_pairs, len(keypoint_names))
        self.lower_body = np.array(
            [any(word in name for word in _LOWER_BODY_WORDS) for name in keypoint_names]
        )

    def __call__(
        self, image_bgr: np.ndarray, instance: PersonInstance, rng: np.random.Generator
    ) -> TrainingSample:
        keypoints = instance.keypoints.astype(np.float64)
        width = image_bgr.shape[1]
        geometry = self.sample_geometry(instance, keypoints, width, rng)
        matrix = codec.udp_warp_matrix(
            geometry.center, geometry.scale, self.input_size, geometry.rotation_deg
        )
        pixel_matrix = matrix
        if geometry.flipped:
            # The geometry describes a crop of the mirrored image; mirroring (x -> w - 1 - x)
            # and cropping are folded into one warp of the original pixels.
            keypoints = codec.flip_keypoints(keypoints, width, self.flip_permutation)
            pixel_matrix = _compose(matrix, _mirror_matrix(width))
        crop = codec.warp_crops(image_bgr, pixel_matrix[None], self.input_size)[0]
        points = codec.transform_points(keypoints[None, :, :2], matrix[None])[0]
        heatmaps, weights = codec.encode_heatmaps(
            points, keypoints[:, 2], self.input_size, self.heatmap_size, self.sigma
        )
        if self.train:
            crop = self.appearance(crop, rng)
        return TrainingSample(
            image=codec.normalize_crops(crop),
            heatmaps=heatmaps,
            target_weight=weights,
            keypoints=np.concatenate([points, weights[:, None]], axis=1).astype(np.float32),
            crop_bgr=crop,
            geometry=geometry,
        )

    # ------------------------------------------------------------------------------- geometry

    def sample_geometry(
        self,
        instance: PersonInstance,
        keypoints: np.ndarray,
        image_width: int,
        rng: np.random.Generator,
    ) -> CropGeometry:
        """Crop centre/scale/rotation/flip: the GT box, then the random part of docs/rhpnet_spec.md §10."""
        in_h, in_w = self.input_size
        aspect = in_w / in_h
        center, scale = codec.box_to_center_scale(instance.crop_box, aspect, self.augment.padding)
        if not self.train:
            return CropGeometry(center, scale, 0.0, False)
        a = self.augment
        visible = keypoints[:, 2] > 0
        half = None
        if visible.sum() > a.half_body_min_joints and rng.random() < a.half_body_prob:
            half = self._half_body(keypoints, visible, aspect, rng)
            if half is not None:
                center, scale = half
        scale = scale * np.clip(
            1 + a.scale_factor * rng.standard_normal(), 1 - a.scale_factor, 1 + a.scale_factor
        )
        rotation = 0.0
        if rng.random() < a.rotation_prob:
            rotation = float(
                np.clip(
                    a.rotation_factor * rng.standard_normal(),
                    -2 * a.rotation_factor,
                    2 * a.rotation_factor,
                )
            )
        flipped = bool(rng.random() < a.flip_prob)
        if flipped:
            center = codec.flip_x(center, image_width)
        return CropGeometry(center, scale, rotation, flipped, half is not None)

    def _half_body(
        self, keypoints: np.ndarray, visible: np.ndarray, aspect: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Centre/scale around the upper or the lower body (HRNet ``half_body_transform``)."""
        upper = visible & ~self.lower_body
        lower = visible & self.lower_body
        if rng.random() < 0.5 and upper.sum() > 2:
            chosen = upper
        else:
            chosen = lower if lower.sum() > 2 else upper
        if chosen.sum() < 2:
            return None
        points = keypoints[chosen, :2]
        top_left, bottom_right = points.min(axis=0), points.max(axis=0)
        box = np.concatenate([top_left, bottom_right - top_left])
        _, scale = codec.box_to_center_scale(box, aspect, _HALF_BODY_PADDING)
        return points.mean(axis=0), scale

    # ----------------------------------------------------------------------------- appearance

    def appearance(self, crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Colour jitter, then the paper's occlusions: RandomErasing and GridMask."""
        a = self.augment
        if rng.random() < a.color_jitter_prob:
            crop = color_jitter(crop, a.brightness, a.contrast, a.saturation, a.hue, rng)
        if rng.random() < a.random_erasing_prob:
            crop = random_erasing(crop, a.random_erasing_area, a.random_erasing_aspect, rng)
        if rng.random() < a.gridmask_prob:
            crop = grid_mask(crop, a.gridmask_unit, a.gridmask_ratio, rng)
        return crop


def _mirror_matrix(width: int) -> np.ndarray:
    return np.array([[-1.0, 0.0, width - 1.0], [0.0, 1.0, 0.0]])


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Affine ``outer o inner`` (``inner`` applied first), both (2, 3)."""
    linear = outer[:, :2] @ inner[:, :2]
    return np.hstack([linear, outer[:, :2] @ inner[:, 2:] + outer[:, 2:]])


def color_jitter(
    crop: np.ndarray,
    brightness: float,
    contrast: float,
    saturation: float,
    hue: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Random brightness, contrast and saturation factors in [1 - m, 1 + m], hue shift in
    [-hue, hue] of a full turn (torchvision ``ColorJitter`` semantics), on a BGR uint8 crop."""
    image = crop.astype(np.float32)
    image *= rng.uniform(1 - brightness, 1 + brightness)
    grey_mean = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).mean()
    image = (image - grey_mean) * rng.uniform(1 - contrast, 1 + contrast) + grey_mean
    image = np.clip(image, 0, 255)
    grey = cv2.cvtColor(image.astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)
    image = grey[..., None] + (image - grey[..., None]) * rng.uniform(
        1 - saturation, 1 + saturation
    )
    image = np.clip(image, 0, 255).astype(np.uint8)
    shift = rng.uniform(-hue, hue)
    if hue > 0 and shift != 0:
        hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
        hsv[..., 0] = ((hsv[..., 0].astype(np.int32) + round(shift * 180)) % 180).astype(np.uint8)
        image = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    return image


def random_erasing(
    crop: np.ndarray,
    area_range: list[float],
    aspect_range: list[float],
    rng: np.random.Generator,
    attempts: int = 10,
) -> np.ndarray:
    """Zhong et al.'s RandomErasing: one rectangle covering U(area_range) of the crop with
    aspect (height / width) U(aspect_range), filled with black (docs/rhpnet_spec.md §10). Up to ``attempts``
    draws are made to fit it inside the crop, as in the paper's algorithm."""
    height, width = crop.shape[:2]
    for _ in range(attempts):
        area = rng.uniform(*area_range) * height * width
        aspect = rng.uniform(*aspect_range)
        h = int(round(np.sqrt(area * aspect)))
        w = int(round(np.sqrt(area / aspect)))
        if 0 < h < height and 0 < w < width:
            y = int(rng.integers(0, height - h + 1))
            x = int(rng.integers(0, width - w + 1))
            crop = crop.copy()
            crop[y : y + h, x : x + w] = 0
            return crop
    return crop


def grid_mask(
    crop: np.ndarray, unit_range: list[int], ratio: float, rng: np.random.Generator
) -> np.ndarray:
    """GridMask / GridDropout (albumentations semantics as in mmpose's GridMask config): a grid
    of square holes, one per ``unit`` x ``unit`` cell with ``unit`` drawn from ``unit_range``,
    holes ``ratio * unit`` wide, at a random offset, filled with black."""
    height, width = crop.shape[:2]
    unit = int(rng.integers(unit_range[0], unit_range[1] + 1))
    hole = max(1, int(round(unit * ratio)))
    off_x, off_y = (int(v) for v in rng.integers(0, unit - hole + 1, size=2))
    cols = (np.arange(width) - off_x) % unit < hole
    rows = (np.arange(height) - off_y) % unit < hole
    crop = crop.copy()
    crop[rows[:, None] & cols[None, :]] = 0
    return crop
