"""From an ``Analysis`` to the running report: cleaned track, angles, gait events, metrics, files.

This is the one entry point the ``analyze`` command and the desktop app share:

    report = build_report(analysis, runner_height_cm=178)

and the writers of its files: ``<stem>.angles.csv`` (frame, time_s, track_id, one column per
angle in degrees), ``<stem>.metrics.json`` (summaries with typical ranges and flags, the steps,
the asymmetries) and ``<stem>.angles.png`` (main angle curves with the gait events marked);
their names and which option asks for them are in ``app/core/outputs.py``. Every file is
written atomically. Conventions and definitions: docs/kinematics.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from app.core.analysis import Analysis
from app.core.cadence import count_cadence
from app.core.camera_motion import MOVING_CAMERA_SHARE_PER_S, moving_share_per_s
from app.core.cleaning import CleanedTrack, CleaningSettings, clean_track
from app.core.corrections import MANUAL, rests_on_edits
from app.core.foot_contact import detect_foot_contacts, feet_from_keypoints
from app.core.gait import ANKLE_PELVIS, FEET, GaitEvents, detect_gait_events, with_event_edits
from app.core.kinematics import (
    ANGLE_NAMES,
    SIDES,
    facing_direction,
    foot_length_px,
    joint_angles,
    leg_length_px,
    local_leg_length_px,
)
from app.core.metrics import (
    FOREFOOT_BELOW_DEG,
    LEG_LENGTH_PER_HEIGHT,
    REARFOOT_ABOVE_DEG,
    MetricSummary,
    StepMetrics,
    step_metrics,
    summarize,
)
from app.core.options import DEFAULT_CUTOFF_HZ, LIMITS
from app.core.overlay_style import plot_colour
from app.core.plausibility import (
    DroppedValue,
    dropped_note,
    screen_counted_cadence,
    screen_steps,
    slow_steps_hint,
)
from app.core.reliability import MIN_STEPS, ClipConditions, leg_visibility
from app.core.report_cache import ReportCache
from app.core.table_text import csv_from_columns, number_column
from app.core.track_extension import followable
from rhpnet.atomic import atomic_path, atomic_write_text
from rhpnet.errors import DataError
from rhpnet.skeleton import POSE_KEYPOINT_NAMES, as_pose_layout

METRICS_FORMAT = 1
# Fewer ground contacts than this make means and SDs a guess: the report says so in its notes.
MIN_STEPS_FOR_SUMMARY = MIN_STEPS


# Altman & Davis' midfoot band is 9.6 deg wide: a foot shorter than MIN_FOOT_PX in the picture
# moves by more than 2.9 deg for one pixel of landmark error at each end, and its pattern is noise
# (treadmill_side_slow, 25 px feet: rearfoot, midfoot and forefoot among 4 right-foot contacts).
MIN_FOOT_PX = 40.0
MIDFOOT_BAND_DEG = REARFOOT_ABOVE_DEG - FOREFOOT_BELOW_DEG
MIN_STRIKE_CONTACTS = 4
MIN_STRIKE_SHARE = 0.6  # of the seen foot's contacts, for their most common pattern


@dataclass
class RunningReport:
    """Everything derived from one runner's track; pure data, ready for views and exports."""

    video_path: str
    track_id: int
    frames: np.ndarray  # (T,) frame indices
    video_times_s: np.ndarray  # (T,) presentation times of the video
    real_times_s: np.ndarray  # (T,) slow-motion corrected
    slowmo: float
    cleaned: CleanedTrack
    facing: np.ndarray  # (T,) +1 facing image right, -1 facing left
    angles: dict[str, np.ndarray]  # name -> (T,) degrees, ANGLE_NAMES order
    gait: GaitEvents
    steps: list[StepMetrics]
    summary: dict[str, MetricSummary]
    leg_length_px: float
    runner_height_cm: float | None
    cutoff_hz: float | None
    notes: list[str] = field(default_factory=list)
    dropped: list[DroppedValue] = field(default_factory=list)
    conditions: ClipConditions | None = None
    # (T, K) points the user's corrections changed, and how much was edited (docs/corrections.md)
    edited_points: np.ndarray | None = None
    edits: dict[str, int] = field(default_factory=dict)
    foot_length_px: float = math.nan  # heel to toe of the seen leg(s), in the picture

    @property
    def steps_on_edits(self) -> int:
        """Steps whose values rest on a corrected keypoint or an event placed by hand."""
        if self.edited_points is None:
            return 0
        edited_frames = self.edited_points.any(axis=1)
        placed = [e.frame for e in self.gait.events if e.method == MANUAL]
        return sum(
            rests_on_edits(range(step.ic_frame, step.to_frame + 1), edited_frames, placed)
            for step in self.steps
        )

    @property
    def strike_patterns(self) -> dict[str, dict[str, int]]:
        """Per leg, how many steps landed rearfoot, midfoot and forefoot."""
        counts: dict[str, dict[str, int]] = {side: {} for side in SIDES}
        for step in self.steps:
            if step.strike_pattern is not None:
                side = counts[step.side]
                side[step.strike_pattern] = side.get(step.strike_pattern, 0) + 1
        return counts

    @property
    def strike_text(self) -> str:
        """'lands rearfoot (7 of 8 right-foot contacts)', from the seen leg(s); '' if unmeasured
        or not judged (``strike_withheld`` says why)."""
        return self._strike_judgement()[0]

    @property
    def strike_withheld(self) -> str | None:
        """Why no foot strike pattern is given although contacts were measured (None if one is
        given, or nothing was measured)."""
        return self._strike_judgement()[1]

    def _strike_judgement(self) -> tuple[str, str | None]:
        """The pattern most of the seen foot's contacts show, where the feet are large enough in
        the picture and the contacts many and consistent enough to name one."""
        far = self.conditions.far_side if self.conditions is not None else None
        counts: dict[str, int] = {}
        for side, patterns in self.strike_patterns.items():
            if side != far:
                for pattern, n in patterns.items():
                    counts[pattern] = counts.get(pattern, 0) + n
        if not counts:
            return "", None
        withheld = "no foot strike pattern is given: "
        foot = self.foot_length_px
        if not foot >= MIN_FOOT_PX:
            error = math.degrees(math.atan(2.0 / foot)) if foot > 0 else math.inf
            return "", withheld + (
                f"the feet are about {foot:.0f} px long, so a pixel of landmark error at each "
                f"end turns the foot by up to {error:.0f} deg, against a midfoot band "
                f"{MIDFOOT_BAND_DEG:.1f} deg wide"
            )
        total = sum(counts.values())
        pattern, n = max(counts.items(), key=lambda item: item[1])
        listed = ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda i: -i[1]))
        if total < MIN_STRIKE_CONTACTS:
            return "", withheld + f"only {total} contacts of the seen foot ({listed})"
        if n < MIN_STRIKE_SHARE * total:
            return "", withheld + f"the contacts disagree ({listed})"
        feet = "foot" if far is None else f"{'right' if far == 'left' else 'left'}-foot"
        return f"lands {pattern} ({n} of {total} {feet} contacts)", None

    @property
    def asymmetry(self) -> dict[str, float | None]:
        return {key: s.asymmetry_pct for key, s in self.summary.items()}

    @property
    def facing_label(self) -> str:
        """Which way the runner faces in the image: 'right', 'left', or 'both' (turns around)."""
        directions = {"right" if value > 0 else "left" for value in np.unique(self.facing)}
        return directions.pop() if len(directions) == 1 else "both"


