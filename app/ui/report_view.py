"""The kinematics report shaped for the views: curves, event markers, ranges, metric rows.

Only reshaping and number formatting happen here; every number comes from the report that
``app/core`` computed (the same one the ``analyze`` command writes to ``metrics.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.analysis import Analysis
from app.ui.metrics_panel import MetricRow
from app.ui.overlay import AngleLabel
from app.ui.plots import EventMarker, angle_side

# Where each angle's label is drawn: the joint it is measured at (COCO indices per side).
_LABEL_JOINTS = {
    "knee_flexion": {"left": 13, "right": 14},
    "hip_flexion": {"left": 11, "right": 12},
    "elbow_flexion": {"left": 7, "right": 8},
    "shoulder_flexion": {"left": 5, "right": 6},
}


@dataclass
class ReportView:
    subject_id: int | None
    times_s: np.ndarray
    angles: dict[str, np.ndarray]
    events: list[EventMarker]
    ranges: dict[str, tuple[float, float]]
    metric_rows: list[MetricRow]
    summary: str
    strike_frames: np.ndarray
    report: Any = None


def label_position(name: str, keypoints: np.ndarray) -> tuple[float, float] | None:
    """Image point where the label of angle ``name`` goes, or None if that joint is unseen."""
    side = angle_side(name)
    if name == "trunk_lean":
        hips = keypoints[[11, 12], :2]
        shoulders = keypoints[[5, 6], :2]
        mid = (np.nanmean(hips, axis=0) + np.nanmean(shoulders, axis=0)) / 2
        return (float(mid[0]), float(mid[1])) if np.isfinite(mid).all() else None
    base = name.removesuffix(f"_{side}")
    joints = _LABEL_JOINTS.get(base)
    if joints is None or side not in joints:
        return None
    x, y, score = keypoints[joints[side]]
    return (float(x), float(y)) if np.isfinite([x, y, score]).all() else None


def angle_labels_at(
    view: ReportView, keypoints: np.ndarray, index: int, names: list[str]
) -> list[AngleLabel]:
    """Labels for the angles ``names`` (those ticked in the plot) that sit on a joint."""
    labels = []
    for name in names:
        values = view.angles.get(name)
        if values is None or index >= len(values) or not np.isfinite(values[index]):
            continue
        position = label_position(name, keypoints)
        if position is None:
            continue
        labels.append(
            AngleLabel(position[0], position[1], f"{values[index]:.0f}°", angle_side(name))
        )
    return labels


def build_report_view(report: Any, analysis: Analysis) -> ReportView:
    raise NotImplementedError
