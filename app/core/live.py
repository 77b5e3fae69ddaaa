"""Live camera helpers (Qt-free): delayed replay buffer, recording, camera discovery.

Delayed replay is for an athlete on a treadmill watching their own form a few seconds late: the
buffer keeps the last frames by capture time and hands back the one captured ``delay`` seconds
ago. Recording writes H.264 through the same writer as the exported videos, to a temporary file
renamed into place only when the recording stops normally, so an aborted recording leaves
nothing behind.
"""

from __future__ import annotations

import bisect
import contextlib
import glob
import os
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rhpnet.atomic import atomic_path

MAX_DELAY_S = 30.0


@dataclass
class LiveFrame:
    """A captured frame and, once estimated, its poses.

    ``image`` is the camera's BGR array, or whatever a display keeps of it instead (the app's
    delay buffer holds the frame already shrunk to the view, ready to paint).
    """

    index: int
    time_s: float
    image: Any
    poses: Any = None


class DelayBuffer:
    """Frames of the last ``max_delay_s`` seconds (plus a margin), looked up by capture time."""

    def __init__(self, max_delay_s: float = MAX_DELAY_S) -> None:
        self.max_delay_s = float(max_delay_s)
        self._frames: deque[LiveFrame] = deque()
        self._by_index: dict[int, LiveFrame] = {}

    def __len__(self) -> int:
        return len(self._frames)

    def push(self, frame: LiveFrame) -> None:
        self._frames.append(frame)
        self._by_index[frame.index] = frame
        horizon = frame.time_s - self.max_delay_s - 1.0
        while self._frames and self._frames[0].time_s < horizon:
            old = self._frames.popleft()
            self._by_index.pop(old.index, None)

    def attach_poses(self, index: int, poses: Any) -> None:
        frame = self._by_index.get(index)
        if frame is not None:
            frame.poses = poses

    @property
    def latest(self) -> LiveFrame | None:
        return self._frames[-1] if self._frames else None

    def delayed(self, delay_s: float) -> LiveFrame | None:
        """The newest frame captured at least ``delay_s`` before the latest one (None if the
        buffer does not reach back that far yet)."""
        if not self._frames:
            return None
        if delay_s <= 0:
            return self._frames[-1]
        target = self._frames[-1].time_s - delay_s
        times = [f.time_s for f in self._frames]
        position = bisect.bisect_right(times, target) - 1
        return self._frames[position] if position >= 0 else None

    def latest_poses_up_to(self, index: int) -> Any:
        """Poses of frame ``index``, or of the nearest earlier frame that has some."""
        for frame in reversed(self._frames):
            if frame.index <= index and frame.poses is not None:
                return frame.poses
        return None


class Recorder:
    """Writes live frames to an H.264 MP4 atomically: ``finish()`` keeps it, ``abort()`` drops it.

    As a context manager it finishes when the block succeeds and aborts when it raises.
    """

    def __init__(self, path: str | os.PathLike[str], width: int, height: int, fps: float) -> None:
        from rhpnet.media.writer import H264Writer

        self.path = Path(path)
        self._atomic = atomic_path(self.path)
        tmp = self._atomic.__enter__()
        try:
            self._writer = H264Writer(tmp, width, height, fps)
        except BaseException as error:
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise
        self._t0: float | None = None
        self._open = True

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.abort()

    @property
    def frames_written(self) -> int:
        return self._writer.frames_written

    def write(self, image: np.ndarray, time_s: float) -> None:
        if self._t0 is None:
            self._t0 = time_s
        self._writer.write(image, time_s - self._t0)

    def finish(self) -> Path:
        """Close the file and move it into place."""
        if not self._open:
            return self.path
        self._open = False
        try:
            self._writer.close()
        except BaseException as error:
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise
        self._atomic.__exit__(None, None, None)
        return self.path

    def abort(self) -> None:
        """Stop without keeping anything."""
        if not self._open:
            return
        self._open = False
        with contextlib.suppress(Exception):
            self._writer.close()
        error = RuntimeError("recording aborted")
        with contextlib.suppress(RuntimeError):
            self._atomic.__exit__(RuntimeError, error, None)


def camera_indices() -> list[int]:
    """Camera indices worth offering: the V4L2 devices on Linux, the first four elsewhere."""
    if sys.platform.startswith("linux"):
        found = sorted(
            int(name.removeprefix("/dev/video"))
            for name in glob.glob("/dev/video*")
            if name.removeprefix("/dev/video").isdigit()
        )
        return found
    return [0, 1, 2, 3]
