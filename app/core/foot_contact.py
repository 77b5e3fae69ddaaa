"""Ground contact of each foot from its heel and toe points: initial contact and toe-off.

A foot is on the ground when its sole is at ground level **and** it moves with the ground. In a
side view both are seen directly from the heel and toe points:

- **Ground level.** The ground (belt or track) is a line in the image. It is fitted robustly
  (Huber) through the lowest foot point of every frame: at each instant of running but the short
  flights one foot is planted, and the planted foot is the lowest. Each point's height is taken
  above that line, less the height the point keeps while planted (the heel and toe landmarks sit
  above the sole by different amounts).
- **Moving with the ground.** While planted, a foot moves in the image exactly as the ground
  does: backwards at belt speed on a treadmill, still overground, or with the camera's panning
  when the camera follows the runner. That motion is measured on the planted foot itself: a
  straight line (Theil-Sen) through its position over the middle of each contact. Before
  contact the landing foot is behind that line (it has not come as far forward as the ground
  under it would have carried it); after toe-off the toe falls behind the moving belt, or swings
  forward overground: it leaves the line.

Initial contact (IC) is where the first point of the sole (heel or toe) is both low and on the
ground's line; toe-off (TO) is where the toe leaves either. Each crossing is interpolated
between the two frames around it, so events are timed below one frame; the event's ``frame`` is
the first frame in contact (IC) or the last one (TO), as counted by eye (docs/gait_events.md).

Where a foot point is unreliable (low score, missing, outside the picture) around an event, no
event is given here: the caller falls back to the ankle-pelvis method (``app.core.gait``) and
says so. The module is pure numpy/scipy on plain arrays, tested with synthetic feet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.stats import siegelslopes

from app.core.cleaning import fill_short_gaps
from app.core.nanstats import nanmedian, repeated_median_slope
from app.core.run_filters import median_over_runs, savgol_over_runs

MIN_SCORE = 0.5  # BlazePose visibility below this: the point is likely hidden or guessed
# Heights within this fraction of the foot length of the planted height count as ground level.
HEIGHT_TOLERANCE = 0.3
# Moving with the ground: the foot's speed relative to the ground, as a fraction of the ground's
# speed in the image (the belt's, or the camera's pan), is below these.
IC_MOTION = 0.7
TO_MOTION = 0.65
LANDING_WINDOW_S = 0.2  # the landing foot's most forward position is looked for this far back
MIN_SEEN_FRACTION = 0.6  # of that window, or the most forward position is not known
RECEDE = 0.02  # foot lengths behind the most forward position: the foot has started back
RECEDE_SEEN_S = 0.02  # seen to stay behind this long before a frame it is unseen in, or it is
# not known to have landed (a point's jitter, or a swinging foot drawn back, also recedes)
MIN_BELT_SPEED_PX_PER_S = 20.0  # slower ground motion is noise, not a belt or a pan
CANDIDATE_MOTION = 0.5  # a planted foot's speed is within this fraction of the ground's
GROUND_WINDOW_S = 0.6  # the ground's speed is a running median over this long (a stride or so)
MIN_GROUND_SPEED = 2.0  # foot lengths per second: the speed scale where the ground is still
VELOCITY_S = 0.02  # window of the velocity estimate (real time)
TO_VELOCITY_S = 0.08  # the same for the toe's release at toe-off
# The toe landmark (BlazePose's foot index) sits behind and above the shoe's tip: as the foot
# rolls over the tip before toe-off it is already this many foot lengths above its planted
# height when the tip leaves the ground.
TOE_LIFT = 0.4
CONTACT_MARGIN_S = 0.5  # frames around a contact its events are looked for in (at least)
MAX_BLIND_S = 0.06  # a walk over a point unseen for longer than this cannot place an edge
MAX_GROUND_POINTS = 900  # frames given to the ground line's fit (its cost is their square)
PLANTED_BAND = 0.1  # the planted height: median of the samples this close to the lowest ones
MIN_CONTACT_S = 0.06
OUT_OF_CONTACT_S = 0.05  # after a real TO (before a real IC) the foot stays off this long  # shorter low phases are a swing foot skimming the ground, not a contact
BRIDGE_S = 0.02  # a foot unseen or lifted for less than this stays in the same low phase
SMOOTHING_S = 0.02
SMOOTHING_MIN_FRAMES = 5
MEDIAN_FRAMES = 3  # Savitzky-Golay window (real time) against per-frame landmark jitter
ATTACHMENT_TOLERANCE = 0.35
BORDER_PX = 2.0  # points this close to the image edge may be cut off by it


@dataclass(frozen=True)
class FootPoints:
    """One foot's heel and toe in image pixels, (T, 2) each, NaN where missing, with scores."""

    heel: np.ndarray
    toe: np.ndarray
    heel_score: np.ndarray
    toe_score: np.ndarray
    ankle: np.ndarray  # (T, 2): the foot must hang on it (a point far from it is another foot)


