"""Initial contact (IC) and toe-off (TO) of each foot from a side-view track.

The method is coordinate-based in the spirit of Zeni et al. (2008): relative to the pelvis, a foot
is furthest forward around initial contact and furthest back around toe-off, whether the runner
is on a treadmill (pelvis still, belt moving) or crossing the frame (pelvis moving). Working
relative to the pelvis and in the runner's facing direction makes both cases the same problem.
COCO-17 has no heel or toe points, so the ankle stands in for Zeni's heel and toe markers, and
each candidate is refined by a second cue:

- **IC**: the foot's most forward position is only near contact (runners swing the foot back
  just before landing; camera perspective shifts it too). The contact itself is where the
  ankle's descent stops: IC is placed where the ankle's downward speed, near the candidate, has
  dropped to half its peak (Fellin et al. 2010 found the heel's vertical position and velocity
  the best kinematic cues of footstrike).
- **TO**: the ankle keeps moving back relative to the pelvis for a moment after the toes leave
  the ground; the knee is most extended at toe-off (Fellin et al. 2010: peak knee extension
  identified TO within about 5 ms), so TO is the knee-flexion minimum near the candidate.

Event times are refined below one frame by a parabola through the extreme sample and its two
neighbours; frames are the nearest frame. All times are real (slow-motion corrected) seconds.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.signal import find_peaks

from app.core.cleaning import sampling_rate_hz
from app.core.corrections import EVENT_SNAP_FRAMES, MANUAL, Corrections
from app.core.foot_contact import FootContacts, FootPoints, detect_foot_contacts
from app.core.kinematics import ANKLE, SIDES, mid_hip

ContactDetector = Callable[
    [dict[str, FootPoints], np.ndarray, np.ndarray, tuple[int, int] | None], FootContacts
]

# The ankle swings about one leg length fore and aft of the pelvis in running (0.6 walking); a
# person standing still moves it by the landmarks' jitter, whose autocorrelation can still peak.
MIN_SWING_LEG = 0.25  # 5th-95th percentile range of the fore-aft swing, in leg lengths
MIN_STRIDE_S = 0.36  # 333 steps/min: faster than elite sprinters at full speed
MAX_STRIDE_S = 2.0  # 60 steps/min: slower than any running
TYPICAL_STRIDE_S = 0.7  # about 170 steps/min, the middle of recreational running cadences
MAX_SLOWMO = 16.0  # 480 fps played at 30: the slowest footage we look for a stride in


FEET = "feet"  # timed from the heel and toe points (app.core.foot_contact)
ANKLE_PELVIS = "ankle_pelvis"  # the fallback: the ankle relative to the pelvis (this module)


@dataclass(frozen=True)
class GaitEvent:
    """One foot event. ``method`` and ``cue`` tell what placed it (for transparency in exports).

    ``frame`` is the frame a user steps to: from the feet, the first frame in contact (IC) or
    the last one (TO); from the ankle-pelvis method, the nearest frame. ``time_s`` is the
    interpolated (sub-frame) real time.
    """

    side: str
    kind: str  # "IC" or "TO"
    frame: int
    time_s: float
    cue: str
    method: str = ANKLE_PELVIS


@dataclass(frozen=True)
class MissingEvent:
    """An event the clip should hold that neither method could place, and why."""

    side: str
    kind: str
    near_frame: int
    reason: str


@dataclass(frozen=True)
class Step:
    """One ground contact of one foot: from its initial contact to its toe-off."""

    side: str
    ic: GaitEvent
    to: GaitEvent

    @property
    def contact_time_s(self) -> float:
        return self.to.time_s - self.ic.time_s


@dataclass
class GaitEvents:
    events: list[GaitEvent]
    steps: list[Step]
    stride_s: float | None  # typical stride period found in the ankle motion
    missing: list[MissingEvent] = field(default_factory=list)
    # With no running stride found: a leg swing too slow for running, the sign of slow-motion
    # footage whose --slowmo factor was not given (seconds of the track's time base).
    slow_swing_s: float | None = None

    @property
    def suggested_slowmo(self) -> float | None:
        """The slow-motion factor that would bring a too-slow leg swing to a typical stride."""
        if self.slow_swing_s is None:
            return None
        return self.slow_swing_s / TYPICAL_STRIDE_S

    def of(self, side: str, kind: str) -> list[GaitEvent]:
        return [e for e in self.events if e.side == side and e.kind == kind]


def detect_gait_events(
    points: np.ndarray,
    real_times_s: np.ndarray,
    facing: np.ndarray,
    knee_flexion: dict[str, np.ndarray],
    leg_length_px: float,
    feet: dict[str, FootPoints] | None = None,
    image_size: tuple[int, int] | None = None,
    contact_detector: ContactDetector = detect_foot_contacts,
) -> GaitEvents:
    """Find IC and TO of both feet in a cleaned (T, 17+, 3) track.

    With ``feet`` (heel and toe points per side), events are timed from the feet
    (``app.core.foot_contact``) and the ankle-pelvis method of the module docstring fills in
    where the feet are unreliable; without, the ankle-pelvis method gives every event.
    ``contact_detector`` stands in for ``detect_foot_contacts`` (a report cache passes its own).
    """
    times = np.asarray(real_times_s, np.float64)
    if not np.isfinite(leg_length_px) or len(times) < 3:
        return GaitEvents([], [], None)
    pelvis = mid_hip(points)
    forward = {
        side: facing * (points[:, ANKLE[side], 0] - pelvis[:, 0]) / leg_length_px for side in SIDES
    }
    stride = estimate_stride_period(forward, times)
    if stride is None:
        slow = estimate_stride_period(forward, times, MAX_STRIDE_S, MAX_STRIDE_S * MAX_SLOWMO / 2)
        return GaitEvents([], [], None, slow_swing_s=slow)
    rate = sampling_rate_hz(times)
    stride_frames = stride * rate
    events: list[GaitEvent] = []
    for side in SIDES:
        height = -points[:, ANKLE[side], 1] / leg_length_px  # up is positive
        with np.errstate(invalid="ignore"):
            rise = np.gradient(height, times)
        for candidate in _extrema(forward[side], stride_frames, maxima=True):
            events.append(_landing(side, candidate, rise, times, stride_frames))
        knee = np.asarray(knee_flexion[side], np.float64)
        for candidate in _extrema(forward[side], stride_frames, maxima=False):
            window = _window(candidate, -0.2 * stride_frames, 0.05 * stride_frames, len(times))
            events.append(_refine(side, "TO", candidate, window, -knee, times, "knee_extension"))
    events.sort(key=lambda e: e.time_s)
    missing: list[MissingEvent] = []
    if feet is not None:
        contacts = contact_detector(feet, times, facing, image_size)
        events, missing = combine_events(events, contacts, stride, times)
    return GaitEvents(events, pair_steps(events, stride), stride, missing=missing)


def combine_events(
    fallback: list[GaitEvent], contacts: FootContacts, stride_s: float, times: np.ndarray
) -> tuple[list[GaitEvent], list[MissingEvent]]:
    """Foot-timed events where the feet give them, ankle-pelvis events elsewhere.

    The ankle-pelvis method finds one candidate per stride and foot robustly (it rests on the
    legs' whole swing) but times it poorly; the feet time an event well where they are seen.
    A foot event replaces the candidate of its side and kind within a quarter stride; a foot
    event with no candidate (a contact the swing did not show) is kept if no other event of its
    side and kind lies within half a stride. A candidate with no foot event stays, marked as the
    fallback, and moved by the clip's own offset between the methods where the feet show it
    (``calibrated_fallback``). Where the feet could not time an event and no candidate exists, it is reported
    missing with the feet's reason.
    """
    near = 0.25 * stride_s
    feet_events = [
        GaitEvent(e.side, e.kind, e.frame, e.time_s, e.cue, FEET) for e in contacts.events
    ]
    # Events are compared only with those of the same side and kind, each group in time order
    # (a minute of running holds hundreds of events: all pairs would be a fifth of a recompute).
    feet_by_kind: dict[tuple[str, str], list[int]] = {}
    for index, event in enumerate(feet_events):
        feet_by_kind.setdefault((event.side, event.kind), []).append(index)
    for indices in feet_by_kind.values():
        indices.sort(key=lambda i: feet_events[i].time_s)
    times_by_kind = {
        key: [feet_events[i].time_s for i in indices] for key, indices in feet_by_kind.items()
    }
    used: set[int] = set()
    combined: list[GaitEvent] = []
    unmatched: list[int] = []  # positions in ``combined`` of candidates the feet did not time
    offsets: dict[tuple[str, str], list[float]] = {}  # feet minus candidate, where both exist
    for candidate in fallback:
        indices = feet_by_kind.get((candidate.side, candidate.kind), [])
        times_s = times_by_kind.get((candidate.side, candidate.kind), [])
        first = bisect_left(times_s, candidate.time_s - near - _TIME_SLACK_S)
        last = bisect_right(times_s, candidate.time_s + near + _TIME_SLACK_S)
        best = None
        for index in sorted(indices[first:last]):
            gap = abs(feet_events[index].time_s - candidate.time_s)
            if index not in used and gap <= near and (best is None or gap < best[0]):
                best = (gap, index)
        if best is None:
            unmatched.append(len(combined))
            combined.append(replace(candidate, method=ANKLE_PELVIS))
        else:
            used.add(best[1])
            combined.append(feet_events[best[1]])
            key = (candidate.side, candidate.kind)
            offsets.setdefault(key, []).append(feet_events[best[1]].time_s - candidate.time_s)
    for position in unmatched:
        combined[position] = calibrated_fallback(combined[position], offsets, times)
    kept = _EventTimes(combined)
    for index, event in enumerate(feet_events):
        if index not in used and not kept.any_within(event, event.time_s, 0.5 * stride_s):
            combined.append(event)
            kept.add(event)
    combined.sort(key=lambda e: e.time_s)
    found = _EventTimes(combined)
    missing = []
    for unfound in contacts.unfound:
        when = times[int(np.clip(unfound.near_frame, 0, len(times) - 1))]
        if not found.any_within(unfound, when, near * 2):
            missing.append(
                MissingEvent(unfound.side, unfound.kind, int(unfound.near_frame), unfound.reason)
            )
    return combined, missing


# Feet-timed events of a side and kind that must have an ankle-pelvis candidate beside them
# before the candidates the feet missed are shifted by their typical offset.
MIN_CALIBRATION_PAIRS = 3
CALIBRATED = "_feet_calibrated"


def calibrated_fallback(
    event: GaitEvent, offsets: dict[tuple[str, str], list[float]], times: np.ndarray
) -> GaitEvent:
    """An ankle-pelvis event moved by the clip's own offset between the two methods.

    The ankle-pelvis method is early by an amount that depends on the runner and the frame
    rate (about 3 frames at 60 fps, 16 to 21 frames of 240 fps slow motion), but consistently
    within one clip. Where the feet timed at least ``MIN_CALIBRATION_PAIRS`` events of the same
    side and kind that also had a candidate, the candidate the feet missed is moved by the
    median of those offsets (of both sides together where one side has too few); its cue says
    so. Otherwise it stays as found.
    """
    own = offsets.get((event.side, event.kind), [])
    pooled = [gap for (_, kind), gaps in offsets.items() if kind == event.kind for gap in gaps]
    gaps = own if len(own) >= MIN_CALIBRATION_PAIRS else pooled
    if len(gaps) < MIN_CALIBRATION_PAIRS:
        return event
    time_s = float(np.clip(event.time_s + np.median(gaps), times[0], times[-1]))
    frame = int(np.argmin(np.abs(times - time_s)))
    return replace(event, frame=frame, time_s=time_s, cue=event.cue + CALIBRATED)


_TIME_SLACK_S = 1e-9  # around a search window's bounds, so rounding never drops an event


class _EventTimes:
    """The times of events by side and kind, sorted: is there one near a given time?"""

    def __init__(self, events: list[GaitEvent]) -> None:
        self._times: dict[tuple[str, str], list[float]] = {}
        for event in events:
            self.add(event)

    def add(self, event: GaitEvent) -> None:
        insort(self._times.setdefault((event.side, event.kind), []), event.time_s)

    def any_within(self, like, time_s: float, distance_s: float) -> bool:
        """Whether an event of ``like``'s side and kind lies less than ``distance_s`` away."""
        times_s = self._times.get((like.side, like.kind), [])
        at = bisect_left(times_s, time_s)
        return any(
            abs(times_s[i] - time_s) < distance_s for i in (at - 1, at) if 0 <= i < len(times_s)
        )


def estimate_stride_period(
    forward: dict[str, np.ndarray],
    times: np.ndarray,
    min_stride_s: float = MIN_STRIDE_S,
    max_stride_s: float = MAX_STRIDE_S,
) -> float | None:
    """Stride period (s) from the autocorrelation of the ankles' fore-aft swing.

    The first autocorrelation peak between ``min_stride_s`` and ``max_stride_s`` is taken, so a
    stride (same foot to same foot) is found rather than a step (the other foot looks alike).
    A swing smaller than ``MIN_SWING_LEG`` is no stride at all, however periodic its jitter.
    """
    rate = sampling_rate_hz(times)
    best: tuple[float, float] | None = None
    for signal in forward.values():
        finite = np.isfinite(signal)
        if finite.sum() < 2 * min_stride_s * rate:
            continue
        low, high = np.percentile(signal[finite], [5, 95])
        if high - low < MIN_SWING_LEG:
            continue
        centred = np.where(finite, signal - np.nanmean(signal), 0.0)
        spectrum = np.fft.rfft(centred, 2 * len(centred))
        correlation = np.fft.irfft(spectrum * np.conj(spectrum))[: len(centred)]
        overlap = np.fft.irfft(np.abs(np.fft.rfft(finite.astype(float), 2 * len(finite))) ** 2)
        overlap = np.maximum(overlap[: len(centred)], 1.0)
        correlation = correlation / overlap
        if correlation[0] <= 0:
            continue
        correlation = correlation / correlation[0]
        lo = int(min_stride_s * rate)
        hi = min(int(max_stride_s * rate), len(correlation) - 1)
        if hi <= lo:
            continue
        peaks, _ = find_peaks(correlation[lo : hi + 1], height=0.3)
        if peaks.size == 0:
            continue
        lag = lo + int(peaks[0])
        precise = lag + _parabola_offset(correlation, lag)
        strength = float(correlation[lag])
        if best is None or strength > best[1]:
            best = (precise / rate, strength)
    return best[0] if best else None


def _extrema(signal: np.ndarray, stride_frames: float, maxima: bool) -> np.ndarray:
    """Indices of the once-per-stride extremes of a (possibly gappy) signal."""
    values = signal if maxima else -signal
    finite = np.isfinite(values)
    if finite.sum() < 3:
        return np.zeros(0, int)
    spread = np.nanpercentile(values, 95) - np.nanpercentile(values, 5)
    index = np.arange(len(values))
    filled = np.interp(index, index[finite], values[finite])
    peaks, _ = find_peaks(
        filled, distance=max(1, int(0.6 * stride_frames)), prominence=0.3 * spread
    )
    # A peak right at the edge of a gap may be a cut-off slope, not a real extreme.
    good = [p for p in peaks if 0 < p < len(values) - 1 and finite[p - 1] and finite[p + 1]]
    return np.asarray(good, int)


def _landing(
    side: str, candidate: int, rise: np.ndarray, times: np.ndarray, stride_frames: float
) -> GaitEvent:
    """IC: where the ankle's descent ends, near the most forward position ``candidate``.

    The ankle comes down fastest just before contact and stops when the foot is planted; IC is
    placed where the downward speed has fallen to half its peak (the middle of the stop, which a
    zero-lag filter leaves in place), interpolated between frames.
    """
    frames = len(times)
    search = _window(candidate, -0.15 * stride_frames, 0.05 * stride_frames, frames)
    limit = min(frames - 1, int(np.ceil(candidate + 0.1 * stride_frames)))
    descent = -rise[search]
    if np.isfinite(descent).sum() >= 3 and np.nanmax(descent) > 0:
        peak = search.start + int(np.nanargmax(descent))
        half = 0.5 * -rise[peak]
        for index in range(peak + 1, limit + 1):
            if not np.isfinite(rise[index]):
                break
            if -rise[index] <= half:
                before, after = -rise[index - 1], -rise[index]
                fraction = (before - half) / (before - after) if before != after else 0.0
                position = index - 1 + fraction
                time = float(np.interp(position, np.arange(frames), times))
                return GaitEvent(side, "IC", int(round(position)), time, "ankle_vertical")
    return GaitEvent(side, "IC", int(candidate), float(times[candidate]), "ankle_forward")


def _window(center: int, before: float, after: float, frames: int) -> slice:
    return slice(
        max(0, int(np.floor(center + before))), min(frames, int(np.ceil(center + after)) + 1)
    )


def _refine(
    side: str,
    kind: str,
    candidate: int,
    window: slice,
    score: np.ndarray,
    times: np.ndarray,
    cue: str,
) -> GaitEvent:
    """Move an event to the maximum of ``score`` inside ``window`` (sub-frame by a parabola)."""
    segment = score[window]
    if np.isfinite(segment).sum() >= 3:
        index = window.start + int(np.nanargmax(segment))
        if 0 < index < len(score) - 1 and np.isfinite(score[index - 1 : index + 2]).all():
            offset = _parabola_offset(score, index)
            time = float(np.interp(index + offset, np.arange(len(times)), times))
            return GaitEvent(side, kind, int(round(index + offset)), time, cue)
    return GaitEvent(side, kind, int(candidate), float(times[candidate]), "ankle_forward")


def _parabola_offset(values: np.ndarray, index: int) -> float:
    """Sub-sample position of the extreme of the parabola through index-1, index, index+1."""
    left, mid, right = values[index - 1], values[index], values[index + 1]
    curvature = left - 2.0 * mid + right
    if not np.isfinite(curvature) or curvature == 0:
        return 0.0
    return float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))


