"""COCO-format keypoint sets and OKS AP/AR through pycocotools: the one implementation.

The ``eval`` command, the training loop's validation and the benchmarks all call this module, so
an AP printed anywhere in the project is the same number computed the same way (spec §11.1).

Loading is forgiving of bad annotations and strict about bad files: a file that is not a COCO
keypoint set raises ``DataError``; a single malformed annotation or image entry is skipped and
counted in ``CocoKeypointSet.skipped`` (and logged once per load), never a crash. The skip rules:

* image entries: not an object, no integer ``id`` or no ``file_name``, a duplicate id, or an image
  file that does not exist under ``images/`` (its annotations go with it);
* annotations: not an object, missing ``id``/``image_id``/``bbox``/``keypoints``, a duplicate id,
  an ``image_id`` that names no usable image, a category other than the person category, a box
  that is not four finite numbers or has zero width or height, keypoints that are not 17 finite
  ``x, y, v`` triples with v in {0, 1, 2}, or a labelled keypoint outside the image (pixel
  centres span 0 ... size − 1; 1 px slack, as ``training.datasets`` uses).

Annotations with no labelled keypoints stay in the ground truth (pycocotools ignores them, as in
COCO) but get no prediction. ``num_keypoints`` is recomputed from the visibilities and a missing
``area`` is filled with 0.53 × box area (mmpose's convention for sets without segmentations).
Images that do not decode are discovered when read (``read_image`` raises ``DataError``); callers
drop them from the evaluation with ``image_ids``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rhpnet.errors import DataError
from rhpnet.skeleton import COCO_KEYPOINT_NAMES, COCO_OKS_SIGMAS, NUM_COCO_KEYPOINTS

log = logging.getLogger(__name__)

ANNOTATIONS_FILE = "annotations.json"
IMAGES_DIR = "images"
PERSON_CATEGORY_ID = 1
AREA_FROM_BOX = 0.53
RESCORE_KEYPOINT_THRESHOLD = 0.2
_OUTSIDE_SLACK_PX = 1.0

METRIC_NAMES: tuple[str, ...] = (
    "AP", "AP50", "AP75", "AP_M", "AP_L", "AR", "AR50", "AR75", "AR_M", "AR_L",
)  # fmt: skip


@dataclass(frozen=True)
class CocoImage:
    id: int
    file_name: str
    path: Path
    width: int
    height: int


@dataclass(frozen=True)
class CocoInstance:
    """One annotated person: box x, y, w, h and (17, 3) keypoints x, y, v in image pixels."""

    id: int
    image_id: int
    bbox: tuple[float, float, float, float]
    keypoints: np.ndarray
    area: float
    iscrowd: bool

    @property
    def num_keypoints(self) -> int:
        return int(np.count_nonzero(self.keypoints[:, 2] > 0))

    @property
    def is_scored(self) -> bool:
        """Whether OKS counts this instance (labelled keypoints, not a crowd region)."""
        return self.num_keypoints > 0 and not self.iscrowd


@dataclass
class CocoKeypointSet:
    """A COCO-format keypoint set: ``root/annotations.json`` and ``root/images/``."""

    root: Path
    annotation_path: Path
    images: dict[int, CocoImage]
    instances: list[CocoInstance]
    categories: list[dict[str, Any]]
    skipped: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._by_image: dict[int, list[CocoInstance]] = {image_id: [] for image_id in self.images}
        for instance in self.instances:
            self._by_image[instance.image_id].append(instance)

    def instances_for(self, image_id: int, scored_only: bool = True) -> list[CocoInstance]:
        found = self._by_image.get(image_id, [])
        return [i for i in found if i.is_scored] if scored_only else list(found)

    @property
    def num_scored_instances(self) -> int:
        return sum(instance.is_scored for instance in self.instances)

    def read_image(self, image: CocoImage) -> np.ndarray:
        """The image as BGR uint8, in the pixel grid the annotations use; ``DataError`` if unreadable."""
        return read_image_bgr(image.path, expected_size=(image.width, image.height))

    def ground_truth(self, image_ids: Iterable[int] | None = None) -> dict[str, Any]:
        """The cleaned set as a COCO dict for pycocotools, optionally restricted to some images."""
        keep = set(self.images) if image_ids is None else set(image_ids) & set(self.images)
        images = [
            {"id": im.id, "file_name": im.file_name, "width": im.width, "height": im.height}
            for im in self.images.values()
            if im.id in keep
        ]
        annotations = [
            {
                "id": inst.id,
                "image_id": inst.image_id,
                "category_id": PERSON_CATEGORY_ID,
                "bbox": list(inst.bbox),
                "area": inst.area,
                "iscrowd": int(inst.iscrowd),
                "keypoints": inst.keypoints.reshape(-1).tolist(),
                "num_keypoints": inst.num_keypoints,
            }
            for inst in self.instances
            if inst.image_id in keep
        ]
        return {"images": images, "annotations": annotations, "categories": self.categories}

    def skipped_summary(self) -> str:
        return ", ".join(f"{count} {reason}" for reason, count in sorted(self.skipped.items()))


def read_image_bgr(path: Path, expected_size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode an image file; honour EXIF rotation only when the annotated size asks for it.

    Keypoint annotations refer to one pixel grid. Most tools annotate the stored pixels, some the
    EXIF-rotated view; the declared width/height tells which one this set used.
    """
    import cv2

    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as error:
        raise DataError(f"cannot read image {path}: {error.strerror or error}") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if image is None:
        raise DataError(f"cannot decode image {path} (not an image or truncated)")
    if expected_size is not None:
        width, height = expected_size
        if (image.shape[1], image.shape[0]) == (height, width) and width != height:
            rotated = cv2.imdecode(data, cv2.IMREAD_COLOR)
            if rotated is not None and (rotated.shape[1], rotated.shape[0]) == (width, height):
                image = rotated
    return image