@dataclass(frozen=True)
class ContactEvent:
    """An IC or TO from the feet. ``position`` is the fractional frame of the crossing."""

    side: str
    kind: str  # "IC" or "TO"
    position: float
    frame: int  # IC: the first frame in contact; TO: the last
    time_s: float
    cue: str  # which point and condition placed it, e.g. "heel_height", "toe_motion"


@dataclass(frozen=True)
class UnfoundEvent:
    """A contact whose start or end the feet could not time, and why."""

    side: str
    kind: str
    near_frame: int
    reason: str


@dataclass
class FootContacts:
    events: list[ContactEvent]
    unfound: list[UnfoundEvent]
    ground: tuple[float, float] | None  # image line y = a + b x, None if not found
    foot_length_px: float


ContactResult = tuple[list[ContactEvent], list[UnfoundEvent]]


class ContactMemo:
    """The events of each contact of the last detection, keyed by everything they were read
    from (the frames around the contact, the clip's scales): an edit changes the inputs of the
    contacts it reaches, and only those are worked out again."""

    def __init__(self) -> None:
        self._last: dict[tuple, ContactResult] = {}
        self._now: dict[tuple, ContactResult] = {}
        self.recalled = 0

    def next_detection(self) -> None:
        """Keep the contacts of the detection that just ended, forget older ones."""
        self._last, self._now = self._now, {}
        self.recalled = 0

    def recall(self, key: tuple) -> ContactResult | None:
        result = self._last.get(key)
        if result is not None:
            self._now[key] = result
            self.recalled += 1
        return result

    def keep(self, key: tuple, result: ContactResult) -> None:
        self._now[key] = result


FOOT_POINT_NAMES = {
    side: {"heel": f"{side}_heel", "toe": f"{side}_big_toe", "ankle": f"{side}_ankle"}
    for side in ("left", "right")
}


def feet_from_keypoints(
    keypoints: np.ndarray, names: Sequence[str]
) -> dict[str, FootPoints] | None:
    """Each side's heel, toe and ankle from a (T, K, 3) track whose points are ``names``;
    None where the estimator gives no foot points (e.g. a 17-point COCO model, whose feet in
    the pose layout are NaN throughout)."""
    index = {name: i for i, name in enumerate(names)}
    wanted = [name for side in FOOT_POINT_NAMES.values() for name in side.values()]
    if not all(name in index for name in wanted):
        return None
    points = np.asarray(keypoints, np.float64)
    foot_columns = [index[parts[p]] for parts in FOOT_POINT_NAMES.values() for p in ("heel", "toe")]
    if not np.isfinite(points[:, foot_columns, :2]).any():
        return None
    feet = {}
    for side, parts in FOOT_POINT_NAMES.items():
        heel, toe, ankle = (points[:, index[parts[p]]] for p in ("heel", "toe", "ankle"))
        feet[side] = FootPoints(heel[:, :2], toe[:, :2], heel[:, 2], toe[:, 2], ankle[:, :2])
    return feet


