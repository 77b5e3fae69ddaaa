"""COCO keypoint files (COCO 2017, Running Human, our dev sets, pseudo-labels) as ``KeypointSet``.

The one parser for the format: ``rhpnet-coach eval`` scores against what it returns, the
training loop learns from it and validates on it, so a person skipped here is skipped everywhere.
Loading is strict about files and forgiving of entries: a file that is not a COCO keypoint set
raises ``DataError``; a malformed entry is skipped, counted by kind and logged once per kind
(``SkipCounter``), never a crash. The skip rules, in the order they are checked:

* image entries: not an object, no integer ``id`` or no ``file_name`` (malformed), an id seen
  before (duplicate); later, for the images the set uses, a file that is missing or, with
  ``check_images``, whose header does not decode. An image's annotations go with it uncounted;
* annotations: not an object or missing ``id``/``image_id``/``bbox``/``keypoints``, a duplicate
  or non-integer id, an ``image_id`` that names no image entry, a category other than the
  person category, a box that is not four finite numbers or has zero width or height, keypoints
  that are not K finite ``x, y, v`` triples with v in {0, 1, 2}, a labelled keypoint more than
  1 px outside the image (pixel centres span 0 ... size - 1), or a box with nothing inside it;
* for training only: crowd regions and people with no labelled keypoint, which carry no
  training signal (COCOeval ignores them, so evaluation keeps them in its ground truth).

``area`` defaults to 0.53 x box area where missing (mmpose's convention for sets without
segmentations); sizes an image entry does not declare are read from the image header. A set with
no usable person with labelled keypoints is a ``DataError``.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from rhpnet.datasets.files import ImageRecord, check_image_files, read_json
from rhpnet.datasets.keypoint_set import (
    PERSON_CATEGORY_ID,
    KeypointSet,
    PersonInstance,
    clip_box,
    keypoints_outside,
    require_people,
)
from rhpnet.datasets.skips import SkipCounter
from rhpnet.errors import DataError
from rhpnet.oks import AREA_FROM_BOX
from rhpnet.skeleton import COCO_KEYPOINT_NAMES, NUM_COCO_KEYPOINTS

log = logging.getLogger(__name__)

ANNOTATIONS_FILE = "annotations.json"
IMAGES_DIR = "images"
# Keypoints labelled this far outside the image border (pixels) are an annotation error.
OUTSIDE_SLACK_PX = 1.0

MALFORMED_IMAGE = "malformed image entries"
DUPLICATE_IMAGE = "duplicate image ids"
MALFORMED = "annotations missing fields"
DUPLICATE_ID = "annotations with duplicate or invalid ids"
UNKNOWN_IMAGE = "annotations of unknown or unusable images"
NOT_PERSON = "annotations of other categories"
INVALID_BOX = "annotations with invalid boxes"
ZERO_AREA = "annotations with zero-area boxes"
INVALID_KEYPOINTS = "annotations with invalid keypoints"
OUTSIDE = "annotations with keypoints outside the image"
CROWD = "crowd annotations"
NO_KEYPOINTS = "annotations with no labelled keypoints"


def load_coco_keypoints(
    location: str | Path,
    images_dir: str | Path | None = None,
    *,
    any_keypoints: bool = False,
    training: bool = False,
    check_images: bool = False,
    max_instances: int = 0,
    logger: logging.Logger = log,
) -> KeypointSet:
    """Parse a COCO-format keypoint set.

    ``location`` is a set folder (``annotations.json`` and ``images/``) or an annotation file;
    ``images_dir`` names the image folder where it is not ``images/`` beside the annotations
    (COCO 2017: ``annotations/person_keypoints_val2017.json`` with ``val2017/``).

    By default the person category must name the 17 COCO keypoints (the OKS sigmas and the
    bundled model know no others); ``any_keypoints`` accepts whatever it names. ``training``
    drops crowd regions and unlabelled people and keeps only the images with people in them;
    otherwise every readable image stays (detections on people-free images are real errors).
    ``check_images`` decodes every used image's header up front, so a training run does not
    fail hours in; without it a file that does not decode is found when it is read.
    ``max_instances`` keeps the first N people (smoke runs), and only their images.
    Skipped entries are logged to ``logger``, one line per kind.
    """
    annotation_file, images_dir = _locate(Path(location), images_dir)
    data = read_json(annotation_file)
    _check_layout(data, annotation_file)
    skipped = SkipCounter(annotation_file)
    category_id, names = _person_category(data.get("categories"), annotation_file)
    if not any_keypoints and len(names) != NUM_COCO_KEYPOINTS:
        raise DataError(
            f"{annotation_file}: the person category has {len(names)} keypoint names; "
            f"expected the {NUM_COCO_KEYPOINTS} COCO keypoints"
        )
    entries = _image_entries(data["images"], images_dir, skipped)
    annotations = _usable_annotations(
        data["annotations"], entries, category_id, len(names), training, skipped
    )
    if training:
        used = {a["image_id"] for a in annotations}
        entries = {image_id: entry for image_id, entry in entries.items() if image_id in used}
    images = check_image_files(entries.values(), skipped, decode=check_images)
    instances = []
    for annotation in annotations:
        image = images.get(annotation["image_id"])
        if image is None:
            continue  # counted with its image
        person = _person(annotation, image, len(names))
        if isinstance(person, str):
            skipped.add(person, f"annotation {annotation['id']} in {image.file_name}")
        else:
            instances.append(person)
    if max_instances:
        instances = instances[:max_instances]
    if training or max_instances:
        used = {instance.image_id for instance in instances}
        images = {image_id: image for image_id, image in images.items() if image_id in used}
    keypoint_set = KeypointSet(
        "coco", names, images, instances, annotation_file, images_dir, skipped
    )
    require_people(keypoint_set)
    skipped.log_summary(logger)
    return keypoint_set


def images_beside(annotation_file: Path) -> Path:
    """The image folder of an annotation file: ``images/`` beside it or one level up (for
    ``annotations/train.json``), else the annotation file's own folder."""
    for candidate in (
        annotation_file.parent / IMAGES_DIR,
        annotation_file.parent.parent / IMAGES_DIR,
    ):
        if candidate.is_dir():
            return candidate
    return annotation_file.parent