def build_report(
    analysis: Analysis,
    *,
    track_id: int | None = None,
    runner_height_cm: float | None = None,
    cutoff_hz: float | None = DEFAULT_CUTOFF_HZ,
    cleaning: CleaningSettings | None = None,
    cache: ReportCache | None = None,
) -> RunningReport:
    """Clean the runner's track, compute angles, gait events and metrics.

    ``track_id`` defaults to the analysis' subject. ``cutoff_hz`` (real-time Hz, None = no
    low-pass) overrides the cleaning settings' cutoff. ``cache`` (one per video) reuses the
    stages whose inputs did not change since its last report: the recompute after a hand
    correction. Raises ``DataError`` if there is no runner.
    """
    heights = LIMITS.runner_height_cm
    if runner_height_cm is not None and not heights.accepts(runner_height_cm):
        raise DataError(
            f"runner height {runner_height_cm} cm is not a human height "
            f"({heights.low:g}-{heights.high:g} cm)"
        )
    track_id = analysis.subject_id if track_id is None else track_id
    if track_id is None or track_id not in analysis.tracks:
        raise DataError(f"{analysis.video.path}: no runner track to analyse")
    # Every number below reads the user's corrections (docs/corrections.md), never the raw estimate.
    track, edited = analysis.corrected_track(track_id)
    settings = replace(cleaning or CleaningSettings(), cutoff_hz=cutoff_hz)
    real_times = analysis.real_times_s
    cleaned = (cache.clean_track if cache else clean_track)(track.keypoints, real_times, settings)
    points = cleaned.keypoints
    length = leg_length_px(points)
    facing = facing_direction(points, real_times)
    angles = joint_angles(points, facing)
    knees = {side: angles[f"knee_flexion_{side}"] for side in SIDES}
    # Contact is timed on the unsmoothed feet: a low-pass rounds off the landing.
    feet = feet_from_keypoints(cleaned.unsmoothed_keypoints, POSE_KEYPOINT_NAMES)
    size = (analysis.video.width, analysis.video.height)
    gait = with_event_edits(
        detect_gait_events(
            points,
            real_times,
            facing,
            knees,
            length,
            feet,
            size,
            cache.detect_foot_contacts if cache else detect_foot_contacts,
        ),
        track_id,
        analysis.corrections,
        real_times,
    )
    unsmoothed_angles = joint_angles(cleaned.unsmoothed_keypoints, facing)
    measured = (
        step_metrics(
            gait.steps,
            points,
            real_times,
            facing,
            angles,
            local_leg_length_px(points, real_times),
            unsmoothed_angles,
        )
        if np.isfinite(length)
        else []
    )
    steps, dropped = screen_steps(measured, 1.0 / cleaned.sample_rate_hz)
    counted, count_drops = screen_counted_cadence(
        count_cadence([(e.time_s, e.side) for e in gait.events if e.kind == "IC"]), steps
    )
    dropped += count_drops
    video = analysis.video
    camera_share = moving_share_per_s(analysis.camera_shift_px, video.width, video.fps)
    camera_note = _withhold_on_moving_camera(steps, camera_share)
    conditions = ClipConditions(
        frame_rate_hz=cleaned.sample_rate_hz,
        leg_length_px=length,
        leg_visibility=leg_visibility(as_pose_layout(track.keypoints)),
        ankle_timed_share=_ankle_timed_share(gait),
        camera_share_per_s=camera_share,
    )
    summary = summarize(steps, runner_height_cm, conditions, counted)
    notes = _notes(gait, steps, facing)
    for note in (
        dropped_note(dropped, len(measured)),
        slow_steps_hint(dropped, len(measured)),
        camera_note,
    ):
        if note is not None:
            notes.append(note)
    if analysis.scene_cuts:
        present = np.flatnonzero(track.present)
        notes.append(
            f"the footage has {len(analysis.scene_cuts)} scene cuts (frames "
            f"{', '.join(str(f) for f in analysis.scene_cuts)}): no track or step spans one; "
            f"this runner's track covers frames {present[0]}-{present[-1]}"
        )
    if (note := _people_in_turn_note(analysis, int(track_id))) is not None:
        notes.append(note)
    if conditions.far_side is not None:
        notes.append(
            f"the {conditions.far_side} leg is the far one, often hidden behind the other: its "
            "angles and distances are guesses, left out of the means and of the asymmetries"
        )
    report = RunningReport(
        video_path=analysis.video.path,
        track_id=int(track_id),
        frames=np.arange(analysis.frame_count),
        video_times_s=np.asarray(analysis.times_s, np.float64),
        real_times_s=real_times,
        slowmo=float(analysis.slowmo),
        cleaned=cleaned,
        facing=facing,
        angles=angles,
        gait=gait,
        steps=steps,
        summary=summary,
        leg_length_px=length,
        runner_height_cm=runner_height_cm,
        cutoff_hz=cutoff_hz,
        notes=notes,
        dropped=dropped,
        conditions=conditions,
        edited_points=edited,
        edits=analysis.corrections.summary(track_id),
        foot_length_px=foot_length_px(
            points, tuple(side for side in SIDES if side != conditions.far_side)
        ),
    )
    if report.strike_withheld is not None:
        report.notes.append(report.strike_withheld)
    return report


