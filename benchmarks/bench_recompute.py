"""How long a hand correction takes to show in the numbers (docs/corrections.md).

A coach drags a keypoint; cleaning, angles, gait events and metrics are recomputed from the
corrected track (``build_report``), then shaped for the views (``build_report_view``). Measured on
one minute of 60 fps running: the real analysis of ``treadmill_side_IMG_5396.mp4`` (388 frames)
repeated to 3600 frames. Prints, in one run, the time of a report without edits (the baseline)
and after one moved keypoint, and after 50 edits of every kind, with the ratio to the baseline.
The app's goal: under 200 ms from the edit to the updated metrics.

    python benchmarks/bench_recompute.py
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.analysis import Analysis, Track  # noqa: E402
from app.core.corrections import Corrections, EventEdit, KeypointMove, LegSwap  # noqa: E402
from app.core.pipeline import analyze_video  # noqa: E402
from app.core.running_report import build_report  # noqa: E402
from app.viewmodels.report_view import build_report_view  # noqa: E402
from benchmarks.common import find_shared_data, machine_summary  # noqa: E402

FRAMES = 3600  # one minute at 60 fps


def minute_of_running(clip: Path) -> Analysis:
    analysis = analyze_video(clip)
    subject = analysis.subject()
    repeats = int(np.ceil(FRAMES / analysis.frame_count))
    step = float(np.median(np.diff(analysis.times_s)))
    times = np.arange(FRAMES) * step
    track = Track(
        subject.track_id,
        np.tile(subject.keypoints, (repeats, 1, 1))[:FRAMES],
        np.tile(subject.boxes, (repeats, 1))[:FRAMES],
        np.tile(subject.scores, repeats)[:FRAMES],
    )
    video = dataclasses.replace(analysis.video, frame_count=FRAMES, duration_s=FRAMES * step)
    return dataclasses.replace(
        analysis, video=video, times_s=times, tracks={subject.track_id: track}
    )


def timed_report(analysis: Analysis, repeat: int) -> float:
    """Median seconds of build_report + build_report_view."""
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        build_report_view(build_report(analysis), analysis)
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds))


def main() -> None:
    data = find_shared_data("videos")
    if data is None:
        raise SystemExit("real videos not found: set RHPNET_COACH_DATA")
    print(machine_summary())
    analysis = minute_of_running(data / "videos" / "treadmill_side_IMG_5396.mp4")
    track_id = analysis.subject_id
    x, y = analysis.subject().keypoints[1800, 14, :2]
    one = Corrections().plus(KeypointMove(track_id, 1800, "right_knee", float(x), float(y) + 20))
    many = Corrections()
    for n in range(40):
        many = many.plus(KeypointMove(track_id, 60 + 80 * n, "right_ankle", float(x), float(y)))
    for n in range(5):
        many = many.plus(LegSwap(track_id, 400 + 600 * n, 405 + 600 * n))
        many = many.plus(EventEdit(track_id, "right", "IC", "add", 300 + 700 * n))
    timed_report(analysis, 1)  # warm-up
    baseline = timed_report(analysis, 7)
    print(f"{FRAMES} frames; report without edits (baseline): {baseline * 1000:.0f} ms")
    for label, corrections in (("one moved keypoint", one), ("50 edits of every kind", many)):
        seconds = timed_report(dataclasses.replace(analysis, corrections=corrections), 7)
        print(
            f"report after {label}: {seconds * 1000:.0f} ms  (x{seconds / baseline:.2f} the "
            f"baseline; goal under 200 ms)"
        )


if __name__ == "__main__":
    main()
