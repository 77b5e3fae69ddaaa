"""End-to-end evaluation: the app's own person detection instead of ground-truth boxes.

``eval`` on ground-truth boxes measures pose accuracy alone; a coach's clip has no boxes, so the
people the detector misses never get a pose. Here a detector (an image in, ``FramePoses`` out:
the bundled BlazePose as the app runs it) looks at every image whose annotations name *every*
person in it (``all_people_annotated``: elsewhere an unannotated person found would count as a
false positive), and the same pycocotools OKS AP scores what it returns. Recall is the share of
annotated people that some detection matches with OKS >= 0.5, overall and for people at least
``MIN_HEIGHT_PX`` tall (smaller ones are below what a side-view analysis can use anyway).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rhpnet.datasets.keypoint_set import KeypointSet
from rhpnet.errors import DataError
from rhpnet.evaluation.coco import KeypointPrediction, coco_results, evaluate_keypoints
from rhpnet.poses import FramePoses
from rhpnet.skeleton import NUM_COCO_KEYPOINTS

log = logging.getLogger(__name__)

Detector = Callable[[np.ndarray], FramePoses]
MIN_HEIGHT_PX = 60.0
MATCH_OKS = 0.5


@dataclass(frozen=True)
class Recall:
    found: int
    people: int

    @property
    def value(self) -> float | None:
        return self.found / self.people if self.people else None


def fully_annotated(dataset: KeypointSet) -> KeypointSet:
    """The part of a set whose images have every person annotated; ``DataError`` if none."""
    images = {i: im for i, im in dataset.images.items() if im.all_people_annotated}
    if not images:
        raise DataError(
            f"{dataset.annotation_file}: no image is marked all_people_annotated, so person "
            "detection cannot be scored (an unannotated person found would count as an error)"
        )
    instances = [inst for inst in dataset.instances if inst.image_id in images]
    return replace(dataset, images=images, instances=instances)


def evaluate_detected(
    dataset: KeypointSet, detect: Detector, progress: bool = False
) -> tuple[dict[str, Any], dict[str, Recall]]:
    """OKS AP/AR of ``detect`` on the fully annotated images, and its recall.

    ``dataset`` must already be restricted with :func:`fully_annotated`. Returns the pycocotools
    metrics (plus ``seconds_per_image``) and recall {"all": ..., "at_least_60px": ...}.
    """
    from tqdm import tqdm

    predictions: list[KeypointPrediction] = []
    evaluated: list[int] = []
    seconds = 0.0
    for image in tqdm(list(dataset.images.values()), desc="detecting", disable=not progress):
        try:
            pixels = image.read()
        except DataError as error:
            log.warning("skipped: %s", error)
            continue
        start = time.perf_counter()
        poses = detect(pixels)
        seconds += time.perf_counter() - start
        evaluated.append(image.id)
        for keypoints, score in zip(poses.keypoints, poses.scores, strict=True):
            coco = np.asarray(keypoints[:NUM_COCO_KEYPOINTS], np.float64)
            if np.isfinite(coco).all():
                predictions.append(KeypointPrediction(image.id, coco, float(score)))
    if not evaluated:
        raise DataError(f"no image in {dataset.images_dir} could be read")
    metrics = evaluate_keypoints(dataset, coco_results(predictions), image_ids=evaluated)
    metrics["seconds_per_image"] = seconds / len(evaluated)
    return metrics, _recall(dataset, metrics["oks_per_instance"], set(evaluated))


def _recall(
    dataset: KeypointSet, best_oks: dict[int, float], evaluated: set[int]
) -> dict[str, Recall]:
    people = [i for i in dataset.instances if i.is_scored and i.image_id in evaluated]
    tall = [i for i in people if i.bbox[3] >= MIN_HEIGHT_PX]

    def count(group: list) -> Recall:
        found = sum(best_oks.get(i.id, 0.0) >= MATCH_OKS for i in group)
        return Recall(int(found), len(group))

    return {"all": count(people), "at_least_60px": count(tall)}