def _withhold_on_moving_camera(steps: list[StepMetrics], share: float | None) -> str | None:
    """Clear the vertical oscillation of every step where the camera moves (``share``: the
    background's speed, ``moving_share_per_s``), and say why.

    The mid-hip's rise and fall in the picture is the runner's only when the camera is still; a
    pan or a tracking shot moves it too (docs/kinematics.md, "Impossible values")."""
    if share is None or share <= MOVING_CAMERA_SHARE_PER_S:
        return None
    for step in steps:
        step.vertical_oscillation = math.nan
    return (
        f"the camera moves (the background travels about {100 * share:.0f} % of the frame's "
        "width per second): vertical oscillation needs a still camera and is left out"
    )


def _ankle_timed_share(gait: GaitEvents) -> dict[str, float]:
    share = {}
    for side in SIDES:
        methods = [event.method for event in gait.events if event.side == side]
        share[side] = methods.count(ANKLE_PELVIS) / len(methods) if methods else 0.0
    return share


def _people_in_turn_note(analysis: Analysis, track_id: int) -> str | None:
    """With one person followed per frame, the detector loses the runner or goes to someone
    else where several people are in the picture (race footage): each stretch becomes a track,
    and the runner's covers only part of the clip. Said where another track of the runner's
    shot was seen over a second or more (the shots of a clip with cuts are one track each)."""
    if analysis.model.get("settings", {}).get("max_people", 1) != 1:
        return None
    cuts = np.asarray(sorted(analysis.scene_cuts), np.int64)
    seen = {tid: np.flatnonzero(t.present) for tid, t in analysis.tracks.items()}
    shot = np.searchsorted(cuts, seen[track_id][0], side="right")
    others = [
        tid
        for tid, track in analysis.tracks.items()
        if tid != track_id
        and followable(track, analysis.times_s)
        and np.searchsorted(cuts, seen[tid][0], side="right") == shot
    ]
    if not others:
        return None
    return (
        f"this runner's track covers frames {seen[track_id][0]}-{seen[track_id][-1]} only: one "
        f"person is followed per frame, and {len(others)} more track(s) of a second or more "
        "were seen in this shot (the detector lost the runner, or went to someone else); with "
        f"--max-people {len(others) + 1} or more (in the app: Settings, Max people) people "
        "are told apart by their clothes and followed into the frames the detector missed them "
        "in, which can give the runner one longer track"
    )


