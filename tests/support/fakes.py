"""Test doubles for the pipeline: a deterministic estimator and a source that counts decoding."""

from __future__ import annotations

import time

import numpy as np

from rhpnet.media.video import Frame, VideoSource
from rhpnet.poses import FramePoses
from rhpnet.skeleton import COCO_KEYPOINT_NAMES


class FakeEstimator:
    """One person whose box follows a known path; optionally slow, to test the queue.

    It gives COCO-17 only (no feet), as a 17-joint network does.
    """

    keypoint_names = COCO_KEYPOINT_NAMES

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls: list[float] = []

    def estimate(self, image_bgr: np.ndarray, timestamp_s: float) -> FramePoses:
        if self.delay_s:
            time.sleep(self.delay_s)
        self.calls.append(timestamp_s)
        x = 10.0 + 100.0 * timestamp_s
        keypoints = np.zeros((1, 17, 3), np.float32)
        keypoints[0, :, 0] = x + np.arange(17)
        keypoints[0, :, 1] = 20 + np.arange(17) * 3
        keypoints[0, :, 2] = 0.9
        return FramePoses(keypoints, [[x, 20, 17, 51]], [0.9])

    def describe(self) -> dict:
        return {"name": "fake"}

    def close(self) -> None:
        pass


class CountingSource(VideoSource):
    """Wraps a source and records how far decoding ran ahead of inference."""

    def __init__(self, inner: VideoSource) -> None:
        self.inner = inner
        self.info = inner.info
        self.warnings = inner.warnings
        self.decoded = 0

    @property
    def times_s(self):
        return self.inner.times_s

    def frames(self, start: int = 0, *, rgb: bool = False):
        for frame in self.inner.frames(start, rgb=rgb):
            self.decoded += 1
            yield frame

    def read_frame(self, index: int) -> Frame:
        return self.inner.read_frame(index)

    def close(self) -> None:
        self.inner.close()