def detect_foot_contacts(
    feet: dict[str, FootPoints],
    real_times_s: np.ndarray,
    facing: np.ndarray,
    image_size: tuple[int, int] | None = None,
    memo: ContactMemo | None = None,
) -> FootContacts:
    """IC and TO of every ground contact seen in the feet; see the module docstring.

    ``memo`` hands back the events of a contact whose inputs are exactly those of the last
    detection it saw (a recompute after an edit elsewhere in the clip)."""
    if memo is not None:
        memo.next_detection()
    times = np.asarray(real_times_s, np.float64)
    frames = len(times)
    reliable = {side: _reliable(foot, image_size) for side, foot in feet.items()}
    foot_length = _foot_length(reliable)
    reliable = {
        side: _attached(points, feet[side].ankle, foot_length) for side, points in reliable.items()
    }
    if frames < 5 or not np.isfinite(foot_length):
        return FootContacts([], [], None, foot_length)
    rate = 1.0 / float(np.median(np.diff(times)))
    smoothed = {
        side: {part: _smooth(xy, rate) for part, xy in points.items()}
        for side, points in reliable.items()
    }
    ground = _ground_line(smoothed)
    if ground is None:
        return FootContacts([], [], None, foot_length)
    events: list[ContactEvent] = []
    unfound: list[UnfoundEvent] = []
    min_frames = max(3, int(round(MIN_CONTACT_S * rate)))
    gap = max(1, int(round(OUT_OF_CONTACT_S * rate)))
    heights = {
        side: {part: _height(xy, ground) for part, xy in points.items()}
        for side, points in smoothed.items()
    }
    planted = {
        side: {part: _planted_height(h, foot_length) for part, h in parts.items()}
        for side, parts in heights.items()
    }
    # Once per foot, not per contact: a minute of 60 fps holds about 180 contacts.
    velocities = {
        side: {part: _velocity(xy[:, 0], rate) for part, xy in points.items()}
        for side, points in smoothed.items()
    }
    ground_speed = _ground_speed(velocities, heights, planted, foot_length, rate)
    scale = np.maximum(np.abs(ground_speed), MIN_GROUND_SPEED * foot_length / rate)
    for side, points in smoothed.items():
        planted_now = np.zeros(frames, bool)
        velocities[side]["toe_release"] = _velocity(
            _bridged_x(points["toe"], times, rate), rate, TO_VELOCITY_S
        )
        for part in points:
            speed = velocities[side][part]
            with np.errstate(invalid="ignore"):
                low = heights[side][part] - planted[side][part] < HEIGHT_TOLERANCE * foot_length
                along = np.abs(speed - ground_speed) < CANDIDATE_MOTION * scale
            planted_now |= low & along
        series = _FootSeries(
            points, velocities[side], heights[side], planted[side], facing, times, foot_length, rate
        )
        runs = _runs(_bridge(planted_now, gap), min_frames, edge_length=3)
        phases = [_contact_events(side, start, stop, series, memo) for start, stop in runs]
        found_by_phase = [found for found, _ in phases]
        for n, (found, missing) in enumerate(phases):
            events += [e for e in found if _own_edge(e, runs, found_by_phase, n)]
            unfound += missing
    events.sort(key=lambda e: e.position)
    return FootContacts(events, unfound, ground, foot_length)


def _own_edge(
    event: ContactEvent, runs: list[tuple[int, int]], found: list[list[ContactEvent]], n: int
) -> bool:
    """Whether ``event``, found from low phase ``n``, is that phase's own edge. One contact can
    show as two low phases (the foot's height or speed strays for a few frames mid-stance); a
    walk that goes on into the next phase (TO) or back into the last (IC) has timed that
    phase's edge, which the phase's own walk, from frames nearer the edge, times better where
    it timed one."""
    neighbour = n + 1 if event.kind == "TO" else n - 1
    if not 0 <= neighbour < len(runs):
        return True
    start, stop = runs[neighbour]
    walked_in = event.position >= start if event.kind == "TO" else event.position < stop
    return not (walked_in and any(e.kind == event.kind for e in found[neighbour]))


