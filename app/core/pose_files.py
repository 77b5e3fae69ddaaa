"""The keypoint outputs of a finished ``Analysis``: keypoints CSV, COCO results JSON, overlay MP4.

Every file is written under a temporary name and renamed at the end (``rhpnet.atomic``), so a
cancel, an error or a full disk leaves no partial file. Which files a video gets, and under
which names, is decided in ``app/core/outputs.py``.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np

from app.core.analysis import Analysis
from app.core.progress import Progress, raise_if_cancelled
from app.core.table_text import csv_from_columns, number_column
from rhpnet.atomic import atomic_path, atomic_write_text
from rhpnet.errors import UserFacingError
from rhpnet.skeleton import NUM_COCO_KEYPOINTS, POSE_KEYPOINT_NAMES

KEYPOINT_CSV_COLUMNS: tuple[str, ...] = (
    (
        "frame",
        "time_s",
        "track_id",
        "bbox_x",
        "bbox_y",
        "bbox_w",
        "bbox_h",
        "score",
    )
    + tuple(f"{name}_{part}" for name in POSE_KEYPOINT_NAMES for part in ("x", "y", "score"))
    + ("corrected",)
)
# COCO-17 columns first, in COCO order, then the feet (empty for models without them), then
# ``corrected``: 1 where a hand correction changed a point of the row (docs/corrections.md).


def _rows(analysis: Analysis) -> list[tuple[int, int]]:
    """(frame, track id) pairs: each track from its first to its last appearance, by frame."""
    rows = []
    for tid, track in analysis.tracks.items():
        seen = np.flatnonzero(track.present)
        if len(seen):
            rows.extend((int(f), tid) for f in range(seen[0], seen[-1] + 1))
    rows.sort()
    return rows


def keypoints_csv_text(analysis: Analysis) -> str:
    """The keypoints table: one row per frame per track (over the track's life), empty cells
    where the person or a keypoint was not found."""
    rows = _rows(analysis)
    frames = np.array([f for f, _ in rows], np.int64)
    ids = np.array([t for _, t in rows], np.int64)
    kp = np.empty((len(rows), len(POSE_KEYPOINT_NAMES), 3), np.float32)
    boxes = np.empty((len(rows), 4), np.float32)
    scores = np.empty(len(rows), np.float32)
    corrected = np.zeros(len(rows), bool)
    for tid in analysis.tracks:
        track, edited = analysis.corrected_track(tid)
        mask = ids == tid
        kp[mask] = track.keypoints[frames[mask]]
        corrected[mask] = edited[frames[mask]].any(axis=1)
        boxes[mask] = track.boxes[frames[mask]]
        scores[mask] = track.scores[frames[mask]]
    columns = [
        frames.astype(str),
        np.char.mod("%.6f", np.asarray(analysis.times_s, np.float64)[frames]),
        ids.astype(str),
        *(number_column(boxes[:, i], "%.2f") for i in range(4)),
        number_column(scores, "%.4f"),
    ]
    for k in range(len(POSE_KEYPOINT_NAMES)):
        columns += [
            number_column(kp[:, k, 0], "%.2f"),
            number_column(kp[:, k, 1], "%.2f"),
            number_column(kp[:, k, 2], "%.4f"),
        ]
    columns.append(corrected.astype(int).astype(str))
    return csv_from_columns(KEYPOINT_CSV_COLUMNS, columns)


def coco_results(analysis: Analysis) -> list[dict]:
    """COCO keypoint results: image_id = frame index, category 1, [x, y, score] x 17, score.

    ``track_id`` is kept as an extra key (pycocotools ignores it). Missing keypoints are 0, 0, 0
    as COCO expects. Only the COCO-17 points are written (the format has no feet).
    """
    results = []
    for tid in sorted(analysis.tracks):
        track, _ = analysis.corrected_track(tid)
        for frame in np.flatnonzero(track.present):
            coco = track.keypoints[frame, :NUM_COCO_KEYPOINTS].astype(np.float64)
            points = np.nan_to_num(coco, nan=0.0)
            results.append(
                {
                    "image_id": int(frame),
                    "category_id": 1,
                    "keypoints": [round(float(v), 3) for v in points.reshape(-1)],
                    "score": round(float(track.scores[frame]), 5),
                    "track_id": int(tid),
                }
            )
    results.sort(key=lambda r: (r["image_id"], r["track_id"]))
    return results


def coco_json_text(analysis: Analysis) -> str:
    return json.dumps(coco_results(analysis), separators=(",", ":"))


def write_keypoints_csv(analysis: Analysis, path: str | Path) -> Path:
    atomic_write_text(path, keypoints_csv_text(analysis))
    return Path(path)


def write_coco_json(analysis: Analysis, path: str | Path) -> Path:
    atomic_write_text(path, coco_json_text(analysis))
    return Path(path)


def write_overlay_video(
    analysis: Analysis,
    path: str | Path,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Re-read the analysed video and write it as H.264 with the skeletons drawn."""
    with atomic_path(path) as tmp:
        _render_overlay(analysis, tmp, progress, cancel)
    return Path(path)


def _render_overlay(
    analysis: Analysis,
    target: Path,
    progress: Progress | None,
    cancel: threading.Event | None,
) -> None:
    from app.core.frame_drawing import draw_people
    from rhpnet.media.video import VideoError, open_video
    from rhpnet.media.writer import H264Writer

    source_path = Path(analysis.video.path)
    if not source_path.exists():
        raise UserFacingError(
            f"{source_path.name}: the analysed video is not available, so no overlay video "
            "can be drawn"
        )
    ids = sorted(analysis.tracks)
    stacked = (
        np.stack([analysis.corrected_track(i)[0].keypoints for i in ids])
        if ids
        else np.zeros((0, analysis.frame_count, len(POSE_KEYPOINT_NAMES), 3), np.float32)
    )
    present = np.stack([analysis.tracks[i].present for i in ids]) if ids else None
    track_ids = np.asarray(ids, np.int64)
    last_report = 0.0
    with open_video(source_path, image_fps=analysis.video.fps) as source:
        if source.info.frame_count != analysis.frame_count:
            raise VideoError(
                f"{source_path.name}: the video has changed since it was analysed "
                f"({source.info.frame_count} frames now, {analysis.frame_count} analysed)"
            )
        info = source.info
        with H264Writer(target, info.width, info.height, info.fps) as writer:
            for done, frame in enumerate(source.frames(), start=1):
                raise_if_cancelled(cancel)
                image = frame.image
                if present is not None:
                    here = present[:, frame.index]
                    if here.any():
                        image = draw_people(
                            image, stacked[here, frame.index], track_ids[here], analysis.subject_id
                        )
                writer.write(image, frame.time_s)
                now = time.monotonic()
                if progress is not None and now - last_report >= 1 / 30:
                    last_report = now
                    progress(done, analysis.frame_count)
    if progress is not None:
        progress(analysis.frame_count, analysis.frame_count)
