"""OKS AP/AR through pycocotools: the one implementation.

The ``eval`` command, the training loop's validation and the benchmarks all call this module, so
an AP printed anywhere in the project is the same number computed the same way (docs/rhpnet_spec.md §11.1).
Ground truth comes from ``rhpnet.datasets`` (``KeypointSet.ground_truth()``) or any COCO dict.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rhpnet.datasets.keypoint_set import PERSON_CATEGORY_ID, KeypointSet
from rhpnet.skeleton import COCO_OKS_SIGMAS, NUM_COCO_KEYPOINTS

RESCORE_KEYPOINT_THRESHOLD = 0.2

METRIC_NAMES: tuple[str, ...] = (
    "AP", "AP50", "AP75", "AP_M", "AP_L", "AR", "AR50", "AR75", "AR_M", "AR_L",
)  # fmt: skip


@dataclass(frozen=True)
class KeypointPrediction:
    """One predicted person: (17, 3) keypoints x, y, score in image pixels.

    ``box_score`` is the person detector's confidence (1 for ground-truth boxes).
    """

    image_id: int
    keypoints: np.ndarray
    box_score: float = 1.0


def instance_score(keypoints: np.ndarray, box_score: float = 1.0, rescore: bool = True) -> float:
    """Ranking score of a predicted person (docs/rhpnet_spec.md §11.1, HRNet/mmpose rescoring).

    box score × mean of the keypoint scores above 0.2 (0 when none is); ``rescore=False`` keeps
    the box score alone.
    """
    if not rescore:
        return float(box_score)
    scores = np.asarray(keypoints, dtype=np.float64)[:, 2]
    confident = scores[scores > RESCORE_KEYPOINT_THRESHOLD]
    return float(box_score * confident.mean()) if confident.size else 0.0


def coco_results(
    predictions: Sequence[KeypointPrediction], rescore: bool = True
) -> list[dict[str, Any]]:
    """Predictions in the COCO keypoint results format (what pycocotools' ``loadRes`` reads)."""
    results = []
    for prediction in predictions:
        keypoints = np.asarray(prediction.keypoints, dtype=np.float64)
        if keypoints.shape != (NUM_COCO_KEYPOINTS, 3) or not np.isfinite(keypoints).all():
            raise ValueError(
                f"prediction for image {prediction.image_id}: expected finite (17, 3) keypoints"
            )
        results.append(
            {
                "image_id": int(prediction.image_id),
                "category_id": PERSON_CATEGORY_ID,
                "keypoints": [round(float(v), 3) for v in keypoints.reshape(-1)],
                "score": instance_score(keypoints, prediction.box_score, rescore),
            }
        )
    return results


def evaluate_keypoints(
    ground_truth: KeypointSet | dict[str, Any],
    results: Sequence[dict[str, Any]],
    image_ids: Iterable[int] | None = None,
    sigmas: Sequence[float] = COCO_OKS_SIGMAS,
    verbose: bool = False,
) -> dict[str, Any]:
    """OKS AP/AR with pycocotools ``COCOeval(iouType="keypoints")``.

    Returns the ten COCO metrics (``None`` where undefined, e.g. AP_L with no large person),
    ``num_images``, ``num_instances`` (scored ground-truth people), ``num_results`` and
    ``oks_per_instance`` {annotation id: best OKS of any prediction in its image}, which shows
    which people a model gets wrong. pycocotools' progress prints are silenced unless ``verbose``.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt_dict = ground_truth.ground_truth() if isinstance(ground_truth, KeypointSet) else ground_truth
    if image_ids is not None:
        keep = set(image_ids)
        gt_dict = {
            **gt_dict,
            "images": [im for im in gt_dict["images"] if im["id"] in keep],
            "annotations": [a for a in gt_dict["annotations"] if a["image_id"] in keep],
        }
    evaluated_ids = {image["id"] for image in gt_dict["images"]}
    results = [r for r in results if r["image_id"] in evaluated_ids]
    scored = [
        a for a in gt_dict["annotations"] if a.get("num_keypoints", 0) > 0 and not a.get("iscrowd")
    ]
    summary: dict[str, Any] = {
        "num_images": len(evaluated_ids),
        "num_instances": len(scored),
        "num_results": len(results),
    }
    if not results or not scored:
        summary.update(dict.fromkeys(METRIC_NAMES, 0.0 if scored else None))
        summary["oks_per_instance"] = {a["id"]: 0.0 for a in scored}
        return summary

    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with quiet:
        coco_gt = COCO()
        coco_gt.dataset = json.loads(json.dumps(gt_dict))
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(json.loads(json.dumps(list(results))))
        coco_eval = COCOeval(coco_gt, coco_dt, iouType="keypoints")
        coco_eval.params.kpt_oks_sigmas = np.asarray(sigmas, dtype=np.float64)
        coco_eval.params.imgIds = sorted(evaluated_ids)
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
    for name, value in zip(METRIC_NAMES, coco_eval.stats, strict=True):
        summary[name] = None if value < 0 else float(value)
    summary["oks_per_instance"] = _best_oks_per_instance(coco_eval, scored)
    return summary


def _best_oks_per_instance(coco_eval: Any, scored: list[dict[str, Any]]) -> dict[int, float]:
    """Best OKS reached for each scored ground-truth person, from COCOeval's own OKS matrices."""
    best: dict[int, float] = {}
    for annotation in scored:
        image_id = annotation["image_id"]
        matrix = coco_eval.ious.get((image_id, PERSON_CATEGORY_ID))
        gts = coco_eval._gts[image_id, PERSON_CATEGORY_ID]
        column = next(j for j, gt in enumerate(gts) if gt["id"] == annotation["id"])
        has_matrix = isinstance(matrix, np.ndarray) and matrix.size
        best[annotation["id"]] = float(matrix[:, column].max()) if has_matrix else 0.0
    return best