def _reliable(foot: FootPoints, image_size: tuple[int, int] | None) -> dict[str, np.ndarray]:
    """Heel and toe with unreliable samples (low score, at the image border) set to NaN."""
    out = {}
    for part, xy, score in (
        ("heel", foot.heel, foot.heel_score),
        ("toe", foot.toe, foot.toe_score),
    ):
        xy = np.array(xy, np.float64, copy=True)
        bad = ~(np.asarray(score, np.float64) >= MIN_SCORE)
        if image_size is not None:
            width, height = image_size
            with np.errstate(invalid="ignore"):
                bad |= (xy[:, 0] < BORDER_PX) | (xy[:, 0] > width - 1 - BORDER_PX)
                bad |= (xy[:, 1] < BORDER_PX) | (xy[:, 1] > height - 1 - BORDER_PX)
        xy[bad] = np.nan
        out[part] = xy
    return out


def _attached(
    points: dict[str, np.ndarray], ankle: np.ndarray, foot_length: float
) -> dict[str, np.ndarray]:
    """Drop foot points that are not where their ankle holds them.

    Heel and toe keep a fixed distance from the ankle; a point off it by more than
    ``ATTACHMENT_TOLERANCE`` foot lengths belongs to the other foot (the estimator mixes the
    feet up as they pass each other) or is a guess.
    """
    out = {}
    for part, xy in points.items():
        distance = np.linalg.norm(xy - np.asarray(ankle, np.float64), axis=1)
        usual = np.nanmedian(distance) if np.isfinite(distance).any() else np.nan
        with np.errstate(invalid="ignore"):
            off = ~(np.abs(distance - usual) <= ATTACHMENT_TOLERANCE * foot_length)
        xy = xy.copy()
        xy[off] = np.nan
        out[part] = xy
    return out


def _foot_length(reliable: dict[str, dict]) -> float:
    lengths = [
        np.linalg.norm(points["toe"] - points["heel"], axis=1) for points in reliable.values()
    ]
    values = np.concatenate(lengths) if lengths else np.zeros(0)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size >= 5 else float("nan")


def _smooth(xy: np.ndarray, rate: float) -> np.ndarray:
    """A running median (drops one-frame jumps onto the other foot) then Savitzky-Golay
    (quadratic), over runs of finite samples: keeps the corner of a landing better than a
    low-pass of the same noise reduction."""
    window = max(SMOOTHING_MIN_FRAMES, int(round(SMOOTHING_S * rate)) | 1)
    out = xy.copy()
    runs = _runs(np.isfinite(xy).all(axis=1), window)
    if not runs:
        return out
    medianed = median_over_runs(xy, runs, MEDIAN_FRAMES)
    filtered = savgol_over_runs(medianed, runs, window, 2) if window > 3 else medianed
    inside = np.isfinite(filtered).all(axis=1)
    out[inside] = filtered[inside]
    return out


def _ground_line(points: dict[str, dict[str, np.ndarray]]) -> tuple[float, float] | None:
    """Image line y = a + b x through the lowest foot point of each frame (Siegel's repeated
    medians). The fit costs the square of its points, so a long clip gives it at most
    ``MAX_GROUND_POINTS`` frames, evenly spread: the belt is the same line all along."""
    stacked = np.stack([xy for side in points.values() for xy in side.values()], axis=1)
    y = stacked[:, :, 1]
    finite = np.isfinite(y)
    has = finite.any(axis=1)
    if has.sum() < 5:
        return None
    lowest = np.argmax(np.where(finite, y, -np.inf), axis=1)[has]
    chosen = stacked[has][np.arange(has.sum()), lowest]
    chosen = chosen[np.unique(np.linspace(0, len(chosen) - 1, MAX_GROUND_POINTS).astype(int))]
    slope, intercept = siegelslopes(chosen[:, 1], chosen[:, 0])
    return float(intercept), float(slope)


