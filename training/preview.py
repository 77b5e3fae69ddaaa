"""``train preview``: a PNG grid of augmented training crops with their targets drawn on them.

Each tile is exactly what the first epoch feeds the network for one person (same per-sample
seeds as training), with the target heatmaps blended in and the keypoints and bones drawn
(orange = left, blue = right). A caption names the random geometry: flip, rotation, half-body.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from rhpnet.atomic import atomic_write_bytes
from rhpnet.errors import DataError
from training.config import Config
from training.datasets import load_split
from training.transforms import TopDownTransform, TrainingSample
from training.visualize import draw_pose, overlay_heatmaps, tile, upscale


def write_preview(
    config: Config, data: Path, out: Path, count: int = 16, columns: int = 8, epoch: int = 0
) -> Path:
    """Write the grid for ``count`` people spread over the training set; returns ``out``."""
    train_set = load_split(data, "train", config.data, training=True)
    transform = TopDownTransform(
        config.model, config.augment, train_set.keypoint_names, train_set.flip_pairs, train=True
    )
    indices = np.linspace(0, len(train_set) - 1, count).round().astype(int)
    factor = 2 if config.model.input_height < 200 else 1
    tiles = []
    for index in indices:
        instance = train_set.instances[index]
        rng = np.random.default_rng([config.train.seed, epoch, int(index)])
        sample = transform(instance.image.read(), instance, rng)
        tiles.append(_tile(sample, train_set.keypoint_names, factor))
    ok, png = cv2.imencode(".png", tile(tiles, min(columns, len(tiles))))
    if not ok:
        raise DataError(f"could not encode the preview grid for {out}")
    atomic_write_bytes(out, png.tobytes())
    return out


def _tile(sample: TrainingSample, names: tuple[str, ...], factor: int) -> np.ndarray:
    image = upscale(overlay_heatmaps(sample.crop_bgr, sample.heatmaps), factor)
    keypoints = sample.keypoints.copy()
    keypoints[:, :2] = (keypoints[:, :2] + 0.5) * factor - 0.5
    image = draw_pose(image, keypoints, names, radius=max(2, factor + 1))
    g = sample.geometry
    caption = " ".join(
        part
        for part in (
            "flip" if g.flipped else "",
            f"rot {g.rotation_deg:+.0f}" if g.rotation_deg else "",
            "half" if g.half_body else "",
        )
        if part
    )
    if caption:
        cv2.putText(
            image, caption, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 3, cv2.LINE_AA
        )
        cv2.putText(
            image, caption, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA
        )
    return image
