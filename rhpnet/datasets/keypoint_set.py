"""A parsed keypoint set: images, the people in them, and the ground truth pycocotools scores.

One data model for every reader of annotations: the ``eval`` command prompts an estimator with
``PersonInstance.bbox`` and scores it against ``KeypointSet.ground_truth()``; the training loop
crops ``PersonInstance.crop_box`` and learns ``keypoints``; MPII and detection files produce
the same instances, so augmentation and validation never ask where a person came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from rhpnet.datasets.files import ImageRecord
from rhpnet.datasets.skips import SkipCounter
from rhpnet.errors import DataError
from rhpnet.skeleton import flip_pairs_from_names

# Ground truth and predictions share this category id, whatever id the annotation file used.
PERSON_CATEGORY_ID = 1


@dataclass
class PersonInstance:
    """One person: where they are, their keypoints, and what evaluation needs to score them.

    ``bbox`` is the box as annotated (x, y, w, h; the ground truth, and what box-prompted
    evaluation feeds an estimator); ``crop_box`` is the box training and validation crop,
    clipped to the image as HRNet does for COCO (MPII's is the centre/scale square).
    """

    image: ImageRecord
    id: int
    bbox: np.ndarray  # (4,) x, y, w, h in image pixels (0-based pixel centres)
    crop_box: np.ndarray  # (4,) x, y, w, h
    keypoints: np.ndarray  # (K, 3) x, y, visibility: 0 unlabelled, 1 occluded, 2 visible
    area: float = 0.0  # what OKS is normalised by
    crowd: bool = False
    score: float = 1.0  # detection score; 1 for ground-truth boxes
    head_box: np.ndarray | None = None  # (4,) x1, y1, x2, y2 for PCKh

    @property
    def image_id(self) -> int:
        return self.image.id

    @property
    def num_labelled(self) -> int:
        return int(np.count_nonzero(self.keypoints[:, 2] > 0))

    @property
    def is_scored(self) -> bool:
        """Whether OKS counts this person (labelled keypoints, not a crowd region)."""
        return self.num_labelled > 0 and not self.crowd


@dataclass
class KeypointSet:
    """Parsed annotations of one split: people, their images, and what was skipped."""

    format: str  # "coco" or "mpii"
    keypoint_names: tuple[str, ...]
    images: dict[int, ImageRecord]
    instances: list[PersonInstance]
    annotation_file: Path
    images_dir: Path
    skipped: SkipCounter

    def __len__(self) -> int:
        return len(self.instances)

    @property
    def root(self) -> Path:
        """The set's folder: the one that holds its images folder (or its images)."""
        beside = self.images_dir == self.annotation_file.parent
        return self.images_dir if beside else self.images_dir.parent

    @property
    def num_keypoints(self) -> int:
        return len(self.keypoint_names)

    @property
    def flip_pairs(self) -> tuple[tuple[int, int], ...]:
        return flip_pairs_from_names(self.keypoint_names)

    @property
    def num_scored_instances(self) -> int:
        return sum(instance.is_scored for instance in self.instances)

    @cached_property
    def _by_image(self) -> dict[int, list[PersonInstance]]:
        by_image: dict[int, list[PersonInstance]] = {image_id: [] for image_id in self.images}
        for instance in self.instances:
            by_image.setdefault(instance.image_id, []).append(instance)
        return by_image

    def instances_for(self, image_id: int, scored_only: bool = True) -> list[PersonInstance]:
        found = self._by_image.get(image_id, [])
        return [i for i in found if i.is_scored] if scored_only else list(found)

    def ground_truth(self) -> dict[str, Any]:
        """The set as a COCO dict for pycocotools.

        ``num_keypoints`` is counted from the visibilities and the person category gets
        ``PERSON_CATEGORY_ID``, the id predictions are written with.
        """
        images = [
            {"id": im.id, "file_name": im.file_name, "width": im.width, "height": im.height}
            for im in self.images.values()
        ]
        annotations = [
            {
                "id": inst.id,
                "image_id": inst.image_id,
                "category_id": PERSON_CATEGORY_ID,
                "bbox": [float(v) for v in inst.bbox],
                "area": inst.area,
                "iscrowd": int(inst.crowd),
                "keypoints": inst.keypoints.reshape(-1).tolist(),
                "num_keypoints": inst.num_labelled,
            }
            for inst in self.instances
        ]
        category = {
            "id": PERSON_CATEGORY_ID,
            "name": "person",
            "supercategory": "person",
            "keypoints": list(self.keypoint_names),
        }
        return {"images": images, "annotations": annotations, "categories": [category]}


def require_people(keypoint_set: KeypointSet) -> None:
    """A set without one usable person with labelled keypoints can neither train nor be
    scored: say so, with what was skipped, instead of failing later on an empty batch."""
    if keypoint_set.num_scored_instances == 0:
        skipped = keypoint_set.skipped
        detail = f" ({skipped.summary()} skipped)" if skipped else ""
        raise DataError(
            f"{keypoint_set.annotation_file}: no usable person with labelled keypoints{detail}"
        )


def keypoints_outside(keypoints: np.ndarray, width: int, height: int, slack: float) -> bool:
    """Whether a labelled keypoint lies more than ``slack`` px beyond the pixel centres
    0 ... size - 1 of the image (an annotation error, not a person at the border)."""
    labelled = keypoints[keypoints[:, 2] > 0]
    return bool(
        (labelled[:, 0] < -slack).any()
        or (labelled[:, 1] < -slack).any()
        or (labelled[:, 0] > width - 1 + slack).any()
        or (labelled[:, 1] > height - 1 + slack).any()
    )


def clip_box(box: np.ndarray, width: int, height: int) -> np.ndarray | None:
    """Clip an x, y, w, h box to the image (as HRNet does); None if nothing is left."""
    x1, y1 = max(0.0, float(box[0])), max(0.0, float(box[1]))
    x2 = min(float(width - 1), float(box[0] + max(0.0, float(box[2]) - 1)))
    y2 = min(float(height - 1), float(box[1] + max(0.0, float(box[3]) - 1)))
    if box[2] <= 0 or box[3] <= 0 or x2 < x1 or y2 < y1:
        return None
    return np.array([x1, y1, x2 - x1 + 1, y2 - y1 + 1], np.float32)
