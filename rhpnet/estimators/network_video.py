"""RHPNet / HRNet over a video: person boxes from the bundled detector, then the network.

A top-down network needs a box around each person. The boxes come from BlazePose (bundled, so
nothing to download): the extent of its 33 landmarks, padded. Between detections, each person's
box is refreshed from the network's own keypoints of the previous frame, which follow the body
closely and cost nothing; BlazePose runs again every ``detect_every`` frames, whenever a person's
keypoints become doubtful, and whenever fewer than ``max_people`` are followed. Boxes then go
through ``TopDownEstimator`` (UDP crops, flip test, DARK-UDP decoding). Implements
``rhpnet.poses.Estimator``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rhpnet.boxes import box_iou, extent_boxes
from rhpnet.errors import CheckpointError, UserFacingError
from rhpnet.poses import Estimator, FramePoses
from rhpnet.skeleton import COCO_KEYPOINT_NAMES, POSE_KEYPOINT_NAMES, to_pose_layout

if TYPE_CHECKING:
    from rhpnet.estimators.topdown import TopDownEstimator

FAMILIES = ("rhpnet", "hrnet")
# Margins (left, top, right, bottom) around COCO keypoints: the head top and feet lie beyond the
# eyes and ankles.
_KEYPOINT_BOX_GROWTH = (0.1, 0.2, 0.1, 0.1)


def boxes_from_keypoints(
    keypoints: np.ndarray, min_score: float = 0.3, image_size: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Person boxes (N, 4) around confident COCO keypoints, and which people have one (N,).

    COCO keypoints stop at the eyes and ankles, so the box grows more upwards (the top of the
    head) and downwards (the feet) than sideways. ``image_size`` (width, height) clips it.
    """
    keypoints = np.asarray(keypoints, np.float64)
    keypoints = keypoints.reshape(-1, *keypoints.shape[-2:])
    boxes = np.zeros((len(keypoints), 4), np.float64)
    usable = np.zeros(len(keypoints), bool)
    for n, points in enumerate(keypoints):
        good = points[np.isfinite(points).all(axis=1) & (points[:, 2] >= min_score)]
        if len(good) < 4:
            continue
        box = extent_boxes(good[:, :2], _KEYPOINT_BOX_GROWTH, image_size)
        if box[2] < 2 or box[3] < 2:
            continue
        boxes[n] = box
        usable[n] = True
    return boxes, usable


def load_network(
    checkpoint: str | Path | None, *, arch_family: str, device: str = "auto"
) -> tuple[TopDownEstimator, dict[str, Any]]:
    """A ``TopDownEstimator`` for a complete ``arch_family`` checkpoint whose keypoints include
    COCO-17 (foot points, if it has them, fill the pose layout's), and its
    provenance. Loading is weights-only; problems raise ``CheckpointError`` /
    ``UserFacingError`` with a one-line reason. Load once and share it between videos."""
    import rhpnet
    from rhpnet.estimators.topdown import TopDownEstimator

    if arch_family not in FAMILIES:
        raise UserFacingError(f"unknown network {arch_family!r}; choose from {', '.join(FAMILIES)}")
    if not checkpoint:
        raise UserFacingError(
            f"--model {arch_family} needs --checkpoint PATH (a trained {arch_family} checkpoint)"
        )
    loaded = rhpnet.load_checkpoint(str(checkpoint))
    meta = loaded.meta
    name = Path(checkpoint).name
    if not meta.arch.startswith(arch_family):
        other = "rhpnet" if arch_family == "hrnet" else "hrnet"
        raise CheckpointError(
            f"{name} holds {meta.arch} weights, not {arch_family}; use --model {other}"
        )
    if loaded.report.random:
        raise CheckpointError(
            f"{name} leaves {len(loaded.report.random)} tensors of {meta.arch} untrained "
            "(e.g. HRNet weights lack RHPNet's RFSP head); fine-tune it first"
        )
    if not _has_coco17(meta.keypoint_names):
        raise CheckpointError(
            f"{name} predicts {len(meta.keypoint_names)} keypoints "
            f"({', '.join(meta.keypoint_names[:3])}, ...); video analysis needs a model whose "
            "keypoints include the COCO-17 ones"
        )
    topdown = TopDownEstimator(loaded.model, meta=meta, device=device)  # input size, names
    provenance = {
        "arch": meta.arch,
        "checkpoint": str(Path(checkpoint).resolve()),
        "checkpoint_format": meta.source_format,
        "rhpnet_version": meta.rhpnet_version,
    }
    return topdown, provenance


