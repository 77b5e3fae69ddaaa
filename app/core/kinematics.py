"""Sagittal-plane joint and segment angles of a runner filmed from the side.

All angles are in degrees and computed in a *runner frame*: +X points the way the runner faces,
+Y points up. Because the facing direction is folded in before any angle is taken, a runner
running to the left gets exactly the same numbers as one running to the right (no sign flips).
Each angle is wrapped into a fixed 360-degree window chosen around its physiological range, so a
curve never jumps by 360 degrees. Conventions (``ANGLE_DEFINITIONS``, docs/kinematics.md):

- segment angles (thigh, shank) are measured from the downward vertical, positive when the
  distal end is in front of the proximal one;
- trunk lean is mid-hip to mid-shoulder against the upward vertical, positive leaning forward;
- knee and elbow flexion are 0 when the limb is straight and grow as it bends;
- hip and shoulder flexion are the thigh / upper arm against the trunk line, positive in front,
  negative (extension) behind;
- the foot angle is the heel-to-toe line against the forward horizontal, positive toe up;
- ankle dorsiflexion is the foot angle minus the shank angle: 0 with the heel-toe line at right
  angles to the shank, positive as the toes come up towards the shin (or the shin comes forward
  over the foot), negative in plantar flexion.

The foot angles need the heel and toe points (``left_heel``, ``left_big_toe``, ...) of the pose
layout; for a model without feet they are NaN throughout.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from app.core.nanstats import nanmedian
from rhpnet.skeleton import as_pose_layout, pose_index, side_indices

NOSE, LEFT_EAR, RIGHT_EAR = pose_index("nose"), pose_index("left_ear"), pose_index("right_ear")
SHOULDER = side_indices("shoulder")
ELBOW = side_indices("elbow")
WRIST = side_indices("wrist")
HIP = side_indices("hip")
KNEE = side_indices("knee")
ANKLE = side_indices("ankle")
HEEL = side_indices("heel")
TOE = side_indices("big_toe")
# Real seconds over which the leg's length in the picture is taken as constant: two strides
# or more, short against a zoom or a runner's approach.
LOCAL_SCALE_WINDOW_S = 1.5
MIN_SCALE_WINDOW_S = 0.5
SCALE_WINDOW_BLOCK = 2048  # frames whose windows are gathered at once (bounded memory)
SIDES: tuple[str, str] = ("left", "right")


@dataclass(frozen=True)
class AngleDefinition:
    """What one angle column means, for docs, plots and exports."""

    label: str
    zero: str
    positive: str
    wrap_center_deg: float = 0.0


_PER_SIDE: dict[str, AngleDefinition] = {
    "hip_flexion": AngleDefinition(
        "Hip flexion", "thigh parallel to the trunk line", "thigh in front (extension < 0)"
    ),
    "knee_flexion": AngleDefinition("Knee flexion", "straight knee", "knee bent"),
    "thigh_angle": AngleDefinition(
        "Thigh angle", "thigh vertical (knee below hip)", "knee in front of the hip"
    ),
    "shank_angle": AngleDefinition(
        "Shank angle",
        "shank vertical (ankle below knee)",
        "ankle in front of the knee",
        wrap_center_deg=-70.0,
    ),
    "shoulder_flexion": AngleDefinition(
        "Shoulder flexion", "upper arm parallel to the trunk line", "elbow in front (extension < 0)"
    ),
    "elbow_flexion": AngleDefinition("Elbow flexion", "straight arm", "elbow bent"),
    "foot_angle": AngleDefinition(
        "Foot angle", "heel-to-toe line horizontal", "toe above the heel"
    ),
    "ankle_dorsiflexion": AngleDefinition(
        "Ankle dorsiflexion",
        "heel-to-toe line at right angles to the shank",
        "toes towards the shin (plantar flexion < 0)",
    ),
}

ANGLE_DEFINITIONS: dict[str, AngleDefinition] = {
    "trunk_lean": AngleDefinition(
        "Trunk lean", "mid-hip to mid-shoulder vertical", "leaning forward"
    ),
    **{
        f"{name}_{side}": AngleDefinition(
            f"{definition.label} ({side})",
            definition.zero,
            definition.positive,
            definition.wrap_center_deg,
        )
        for name, definition in _PER_SIDE.items()
        for side in SIDES
    },
}
ANGLE_NAMES: tuple[str, ...] = tuple(ANGLE_DEFINITIONS)


def leg_length_px(points: np.ndarray) -> float:
    """Median hip-knee plus knee-ankle length over frames and sides, in pixels (NaN if unseen).

    The sum of the two segments does not depend on knee flexion, so it is a stable body scale
    for a side view; it corresponds to 0.491 x body height in Winter's segment table.
    """
    values = _leg_lengths(points).ravel()
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def foot_length_px(points: np.ndarray, sides: tuple[str, ...] = SIDES) -> float:
    """Median heel-to-toe distance of the given legs over the frames, in pixels (NaN without
    foot points): how finely a foot angle can be read."""
    lengths = [
        np.linalg.norm(points[:, TOE[s], :2] - points[:, HEEL[s], :2], axis=-1) for s in sides
    ]
    values = np.concatenate(lengths) if lengths else np.empty(0)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def local_leg_length_px(
    points: np.ndarray, real_times_s: np.ndarray, window_s: float = LOCAL_SCALE_WINDOW_S
) -> np.ndarray:
    """(T,) the leg length around each frame: the median over both legs within ``window_s``.

    A camera that zooms, or a runner coming towards it, changes the runner's size in the
    picture (on tracking_shot_road.mp4 the leg shrinks from 91 to 66 px as the camera falls
    back, against a clip median of 76; the race's sprinter grows from 90 to 103 px): a distance
    in leg lengths divides by the leg's length at that moment, not by the clip's.
    Frames with no leg within the window take the nearest frame's; NaN if no leg is seen at all.
    """
    lengths = _leg_lengths(points)  # (T, 2)
    frames = len(lengths)
    times = np.asarray(real_times_s, np.float64)
    if frames == 0:
        return np.full(0, np.nan)
    # Near the clip's ends the window shrinks on both sides, staying centred on the frame
    # (a one-sided window would lag a zoom), but never below MIN_SCALE_WINDOW_S.
    to_end = np.minimum(times - times[0], times[-1] - times)
    half = np.clip(to_end, MIN_SCALE_WINDOW_S / 2.0, window_s / 2.0)
    start = np.searchsorted(times, times - half, side="left")
    stop = np.searchsorted(times, times + half, side="right")
    width = int((stop - start).max())
    local = np.empty(frames)
    # Every frame's window as one row, NaN past its end, a block of rows at a time: one
    # vectorised median instead of one call per frame (a 10-minute clip has 36 000 frames).
    for first in range(0, frames, SCALE_WINDOW_BLOCK):
        rows = np.arange(first, min(first + SCALE_WINDOW_BLOCK, frames))
        index = start[rows, None] + np.arange(width)[None, :]
        window = lengths[np.minimum(index, frames - 1)]  # (rows, width, 2)
        window[index >= stop[rows, None]] = np.nan
        local[rows] = nanmedian(window.reshape(len(rows), -1), axis=1)
    known = np.flatnonzero(np.isfinite(local))
    if known.size and known.size < frames:
        local = np.interp(np.arange(frames), known, local[known])
    return local


def _leg_lengths(points: np.ndarray) -> np.ndarray:
    """(T, 2) hip-knee plus knee-ankle length of the left and right leg in each frame."""
    lengths = []
    for side in SIDES:
        thigh = np.linalg.norm(points[:, KNEE[side], :2] - points[:, HIP[side], :2], axis=-1)
        shank = np.linalg.norm(points[:, ANKLE[side], :2] - points[:, KNEE[side], :2], axis=-1)
        lengths.append(thigh + shank)
    return np.stack(lengths, axis=1)


def mid_point(points: np.ndarray, left: int, right: int) -> np.ndarray:
    """(T, 2) midpoint of two joints; where one is missing, the other stands in for it."""
    pair = points[:, [left, right], :2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(pair, axis=1)


def mid_hip(points: np.ndarray) -> np.ndarray:
    return mid_point(points, HIP["left"], HIP["right"])


def mid_shoulder(points: np.ndarray) -> np.ndarray:
    return mid_point(points, SHOULDER["left"], SHOULDER["right"])


def facing_direction(
    points: np.ndarray, real_times_s: np.ndarray, window_s: float = 2.0
) -> np.ndarray:
    """(T,) +1 where the runner faces image +x (right), -1 where they face left.

    Four cues vote, each squashed to [-1, 1] and averaged over a sliding ``window_s`` window:
    the nose in front of the ears, the knees mostly in front of the hips over a stride, the
    forearms pointing forwards from the elbows, and the pelvis moving across the image
    (overground; on a treadmill it stays near zero and the posture cues decide). The window lets
    a runner who turns around be followed; frames without evidence, and frames without the
    runner, take the clip's overall vote.
    """
    times = np.asarray(real_times_s, np.float64)
    frames = len(points)
    scale = leg_length_px(points)
    if not np.isfinite(scale) or frames == 0:
        return np.ones(frames)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ears_x = np.nanmean(points[:, [LEFT_EAR, RIGHT_EAR], 0], axis=1)
        head = np.tanh((points[:, NOSE, 0] - ears_x) / (0.03 * scale))
        knees = np.tanh(
            np.nanmean([points[:, KNEE[s], 0] - points[:, HIP[s], 0] for s in SIDES], axis=0)
            / (0.1 * scale)
        )
        forearms = np.tanh(
            np.nanmean([points[:, WRIST[s], 0] - points[:, ELBOW[s], 0] for s in SIDES], axis=0)
            / (0.1 * scale)
        )
    travel = _pelvis_velocity_x(points, times) / scale  # leg lengths per second
    motion = 2.0 * np.tanh(travel / 1.0)
    votes = np.stack([head, knees, forearms, motion], axis=1)
    vote = np.nansum(votes, axis=1)
    seen = np.isfinite(votes).any(axis=1)
    overall = np.sign(np.sum(vote[seen])) if seen.any() else 0.0
    smoothed = _moving_sum(np.where(seen, vote, 0.0), times, window_s)
    facing = np.sign(smoothed)
    # A frame without the runner takes the clip's vote, not its neighbours' in the window: the
    # last frames of a runner leaving the picture half cut off must not turn the frames after.
    facing[(facing == 0) | ~seen] = overall if overall != 0 else 1.0
    return facing


def _pelvis_velocity_x(points: np.ndarray, times: np.ndarray) -> np.ndarray:
    x = mid_hip(points)[:, 0]
    velocity = np.full(len(x), np.nan)
    if len(x) >= 3:
        with np.errstate(invalid="ignore", divide="ignore"):
            velocity[1:-1] = (x[2:] - x[:-2]) / (times[2:] - times[:-2])
    return velocity


def _moving_sum(values: np.ndarray, times: np.ndarray, window_s: float) -> np.ndarray:
    """Sum of ``values`` over frames within +-window_s/2 of each frame (real time)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    start = np.searchsorted(times, times - window_s / 2.0, side="left")
    stop = np.searchsorted(times, times + window_s / 2.0, side="right")
    return cumulative[stop] - cumulative[start]


def runner_frame(vectors: np.ndarray, facing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image-space vectors (..., 2) to runner-frame (forward, up) components."""
    return vectors[..., 0] * facing, -vectors[..., 1]


def _angle_from_down(proximal: np.ndarray, distal: np.ndarray, facing: np.ndarray) -> np.ndarray:
    forward, up = runner_frame(distal - proximal, facing)
    return np.degrees(np.arctan2(forward, -up))


def _angle_from_up(lower: np.ndarray, upper: np.ndarray, facing: np.ndarray) -> np.ndarray:
    forward, up = runner_frame(upper - lower, facing)
    return np.degrees(np.arctan2(forward, up))


def foot_angle(heel: np.ndarray, toe: np.ndarray, facing: np.ndarray) -> np.ndarray:
    """Heel-to-toe line against the forward horizontal in degrees, positive with the toe up."""
    forward, up = runner_frame(toe - heel, facing)
    return np.degrees(np.arctan2(up, forward))


def wrap_degrees(angle: np.ndarray, center: float = 0.0) -> np.ndarray:
    """Wrap into [center - 180, center + 180)."""
    return (np.asarray(angle) - center + 180.0) % 360.0 - 180.0 + center


def joint_angles(points: np.ndarray, facing: np.ndarray) -> dict[str, np.ndarray]:
    """Every angle of ``ANGLE_DEFINITIONS`` as a (T,) float array in degrees (NaN if unseen)."""
    facing = np.asarray(facing, np.float64)
    xy = as_pose_layout(points)[..., :2]
    hips, shoulders = mid_hip(points), mid_shoulder(points)
    trunk = _angle_from_up(hips, shoulders, facing)
    raw: dict[str, np.ndarray] = {"trunk_lean": trunk}
    for side in SIDES:
        hip, knee, ankle = xy[:, HIP[side]], xy[:, KNEE[side]], xy[:, ANKLE[side]]
        shoulder, elbow, wrist = xy[:, SHOULDER[side]], xy[:, ELBOW[side]], xy[:, WRIST[side]]
        thigh = _angle_from_down(hip, knee, facing)
        shank = _angle_from_down(knee, ankle, facing)
        upper_arm = _angle_from_down(shoulder, elbow, facing)
        forearm = _angle_from_down(elbow, wrist, facing)
        raw[f"hip_flexion_{side}"] = thigh + trunk
        raw[f"knee_flexion_{side}"] = thigh - shank
        raw[f"thigh_angle_{side}"] = thigh
        raw[f"shank_angle_{side}"] = shank
        raw[f"shoulder_flexion_{side}"] = upper_arm + trunk
        raw[f"elbow_flexion_{side}"] = forearm - upper_arm
        foot = foot_angle(xy[:, HEEL[side]], xy[:, TOE[side]], facing)
        raw[f"foot_angle_{side}"] = foot
        raw[f"ankle_dorsiflexion_{side}"] = foot - shank
    return {
        name: wrap_degrees(raw[name], definition.wrap_center_deg)
        for name, definition in ANGLE_DEFINITIONS.items()
    }
