"""Video sources: files, webcams and folders of images, all yielding upright ``Frame`` objects.

Why PyAV for files (and not OpenCV's ``VideoCapture``):

* every frame carries its container presentation timestamp, so variable-frame-rate phone video
  keeps real time (OpenCV only offers an approximate ``CAP_PROP_POS_MSEC``);
* seeking by frame index is exact: a one-off scan of the packet headers (no decoding, a few ms
  per minute of video) gives every frame's timestamp and the keyframes, so ``read_frame(i)``
  seeks to the keyframe before frame ``i`` and decodes forward to exactly that timestamp;
* truncated or partly corrupt files are detected per packet, so the readable frames can still be
  analysed.

PyAV does not rotate frames, so the stream's display matrix (phone video shot in portrait) is
applied here. Webcams go through OpenCV (V4L2/DirectShow/AVFoundation capture), image folders
through ``cv2.imread`` (which also applies EXIF orientation).

Frame indices are positions in presentation order, starting at 0; ``time_s`` is the time since
the first frame. A frame that cannot be decoded is skipped, so its index is simply absent from a
sequential read (the analysis arrays keep NaN there).
"""

from __future__ import annotations

import abc
import bisect
import contextlib
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from rhpnet.errors import DataError
from rhpnet.media.info import VideoInfo, video_fingerprint

VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mts", ".m2ts", ".3gp")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
DEFAULT_IMAGE_FOLDER_FPS = 30.0
# Sequential reads this many frames ahead decode forward instead of seeking (playback, stepping).
_FORWARD_DECODE_LIMIT = 90
# FFmpeg's own decoding threads: 4K HEVC phone video needs them to keep ahead of inference.
_DECODER_THREADING = "AUTO"


def _before(pts: int | None, start_pts: int | None) -> bool:
    """Whether a packet's timestamp lies before the first frame wanted (unknown: it does not)."""
    return pts is not None and start_pts is not None and pts < start_pts


class VideoError(DataError):
    """A video, webcam or image folder cannot be opened or read."""


class WebcamError(VideoError):
    """The requested camera does not exist or is busy."""


@dataclass(frozen=True)
class Frame:
    """One decoded image: position in presentation order, time since the first frame, pixels.

    ``image`` is an upright, C-contiguous BGR uint8 array (H, W, 3) (RGB only when a caller
    asked ``frames(rgb=True)`` for it).
    """

    index: int
    time_s: float
    image: np.ndarray


class VideoSource(abc.ABC):
    """A stream of upright frames with metadata.

    ``times_s`` is known in advance for files and image folders (one entry per frame index) and
    ``None`` for live cameras. Sources are not thread-safe, and ``frames()`` and ``read_frame()``
    share one decoder: a player that seeks while an analysis decodes opens its own source.
    """

    info: VideoInfo
    warnings: list[str]

    @property
    @abc.abstractmethod
    def times_s(self) -> np.ndarray | None: ...

    @property
    def is_live(self) -> bool:
        return self.times_s is None

    @abc.abstractmethod
    def frames(self, start: int = 0, *, rgb: bool = False) -> Iterator[Frame]:
        """Decode sequentially from frame ``start`` to the end.

        ``rgb=True`` delivers RGB instead of BGR images, converted straight from the decoder's
        YUV where possible: for estimators that want RGB (mediapipe) it saves a conversion.
        """

    @abc.abstractmethod
    def read_frame(self, index: int) -> Frame:
        """Exactly the frame a sequential read gives for ``index``."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the file or device."""

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_video(
    source: str | Path | int, *, image_fps: float = DEFAULT_IMAGE_FOLDER_FPS
) -> VideoSource:
    """Open a video file, a folder of images, or a webcam (an ``int`` index)."""
    if isinstance(source, int):
        return WebcamSource(source)
    path = Path(source)
    if path.is_dir():
        return ImageFolderSource(path, fps=image_fps)
    return FileVideoSource(path)


