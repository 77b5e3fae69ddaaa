"""MPII PCKh: the share of joints predicted within a fraction of the person's head size.

Follows the MPII evaluation as HRNet implements it (``lib/dataset/mpii.py``, docs/rhpnet_spec.md §11.2): head
size = 0.6 x the head-box diagonal, only joints labelled as present count, per-joint PCKh in
percent, groups = the mean of left and right, and **Mean** = the visibility-weighted average over
all joints except pelvis and thorax. Thresholds are exact: HRNet's table labels 0.11 as
"Mean@0.1"; pass ``thresholds=(0.5, 0.11)`` to compare with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rhpnet.skeleton import MPII_KEYPOINT_NAMES

# MPII's head-size factor (SC_BIAS in the official MATLAB code and HRNet).
HEAD_SIZE_FACTOR = 0.6


def _indices(*names: str) -> tuple[int, ...]:
    return tuple(MPII_KEYPOINT_NAMES.index(name) for name in names)


# Pelvis and thorax are left out of the MPII mean (they are near-trivial to localise).
EXCLUDED_FROM_MEAN = _indices("pelvis", "thorax")
# Reported groups: name -> the joints averaged (right, left).
GROUPS: dict[str, tuple[int, ...]] = {
    "Head": _indices("head_top"),
    **{
        joint.capitalize(): _indices(f"right_{joint}", f"left_{joint}")
        for joint in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
    },
}


@dataclass
class PCKhResult:
    thresholds: tuple[float, ...]
    per_joint: dict[float, np.ndarray]  # threshold -> (K,) percent; NaN where nothing is visible
    groups: dict[float, dict[str, float]]  # threshold -> Head, Shoulder, ..., Mean
    visible_counts: np.ndarray  # (K,) number of labelled joints per keypoint

    def mean(self, threshold: float = 0.5) -> float:
        return self.groups[threshold]["Mean"]

    def table(self) -> str:
        """The MPII results table, one row per threshold."""
        names = [*GROUPS, "Mean"]
        lines = ["threshold  " + "  ".join(f"{n:>8}" for n in names)]
        for t in self.thresholds:
            lines.append(f"PCKh@{t:<5g}" + "  ".join(f"{self.groups[t][n]:8.2f}" for n in names))
        return "\n".join(lines)


def head_sizes(head_boxes: np.ndarray) -> np.ndarray:
    """(N,) head size = 0.6 x diagonal of each x1, y1, x2, y2 head box."""
    boxes = np.asarray(head_boxes, np.float64).reshape(-1, 4)
    return HEAD_SIZE_FACTOR * np.linalg.norm(boxes[:, 2:] - boxes[:, :2], axis=1)


def compute_pckh(
    predictions: np.ndarray,
    ground_truth: np.ndarray,
    visible: np.ndarray,
    head_boxes: np.ndarray,
    thresholds: tuple[float, ...] = (0.5, 0.1),
) -> PCKhResult:
    """PCKh of (N, K, 2) predicted vs ground-truth joints in the same pixel frame.

    ``visible`` (N, K) marks the joints that count (MPII: ``1 - jnt_missing``). K must be MPII's 16
    for the groups and the mean; per-joint values work for any K.
    """
    pred = np.asarray(predictions, np.float64)[..., :2]
    gt = np.asarray(ground_truth, np.float64)[..., :2]
    vis = np.asarray(visible).astype(bool)
    if pred.shape != gt.shape or vis.shape != gt.shape[:2]:
        raise ValueError(
            f"shape mismatch: predictions {pred.shape}, ground truth {gt.shape}, visible {vis.shape}"
        )
    sizes = head_sizes(head_boxes)
    if len(sizes) != len(gt):
        raise ValueError(f"{len(sizes)} head boxes for {len(gt)} people")
    if (sizes[vis.any(axis=1)] <= 0).any():
        raise ValueError("a head box of zero size cannot normalise PCKh")
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = np.linalg.norm(pred - gt, axis=-1) / sizes[:, None]
    counts = vis.sum(axis=0)
    per_joint: dict[float, np.ndarray] = {}
    groups: dict[float, dict[str, float]] = {}
    weights = counts.astype(np.float64)
    mpii = gt.shape[1] == len(MPII_KEYPOINT_NAMES)
    if mpii:
        weights[list(EXCLUDED_FROM_MEAN)] = 0
    weights = weights / max(weights.sum(), 1)
    for t in thresholds:
        correct = ((normalised <= t) & vis).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            pck = np.where(counts > 0, 100.0 * correct / counts, np.nan)
        per_joint[t] = pck
        row = {name: _mean_present(pck[list(idx)]) for name, idx in GROUPS.items()} if mpii else {}
        row["Mean"] = float(np.nansum(pck * weights))
        groups[t] = row
    return PCKhResult(tuple(thresholds), per_joint, groups, counts)


def _mean_present(values: np.ndarray) -> float:
    present = values[~np.isnan(values)]
    return float(present.mean()) if len(present) else float("nan")