def _has_coco17(names) -> bool:
    return set(COCO_KEYPOINT_NAMES) <= set(names)


class NetworkVideoEstimator:
    """A top-down network (``TopDownEstimator``) fed by BlazePose boxes and its own keypoints.

    Returns the pose layout (``rhpnet.skeleton.POSE_KEYPOINT_NAMES``): the network's COCO-17
    points, and its foot points where it has them (NaN otherwise, e.g. a 17-joint checkpoint).
    """

    keypoint_names: tuple[str, ...] = POSE_KEYPOINT_NAMES

    def __init__(
        self,
        topdown: TopDownEstimator,
        *,
        name: str,
        max_people: int = 1,
        detect_every: int = 15,
        min_keypoint_score: float = 0.3,
        min_person_score: float = 0.2,
        provenance: dict[str, Any] | None = None,
        detector: Estimator | None = None,
    ) -> None:
        if max_people < 1:
            raise ValueError(f"max_people must be at least 1, got {max_people}")
        if not _has_coco17(topdown.keypoint_names):
            raise ValueError(
                "video analysis needs a top-down model whose keypoints include COCO-17"
            )
        self.topdown = topdown
        self.name = name
        self.max_people = int(max_people)
        self.detect_every = int(detect_every)
        self.min_keypoint_score = float(min_keypoint_score)
        self.min_person_score = float(min_person_score)
        self._provenance = dict(provenance or {})
        if detector is None:
            from rhpnet.estimators.blazepose import BlazePoseEstimator

            detector = BlazePoseEstimator(self.max_people)
        self.detector = detector
        self._previous = FramePoses.empty(len(self.keypoint_names))
        self._frames_since_detection = 0
        self.detections_run = 0

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: str | Path | None,
        *,
        arch_family: str,
        device: str = "auto",
        max_people: int = 1,
        **kwargs: Any,
    ) -> NetworkVideoEstimator:
        """Load ``checkpoint`` (see ``load_network``) and wrap it for video."""
        topdown, provenance = load_network(checkpoint, arch_family=arch_family, device=device)
        return cls(
            topdown, name=arch_family, max_people=max_people, provenance=provenance, **kwargs
        )

    def estimate(self, image_bgr: np.ndarray, timestamp_s: float) -> FramePoses:
        height, width = image_bgr.shape[:2]
        boxes = self._boxes(image_bgr, timestamp_s, (width, height))
        if len(boxes) == 0:
            self._previous = FramePoses.empty(len(self.keypoint_names))
            return self._previous
        predicted = self.topdown.predict(image_bgr, boxes)
        scores = predicted[:, :, 2].mean(axis=1)
        keypoints = to_pose_layout(predicted, self.topdown.keypoint_names)
        keep = scores >= self.min_person_score
        poses = FramePoses(keypoints[keep], boxes[keep], scores[keep])
        self._previous = poses
        return poses

    def _boxes(
        self, image_bgr: np.ndarray, timestamp_s: float, size: tuple[int, int]
    ) -> np.ndarray:
        followed, usable = boxes_from_keypoints(
            self._previous.keypoints, self.min_keypoint_score, size
        )
        self._frames_since_detection += 1
        due = (
            self._frames_since_detection >= self.detect_every
            or len(self._previous) == 0
            or not usable.all()
            or len(self._previous) < self.max_people
        )
        if not due:
            return followed[usable]
        self._frames_since_detection = 0
        self.detections_run += 1
        detected = self.detector.estimate(image_bgr, timestamp_s).boxes.astype(np.float64)
        return _merge_boxes(followed[usable], detected, self.max_people)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            **self._provenance,
            **{k: v for k, v in self.topdown.describe().items() if k != "arch"},
            "person_boxes": f"BlazePose landmark extent every {self.detect_every} frames (and when "
            "a person is lost), the previous frame's keypoints in between",
            "max_people": self.max_people,
        }

    def close(self) -> None:
        self.detector.close()


def _merge_boxes(followed: np.ndarray, detected: np.ndarray, max_people: int) -> np.ndarray:
    """Detected boxes (fresh) plus followed people the detector missed this time, at most
    ``max_people``: a followed box overlapping a detection by IoU >= 0.3 is the same person."""
    if len(followed) and len(detected):
        overlap = box_iou(followed, detected).max(axis=1)
        followed = followed[overlap < 0.3]
    return np.concatenate([detected, followed])[:max_people]
