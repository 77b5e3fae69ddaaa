"""Pseudo-labelling: turn a runner's own videos into a COCO-format training set, no clicking.

The bundled default estimator (BlazePose) runs on every frame in order, so it tracks the runner
as in the app. Frames are then sampled (``sample_fps`` per second) and a sampled frame is kept
only where the estimate is trustworthy:

* **confident**: the mean keypoint score of the runner is at least ``min_mean_score``;
* **temporally consistent**: each keypoint must lie close to the midpoint of its positions in
  the previous and the next frame (a second difference, which smooth running motion keeps small
  but a left/right swap or a jump to the background makes large), measured relative to the
  person's box diagonal. Keypoints that are not confident, not consistent or outside the image
  are marked unlabelled (v = 0) rather than guessed;
* **complete enough**: at least ``min_keypoints`` keypoints remain labelled.

The set is written as ``OUT/images/<video>_<frame>.jpg`` plus ``OUT/annotations.json`` (the
layout ``train fit --data OUT`` reads), every file atomically, the annotation file last.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from rhpnet.atomic import atomic_write_bytes, atomic_write_text
from rhpnet.datasets.coco_format import ANNOTATIONS_FILE, IMAGES_DIR
from rhpnet.datasets.keypoint_set import PERSON_CATEGORY_ID
from rhpnet.errors import DataError, UserFacingError
from rhpnet.media.video import open_video
from rhpnet.oks import AREA_FROM_BOX
from rhpnet.poses import Estimator, FramePoses
from rhpnet.skeleton import COCO_KEYPOINT_NAMES, COCO_SKELETON, NUM_COCO_KEYPOINTS

log = logging.getLogger("training.pseudo_label")

REJECT_NO_PERSON = "no person found"
REJECT_NO_NEIGHBOURS = "no person in the neighbouring frames"
REJECT_LOW_SCORE = "mean keypoint score too low"
REJECT_FEW_KEYPOINTS = "too few confident, consistent keypoints"


@dataclass
class PseudoLabelSettings:
    sample_fps: float = 3.0
    min_mean_score: float = 0.6
    min_keypoint_score: float = 0.5
    max_jitter: float = 0.05
    min_keypoints: int = 12
    max_frames: int = 0  # per video; 0 = the whole video
    jpeg_quality: int = 95


@dataclass
class VideoReport:
    video: str
    frames_read: int = 0
    frames_sampled: int = 0
    frames_kept: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


@dataclass
class PseudoLabelReport:
    out: Path
    videos: list[VideoReport]

    @property
    def frames_kept(self) -> int:
        return sum(v.frames_kept for v in self.videos)

    def lines(self) -> list[str]:
        lines = []
        for v in self.videos:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(v.rejected.items()))
            lines.append(
                f"{v.video}: kept {v.frames_kept} of {v.frames_sampled} sampled frames "
                f"({v.frames_read} read)" + (f"; rejected: {reasons}" if reasons else "")
            )
        return lines


@dataclass
class _Observation:
    index: int
    time_s: float
    image: np.ndarray | None  # kept only for sampled frames
    keypoints: np.ndarray | None  # (17, 3) of the runner, None if nobody was found
    box: np.ndarray | None


def read_frames(video: Path, max_frames: int = 0) -> Iterator[tuple[int, float, np.ndarray, float]]:
    """(index, time in s, upright BGR image, fps) for each frame, through the shared media layer (rhpnet.media):
    rotated phone video comes out upright and variable-frame-rate video keeps its container
    timestamps (docs/engine.md)."""
    read = 0
    with open_video(video) as source:
        fps = source.info.fps
        for frame in source.frames():
            if max_frames and read >= max_frames:
                break
            yield frame.index, frame.time_s, frame.image, fps
            read += 1
    if read == 0:
        raise DataError(f"{video} holds no readable video frame")


def pseudo_label_videos(
    videos: list[Path],
    out: Path,
    estimator: Estimator,
    settings: PseudoLabelSettings | None = None,
    progress: bool = False,
) -> PseudoLabelReport:
    """Label ``videos`` with ``estimator`` and write the kept frames as a COCO-format set."""
    settings = settings or PseudoLabelSettings()
    if (out / ANNOTATIONS_FILE).exists():
        raise UserFacingError(f"{out} already holds a labelled set; choose another --out")
    for video in videos:
        if not Path(video).is_file():
            raise DataError(f"video not found: {video}")
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    reports = []
    for video in videos:
        report = VideoReport(Path(video).name)
        for observation, keypoints in _kept_frames(
            Path(video), estimator, settings, report, progress
        ):
            image_id = len(images) + 1
            name = f"{Path(video).stem}_{observation.index:06d}.jpg"
            _write_jpeg(out / IMAGES_DIR / name, observation.image, settings.jpeg_quality)
            height, width = observation.image.shape[:2]
            images.append(
                {"id": image_id, "file_name": name, "width": width, "height": height,
                 "video": str(video), "frame_index": observation.index,
                 "time_s": round(observation.time_s, 4)}
            )  # fmt: skip
            annotations.append(
                _annotation(
                    len(annotations) + 1, image_id, keypoints, observation.box, width, height
                )
            )
        reports.append(report)
    if not images:
        raise DataError(
            "no frame passed the quality checks (confidence and temporal consistency); "
            "try lower --min-score / --min-keypoints or clearer footage"
        )
    data = {
        "info": {
            "description": "pseudo-labelled running frames",
            "estimator": estimator.describe(),
            "settings": asdict(settings),
            "videos": [str(v) for v in videos],
        },
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [
            {
                "id": PERSON_CATEGORY_ID,
                "name": "person",
                "supercategory": "person",
                "keypoints": list(COCO_KEYPOINT_NAMES),
                "skeleton": [[a + 1, b + 1] for a, b in COCO_SKELETON],
            }
        ],
    }
    atomic_write_text(out / ANNOTATIONS_FILE, json.dumps(data))
    return PseudoLabelReport(out, reports)


def _kept_frames(
    video: Path,
    estimator: Estimator,
    settings: PseudoLabelSettings,
    report: VideoReport,
    progress: bool,
) -> Iterator[tuple[_Observation, np.ndarray]]:
    """Run the estimator on every frame; yield sampled frames that pass the checks, with their
    cleaned (17, 3) keypoints (x, y, v)."""
    from tqdm import tqdm

    rejected: Counter[str] = Counter()
    window: list[_Observation] = []  # previous, current, next
    next_sample = 0.0
    frames = read_frames(video, settings.max_frames)
    for index, time_s, image, fps in tqdm(
        frames, desc=video.name, unit="frame", disable=not progress
    ):
        report.frames_read += 1
        keypoints, box = _runner(estimator.estimate(image, time_s))
        sampled = time_s + 0.5 / fps >= next_sample
        if sampled:
            next_sample = time_s + 1.0 / settings.sample_fps
            report.frames_sampled += 1
        window.append(_Observation(index, time_s, image if sampled else None, keypoints, box))
        if len(window) == 2 and window[0].image is not None:
            rejected[REJECT_NO_NEIGHBOURS] += 1  # the first frame has no previous frame
        if len(window) > 3:
            window.pop(0)
        if len(window) == 3 and window[1].image is not None:
            accepted = _judge(window, settings, rejected)
            if accepted is not None:
                report.frames_kept += 1
                yield window[1], accepted
            window[1].image = None
    # The last sampled frame has no next frame to check consistency against.
    if window and window[-1].image is not None:
        rejected[REJECT_NO_NEIGHBOURS] += 1
    report.rejected = dict(rejected)


def _runner(poses: FramePoses) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The most confident person of a frame (the runner, for single-runner footage)."""
    if len(poses) == 0:
        return None, None
    best = int(np.argmax(poses.scores))
    # Pseudo-labels are COCO-17: the training sets and the COCO format have no feet.
    keypoints = poses.keypoints[best, :NUM_COCO_KEYPOINTS].astype(np.float64)
    return keypoints, poses.boxes[best].astype(np.float64)


