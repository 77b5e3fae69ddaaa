"""Pipeline speed and memory, measured in one run on the same machine and video.

(a) raw loop: OpenCV decodes a frame, converts it to RGB, mediapipe ``Pose.process`` runs on it,
    strictly one after the other (what a straightforward script does);
(b) our ``analyze --no-video`` path: ``analyze_video`` (decoding thread + bounded queue,
    BlazePose, tracking) then the CSV/COCO/sidecar exports.

Prints frames/s of both and the ratio b/a (goal >= 1.0, aim 1.3). Both use the same BlazePose
settings (full model, complexity 1, no mediapipe smoothing), so the ratio measures the pipeline.

``--long-minutes M`` then analyses the ``--long-video`` clip looped to M minutes of video with the
real estimator and prints the resident memory (RSS) as the analysis goes: it must stay flat.

    python benchmarks/bench_pipeline.py                      # ratio on the 1080x1920 clip
    python benchmarks/bench_pipeline.py --long-minutes 10    # plus the 10-minute memory run
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.export import ExportOptions, write_video_outputs  # noqa: E402
from app.core.pipeline import analyze_video  # noqa: E402
from benchmarks.common import find_shared_data  # noqa: E402
from rhpnet.media.info import VideoInfo  # noqa: E402
from rhpnet.media.video import Frame, VideoSource, open_video  # noqa: E402


def shared_videos() -> Path:
    data = find_shared_data("videos")
    if data is None:
        raise SystemExit("real videos not found: set RHPNET_COACH_DATA")
    return data / "videos"


def raw_loop(path: Path) -> tuple[int, float]:
    """Decode with OpenCV, convert to RGB, run mediapipe Pose: sequential. -> (frames, seconds)."""
    from rhpnet.estimators.blazepose import import_mediapipe

    mp = import_mediapipe()
    started = time.perf_counter()
    pose = mp.solutions.pose.Pose(
        static_image_mode=False, model_complexity=1, smooth_landmarks=False
    )
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        pose.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        frames += 1
    capture.release()
    pose.close()
    return frames, time.perf_counter() - started


def our_path(path: Path, out_dir: Path) -> tuple[int, float]:
    """``analyze --no-video``: analysis plus every export but the overlay video."""
    started = time.perf_counter()
    analysis = analyze_video(path)
    write_video_outputs(analysis, out_dir, ExportOptions(video=False))
    return analysis.frame_count, time.perf_counter() - started


class LoopedSource(VideoSource):
    """A clip played over and over until ``minutes`` of video: decoding and inference are real,
    frame indices and times keep counting, as in one long recording."""

    def __init__(self, path: Path, minutes: float) -> None:
        self.path = path
        self.warnings = []
        with open_video(path) as probe:
            self._clip_times = probe.times_s.copy()
            clip = probe.info
        self._period = clip.duration_s
        loops = int(np.ceil(minutes * 60 / self._period))
        times = (self._clip_times[None, :] + self._period * np.arange(loops)[:, None]).reshape(-1)
        self._times = times[times < minutes * 60]
        self.info = VideoInfo(
            path=str(path),
            width=clip.width,
            height=clip.height,
            fps=clip.fps,
            frame_count=len(self._times),
            duration_s=float(self._times[-1]) + 1 / clip.fps,
            codec=clip.codec,
        )

    @property
    def times_s(self) -> np.ndarray:
        return self._times

    def frames(self, start: int = 0, *, rgb: bool = False):
        per_loop = len(self._clip_times)
        index = 0
        while index < len(self._times):
            with open_video(self.path) as clip:
                for frame in clip.frames(rgb=rgb):
                    if index >= len(self._times):
                        return
                    yield Frame(index, float(self._times[index]), frame.image)
                    index += 1
            assert index % per_loop == 0

    def read_frame(self, index: int) -> Frame:
        raise NotImplementedError("the benchmark only reads sequentially")

    def close(self) -> None:
        pass


def current_rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def long_run(path: Path, minutes: float) -> None:
    source = LoopedSource(path, minutes)
    total = source.info.frame_count
    marks = {int(total * k / 10) for k in range(1, 11)}
    samples: list[tuple[float, float, float]] = []
    started = time.perf_counter()

    def progress(done: int, count: int) -> None:
        if marks and done >= min(marks):
            marks.discard(min(m for m in marks if m <= done))
            samples.append((float(source.times_s[done - 1]) / 60, current_rss_mb(), peak_rss_mb()))

    print(f"\nlong video: {path.name} looped to {minutes:g} min = {total} frames")
    analysis = analyze_video(source, progress=progress)
    seconds = time.perf_counter() - started
    print("  video minute   RSS now (MiB)   peak RSS (MiB)")
    for minute, now, peak in samples:
        print(f"  {minute:12.1f}   {now:13.0f}   {peak:14.0f}")
    growth = samples[-1][1] - samples[0][1]
    print(
        f"  {analysis.frame_count} frames in {seconds:.0f} s ({analysis.frame_count / seconds:.1f} "
        f"frames/s); RSS from the first to the last tenth: {growth:+.0f} MiB; "
        f"peak {peak_rss_mb():.0f} MiB"
    )


def main() -> None:
    videos = shared_videos()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=videos / "treadmill_side_IMG_5396.mp4")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved runs of each")
    parser.add_argument("--long-minutes", type=float, default=0.0)
    parser.add_argument("--long-video", type=Path, default=videos / "treadmill_side_slow.mp4")
    args = parser.parse_args()

    with open_video(args.video) as probe:
        info = probe.info
    print(f"video: {args.video.name} {info.width}x{info.height}, {info.frame_count} frames")
    print(f"CPU cores available: {len(os.sched_getaffinity(0))}")
    raw_loop(args.video)  # warm-up: loads mediapipe, fills the file cache
    raw_rates, our_rates = [], []
    with tempfile.TemporaryDirectory() as out:
        for run in range(args.repeat):  # interleaved, so both see the same machine load
            frames, seconds = raw_loop(args.video)
            raw_rates.append(frames / seconds)
            frames, seconds = our_path(args.video, Path(out))
            our_rates.append(frames / seconds)
            print(
                f"  run {run + 1}: (a) raw loop {raw_rates[-1]:6.1f} frames/s   (b) analyze "
                f"{our_rates[-1]:6.1f} frames/s   b/a {our_rates[-1] / raw_rates[-1]:.2f}"
            )
    pair_ratios = np.asarray(our_rates) / np.asarray(raw_rates)
    print(f"(a) raw decode + Pose.process loop: best {max(raw_rates):.1f} frames/s")
    print(f"(b) analyze --no-video path:         best {max(our_rates):.1f} frames/s")
    print(
        f"ratio b/a = {max(our_rates) / max(raw_rates):.2f} (best vs best), "
        f"median of the paired runs {np.median(pair_ratios):.2f}  (goal >= 1.0, aim 1.3)"
    )
    print(
        f"load average during the runs: {os.getloadavg()[0]:.1f} on {len(os.sched_getaffinity(0))} cores"
    )
    if args.long_minutes > 0:
        long_run(args.long_video, args.long_minutes)


if __name__ == "__main__":
    main()
