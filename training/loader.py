"""Torch datasets and samplers: augmented training crops and per-image evaluation crops.

Training samples are addressed by ``(epoch, index)`` pairs produced by ``EpochSampler``; the
dataset seeds each sample's augmentation from (seed, epoch, index). Shuffling comes from
``DistributedSampler`` seeded by (seed + epoch). Neither depends on worker processes, global
RNG state or the number of ranks, so an interrupted run resumes bit-identically and N processes
see exactly the samples one process would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, DistributedSampler

from rhpnet.datasets.keypoint_set import KeypointSet, PersonInstance
from rhpnet.estimators.topdown import crop_boxes
from training.transforms import TopDownTransform


class PoseDataset(Dataset):
    """Augmented training crops with UDP heatmap targets."""

    def __init__(self, keypoint_set: KeypointSet, transform: TopDownTransform, seed: int) -> None:
        self.keypoint_set = keypoint_set
        self.transform = transform
        self.seed = seed

    def __len__(self) -> int:
        return len(self.keypoint_set.instances)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        rng = np.random.default_rng([self.seed, epoch, index])
        instance = self.keypoint_set.instances[index]
        sample = self.transform(instance.image.read(), instance, rng)
        return {
            "image": torch.from_numpy(sample.image),
            "heatmaps": torch.from_numpy(sample.heatmaps),
            "target_weight": torch.from_numpy(sample.target_weight),
            "keypoints": torch.from_numpy(sample.keypoints),
            "index": index,
        }


class EpochSampler(DistributedSampler):
    """``DistributedSampler`` whose indices carry the epoch: ``(epoch, index)``."""

    def __iter__(self) -> Iterator[tuple[int, int]]:  # type: ignore[override]
        epoch = self.epoch
        for index in super().__iter__():
            yield epoch, index


class ImageCropsDataset(Dataset):
    """All person crops of one image per item, cut by the estimator's own ``crop_boxes``.

    Grouping by image decodes each image once however many people (or detections) it holds.
    """

    def __init__(
        self,
        instances: list[PersonInstance],
        input_size: tuple[int, int],
        padding: float,
    ) -> None:
        self.input_size = input_size
        self.padding = padding
        groups: dict[int, list[int]] = {}
        for i, instance in enumerate(instances):
            groups.setdefault(instance.image_id, []).append(i)
        self.instances = instances
        self.groups = list(groups.values())

    def __len__(self) -> int:
        return len(self.groups)

    def __getitem__(self, item: int) -> dict[str, Any]:
        members = self.groups[item]
        image = self.instances[members[0]].image.read()
        boxes = np.stack([self.instances[i].crop_box for i in members])
        crops = crop_boxes(image, boxes, self.input_size, self.padding)
        return {
            "inputs": torch.from_numpy(crops.inputs),
            "centers": torch.from_numpy(crops.centers),
            "scales": torch.from_numpy(crops.scales),
            "indices": torch.tensor(members),
        }


def concatenate_crops(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Collate per-image crop groups into one flat batch."""
    return {key: torch.cat([item[key] for item in items]) for key in items[0]}
