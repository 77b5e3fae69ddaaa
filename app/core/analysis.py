"""The result of analysing one video: per-person track arrays, frame times and provenance.

Tracks are columnar numpy arrays over *all* frames of the video (NaN where the person was not
seen), so plotting, filtering and CSV export are vectorised and a 10-minute video stays small.
An ``Analysis`` is saved atomically as a sidecar (``<stem>.analysis.npz`` plus a readable
``<stem>.analysis.json``) and reloaded without recomputing.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.core.corrections import Corrections, corrected_keypoints
from rhpnet import __version__
from rhpnet.atomic import atomic_path, atomic_write_text
from rhpnet.errors import DataError
from rhpnet.media.info import VideoInfo
from rhpnet.skeleton import (
    NUM_POSE_KEYPOINTS,
    POSE_KEYPOINT_NAMES,
    to_pose_layout,
)

# 2: keypoints in the pose layout (COCO-17 + feet). Format 1 (COCO-17 only) still opens, its feet
# NaN. 3: hand corrections beside the estimate (app.core.corrections); 1 and 2 open with none.
SIDECAR_FORMAT = 3
READABLE_SIDECAR_FORMATS = (1, 2, 3)
SIDECAR_SUFFIX = ".analysis.npz"


@dataclass
class Track:
    """One person over the whole video.

    keypoints: (T, K, 3) float32 (x, y, score) in pixels of the upright frame, NaN where missing;
        K points in the pose layout (``rhpnet.skeleton.POSE_KEYPOINT_NAMES``: COCO-17 then the
        feet, NaN for a model that has no feet).
    boxes: (T, 4) float32 x, y, width, height; NaN where missing.
    scores: (T,) float32 instance score; NaN where missing.
    """

    track_id: int
    keypoints: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls, track_id: int, frame_count: int) -> Track:
        return cls(
            track_id=track_id,
            keypoints=np.full((frame_count, NUM_POSE_KEYPOINTS, 3), np.nan, np.float32),
            boxes=np.full((frame_count, 4), np.nan, np.float32),
            scores=np.full((frame_count,), np.nan, np.float32),
        )

    @property
    def present(self) -> np.ndarray:
        """(T,) bool: frames in which this person was detected."""
        return ~np.isnan(self.scores)

    @property
    def frame_count_present(self) -> int:
        return int(self.present.sum())


@dataclass
class Analysis:
    """Tracks + per-frame times + video metadata + model provenance.

    ``times_s`` are the container's presentation times (variable frame rate kept). For slow-motion
    footage ``slowmo`` is the factor by which the video is slower than reality (8 for 240 fps
    played at 30 fps); ``real_times_s`` divides it out and is what metrics must use.
    """

    video: VideoInfo
    times_s: np.ndarray
    tracks: dict[int, Track]
    subject_id: int | None = None
    model: dict[str, Any] = field(default_factory=dict)
    slowmo: float = 1.0
    software_version: str = __version__
    # Problems the user should know about that did not stop the analysis (e.g. a truncated file
    # whose readable part was analysed).
    warnings: list[str] = field(default_factory=list)
    # Frames that start a new shot of edited footage: no track crosses one (app.core.scene_cuts).
    scene_cuts: list[int] = field(default_factory=list)
    # The user's edits over the estimate; ``tracks`` always hold the estimate itself.
    corrections: Corrections = field(default_factory=Corrections)
    # (T, 2) background shift from the previous frame, pixels (app.core.camera_motion); NaN where
    # unmeasured, None for analyses made before it was measured.
    camera_shift_px: np.ndarray | None = None

    @property
    def frame_count(self) -> int:
        return int(len(self.times_s))

    @property
    def real_times_s(self) -> np.ndarray:
        return np.asarray(self.times_s, np.float64) / float(self.slowmo)

    def subject(self) -> Track | None:
        """The analysed runner (chosen automatically or by the user), if any."""
        if self.subject_id is None:
            return None
        return self.tracks.get(self.subject_id)

    def corrected_track(self, track_id: int) -> tuple[Track, np.ndarray]:
        """The track with the user's edits applied, and the (T, K) mask of edited points."""
        track = self.tracks[track_id]
        if not self.corrections.of_track(track_id):
            return track, np.zeros(track.keypoints.shape[:2], bool)
        keypoints, edited = corrected_keypoints(track.keypoints, track_id, self.corrections)
        return Track(track_id, keypoints, track.boxes, track.scores), edited

    def metadata(self) -> dict[str, Any]:
        return {
            "format": SIDECAR_FORMAT,
            "software_version": self.software_version,
            "video": asdict(self.video),
            "subject_id": self.subject_id,
            "model": self.model,
            "slowmo": self.slowmo,
            "keypoint_names": list(POSE_KEYPOINT_NAMES),
            "frame_count": self.frame_count,
            "track_ids": sorted(self.tracks),
            "warnings": list(self.warnings),
            "scene_cuts": [int(frame) for frame in self.scene_cuts],
            "corrections": self.corrections.to_json(),
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``<stem>.analysis.npz`` (atomic) and the readable ``.analysis.json`` beside it."""
        path = Path(path)
        ids = sorted(self.tracks)
        t = self.frame_count
        k = NUM_POSE_KEYPOINTS
        meta = self.metadata()
        arrays = {
            "times_s": np.asarray(self.times_s, np.float64),
            "track_ids": np.asarray(ids, np.int64),
            "keypoints": np.stack([self.tracks[i].keypoints for i in ids]).astype(np.float32)
            if ids
            else np.zeros((0, t, k, 3), np.float32),
            "boxes": np.stack([self.tracks[i].boxes for i in ids]).astype(np.float32)
            if ids
            else np.zeros((0, t, 4), np.float32),
            "scores": np.stack([self.tracks[i].scores for i in ids]).astype(np.float32)
            if ids
            else np.zeros((0, t), np.float32),
            "metadata_json": np.asarray(json.dumps(meta)),
        }
        if self.camera_shift_px is not None:
            arrays["camera_shift_px"] = np.asarray(self.camera_shift_px, np.float32)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        with atomic_path(path) as tmp:
            tmp.write_bytes(buffer.getvalue())
        atomic_write_text(path.with_suffix(".json"), json.dumps(meta, indent=2))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Analysis:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["metadata_json"]))
                times = np.asarray(data["times_s"], np.float64)
                ids = [int(i) for i in data["track_ids"]]
                keypoints, boxes, scores = data["keypoints"], data["boxes"], data["scores"]
                camera = data["camera_shift_px"] if "camera_shift_px" in data else None
        except FileNotFoundError:
            raise DataError(f"{path}: analysis file not found") from None
        except (OSError, ValueError, KeyError, EOFError) as error:
            raise DataError(f"{path}: not a readable analysis file ({error})") from None
        if meta.get("format") not in READABLE_SIDECAR_FORMATS:
            raise DataError(f"{path}: analysis format {meta.get('format')} is not supported")
        if keypoints.ndim != 4 or keypoints.shape[:2] != (len(ids), len(times)):
            raise DataError(f"{path}: analysis arrays are inconsistent")
        if camera is not None and camera.shape != (len(times), 2):
            raise DataError(f"{path}: analysis arrays are inconsistent")
        names = meta.get("keypoint_names") or POSE_KEYPOINT_NAMES[: keypoints.shape[2]]
        try:
            keypoints = to_pose_layout(keypoints.reshape(-1, *keypoints.shape[2:]), names)
        except ValueError as error:
            raise DataError(f"{path}: {error}") from None
        keypoints = keypoints.reshape(len(ids), len(times), NUM_POSE_KEYPOINTS, 3)
        tracks = {
            tid: Track(tid, keypoints[m].copy(), boxes[m].copy(), scores[m].copy())
            for m, tid in enumerate(ids)
        }
        try:
            corrections = Corrections.from_json(meta.get("corrections"))
        except DataError as error:
            raise DataError(f"{path}: {error}") from None
        return cls(
            video=VideoInfo(**meta["video"]),
            times_s=times,
            tracks=tracks,
            subject_id=meta.get("subject_id"),
            model=meta.get("model", {}),
            slowmo=float(meta.get("slowmo", 1.0)),
            software_version=meta.get("software_version", ""),
            warnings=list(meta.get("warnings", [])),
            scene_cuts=[int(frame) for frame in meta.get("scene_cuts", [])],
            corrections=corrections,
            camera_shift_px=None if camera is None else np.asarray(camera, np.float32),
        )


def sidecar_path(out_dir: str | os.PathLike[str], video_path: str | os.PathLike[str]) -> Path:
    """``<out_dir>/<video stem>.analysis.npz``."""
    return Path(out_dir) / f"{Path(video_path).stem}{SIDECAR_SUFFIX}"