def _ground_speed(
    velocities: dict[str, dict[str, np.ndarray]],
    heights: dict[str, dict[str, np.ndarray]],
    planted: dict[str, dict[str, float]],
    foot_length: float,
    rate: float,
) -> np.ndarray:
    """The ground's horizontal speed in the image (px per frame) at every frame.

    A foot point at its planted height moves with the ground: the running median over
    ``GROUND_WINDOW_S`` of the speed of the lowest such point is the belt's speed on a
    treadmill, zero overground with a still camera, and minus the camera's pan when it follows
    the runner. Frames with no point at ground level (flight, a hidden stance foot) add nothing.
    """
    names = [(side, part) for side in heights for part in heights[side]]
    speed = np.stack([velocities[s][p] for s, p in names], axis=1)
    height = np.stack([heights[s][p] - planted[s][p] for s, p in names], axis=1)
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(speed) & (np.abs(height) < PLANTED_BAND * foot_length)
    lowest = np.argmin(np.where(usable, height, np.inf), axis=1)
    per_frame = np.where(usable.any(axis=1), speed[np.arange(len(speed)), lowest], np.nan)
    half = max(1, int(round(0.5 * GROUND_WINDOW_S * rate)))
    padded = np.concatenate([np.full(half, np.nan), per_frame, np.full(half, np.nan)])
    windows = sliding_window_view(padded, 2 * half + 1)
    return nanmedian(windows, axis=1)


def _height(xy: np.ndarray, ground: tuple[float, float]) -> np.ndarray:
    """Height above the ground line in pixels (up positive)."""
    a, b = ground
    return a + b * xy[:, 0] - xy[:, 1]


def _planted_height(height: np.ndarray, foot_length: float) -> float:
    """The height a point keeps while its foot is planted: the median of its lowest samples."""
    finite = height[np.isfinite(height)]
    if finite.size == 0:
        return float("nan")
    floor = np.percentile(finite, 5)
    return float(np.median(finite[finite < floor + PLANTED_BAND * foot_length]))


def _bridge(mask: np.ndarray, longest: int) -> np.ndarray:
    """``mask`` with gaps of at most ``longest`` frames between True runs filled in."""
    out = mask.copy()
    true = np.flatnonzero(mask)
    for a, b in zip(true[:-1], true[1:], strict=True):
        if 1 < b - a <= longest + 1:
            out[a:b] = True
    return out


def _runs(
    mask: np.ndarray, min_length: int, edge_length: int | None = None
) -> list[tuple[int, int]]:
    """[start, stop) of the runs of True at least ``min_length`` long (``edge_length`` for a
    run cut by either end of ``mask``: the clip may end in the middle of a contact)."""
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(int)))
    shortest = min_length if edge_length is None else edge_length
    return [
        (a, b)
        for a, b in zip(edges[::2], edges[1::2], strict=True)
        if b - a >= (shortest if a == 0 or b == len(mask) else min_length)
    ]


@dataclass(frozen=True)
class _FootSeries:
    """One foot's smoothed points, speeds and heights over a stretch of frames, with the
    clip's scales: what the events of its contacts are read from."""

    points: dict[str, np.ndarray]
    velocities: dict[str, np.ndarray]
    heights: dict[str, np.ndarray]
    planted: dict[str, float]
    facing: np.ndarray
    times: np.ndarray
    foot_length: float
    rate: float

    def digest(self) -> bytes:
        """Every input of the events, as bytes: equal digests give equal events."""
        arrays = [self.facing, self.times]
        for parts in (self.points, self.velocities, self.heights):
            arrays += [parts[name] for name in sorted(parts)]
        scales = [self.planted[name] for name in sorted(self.planted)]
        scales += [self.foot_length, self.rate, float(len(self.times))]
        return np.array(scales, np.float64).tobytes() + b"".join(
            np.ascontiguousarray(array, np.float64).tobytes() for array in arrays
        )

    def window(self, lo: int, hi: int) -> _FootSeries:
        """The frames [lo, hi) only (frame 0 of the result is frame ``lo``)."""
        part = slice(lo, hi)
        return replace(
            self,
            points={name: xy[part] for name, xy in self.points.items()},
            velocities={name: speed[part] for name, speed in self.velocities.items()},
            heights={name: height[part] for name, height in self.heights.items()},
            facing=np.asarray(self.facing, np.float64)[part],
            times=self.times[part],
        )


