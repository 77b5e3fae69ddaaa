"""Short test clips cut from the real running videos, shared by every test folder's fixtures."""

from __future__ import annotations

from pathlib import Path

# treadmill_side_slow.mp4 is slow motion, analysed with --slowmo 8 (docs/test_data.md)
SLOW_CLIP_SLOWMO = 8.0


def trim_video(
    source: Path,
    target: Path,
    *,
    start_s: float = 0.0,
    seconds: float | None = None,
    max_frames: int | None = None,
    scale: float = 1.0,
    crf: int = 20,
) -> Path:
    """Re-encode part of a real clip as a short H.264 test clip, resized by ``scale``.

    Keeps the frames from ``start_s`` on, up to ``seconds`` later and/or ``max_frames`` of them,
    with their own timestamps shifted to start at zero (variable frame rate survives). Sizes are
    rounded to even numbers, as 4:2:0 chroma needs.
    """
    import cv2

    from rhpnet.media.video import open_video
    from rhpnet.media.writer import H264Writer

    with open_video(source) as video:
        first = int((video.times_s < start_s).sum())
        size = (round(video.info.width * scale / 2) * 2, round(video.info.height * scale / 2) * 2)
        with H264Writer(target, *size, video.info.fps, crf=crf) as writer:
            for count, frame in enumerate(video.frames(first)):
                if max_frames is not None and count >= max_frames:
                    break
                if seconds is not None and frame.time_s > start_s + seconds:
                    break
                image = cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
                writer.write(image, frame.time_s - start_s)
    return target
