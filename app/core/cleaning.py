"""Turn a raw pose track into one fit for joint angles and gait events.

Each kind of estimator error is handled by one step, in this order (each relies on the
previous ones; docs/kinematics.md explains the choices):

1. **Low confidence**: points under ``min_score`` are dropped (NaN) rather than trusted.
2. **Impossible points**: a knee or ankle (elbow or wrist) that makes its segment much longer or
   shorter than usual in the clip, or a leg drawn where no runner puts it (the estimator lost
   the far leg and drew it on a treadmill console), is dropped.
3. **Merged pairs**: frames where a left/right pair as a whole jumps (both legs drawn on one) are
   dropped for that pair, by a test blind to left/right swaps so it cannot mistake one for them.
4. **Left/right swaps** of the leg chain (hip, knee, ankle, heel, toe: the feet go with their
   legs) and of the arm chain, found by a two-state Viterbi pass over the
   whole clip that scores the accelerations of every joint of both sides together: a swap makes
   all of them jump at once, whereas the legs' real crossings (twice a stride in a side view)
   are smooth with the true labels and become velocity reversals with exchanged ones.
5. **Glitches** of single joints, by comparing each point with the midpoints of its symmetric
   neighbours (a second-difference test that, unlike a running median, fast motion does not
   fool).
6. **Short gaps** (up to ``max_gap_s`` of real time) are bridged by shape-preserving cubic
   (PCHIP) interpolation; longer gaps stay NaN.
7. **Noise**: a zero-lag Butterworth low-pass (``scipy.signal.butter`` + ``filtfilt``) applied to
   each finite run separately, sampled in *real* time so slow-motion footage is filtered at its
   true capture rate, with variable frame rates resampled onto a uniform grid.

Everything is a pure function of arrays; times are real (slow-motion corrected) seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import maximum_filter1d
from scipy.signal import butter, filtfilt

from app.core.kinematics import (
    ANKLE,
    ELBOW,
    HEEL,
    HIP,
    KNEE,
    SHOULDER,
    TOE,
    WRIST,
    facing_direction,
    leg_length_px,
)
from app.core.nanstats import nanmedian
from app.core.options import DEFAULT_CUTOFF_HZ, LIMITS
from app.core.run_filters import indices_in_ranges
from rhpnet.skeleton import NUM_POSE_KEYPOINTS, as_pose_layout


def _pairs(*joints: dict[str, int]) -> tuple[tuple[int, int], ...]:
    return tuple((joint["left"], joint["right"]) for joint in joints)


# A swap exchanges whole chains: the feet travel with their legs.
LEG_PAIRS: tuple[tuple[int, int], ...] = _pairs(HIP, KNEE, ANKLE, HEEL, TOE)
ARM_PAIRS: tuple[tuple[int, int], ...] = _pairs(SHOULDER, ELBOW, WRIST)
SWAP_GROUPS: dict[str, tuple[tuple[int, int], ...]] = {
    "legs": LEG_PAIRS,
    "arms": ARM_PAIRS,
}

# Winter's correction: a forward-backward pass squares the magnitude response, so the -3 dB point
# of the single-pass design moves down; dividing the pre-warped cutoff by this factor puts the
# -3 dB point of the two-pass filter back at the requested cutoff (Winter 2009, chapter 3).
_TWO_PASS_CORRECTION = (2.0 ** (1.0 / 2.0) - 1.0) ** 0.25
# Second differences are scored in units of their robust spread; beyond this many spreads the cost
# grows linearly (Huber), so one wild point cannot outweigh a whole chain of consistent evidence.
_HUBER_K = 3.0


@dataclass(frozen=True)
class CleaningSettings:
    """Knobs of :func:`clean_track`; the defaults suit running video at 25-240 fps.

    filter_order is the order of the *whole* zero-lag filter: ``filtfilt`` runs a Butterworth of
    half that order forwards and backwards, so the default 4 means a 2nd-order design applied
    twice (the usual "4th-order zero-lag Butterworth" of biomechanics).
    """

    min_score: float = 0.3
    max_gap_s: float = 0.1
    cutoff_hz: float | None = DEFAULT_CUTOFF_HZ
    filter_order: int = 4
    repair_swaps: bool = True
    swap_penalty: float = 12.0
    swap_frame_penalty: float = 6.0
    remove_glitches: bool = True
    glitch_reach_s: float = 0.02
    glitch_threshold: float = 6.0
    glitch_floor: float = 0.06
    bone_length_tolerance: float = 0.3

    def __post_init__(self) -> None:
        if self.filter_order < 2 or self.filter_order % 2:
            raise ValueError("filter_order must be an even number >= 2 (filtfilt doubles it)")
        if self.cutoff_hz is not None and not LIMITS.cutoff_hz.accepts(self.cutoff_hz):
            raise ValueError(f"cutoff_hz must be {LIMITS.cutoff_hz.requirement} or None")


@dataclass
class CleanedTrack:
    """A cleaned copy of one person's track and what was done to it.

    keypoints: (T, K, 3) pose-layout x, y in pixels and the estimator's score; interpolated points get score
        0.0 (drawn faded), dropped points are NaN.
    unsmoothed_keypoints: the same before the low-pass filter, for values read *at* an impact
        (initial contact), which a low-pass smears (see ``metrics.value_at_event``).
    swapped: {group: (T,) bool} frames whose left/right labels were exchanged.
    glitches: (T, K) bool points removed as glitches.
    interpolated: (T, K) bool points filled by gap interpolation.
    unfiltered: (T, K) bool finite points in runs too short for the low-pass filter.
    sample_rate_hz: real-time sampling rate the filter used (median of the frame intervals; NaN
        for a single frame).
    """

    keypoints: np.ndarray
    unsmoothed_keypoints: np.ndarray
    times_s: np.ndarray
    swapped: dict[str, np.ndarray]
    glitches: np.ndarray
    interpolated: np.ndarray
    unfiltered: np.ndarray
    sample_rate_hz: float
    settings: CleaningSettings = field(default_factory=CleaningSettings)


def clean_track(
    keypoints: np.ndarray, real_times_s: np.ndarray, settings: CleaningSettings | None = None
) -> CleanedTrack:
    """Run every cleaning step on a (T, K, 3) track sampled at ``real_times_s`` (seconds).

    K is the pose layout (COCO-17 + feet); a COCO-17 track gets NaN feet.
    """
    settings = settings or CleaningSettings()
    times = np.asarray(real_times_s, np.float64)
    points = np.array(keypoints, np.float64, copy=True)
    if points.ndim == 3:
        points = as_pose_layout(points)
    if points.ndim != 3 or points.shape[1:] != (NUM_POSE_KEYPOINTS, 3) or len(points) != len(times):
        raise ValueError(
            f"keypoints must be (T, {NUM_POSE_KEYPOINTS}, 3) in the pose layout with one time "
            "per frame"
        )
    # A single frame (a photo) has no frame rate: only the steps that need no motion apply.
    sample_rate = sampling_rate_hz(times) if len(times) > 1 else math.nan
    timed = math.isfinite(sample_rate)

    points = drop_low_confidence(points, settings.min_score)
    scale = leg_length_px(points)
    usable = np.isfinite(scale)
    moving = usable and timed
    reach = max(1, int(round(settings.glitch_reach_s * sample_rate))) if timed else 1
    floor_px = settings.glitch_floor * scale
    glitches = np.zeros(points.shape[:2], bool)
    if settings.remove_glitches and usable:
        glitches |= find_bad_bone_lengths(points, settings.bone_length_tolerance)
        glitches |= find_impossible_legs(points, facing_direction(points, times))
        points[glitches] = np.nan
    if settings.remove_glitches and moving:
        glitches |= _pair_glitch_mask(points, scale, reach, settings.glitch_threshold, floor_px)
        points[glitches] = np.nan

    swapped = {name: np.zeros(len(points), bool) for name in SWAP_GROUPS}
    if settings.repair_swaps and moving:
        for name, pairs in SWAP_GROUPS.items():
            points, swapped[name] = repair_left_right_swaps(
                points, pairs, scale, settings.swap_penalty, settings.swap_frame_penalty
            )

    if settings.remove_glitches and moving:
        single = find_glitches(points[..., :2], reach, settings.glitch_threshold, floor_px)
        points[single] = np.nan
        glitches |= single

    points, interpolated = fill_short_gaps(points, times, settings.max_gap_s)
    unsmoothed = points.copy()
    unfiltered = np.zeros(points.shape[:2], bool)
    if settings.cutoff_hz is not None and timed:
        points[..., :2], unfiltered = lowpass_filter(
            points[..., :2], times, settings.cutoff_hz, settings.filter_order
        )
    elif settings.cutoff_hz is not None:
        unfiltered = np.isfinite(points[..., :2]).all(axis=-1)
    return CleanedTrack(
        keypoints=points,
        unsmoothed_keypoints=unsmoothed,
        times_s=times,
        swapped=swapped,
        glitches=glitches,
        interpolated=interpolated,
        unfiltered=unfiltered,
        sample_rate_hz=sample_rate,
        settings=settings,
    )


def sampling_rate_hz(real_times_s: np.ndarray) -> float:
    """Real-time frame rate from the median frame interval (robust to a few dropped frames)."""
    steps = np.diff(np.asarray(real_times_s, np.float64))
    steps = steps[np.isfinite(steps) & (steps > 0)]
    if steps.size == 0:
        raise ValueError("need at least two increasing frame times")
    return float(1.0 / np.median(steps))


def drop_low_confidence(points: np.ndarray, min_score: float) -> np.ndarray:
    """NaN out points whose score is below ``min_score`` (or missing)."""
    points = np.array(points, np.float64, copy=True)
    low = ~(points[..., 2] >= min_score)
    points[low] = np.nan
    return points


def repair_left_right_swaps(
    points: np.ndarray,
    pairs: tuple[tuple[int, int], ...],
    scale_px: float,
    switch_penalty: float,
    frame_penalty: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Exchange left/right labels of a limb chain where that makes the motion markedly smoother.

    State ``s_t`` says whether frame ``t``'s labels are exchanged. The cost of a labelling is the
    sum, over every joint of the chain and both sides, of the Huber-scored second difference of the
    relabelled positions, plus ``switch_penalty`` per change of state and ``frame_penalty`` per
    exchanged frame. Because all joints of both
    sides are scored together, an estimator swap (every joint of both chains jumps at once) is
    cheap to undo, while a real crossing of the legs is smooth only with the labels as they are.
    The optimum over the whole clip is found exactly with a Viterbi pass over pairs of states.
    Returns the repaired copy and the (T,) mask of exchanged frames.
    """
    left = np.array([a for a, _ in pairs])
    right = np.array([b for _, b in pairs])
    xy_left = points[:, left, :2] / scale_px
    xy_right = points[:, right, :2] / scale_px
    frames = len(points)
    if frames < 3:
        return points, np.zeros(frames, bool)

    spread = _second_difference_spread(xy_left, xy_right)
    costs = _triple_costs(xy_left, xy_right, spread)
    states = _viterbi_two_state(costs, switch_penalty, frame_penalty)
    repaired = np.array(points, copy=True)
    swap = states.astype(bool)
    repaired[np.ix_(swap, left)] = points[np.ix_(swap, right)]
    repaired[np.ix_(swap, right)] = points[np.ix_(swap, left)]
    return repaired, swap


