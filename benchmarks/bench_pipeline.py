"""Pipeline speed and memory, measured in one run on the same machine and video.

(a) raw loop: OpenCV decodes a frame, converts it to RGB, mediapipe ``Pose.process`` runs on it,
    strictly one after the other (what a straightforward script does);
(b) our ``analyze --no-video`` path: ``analyze_video`` (decoding thread + bounded queue,
    BlazePose, tracking) then the CSV/COCO/sidecar exports.

Prints frames/s of both and the ratio b/a (goal >= 1.0, aim 1.3). Both use the same BlazePose
settings (full model, complexity 1, no mediapipe smoothing), so the ratio measures the pipeline.
It also prints how many cores the raw loop keeps busy (CPU time over wall time: decoding and
BlazePose run threads of their own), and so the most any number of processes on this machine
could gain over it.

Then the scaling table of parallel analysis (docs/engine.md, "Parallel analysis"): frames/s of
``analyze --no-video`` with 1, 2 and, where the machine has the cores, 4 and 8 worker processes,
each with its ratio to the raw loop and its parallel efficiency (speed-up over one worker divided
by the workers) and the cores the coordinating process and its workers keep busy. "cold"
includes starting the workers (one video on its own), "warm" reuses them (every video of a batch
after the first); the memory column is the resident memory of the coordinating process plus
every worker at its peak.

``--long-minutes M`` then analyses the ``--long-video`` clip looped to M minutes of video with the
real estimator and prints the resident memory (RSS) as the analysis goes: it must stay flat. With
``--long-workers N`` (N > 1) the looped clip is written to a file first (packets copied, nothing
re-encoded) and analysed by N workers, and the RSS is that of all processes together.

    python benchmarks/bench_pipeline.py                      # ratio on the 1080x1920 clip
    python benchmarks/bench_pipeline.py --long-minutes 10    # plus the 10-minute memory run
    python benchmarks/bench_pipeline.py --long-minutes 10 --long-workers 2
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

from app.core.options import AnalysisOptions, usable_cores  # noqa: E402
from app.core.outputs import OutputInputs, chosen_outputs, write_outputs  # noqa: E402
from app.core.parallel import ChunkPool, worker_chunks  # noqa: E402
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


# The keypoint files of ``analyze --no-video`` (the report's files cost the same in every row).
KEYPOINT_OUTPUTS = [kind for kind in chosen_outputs(["--no-video"]) if not kind.needs_report]


def our_path(path: Path, out_dir: Path) -> tuple[int, float]:
    """``analyze --no-video``: the analysis, its keypoint files and its sidecar."""
    started = time.perf_counter()
    analysis = analyze_video(path)
    write_outputs(OutputInputs(analysis), KEYPOINT_OUTPUTS, out_dir)
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


def current_rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def pool_rss_mb(pool: ChunkPool) -> float:
    """Resident memory of this process and every worker of ``pool``, together."""
    return current_rss_mb() + sum(current_rss_mb(p.pid) for p in pool._processes if p.is_alive())


def parallel_path(
    path: Path, workers: int, out_dir: Path
) -> tuple[int, float, float, float, float]:
    """``analyze --no-video`` with ``workers`` processes: (frames, cold s, warm s, peak MiB,
    cores kept busy in the warm run by this process and the workers together)."""
    peak = [0.0]

    def sample(done: int, total: int) -> None:
        peak[0] = max(peak[0], pool_rss_mb(pool))

    timings = []
    started = time.perf_counter()
    with ChunkPool(AnalysisOptions(workers=workers), workers) as pool, open_video(path) as video:
        chunks = worker_chunks(video, workers)
        for _ in range(2):
            pids = ["self"] + [process.pid for process in pool._processes]
            cpu_before = sum(cpu_seconds(pid) for pid in pids)
            analysis = pool.analyze(video, chunks, progress=sample)
            write_outputs(OutputInputs(analysis), KEYPOINT_OUTPUTS, out_dir)
            timings.append(time.perf_counter() - started)
            busy = (sum(cpu_seconds(pid) for pid in pids) - cpu_before) / timings[-1]
            started = time.perf_counter()
    return analysis.frame_count, timings[0], timings[1], peak[0], busy


def side_by_side_raw_loops(path: Path, count: int) -> float:
    """Frames/s of ``count`` raw loops run at once in separate processes, each over the whole
    clip: what ``count`` workers could reach on this machine if splitting, seeking and
    stitching cost nothing (the processes share the cores, caches and memory bandwidth)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(count) as pool:
        pool.map(raw_loop, [path] * count)  # warm-up: imports, file cache
        started = time.perf_counter()
        results = pool.map(raw_loop, [path] * count)
        seconds = time.perf_counter() - started
    return sum(frames for frames, _ in results) / seconds


