"""How long a hand correction takes to show in the numbers (docs/corrections.md).

A coach drags a keypoint; cleaning, angles, gait events and metrics are recomputed from the
corrected track (``build_report``), then shaped for the views (``build_report_view``). Measured on
one minute of 60 fps running: the real analysis of ``treadmill_side_IMG_5396.mp4`` (388 frames)
repeated to 3600 frames. Prints, in one run, the time of a whole report (the baseline), and of
the recompute after one edit of each kind and after 50 edits of every kind, each through a
report cache that last saw the analysis before the edit (as in the app: a stage whose inputs the
edit left unchanged is not run again), with the ratio to the baseline; then the time the UI
thread takes to show such a report in a real (offscreen) main window. The app's goal: under
200 ms from the edit to the updated metrics.

    python benchmarks/bench_recompute.py
"""

from __future__ import annotations

import dataclasses
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.analysis import Analysis, Track  # noqa: E402
from app.core.corrections import Corrections, EventEdit, KeypointMove, LegSwap  # noqa: E402
from app.core.pipeline import analyze_video  # noqa: E402
from app.core.report_cache import ReportCache  # noqa: E402
from app.core.running_report import build_report  # noqa: E402
from app.viewmodels.report_view import build_report_view  # noqa: E402
from benchmarks.common import find_shared_data, machine_summary  # noqa: E402
from rhpnet.skeleton import POSE_KEYPOINT_NAMES  # noqa: E402

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


def timed_report(analysis: Analysis, repeat: int, before: Analysis | None = None) -> float:
    """Median seconds of build_report + build_report_view; with ``before``, as the app does
    after an edit: through a report cache that last saw the analysis before the edit."""
    seconds = []
    for _ in range(repeat):
        cache = None
        if before is not None:
            cache = ReportCache()
            build_report(before, cache=cache)
        started = time.perf_counter()
        build_report_view(build_report(analysis, cache=cache), analysis)
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds))


def edits_to_time(analysis: Analysis) -> list[tuple[str, Corrections]]:
    """One edit of each kind a coach makes, and fifty of every kind at once."""
    track_id = analysis.subject_id
    keypoints = analysis.subject().keypoints
    knee_x, knee_y = keypoints[1800, POSE_KEYPOINT_NAMES.index("right_knee"), :2]
    heel_x, heel_y = keypoints[1800, POSE_KEYPOINT_NAMES.index("right_heel"), :2]
    many = Corrections()
    for n in range(40):
        many = many.plus(
            KeypointMove(track_id, 60 + 80 * n, "right_ankle", float(knee_x), float(knee_y))
        )
    for n in range(5):
        many = many.plus(LegSwap(track_id, 400 + 600 * n, 405 + 600 * n))
        many = many.plus(EventEdit(track_id, "right", "IC", "add", 300 + 700 * n))
    one = Corrections().plus
    return [
        ("a foot strike added", one(EventEdit(track_id, "right", "IC", "add", 1805))),
        (
            "a knee moved",
            one(KeypointMove(track_id, 1800, "right_knee", float(knee_x), float(knee_y) + 20)),
        ),
        (
            "a heel moved",
            one(KeypointMove(track_id, 1800, "right_heel", float(heel_x) - 15, float(heel_y))),
        ),
        ("a leg swap over 6 frames", one(LegSwap(track_id, 1800, 1805))),
        ("50 edits of every kind", many),
    ]


def timed_display(analysis: Analysis, repeat: int) -> float:
    """Median seconds the UI thread spends showing a recomputed report: the app's plots,
    metrics panel and steps table of a real main window (offscreen), as after every edit."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.ui.main import create_app
    from app.ui.main_window import MainWindow
    from app.ui.settings import AppSettings

    app = create_app()
    work = Path(tempfile.mkdtemp(prefix="bench_recompute_"))
    settings = AppSettings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings)
    window.resize(1400, 900)
    window.show()
    view = build_report_view(build_report(analysis), analysis)
    seconds = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        window.panels.show_report(view, 0.0)
        app.processEvents()  # the repaint it causes
        seconds.append(time.perf_counter() - started)
    window.close()
    QApplication.processEvents()
    return float(np.median(seconds[1:]))


def main() -> None:
    data = find_shared_data("videos")
    if data is None:
        raise SystemExit("real videos not found: set RHPNET_COACH_DATA")
    print(machine_summary())
    analysis = minute_of_running(data / "videos" / "treadmill_side_IMG_5396.mp4")
    gc.freeze()  # as the app does with its start-up heap (app/ui/main.py)
    timed_report(analysis, 1)  # warm-up
    baseline = timed_report(analysis, 7)
    print(f"{FRAMES} frames; whole report without a cache (baseline): {baseline * 1000:.0f} ms")
    for label, corrections in edits_to_time(analysis):
        edited = dataclasses.replace(analysis, corrections=corrections)
        seconds = timed_report(edited, 7, before=analysis)
        print(
            f"recompute after {label}: {seconds * 1000:.0f} ms  (x{seconds / baseline:.2f} the "
            f"baseline; goal under 200 ms)"
        )
    shown = timed_display(analysis, 5)
    print(
        f"then showing the report on the UI thread (plots, metrics, {FRAMES} frames' steps): "
        f"{shown * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