def _notes(gait: GaitEvents, steps: list[StepMetrics], facing: np.ndarray) -> list[str]:
    notes = []
    methods = [event.method for event in gait.events]
    if FEET in methods and ANKLE_PELVIS in methods:
        notes.append(
            f"{methods.count(ANKLE_PELVIS)} of {len(methods)} foot events are timed from the "
            "ankles (the feet were not seen reliably there): those are a few frames early"
        )
    for missing in gait.missing:
        notes.append(
            f"{missing.side} {missing.kind} near frame {missing.near_frame} not found: "
            f"{missing.reason}"
        )
    if gait.stride_s is None and gait.suggested_slowmo is not None:
        notes.append(
            f"the legs swing once every {gait.slow_swing_s:.1f} s, too slow for running: if the "
            f"footage is slow motion, give its slow-motion factor (about "
            f"{gait.suggested_slowmo:.0f} here; 4 for 120 fps played at 30), with --slowmo or "
            "in the app's settings"
        )
    elif gait.stride_s is None:
        notes.append("no periodic leg motion found: no gait events or running metrics")
    elif len(steps) < MIN_STEPS_FOR_SUMMARY:
        notes.append(f"only {len(steps)} ground contacts found: metrics are unreliable")
    if np.any(facing != facing[0]):
        notes.append("the runner changes direction during the clip")
    return notes


