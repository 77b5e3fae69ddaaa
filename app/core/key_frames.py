"""Key frames of a representative stride: foot strike, mid-stance and toe-off of each foot.

The representative ground contact of a side is the one whose contact time is closest to that
side's median (a typical step, not the best or the worst). Its three moments are the frames
nearest to its initial contact, to the middle of the contact and to its toe-off (real time).
Images are the video frames with the runner's cleaned skeleton drawn (the points the metrics
were computed from), all cut to one box around the runner in those six frames, so the panels
line up when set side by side (docs/report.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.core.kinematics import SIDES
from app.core.metrics import StepMetrics
from app.core.running_report import RunningReport

PHASES: tuple[str, ...] = ("strike", "mid-stance", "toe-off")
CROP_MARGIN = 0.15
MAX_SIDE_PX = 720  # enough for a third of an A4 page at 300 dpi; keeps the PDF small


@dataclass(frozen=True)
class KeyFrame:
    side: str
    phase: str
    frame: int
    time_s: float  # real seconds


def representative_step(report: RunningReport, side: str) -> StepMetrics | None:
    steps = [s for s in report.steps if s.side == side and s.to_time_s > s.ic_time_s]
    if not steps:
        return None
    contact = np.array([s.to_time_s - s.ic_time_s for s in steps])
    return steps[int(np.argmin(np.abs(contact - np.median(contact))))]


def nearest_frame(report: RunningReport, time_s: float) -> int:
    return int(np.argmin(np.abs(np.asarray(report.real_times_s) - time_s)))


def key_frames(report: RunningReport) -> list[KeyFrame]:
    """Strike, mid-stance and toe-off of each side's representative step (sides without one
    are left out)."""
    frames = []
    for side in SIDES:
        step = representative_step(report, side)
        if step is None:
            continue
        moments = (step.ic_time_s, 0.5 * (step.ic_time_s + step.to_time_s), step.to_time_s)
        for phase, time_s in zip(PHASES, moments, strict=True):
            frame = nearest_frame(report, time_s)
            frames.append(KeyFrame(side, phase, frame, float(report.real_times_s[frame])))
    return frames


def crop_box(
    report: RunningReport, frames: list[int], width: int, height: int
) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) around the runner's points in ``frames``, with a margin, inside the image."""
    points = report.cleaned.keypoints[frames, :, :2].reshape(-1, 2)
    points = points[np.isfinite(points).all(axis=1)]
    if not len(points):
        return 0, 0, width, height
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    margin = CROP_MARGIN * max(x1 - x0, y1 - y0)
    return (
        max(0, int(x0 - margin)),
        max(0, int(y0 - margin)),
        min(width, int(np.ceil(x1 + margin))),
        min(height, int(np.ceil(y1 + margin))),
    )


def draw_key_frame(
    image_bgr: np.ndarray, report: RunningReport, frame: int, box: tuple[int, int, int, int]
) -> np.ndarray:
    """RGB crop of one frame with the runner's skeleton drawn (a copy; the input is kept)."""
    from app.core.frame_drawing import draw_people

    image = image_bgr.copy()
    points = np.asarray(report.cleaned.keypoints[frame : frame + 1], np.float32)
    draw_people(image, points, np.array([report.track_id]), report.track_id)
    x0, y0, x1, y1 = box
    return np.ascontiguousarray(image[y0:y1, x0:x1, ::-1])


def shrink(image: np.ndarray, max_side: int = MAX_SIDE_PX) -> np.ndarray:
    """Downscale (area averaging) so the longer side is at most ``max_side`` pixels."""
    import cv2

    scale = max_side / max(image.shape[:2])
    if scale >= 1.0:
        return image
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def render_key_frames(
    report: RunningReport, video_path: str, image_fps: float = 30.0
) -> list[tuple[KeyFrame, np.ndarray]]:
    """Every key frame as an RGB image; raises ``VideoError`` if the video cannot be read."""
    from rhpnet.media.video import open_video

    keys = key_frames(report)
    if not keys:
        return []
    with open_video(video_path, image_fps=image_fps) as source:
        box = crop_box(report, [k.frame for k in keys], source.info.width, source.info.height)
        return [
            (
                key,
                shrink(draw_key_frame(source.read_frame(key.frame).image, report, key.frame, box)),
            )
            for key in keys
        ]