def _contact_events(
    side: str, start: int, stop: int, series: _FootSeries, memo: ContactMemo | None = None
) -> tuple[list[ContactEvent], list[UnfoundEvent]]:
    """IC and TO of the low phase [start, stop) of one foot.

    Worked out on the frames around the contact, not the whole clip: a minute of running holds
    about 180 contacts, and whole-clip arrays per contact made the work grow with the square of
    the clip's length. The window is wide enough for the walks to their edges; a walk that runs
    off it (a contact that will not end) is redone over the whole clip, so the result is the
    same as with whole-clip arrays.
    """
    frames = len(series.times)
    margin = max(int(round(CONTACT_MARGIN_S * series.rate)), stop - start)
    lo, hi = max(0, int(start) - margin), min(frames, int(stop) + margin)
    window = series.window(lo, hi)
    key = (side, int(start), int(stop), lo, hi, frames, window.digest())
    if memo is not None and (kept := memo.recall(key)) is not None:
        return kept
    found, missing, ran_off = _contact_events_in(side, start - lo, stop - lo, window)
    if ran_off and (lo, hi) != (0, frames):
        lo = 0
        found, missing, _ = _contact_events_in(side, start, stop, series)
    shift = float(lo)
    found = [
        replace(event, position=event.position + shift, frame=event.frame + lo) for event in found
    ]
    # A contact under way when the clip starts (or still on when it ends) has its landing (or
    # toe-off) outside the clip, or too near its edge to tell from a blip: nothing is missing.
    edge = max(1, int(round(OUT_OF_CONTACT_S * series.rate)))
    missing = [
        replace(event, near_frame=event.near_frame + lo)
        for event in missing
        if not (event.kind == "IC" and start < edge)
        and not (event.kind == "TO" and stop > frames - edge)
    ]
    if memo is not None and not ran_off:
        memo.keep(key, (found, missing))
    return found, missing