def _second_difference_spread(xy_left: np.ndarray, xy_right: np.ndarray) -> float:
    """Median size of a frame-to-frame second difference: what ordinary motion plus noise is."""
    both = np.concatenate([xy_left, xy_right], axis=1)
    second = both[2:] - 2.0 * both[1:-1] + both[:-2]
    size = np.linalg.norm(second, axis=-1)
    size = size[np.isfinite(size)]
    floor = 2e-3  # 0.2 % of the leg: below any real noise, keeps the scale away from zero
    return max(float(np.median(size)) if size.size else floor, floor)


def _huber(residual: np.ndarray) -> np.ndarray:
    absolute = np.abs(residual)
    return np.where(absolute <= _HUBER_K, 0.5 * absolute**2, _HUBER_K * (absolute - 0.5 * _HUBER_K))


def _triple_costs(xy_left: np.ndarray, xy_right: np.ndarray, spread: float) -> np.ndarray:
    """cost[t, a, b, c]: smoothness cost at frame t for states a, b, c at t-2, t-1, t."""
    frames = len(xy_left)
    labelled = (np.stack([xy_left, xy_right]), np.stack([xy_right, xy_left]))  # by state
    costs = np.zeros((frames, 2, 2, 2))
    for a in (0, 1):
        for b in (0, 1):
            for c in (0, 1):
                second = labelled[c][:, 2:] - 2.0 * labelled[b][:, 1:-1] + labelled[a][:, :-2]
                size = np.linalg.norm(second, axis=-1) / spread
                term = np.where(np.isfinite(size), _huber(np.nan_to_num(size)), 0.0)
                costs[2:, a, b, c] = term.sum(axis=(0, 2))
    return costs


