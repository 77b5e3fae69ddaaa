"""Small synthetic media files for tests: frames that carry their own index, rotation metadata,
variable frame rate, other codecs, audio-only files, truncated files.

Every frame shows its index as a row of black/white 8x8 blocks (robust to lossy coding), and a
red block in its top-left quadrant so a test can tell whether it is upright.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

BITS = 10
BLOCK = 8


def pattern_frame(index: int, width: int = 128, height: int = 96) -> np.ndarray:
    """BGR frame: index bits along the top row, a red block at the top-left, grey gradient."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:] = np.linspace(60, 120, width, dtype=np.uint8)[None, :, None]
    for bit in range(BITS):
        value = 255 if (index >> bit) & 1 else 0
        image[:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = value
    image[BLOCK * 2 : height // 2, : width // 3] = (0, 0, 255)
    return image


def read_index(image: np.ndarray) -> int:
    """Inverse of ``pattern_frame`` for an upright decoded frame."""
    index = 0
    for bit in range(BITS):
        block = image[2 : BLOCK - 2, bit * BLOCK + 2 : (bit + 1) * BLOCK - 2]
        if block.mean() > 127:
            index |= 1 << bit
    return index


def write_video(
    path: Path,
    frames: int = 30,
    *,
    fps: int = 30,
    codec: str = "libx264",
    size: tuple[int, int] = (128, 96),
    rotation: int | None = None,
    times_s: np.ndarray | None = None,
    gop: int | None = None,
    image_fn=pattern_frame,
    faststart: bool = False,
) -> Path:
    """Encode ``frames`` pattern frames with PyAV. ``times_s`` gives variable frame times;
    ``faststart`` puts an MP4's index first (so a truncated copy stays partly readable)."""
    options = {"movflags": "+faststart"} if faststart else {}
    container = av.open(str(path), "w", options=options)
    stream = container.add_stream(codec, rate=fps)
    stream.width, stream.height = size
    stream.pix_fmt = "yuv420p"
    options = {}
    if gop:
        options["g"] = str(gop)
    if codec == "libx265":
        options["x265-params"] = "log-level=error"
    stream.options = options
    time_base = Fraction(1, 1000)
    if times_s is not None:
        stream.codec_context.time_base = time_base
    if rotation is not None:
        stream.set_display_rotation(rotation)
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(image_fn(i, *size), format="bgr24")
        if times_s is not None:
            frame.pts = int(round(times_s[i] / time_base))
            frame.time_base = time_base
        _mux(container, stream, frame)
    _mux(container, stream, None)  # flush the encoder
    container.close()
    return path


def write_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An AAC-in-MP4 file with no video stream."""
    container = av.open(str(path), "w", format="mp4")
    stream = container.add_stream("aac", rate=44100)
    stream.layout = "mono"
    samples = int(44100 * seconds)
    tone = (0.2 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 44100)).astype(np.float32)
    for start in range(0, samples, 1024):
        chunk = tone[start : start + 1024][None, :]
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
        frame.sample_rate = 44100
        _mux(container, stream, frame)
    _mux(container, stream, None)  # flush the encoder
    container.close()
    return path


def _mux(container, stream, frame) -> None:
    """Encode one frame (None: flush the encoder) and write its packets."""
    for packet in stream.encode(frame):
        container.mux(packet)


def truncate(source: Path, target: Path, keep_fraction: float) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep_fraction)])
    return target