def _contact_events_in(
    side: str, start: int, stop: int, series: _FootSeries
) -> tuple[list[ContactEvent], list[UnfoundEvent], bool]:
    """``_contact_events`` on a series that holds the contact; also whether a walk to an edge
    ran off the series' ends."""
    points, velocities, heights = series.points, series.velocities, series.heights
    planted, foot_length, times, rate = (
        series.planted,
        series.foot_length,
        series.times,
        series.rate,
    )
    facing = series.facing
    core = slice(start + (stop - start) // 4, stop - (stop - start) // 4)
    centre = 0.5 * (points["heel"][core, 0] + points["toe"][core, 0])
    index = np.arange(core.start, core.stop, dtype=np.float64)
    finite = np.isfinite(centre)
    mid = int(start + stop) // 2
    phase = slice(start, stop)
    if finite.sum() < 3:
        reason = "the foot points are unreliable during this contact"
        return [], [UnfoundEvent(side, k, mid, reason) for k in ("IC", "TO")], False
    ground_speed = repeated_median_slope(centre[finite], index[finite])  # px per frame
    # Speeds are compared with the ground's; overground with a still camera the ground does not
    # move, and the foot's own landing speed sets the scale.
    scale = max(abs(ground_speed), MIN_GROUND_SPEED * foot_length / rate)
    ahead = np.asarray(facing, np.float64)
    direction = float(np.sign(np.nanmedian(ahead[start:stop])))
    persist = max(1, int(round(OUT_OF_CONTACT_S * rate)))
    blind = max(1, int(round(MAX_BLIND_S * rate)))
    motion, height = {}, {}
    for part in ("heel", "toe"):
        motion[part] = ahead * (velocities[part] - ground_speed) / scale  # 0: with the ground
        height[part] = (heights[part] - planted[part]) / foot_length
    # Toe-off is a slow release (the foot rolls over the toe): a longer window steadies it.
    toe_motion = ahead * (velocities["toe_release"] - ground_speed) / scale
    events, unfound = [], []
    ic = {
        p: _edge(
            (height[p] - HEIGHT_TOLERANCE, motion[p] - IC_MOTION), phase, -1, p, persist, blind
        )
        for p in ("heel", "toe")
    }
    timed = [edge for edge in ic.values() if isinstance(edge, tuple)]
    landing = [
        (position, f"{p}_forward_end")
        for p in ("heel", "toe")
        if (
            position := _landing_on_moving_ground(
                points[p][:, 0], direction, start, stop, rate, ground_speed, foot_length
            )
        )
        is not None
    ]
    if landing:
        timed = landing
    if timed:
        position, cue = min(timed)
        events.append(_event(side, "IC", position, cue, times))
    elif any(isinstance(edge, str) for edge in ic.values()):
        reason = "; ".join(edge for edge in ic.values() if isinstance(edge, str))
        unfound.append(UnfoundEvent(side, "IC", start, reason))
    to = _edge((height["toe"] - TOE_LIFT, toe_motion - TO_MOTION), phase, +1, "toe", persist, blind)
    if isinstance(to, tuple):
        events.append(_event(side, "TO", to[0], to[1], times))
    elif isinstance(to, str):
        unfound.append(UnfoundEvent(side, "TO", stop - 1, to))
    ran_off = to is None or any(edge is None for edge in ic.values())
    return events, unfound, ran_off


def _landing_on_moving_ground(
    x: np.ndarray,
    direction: float,
    start: int,
    stop: int,
    rate: float,
    ground_speed: float,
    foot_length: float,
) -> float | None:
    """IC on moving ground (a belt, or a panning camera's view): the fractional frame at which
    the foot, carried back by the ground, first lies behind its most forward position.

    The most forward position is looked for in the ``LANDING_WINDOW_S`` before the planted
    phase. IC is where the foot has fallen ``RECEDE`` foot lengths behind it for good (the
    counting rule, with the landmark's jitter as tolerance), seen to stay behind for at least
    ``RECEDE_SEEN_S`` before any frame it is unseen in. Only where it is lost sooner (the
    other foot passing) is the ground's motion through the planted phase followed back to the
    most forward position instead: that line lies late while the belt is still taking the foot
    up to its speed. None on still ground (no motion to follow), where the window is mostly
    unseen, or where the foot never recedes.
    """
    frames = len(x)
    if direction * ground_speed >= 0 or abs(ground_speed) * rate < MIN_BELT_SPEED_PX_PER_S:
        return None
    before = slice(max(0, start - int(round(LANDING_WINDOW_S * rate))), start + 1)
    forward = direction * x[before]
    seen = np.isfinite(forward)
    if seen.mean() < MIN_SEEN_FRACTION:
        return None
    top = before.start + int(np.nanargmax(forward))
    if top == before.start:
        return None  # still coming forward at the window's start (or the clip's): no peak seen
    peak = float(np.nanmax(forward))
    limit = peak - RECEDE * foot_length
    half = min(frames, start + max(3, (stop - start) // 2))
    path = direction * x[top:half]
    unseen = np.flatnonzero(~np.isfinite(path))
    seen_until = int(unseen[0]) if unseen.size else len(path)
    behind = _crossing(path[:seen_until], limit)
    confirm = max(2, int(round(RECEDE_SEEN_S * rate)))
    if behind is not None and (seen_until == len(path) or seen_until - behind >= confirm):
        return top + behind  # seen to recede, and to stay behind, before any unseen frame
    if seen_until == len(path):
        return None
    index = np.arange(frames, dtype=np.float64)
    early = slice(start, half)
    finite = np.isfinite(x[early])
    if finite.sum() < 3:
        return None
    intercept = float(np.median(x[early][finite] - ground_speed * index[early][finite]))
    position = (direction * limit - intercept) / ground_speed
    return float(position) if top <= position <= half else None


def _crossing(values: np.ndarray, level: float) -> float | None:
    """Fractional index at which ``values`` fall below ``level`` for good (linear between):
    a point's jitter can dip below and come back (the toe on a 26 px foot jitters by 2 px), the
    foot carried back by the ground stays behind. None if they are never at ``level`` or
    higher, or still are at the end."""
    above = np.flatnonzero(values >= level)
    if above.size == 0 or above[-1] == len(values) - 1:
        return None
    i = int(above[-1]) + 1
    return float(i - 1 + (values[i - 1] - level) / (values[i - 1] - values[i]))


def _bridged_x(xy: np.ndarray, times: np.ndarray, rate: float) -> np.ndarray:
    """The horizontal position with gaps of up to ``BRIDGE_S`` (and single unseen frames)
    drawn in, shape-preserving cubic as cleaning fills joints: a speed taken over a window
    must not stop at an unseen frame, where a fit to the samples before it runs off their
    curve."""
    points = np.concatenate([xy, np.ones((len(xy), 1))], axis=1)[:, None, :]
    return fill_short_gaps(points, times, max(BRIDGE_S, 2.0 / rate))[0][:, 0, 0]


def _velocity(x: np.ndarray, rate: float, window_s: float = VELOCITY_S) -> np.ndarray:
    """Horizontal speed in pixels per frame: Savitzky-Golay derivative over runs of samples."""
    window = max(3, int(round(window_s * rate)) | 1)
    return savgol_over_runs(x, _runs(np.isfinite(x), window), window, 2, deriv=1)


def _edge(
    conditions: tuple[np.ndarray, ...],
    phase: slice,
    direction: int,
    part: str,
    persist: int,
    max_blind: int,
) -> tuple[float, str] | str | None:
    """Walk from the middle of the low ``phase`` in ``direction`` until a condition turns
    positive; the crossing.

    Conditions are <= 0 in contact. Returns the fractional frame at which the first failing
    condition crosses zero (linear between the last frame seen in contact and the first one
    out) and its cue. The foot must then stay out of contact for ``persist`` frames: a
    landmark that jumps for a frame or two mid-stance (another foot passing) is no edge.
    Returns a reason (str) where no frame of the phase is in contact by these conditions, or
    where the point goes unseen for more than ``max_blind`` frames before an edge is seen, and
    None where the contact runs past the clip's end. (A walk started in another contact, the
    nearest frame in contact outside the phase, would time that contact's edge instead.)
    """
    names = ("height", "motion")
    frames = len(conditions[0])
    stack = np.stack(conditions)
    seen = np.isfinite(stack).all(axis=0)
    inside = np.all(stack <= 0, axis=0) & seen
    candidates = phase.start + np.flatnonzero(inside[phase])
    if candidates.size == 0:
        return f"the {part} is not seen on the ground"
    # start from the frame in contact nearest the middle of the low phase
    mid = (phase.start + phase.stop) // 2
    last_in = int(candidates[np.argmin(np.abs(candidates - mid))])
    blind = 0
    current = last_in
    while True:
        current += direction
        if not 0 <= current < frames:
            return None
        if not seen[current]:
            blind += 1
            if blind > max_blind:
                return f"the {part} is unseen or unreliable there"
            continue
        if inside[current]:
            last_in, blind = current, 0
            continue
        ahead = current + direction * np.arange(1, persist + 1)
        if ahead.min() < 0 or ahead.max() >= frames:
            return None  # too near the clip's end to tell an edge from a blip
        back_in = ahead[inside[ahead]]
        if back_in.size:  # out for less than ``persist`` frames: a blip, not the edge
            current = last_in = int(back_in[0])
            blind = 0
            continue
        crossings = []
        for i in np.flatnonzero(stack[:, current] > 0):
            before, after = stack[i, last_in], stack[i, current]
            fraction = before / (before - after) if after != before else 0.0
            crossings.append((last_in + direction * fraction * abs(current - last_in), i))
        # The contact ends at the first condition to fail along the walk.
        position, which = (max if direction < 0 else min)(crossings)
        return float(position), f"{part}_{names[which]}"


def _event(side: str, kind: str, position: float, cue: str, times: np.ndarray) -> ContactEvent:
    frames = len(times)
    frame = int(np.ceil(position - 1e-9)) if kind == "IC" else int(np.floor(position + 1e-9))
    frame = min(max(frame, 0), frames - 1)
    below = min(max(int(np.floor(position)), 0), frames - 1)
    above = min(below + 1, frames - 1)
    fraction = min(max(position - below, 0.0), 1.0) if above > below else 0.0
    time = float(times[below] + fraction * (times[above] - times[below]))
    return ContactEvent(side, kind, float(position), frame, time, cue)