def _judge(
    window: list[_Observation], settings: PseudoLabelSettings, rejected: Counter[str]
) -> np.ndarray | None:
    previous, current, following = window
    if current.keypoints is None:
        rejected[REJECT_NO_PERSON] += 1
        return None
    if previous.keypoints is None or following.keypoints is None:
        rejected[REJECT_NO_NEIGHBOURS] += 1
        return None
    keypoints = current.keypoints
    if keypoints[:, 2].mean() < settings.min_mean_score:
        rejected[REJECT_LOW_SCORE] += 1
        return None
    height, width = current.image.shape[:2]
    diagonal = float(np.hypot(current.box[2], current.box[3])) if current.box is not None else 0.0
    diagonal = diagonal or float(np.hypot(*np.ptp(keypoints[:, :2], axis=0)))
    midpoint = (previous.keypoints[:, :2] + following.keypoints[:, :2]) / 2
    jitter = np.linalg.norm(keypoints[:, :2] - midpoint, axis=1) / max(diagonal, 1.0)
    inside = (
        (keypoints[:, 0] >= 0)
        & (keypoints[:, 1] >= 0)
        & (keypoints[:, 0] <= width - 1)
        & (keypoints[:, 1] <= height - 1)
    )
    labelled = (
        (keypoints[:, 2] >= settings.min_keypoint_score) & (jitter <= settings.max_jitter) & inside
    )
    if labelled.sum() < settings.min_keypoints:
        rejected[REJECT_FEW_KEYPOINTS] += 1
        return None
    cleaned = np.zeros_like(keypoints)
    cleaned[labelled, :2] = keypoints[labelled, :2]
    cleaned[labelled, 2] = 2
    return cleaned


def _annotation(
    annotation_id: int,
    image_id: int,
    keypoints: np.ndarray,
    box: np.ndarray | None,
    width: int,
    height: int,
) -> dict[str, Any]:
    labelled = keypoints[:, 2] > 0
    if box is None:
        low, high = keypoints[labelled, :2].min(axis=0), keypoints[labelled, :2].max(axis=0)
        pad = 0.1 * (high - low)
        box = np.concatenate([low - pad, high - low + 2 * pad])
    x1, y1 = max(0.0, float(box[0])), max(0.0, float(box[1]))
    x2 = min(float(width - 1), float(box[0] + box[2]))
    y2 = min(float(height - 1), float(box[1] + box[3]))
    bbox = [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)]
    return {
        "id": annotation_id,
        "image_id": image_id,
        "category_id": PERSON_CATEGORY_ID,
        "iscrowd": 0,
        "keypoints": [round(float(v), 2) for v in keypoints.reshape(-1)],
        "num_keypoints": int(labelled.sum()),
        "bbox": bbox,
        "area": round(AREA_FROM_BOX * bbox[2] * bbox[3], 2),
    }


def _write_jpeg(path: Path, image: np.ndarray, quality: int) -> None:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise DataError(f"could not encode {path.name}")
    atomic_write_bytes(path, data.tobytes())
