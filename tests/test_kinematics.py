"""Angle conventions, facing detection and the exactness of the angle formulas."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.kinematics import (
    ANGLE_NAMES,
    facing_direction,
    joint_angles,
    leg_length_px,
    local_leg_length_px,
    wrap_degrees,
)
from tests.support.synthetic_runner import case


def _pose(
    thigh: float = 0.0,
    knee: float = 0.0,
    lean: float = 0.0,
    shoulder: float = 0.0,
    elbow: float = 0.0,
    foot: float = 0.0,
    facing: int = 1,
) -> np.ndarray:
    """One frame (1, 21, 3) in the pose layout built from runner-frame angles (``foot``: the
    heel-to-toe line against the horizontal), drawn facing image +x or -x."""

    def down(angle: float, length: float) -> np.ndarray:
        a = np.radians(angle)
        return np.array([length * np.sin(a), -length * np.cos(a)])

    world = np.zeros((21, 2))
    hip = np.array([0.0, 1.0])
    a = np.radians(lean)
    shoulder_point = hip + 0.5 * np.array([np.sin(a), np.cos(a)])
    world[[11, 12]] = hip
    world[[13, 14]] = hip + down(thigh, 0.45)
    world[[15, 16]] = world[13] + down(thigh - knee, 0.45)
    world[[5, 6]] = shoulder_point
    world[[7, 8]] = shoulder_point + down(shoulder - lean, 0.3)
    world[[9, 10]] = world[7] + down(shoulder - lean + elbow, 0.25)
    world[0] = shoulder_point + [0.1, 0.2]
    world[[1, 2, 3, 4]] = shoulder_point + [0.0, 0.2]
    world[[17, 18]] = world[15] + [-0.05, -0.06]  # heels, below and behind the ankles
    f = np.radians(foot)
    world[[19, 20]] = world[17] + 0.22 * np.array([np.cos(f), np.sin(f)])  # toe tips
    points = np.ones((1, 21, 3))
    points[0, :, 0] = 500 + facing * 300 * world[:, 0]
    points[0, :, 1] = 900 - 300 * world[:, 1]
    return points


@pytest.mark.parametrize("facing", [1, -1])
def test_angle_conventions(facing):
    standing = joint_angles(_pose(facing=facing), np.array([facing]))
    for name in ANGLE_NAMES:
        assert standing[name][0] == pytest.approx(0.0, abs=1e-9), name

    pose = _pose(thigh=30, knee=50, lean=10, shoulder=-20, elbow=90, facing=facing)
    angles = {k: v[0] for k, v in joint_angles(pose, np.array([facing])).items()}
    for side in ("left", "right"):
        assert angles[f"thigh_angle_{side}"] == pytest.approx(30)  # knee in front of the hip
        assert angles[f"shank_angle_{side}"] == pytest.approx(-20)  # ankle behind the knee
        assert angles[f"knee_flexion_{side}"] == pytest.approx(50)
        assert angles[f"hip_flexion_{side}"] == pytest.approx(40)  # thigh vs a forward trunk
        assert angles[f"shoulder_flexion_{side}"] == pytest.approx(-20)  # elbow behind: extension
        assert angles[f"elbow_flexion_{side}"] == pytest.approx(90)
        assert angles[f"foot_angle_{side}"] == pytest.approx(0)
        assert angles[f"ankle_dorsiflexion_{side}"] == pytest.approx(20)  # shin over the foot
    toe_up = joint_angles(_pose(knee=10, foot=15, facing=facing), np.array([facing]))
    assert toe_up["foot_angle_left"][0] == pytest.approx(15)  # a heel strike's toe-up foot
    assert toe_up["ankle_dorsiflexion_left"][0] == pytest.approx(25)
    pointed = joint_angles(_pose(foot=-30, facing=facing), np.array([facing]))
    assert pointed["ankle_dorsiflexion_left"][0] == pytest.approx(-30)  # plantar flexion
    assert angles["trunk_lean"] == pytest.approx(10)  # leaning forward is positive


def test_hip_extension_is_negative():
    angles = joint_angles(_pose(thigh=-15, knee=10), np.array([1]))
    assert angles["hip_flexion_left"][0] == pytest.approx(-15)


def test_mirrored_runner_gets_identical_angles():
    right = joint_angles(_pose(thigh=25, knee=70, lean=8, shoulder=15, elbow=80), np.ones(1))
    left = joint_angles(
        _pose(thigh=25, knee=70, lean=8, shoulder=15, elbow=80, facing=-1), -np.ones(1)
    )
    for name in ANGLE_NAMES:
        assert left[name][0] == pytest.approx(right[name][0]), name


def test_angles_never_jump_by_360():
    """A shank swept far behind and up (heel to the buttocks) stays continuous."""
    knees = np.linspace(10, 170, 200)
    points = np.concatenate([_pose(thigh=-10, knee=k) for k in knees])
    angles = joint_angles(points, np.ones(len(points)))
    for name in ("knee_flexion_left", "shank_angle_left", "hip_flexion_left"):
        assert np.abs(np.diff(angles[name])).max() < 2.0, name
    assert angles["shank_angle_left"][-1] == pytest.approx(-180.0)
    assert wrap_degrees(-190.0, center=-70.0) == pytest.approx(-190.0)
    assert wrap_degrees(190.0) == pytest.approx(-170.0)


@pytest.mark.parametrize(
    "name",
    [
        "treadmill_right_60fps",
        "treadmill_left_60fps_corrupted",
        "overground_right_60fps_corrupted",
        "overground_left_60fps",
    ],
)
def test_facing_is_detected_on_treadmill_and_overground(name):
    run = case(name)
    facing = facing_direction(run.keypoints, run.real_times_s)
    assert (facing == run.recording.facing).all()


def test_facing_follows_a_runner_who_turns_around():
    run = case("overground_right_60fps_corrupted")
    points = run.clean_keypoints.copy()
    half = len(points) // 2
    centre = np.nanmean(points[half:, :, 0])
    points[half:, :, 0] = 2 * centre - points[half:, :, 0]  # second half runs the other way
    facing = facing_direction(points, run.real_times_s, window_s=1.0)
    assert (facing[: half - 40] == 1).all() and (facing[half + 40 :] == -1).all()


def test_the_local_leg_length_follows_a_zoom():
    """A camera zooming out to 70 % within 3 s: the leg length around each frame follows it,
    where the clip's single median is off by up to a fifth at either end."""
    run = case("overground_left_60fps")
    points = run.clean_keypoints.copy()
    zoom = np.linspace(1.0, 0.7, len(points))
    points[..., :2] *= zoom[:, None, None]
    truth = leg_length_px(run.clean_keypoints) * zoom
    local = local_leg_length_px(points, run.real_times_s)
    assert np.allclose(local, truth, rtol=0.02)
    assert not np.allclose(leg_length_px(points), truth, rtol=0.15)