def scaling_table(path: Path, counts: list[int]) -> None:
    """One row per worker count, each against a raw loop run just before it: the machine's
    speed drifts by a fifth from minute to minute, so only neighbouring runs compare."""
    print(f"\nparallel analysis (analyze --no-video --workers N) on {path.name}:")
    print(
        "  workers   raw loop   cold frames/s   warm frames/s   warm/raw   efficiency   "
        "cores busy   peak RSS (MiB)"
    )
    one_worker = None
    with tempfile.TemporaryDirectory() as out:
        for workers in counts:
            frames, seconds = raw_loop(path)
            raw_rate = frames / seconds
            if workers == 1:
                cpu_before = cpu_seconds()
                frames, seconds = our_path(path, Path(out))
                busy = (cpu_seconds() - cpu_before) / seconds
                cold = warm = frames / seconds
                peak = current_rss_mb()
            else:
                frames, cold_s, warm_s, peak, busy = parallel_path(path, workers, Path(out))
                cold, warm = frames / cold_s, frames / warm_s
            one_worker = one_worker or warm
            efficiency = warm / one_worker / workers
            print(
                f"  {workers:7d}   {raw_rate:8.1f}   {cold:13.1f}   {warm:13.1f}   "
                f"{warm / raw_rate:8.2f}   {efficiency:10.2f}   {busy:10.2f}   {peak:14.0f}"
            )
    print("the same machine's ceiling: N raw loops side by side in N processes, each on the clip:")
    for workers in (n for n in counts if n > 1):
        frames, seconds = raw_loop(path)
        rate = side_by_side_raw_loops(path, workers)
        print(
            f"  {workers} raw loops: {rate:6.1f} frames/s together, "
            f"{rate / (frames / seconds):.2f}x one run just before"
        )


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def looped_file(path: Path, minutes: float, target: Path) -> Path:
    """``path`` repeated to ``minutes`` of video in one file, its packets copied (no encoding)."""
    import av

    with av.open(str(path)) as probe:
        stream = probe.streams.video[0]
        period = int(round(float(probe.duration / av.time_base) / stream.time_base))
    loops = int(np.ceil(minutes * 60 / (period * float(stream.time_base))))
    with av.open(str(target), "w") as out:
        with av.open(str(path)) as first:
            out_stream = out.add_stream_from_template(first.streams.video[0])
        for loop in range(loops):
            with av.open(str(path)) as clip:
                for packet in clip.demux(clip.streams.video[0]):
                    if packet.dts is None:
                        continue
                    packet.pts += loop * period
                    packet.dts += loop * period
                    packet.stream = out_stream
                    out.mux(packet)
    return target


def long_run_parallel(path: Path, minutes: float, workers: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        video_path = looped_file(path, minutes, Path(folder) / f"looped{path.suffix}")
        with (
            ChunkPool(AnalysisOptions(workers=workers), workers) as pool,
            open_video(video_path) as video,
        ):
            total = video.info.frame_count
            print(
                f"\nlong video: {path.name} looped to {minutes:g} min = {total} frames, "
                f"{workers} workers"
            )
            marks = sorted(int(total * k / 10) for k in range(1, 11))
            samples: list[tuple[int, float]] = []

            def progress(done: int, count: int) -> None:
                if marks and done >= marks[0]:
                    marks.pop(0)
                    samples.append((done, pool_rss_mb(pool)))

            started = time.perf_counter()
            pool.analyze(video, worker_chunks(video, workers), progress=progress)
            seconds = time.perf_counter() - started
    print("  frames done   RSS of all processes (MiB)")
    for done, rss in samples:
        print(f"  {done:11d}   {rss:26.0f}")
    print(
        f"  {total} frames in {seconds:.0f} s ({total / seconds:.1f} frames/s); RSS from the "
        f"first to the last tenth: {samples[-1][1] - samples[0][1]:+.0f} MiB"
    )


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
    parser.add_argument("--long-workers", type=int, default=1)
    parser.add_argument(
        "--workers", default="1,2,4,8", help="worker counts of the scaling table (up to the cores)"
    )
    args = parser.parse_args()

    with open_video(args.video) as probe:
        info = probe.info
    print(f"video: {args.video.name} {info.width}x{info.height}, {info.frame_count} frames")
    print(f"CPU cores available: {len(os.sched_getaffinity(0))}")
    raw_loop(args.video)  # warm-up: loads mediapipe, fills the file cache
    raw_rates, our_rates, raw_busy = [], [], []
    with tempfile.TemporaryDirectory() as out:
        for run in range(args.repeat):  # interleaved, so both see the same machine load
            cpu_before = cpu_seconds()
            frames, seconds = raw_loop(args.video)
            raw_busy.append((cpu_seconds() - cpu_before) / seconds)
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
    cores = len(os.sched_getaffinity(0))
    print(f"load average during the runs: {os.getloadavg()[0]:.1f} on {cores} cores")
    # The raw loop is not one core's work: decoding and BlazePose run threads of their own. So
    # N processes can be at most cores / (cores the raw loop keeps busy) times faster than it.
    busy = float(np.median(raw_busy))
    print(
        f"the raw loop keeps {busy:.2f} cores busy: on {cores} cores, parallel analysis can be "
        f"at most {cores / busy:.2f}x the raw loop (at the same CPU time per frame)"
    )
    counts = [n for n in map(int, args.workers.split(",")) if n <= max(2, usable_cores())]
    scaling_table(args.video, counts)
    if args.long_minutes > 0 and args.long_workers > 1:
        long_run_parallel(args.long_video, args.long_minutes, args.long_workers)
    elif args.long_minutes > 0:
        long_run(args.long_video, args.long_minutes)


if __name__ == "__main__":
    main()
