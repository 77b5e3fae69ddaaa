"""What is known of a video before decoding it, and the cheap identity that ties results to it.

Both live in the media layer because every reader of video needs them: the app's sources fill
``VideoInfo`` and its sidecars compare fingerprints, and training reads the same sources.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

_FINGERPRINT_CHUNK = 1 << 20


@dataclass
class VideoInfo:
    """What we know of the source video. ``fingerprint`` ties a sidecar to the exact file."""

    path: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float
    rotation_deg: int = 0
    codec: str = ""
    fingerprint: str = ""


def video_fingerprint(path: str | os.PathLike[str]) -> str:
    """Cheap identity of a video file: size plus a hash of its first and last MiB.

    Survives copies and renames (unlike mtime) and costs two small reads even for huge files.
    """
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(_FINGERPRINT_CHUNK))
        if size > _FINGERPRINT_CHUNK:
            handle.seek(max(size - _FINGERPRINT_CHUNK, _FINGERPRINT_CHUNK))
            digest.update(handle.read(_FINGERPRINT_CHUNK))
    return f"{size}:{digest.hexdigest()[:32]}"
