"""A synthetic side-view runner with known angles, gait events and metrics.

The skeleton is built by forward kinematics from segment angles, so every angle the kinematics
module reports has an exact true value. The gait is physically consistent:

- **Stance** (initial contact IC to toe-off TO): the foot is planted. The ankle stays at its
  standing height while the foot is flat, then rises as the heel lifts and the foot rolls about
  the toes (heel-off at ``heel_off_fraction`` of stance). The knee follows a prescribed profile
  (flexion at IC, a peak at 45 % of stance, its minimum at TO as measured by Fellin et al. 2010),
  and the hip height and thigh angle follow from inverse kinematics of the two-segment leg.
- **Swing**: thigh angle and knee flexion are cubic Hermite curves from TO through a peak knee
  flexion; the landing (last 20 % of the swing) is an ankle path relative to the hip solved by
  inverse kinematics: the foot passes its most forward point *before* IC, as in real running,
  and comes down onto the ground with the velocity a still knee and a thigh swinging back give
  it (no horizontal speed over the ground, about 1 m/s down). The knee is thus nearly still at
  contact and flexes fast once loaded: knee flexion has a corner at IC.
- **Flight**: the pelvis height is a cubic Hermite between the stance phases of the two legs.
- Arms swing opposite to the legs; the trunk leans forward with a small oscillation.
- **Feet** (with ``strike_angle_deg``): heel and toe points rigid to the ankle, landing at that
  foot angle and turning about the heel (rearfoot) or the toe (forefoot) until flat, rolling
  about the toe after heel-off, back to the landing angle over the swing. Without it the clip is
  a 17-joint model's output and has no feet.

Segment lengths come from Winter's anthropometric table (thigh 0.245 H, shank 0.246 H, upper arm
0.186 H, forearm 0.146 H, hip to shoulder 0.288 H).

On top of the clean motion a :class:`Recording` adds what real pose estimates suffer from:
Gaussian pixel noise, low-confidence dropouts carrying junk positions, one long gap, single-joint
glitches, and left/right swaps of the leg and arm chains.

``python -m tests.support.synthetic_runner`` prints the error table of the whole pipeline over the test
cases used by ``tests/test_running_synthetic.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy.interpolate import CubicHermiteSpline

from app.core.analysis import Analysis, Track
from app.core.kinematics import ANKLE, HEEL, TOE
from app.core.running_report import build_report
from rhpnet.media.info import VideoInfo
from rhpnet.skeleton import as_pose_layout

GRAVITY = 9.81


@dataclass(frozen=True)
class GaitParameters:
    """The runner's true gait (SI units, degrees)."""

    cadence_spm: float = 170.0
    contact_s: float = 0.24
    speed_mps: float = 3.0
    height_m: float = 1.75
    overstride_m: float = 0.22  # ankle ahead of its hip at initial contact
    knee_ic_deg: float = 18.0
    knee_stance_peak_deg: float = 44.0
    knee_to_deg: float = 14.0
    knee_swing_peak_deg: float = 100.0
    heel_off_fraction: float = 0.6
    foot_angle_to_deg: float = 30.0
    trunk_lean_deg: float = 7.0
    trunk_lean_swing_deg: float = 1.5
    shoulder_swing_deg: float = 35.0
    elbow_flexion_deg: float = 85.0
    first_contact_s: float = 0.05
    # Heel and toe points with this foot strike angle at IC (toe up positive; Altman & Davis
    # 2012: > 8 rearfoot, < -1.6 forefoot); None: a 17-joint model's output, no feet.
    strike_angle_deg: float | None = None
    settle_fraction: float = 0.2  # of stance: the foot comes down flat this early

    @property
    def step_s(self) -> float:
        return 60.0 / self.cadence_spm

    @property
    def stride_s(self) -> float:
        return 2.0 * self.step_s

    @property
    def thigh_m(self) -> float:
        return 0.245 * self.height_m

    @property
    def shank_m(self) -> float:
        return 0.246 * self.height_m

    @property
    def leg_m(self) -> float:
        return self.thigh_m + self.shank_m


@dataclass(frozen=True)
class Recording:
    """How the synthetic runner is filmed and how its pose estimate is corrupted."""

    fps: float = 60.0  # real capture rate
    slowmo: float = 1.0  # video plays this many times slower than real time
    duration_s: float = 4.0
    facing: int = 1  # +1 runs towards image +x, -1 towards -x
    treadmill: bool = True
    px_per_m: float = 350.0
    noise_px: float = 1.0
    dropouts: int = 0  # bursts of low-confidence junk points, each up to 3 frames
    long_gap_s: float = 0.0  # one ankle missing this long (must stay missing)
    glitches: int = 0  # single-frame jumps of one joint
    leg_swaps: int = 0  # segments with left and right leg chains exchanged
    arm_swaps: int = 0
    seed: int = 0