def _viterbi_two_state(costs: np.ndarray, switch_penalty: float, bias: float) -> np.ndarray:
    """Cheapest state sequence for second-order costs, via first-order Viterbi on state pairs.

    ``bias`` is charged for every exchanged frame: the estimator's labels are right most of the
    time, so exchanging a long stretch needs evidence at its ends that outweighs its length.
    Without it, relabelling a whole stretch would cost nothing inside it (the sum over both sides
    does not change) and a single ambiguous frame could flip everything after it.
    """
    frames = len(costs)
    step = ((0.0, switch_penalty), (switch_penalty, 0.0))
    # value[b][c]: best total cost with states b at t-1 and c at t. The clip is taken to start
    # and end with the estimator's labels, so a swap touching either end still pays its switch.
    value = [[switch_penalty * b + step[b][c] + bias * (b + c) for c in (0, 1)] for b in (0, 1)]
    (v00, v01), (v10, v11) = value
    # The extra cost of reaching state pair (b, c): a switch, and the bias of an exchanged frame.
    e00, e01 = step[0][0] + bias * 0, step[0][1] + bias * 1
    e10, e11 = step[1][0] + bias * 0, step[1][1] + bias * 1
    # Plain floats, unrolled: eight sums a frame, where numpy's per-call cost would dominate.
    # cABC is cost[t][a][b][c]; back[t - 2][2 b + c] is the best a. Ties keep a = 0, as argmin.
    back: list[tuple[int, int, int, int]] = []
    for (c000, c001), (c010, c011), (c100, c101), (c110, c111) in (
        (by_a[0][0], by_a[0][1], by_a[1][0], by_a[1][1]) for by_a in costs.tolist()[2:]
    ):
        stay, moved = v00 + c000 + e00, v10 + c100 + e00
        n00, a00 = (moved, 1) if moved < stay else (stay, 0)
        stay, moved = v00 + c001 + e01, v10 + c101 + e01
        n01, a01 = (moved, 1) if moved < stay else (stay, 0)
        stay, moved = v01 + c010 + e10, v11 + c110 + e10
        n10, a10 = (moved, 1) if moved < stay else (stay, 0)
        stay, moved = v01 + c011 + e11, v11 + c111 + e11
        n11, a11 = (moved, 1) if moved < stay else (stay, 0)
        back.append((a00, a01, a10, a11))
        v00, v01, v10, v11 = n00, n01, n10, n11
    final = np.array([[v00, v01], [v10, v11]]) + switch_penalty * np.arange(2)[None, :]
    b, c = (int(i) for i in np.unravel_index(int(np.argmin(final)), (2, 2)))
    states = [0] * frames
    states[-1], states[-2] = c, b
    for t in range(frames - 1, 1, -1):
        states[t - 2] = back[t - 2][2 * states[t - 1] + states[t]]
    return np.array(states, np.int8)


