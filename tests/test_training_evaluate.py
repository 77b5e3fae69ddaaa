"""Validation: training targets decoded by the evaluation path score perfectly (COCO and MPII)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from rhpnet import codec
from rhpnet.datasets.coco_format import load_coco_keypoints
from rhpnet.datasets.keypoint_set import KeypointSet
from rhpnet.errors import DataError
from tests.support.training_samples import mpii_entries
from training.config import load_config
from training.datasets import load_mpii
from training.distributed import DistContext
from training.evaluate import Validator
from training.transforms import TopDownTransform

CPU = DistContext(0, 1, 0, torch.device("cpu"))


class TargetOracle(nn.Module):
    """A "network" that answers each validation crop with the training targets of that person.

    If training's target encoding (crop geometry, UDP Gaussians, flip) and evaluation's decoding
    (estimator crops, flip test, DARK-UDP, heatmap -> image mapping) agree, it scores perfectly.
    """

    def __init__(self, keypoint_set: KeypointSet, config) -> None:
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(()))  # so .to(device) has something to move
        transform = TopDownTransform(
            config.model, config.augment, keypoint_set.keypoint_names, keypoint_set.flip_pairs,
            train=False,
        )  # fmt: skip
        permutation = transform.flip_permutation
        self.table = []
        for instance in keypoint_set.instances:
            sample = transform(instance.image.read(), instance, np.random.default_rng(0))
            crop, maps = torch.from_numpy(sample.image), torch.from_numpy(sample.heatmaps)
            self.table.append((crop, maps))
            mirrored = codec.flip_heatmaps(sample.heatmaps, permutation).copy()
            self.table.append((crop.flip(-1), torch.from_numpy(mirrored)))

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        answers = []
        for crop in batch:
            errors = [float((crop - key).abs().max()) for key, _ in self.table]
            best = int(np.argmin(errors))
            assert errors[best] < 1e-4, "the estimator cut a crop training never produced"
            answers.append(self.table[best][1])
        return torch.stack(answers)


def test_coco_targets_score_ap_one(sportpose_dir, tmp_path):
    data = json.loads((sportpose_dir / "annotations.json").read_text())
    images = [im for im in data["images"] if im["file_name"].startswith(("lspet", "ochuman"))][:6]
    ids = {im["id"] for im in images}
    subset = {**data, "images": images}
    subset["annotations"] = [a for a in data["annotations"] if a["image_id"] in ids]
    path = tmp_path / "subset.json"
    path.write_text(json.dumps(subset))
    val = load_coco_keypoints(path, sportpose_dir / "images", training=False)
    config = load_config("coco_256x192", ["data.workers=0"])

    result = Validator(val, config, CPU).evaluate(TargetOracle(val, config))

    assert result.metric == "AP"
    assert result.value == pytest.approx(1.0) and result.metrics["AR"] == pytest.approx(1.0)


def test_mpii_targets_score_full_pckh(sportpose_dir, tmp_path):
    entries = mpii_entries(sportpose_dir)
    for entry in entries:
        entry["headbox"] = [0, 0, 60, 80]  # head size 0.6 x 100 = 60 px
    path = tmp_path / "valid.json"
    path.write_text(json.dumps(entries))
    val = load_mpii(path, sportpose_dir / "images", training=False)
    config = load_config("mpii_256x256", ["data.workers=0"])

    result = Validator(val, config, CPU).evaluate(TargetOracle(val, config))

    assert result.metric == "PCKh@0.5"
    assert result.value == pytest.approx(100.0)
    assert result.metrics["PCKh@0.1/Mean"] == pytest.approx(100.0)
    assert {"PCKh@0.5/Head", "PCKh@0.5/Ankle", "PCKh@0.1/Wrist"} <= set(result.metrics)


def test_oks_ap_on_a_set_without_the_17_coco_keypoints_fails_before_training(
    sportpose_dir, tmp_path
):
    """A COCO-format set may name other keypoints (training accepts them), but OKS sigmas
    exist for COCO's 17 only: say so when validation is set up, not epochs later."""
    data = json.loads((sportpose_dir / "annotations.json").read_text())
    images = [im for im in data["images"] if im["file_name"].startswith("lspet")][:2]
    ids = {im["id"] for im in images}
    annotations = [
        {**a, "keypoints": a["keypoints"][: 16 * 3]}
        for a in data["annotations"]
        if a["image_id"] in ids
    ]
    category = {**data["categories"][0], "keypoints": data["categories"][0]["keypoints"][:16]}
    path = tmp_path / "sixteen.json"
    path.write_text(
        json.dumps({"images": images, "annotations": annotations, "categories": [category]})
    )
    val = load_coco_keypoints(path, sportpose_dir / "images", any_keypoints=True)
    config = load_config("coco_256x192", ["data.workers=0", "model.num_keypoints=16"])
    with pytest.raises(DataError, match="this set has 16"):
        Validator(val, config, CPU)
