"""Top-down evaluation on ground-truth boxes: run any box-prompted estimator over a COCO set.

Both the bundled BlazePose runner and the RHPNet/HRNet ``TopDownEstimator`` expose
``predict(image_bgr, boxes_xywh) -> (N, 17, 3)``; this loop feeds them every scored person box of
every image, times the inference alone, and hands the predictions to ``evaluate_keypoints``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rhpnet.datasets.keypoint_set import KeypointSet
from rhpnet.errors import DataError
from rhpnet.evaluation.coco import KeypointPrediction, coco_results, evaluate_keypoints
from rhpnet.skeleton import NUM_COCO_KEYPOINTS

log = logging.getLogger(__name__)

BoxPredictor = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class GroundTruthBoxRun:
    """Predictions for every scored person of a set, and what it cost."""

    predictions: list[KeypointPrediction]
    evaluated_image_ids: list[int]
    unreadable_images: list[str] = field(default_factory=list)
    num_boxes: int = 0
    num_missed: int = 0
    inference_s: float = 0.0

    @property
    def seconds_per_instance(self) -> float:
        return self.inference_s / self.num_boxes if self.num_boxes else 0.0


def predict_on_ground_truth_boxes(
    dataset: KeypointSet, predict: BoxPredictor, progress: bool = False
) -> GroundTruthBoxRun:
    """Run ``predict`` on the ground-truth boxes of every image with a scored person.

    Images that do not decode are skipped (logged, listed in ``unreadable_images``) and left out of
    the evaluation; a box where the estimator finds nobody (non-finite keypoints) yields no result,
    which pycocotools counts as a miss.
    """
    from tqdm import tqdm

    run = GroundTruthBoxRun(predictions=[], evaluated_image_ids=[])
    images = [im for im in dataset.images.values() if dataset.instances_for(im.id)]
    for image in tqdm(images, desc="evaluating", unit="image", disable=not progress):
        try:
            pixels = image.read()
        except DataError as error:
            log.warning("skipped: %s", error)
            run.unreadable_images.append(image.file_name)
            continue
        instances = dataset.instances_for(image.id)
        boxes = np.array([instance.bbox for instance in instances], dtype=np.float64)
        start = time.perf_counter()
        keypoints = np.asarray(predict(pixels, boxes), dtype=np.float64)
        run.inference_s += time.perf_counter() - start
        if keypoints.shape != (len(instances), NUM_COCO_KEYPOINTS, 3):
            raise ValueError(
                f"estimator returned keypoints of shape {keypoints.shape} for {len(instances)} boxes"
            )
        run.num_boxes += len(instances)
        run.evaluated_image_ids.append(image.id)
        for person in keypoints:
            if np.isfinite(person).all():
                run.predictions.append(KeypointPrediction(image.id, person))
            else:
                run.num_missed += 1
    return run


def evaluate_on_ground_truth_boxes(
    dataset: KeypointSet, predict: BoxPredictor, rescore: bool = True, progress: bool = False
) -> tuple[dict[str, Any], GroundTruthBoxRun]:
    """OKS AP/AR of a box-prompted estimator on a set's ground-truth boxes."""
    run = predict_on_ground_truth_boxes(dataset, predict, progress=progress)
    if not run.evaluated_image_ids:
        raise DataError(f"no image in {dataset.images_dir} could be read")
    metrics = evaluate_keypoints(
        dataset, coco_results(run.predictions, rescore=rescore), image_ids=run.evaluated_image_ids
    )
    metrics["num_missed"] = run.num_missed
    metrics["seconds_per_instance"] = run.seconds_per_instance
    return metrics, run