def write_angles_csv(report: RunningReport, path: Path) -> Path:
    """One row per frame; ``time_s`` is the video's presentation time (as in keypoints.csv)."""
    columns = [
        np.asarray(report.frames).astype(str),
        number_column(report.video_times_s, "%.6f"),
        np.full(len(report.frames), str(report.track_id)),
        *(number_column(report.angles[name], "%.2f") for name in ANGLE_NAMES),
    ]
    atomic_write_text(
        path, csv_from_columns(["frame", "time_s", "track_id", *ANGLE_NAMES], columns)
    )
    return path


def metrics_document(report: RunningReport) -> dict[str, Any]:
    """The content of ``metrics.json`` as plain JSON-able data (NaN becomes null)."""
    leg_cm = LEG_LENGTH_PER_HEIGHT * report.runner_height_cm if report.runner_height_cm else None
    document: dict[str, Any] = {
        "format": METRICS_FORMAT,
        "video": report.video_path,
        "track_id": report.track_id,
        "time_base": "real seconds (video time / slowmo)",
        "slowmo": report.slowmo,
        "frame_rate_hz": report.cleaned.sample_rate_hz,
        "filter_cutoff_hz": report.cutoff_hz,
        "runner_height_cm": report.runner_height_cm,
        "leg_length_px": report.leg_length_px,
        "leg_length_cm": leg_cm,
        "facing": report.facing_label,
        "stride_time_s": report.gait.stride_s,
    }
    for key, summary in report.summary.items():
        document[key] = summary.to_dict()
    document["steps"] = [asdict(step) for step in report.steps]
    document["asymmetry"] = report.asymmetry
    document["events"] = [asdict(event) for event in report.gait.events]
    document["missing_events"] = [asdict(missing) for missing in report.gait.missing]
    document["dropped"] = [asdict(value) for value in report.dropped]
    document["foot_strike_patterns"] = report.strike_patterns
    if report.conditions is not None:
        document["far_leg"] = report.conditions.far_side
        document["leg_visibility"] = report.conditions.leg_visibility
    document["manual_edits"] = {**report.edits, "steps_resting_on_edits": report.steps_on_edits}
    document["notes"] = list(report.notes)
    return _json_safe(document)


def write_metrics_json(report: RunningReport, path: Path) -> Path:
    atomic_write_text(path, json.dumps(metrics_document(report), indent=2, allow_nan=False))
    return path


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


PLOTTED_ANGLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Knee flexion (deg)", ("knee_flexion_left", "knee_flexion_right")),
    ("Hip flexion (deg)", ("hip_flexion_left", "hip_flexion_right")),
    ("Elbow flexion (deg)", ("elbow_flexion_left", "elbow_flexion_right")),
    ("Trunk lean (deg)", ("trunk_lean",)),
)


def write_angle_plot(report: RunningReport, path: Path) -> Path:
    """PNG of the main angle curves against real time, ICs solid and TOs dashed per foot."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 9), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(PLOTTED_ANGLES), 1, sharex=True)
    time = report.real_times_s - report.real_times_s[0]
    for ax, (title, names) in zip(axes, PLOTTED_ANGLES, strict=True):
        for name in names:
            side = name.rsplit("_", 1)[-1]
            colour = plot_colour(side)
            ax.plot(time, report.angles[name], color=colour, lw=1.2, label=side)
        for event in report.gait.events:
            ax.axvline(
                event.time_s - report.real_times_s[0],
                color=plot_colour(event.side),
                ls="-" if event.kind == "IC" else "--",
                lw=0.6,
                alpha=0.6,
            )
        ax.set_ylabel(title)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper right", fontsize=8)
    axes[0].set_title(
        f"{Path(report.video_path).name} (track {report.track_id}): "
        "initial contact solid, toe-off dashed"
    )
    axes[-1].set_xlabel("time (s, real)")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    return path
