"""Keypoint datasets: COCO-format sets and MPII, parsed into person instances.

Real annotation files are messy: a converted set may have a box of zero area, a keypoint outside
its image or an image that was never copied. Each such annotation is skipped and counted, and the
loader logs one summary line per kind of problem, so a training run on 150k instances is not
stopped (or silently poisoned) by a handful of bad ones. A file that is not valid JSON at all, or
not the expected layout, is a ``DataError``: nothing sensible can be trained from it.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rhpnet.errors import DataError
from rhpnet.skeleton import COCO_KEYPOINT_NAMES, MPII_KEYPOINT_NAMES

log = logging.getLogger("training.datasets")

MALFORMED = "missing or malformed fields"
MALFORMED_IMAGE = "malformed image entry"
UNKNOWN_IMAGE = "image id not in the image list"
OUTSIDE = "keypoints outside the image"
ZERO_AREA = "zero-area box"
MISSING_FILE = "missing image file"
UNDECODABLE = "image does not decode"
NO_KEYPOINTS = "no labelled keypoints"
CROWD = "crowd annotation"
NOT_PERSON = "not a person annotation"
LOW_SCORE = "detection score below the threshold"

# Keypoints labelled this far outside the image border (pixels) are an annotation error.
OUTSIDE_TOLERANCE_PX = 1.0


class SkipCounter:
    """Counts skipped annotations per kind and keeps the first example of each for the log."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.counts: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def add(self, kind: str, example: str) -> None:
        self.counts[kind] += 1
        self.examples.setdefault(kind, example)

    def summary_lines(self) -> list[str]:
        return [
            f"{self.source}: skipped {n} {'entry' if n == 1 else 'entries'}: {kind} "
            f"(first: {self.examples[kind]})"
            for kind, n in sorted(self.counts.items())
        ]

    def log_summary(self, logger: logging.Logger = log) -> None:
        for line in self.summary_lines():
            logger.warning(line)


@dataclass
class ImageRecord:
    image_id: int
    path: Path
    width: int
    height: int


@dataclass
class PersonInstance:
    """One person to crop: a box, its keypoints, and what evaluation needs to score it."""

    image: ImageRecord
    instance_id: int
    box: np.ndarray  # (4,) x, y, w, h in image pixels (0-based pixel centres)
    keypoints: np.ndarray  # (K, 3) x, y, visibility: 0 unlabelled, 1 occluded, 2 visible
    score: float = 1.0  # detection score; 1 for ground-truth boxes
    area: float = 0.0
    head_box: np.ndarray | None = None  # (4,) x1, y1, x2, y2 for PCKh
    crowd: bool = False

    @property
    def num_labelled(self) -> int:
        return int((self.keypoints[:, 2] > 0).sum())


@dataclass
class KeypointSet:
    """Parsed annotations: person instances plus what the evaluators need."""

    format: str  # "coco" or "mpii"
    keypoint_names: tuple[str, ...]
    instances: list[PersonInstance]
    images: dict[int, ImageRecord]
    annotation_file: Path
    skipped: SkipCounter
    # The usable part of a COCO-format file (images, annotations, categories) for pycocotools.
    coco_ground_truth: dict[str, Any] | None = None

    @property
    def num_keypoints(self) -> int:
        return len(self.keypoint_names)

    @property
    def flip_pairs(self) -> tuple[tuple[int, int], ...]:
        return flip_pairs_from_names(self.keypoint_names)

    def __len__(self) -> int:
        return len(self.instances)


@dataclass
class SplitFiles:
    """Where one split of a dataset lives on disk."""

    format: str
    annotations: Path
    images: Path
    head_boxes: Path | None = None


