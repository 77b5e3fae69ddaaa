"""Training data: where a split lives, MPII annotations and person detections.

COCO-format sets are parsed by ``rhpnet.datasets.coco_format``, the parser ``rhpnet-coach eval``
uses too, so training and evaluation agree on which people exist. This module adds what only
training needs: the MPII JSON of HRNet and mmpose, person boxes from a detection-results file
for validation, and the usual folder layouts. Bad entries are skipped and counted
(``SkipCounter``) with the same kinds and the same warning lines as COCO-format sets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rhpnet.datasets.coco_format import (
    NO_KEYPOINTS,
    NOT_PERSON,
    OUTSIDE,
    OUTSIDE_SLACK_PX,
    UNKNOWN_IMAGE,
    ZERO_AREA,
    images_beside,
    load_coco_keypoints,
)
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
from rhpnet.skeleton import MPII_KEYPOINT_NAMES
from training.config import DataConfig

log = logging.getLogger("training.datasets")

MALFORMED_ENTRY = "malformed entries"
LOW_SCORE = "detections below the score threshold"


@dataclass
class SplitFiles:
    """Where one split of a dataset lives on disk."""

    format: str
    annotations: Path
    images: Path
    head_boxes: Path | None = None


def load_person_detections(
    detections_file: str | Path, ground_truth: KeypointSet, score_threshold: float = 0.0
) -> list[PersonInstance]:
    """Person boxes from a COCO results JSON (the HRNet/mmpose detections) as crop instances."""
    detections_file = Path(detections_file)
    data = read_json(detections_file)
    if not isinstance(data, list):
        raise DataError(f"{detections_file}: not a COCO detection results list")
    skipped = SkipCounter(detections_file)
    num_keypoints = ground_truth.num_keypoints
    instances = []
    for index, det in enumerate(data):
        where = f"detection {index}"
        try:
            image_id = int(det["image_id"])
            box = np.asarray(det["bbox"], dtype=np.float32).reshape(4)
            score = float(det.get("score", 1.0))
            category = int(det.get("category_id", PERSON_CATEGORY_ID))
        except (KeyError, TypeError, ValueError):
            skipped.add(MALFORMED_ENTRY, where)
            continue
        if category != PERSON_CATEGORY_ID:
            skipped.add(NOT_PERSON, where)
            continue
        if image_id not in ground_truth.images:
            skipped.add(UNKNOWN_IMAGE, f"{where}, image {image_id}")
            continue
        if score < score_threshold:
            skipped.add(LOW_SCORE, where)
            continue
        image = ground_truth.images[image_id]
        crop_box = clip_box(box, image.width, image.height)
        if crop_box is None:
            skipped.add(ZERO_AREA, where)
            continue
        instances.append(
            PersonInstance(
                image=image,
                id=index,
                bbox=box,
                crop_box=crop_box,
                keypoints=np.zeros((num_keypoints, 3), np.float32),
                area=float(crop_box[2] * crop_box[3]),
                score=score,
            )
        )
    skipped.log_summary(log)
    return instances


def load_mpii(
    annotation_file: str | Path,
    images_dir: str | Path,
    *,
    training: bool,
    head_boxes_file: str | Path | None = None,
    max_instances: int = 0,
) -> KeypointSet:
    """Read the MPII JSON used by HRNet and mmpose (image, center, scale, joints, joints_vis).

    Boxes follow HRNet's ``mpii.py``: the centre moves down by 15 * scale, MATLAB's 1-based
    coordinates become 0-based, and the square box of side 200 * scale is later padded by 1.25
    like every other box. Head boxes (for PCKh) come from a ``headbox`` field or from the
    ``headboxes_src`` array of ``gt_valid.mat`` / ``mpii_gt_val.mat``, in file order.
    """
    annotation_file, images_dir = Path(annotation_file), Path(images_dir)
    data = read_json(annotation_file)
    if not isinstance(data, list):
        raise DataError(f"{annotation_file}: not an MPII annotation list")
    head_boxes = _mpii_head_boxes(head_boxes_file, len(data)) if head_boxes_file else None
    skipped = SkipCounter(annotation_file)
    num_joints = len(MPII_KEYPOINT_NAMES)
    image_ids: dict[str, int] = {}
    parsed = []
    for index, entry in enumerate(data):
        where = f"entry {index}"
        try:
            name = str(entry["image"])
            center = np.asarray(entry["center"], dtype=np.float32).reshape(2)
            scale = float(entry["scale"])
            joints = np.asarray(entry["joints"], dtype=np.float32).reshape(num_joints, 2)
            visible = np.asarray(entry["joints_vis"], dtype=np.float32).reshape(num_joints)
        except (KeyError, TypeError, ValueError):
            skipped.add(MALFORMED_ENTRY, where)
            continue
        if not (np.isfinite(center).all() and np.isfinite(joints).all() and scale > 0):
            skipped.add(ZERO_AREA if scale <= 0 else MALFORMED_ENTRY, where)
            continue
        if training and not visible.any():
            skipped.add(NO_KEYPOINTS, where)
            continue
        image_id = image_ids.setdefault(name, len(image_ids))
        if center[0] != -1:
            center[1] += 15 * scale
        center -= 1
        keypoints = np.concatenate([joints - 1, 2 * (visible[:, None] > 0)], axis=1)
        side = 200 * scale
        box = np.array([center[0] - side / 2, center[1] - side / 2, side, side], np.float32)
        head = entry.get("headbox", entry.get("head_box"))
        head_box = np.asarray(head, np.float32).reshape(4) if head is not None else None
        if head_boxes is not None:
            head_box = head_boxes[index]
        parsed.append((index, image_id, box, keypoints.astype(np.float32), head_box))

    # MPII's JSON has no image sizes, so headers are always read (they give the sizes).
    records = [ImageRecord(i, name, images_dir / name, 0, 0) for name, i in image_ids.items()]
    used = {image_id for _, image_id, *_ in parsed}
    images = check_image_files((r for r in records if r.id in used), skipped, decode=True)
    instances = []
    for index, image_id, box, keypoints, head_box in parsed:
        image = images.get(image_id)
        if image is None:
            continue  # counted with its image
        if keypoints_outside(keypoints, image.width, image.height, OUTSIDE_SLACK_PX):
            skipped.add(OUTSIDE, f"entry {index} in {image.file_name}")
            continue
        instances.append(
            PersonInstance(
                image=image,
                id=index,
                bbox=box,
                crop_box=box,
                keypoints=keypoints,
                area=float(box[2] * box[3]),
                head_box=head_box,
            )
        )
    if max_instances:
        instances = instances[:max_instances]
    keypoint_set = KeypointSet(
        format="mpii",
        keypoint_names=MPII_KEYPOINT_NAMES,
        images={i.image_id: i.image for i in instances},
        instances=instances,
        annotation_file=annotation_file,
        images_dir=images_dir,
        skipped=skipped,
    )
    require_people(keypoint_set)
    skipped.log_summary(log)
    return keypoint_set


def _mpii_head_boxes(path: str | Path, count: int) -> np.ndarray:
    """(N, 4) x1, y1, x2, y2 head boxes from ``headboxes_src`` (2 x 2 x N) in a .mat file."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    path = Path(path)
    try:
        boxes = np.asarray(loadmat(str(path))["headboxes_src"], np.float32)
    except (OSError, ValueError, KeyError, IndexError, MatReadError) as error:
        # A truncated or foreign file fails in scipy's reader in any of these ways.
        raise DataError(f"{path}: no readable 'headboxes_src' array ({error})") from None
    if boxes.shape != (2, 2, count):
        raise DataError(
            f"{path}: headboxes_src has shape {boxes.shape}, expected (2, 2, {count}) "
            "to match the annotation file"
        )
    # headboxes_src[:, :, i] = [[x1, y1], [x2, y2]] in 1-based pixels; sizes are shift-free.
    return boxes.transpose(2, 0, 1).reshape(count, 4) - 1