def test_the_local_leg_length_fills_frames_without_legs():
    run = case("overground_left_60fps")
    points = run.clean_keypoints.copy()
    points[:90] = np.nan
    local = local_leg_length_px(points, run.real_times_s)
    assert np.isfinite(local).all()
    assert np.allclose(local[:90], leg_length_px(run.clean_keypoints))
    assert np.isnan(local_leg_length_px(points * np.nan, run.real_times_s)).all()


def test_frames_without_the_runner_keep_the_clips_facing():
    """A runner leaving the picture half cut off can look turned for a few frames; the frames
    after, without them, must not turn with those (race_3runners_pan.mp4 'changed direction'
    two frames after its runner had left)."""
    run = case("overground_right_60fps_corrupted")
    points = run.clean_keypoints.copy()
    leaves = len(points) - 60
    centre = np.nanmean(points[leaves - 12 : leaves, :, 0])
    points[leaves - 12 : leaves, :, 0] = 2 * centre - points[leaves - 12 : leaves, :, 0]
    points[leaves:] = np.nan
    facing = facing_direction(points, run.real_times_s, window_s=0.5)
    assert (facing[leaves:] == 1).all()


def test_treadmill_facing_without_the_head_comes_from_the_limbs():
    run = case("treadmill_left_60fps_corrupted")
    points = run.keypoints.copy()
    points[:, :5] = np.nan  # no nose, eyes or ears
    assert (facing_direction(points, run.real_times_s) == -1).all()


def test_exact_skeleton_gives_exact_angles():
    run = case("overground_left_60fps", noise_px=0.0)
    angles = joint_angles(run.clean_keypoints, np.full(len(run.clean_keypoints), -1.0))
    for name in ANGLE_NAMES:
        if name in run.angles:
            np.testing.assert_allclose(angles[name], run.angles[name], atol=1e-6, err_msg=name)
        else:  # the synthetic runner has no feet (a 17-joint model): no foot angles
            assert np.isnan(angles[name]).all(), name
    assert leg_length_px(run.clean_keypoints) == pytest.approx(run.leg_length_px)