def flip_pairs_from_names(names: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """Left/right pairs found by name (``left_knee`` <-> ``right_knee``), in index order."""
    names = list(names)
    pairs = []
    for i, name in enumerate(names):
        if name.startswith("left_") and ("right_" + name[5:]) in names:
            pairs.append((i, names.index("right_" + name[5:])))
    return tuple(sorted((min(p), max(p)) for p in pairs))


def read_json(path: Path) -> Any:
    """Parse a JSON file, turning every way it can fail into one clear ``DataError``."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise DataError(f"annotation file not found: {path}") from None
    except json.JSONDecodeError as error:
        raise DataError(
            f"{path}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except (UnicodeDecodeError, OSError) as error:
        raise DataError(f"{path}: cannot be read ({error})") from None


# --------------------------------------------------------------------------------------------
# COCO format


def load_coco_keypoints(
    annotation_file: str | Path,
    images_dir: str | Path,
    *,
    training: bool,
    check_images: bool = True,
    max_instances: int = 0,
) -> KeypointSet:
    """Read a COCO-format keypoint file (COCO 2017, Running Human, dev-sportpose, pseudo-labels).

    ``training`` also drops crowd annotations and people with no labelled keypoint, which carry
    no training signal (COCOeval ignores them too, so evaluation keeps them in its ground truth).
    """
    annotation_file, images_dir = Path(annotation_file), Path(images_dir)
    data = read_json(annotation_file)
    if not isinstance(data, dict) or not isinstance(data.get("annotations"), list):
        raise DataError(f"{annotation_file}: not a COCO keypoint file (no 'annotations' list)")
    if not isinstance(data.get("images"), list):
        raise DataError(f"{annotation_file}: not a COCO keypoint file (no 'images' list)")
    skipped = SkipCounter(annotation_file.name)
    category_id, names = _person_category(data, annotation_file)
    images = _coco_images(data["images"], images_dir, skipped)

    instances: list[PersonInstance] = []
    kept_annotations: list[dict[str, Any]] = []
    for index, ann in enumerate(data["annotations"]):
        instance = _coco_instance(ann, index, images, category_id, len(names), skipped)
        if instance is None:
            continue
        kept_annotations.append(ann)
        if training and instance.crowd:
            skipped.add(CROWD, f"annotation {instance.instance_id}")
        elif training and instance.num_labelled == 0:
            skipped.add(NO_KEYPOINTS, f"annotation {instance.instance_id}")
        else:
            instances.append(instance)

    # Evaluation keeps every readable image: detections on people-free images are real errors.
    to_check = {i.image.image_id: i.image for i in instances} if training else images
    bad_images = check_image_files(to_check, skipped, check_images)
    instances = [inst for inst in instances if inst.image.image_id not in bad_images]
    if max_instances:
        instances = instances[:max_instances]
        used_ids = {inst.image.image_id for inst in instances}
    else:
        used_ids = set(to_check) - bad_images
    ground_truth = {
        "images": [_image_entry(images[i]) for i in sorted(used_ids)],
        "annotations": [a for a in kept_annotations if int(a["image_id"]) in used_ids],
        "categories": [c for c in data.get("categories", []) if c.get("id") == category_id]
        or [{"id": category_id, "name": "person", "keypoints": list(names)}],
    }
    skipped.log_summary()
    return KeypointSet(
        format="coco",
        keypoint_names=names,
        instances=instances,
        images={i: images[i] for i in sorted(used_ids)},
        annotation_file=annotation_file,
        skipped=skipped,
        coco_ground_truth=ground_truth,
    )


def load_person_detections(
    detections_file: str | Path, ground_truth: KeypointSet, score_threshold: float = 0.0
) -> list[PersonInstance]:
    """Person boxes from a COCO results JSON (the HRNet/mmpose detections) as crop instances."""
    detections_file = Path(detections_file)
    data = read_json(detections_file)
    if not isinstance(data, list):
        raise DataError(f"{detections_file}: not a COCO detection results list")
    skipped = SkipCounter(detections_file.name)
    num_keypoints = ground_truth.num_keypoints
    instances = []
    for index, det in enumerate(data):
        where = f"detection {index}"
        try:
            image_id = int(det["image_id"])
            box = np.asarray(det["bbox"], dtype=np.float32).reshape(4)
            score = float(det.get("score", 1.0))
            category = int(det.get("category_id", 1))
        except (KeyError, TypeError, ValueError):
            skipped.add(MALFORMED, where)
            continue
        if category != 1:
            skipped.add(NOT_PERSON, where)
            continue
        if image_id not in ground_truth.images:
            skipped.add(UNKNOWN_IMAGE, f"{where}, image {image_id}")
            continue
        if score < score_threshold:
            skipped.add(LOW_SCORE, where)
            continue
        image = ground_truth.images[image_id]
        box = _clip_box(box, image.width, image.height)
        if box is None:
            skipped.add(ZERO_AREA, where)
            continue
        instances.append(
            PersonInstance(
                image=image,
                instance_id=index,
                box=box,
                keypoints=np.zeros((num_keypoints, 3), np.float32),
                score=score,
                area=float(box[2] * box[3]),
            )
        )
    skipped.log_summary()
    return instances


def _person_category(data: dict[str, Any], path: Path) -> tuple[int, tuple[str, ...]]:
    categories = data.get("categories") or []
    if not isinstance(categories, list):
        raise DataError(f"{path}: 'categories' must be a list")
    with_keypoints = [c for c in categories if isinstance(c, dict) and c.get("keypoints")]
    person = next((c for c in with_keypoints if c.get("name") == "person"), None)
    person = person or (with_keypoints[0] if len(with_keypoints) == 1 else None)
    if person is None:
        return 1, COCO_KEYPOINT_NAMES
    names = person["keypoints"]
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise DataError(f"{path}: the person category's 'keypoints' must be a list of names")
    return int(person.get("id", 1)), tuple(names)


def _coco_images(
    entries: list[Any], images_dir: Path, skipped: SkipCounter
) -> dict[int, ImageRecord]:
    images = {}
    for index, entry in enumerate(entries):
        try:
            image_id = int(entry["id"])
            file_name = str(entry["file_name"])
            width, height = int(entry.get("width", 0)), int(entry.get("height", 0))
        except (KeyError, TypeError, ValueError):
            skipped.add(MALFORMED_IMAGE, f"image entry {index}")
            continue
        images[image_id] = ImageRecord(image_id, images_dir / file_name, width, height)
    return images


def _image_entry(image: ImageRecord) -> dict[str, Any]:
    return {
        "id": image.image_id,
        "file_name": image.path.name,
        "width": image.width,
        "height": image.height,
    }


def _coco_instance(
    ann: Any,
    index: int,
    images: dict[int, ImageRecord],
    category_id: int,
    num_keypoints: int,
    skipped: SkipCounter,
) -> PersonInstance | None:
    where = f"annotation {ann.get('id', index) if isinstance(ann, dict) else index}"
    try:
        image_id = int(ann["image_id"])
        keypoints = np.asarray(ann["keypoints"], dtype=np.float32).reshape(num_keypoints, 3)
        box = np.asarray(ann["bbox"], dtype=np.float32).reshape(4)
        instance_id = int(ann.get("id", index))
        area = float(ann.get("area", box[2] * box[3]))
    except (KeyError, TypeError, ValueError):
        skipped.add(MALFORMED, where)
        return None
    if not (np.isfinite(keypoints).all() and np.isfinite(box).all()):
        skipped.add(MALFORMED, where)
        return None
    if int(ann.get("category_id", category_id)) != category_id:
        skipped.add(NOT_PERSON, where)
        return None
    image = images.get(image_id)
    if image is None:
        skipped.add(UNKNOWN_IMAGE, f"{where}, image {image_id}")
        return None
    if image.width > 0 and image.height > 0:
        if _outside(keypoints, image.width, image.height):
            skipped.add(OUTSIDE, f"{where} in {image.path.name}")
            return None
        clipped = _clip_box(box, image.width, image.height)
    else:
        clipped = box if box[2] > 0 and box[3] > 0 else None
    if clipped is None:
        skipped.add(ZERO_AREA, f"{where} in {image.path.name}")
        return None
    crowd = bool(ann.get("iscrowd", 0))
    return PersonInstance(image, instance_id, clipped, keypoints, 1.0, area, crowd=crowd)


def _outside(keypoints: np.ndarray, width: int, height: int) -> bool:
    labelled = keypoints[keypoints[:, 2] > 0]
    tol = OUTSIDE_TOLERANCE_PX
    return bool(
        (labelled[:, 0] < -tol).any()
        or (labelled[:, 1] < -tol).any()
        or (labelled[:, 0] > width - 1 + tol).any()
        or (labelled[:, 1] > height - 1 + tol).any()
    )


def _clip_box(box: np.ndarray, width: int, height: int) -> np.ndarray | None:
    """Clip an x, y, w, h box to the image (as HRNet does); None if nothing is left."""
    x1, y1 = max(0.0, float(box[0])), max(0.0, float(box[1]))
    x2 = min(float(width - 1), float(box[0] + max(0.0, float(box[2]) - 1)))
    y2 = min(float(height - 1), float(box[1] + max(0.0, float(box[3]) - 1)))
    if box[2] <= 0 or box[3] <= 0 or x2 < x1 or y2 < y1:
        return None
    return np.array([x1, y1, x2 - x1 + 1, y2 - y1 + 1], np.float32)


# --------------------------------------------------------------------------------------------
# Image files


def check_image_files(
    images: dict[int, ImageRecord], skipped: SkipCounter, decode: bool = True
) -> set[int]:
    """Ids of images that are missing or unreadable; fills in sizes the annotations lack.

    Only the header is decoded (Pillow reads it lazily), which catches files that are not images
    at all for ~0.1 ms each, so checking all of COCO's 118k images costs seconds, not minutes.
    """
    records = list(images.values())
    probe: Callable[[ImageRecord], str | None] = _probe_image if decode else _probe_exists
    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = list(pool.map(probe, records))
    bad = set()
    for record, problem in zip(records, problems, strict=True):
        if problem is not None:
            skipped.add(problem, record.path.name)
            bad.add(record.image_id)
    return bad


def _probe_exists(record: ImageRecord) -> str | None:
    return None if record.path.is_file() else MISSING_FILE


def _probe_image(record: ImageRecord) -> str | None:
    from PIL import Image, UnidentifiedImageError

    if not record.path.is_file():
        return MISSING_FILE
    try:
        with Image.open(record.path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return UNDECODABLE
    if record.width <= 0 or record.height <= 0:
        record.width, record.height = width, height
    return None


def read_image(path: Path) -> np.ndarray:
    """Decode an image as BGR uint8, ignoring EXIF rotation (annotations use raw pixels)."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if image is None:
        raise DataError(f"cannot decode image {path}")
    return image


# --------------------------------------------------------------------------------------------
# MPII


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
    skipped = SkipCounter(annotation_file.name)
    num_joints = len(MPII_KEYPOINT_NAMES)
    image_ids: dict[str, int] = {}
    images: dict[int, ImageRecord] = {}
    instances = []
    for index, entry in enumerate(data):
        where = f"entry {index}"
        try:
            name = str(entry["image"])
            center = np.asarray(entry["center"], dtype=np.float32).reshape(2)
            scale = float(entry["scale"])
            joints = np.asarray(entry["joints"], dtype=np.float32).reshape(num_joints, 2)
            visible = np.asarray(entry["joints_vis"], dtype=np.float32).reshape(num_joints)
        except (KeyError, TypeError, ValueError):
            skipped.add(MALFORMED, where)
            continue
        if not (np.isfinite(center).all() and np.isfinite(joints).all() and scale > 0):
            skipped.add(ZERO_AREA if scale <= 0 else MALFORMED, where)
            continue
        if name not in image_ids:
            image_ids[name] = len(image_ids)
            images[image_ids[name]] = ImageRecord(image_ids[name], images_dir / name, 0, 0)
        image = images[image_ids[name]]
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
        if training and not visible.any():
            skipped.add(NO_KEYPOINTS, where)
            continue
        instances.append(
            PersonInstance(
                image, index, box, keypoints.astype(np.float32), 1.0, side * side, head_box
            )
        )

    # MPII's JSON has no image sizes, so headers are always read (they give the sizes).
    bad = check_image_files({i.image.image_id: i.image for i in instances}, skipped, True)
    kept = []
    for inst in instances:
        if inst.image.image_id in bad:
            continue
        if inst.image.width > 0 and _outside(inst.keypoints, inst.image.width, inst.image.height):
            skipped.add(OUTSIDE, f"entry {inst.instance_id} in {inst.image.path.name}")
            continue
        kept.append(inst)
    if max_instances:
        kept = kept[:max_instances]
    skipped.log_summary()
    return KeypointSet(
        format="mpii",
        keypoint_names=MPII_KEYPOINT_NAMES,
        instances=kept,
        images={i.image.image_id: i.image for i in kept},
        annotation_file=annotation_file,
        skipped=skipped,
    )


def _mpii_head_boxes(path: str | Path, count: int) -> np.ndarray:
    """(N, 4) x1, y1, x2, y2 head boxes from ``headboxes_src`` (2 x 2 x N) in a .mat file."""
    from scipy.io import loadmat

    path = Path(path)
    try:
        boxes = np.asarray(loadmat(str(path))["headboxes_src"], np.float32)
    except (OSError, ValueError, KeyError) as error:
        raise DataError(f"{path}: no readable 'headboxes_src' array ({error})") from None
    if boxes.shape != (2, 2, count):
        raise DataError(
            f"{path}: headboxes_src has shape {boxes.shape}, expected (2, 2, {count}) "
            "to match the annotation file"
        )
    # headboxes_src[:, :, i] = [[x1, y1], [x2, y2]] in 1-based pixels; sizes are shift-free.
    return boxes.transpose(2, 0, 1).reshape(count, 4) - 1


# --------------------------------------------------------------------------------------------
# Layouts


def find_split(
    root: str | Path, split: str, config_format: str, annotations: str = "", images: str = ""
) -> SplitFiles:
    """Locate a split's annotation file and image folder under ``root`` (or ``root`` itself).

    Recognised without configuration: COCO 2017 (``annotations/person_keypoints_<split>2017.json``
    with ``<split>2017/``), MPII (``annot/<train|valid>.json`` or
    ``annotations/mpii_<train|val>.json`` with ``images/``), and single sets (``annotations.json``
    or ``annotations/<split>.json`` with ``images/``), such as dev-sportpose or a pseudo-labelled
    folder. ``root`` may also be the annotation file itself.
    """
    root = Path(root)
    if not root.exists():
        raise DataError(f"data path not found: {root}")
    if root.is_file():
        images_dir = Path(images) if images else _images_beside(root)
        fmt = config_format if config_format != "auto" else _sniff_format(root)
        return SplitFiles(fmt, root, images_dir, _mpii_head_box_file(root.parent, split))
    if annotations:
        ann = root / annotations
        images_dir = root / images if images else _images_beside(ann)
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


def _images_beside(annotation_file: Path) -> Path:
    for candidate in (annotation_file.parent / "images", annotation_file.parent.parent / "images"):
        if candidate.is_dir():
            return candidate
    return annotation_file.parent


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
    root: str | Path,
    split: str,
    *,
    config_format: str = "auto",
    annotations: str = "",
    images: str = "",
    training: bool,
    check_images: bool = True,
    max_instances: int = 0,
) -> KeypointSet:
    """Find and parse one split; the one entry point the trainer and the CLI use."""
    files = find_split(root, split, config_format, annotations, images)
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
        training=training,
        check_images=check_images,
        max_instances=max_instances,
    )
