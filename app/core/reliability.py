"""How far each running metric can be trusted on this clip, in plain words.

A number on the screen looks equally sure whether it came from a 240 fps side view of a large
runner or from a 25 fps clip where the runner is 70 pixels tall and the far leg is hidden behind
the near one. This module grades each metric ``good``, ``fair`` or ``poor`` from what limits it
on the clip, and says why (docs/kinematics.md, "Reliability"):

- **frame rate** (real time, after slow-motion correction): an event lands on a frame, so each
  contact or flight time is uncertain by about one frame at each end. Below 60 fps that is more
  than 17 ms, a large share of a 250 ms contact: timing metrics are ``fair``; below 30 fps
  ``poor``. Cadence, an average over many steps, is not affected.
- **runner size**: the landmarks' pixel jitter is a fixed number of pixels, so the smaller the
  runner the larger it is in degrees: a leg shorter than ``SMALL_LEG_PX`` makes angles and
  distances ``fair``, shorter than ``TINY_LEG_PX`` ``poor``.
- **event method**: foot events timed from the ankle instead of the feet come a few frames early
  (docs/gait_events.md), so a side timed mostly that way has ``poor`` timing metrics.
- **the far leg**: in a side view one leg is behind the other for part of every stride, and the
  pose model guesses it there. Its visibility scores are clearly lower than the near leg's; its
  angles and distances are ``poor``, and no left/right asymmetry is built on it.
- **camera motion**: the ground is one line in the picture for the whole clip, so a camera that
  pans or travels (``app.core.camera_motion``) moves it under the feet and contacts are placed
  less surely (on the outdoor pan 4 of 5 counted events are found, its landings 12 frames
  early): timing metrics are at
  best ``fair``. Angles do not move with the picture; a zoom is followed by the leg's own
  length (``local_leg_length_px``).
- **few steps**: fewer than ``MIN_STEPS`` steps make a mean a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.camera_motion import MOVING_CAMERA_SHARE_PER_S
from app.core.kinematics import ANKLE, HEEL, KNEE, SIDES, TOE

GOOD, FAIR, POOR = "good", "fair", "poor"
LEVELS: tuple[str, ...] = (GOOD, FAIR, POOR)

COARSE_FPS = 60.0  # below: one frame is more than 17 ms of a contact time
VERY_COARSE_FPS = 30.0
SMALL_LEG_PX = 150.0  # hip-knee-ankle length; a runner about 300 px tall
TINY_LEG_PX = 80.0
MIN_STEPS = 4
# A leg whose mean landmark visibility is this much below the other leg's is the hidden, far one
# (IMG_5396: near 0.97, far 0.81; the slow treadmill clip: 0.99 and 0.94; a front view: equal).
FAR_LEG_VISIBILITY_GAP = 0.04
ANKLE_TIMED_SHARE = 0.5  # a side with more of its events timed from the ankle has poor timing

# What limits each kind of metric.
TIMING = "timing"  # from event times: contact, flight, step time, duty factor
RATE = "rate"  # averaged over many steps: cadence
SHAPE = "shape"  # angles and distances read from the landmarks

METRIC_KINDS: dict[str, str] = {
    "cadence_spm": RATE,
    "step_time_ms": TIMING,
    "contact_time_ms": TIMING,
    "flight_time_ms": TIMING,
    "duty_factor": TIMING,
}


@dataclass(frozen=True)
class Reliability:
    """A grade and the reasons behind it (empty for ``good``)."""

    level: str
    reasons: tuple[str, ...] = ()

    def worse(self, level: str, reason: str) -> Reliability:
        """This grade lowered to ``level`` (never raised) with ``reason`` added."""
        worst = max(self.level, level, key=LEVELS.index)
        return Reliability(worst, (*self.reasons, reason))

    @property
    def text(self) -> str:
        """One line for a table cell's tooltip or a CSV cell: 'fair: 30 fps ...'."""
        return self.level if not self.reasons else f"{self.level}: {'; '.join(self.reasons)}"

    def to_dict(self) -> dict:
        return {"level": self.level, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class ClipConditions:
    """What limits the measurements of one runner on one clip."""

    frame_rate_hz: float  # real time
    leg_length_px: float
    leg_visibility: dict[str, float]  # side -> mean visibility of knee, ankle, heel, toe
    ankle_timed_share: dict[str, float]  # side -> share of its events timed from the ankle
    # the background's typical speed, as a share of the frame's width per second; None unknown
    camera_share_per_s: float | None = None

    @property
    def far_side(self) -> str | None:
        """The hidden leg of a side view, or None when both legs are seen alike."""
        left, right = (self.leg_visibility.get(side, np.nan) for side in SIDES)
        if not (np.isfinite(left) and np.isfinite(right)):
            return None
        if abs(left - right) < FAR_LEG_VISIBILITY_GAP:
            return None
        return "left" if left < right else "right"

    @property
    def timing_step_ms(self) -> float:
        """How long one frame lasts: the resolution of each event time."""
        return 1000.0 / self.frame_rate_hz if self.frame_rate_hz > 0 else float("nan")


def leg_visibility(keypoints: np.ndarray) -> dict[str, float]:
    """Mean visibility score of each leg's knee, ankle, heel and toe over the frames it is seen.

    Interpolated points carry score 0 and count as unseen; a pose layout without feet uses the
    knee and ankle alone.
    """
    result = {}
    for side in SIDES:
        joints = [KNEE[side], ANKLE[side]]
        if keypoints.shape[1] > max(HEEL[side], TOE[side]):
            joints += [HEEL[side], TOE[side]]
        scores = keypoints[:, joints, 2]
        seen = np.isfinite(scores)
        result[side] = float(np.mean(scores[seen])) if seen.any() else float("nan")
    return result


def clip_reliability(metric_key: str, conditions: ClipConditions, values: int) -> Reliability:
    """The grade of a mean of ``values`` steps from the clip's frame rate and runner size."""
    grade = Reliability(GOOD)
    kind = METRIC_KINDS.get(metric_key, SHAPE)
    fps = conditions.frame_rate_hz
    if kind == TIMING and np.isfinite(fps):
        frame_ms = conditions.timing_step_ms
        if fps < VERY_COARSE_FPS:
            grade = grade.worse(POOR, f"{fps:.0f} fps: each event is timed to ±{frame_ms:.0f} ms")
        elif fps < COARSE_FPS:
            grade = grade.worse(FAIR, f"{fps:.0f} fps: each event is timed to ±{frame_ms:.0f} ms")
    share = conditions.camera_share_per_s
    if kind == TIMING and share is not None and share > MOVING_CAMERA_SHARE_PER_S:
        grade = grade.worse(
            FAIR,
            f"the camera moves ({100 * share:.0f} % of the frame per second): contacts "
            "are placed on a ground that moves in the picture",
        )
    if kind == SHAPE:
        leg = conditions.leg_length_px
        if not np.isfinite(leg) or leg < TINY_LEG_PX:
            grade = grade.worse(POOR, f"the runner is small in the frame (leg {leg:.0f} px)")
        elif leg < SMALL_LEG_PX:
            grade = grade.worse(FAIR, f"the runner is small in the frame (leg {leg:.0f} px)")
    if values < MIN_STEPS:
        grade = grade.worse(POOR, f"only {values} steps")
    return grade


def side_reliability(
    metric_key: str, side: str, conditions: ClipConditions, values: int = MIN_STEPS
) -> Reliability:
    """The grade of one leg's value: the clip's grade, lowered for a hidden or ankle-timed leg."""
    grade = clip_reliability(metric_key, conditions, values)
    kind = METRIC_KINDS.get(metric_key, SHAPE)
    if kind == SHAPE and conditions.far_side == side:
        grade = grade.worse(POOR, f"the {side} leg is the far one, often hidden")
    if kind == TIMING and conditions.ankle_timed_share.get(side, 0.0) > ANKLE_TIMED_SHARE:
        grade = grade.worse(
            POOR, f"the {side} foot's events are timed from the ankle (a few frames early)"
        )
    return grade
