"""Longest UI-thread stall while the app analyses a clip (and plays it at the same time).

A 10 ms QTimer records the gap between its ticks; any gap well over 10 ms is time the UI thread
could not react (decoding, painting, signal floods). The same measurement on the idle app is
the baseline, printed alongside, in the same run:

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_ui_stall.py [VIDEO] [--switch N]

``--switch N`` then opens another copy of the clip N times, 1.5 s apart, each while the previous
one is being analysed (the old analysis is cancelled, never waited for), and reports that too.

Default clip: the portrait 1080x1920 treadmill video (the heaviest frames to decode and draw).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

from benchmarks.common import find_shared_data  # noqa: E402

CLIP = "treadmill_side_IMG_5396.mp4"


def default_video() -> Path | None:
    """The clip in $RHPNET_COACH_DATA/videos or ../shared/data/videos beside the checkout."""
    data = find_shared_data(f"videos/{CLIP}")
    return None if data is None else data / "videos" / CLIP


class StallProbe:
    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000.0)
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return list(self.gaps)


def summary(gaps: list[float]) -> str:
    import numpy as np

    g = np.asarray(gaps)
    return (
        f"max {g.max():6.1f} ms  p99 {np.percentile(g, 99):5.1f} ms  "
        f"median {np.median(g):4.1f} ms  gaps>100ms {int((g > 100).sum())}  ticks {len(g)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=default_video())
    parser.add_argument("--no-play", action="store_true", help="only analyse, do not play")
    parser.add_argument(
        "--switch", type=int, default=0, metavar="N", help="then switch videos N times mid-analysis"
    )
    args = parser.parse_args()
    if args.video is None:
        parser.error(f"{CLIP} not found: pass a video path or set RHPNET_COACH_DATA")

    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from app.ui.main import create_app
    from app.ui.settings import AppSettings

    _app = create_app()  # keep the QApplication alive for the whole run
    from app.ui.main_window import MainWindow

    work = Path(tempfile.mkdtemp(prefix="bench_ui_stall_"))
    os.environ["XDG_DATA_HOME"] = str(work / "data")
    video = work / args.video.name
    shutil.copy2(args.video, video)  # no sidecar: the analysis really runs
    settings = AppSettings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(settings)
    window.resize(1400, 900)
    window.show()
    probe = StallProbe()

    def run_for(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    run_for(0.5)
    probe.start()
    run_for(3.0)
    idle = probe.stop()

    errors: list[str] = []
    window.errorReported.connect(errors.append)
    started = time.perf_counter()
    probe.start()
    window.open_video(video)
    window.player.positionChanged.connect(lambda _i: None)
    while window.session.analysis is None or window.session.busy:
        if not args.no_play and window.player.frame_count and not window.player.is_playing:
            window.player.play()  # keep decoding and painting frames while it analyses
        run_for(0.05)
        if errors:
            break
    busy = probe.stop()
    elapsed = time.perf_counter() - started
    frames = window.session.analysis.frame_count if window.session.analysis is not None else 0
    switching: list[float] = []
    if args.switch and not errors:
        copies = [work / f"switch_{i}{video.suffix}" for i in range(2)]
        for copy in copies:
            shutil.copy2(args.video, copy)
        probe.start()
        for i in range(args.switch):
            window.open_video(copies[i % 2])
            run_for(1.5)
        switching = probe.stop()
    window.close()
    shutil.rmtree(work, ignore_errors=True)
    if errors:
        print(f"error: {errors[0]}")
        return 1
    print(
        f"video: {args.video.name}, {frames} frames analysed in "
        f"{elapsed:.1f} s" + ("" if args.no_play else " while playing")
    )
    print(f"idle app        : {summary(idle)}")
    print(f"during analysis : {summary(busy)}")
    print(f"longest stall ratio (analysis / idle): {max(busy) / max(idle):.2f}")
    if switching:
        print(f"switching videos: {summary(switching)}  ({args.switch} switches mid-analysis)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
