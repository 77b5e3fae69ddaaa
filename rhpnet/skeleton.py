"""Keypoint definitions shared by every part of the project (one source of truth).

COCO-17 is the core of every estimator's output; MPII-16 exists for training and PCKh evaluation.
Video analysis works in the *pose layout*: COCO-17 in COCO order, then the foot points
(``FOOT_KEYPOINT_NAMES``, COCO-WholeBody / Halpe names) that estimators seeing feet add and the
others leave NaN. BlazePose's 33 landmarks are mapped onto it with ``BLAZEPOSE_TO_POSE``. Code
asks for indices by name (``pose_index``), never spells numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

COCO_KEYPOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
NUM_COCO_KEYPOINTS = len(COCO_KEYPOINT_NAMES)

COCO_FLIP_PAIRS: tuple[tuple[int, int], ...] = (
    (1, 2),
    (3, 4),
    (5, 6),
    (7, 8),
    (9, 10),
    (11, 12),
    (13, 14),
    (15, 16),
)

# Bones drawn by overlays (0-based indices into COCO_KEYPOINT_NAMES).
COCO_SKELETON: tuple[tuple[int, int], ...] = (
    (15, 13),
    (13, 11),
    (16, 14),
    (14, 12),
    (11, 12),
    (5, 11),
    (6, 12),
    (5, 6),
    (5, 7),
    (6, 8),
    (7, 9),
    (8, 10),
    (1, 2),
    (0, 1),
    (0, 2),
    (1, 3),
    (2, 4),
    (3, 5),
    (4, 6),
)

# Per-keypoint OKS sigmas (COCO order), as used by pycocotools.
COCO_OKS_SIGMAS: tuple[float, ...] = (
    0.026,
    0.025,
    0.025,
    0.035,
    0.035,
    0.079,
    0.079,
    0.072,
    0.072,
    0.062,
    0.062,
    0.107,
    0.107,
    0.087,
    0.087,
    0.089,
    0.089,
)

COCO_LEFT: tuple[int, ...] = (1, 3, 5, 7, 9, 11, 13, 15)
COCO_RIGHT: tuple[int, ...] = (2, 4, 6, 8, 10, 12, 14, 16)

MPII_KEYPOINT_NAMES: tuple[str, ...] = (
    "right_ankle",
    "right_knee",
    "right_hip",
    "left_hip",
    "left_knee",
    "left_ankle",
    "pelvis",
    "thorax",
    "upper_neck",
    "head_top",
    "right_wrist",
    "right_elbow",
    "right_shoulder",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
)
MPII_FLIP_PAIRS: tuple[tuple[int, int], ...] = (
    (0, 5),
    (1, 4),
    (2, 3),
    (10, 15),
    (11, 14),
    (12, 13),
)


def flip_pairs_from_names(names: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """Left/right pairs found by name (``left_knee`` <-> ``right_knee``), in index order.

    COCO-17 and MPII-16 give exactly ``COCO_FLIP_PAIRS`` and ``MPII_FLIP_PAIRS``, so checkpoints
    and datasets of any set named this way need not store their pairs.
    """
    names = list(names)
    pairs = []
    for i, name in enumerate(names):
        partner = "right_" + name[len("left_") :]
        if name.startswith("left_") and partner in names:
            j = names.index(partner)
            pairs.append((min(i, j), max(i, j)))
    return tuple(sorted(pairs))


# BlazePose landmark index for each COCO keypoint (nose, eyes, ears, shoulders ... ankles).
BLAZEPOSE_TO_COCO: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)

# Foot points after COCO-17. BlazePose's "foot index" is the tip of the shoe, which COCO-WholeBody
# and Halpe call the big toe.
FOOT_KEYPOINT_NAMES: tuple[str, ...] = ("left_heel", "right_heel", "left_big_toe", "right_big_toe")
POSE_KEYPOINT_NAMES: tuple[str, ...] = COCO_KEYPOINT_NAMES + FOOT_KEYPOINT_NAMES
NUM_POSE_KEYPOINTS = len(POSE_KEYPOINT_NAMES)
# BlazePose landmarks 29/30 are the heels, 31/32 the foot indices (left, right).
BLAZEPOSE_TO_POSE: tuple[int, ...] = BLAZEPOSE_TO_COCO + (29, 30, 31, 32)
# OKS sigmas of the foot points from COCO-WholeBody (heel 0.089, big toe 0.068).
POSE_OKS_SIGMAS: tuple[float, ...] = COCO_OKS_SIGMAS + (0.089, 0.089, 0.068, 0.068)


def pose_index(name: str) -> int:
    """Index of a keypoint name in the pose layout; raises KeyError with the valid names."""
    try:
        return POSE_KEYPOINT_NAMES.index(name)
    except ValueError:
        raise KeyError(
            f"unknown keypoint {name!r}; expected one of {POSE_KEYPOINT_NAMES}"
        ) from None


def side_indices(joint: str) -> dict[str, int]:
    """{'left': i, 'right': j} pose-layout indices of a sided joint such as ``"knee"``."""
    return {side: pose_index(f"{side}_{joint}") for side in ("left", "right")}


def _edges(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[int, int], ...]:
    return tuple((pose_index(a), pose_index(b)) for a, b in pairs)


# Foot segments drawn by overlays: ankle to heel, heel to toe tip, toe tip back to the ankle.
FOOT_SKELETON: tuple[tuple[int, int], ...] = _edges(
    tuple(
        (f"{side}_{a}", f"{side}_{b}")
        for side in ("left", "right")
        for a, b in (("ankle", "heel"), ("heel", "big_toe"), ("big_toe", "ankle"))
    )
)
POSE_SKELETON: tuple[tuple[int, int], ...] = COCO_SKELETON + FOOT_SKELETON
POSE_LEFT: tuple[int, ...] = tuple(
    i for i, name in enumerate(POSE_KEYPOINT_NAMES) if name.startswith("left_")
)
POSE_RIGHT: tuple[int, ...] = tuple(
    i for i, name in enumerate(POSE_KEYPOINT_NAMES) if name.startswith("right_")
)


def to_pose_layout(keypoints: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """(N, K, 3) keypoints named ``names`` -> (N, NUM_POSE_KEYPOINTS, 3) in the pose layout.

    Points of the layout the estimator does not give are NaN; points it gives beyond the layout
    are dropped. Raises ValueError if any COCO-17 keypoint is missing from ``names``.
    """
    names = tuple(names)
    missing = [name for name in COCO_KEYPOINT_NAMES if name not in names]
    if missing:
        raise ValueError(f"keypoints lack the COCO-17 points {', '.join(missing)}")
    keypoints = np.asarray(keypoints, np.float32).reshape(-1, len(names), 3)
    if names == POSE_KEYPOINT_NAMES:
        return keypoints
    out = np.full((len(keypoints), NUM_POSE_KEYPOINTS, 3), np.nan, np.float32)
    for target, name in enumerate(POSE_KEYPOINT_NAMES):
        if name in names:
            out[:, target] = keypoints[:, names.index(name)]
    return out


def as_pose_layout(keypoints: np.ndarray) -> np.ndarray:
    """(..., K, C) keypoints whose K points are the pose layout's first K (COCO-17 alone, or the
    whole layout) -> (..., NUM_POSE_KEYPOINTS, C), the missing feet NaN.

    Lets code written for the whole layout take a 17-joint model's output unchanged.
    """
    keypoints = np.asarray(keypoints)
    count = keypoints.shape[-2]
    if count == NUM_POSE_KEYPOINTS:
        return keypoints
    if count != len(COCO_KEYPOINT_NAMES):
        raise ValueError(
            f"expected {len(COCO_KEYPOINT_NAMES)} or {NUM_POSE_KEYPOINTS} keypoints, got {count}"
        )
    dtype = np.result_type(keypoints.dtype, np.float32)
    padded = np.full(
        (*keypoints.shape[:-2], NUM_POSE_KEYPOINTS, keypoints.shape[-1]), np.nan, dtype
    )
    padded[..., :count, :] = keypoints
    return padded


def flip_permutation(flip_pairs: tuple[tuple[int, int], ...], num_keypoints: int) -> list[int]:
    """Channel order that swaps left and right, e.g. [0, 2, 1, 4, 3, ...] for COCO."""
    order = list(range(num_keypoints))
    for a, b in flip_pairs:
        order[a], order[b] = b, a
    return order


COCO_FLIP_PERMUTATION: tuple[int, ...] = tuple(
    flip_permutation(COCO_FLIP_PAIRS, NUM_COCO_KEYPOINTS)
)


def keypoint_index(name: str) -> int:
    """COCO index of a keypoint name; raises KeyError with the valid names."""
    try:
        return COCO_KEYPOINT_NAMES.index(name)
    except ValueError:
        raise KeyError(
            f"unknown keypoint {name!r}; expected one of {COCO_KEYPOINT_NAMES}"
        ) from None


# How sides are drawn everywhere (app player, exported overlay videos, training previews): a
# colour-blind-safe blue/orange pair for left/right, light grey for the head and trunk. RGB.
LEFT_RGB: tuple[int, int, int] = (0, 114, 178)  # blue
RIGHT_RGB: tuple[int, int, int] = (230, 159, 0)  # orange
CENTRE_RGB: tuple[int, int, int] = (225, 225, 225)  # light grey