def pair_steps(events: list[GaitEvent], stride_s: float) -> list[Step]:
    """Each IC with the same foot's next TO, if that comes within a plausible stance time."""
    steps = []
    for side in SIDES:
        own = [e for e in events if e.side == side]
        for index, event in enumerate(own):
            if event.kind != "IC" or index + 1 >= len(own):
                continue
            following = own[index + 1]
            stance = following.time_s - event.time_s
            if following.kind == "TO" and 0.03 < stance < 0.8 * stride_s:
                steps.append(Step(side, event, following))
    steps.sort(key=lambda s: s.ic.time_s)
    return steps


def with_event_edits(
    gait: GaitEvents, track_id: int, corrections: Corrections, times_s: np.ndarray
) -> GaitEvents:
    """The detected events with the user's edits (docs/corrections.md), paired into steps again.

    A deleted or moved event is the detected one of its side and kind nearest the frame named
    (within ``EVENT_SNAP_FRAMES``); an added or moved event is kept exactly where it was placed,
    marked ``manual``. ``times_s`` are the real (slow-motion corrected) times of every frame.
    """
    own = corrections.of_track(track_id).events
    if not own:
        return gait
    events = list(gait.events)
    for edit in own:
        if edit.action in ("delete", "move"):
            events = _without_nearest(events, edit.side, edit.kind, edit.frame)
        frame = edit.to_frame if edit.action == "move" else edit.frame
        if edit.action in ("add", "move") and frame is not None and 0 <= frame < len(times_s):
            time_s = float(times_s[frame])
            events.append(GaitEvent(edit.side, edit.kind, frame, time_s, "placed by hand", MANUAL))
    events.sort(key=lambda e: e.time_s)
    stride = gait.stride_s or _stride_from(events)
    steps = pair_steps(events, stride) if stride else []
    return replace(gait, events=events, steps=steps, stride_s=stride)


def _without_nearest(events: list[GaitEvent], side: str, kind: str, frame: int) -> list[GaitEvent]:
    candidates = [
        (abs(e.frame - frame), n)
        for n, e in enumerate(events)
        if (e.side, e.kind) == (side, kind) and abs(e.frame - frame) <= EVENT_SNAP_FRAMES
    ]
    if not candidates:
        return events
    drop = min(candidates)[1]
    return [e for n, e in enumerate(events) if n != drop]


def _stride_from(events: list[GaitEvent]) -> float | None:
    """The median time between one foot's strikes, for events placed on a clip where the
    detector found no stride at all."""
    gaps: list[float] = []
    for side in {e.side for e in events}:
        strikes = [e.time_s for e in events if e.side == side and e.kind == "IC"]
        gaps += list(np.diff(strikes))
    return float(np.median(gaps)) if gaps else None