@dataclass
class SyntheticRun:
    """A generated clip: what the estimator would give, and the truth."""

    keypoints: np.ndarray  # (T, 17, 3) corrupted estimate, image pixels
    clean_keypoints: np.ndarray  # (T, 17, 3) exact skeleton
    video_times_s: np.ndarray
    real_times_s: np.ndarray
    angles: dict[str, np.ndarray]  # true angles, kinematics naming
    contacts: dict[str, list[tuple[float, float]]]  # side -> [(IC time, TO time)] real seconds
    gait: GaitParameters
    recording: Recording
    leg_length_px: float
    vertical_oscillation_leg: float  # mean per-step peak-to-peak pelvis excursion / leg length
    overstride_leg: dict[str, float]  # side -> ankle ahead of mid-hip at IC / leg length
    swapped_frames: dict[str, np.ndarray] = field(default_factory=dict)
    model: _Gait | None = None

    def true_angles_at(self, times_s: np.ndarray) -> dict[str, np.ndarray]:
        """Exact angles at arbitrary real times (between frames too)."""
        return _skeleton_world(self.model, np.asarray(times_s, float))[1]

    def event_frames(self, side: str, kind: str) -> np.ndarray:
        """Frame index nearest to each true event ('ic' or 'to') of one side."""
        column = 0 if kind == "ic" else 1
        times = np.array([pair[column] for pair in self.contacts[side]])
        return np.rint((times - self.real_times_s[0]) * self.recording.fps).astype(int)