def find_glitches(
    xy: np.ndarray, reach: int, threshold: float, floor_px: float, rounds: int = 3
) -> np.ndarray:
    """(T, K) mask of points that disagree with their neighbours on both sides.

    Each point is compared with the median of the midpoints of its symmetric neighbours
    ``(x[t-i] + x[t+i]) / 2`` for ``i = 1..reach``: for smooth motion, fast or slow, those
    midpoints sit on the point, so what is left is noise plus a little curvature, whereas a point
    that jumped stands out by the size of its jump. A point is flagged when its residual exceeds
    ``threshold`` times the joint's typical residual over the clip (never less than ``floor_px``)
    and is the largest within ``reach`` frames (its neighbours' residuals are raised by it).
    Flagged points are removed and the test repeated, which peels off glitches lasting two or
    three frames one point at a time.
    """
    xy = np.array(xy, np.float64, copy=True)
    glitch = np.zeros(xy.shape[:2], bool)
    for _ in range(rounds):
        found = _glitch_round(xy, reach, threshold, floor_px)
        if not found.any():
            break
        glitch |= found
        xy[found] = np.nan
    return glitch


def _glitch_round(xy: np.ndarray, reach: int, threshold: float, floor_px: float) -> np.ndarray:
    frames, joints = xy.shape[:2]
    glitch = np.zeros((frames, joints), bool)
    if frames < 2 * reach + 1:
        return glitch
    inner = slice(reach, frames - reach)
    midpoints = np.stack(
        [
            0.5 * (xy[reach - i : frames - reach - i] + xy[reach + i : frames - reach + i])
            for i in range(1, reach + 1)
        ]
    )  # (reach, T - 2 reach, K, 2)
    predicted = nanmedian(midpoints, axis=0)
    residual = np.full((frames, joints), np.nan)
    residual[inner] = np.linalg.norm(xy[inner] - predicted, axis=-1)
    finite = np.isfinite(residual)
    limit = np.maximum(threshold * nanmedian(residual, axis=0), floor_px)
    neighbourhood = maximum_filter1d(
        np.where(finite, residual, -np.inf), 2 * reach + 1, axis=0, mode="constant", cval=-np.inf
    )
    with np.errstate(invalid="ignore"):
        glitch = finite & (residual > limit) & (residual >= neighbourhood)
    glitch[:, finite.sum(axis=0) < 3] = False
    return glitch


