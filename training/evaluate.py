"""Validation during training, through the same inference code as the app and ``eval``.

Crops are cut by ``rhpnet.estimators.topdown.crop_boxes`` and run through
``TopDownEstimator.predict_crops`` (batched forward, flip test, DARK-UDP decoding), so the AP a
training run reports is the AP users get. COCO-format sets are scored with OKS AP/AR by
``rhpnet.evaluation.coco`` (pycocotools); MPII with PCKh by ``rhpnet.evaluation.pckh``.

With several processes each rank predicts a disjoint share of the images; the predictions are
gathered (``all_gather_object``) and rank 0 runs a single pycocotools evaluation, whose result
every rank receives, so they agree on which checkpoint is best.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset

from rhpnet import codec
from rhpnet.datasets.keypoint_set import KeypointSet, PersonInstance
from rhpnet.errors import DataError
from rhpnet.estimators.topdown import TopDownEstimator
from rhpnet.evaluation.coco import (
    METRIC_NAMES,
    KeypointPrediction,
    coco_results,
    evaluate_keypoints,
    instance_score,
)
from rhpnet.evaluation.oks_nms import oks_nms
from rhpnet.evaluation.pckh import compute_pckh
from rhpnet.skeleton import COCO_OKS_SIGMAS
from training import distributed
from training.config import Config
from training.distributed import DistContext
from training.loader import ImageCropsDataset, concatenate_crops
from training.visualize import PREDICTION_BGR, TARGET_BGR, draw_pose

log = logging.getLogger("training.evaluate")


@dataclass
class Evaluation:
    """One validation pass: the metric that picks the best checkpoint, and all the others."""

    metric: str
    value: float
    metrics: dict[str, float] = field(default_factory=dict)
    table: str = ""


class Validator:
    """Scores a model on a validation set (GT boxes or detections)."""

    def __init__(
        self,
        keypoint_set: KeypointSet,
        config: Config,
        ctx: DistContext,
        detections: list[PersonInstance] | None = None,
    ) -> None:
        self.keypoint_set = keypoint_set
        self.config = config
        self.ctx = ctx
        self.use_detections = detections is not None
        metric = config.eval.metric
        if metric == "auto":
            metric = "pckh" if keypoint_set.format == "mpii" else "coco"
        self.metric = metric
        if detections is not None:
            self.instances = detections
        else:
            self.instances = [i for i in keypoint_set.instances if i.is_scored]
        if not self.instances:
            raise DataError(f"{keypoint_set.annotation_file}: no person to evaluate on")
        if metric == "pckh" and any(i.head_box is None for i in self.instances):
            raise DataError(
                f"{keypoint_set.annotation_file}: PCKh needs head boxes (a 'headbox' per entry, "
                "or annot/gt_valid.mat / annotations/mpii_gt_val.mat beside it)"
            )
        if metric == "coco" and keypoint_set.format != "coco":
            raise DataError('OKS AP needs a COCO-format validation set; use metric = "pckh"')
        if metric == "coco" and keypoint_set.num_keypoints != len(COCO_OKS_SIGMAS):
            # pycocotools would fail on the first validation, epochs into the run.
            raise DataError(
                f"{keypoint_set.annotation_file}: OKS AP is defined for the "
                f"{len(COCO_OKS_SIGMAS)} COCO keypoints (their OKS sigmas), this set has "
                f"{keypoint_set.num_keypoints}; validate on a 17-keypoint COCO-format set or "
                'with metric = "pckh" on MPII'
            )
        self.input_size = config.model.input_size

    def estimator(self, model: nn.Module) -> TopDownEstimator:
        return TopDownEstimator(
            model,
            input_size=self.input_size,
            device=self.ctx.device,
            flip_test=self.config.eval.flip_test,
            batch_size=self.config.eval.batch_size,
            keypoint_names=self.keypoint_set.keypoint_names,
            flip_pairs=self.keypoint_set.flip_pairs,
            box_padding=self.config.augment.padding,
            sigma=self.config.model.sigma,
        )

    def evaluate(self, model: nn.Module, progress: bool = False) -> Evaluation:
        """Predict this rank's share, gather everything, score once, share the result."""
        from tqdm import tqdm

        estimator = self.estimator(model)
        dataset = ImageCropsDataset(self.instances, self.input_size, self.config.augment.padding)
        share = Subset(dataset, range(self.ctx.rank, len(dataset), self.ctx.world_size))
        loader = DataLoader(
            share,
            batch_size=4,
            num_workers=self.config.data.workers,
            collate_fn=concatenate_crops,
            generator=torch.Generator().manual_seed(0),
        )
        predictions: list[tuple[int, np.ndarray, float]] = []
        for batch in tqdm(loader, desc="evaluating", unit="batch", disable=not progress):
            keypoints = estimator.predict_crops(
                batch["inputs"], batch["centers"].numpy(), batch["scales"].numpy()
            )
            areas = batch["scales"].prod(dim=1).numpy()
            for index, person, area in zip(
                batch["indices"].tolist(), keypoints, areas, strict=True
            ):
                predictions.append((index, person, float(area)))
        gathered = distributed.all_gather_objects(predictions)
        result = None
        if self.ctx.is_main:
            merged = sorted((p for part in gathered for p in part), key=lambda p: p[0])
            result = self._score(merged)
        return distributed.broadcast_object(result)

    def _score(self, predictions: list[tuple[int, np.ndarray, float]]) -> Evaluation:
        if self.metric == "pckh":
            return self._score_pckh(predictions)
        return self._score_coco(predictions)

    def _score_coco(self, predictions: list[tuple[int, np.ndarray, float]]) -> Evaluation:
        by_image: dict[int, list[tuple[np.ndarray, float, float]]] = defaultdict(list)
        for index, keypoints, area in predictions:
            instance = self.instances[index]
            by_image[instance.image_id].append((keypoints, instance.score, area))
        kept: list[KeypointPrediction] = []
        for image_id, people in sorted(by_image.items()):
            keypoints = np.stack([p[0] for p in people])
            order = range(len(people))
            if self.use_detections:
                scores = [instance_score(k, s) for k, s, _ in people]
                order = oks_nms(keypoints, np.array(scores), np.array([p[2] for p in people]))
            kept.extend(KeypointPrediction(image_id, keypoints[i], people[i][1]) for i in order)
        summary = evaluate_keypoints(self.keypoint_set, coco_results(kept))
        metrics = {
            name: float(summary[name]) for name in METRIC_NAMES if summary.get(name) is not None
        }
        table = "  ".join(f"{name} {value:.4f}" for name, value in metrics.items())
        return Evaluation("AP", metrics.get("AP", 0.0), metrics, table)

    def _score_pckh(self, predictions: list[tuple[int, np.ndarray, float]]) -> Evaluation:
        indices = [p[0] for p in predictions]
        instances = [self.instances[i] for i in indices]
        result = compute_pckh(
            np.stack([p[1][:, :2] for p in predictions]),
            np.stack([i.keypoints[:, :2] for i in instances]),
            np.stack([i.keypoints[:, 2] > 0 for i in instances]),
            np.stack([i.head_box for i in instances]),
        )
        metrics = {}
        for threshold, groups in result.groups.items():
            for name, value in groups.items():
                metrics[f"PCKh@{threshold:g}/{name}"] = value
        return Evaluation("PCKh@0.5", result.mean(0.5), metrics, result.table())

    def prediction_panels(self, model: nn.Module, count: int) -> list[np.ndarray]:
        """Validation crops with targets (green) and predictions (red), for TensorBoard."""
        estimator = self.estimator(model)
        panels = []
        for instance in self.instances[:count]:
            image = instance.image.read()
            center, scale = codec.box_to_center_scale(
                instance.crop_box,
                self.input_size[1] / self.input_size[0],
                self.config.augment.padding,
            )
            matrix = codec.udp_warp_matrix(center[None], scale[None], self.input_size)
            crop = codec.warp_crops(image, matrix, self.input_size)[0]
            predicted = estimator.predict_crops(
                torch.from_numpy(codec.normalize_crops(crop[None])), center[None], scale[None]
            )[0]
            names = self.keypoint_set.keypoint_names
            target = _in_crop(instance.keypoints, matrix[0], instance.keypoints[:, 2] > 0)
            guess = _in_crop(predicted, matrix[0], np.ones(len(predicted), bool))
            panel = draw_pose(crop, target, names, colour=TARGET_BGR)
            panels.append(draw_pose(panel, guess, names, colour=PREDICTION_BGR))
        return panels


def _in_crop(keypoints: np.ndarray, matrix: np.ndarray, shown: np.ndarray) -> np.ndarray:
    points = codec.transform_points(keypoints[None, :, :2], matrix[None])[0]
    return np.concatenate([points, shown[:, None].astype(np.float64)], axis=1)
