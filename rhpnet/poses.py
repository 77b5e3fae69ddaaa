"""The estimator contracts: what every pose estimator takes and returns for one image.

Both the bundled BlazePose estimator and the top-down RHPNet/HRNet estimator return
``FramePoses``, so tracking, kinematics and exports never care which model ran. The protocols
below say everything callers use: a video pipeline needs an ``Estimator`` (and decodes straight
to RGB for an ``RgbEstimator``); an evaluation on given person boxes needs a
``BoxPromptedEstimator``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rhpnet.oks import keypoint_oks
from rhpnet.skeleton import NUM_COCO_KEYPOINTS, POSE_KEYPOINT_NAMES, to_pose_layout


@dataclass
class FramePoses:
    """People found in one image.

    keypoints: (N, K, 3) float32, x and y in image pixels and a score in [0, 1].
    boxes: (N, 4) float32 person boxes as x, y, width, height in image pixels.
    scores: (N,) float32 instance confidence.
    """

    keypoints: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float32).reshape(-1, self._k(), 3)
        self.boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        self.scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
        n = len(self.keypoints)
        if len(self.boxes) != n or len(self.scores) != n:
            raise ValueError(
                f"inconsistent FramePoses: {n} keypoint sets, {len(self.boxes)} boxes, "
                f"{len(self.scores)} scores"
            )

    def _k(self) -> int:
        kp = np.asarray(self.keypoints)
        return kp.shape[1] if kp.ndim == 3 else NUM_COCO_KEYPOINTS

    def __len__(self) -> int:
        return len(self.keypoints)

    def select(self, indices: Sequence[int] | slice) -> FramePoses:
        """The people at ``indices``, in that order."""
        keep = indices if isinstance(indices, slice) else list(indices)
        return FramePoses(self.keypoints[keep], self.boxes[keep], self.scores[keep])

    @classmethod
    def empty(cls, num_keypoints: int = NUM_COCO_KEYPOINTS) -> FramePoses:
        return cls(
            keypoints=np.zeros((0, num_keypoints, 3), np.float32),
            boxes=np.zeros((0, 4), np.float32),
            scores=np.zeros((0,), np.float32),
        )


@runtime_checkable
class Estimator(Protocol):
    """A pose estimator over a stream of BGR images.

    ``keypoint_names`` names the K keypoints of every ``FramePoses`` it returns, in order (the
    first 17 COCO-17 for estimators used on video; see ``rhpnet.skeleton.to_pose_layout``).
    ``timestamp_s`` must increase from call to call for video-mode estimators (BlazePose tracks
    between frames); image-mode estimators ignore it.
    """

    keypoint_names: tuple[str, ...]

    def estimate(self, image_bgr: np.ndarray, timestamp_s: float) -> FramePoses: ...

    def describe(self) -> dict[str, Any]:
        """Provenance stored with every analysis: model name, weights, settings."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class RgbEstimator(Estimator, Protocol):
    """An ``Estimator`` whose model takes RGB (mediapipe): fed RGB frames directly, it saves a
    colour conversion per frame."""

    def estimate_rgb(self, image_rgb: np.ndarray, timestamp_s: float) -> FramePoses: ...


class BoxPromptedEstimator(Protocol):
    """Poses of people whose boxes are given (a top-down network, box-prompted BlazePose)."""

    def predict(self, image_bgr: np.ndarray, boxes_xywh: np.ndarray) -> np.ndarray:
        """(N, K, 3) keypoints, x and y in image pixels and a score, one row per (N, 4) box."""
        ...

    def describe(self) -> dict[str, Any]:
        """Provenance: model name, weights, settings."""
        ...


def concatenate_poses(parts: Sequence[FramePoses]) -> FramePoses:
    """The people of every part, in order (the parts share one keypoint layout)."""
    return FramePoses(
        np.concatenate([p.keypoints for p in parts]),
        np.concatenate([p.boxes for p in parts]),
        np.concatenate([p.scores for p in parts]),
    )


def in_pose_layout(poses: FramePoses, keypoint_names: tuple[str, ...]) -> FramePoses:
    """``poses`` (keypoints named ``keypoint_names``) in the pose layout (COCO-17 + feet, NaN
    where the estimator has no such point); unchanged when already in it."""
    if tuple(keypoint_names) == POSE_KEYPOINT_NAMES:
        return poses
    return FramePoses(to_pose_layout(poses.keypoints, keypoint_names), poses.boxes, poses.scores)


DUPLICATE_OKS = 0.5  # keypoints this alike are one person found twice
MIN_DUPLICATE_KEYPOINTS = 4
MIN_DUPLICATE_SCORE = 0.3


def without_duplicates(poses: FramePoses, min_oks: float = DUPLICATE_OKS) -> FramePoses:
    """One pose per person: of poses whose keypoints agree (OKS of at least ``min_oks`` at the
    larger box's scale, over 4 keypoints confident in both), the highest score is kept.

    A multi-person detector sometimes finds one runner twice, as a whole and as a part (on
    race_3runners_pan.mp4 a second box inside the first); the tracker then starts a second
    track that takes turns with the first for the same runner. Two people side by side or one
    behind the other have different keypoints and are both kept.
    """
    if len(poses) < 2:
        return poses
    areas = poses.boxes[:, 2].astype(np.float64) * poses.boxes[:, 3]
    keep: list[int] = []
    for index in np.argsort(-poses.scores, kind="stable"):
        if keep:
            scale = np.maximum(areas[keep], areas[index])
            oks = keypoint_oks(
                poses.keypoints[[index]],
                poses.keypoints[keep],
                scale,
                MIN_DUPLICATE_SCORE,
                MIN_DUPLICATE_KEYPOINTS,
            )[0]
            if np.any(oks >= min_oks):
                continue
        keep.append(int(index))
    return poses.select(sorted(keep))