LEG_CHAINS: tuple[tuple[int, int, int], ...] = tuple(
    (HIP[side], KNEE[side], ANKLE[side]) for side in ("left", "right")
)
LIMB_CHAINS: tuple[tuple[int, int, int], ...] = LEG_CHAINS + tuple(
    (SHOULDER[side], ELBOW[side], WRIST[side]) for side in ("left", "right")
)
# Foot points hang on their ankle: when the ankle is condemned, so are they.
FOOT_POINTS: dict[int, tuple[int, int]] = {
    ANKLE[side]: (HEEL[side], TOE[side]) for side in ("left", "right")
}


def find_bad_bone_lengths(points: np.ndarray, tolerance: float) -> np.ndarray:
    """(T, K) mask of knees/ankles (elbows/wrists) that make a limb segment the wrong length.

    In a side view the projected thigh and shank keep nearly their length (within about 15 %
    over a stride), whereas an estimator that loses a far leg often puts its ankle on the knee
    or its knee on the other leg, for many frames in a row in slow motion, where continuity
    tests cannot see it. A segment whose length is off its clip median by more than
    ``tolerance`` (as a fraction) condemns its distal point; when the upper segment is off, the
    middle joint and the distal point both go (the distal point's position is then unverifiable).
    """
    bad = np.zeros(points.shape[:2], bool)
    for proximal, middle, distal in LIMB_CHAINS:
        upper = np.linalg.norm(points[:, middle, :2] - points[:, proximal, :2], axis=-1)
        lower = np.linalg.norm(points[:, distal, :2] - points[:, middle, :2], axis=-1)
        upper_bad = _off_median(upper, tolerance)
        lower_bad = _off_median(lower, tolerance)
        bad[:, middle] |= upper_bad
        bad[:, distal] |= upper_bad | lower_bad
    return _with_feet_of_bad_ankles(bad)


def _with_feet_of_bad_ankles(bad: np.ndarray) -> np.ndarray:
    for ankle, feet in FOOT_POINTS.items():
        for foot in feet:
            bad[:, foot] |= bad[:, ankle]
    return bad


def _off_median(lengths: np.ndarray, tolerance: float) -> np.ndarray:
    finite = np.isfinite(lengths)
    if finite.sum() < 3:
        return np.zeros(len(lengths), bool)
    ratio = lengths / np.median(lengths[finite])
    with np.errstate(invalid="ignore"):
        return finite & (np.abs(ratio - 1.0) > tolerance)


# Segment angles no running stride reaches (degrees from the downward vertical, forward positive):
# the thigh never rises above horizontal in front or beyond 60 deg behind; the shank never points
# more than 60 deg forward (the ankle ahead of and up towards the knee), which is exactly where an
# estimator that has lost a leg tends to put it (on a treadmill's console or handrail).
THIGH_RANGE_DEG = (-60.0, 90.0)
SHANK_RANGE_DEG = (-170.0, 60.0)