def load_coco_keypoints(location: str | Path) -> CocoKeypointSet:
    """Load a COCO-format keypoint set from its folder (or its annotation file).

    The folder holds ``annotations.json`` and ``images/``; an annotation file elsewhere is read
    with images from ``images/`` beside it.
    """
    location = Path(location)
    if location.is_dir():
        root, annotation_path = location, location / ANNOTATIONS_FILE
    elif location.suffix.lower() == ".json":
        root, annotation_path = location.parent, location
    else:
        raise DataError(
            f"{location} is not a COCO-format set: expected a folder with {ANNOTATIONS_FILE} "
            f"and {IMAGES_DIR}/"
        )
    if not annotation_path.is_file():
        raise DataError(f"no {annotation_path.name} in {root} (expected a COCO-format set)")
    try:
        with open(annotation_path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"{annotation_path} is not valid JSON: {error}") from None
    except OSError as error:
        raise DataError(f"cannot read {annotation_path}: {error.strerror or error}") from None
    if not isinstance(data, dict):
        raise DataError(f"{annotation_path}: expected a COCO object with images and annotations")
    for key in ("images", "annotations"):
        if not isinstance(data.get(key), list):
            raise DataError(f"{annotation_path}: missing or invalid '{key}' list")

    skipped: Counter = Counter()
    categories = _person_categories(data.get("categories"), annotation_path)
    images = _parse_images(data["images"], root / IMAGES_DIR, skipped)
    instances = _parse_annotations(data["annotations"], images, skipped)
    dataset = CocoKeypointSet(root, annotation_path, images, instances, categories, skipped)
    if dataset.num_scored_instances == 0:
        detail = f" ({dataset.skipped_summary()} skipped)" if skipped else ""
        raise DataError(f"{annotation_path}: no usable person with labelled keypoints{detail}")
    if skipped:
        log.warning("%s: skipped %s", annotation_path, dataset.skipped_summary())
    return dataset


def _person_categories(categories: Any, path: Path) -> list[dict[str, Any]]:
    default = [
        {
            "id": PERSON_CATEGORY_ID,
            "name": "person",
            "supercategory": "person",
            "keypoints": list(COCO_KEYPOINT_NAMES),
        }
    ]
    if categories is None:
        return default
    if not isinstance(categories, list):
        raise DataError(f"{path}: 'categories' must be a list")
    for category in categories:
        if isinstance(category, dict) and category.get("id") == PERSON_CATEGORY_ID:
            names = category.get("keypoints", COCO_KEYPOINT_NAMES)
            if not isinstance(names, list | tuple) or len(names) != NUM_COCO_KEYPOINTS:
                raise DataError(
                    f"{path}: the person category has {len(names) if isinstance(names, list | tuple) else 'no'} "
                    f"keypoint names; expected the {NUM_COCO_KEYPOINTS} COCO keypoints"
                )
            return [{**default[0], **category}]
    return default


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_images(entries: list[Any], images_dir: Path, skipped: Counter) -> dict[int, CocoImage]:
    images: dict[int, CocoImage] = {}
    for entry in entries:
        if (
            not isinstance(entry, dict)
            or not _is_int(entry.get("id"))
            or not isinstance(entry.get("file_name"), str)
            or not entry["file_name"]
        ):
            skipped["malformed image entries"] += 1
            continue
        if entry["id"] in images:
            skipped["duplicate image ids"] += 1
            continue
        path = images_dir / entry["file_name"]
        if not path.is_file():
            skipped["missing image files"] += 1
            continue
        width, height = entry.get("width"), entry.get("height")
        if not (_is_int(width) and _is_int(height) and width > 0 and height > 0):
            width, height = _image_size(path)
            if width == 0:
                skipped["unreadable images"] += 1
                continue
        images[entry["id"]] = CocoImage(entry["id"], entry["file_name"], path, width, height)
    return images


