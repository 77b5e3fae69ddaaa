"""Keypoint definitions shared by every part of the project (one source of truth).

COCO-17 is the output format of every estimator; MPII-16 exists for training and PCKh evaluation.
BlazePose's 33 landmarks are mapped onto COCO-17 with ``BLAZEPOSE_TO_COCO``.
"""

from __future__ import annotations

from collections.abc import Iterable

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