def find_impossible_legs(points: np.ndarray, facing: np.ndarray) -> np.ndarray:
    """(T, K) mask of knees and ankles (and their feet) that put a leg in a position no runner
    takes."""
    bad = np.zeros(points.shape[:2], bool)
    for hip, knee, ankle in LEG_CHAINS:
        thigh = _segment_angle(points[:, hip, :2], points[:, knee, :2], facing)
        shank = _segment_angle(points[:, knee, :2], points[:, ankle, :2], facing)
        with np.errstate(invalid="ignore"):
            thigh_bad = (thigh < THIGH_RANGE_DEG[0]) | (thigh > THIGH_RANGE_DEG[1])
            shank_bad = (shank < SHANK_RANGE_DEG[0]) | (shank > SHANK_RANGE_DEG[1])
        bad[:, knee] |= thigh_bad
        bad[:, ankle] |= thigh_bad | shank_bad
    return _with_feet_of_bad_ankles(bad)


def _segment_angle(proximal: np.ndarray, distal: np.ndarray, facing: np.ndarray) -> np.ndarray:
    """Angle from the downward vertical in degrees, positive when the distal end is in front."""
    vector = distal - proximal
    return np.degrees(np.arctan2(vector[:, 0] * facing, vector[:, 1]))


def _pair_glitch_mask(
    points: np.ndarray, scale_px: float, reach: int, threshold: float, floor_px: float
) -> np.ndarray:
    """(T, K) mask: both points of every left/right pair that jumps as a whole."""
    pairs = LEG_PAIRS + ARM_PAIRS
    collapsed = find_pair_glitches(points[..., :2], pairs, scale_px, reach, threshold, floor_px)
    mask = np.zeros(points.shape[:2], bool)
    for k, (left, right) in enumerate(pairs):
        mask[collapsed[:, k], left] = mask[collapsed[:, k], right] = True
    return mask


def find_pair_glitches(
    xy: np.ndarray,
    pairs: tuple[tuple[int, int], ...],
    scale_px: float,
    reach: int,
    threshold: float,
    floor_px: float,
) -> np.ndarray:
    """(T, len(pairs)) mask of frames where a left/right pair as a whole jumps.

    Pose estimators sometimes collapse both legs onto one for a frame (both knees in the middle).
    Such a frame is not a swap, but to a continuity test it can look like the end of one, so it
    is removed before swaps are repaired. The test must not react to swaps, so it looks at a
    signal that does not change when left and right are exchanged: the square of the left-right
    difference taken as a complex number, divided by the leg length ``scale_px`` to be in pixels
    again: ``(dx + i dy)^2 / scale_px``, the same for ``d`` and ``-d``, and smooth when the legs
    cross.
    """
    differences = np.stack([xy[:, a] - xy[:, b] for a, b in pairs], axis=1)
    dx, dy = differences[..., 0], differences[..., 1]
    squared = np.stack([dx * dx - dy * dy, 2.0 * dx * dy], axis=-1) / scale_px
    return find_glitches(squared, reach, threshold, floor_px)