def _locate(location: Path, images_dir: str | Path | None) -> tuple[Path, Path]:
    if location.is_dir():
        annotation_file = location / ANNOTATIONS_FILE
        if not annotation_file.is_file():
            raise DataError(f"no {ANNOTATIONS_FILE} in {location} (expected a COCO-format set)")
        default_images = location / IMAGES_DIR
    elif location.suffix.lower() == ".json":
        annotation_file, default_images = location, images_beside(location)
    else:
        raise DataError(
            f"{location} is not a COCO-format set: expected a folder with {ANNOTATIONS_FILE} "
            f"and {IMAGES_DIR}/"
        )
    return annotation_file, Path(images_dir) if images_dir is not None else default_images


def _check_layout(data: Any, path: Path) -> None:
    if not isinstance(data, dict):
        raise DataError(
            f"{path}: not a COCO keypoint file (expected a COCO object with images and annotations)"
        )
    for key in ("annotations", "images"):
        if not isinstance(data.get(key), list):
            raise DataError(f"{path}: not a COCO keypoint file (no '{key}' list)")


def _person_category(categories: Any, path: Path) -> tuple[int, tuple[str, ...]]:
    """Id and keypoint names of the person category: the one named "person" among those with
    keypoints, or the only one with keypoints; COCO's when the file names none."""
    if categories is None:
        return PERSON_CATEGORY_ID, COCO_KEYPOINT_NAMES
    if not isinstance(categories, list):
        raise DataError(f"{path}: 'categories' must be a list")
    with_keypoints = [c for c in categories if isinstance(c, dict) and c.get("keypoints")]
    person = next((c for c in with_keypoints if c.get("name") == "person"), None)
    person = person or (with_keypoints[0] if len(with_keypoints) == 1 else None)
    if person is None:
        return PERSON_CATEGORY_ID, COCO_KEYPOINT_NAMES
    names = person["keypoints"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DataError(f"{path}: the person category's 'keypoints' must be a list of names")
    category_id = person.get("id", PERSON_CATEGORY_ID)
    if not _is_int(category_id):
        raise DataError(f"{path}: the person category's 'id' must be an integer")
    return category_id, tuple(names)


def _image_entries(
    entries: list[Any], images_dir: Path, skipped: SkipCounter
) -> dict[int, ImageRecord]:
    """Well-formed image entries by id; sizes the file does not declare are 0 (read later)."""
    images: dict[int, ImageRecord] = {}
    for index, entry in enumerate(entries):
        if (
            not isinstance(entry, dict)
            or not _is_int(entry.get("id"))
            or not isinstance(entry.get("file_name"), str)
            or not entry["file_name"]
        ):
            skipped.add(MALFORMED_IMAGE, f"image entry {index}")
            continue
        if entry["id"] in images:
            skipped.add(DUPLICATE_IMAGE, f"image {entry['id']}")
            continue
        width, height = entry.get("width"), entry.get("height")
        if not (_is_int(width) and _is_int(height) and width > 0 and height > 0):
            width = height = 0
        name = entry["file_name"]
        images[entry["id"]] = ImageRecord(
            entry["id"],
            name,
            images_dir / name,
            width,
            height,
            all_people_annotated=entry.get("all_people_annotated") is True,
        )
    return images


def _usable_annotations(
    entries: list[Any],
    images: dict[int, ImageRecord],
    category_id: int,
    num_keypoints: int,
    training: bool,
    skipped: SkipCounter,
) -> list[dict[str, Any]]:
    """The annotations whose fields can be used, in file order; the others counted."""
    kept = []
    seen_ids: set[int] = set()
    for index, entry in enumerate(entries):
        problem = _annotation_problem(entry, images, category_id, num_keypoints, training, seen_ids)
        if problem:
            skipped.add(problem, _where(entry, index, images))
            continue
        seen_ids.add(entry["id"])
        kept.append(entry)
    return kept


def _annotation_problem(
    entry: Any,
    images: dict[int, ImageRecord],
    category_id: int,
    num_keypoints: int,
    training: bool,
    seen_ids: set[int],
) -> str:
    """Why an annotation's fields cannot be used ('' when they can)."""
    if not isinstance(entry, dict) or not all(
        k in entry for k in ("id", "image_id", "bbox", "keypoints")
    ):
        return MALFORMED
    if not _is_int(entry["id"]) or entry["id"] in seen_ids:
        return DUPLICATE_ID
    if not _is_int(entry["image_id"]) or entry["image_id"] not in images:
        return UNKNOWN_IMAGE
    if entry.get("category_id", category_id) != category_id:
        return NOT_PERSON
    bbox = entry["bbox"]
    if not _finite_numbers(bbox, 4):
        return INVALID_BOX
    if bbox[2] <= 0 or bbox[3] <= 0:
        return ZERO_AREA
    keypoints = entry["keypoints"]
    if not _finite_numbers(keypoints, 3 * num_keypoints):
        return INVALID_KEYPOINTS
    if not all(v in (0, 1, 2) for v in keypoints[2::3]):
        return INVALID_KEYPOINTS
    # Crowd regions and people without a labelled keypoint carry no training signal.
    if training and entry.get("iscrowd"):
        return CROWD
    if training and not any(keypoints[2::3]):
        return NO_KEYPOINTS
    return ""


def _person(
    annotation: dict[str, Any], image: ImageRecord, num_keypoints: int
) -> PersonInstance | str:
    """A well-formed annotation placed in its image, or why it does not fit there."""
    keypoints = np.asarray(annotation["keypoints"], np.float64).reshape(num_keypoints, 3)
    if keypoints_outside(keypoints, image.width, image.height, OUTSIDE_SLACK_PX):
        return OUTSIDE
    bbox = np.asarray(annotation["bbox"], np.float64)
    crop_box = clip_box(bbox, image.width, image.height)
    if crop_box is None:
        return ZERO_AREA
    area = annotation.get("area")
    return PersonInstance(
        image=image,
        id=annotation["id"],
        bbox=bbox,
        crop_box=crop_box,
        keypoints=keypoints,
        area=float(area) if _is_number(area) and area > 0 else AREA_FROM_BOX * bbox[2] * bbox[3],
        crowd=bool(annotation.get("iscrowd", 0)),
    )


def _where(entry: Any, index: int, images: dict[int, ImageRecord]) -> str:
    """How a warning names an annotation: by id and image where it has them."""
    if not isinstance(entry, dict) or not _is_int(entry.get("id")):
        return f"annotation entry {index}"
    image_id = entry.get("image_id")
    image = images.get(image_id) if _is_int(image_id) else None
    return f"annotation {entry['id']}" + (f" in {image.file_name}" if image else "")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _finite_numbers(values: Any, count: int) -> bool:
    return isinstance(values, list) and len(values) == count and all(map(_is_number, values))