def find_split(root: str | Path, split: str, data: DataConfig | None = None) -> SplitFiles:
    """Locate a split's annotation file and image folder under ``root`` (or ``root`` itself).

    Recognised without configuration: COCO 2017 (``annotations/person_keypoints_<split>2017.json``
    with ``<split>2017/``), MPII (``annot/<train|valid>.json`` or
    ``annotations/mpii_<train|val>.json`` with ``images/``), and single sets (``annotations.json``
    or ``annotations/<split>.json`` with ``images/``), such as dev-sportpose or a pseudo-labelled
    folder. ``root`` may also be the annotation file itself. ``data`` (``format`` and the split's
    ``*_annotations`` / ``*_images`` paths) overrides the detection.
    """
    data = data or DataConfig()
    config_format = data.format
    annotations, images = (
        (data.val_annotations, data.val_images)
        if split == "val"
        else (data.train_annotations, data.train_images)
    )
    root = Path(root)
    if not root.exists():
        raise DataError(f"data path not found: {root}")
    if root.is_file():
        images_dir = Path(images) if images else images_beside(root)
        fmt = config_format if config_format != "auto" else _sniff_format(root)
        return SplitFiles(fmt, root, images_dir, _mpii_head_box_file(root.parent, split))
    if annotations:
        ann = root / annotations
        images_dir = root / images if images else images_beside(ann)
        if not ann.is_file():
            raise DataError(f"annotation file not found: {ann}")
        fmt = config_format if config_format != "auto" else _sniff_format(ann)
        return SplitFiles(fmt, ann, images_dir, _mpii_head_box_file(root, split))
    coco_split = "val" if split == "val" else "train"
    mpii_split = {"val": ("valid", "val"), "train": ("train", "train")}[coco_split]
    candidates: list[tuple[str, Path, Path]] = [
        (
            "coco",
            root / f"annotations/person_keypoints_{coco_split}2017.json",
            root / f"{coco_split}2017",
        ),
        ("mpii", root / f"annot/{mpii_split[0]}.json", root / "images"),
        ("mpii", root / f"annotations/mpii_{mpii_split[1]}.json", root / "images"),
        ("coco", root / f"annotations/{coco_split}.json", root / "images"),
        ("coco", root / "annotations.json", root / "images"),
    ]
    for fmt, ann, images_dir in candidates:
        if ann.is_file() and (config_format in ("auto", fmt)):
            if images:
                images_dir = root / images
            return SplitFiles(fmt, ann, images_dir, _mpii_head_box_file(root, split))
    raise DataError(
        f"no {split} annotations found under {root}: expected annotations.json + images/, "
        "annotations/person_keypoints_*2017.json (COCO), annot/*.json or "
        "annotations/mpii_*.json (MPII); see docs/training.md"
    )


def _sniff_format(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(64).lstrip()
    return "mpii" if head.startswith(b"[") else "coco"


def _mpii_head_box_file(root: Path, split: str) -> Path | None:
    if split != "val":
        return None
    for candidate in (root / "annot/gt_valid.mat", root / "annotations/mpii_gt_val.mat"):
        if candidate.is_file():
            return candidate
    return None


def load_split(
    root: str | Path, split: str, data: DataConfig | None = None, *, training: bool
) -> KeypointSet:
    """Find and parse one split as ``data`` configures it; the one entry point the trainer,
    the preview and the CLI use."""
    data = data or DataConfig()
    files = find_split(root, split, data)
    max_instances = data.max_val_instances if split == "val" else data.max_train_instances
    if files.format == "mpii":
        return load_mpii(
            files.annotations,
            files.images,
            training=training,
            head_boxes_file=files.head_boxes,
            max_instances=max_instances,
        )
    return load_coco_keypoints(
        files.annotations,
        files.images,
        any_keypoints=True,
        training=training,
        check_images=data.check_images,
        max_instances=max_instances,
        logger=log,
    )
