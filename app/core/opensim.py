"""The runner's 2D motion for OpenSim: marker trajectories (``.trc``) and angles (``.mot``).

Both follow the file formats as OpenSim's documentation describes them (docs/opensim.md):

- ``<stem>.trc``: three header lines (``PathFileType 4 (X/Y/Z) <file>``; the names
  ``DataRate CameraRate NumFrames NumMarkers Units OrigDataRate OrigDataStartFrame
  OrigNumFrames``; their values), the marker-name row (``Frame# Time`` then each name over its
  three columns), the coordinate row (``X1 Y1 Z1 X2 ...``), a blank row, then one tab-separated
  row per frame: frame number (from 1), time, X Y Z per marker; an empty cell where the marker
  was not seen. Coordinates are metres in OpenSim's axes: X forward (the way the runner faces),
  Y up, Z = 0 (a side view has no depth). The pixel-to-metre scale comes from the runner's
  height: leg length (hip-knee-ankle) = 0.491 x height (Winter), so a height is required.
- ``<stem>.mot``: the OpenSim motion header (name, ``version=1``, ``nRows=``, ``nColumns=``
  counting the time column, ``inDegrees=yes``, a blank line, the units note, ``endheader``),
  then the column labels (``time`` and the angle names of docs/kinematics.md) and one row per
  frame. OpenSim reads ``NaN`` where an angle is unknown.

Times are real (slow-motion corrected) seconds from the first frame. These are the cleaned,
filtered keypoints and angles of the report, the same numbers as ``angles.csv``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from app.core.kinematics import ANGLE_NAMES, ANKLE, SIDES, mid_hip
from app.core.metrics import LEG_LENGTH_PER_HEIGHT
from app.core.running_report import RunningReport
from rhpnet.atomic import atomic_write_text
from rhpnet.errors import DataError
from rhpnet.skeleton import (
    COCO_KEYPOINT_NAMES,
    NUM_COCO_KEYPOINTS,
    NUM_POSE_KEYPOINTS,
    POSE_KEYPOINT_NAMES,
)

TRC_HEADER_FIELDS: tuple[str, ...] = (
    "DataRate",
    "CameraRate",
    "NumFrames",
    "NumMarkers",
    "Units",
    "OrigDataRate",
    "OrigDataStartFrame",
    "OrigNumFrames",
)


def metres_per_pixel(report: RunningReport) -> float:
    """Scale from the runner's height; raises ``DataError`` when it cannot be known."""
    if not report.runner_height_cm:
        raise DataError(
            "the .trc export needs the runner's height (--runner-height-cm) to scale pixels to "
            "metres"
        )
    if not math.isfinite(report.leg_length_px) or report.leg_length_px <= 0:
        raise DataError(f"{Path(report.video_path).name}: the runner's legs were never seen")
    return LEG_LENGTH_PER_HEIGHT * report.runner_height_cm / 100.0 / report.leg_length_px


def _times(report: RunningReport) -> np.ndarray:
    times = np.asarray(report.real_times_s, np.float64)
    return times - times[0]


def _cell(value: float) -> str:
    return f"{value:.6f}" if math.isfinite(value) else ""


def marker_names(report: RunningReport) -> tuple[str, ...]:
    """COCO-17, then the heels and toes where the model gave feet (a 17-joint model's are NaN
    throughout and left out)."""
    feet = report.cleaned.keypoints[:, NUM_COCO_KEYPOINTS:NUM_POSE_KEYPOINTS, 0]
    return POSE_KEYPOINT_NAMES if np.isfinite(feet).any() else COCO_KEYPOINT_NAMES


def marker_positions_m(report: RunningReport) -> np.ndarray:
    """(T, M, 3) positions of the ``marker_names`` in metres: X forward, Y up, Z 0; origin at
    the mean mid-hip over the clip (X) and the lowest ankle position (Y, the ground)."""
    scale = metres_per_pixel(report)
    count = len(marker_names(report))
    points = np.asarray(report.cleaned.keypoints[:, :count, :2], np.float64)
    origin_x = float(np.nanmean(mid_hip(points)[:, 0]))
    ground_y = float(np.nanmax(points[:, [ANKLE[s] for s in SIDES], 1]))
    facing = np.asarray(report.facing, np.float64)[:, None]
    positions = np.zeros(points.shape[:2] + (3,))
    positions[..., 0] = facing * (points[..., 0] - origin_x) * scale
    positions[..., 1] = (ground_y - points[..., 1]) * scale
    positions[..., 2] = np.where(np.isfinite(points[..., 0]), 0.0, np.nan)
    return positions


def trc_text(report: RunningReport, file_name: str) -> str:
    positions = marker_positions_m(report)
    times = _times(report)
    frames = len(times)
    rate = float(report.cleaned.sample_rate_hz)
    markers = list(marker_names(report))
    values = [
        f"{rate:.6g}",
        f"{rate:.6g}",
        str(frames),
        str(len(markers)),
        "m",
        f"{rate:.6g}",
        "1",
        str(frames),
    ]
    lines = [
        "\t".join(["PathFileType", "4", "(X/Y/Z)", file_name]),
        "\t".join(TRC_HEADER_FIELDS),
        "\t".join(values),
        "\t".join(["Frame#", "Time"] + [f"{name}\t\t" for name in markers]).rstrip("\t"),
        "\t".join(["", ""] + [f"{axis}{n}" for n in range(1, len(markers) + 1) for axis in "XYZ"]),
        "",
    ]
    for index in range(frames):
        cells = [str(index + 1), f"{times[index]:.6f}"]
        cells += [_cell(v) for v in positions[index].reshape(-1)]
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n"


def mot_text(report: RunningReport, name: str = "Coordinates") -> str:
    times = _times(report)
    columns = ["time", *ANGLE_NAMES]
    lines = [
        name,
        "version=1",
        f"nRows={len(times)}",
        f"nColumns={len(columns)}",
        "inDegrees=yes",
        "",
        "Units are S.I. units (second, meters, Newtons, ...)",
        "Angles are in degrees.",
        "",
        "endheader",
        "\t".join(columns),
    ]
    data = np.column_stack(
        [times] + [np.asarray(report.angles[n], np.float64) for n in ANGLE_NAMES]
    )
    for row in data:
        lines.append("\t".join(f"{v:.6f}" if math.isfinite(v) else "NaN" for v in row))
    return "\n".join(lines) + "\n"


def write_trc(report: RunningReport, path: str | Path) -> Path:
    path = Path(path)
    atomic_write_text(path, trc_text(report, path.name))
    return path


def write_mot(report: RunningReport, path: str | Path) -> Path:
    atomic_write_text(path, mot_text(report))
    return Path(path)