def fill_short_gaps(
    points: np.ndarray, times: np.ndarray, max_gap_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate NaN runs of each joint whose bounding samples are at most ``max_gap_s`` apart.

    PCHIP (shape-preserving cubic) through all finite samples of the joint, evaluated only inside
    short interior gaps: it follows curved joint paths better than straight lines and never
    overshoots. Filled points get score 0.0.
    """
    points = np.array(points, copy=True)
    filled = np.zeros(points.shape[:2], bool)
    for joint in range(points.shape[1]):
        finite = np.isfinite(points[:, joint, :2]).all(axis=1)
        if finite.sum() < 2:
            continue
        known = np.flatnonzero(finite)
        gap_after = np.flatnonzero(np.diff(known) > 1)
        starts, stops = known[gap_after], known[gap_after + 1]
        short = times[stops] - times[starts] <= max_gap_s + 1e-9
        if not short.any():
            continue
        gap_after, starts, stops = gap_after[short], starts[short], stops[short]
        fill = indices_in_ranges(starts + 1, stops)
        # PCHIP's slope at a sample rests on its two neighbours (at either end of the samples,
        # on the next two): the sample before each gap, its two ends and the one after give
        # exactly the whole curve's values inside it, at a fraction of the cost on a long clip.
        around = np.clip(gap_after[:, None] + np.arange(-1, 3)[None, :], 0, len(known) - 1)
        used = known[np.unique(around)]
        curve = PchipInterpolator(times[used], points[used, joint, :2], axis=0)
        points[fill, joint, :2] = curve(times[fill])
        points[fill, joint, 2] = 0.0
        filled[fill, joint] = True
    return points, filled


def lowpass_filter(
    xy: np.ndarray, times: np.ndarray, cutoff_hz: float, order: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Zero-lag Butterworth low-pass of every finite run of every coordinate.

    ``order`` is the overall order after the forward and backward passes. The cutoff is corrected
    for the two passes (Winter) so the -3 dB point lands on ``cutoff_hz``. Sampling is real time.
    Frame intervals that vary by more than 10 % (variable-frame-rate phone video, dropped frames)
    are handled by resampling the run onto a uniform grid at the median interval, filtering there,
    and interpolating back onto the original frames, so outputs stay frame-aligned. Runs too short
    for ``filtfilt``'s padding are returned unfiltered and flagged. If the cutoff is at or above
    the Nyquist rate the data are returned unchanged (nothing to remove).
    """
    xy = np.array(xy, np.float64, copy=True)
    unfiltered = np.zeros(xy.shape[:2], bool)
    rate = sampling_rate_hz(times)
    design = _two_pass_design_frequency(cutoff_hz, rate)
    if design is None:
        return xy, unfiltered
    b, a = butter(order // 2, design, btype="low", fs=rate)
    padlen = 3 * max(len(a), len(b))
    # filtfilt works column by column and costs mostly per call: evenly sampled runs of the same
    # length, of any joints, are filtered together as the columns of one array.
    even_runs: dict[int, list[tuple[int, int]]] = {}
    for joint in range(xy.shape[1]):
        for start, stop in _runs(np.isfinite(xy[:, joint]).all(axis=1)):
            run = slice(start, stop)
            if stop - start <= padlen:
                unfiltered[run, joint] = True
            elif _evenly_sampled(times[run], rate):
                even_runs.setdefault(stop - start, []).append((start, joint))
            else:
                xy[run, joint] = _filter_run(xy[run, joint], times[run], b, a, rate)
    for length, runs in even_runs.items():
        rows = np.array([start for start, _ in runs])[None, :] + np.arange(length)[:, None]
        joints = np.array([joint for _, joint in runs])[None, :]
        xy[rows, joints] = filtfilt(b, a, xy[rows, joints], axis=0)
    return xy, unfiltered


def _evenly_sampled(times: np.ndarray, rate: float) -> bool:
    """Frame intervals all within 10 % of the median one (no dropped or doubled frames)."""
    step = 1.0 / rate
    return bool(np.all(np.abs(np.diff(times) - step) <= 0.1 * step))


def _two_pass_design_frequency(cutoff_hz: float, rate_hz: float) -> float | None:
    """Single-pass design cutoff whose forward-backward -3 dB point is ``cutoff_hz``."""
    nyquist = rate_hz / 2.0
    if cutoff_hz >= 0.95 * nyquist:
        return None
    warped = np.tan(np.pi * cutoff_hz / rate_hz) / _TWO_PASS_CORRECTION
    design = float(np.arctan(warped) * rate_hz / np.pi)
    return min(design, 0.95 * nyquist)


def _filter_run(values: np.ndarray, times: np.ndarray, b, a, rate: float) -> np.ndarray:
    """filtfilt of an unevenly sampled run: on a uniform grid, interpolated back."""
    step = 1.0 / rate
    grid = np.arange(times[0], times[-1] + 0.5 * step, step)
    resampled = np.stack([np.interp(grid, times, values[:, k]) for k in range(values.shape[1])], 1)
    padlen = min(3 * max(len(a), len(b)), len(grid) - 1)
    smooth = filtfilt(b, a, resampled, axis=0, padlen=padlen)
    return np.stack([np.interp(times, grid, smooth[:, k]) for k in range(values.shape[1])], 1)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the True runs of a boolean vector."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))