def _natural_key(name: str) -> list[object]:
    """Sort ``frame2.png`` before ``frame10.png``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def _upright(image: np.ndarray, rotation_ccw: int) -> np.ndarray:
    if rotation_ccw == 90:
        return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    if rotation_ccw == 180:
        return cv2.rotate(image, cv2.ROTATE_180)
    if rotation_ccw == 270:
        return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    return image


class FileVideoSource(VideoSource):
    """A video file decoded with PyAV (FFmpeg): any container and codec FFmpeg can read."""

    def __init__(self, path: str | Path) -> None:
        import av

        self._av = av
        self.path = Path(path)
        self.warnings = []
        self._check_file()
        try:
            self._container = av.open(str(self.path), metadata_errors="ignore")
        except av.error.FFmpegError as error:
            if _looks_like_video_container(self.path):
                raise VideoError(
                    f"{self.path.name}: the video is truncated or damaged and cannot be read "
                    f"({_reason(error)}; was the recording or the copy interrupted?)"
                ) from None
            raise VideoError(
                f"{self.path.name}: not a readable video file ({_reason(error)})"
            ) from None
        try:
            self._stream = self._pick_video_stream()
            self._stream.thread_type = _DECODER_THREADING
            self._scan_packets()
            self.info = self._make_info()
        except BaseException:
            self._container.close()
            raise
        self._cursor: Iterator[Frame] | None = None
        self._cursor_index = -1

    # -- opening ---------------------------------------------------------------------------

    def _check_file(self) -> None:
        if not self.path.exists():
            raise VideoError(f"{self.path}: file not found")
        if not self.path.is_file():
            raise VideoError(f"{self.path}: not a file")
        if self.path.stat().st_size == 0:
            raise VideoError(f"{self.path.name}: the file is empty (0 bytes)")

    def _pick_video_stream(self):
        streams = [
            s
            for s in self._container.streams.video
            if not (s.disposition & self._av.stream.Disposition.attached_pic)
        ]
        if not streams:
            kinds = sorted({s.type for s in self._container.streams})
            if not kinds:
                raise VideoError(
                    f"{self.path.name}: no readable streams (the file is truncated or damaged)"
                )
            raise VideoError(
                f"{self.path.name}: no video in this file (it holds only {', '.join(kinds)})"
            )
        stream = streams[0]
        if stream.codec_context is None or not stream.codec_context.name:
            raise VideoError(f"{self.path.name}: the video codec is not supported")
        if not stream.width or not stream.height:
            raise VideoError(f"{self.path.name}: the video stream has no picture size")
        return stream

    def _scan_packets(self) -> None:
        """Read every packet header once: frame timestamps, keyframes, readable length.

        Cheap (no decoding) and what makes exact seeking and truncation reports possible.
        """
        decode_order_pts: list[int] = []
        keyframe_seek_ts: list[tuple[int, int]] = []  # (decode position, seek timestamp)
        errors: list[Exception] = []
        for packet in self._packets(errors):
            if packet.size == 0 or packet.is_discard:
                continue
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None:
                continue
            if packet.is_keyframe:
                # Demuxers seek on presentation time (mov, mkv) or on time stamps equal to it.
                keyframe_seek_ts.append((len(decode_order_pts), ts))
            decode_order_pts.append(ts)
        pts = np.unique(np.asarray(decode_order_pts, np.int64))
        if len(pts) == 0:
            raise VideoError(
                f"{self.path.name}: no readable video frames (file corrupt or truncated)"
            )
        if len(pts) != len(decode_order_pts):
            self.warnings.append("some frames share a timestamp; duplicates are skipped")
        self._pts = pts
        self._decode_position = {ts: i for i, ts in enumerate(decode_order_pts)}
        keyframes = keyframe_seek_ts or [(0, int(pts[0]))]
        self._keyframe_positions = [position for position, _ in keyframes]
        self._keyframe_seek_ts = [ts for _, ts in keyframes]
        self._time_base = self._stream.time_base or Fraction(1, 1000)
        self._times = (pts - pts[0]).astype(np.float64) * float(self._time_base)
        declared = int(self._stream.frames or 0)
        if errors or declared > len(pts) + 1:
            readable = f"{len(pts)} of {declared}" if declared > len(pts) else f"{len(pts)}"
            self.warnings.append(
                f"the file is truncated or damaged: only {readable} frames are readable"
            )
        else:
            # Containers without a frame count (Matroska, WebM) still declare a duration.
            if self._stream.duration:
                declared_s = float(self._stream.duration * self._time_base)
            else:
                declared_s = (self._container.duration or 0) / 1_000_000
            readable_s = float(self._times[-1])
            if declared_s - readable_s > max(1.0, 0.05 * declared_s):
                self.warnings.append(
                    f"the file is truncated or damaged: only {readable_s:.1f} s of "
                    f"{declared_s:.1f} s are readable"
                )
        self._container.seek(0)

    def _packets(self, errors: list[Exception] | None = None) -> Iterator:
        """The video stream's packets from the current position, ending quietly at the first one
        the demuxer cannot read (a truncated file: the readable part still counts); that error
        is appended to ``errors``."""
        demux = self._container.demux(self._stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                return
            except self._av.error.FFmpegError as error:
                if errors is not None:
                    errors.append(error)
                return
            yield packet

    def _rotation(self) -> int:
        """Counter-clockwise rotation (0/90/180/270) that makes stored frames upright."""
        try:
            frame = next(self._container.decode(self._stream))
        except (StopIteration, self._av.error.FFmpegError):
            return 0
        finally:
            self._container.seek(0)
        return int(round(frame.rotation or 0)) % 360

    def _make_info(self) -> VideoInfo:
        self._rotation_ccw = self._rotation()
        width, height = self._stream.width, self._stream.height
        if self._rotation_ccw in (90, 270):
            width, height = height, width
        count = len(self._pts)
        rate = self._stream.average_rate or self._stream.guessed_rate
        if rate and float(rate) > 0:
            fps = float(rate)
        elif count > 1 and self._times[-1] > 0:
            fps = (count - 1) / float(self._times[-1])
        else:
            fps = 30.0
        return VideoInfo(
            path=os.path.abspath(self.path),  # exports re-open it from any folder
            width=int(width),
            height=int(height),
            fps=fps,
            frame_count=count,
            duration_s=float(self._times[-1]) + 1.0 / fps,
            rotation_deg=self._rotation_ccw,
            codec=self._stream.codec_context.name,
            fingerprint=video_fingerprint(self.path),
        )

    # -- reading ---------------------------------------------------------------------------

    @property
    def times_s(self) -> np.ndarray:
        return self._times

    def _to_image(self, frame, rgb: bool) -> np.ndarray:
        # yuv420p (nearly every H.264/HEVC/VP9 file) goes through OpenCV's SIMD converter,
        # about 3x faster than swscale to packed BGR; other formats use swscale. Either way the
        # matrix is BT.601, as in OpenCV's own reader.
        if (
            frame.format.name == "yuv420p"
            and frame.width % 2 == 0
            and frame.height % 2 == 0
            and frame.color_range != 2  # 2 = full ("JPEG") range
        ):
            code = cv2.COLOR_YUV2RGB_I420 if rgb else cv2.COLOR_YUV2BGR_I420
            image = cv2.cvtColor(frame.to_ndarray(), code)
        else:
            image = np.ascontiguousarray(frame.to_ndarray(format="rgb24" if rgb else "bgr24"))
        return _upright(image, self._rotation_ccw)

    def _index_of(self, pts: int | None, previous: int) -> int | None:
        if pts is None:
            nxt = previous + 1
            return nxt if nxt < len(self._pts) else None
        i = int(np.searchsorted(self._pts, pts))
        if i < len(self._pts) and self._pts[i] == pts:
            return i
        return None

    def _decode(self, seek_ts: int | None, start: int, rgb: bool = False) -> Iterator[Frame]:
        """Frames with index >= ``start`` after seeking to ``seek_ts`` (None: from the start)."""
        av = self._av
        try:
            self._container.seek(
                0 if seek_ts is None else int(seek_ts), stream=self._stream, backward=True
            )
        except av.error.FFmpegError:
            self._container.seek(0)
        previous = -1
        bad_packets = 0
        start_pts = int(self._pts[start]) if 0 < start < len(self._pts) else None
        codec = self._stream.codec_context
        for packet in self._packets():
            # Frames before ``start`` are decoded only as references of later ones: a
            # non-reference frame (most B-frames) among them is skipped by the decoder, which
            # no other frame's picture depends on. Decided per packet on its own timestamp, so
            # every frame from ``start`` on is decoded (FFmpeg's frame threads take the setting
            # with each packet). A seek into a long group of pictures costs about a third less.
            skip = "NONREF" if _before(packet.pts, start_pts) else "DEFAULT"
            if codec.skip_frame != skip:
                codec.skip_frame = skip
            try:
                decoded = packet.decode()
            except av.error.FFmpegError:
                bad_packets += 1
                continue
            for frame in decoded:
                index = self._index_of(frame.pts, previous)
                if index is None or index <= previous:
                    continue
                previous = index
                if index < start:
                    continue
                yield Frame(index, float(self._times[index]), self._to_image(frame, rgb))
        if bad_packets and seek_ts is None:
            message = (
                f"{bad_packets} damaged packets could not be decoded; their frames are skipped"
            )
            if message not in self.warnings:
                self.warnings.append(message)

    def frames(self, start: int = 0, *, rgb: bool = False) -> Iterator[Frame]:
        self._cursor = None
        if start <= 0:
            yield from self._decode(None, 0, rgb)
            return
        yield from self._decode(self._seek_ts_for(start), start, rgb)

    def frames_decoded_before(self, index: int) -> int:
        """How many frames a seek to ``index`` decodes before reaching it: those from the
        keyframe it starts at. What a chunk starting there pays before its first frame."""
        position, k = self._keyframe_before(index)
        return position - self._keyframe_positions[max(k, 0)]

    def _seek_ts_for(self, index: int, keyframes_back: int = 0) -> int:
        """Timestamp of the keyframe that precedes frame ``index`` in decode order."""
        _, k = self._keyframe_before(index)
        return self._keyframe_seek_ts[max(k - keyframes_back, 0)]

    def _keyframe_before(self, index: int) -> tuple[int, int]:
        """Frame ``index``'s position in decode order and the number of the last keyframe at
        or before it (-1 where none is)."""
        position = self._decode_position.get(int(self._pts[index]), 0)
        return position, bisect.bisect_right(self._keyframe_positions, position) - 1

    def read_frame(self, index: int) -> Frame:
        if not 0 <= index < len(self._pts):
            raise IndexError(f"frame {index} out of range 0..{len(self._pts) - 1}")
        if self._cursor is not None and 0 < index - self._cursor_index <= _FORWARD_DECODE_LIMIT:
            frame = self._advance_cursor(index)
            if frame is not None:
                return frame
        for keyframes_back in range(3):
            # Frames before ``index`` are decoded (they are references) but not converted.
            self._cursor = self._decode(self._seek_ts_for(index, keyframes_back), index)
            self._cursor_index = -1
            frame = self._advance_cursor(index)
            if frame is not None:
                return frame
            if keyframes_back == 0 and self._seek_ts_for(index, 1) == self._seek_ts_for(index):
                break
        self._cursor = None
        raise VideoError(f"{self.path.name}: frame {index} cannot be decoded (damaged file?)")

    def _advance_cursor(self, index: int) -> Frame | None:
        assert self._cursor is not None
        for frame in self._cursor:
            self._cursor_index = frame.index
            if frame.index == index:
                return frame
            if frame.index > index:
                break
        self._cursor = None
        return None

    def close(self) -> None:
        self._cursor = None
        self._container.close()


def _looks_like_video_container(path: Path) -> bool:
    """True when the file starts like an MP4/MOV, Matroska/WebM or AVI file."""
    with open(path, "rb") as handle:
        head = handle.read(12)
    return head[4:8] in (b"ftyp", b"mdat", b"moov", b"wide", b"free") or head[:4] in (
        b"\x1a\x45\xdf\xa3",
        b"RIFF",
    )


def _reason(error: Exception) -> str:
    text = getattr(error, "strerror", None) or str(error)
    return str(text).split(":")[-1].strip() or type(error).__name__


class ImageFolderSource(VideoSource):
    """A folder of still images, played in natural name order at a fixed nominal frame rate."""

    def __init__(self, folder: str | Path, fps: float = DEFAULT_IMAGE_FOLDER_FPS) -> None:
        self.folder = Path(folder)
        self.warnings = []
        if fps <= 0:
            raise VideoError(f"frame rate must be positive, got {fps}")
        self._files = sorted(
            (
                p
                for p in self.folder.iterdir()
                if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
            ),
            key=lambda p: _natural_key(p.name),
        )
        if not self._files:
            raise VideoError(
                f"{self.folder}: no images ({', '.join(IMAGE_EXTENSIONS)}) in this folder"
            )
        first = self._imread(self._files[0])
        if first is None:
            raise VideoError(f"{self._files[0].name}: not a readable image")
        self._size = (first.shape[1], first.shape[0])
        self._times = np.arange(len(self._files), dtype=np.float64) / fps
        digest = hashlib.sha256()
        for file in self._files:
            digest.update(f"{file.name}:{file.stat().st_size};".encode())
        self.info = VideoInfo(
            path=os.path.abspath(self.folder),
            width=self._size[0],
            height=self._size[1],
            fps=float(fps),
            frame_count=len(self._files),
            duration_s=len(self._files) / fps,
            codec="images",
            fingerprint=f"images:{len(self._files)}:{digest.hexdigest()[:32]}",
        )

    @staticmethod
    def _imread(path: Path) -> np.ndarray | None:
        # np.fromfile + imdecode copes with non-ASCII paths on every platform.
        data = np.fromfile(str(path), np.uint8)
        if data.size == 0:
            return None
        return cv2.imdecode(data, cv2.IMREAD_COLOR)

    @property
    def times_s(self) -> np.ndarray:
        return self._times

    def _load(self, index: int) -> np.ndarray:
        image = self._imread(self._files[index])
        if image is None:
            raise VideoError(f"{self._files[index].name}: not a readable image")
        if (image.shape[1], image.shape[0]) != self._size:
            raise VideoError(
                f"{self._files[index].name}: size {image.shape[1]}x{image.shape[0]} differs from "
                f"the first image ({self._size[0]}x{self._size[1]}); all images must match"
            )
        return image

    def frames(self, start: int = 0, *, rgb: bool = False) -> Iterator[Frame]:
        unreadable = 0
        for index in range(max(start, 0), len(self._files)):
            try:
                image = self._load(index)
            except VideoError:
                unreadable += 1
                continue
            if rgb:
                image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            yield Frame(index, float(self._times[index]), image)
        if unreadable:
            self.warnings.append(f"{unreadable} unreadable or mismatched images were skipped")

    def read_frame(self, index: int) -> Frame:
        if not 0 <= index < len(self._files):
            raise IndexError(f"frame {index} out of range 0..{len(self._files) - 1}")
        return Frame(index, float(self._times[index]), self._load(index))

    def close(self) -> None:
        """Nothing stays open between reads."""


class WebcamSource(VideoSource):
    """A live camera through OpenCV. Times come from the camera clock (or the wall clock).

    ``max_duration_s`` ends the stream after that much time; ``stop()`` ends it from another
    thread. Live sources cannot seek.
    """

    def __init__(self, index: int, max_duration_s: float | None = None) -> None:
        self.index = int(index)
        self.warnings = []
        self.max_duration_s = max_duration_s
        self._stop = threading.Event()
        self._capture = self._open_capture()
        ok, first = self._capture.read()
        if not ok or first is None:
            self._capture.release()
            raise WebcamError(f"webcam {index}: the camera opened but delivers no picture (busy?)")
        self._first = first
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.info = VideoInfo(
            path=f"webcam:{self.index}",
            width=int(first.shape[1]),
            height=int(first.shape[0]),
            fps=fps if 0 < fps < 1000 else 30.0,
            frame_count=0,
            duration_s=0.0,
            codec="webcam",
        )

    def _open_capture(self) -> cv2.VideoCapture:
        if self.index < 0:
            raise WebcamError(f"webcam {self.index}: camera indices start at 0")
        previous = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        try:
            capture = cv2.VideoCapture(self.index)
        finally:
            cv2.utils.logging.setLogLevel(previous)
        if not capture.isOpened():
            capture.release()
            raise WebcamError(f"webcam {self.index}: no camera with this index (or it is busy)")
        return capture

    @property
    def times_s(self) -> None:
        return None

    def stop(self) -> None:
        self._stop.set()

    def frames(self, start: int = 0, *, rgb: bool = False) -> Iterator[Frame]:
        t0 = time.monotonic()
        image: np.ndarray | None = self._first
        index = 0
        while not self._stop.is_set():
            if image is None:
                ok, image = self._capture.read()
                if not ok or image is None:
                    break
            elapsed = time.monotonic() - t0
            if self.max_duration_s is not None and elapsed > self.max_duration_s:
                break
            if index >= start:
                yield Frame(
                    index, elapsed, cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if rgb else image
                )
            index += 1
            image = None
        self._first = None

    def read_frame(self, index: int) -> Frame:
        raise VideoError(f"webcam {self.index}: a live camera cannot seek")

    def close(self) -> None:
        with contextlib.suppress(cv2.error):
            self._capture.release()