def _image_size(path: Path) -> tuple[int, int]:
    """Size of an image whose entry does not declare it; (0, 0) when it does not decode."""
    try:
        image = read_image_bgr(path)
    except DataError:
        return 0, 0
    return image.shape[1], image.shape[0]


def _parse_annotations(
    entries: list[Any], images: dict[int, CocoImage], skipped: Counter
) -> list[CocoInstance]:
    instances: list[CocoInstance] = []
    seen_ids: set[int] = set()
    for entry in entries:
        reason = _annotation_problem(entry, images, seen_ids)
        if reason:
            skipped[reason] += 1
            continue
        x, y, w, h = (float(v) for v in entry["bbox"])
        keypoints = np.asarray(entry["keypoints"], dtype=np.float64).reshape(NUM_COCO_KEYPOINTS, 3)
        area = entry.get("area")
        if not isinstance(area, int | float) or isinstance(area, bool) or not area > 0:
            area = AREA_FROM_BOX * w * h
        seen_ids.add(entry["id"])
        instances.append(
            CocoInstance(
                id=entry["id"],
                image_id=entry["image_id"],
                bbox=(x, y, w, h),
                keypoints=keypoints,
                area=float(area),
                iscrowd=bool(entry.get("iscrowd", 0)),
            )
        )
    return instances


def _annotation_problem(entry: Any, images: dict[int, CocoImage], seen_ids: set[int]) -> str:
    """Why an annotation cannot be used ('' when it can)."""
    if not isinstance(entry, dict) or not all(
        k in entry for k in ("id", "image_id", "bbox", "keypoints")
    ):
        return "annotations missing fields"
    if not _is_int(entry["id"]) or entry["id"] in seen_ids:
        return "annotations with duplicate or invalid ids"
    if entry["image_id"] not in images:
        return "annotations of unknown or unusable images"
    if entry.get("category_id", PERSON_CATEGORY_ID) != PERSON_CATEGORY_ID:
        return "annotations of other categories"
    bbox = entry["bbox"]
    if not _finite_numbers(bbox, 4):
        return "annotations with invalid boxes"
    if bbox[2] <= 0 or bbox[3] <= 0:
        return "annotations with zero-area boxes"
    keypoints = entry["keypoints"]
    if not _finite_numbers(keypoints, 3 * NUM_COCO_KEYPOINTS):
        return "annotations with invalid keypoints"
    triples = np.asarray(keypoints, dtype=np.float64).reshape(NUM_COCO_KEYPOINTS, 3)
    if not np.isin(triples[:, 2], (0, 1, 2)).all():
        return "annotations with invalid keypoints"
    image = images[entry["image_id"]]
    labelled = triples[triples[:, 2] > 0]
    slack = _OUTSIDE_SLACK_PX
    outside = (
        (labelled[:, 0] < -slack)
        | (labelled[:, 1] < -slack)
        | (labelled[:, 0] > image.width - 1 + slack)
        | (labelled[:, 1] > image.height - 1 + slack)
    )
    if outside.any():
        return "annotations with keypoints outside the image"
    return ""


def _finite_numbers(values: Any, count: int) -> bool:
    return (
        isinstance(values, list)
        and len(values) == count
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        and all(math.isfinite(v) for v in values)
    )


@dataclass(frozen=True)
class KeypointPrediction:
    """One predicted person: (17, 3) keypoints x, y, score in image pixels.

    ``box_score`` is the person detector's confidence (1 for ground-truth boxes).
    """

    image_id: int
    keypoints: np.ndarray
    box_score: float = 1.0


def instance_score(keypoints: np.ndarray, box_score: float = 1.0, rescore: bool = True) -> float:
    """Ranking score of a predicted person (spec §11.1, HRNet/mmpose rescoring).

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
    ground_truth: CocoKeypointSet | dict[str, Any],
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

    if isinstance(ground_truth, CocoKeypointSet):
        gt_dict = ground_truth.ground_truth(image_ids)
    else:
        gt_dict = ground_truth
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