class _Gait:
    """Continuous-time kinematics of the clean runner (world metres, +X forward, +Y up)."""

    HIP_OFFSET = {"left": -0.01, "right": 0.01}  # slight perspective: the hips are not one point

    def __init__(self, gait: GaitParameters, treadmill: bool):
        self.p = gait
        self.treadmill = treadmill
        if gait.contact_s >= gait.step_s:
            raise ValueError("synthetic runner needs a flight phase (contact shorter than a step)")
        self.ankle_height = 0.039 * gait.height_m
        self.foot = 0.07 * gait.height_m
        self._build_stance()
        self._build_pelvis()
        self._build_swing()

    # --- stance -------------------------------------------------------------------------------
    def _build_stance(self) -> None:
        p = self.p
        tc = p.contact_s
        peak = 0.45 * tc
        # Knee: flexes after IC, peaks at 45 % stance, still extending at TO (its minimum there).
        self.stance_knee = CubicHermiteSpline(
            [0.0, peak, tc],
            [p.knee_ic_deg, p.knee_stance_peak_deg, p.knee_to_deg],
            [1.6 * (p.knee_stance_peak_deg - p.knee_ic_deg) / peak, 0.0, 0.0],
        )

    def stance_ankle_relative(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ankle position relative to the stance-side hip (forward) and above ground (up)."""
        p = self.p
        tau = np.asarray(tau, float)
        forward = p.overstride_m - p.speed_mps * tau
        up = np.full_like(tau, self.ankle_height)
        heel_off = p.heel_off_fraction * p.contact_s
        rolling = tau > heel_off
        s = (tau[rolling] - heel_off) / (p.contact_s - heel_off)
        phi = np.radians(p.foot_angle_to_deg) * s**2
        toe_forward = p.overstride_m + self.foot - p.speed_mps * tau[rolling]
        forward[rolling] = toe_forward - self.foot * np.cos(phi) + self.ankle_height * np.sin(phi)
        up[rolling] = self.foot * np.sin(phi) + self.ankle_height * np.cos(phi)
        return forward, up

    def _leg_reach(self, knee_deg: np.ndarray) -> np.ndarray:
        a, b = self.p.thigh_m, self.p.shank_m
        return np.sqrt(a * a + b * b + 2 * a * b * np.cos(np.radians(knee_deg)))

    def stance_pose(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hip height, thigh angle, knee flexion) of the stance leg at stance time ``tau``."""
        knee = self.stance_knee(tau)
        forward, up = self.stance_ankle_relative(tau)
        reach = self._leg_reach(knee)
        drop = np.sqrt(reach**2 - forward**2)
        hip_height = up + drop
        a, b = self.p.thigh_m, self.p.shank_m
        line = np.degrees(np.arctan2(forward, drop))
        inner = np.degrees(np.arccos((a * a + reach**2 - b * b) / (2 * a * reach)))
        return hip_height, line + inner, knee

    # --- swing --------------------------------------------------------------------------------
    # Early swing (TO to LATE_SWING of the swing time) is prescribed in joint angles. The landing
    # (the rest) is prescribed as an ankle path relative to the hip and solved by inverse
    # kinematics: the foot passes its most forward point, swings back, and comes down onto the
    # ground. Its velocity at contact is the one a leg with a still knee and a thigh swinging
    # back produces (no horizontal speed over the ground, about 1 m/s down), so the knee is
    # nearly still at contact and flexes fast once loaded: knee flexion has a corner at IC.
    LATE_SWING = 0.8

    def _build_swing(self) -> None:
        p = self.p
        swing = p.stride_s - p.contact_s
        self.late_start = self.LATE_SWING * swing
        late = swing - self.late_start
        eps = 1e-5
        thigh_to = self.stance_pose(np.array([p.contact_s]))[1][0]
        thigh_rate_to = (thigh_to - self.stance_pose(np.array([p.contact_s - eps]))[1][0]) / eps
        forward_ic, _ = self.stance_ankle_relative(np.array([0.0]))
        hip_ic = self.stance_pose(np.array([0.0]))[0][0]
        hip_rate_ic = (self.stance_pose(np.array([eps]))[0][0] - hip_ic) / eps
        drop_ic = hip_ic - self.ankle_height
        # Perpendicular to the hip-ankle line: what a thigh rotation alone does to the ankle.
        descent_ic = p.speed_mps * forward_ic[0] / drop_ic
        self.late_forward = CubicHermiteSpline(
            [0.0, late], [forward_ic[0] + 0.03, forward_ic[0]], [0.6, -p.speed_mps]
        )
        self.late_height = CubicHermiteSpline(
            [0.0, late],
            [self.ankle_height + 0.1, self.ankle_height],
            [-1.0, hip_rate_ic - descent_ic],
        )
        thigh_l, knee_l = (v[0] for v in self._late_swing_angles(np.array([self.late_start])))
        after = self._late_swing_angles(np.array([self.late_start + eps]))
        thigh_rate_l, knee_rate_l = (after[0][0] - thigh_l) / eps, (after[1][0] - knee_l) / eps
        self.swing_thigh = CubicHermiteSpline(
            [0.0, self.late_start], [thigh_to, thigh_l], [thigh_rate_to, thigh_rate_l]
        )
        self.swing_knee = CubicHermiteSpline(
            [0.0, 0.4 * swing, self.late_start],
            [p.knee_to_deg, p.knee_swing_peak_deg, knee_l],
            [0.0, 0.0, knee_rate_l],
        )

    def _late_swing_angles(self, swing_time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(thigh angle, knee flexion) solving the landing ankle path at swing times."""
        p = self.p
        tau = swing_time - self.late_start
        # The pelvis height repeats every step; a leg's swing ends one stride after its own
        # contact began, so the step phase is (contact time + swing time) modulo the step.
        step_phase = np.mod(p.contact_s + swing_time, p.step_s)
        forward = self.late_forward(tau)
        drop = self._pelvis_height_at_step_phase(step_phase) - self.late_height(tau)
        reach = np.hypot(forward, drop)
        a, b = p.thigh_m, p.shank_m
        interior = np.degrees(np.arccos((a * a + b * b - reach**2) / (2 * a * b)))
        line = np.degrees(np.arctan2(forward, drop))
        inner = np.degrees(np.arccos((a * a + reach**2 - b * b) / (2 * a * reach)))
        return line + inner, 180.0 - interior

    # --- pelvis -------------------------------------------------------------------------------
    def _build_pelvis(self) -> None:
        p = self.p
        eps = 1e-5
        tc, flight = p.contact_s, p.step_s - p.contact_s
        y_to = self.stance_pose(np.array([tc]))[0][0]
        v_to = (y_to - self.stance_pose(np.array([tc - eps]))[0][0]) / eps
        y_ic = self.stance_pose(np.array([0.0]))[0][0]
        v_ic = (self.stance_pose(np.array([eps]))[0][0] - y_ic) / eps
        self.flight_pelvis = CubicHermiteSpline([0.0, flight], [y_to, y_ic], [v_to, v_ic])

    # --- whole body ---------------------------------------------------------------------------
    def leg_phase(self, t: np.ndarray, side: str) -> np.ndarray:
        """Time since this leg's last initial contact (in [0, stride))."""
        offset = self.p.first_contact_s + (0.0 if side == "left" else self.p.step_s)
        return np.mod(t - offset, self.p.stride_s)

    def leg_angles(self, t: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
        phase = self.leg_phase(t, side)
        stance = phase < self.p.contact_s
        thigh, knee = np.empty_like(phase), np.empty_like(phase)
        _, thigh[stance], knee[stance] = self.stance_pose(phase[stance])
        swing_time = phase[~stance] - self.p.contact_s
        early = swing_time < self.late_start
        swing_thigh, swing_knee = np.empty_like(swing_time), np.empty_like(swing_time)
        swing_thigh[early] = self.swing_thigh(swing_time[early])
        swing_knee[early] = self.swing_knee(swing_time[early])
        swing_thigh[~early], swing_knee[~early] = self._late_swing_angles(swing_time[~early])
        thigh[~stance], knee[~stance] = swing_thigh, swing_knee
        return thigh, knee

    def pelvis_height(self, t: np.ndarray) -> np.ndarray:
        return self._pelvis_height_at_step_phase(np.mod(t - self.p.first_contact_s, self.p.step_s))

    def _pelvis_height_at_step_phase(self, step_phase: np.ndarray) -> np.ndarray:
        height = np.empty_like(step_phase)
        stance = step_phase < self.p.contact_s
        height[stance] = self.stance_pose(step_phase[stance])[0]
        height[~stance] = self.flight_pelvis(step_phase[~stance] - self.p.contact_s)
        return height

    def pelvis_forward(self, t: np.ndarray) -> np.ndarray:
        return np.zeros_like(t) if self.treadmill else self.p.speed_mps * t

    def trunk_lean(self, t: np.ndarray) -> np.ndarray:
        p = self.p
        return p.trunk_lean_deg + p.trunk_lean_swing_deg * np.sin(
            2 * np.pi * (t - p.first_contact_s) / p.step_s
        )

    def arm_angles(self, t: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
        """(shoulder flexion vs trunk, elbow flexion): each arm swings with the opposite leg."""
        p = self.p
        phase = 2 * np.pi * self.leg_phase(t, side) / p.stride_s
        shoulder = -5.0 - p.shoulder_swing_deg * np.cos(phase - 0.3)
        elbow = p.elbow_flexion_deg + 12.0 * np.cos(phase - 0.3)
        return shoulder, elbow


def _down(angle_deg: np.ndarray, length: float) -> np.ndarray:
    """Vector of ``length`` at ``angle_deg`` from the downward vertical, forward positive."""
    a = np.radians(angle_deg)
    return np.stack([length * np.sin(a), -length * np.cos(a)], axis=-1)


def _up(angle_deg: np.ndarray, length: float) -> np.ndarray:
    a = np.radians(angle_deg)
    return np.stack([length * np.sin(a), length * np.cos(a)], axis=-1)


def _skeleton_world(model: _Gait, t: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(T, 17, 2) world positions and the exact angles at times ``t``."""
    p = model.p
    h = p.height_m
    pelvis = np.stack([model.pelvis_forward(t), model.pelvis_height(t)], axis=-1)
    lean = model.trunk_lean(t)
    shoulders = pelvis + _up(lean, 0.288 * h)
    head = shoulders + _up(lean, 0.13 * h / 1.75)
    world = np.zeros((len(t), 17, 2))
    forward = np.array([1.0, 0.0])
    world[:, 0] = head + 0.09 * forward - np.array([0.0, 0.02])
    world[:, 1] = world[:, 2] = head + 0.07 * forward + np.array([0.0, 0.02])
    world[:, 3] = world[:, 4] = head - 0.02 * forward
    angles: dict[str, np.ndarray] = {"trunk_lean": lean}
    for side, (sh, el, wr, hp, kn, an) in {
        "left": (5, 7, 9, 11, 13, 15),
        "right": (6, 8, 10, 12, 14, 16),
    }.items():
        thigh, knee = model.leg_angles(t, side)
        shank = thigh - knee
        hip = pelvis + np.array([_Gait.HIP_OFFSET[side], 0.0])
        world[:, hp] = hip
        world[:, kn] = hip + _down(thigh, p.thigh_m)
        world[:, an] = world[:, kn] + _down(shank, p.shank_m)
        shoulder_flexion, elbow_flexion = model.arm_angles(t, side)
        upper_arm = shoulder_flexion - lean
        forearm = upper_arm + elbow_flexion
        shoulder = shoulders + np.array([_Gait.HIP_OFFSET[side], 0.0])
        world[:, sh] = shoulder
        world[:, el] = shoulder + _down(upper_arm, 0.186 * h)
        world[:, wr] = world[:, el] + _down(forearm, 0.146 * h)
        angles[f"hip_flexion_{side}"] = thigh + lean
        angles[f"knee_flexion_{side}"] = knee
        angles[f"thigh_angle_{side}"] = thigh
        angles[f"shank_angle_{side}"] = shank
        angles[f"shoulder_flexion_{side}"] = shoulder_flexion
        angles[f"elbow_flexion_{side}"] = elbow_flexion
    return world, angles


def _foot_angle(model: _Gait, phase: np.ndarray) -> np.ndarray:
    """World foot angle (heel-to-toe line, toe up positive) over a leg's stride phase."""
    p = model.p
    tc, strike = p.contact_s, float(p.strike_angle_deg)
    settle, heel_off = p.settle_fraction * tc, p.heel_off_fraction * tc
    angle = np.zeros_like(phase)
    landing = phase < settle
    angle[landing] = strike * 0.5 * (1.0 + np.cos(np.pi * phase[landing] / settle))
    rolling = (phase >= heel_off) & (phase < tc)
    angle[rolling] = -p.foot_angle_to_deg * ((phase[rolling] - heel_off) / (tc - heel_off)) ** 2
    swing = phase >= tc
    u = (phase[swing] - tc) / (p.stride_s - tc)
    release = -p.foot_angle_to_deg
    angle[swing] = release + (strike - release) * 0.5 * (1.0 - np.cos(np.pi * u))
    return angle


def _rotate(vector: np.ndarray, angle_deg: np.ndarray) -> np.ndarray:
    """(forward, up) offsets (2,) turned by ``angle_deg`` (T,), toe-up positive: (T, 2)."""
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    return np.stack([vector[0] * c - vector[1] * s, vector[0] * s + vector[1] * c], axis=-1)


def _feet_world(model: _Gait, t: np.ndarray, ankles: dict[str, np.ndarray]) -> dict:
    """Heel and toe world positions per side, the foot rigid to the ankle except at landing.

    From IC until the foot is flat it turns about its heel (rearfoot strike) or its toe
    (forefoot strike) where that point touches the ground, the way a landing foot does; in the
    roll after heel-off it turns about the toe, as the stance ankle path already assumes.
    """
    a = model.ankle_height
    heel_offset, toe_offset = np.array([-0.3 * a, -a]), np.array([model.foot, -a])
    foot_length = float(np.linalg.norm(toe_offset - heel_offset))
    feet = {}
    for side, ankle in ankles.items():
        phase = model.leg_phase(t, side)
        angle = _foot_angle(model, phase)
        heel = ankle + _rotate(heel_offset, angle)
        toe = ankle + _rotate(toe_offset, angle)
        landing = phase < model.p.settle_fraction * model.p.contact_s
        direction = np.stack([np.cos(np.radians(angle)), np.sin(np.radians(angle))], axis=-1)
        heel_down = landing & (angle > 0)
        toe_down = landing & (angle < 0)
        flat_heel, flat_toe = ankle + heel_offset, ankle + toe_offset
        heel[heel_down] = flat_heel[heel_down]
        toe[heel_down] = flat_heel[heel_down] + foot_length * direction[heel_down]
        toe[toe_down] = flat_toe[toe_down]
        heel[toe_down] = flat_toe[toe_down] - foot_length * direction[toe_down]
        feet[side] = (heel, toe, angle)
    return feet


def _vertical_oscillation(model: _Gait, end_s: float) -> float:
    """Mean over whole steps of the detrended peak-to-peak pelvis excursion, in leg lengths."""
    p = model.p
    values = []
    start = p.first_contact_s
    while start + p.step_s <= end_s:
        t = np.linspace(start, start + p.step_s, 2001)
        y = model.pelvis_height(t)
        y = y - np.linspace(y[0], y[-1], len(y))
        values.append(y.max() - y.min())
        start += p.step_s
    return float(np.mean(values)) / p.leg_m


def generate_run(
    gait: GaitParameters | None = None, recording: Recording | None = None
) -> SyntheticRun:
    """Generate one clip. Deterministic for a given ``recording.seed``."""
    gait = gait or GaitParameters()
    recording = recording or Recording()
    model = _Gait(gait, recording.treadmill)
    frames = int(round(recording.duration_s * recording.fps))
    real_t = np.arange(frames) / recording.fps
    world, angles = _skeleton_world(model, real_t)
    world = as_pose_layout(np.concatenate([world, np.ones((frames, 17, 1))], axis=-1))[..., :2]
    feet_pairs: tuple[tuple[int, int], ...] = ()
    if gait.strike_angle_deg is not None:
        ankles = {side: world[:, ANKLE[side]] for side in ("left", "right")}
        for side, (heel, toe, angle) in _feet_world(model, real_t, ankles).items():
            world[:, HEEL[side]], world[:, TOE[side]] = heel, toe
            angles[f"foot_angle_{side}"] = angle
            angles[f"ankle_dorsiflexion_{side}"] = angle - angles[f"shank_angle_{side}"]
        feet_pairs = ((HEEL["left"], HEEL["right"]), (TOE["left"], TOE["right"]))
    joints = world.shape[1]

    s = recording.px_per_m
    origin_x = 540.0 if recording.treadmill else (200.0 if recording.facing > 0 else 2200.0)
    image = np.empty_like(world)
    image[..., 0] = origin_x + recording.facing * world[..., 0] * s
    image[..., 1] = 1000.0 - world[..., 1] * s
    clean = np.concatenate([image, np.ones((frames, joints, 1))], axis=-1)

    rng = np.random.default_rng(recording.seed)
    noisy = clean.copy()
    noisy[:, :17, :2] += rng.normal(0.0, recording.noise_px, (frames, 17, 2))
    noisy[:, :17, 2] = rng.uniform(0.6, 1.0, (frames, 17))
    # The feet draw from their own stream: adding them leaves the body's noise as it was.
    feet_rng = np.random.default_rng(recording.seed + 1000)
    noisy[:, 17:, :2] += feet_rng.normal(0.0, recording.noise_px, (frames, joints - 17, 2))
    noisy[:, 17:, 2] = np.where(
        np.isfinite(noisy[:, 17:, 0]), feet_rng.uniform(0.6, 1.0, (frames, joints - 17)), np.nan
    )
    leg_px = gait.leg_m * s
    _add_dropouts(noisy, rng, recording.dropouts, leg_px)
    _add_glitches(noisy, rng, recording.glitches, leg_px)
    swapped = {
        "legs": _add_swaps(
            noisy, rng, recording.leg_swaps, ((11, 12), (13, 14), (15, 16), *feet_pairs)
        ),
        "arms": _add_swaps(noisy, rng, recording.arm_swaps, ((5, 6), (7, 8), (9, 10))),
    }
    if recording.long_gap_s > 0:
        start = frames // 2
        stop = start + int(round(recording.long_gap_s * recording.fps))
        noisy[start:stop, 16] = np.nan

    contacts: dict[str, list[tuple[float, float]]] = {}
    for side in ("left", "right"):
        first = gait.first_contact_s + (0.0 if side == "left" else gait.step_s)
        ics = np.arange(first, real_t[-1], gait.stride_s)
        contacts[side] = [
            (float(ic), float(ic + gait.contact_s))
            for ic in ics
            if ic + gait.contact_s < real_t[-1]
        ]
    overstride = {
        side: (gait.overstride_m + _Gait.HIP_OFFSET[side]) / gait.leg_m
        for side in ("left", "right")
    }
    return SyntheticRun(
        keypoints=noisy,  # feet NaN unless gait.strike_angle_deg is set
        clean_keypoints=clean,
        video_times_s=real_t * recording.slowmo,
        real_times_s=real_t,
        angles=angles,
        contacts=contacts,
        gait=gait,
        recording=recording,
        leg_length_px=leg_px,
        vertical_oscillation_leg=_vertical_oscillation(model, real_t[-1]),
        overstride_leg=overstride,
        swapped_frames=swapped,
        model=model,
    )


def _add_dropouts(points: np.ndarray, rng: np.random.Generator, count: int, leg_px: float) -> None:
    """Low-confidence bursts whose positions are junk (the threshold must remove them)."""
    frames = len(points)
    for _ in range(count):
        joint = int(rng.integers(5, 17))
        start = int(rng.integers(0, frames - 3))
        length = int(rng.integers(1, 4))
        points[start : start + length, joint, :2] += rng.normal(0.0, 0.3 * leg_px, 2)
        points[start : start + length, joint, 2] = rng.uniform(0.0, 0.2)


def _add_glitches(points: np.ndarray, rng: np.random.Generator, count: int, leg_px: float) -> None:
    """A confident but wrong point for one frame (e.g. a knee jumping onto the other leg)."""
    frames = len(points)
    for _ in range(count):
        joint = int(rng.integers(5, 17))
        frame = int(rng.integers(0, frames))
        angle = rng.uniform(0.0, 2 * np.pi)
        points[frame, joint, :2] += 0.3 * leg_px * np.array([np.cos(angle), np.sin(angle)])


def _add_swaps(
    points: np.ndarray,
    rng: np.random.Generator,
    count: int,
    pairs: tuple[tuple[int, int], ...],
) -> np.ndarray:
    frames = len(points)
    swapped = np.zeros(frames, bool)
    for _ in range(count):
        length = int(rng.integers(1, 13))
        start = int(rng.integers(5, frames - length - 5))
        swapped[start : start + length] ^= True
    left = [a for a, _ in pairs]
    right = [b for _, b in pairs]
    original = points.copy()
    points[np.ix_(swapped, left)] = original[np.ix_(swapped, right)]
    points[np.ix_(swapped, right)] = original[np.ix_(swapped, left)]
    return swapped


# --- the test cases and the error table --------------------------------------------------------

CASES: dict[str, tuple[GaitParameters, Recording]] = {
    "treadmill_right_60fps": (GaitParameters(), Recording(seed=1)),
    "treadmill_left_60fps_corrupted": (
        GaitParameters(cadence_spm=180.0, contact_s=0.22),
        Recording(
            facing=-1, noise_px=1.5, dropouts=25, glitches=10, leg_swaps=8, arm_swaps=6, seed=2
        ),
    ),
    "overground_right_60fps_corrupted": (
        GaitParameters(cadence_spm=165.0, contact_s=0.25, speed_mps=3.2),
        Recording(
            treadmill=False,
            duration_s=3.0,
            noise_px=1.5,
            dropouts=20,
            glitches=8,
            leg_swaps=6,
            arm_swaps=4,
            seed=3,
        ),
    ),
    "overground_left_60fps": (
        GaitParameters(cadence_spm=175.0, contact_s=0.23, speed_mps=3.4, trunk_lean_deg=4.0),
        Recording(treadmill=False, facing=-1, duration_s=3.0, seed=4),
    ),
    "treadmill_right_240fps_slowmo8": (
        GaitParameters(cadence_spm=168.0, contact_s=0.26),
        Recording(fps=240.0, slowmo=8.0, noise_px=1.0, leg_swaps=6, glitches=10, seed=5),
    ),
    "treadmill_left_30fps": (
        GaitParameters(cadence_spm=172.0, contact_s=0.24),
        Recording(fps=30.0, facing=-1, duration_s=5.0, seed=6),
    ),
}


def case(name: str, **recording_changes) -> SyntheticRun:
    gait, recording = CASES[name]
    return generate_run(gait, replace(recording, **recording_changes))


def as_analysis(run: SyntheticRun) -> Analysis:
    """Wrap a synthetic clip as the engine would deliver it (one track, video times, slowmo)."""
    frames = len(run.keypoints)
    video_fps = run.recording.fps / run.recording.slowmo
    track = Track(
        track_id=1,
        keypoints=run.keypoints.astype(np.float32),
        boxes=np.full((frames, 4), np.nan, np.float32),
        scores=np.nanmean(run.keypoints[..., 2], axis=1).astype(np.float32),
    )
    video = VideoInfo(
        path=f"synthetic_{run.recording.seed}.mp4",
        width=2400,
        height=1200,
        fps=video_fps,
        frame_count=frames,
        duration_s=frames / video_fps,
    )
    return Analysis(
        video=video,
        times_s=run.video_times_s,
        tracks={1: track},
        subject_id=1,
        slowmo=run.recording.slowmo,
    )


@dataclass
class CaseErrors:
    """How far the pipeline's output is from the truth of one synthetic clip."""

    name: str
    fps: float
    cadence_pct: float
    ic_frames: np.ndarray  # signed frame errors of every matched initial contact
    to_frames: np.ndarray
    missed_events: int  # true events away from the clip ends with no detection within 3 frames
    extra_events: int  # detections with no true event within 3 frames
    angle_mae_deg: dict[str, float]  # mean absolute error per angle over the clip
    angle_max_deg: dict[str, float]
    metric_errors: dict[str, float]  # summary mean minus truth, in the metric's unit

    @property
    def event_frames_abs(self) -> np.ndarray:
        return np.abs(np.concatenate([self.ic_frames, self.to_frames]))


EDGE_S = 0.15  # filter edge effects and events cut by the clip ends are not scored


def evaluate(run: SyntheticRun, name: str = "") -> CaseErrors:
    """Run the whole report pipeline on a synthetic clip and compare with the truth."""
    report = build_report(as_analysis(run))
    fps = run.recording.fps
    t = run.real_times_s
    inner = (t > t[0] + EDGE_S) & (t < t[-1] - EDGE_S)
    errors_by_kind: dict[str, list[int]] = {"IC": [], "TO": []}
    missed = extra = 0
    for side in ("left", "right"):
        for kind, column in (("IC", 0), ("TO", 1)):
            truth = np.array([pair[column] for pair in run.contacts[side]])
            found = np.array([e.frame for e in report.gait.of(side, kind)])
            truth_frames = np.rint((truth - t[0]) * fps).astype(int)
            for true_frame, true_time in zip(truth_frames, truth, strict=True):
                near = found[np.abs(found - true_frame) <= 3] if found.size else found
                if near.size:
                    errors_by_kind[kind].append(
                        int(near[np.argmin(np.abs(near - true_frame))] - true_frame)
                    )
                elif t[0] + EDGE_S < true_time < t[-1] - EDGE_S:
                    missed += 1
            for frame in found:
                if not truth_frames.size or np.min(np.abs(truth_frames - frame)) > 3:
                    extra += 1
    mae, worst = {}, {}
    for angle, values in report.angles.items():
        if angle not in run.angles:  # the foot angles: a runner without feet has none
            if np.isfinite(values).any():
                raise AssertionError(f"{angle} from a runner without feet")
            continue
        error = np.abs(values - run.angles[angle])[inner]
        error = error[np.isfinite(error)]
        mae[angle] = float(error.mean()) if error.size else float("nan")
        worst[angle] = float(error.max()) if error.size else float("nan")
    return CaseErrors(
        name=name,
        fps=fps,
        cadence_pct=100.0 * (report.summary["cadence_spm"].mean / run.gait.cadence_spm - 1.0),
        ic_frames=np.array(errors_by_kind["IC"], int),
        to_frames=np.array(errors_by_kind["TO"], int),
        missed_events=missed,
        extra_events=extra,
        angle_mae_deg=mae,
        angle_max_deg=worst,
        metric_errors=_metric_errors(run, report),
    )


def _metric_errors(run: SyntheticRun, report) -> dict[str, float]:
    g = run.gait
    contacts = [pair for side in ("left", "right") for pair in run.contacts[side]]
    ics = np.array([ic for ic, _ in contacts])
    tos = np.array([to for _, to in contacts])
    at_to = run.true_angles_at(tos)
    sides = [side for side in ("left", "right") for _ in run.contacts[side]]
    hip_extension = np.mean([-at_to[f"hip_flexion_{side}"][k] for k, side in enumerate(sides)])
    lean = np.mean(
        [
            np.mean(run.true_angles_at(np.linspace(a, b, 50))["trunk_lean"])
            for a, b in zip(ics, tos, strict=True)
        ]
    )
    truth = {
        "contact_time_ms": 1000.0 * g.contact_s,
        "flight_time_ms": 1000.0 * (g.step_s - g.contact_s),
        "duty_factor": g.contact_s / g.stride_s,
        "knee_flexion_ic_deg": g.knee_ic_deg,
        "peak_knee_flexion_stance_deg": g.knee_stance_peak_deg,
        "hip_extension_to_deg": hip_extension,
        "trunk_lean_deg": lean,
        "overstride": float(np.mean(list(run.overstride_leg.values()))),
        "vertical_oscillation": run.vertical_oscillation_leg,
    }
    return {key: report.summary[key].mean - value for key, value in truth.items()}


def error_table(names: list[str] | None = None) -> tuple[list[CaseErrors], str]:
    """Evaluate the test cases and format the error table (text)."""
    results = [evaluate(case(name), name) for name in (names or list(CASES))]
    lines = [
        f"{'case':34s} {'fps':>4s} {'cad %':>6s} {'IC fr max/mean':>15s} {'TO fr max/mean':>15s}"
        f" {'miss/extra':>10s} {'angle MAE max/mean':>19s} {'event-angle max':>15s}"
        f" {'contact ms':>10s}"
    ]
    angle_keys = (
        "knee_flexion_ic_deg",
        "peak_knee_flexion_stance_deg",
        "hip_extension_to_deg",
        "trunk_lean_deg",
    )
    for r in results:
        mae = np.array(list(r.angle_mae_deg.values()))
        event_angle = max(abs(r.metric_errors[k]) for k in angle_keys)
        lines.append(
            f"{r.name:34s} {r.fps:4.0f} {r.cadence_pct:+6.2f}"
            f" {_max_mean(r.ic_frames):>15s} {_max_mean(r.to_frames):>15s}"
            f" {r.missed_events:>4d}/{r.extra_events:<5d}"
            f" {np.nanmax(mae):9.2f}/{np.nanmean(mae):<9.2f} {event_angle:15.2f}"
            f" {r.metric_errors['contact_time_ms']:+10.1f}"
        )
    all_ic = np.concatenate([r.ic_frames for r in results])
    all_to = np.concatenate([r.to_frames for r in results])
    all_mae = np.array([v for r in results for v in r.angle_mae_deg.values()])
    cadence = np.abs([r.cadence_pct for r in results])
    lines.append(
        f"{'ALL (max / mean)':34s} {'':4s} {cadence.max():6.2f}"
        f" {_max_mean(all_ic):>15s} {_max_mean(all_to):>15s}"
        f" {sum(r.missed_events for r in results):>4d}/{sum(r.extra_events for r in results):<5d}"
        f" {np.nanmax(all_mae):9.2f}/{np.nanmean(all_mae):<9.2f}"
        f" {max(max(abs(r.metric_errors[k]) for k in angle_keys) for r in results):15.2f}"
        f" {max(abs(r.metric_errors['contact_time_ms']) for r in results):10.1f}"
    )
    lines.append(
        f"(mean |cadence error| {cadence.mean():.2f} %; frame errors are in each clip's own frames)"
    )
    return results, "\n".join(lines)


def _max_mean(errors: np.ndarray) -> str:
    if not errors.size:
        return "-"
    return f"{np.abs(errors).max():d}/{np.abs(errors).mean():.2f}"


if __name__ == "__main__":
    print(error_table()[1])
