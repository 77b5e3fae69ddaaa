"""H.264 MP4 writing through PyAV (libx264): the OpenCV wheels cannot encode avc1.

Frames are converted BGR -> I420 with OpenCV (BT.601, limited range, the same matrix the reader
uses) and the stream is tagged BT.601 so players show the colours as they were drawn. Each frame
keeps its own timestamp, so variable-frame-rate input stays in sync with the source.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

_TIME_BASE = Fraction(1, 90000)
_BT601 = 6  # AVCOL_SPC_SMPTE170M / AVCOL_PRI_SMPTE170M / AVCOL_TRC_SMPTE170M


class H264Writer:
    """Write BGR frames to an H.264 MP4 file; the caller makes the path atomic.

    ``crf`` trades size for quality (18 visually lossless, 23 libx264's default). Odd frame sizes
    are padded by one pixel at the right/bottom because 4:2:0 chroma needs even dimensions.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        width: int,
        height: int,
        fps: float,
        *,
        crf: int = 20,
        preset: str = "veryfast",
        threads: int = 0,
    ) -> None:
        import av

        self._av = av
        self.path = Path(path)
        self.size = (int(width), int(height))
        self._padded = (int(width) + int(width) % 2, int(height) + int(height) % 2)
        # faststart: the index goes first, so the file plays while it streams.
        self._container = av.open(
            str(self.path), "w", format="mp4", options={"movflags": "+faststart"}
        )
        try:
            rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(30)
            stream = self._container.add_stream("libx264", rate=rate)
            stream.width, stream.height = self._padded
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = _TIME_BASE
            stream.codec_context.colorspace = _BT601
            stream.codec_context.color_primaries = _BT601
            stream.codec_context.color_trc = _BT601
            stream.codec_context.color_range = 1  # limited ("MPEG") range
            stream.thread_count = threads
            stream.options = {"crf": str(crf), "preset": preset}
        except BaseException:
            self._container.close()
            raise
        self._stream = stream
        self._last_pts = -1
        self._frames_written = 0

    @property
    def frames_written(self) -> int:
        return self._frames_written

    def write(self, image_bgr: np.ndarray, time_s: float) -> None:
        """Append one frame shown at ``time_s`` seconds (must increase)."""
        if (image_bgr.shape[1], image_bgr.shape[0]) != self.size:
            raise ValueError(
                f"frame size {image_bgr.shape[1]}x{image_bgr.shape[0]} differs from the "
                f"video size {self.size[0]}x{self.size[1]}"
            )
        if self._padded != self.size:
            image_bgr = cv2.copyMakeBorder(
                image_bgr,
                0,
                self._padded[1] - self.size[1],
                0,
                self._padded[0] - self.size[0],
                cv2.BORDER_REPLICATE,
            )
        yuv = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2YUV_I420)
        frame = self._av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        pts = max(int(round(time_s / _TIME_BASE)), self._last_pts + 1)
        frame.pts = pts
        frame.time_base = _TIME_BASE
        self._last_pts = pts
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self._frames_written += 1

    def close(self) -> None:
        """Flush the encoder and finish the file (also on error, so the handle is released)."""
        if self._container is None:
            return
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
