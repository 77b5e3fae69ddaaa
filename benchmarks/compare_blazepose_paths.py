"""Which BlazePose path should follow a single runner: the legacy solution or the Tasks bundle?

Both run the same two networks from the mediapipe wheel; they differ in the graph around them
(ROI tracking, smoothing, thresholds). On each real clip this prints, for both paths:

* frames/s of the estimator alone (frames decoded beforehand, same frames for both), and its
  ratio to the legacy solution's;
* the share of frames with a person found;
* jitter: median |second difference| of the confident keypoints from frame to frame, in % of
  the body height (lower = steadier; real motion contributes too, equally for both);
* lag: the shift (frames) that best aligns the Tasks ankle trajectory with the solution's
  (positive = Tasks later; the Tasks graph always smooths, causally);
* the median distance between the two paths' keypoints, in % of body height.

With ``--frames-dir DIR`` it also writes side-by-side PNGs (solution left, Tasks right) to look at.

    python benchmarks/compare_blazepose_paths.py --frames-dir /tmp/bp
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.frame_drawing import draw_people  # noqa: E402
from benchmarks.common import find_shared_data  # noqa: E402
from rhpnet.atomic import atomic_path  # noqa: E402
from rhpnet.estimators.blazepose import BlazePoseEstimator  # noqa: E402
from rhpnet.media.video import open_video  # noqa: E402
from rhpnet.skeleton import keypoint_index  # noqa: E402

CLIPS = ("treadmill_side_IMG_5396.mp4", "treadmill_side_slow.mp4", "outdoor_side_running.mp4")


def run(backend: str, frames: list[np.ndarray], times: np.ndarray) -> tuple[np.ndarray, float]:
    """Keypoints (T, 17, 3), NaN where nobody was found, and frames/s."""
    out = np.full((len(frames), 17, 3), np.nan, np.float32)
    with BlazePoseEstimator(1, backend=backend) as estimator:
        estimator.estimate_rgb(frames[0], -1.0)  # load the models outside the timing
        started = time.perf_counter()
        for i, (image, t) in enumerate(zip(frames, times, strict=True)):
            poses = estimator.estimate_rgb(image, float(t))
            if len(poses):
                out[i] = poses.keypoints[0]
        seconds = time.perf_counter() - started
    return out, len(frames) / seconds


def body_height(kp: np.ndarray) -> float:
    nose, ankle = kp[:, 0, 1], np.nanmean(kp[:, [15, 16], 1], axis=1)
    return float(np.nanmedian(ankle - nose))


def jitter(kp: np.ndarray, height: float, min_score: float = 0.5) -> float:
    xy = np.where((kp[:, :, 2:] >= min_score), kp[:, :, :2], np.nan)
    second = np.abs(xy[2:] - 2 * xy[1:-1] + xy[:-2])
    return float(np.nanmedian(second) / height * 100)


def lag(reference: np.ndarray, other: np.ndarray, max_shift: int = 6) -> int:
    ankle = keypoint_index("left_ankle")
    a = reference[:, ankle, 0] - np.nanmean(reference[:, ankle, 0])
    b = other[:, ankle, 0] - np.nanmean(other[:, ankle, 0])
    best, best_shift = np.inf, 0
    for shift in range(-max_shift, max_shift + 1):
        x = a[max_shift : len(a) - max_shift]
        y = b[max_shift + shift : len(b) - max_shift + shift]
        error = np.nanmean((x - y) ** 2)
        if error < best:
            best, best_shift = error, shift
    return best_shift


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-frames", type=int, default=300)
    parser.add_argument("--frames-dir", type=Path)
    args = parser.parse_args()
    data = find_shared_data("videos")
    if data is None:
        parser.error("real videos not found: set RHPNET_COACH_DATA")
    videos = data / "videos"
    print(
        f"{'clip':28s} {'path':9s} {'fps':>6s} {'ratio':>6s} {'found':>6s} {'jitter%':>8s} "
        f"{'lag':>4s} {'diff%':>6s}"
    )
    for name in CLIPS:
        with open_video(videos / name) as source:
            frames, times = [], []
            for frame in source.frames(rgb=True):
                if frame.index >= args.max_frames:
                    break
                frames.append(frame.image)
                times.append(frame.time_s)
        times = np.asarray(times)
        solution, solution_fps = run("solution", frames, times)
        tasks, tasks_fps = run("tasks", frames, times)
        height = body_height(solution)
        difference = np.nanmedian(np.linalg.norm(solution[:, :, :2] - tasks[:, :, :2], axis=-1))
        for label, kp, fps in (("solution", solution, solution_fps), ("tasks", tasks, tasks_fps)):
            found = np.mean(~np.isnan(kp[:, 0, 0])) * 100
            shift = lag(solution, kp)
            print(
                f"{name:28s} {label:9s} {fps:6.1f} {fps / solution_fps:6.2f} {found:5.0f}% "
                f"{jitter(kp, height):8.2f} {shift:4d} {difference / height * 100:6.1f}"
            )
        if args.frames_dir:
            args.frames_dir.mkdir(parents=True, exist_ok=True)
            for i in np.linspace(0, len(frames) - 1, 4).astype(int):
                sides = []
                for kp in (solution, tasks):
                    image = cv2.cvtColor(frames[i], cv2.COLOR_RGB2BGR)
                    if not np.isnan(kp[i, 0, 0]):
                        draw_people(image, kp[i][None], np.array([0]), 0)
                    sides.append(image)
                both = np.hstack(sides)
                scale = 900 / max(both.shape[:2])
                small = cv2.resize(both, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                with atomic_path(args.frames_dir / f"{Path(name).stem}_{i:04d}.png") as png:
                    cv2.imwrite(str(png), small)


if __name__ == "__main__":
    main()
