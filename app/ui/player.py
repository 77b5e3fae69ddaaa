"""The video player: frame canvas with the skeleton overlay, transport controls and zoom.

Decoding happens on a ``FrameProvider`` living in its own QThread; the UI thread only asks for
an index and paints the image that comes back. Requests coalesce (only the latest pending index
is decoded), so scrubbing a long clip never queues up work, and playback drops frames rather
than falling behind when decoding is slower than real time. Closing a video never waits for
its decoder (it may be opening the file or seeking back to a keyframe): the old decoder is
told to stop, finishes its frame unseen and closes its file on its own thread.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import cv2
import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.frame_cache import FrameCache
from app.ui.clock import format_clock
from app.ui.skeleton_painter import OverlayOptions, draw_overlay
from app.ui.timeline_marks import TimelineMarks
from app.viewmodels.items import AngleLabel, PersonPose, person_at
from rhpnet.skeleton import POSE_KEYPOINT_NAMES

SPEEDS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
MIN_ZOOM, MAX_ZOOM = 0.05, 16.0
# How close (screen pixels) a press must come to a keypoint to pick it up for correction.
GRAB_RADIUS_PX = 10.0


class FrameReader(Protocol):
    """What the player needs from a video: exact random access by frame index."""

    def read_frame(self, index: int) -> Any: ...

    def close(self) -> None: ...


OverlayProvider = Callable[[int], tuple[list[PersonPose], list[AngleLabel]]]


def bgr_to_qimage(image: np.ndarray) -> QImage:
    """Copying conversion (the QImage owns its pixels, safe to hand across threads)."""
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    if image.ndim == 2:
        return QImage(
            image.data, width, height, image.strides[0], QImage.Format.Format_Grayscale8
        ).copy()
    return QImage(image.data, width, height, image.strides[0], QImage.Format.Format_BGR888).copy()


def fit_image(image: np.ndarray, max_size: tuple[int, int] | None) -> np.ndarray:
    """Shrink ``image`` to fit ``max_size`` (width, height) keeping its aspect; never enlarge."""
    if max_size is None:
        return image
    height, width = image.shape[:2]
    scale = min(max_size[0] / width, max_size[1] / height)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


class FrameProvider(QObject):
    """Decodes frames on its own thread: ``frameReady(index, QImage, source size)``.

    Frames are shrunk here to the size they are shown at, so the UI thread paints a small image
    instead of rescaling a full-resolution one at every frame.
    """

    frameReady = Signal(int, QImage, QSize)
    failed = Signal(str)
    _wake = Signal()

    def __init__(self, open_reader: Callable[[], FrameReader]) -> None:
        super().__init__()
        self._open_reader = open_reader
        self._reader: FrameReader | None = None
        self._cache: FrameCache[np.ndarray] | None = None
        self._lock = threading.Lock()
        self._pending: tuple[int, tuple[int, int] | None] | None = None
        self._wake.connect(self._serve, Qt.ConnectionType.QueuedConnection)

    def request(self, index: int, max_size: tuple[int, int] | None = None) -> None:
        """Thread-safe: remember ``index`` as the frame wanted next and wake the decoder.

        ``max_size`` is the largest (width, height) worth delivering; None for full resolution.
        """
        with self._lock:
            self._pending = (int(index), max_size)
        self._wake.emit()

    @Slot()
    def _serve(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is None:
            return
        index, max_size = pending
        try:
            if self._cache is None:
                self._reader = self._open_reader()
                self._cache = FrameCache(self._decode, budget_bytes=160 * 1024 * 1024)
            image = self._cache.get(index)
            shown = bgr_to_qimage(fit_image(image, max_size))
        except Exception as error:  # decoding errors become a message, never a crash
            self.failed.emit(f"cannot decode frame {index}: {error}")
            return
        self.frameReady.emit(index, shown, QSize(image.shape[1], image.shape[0]))

    def _decode(self, index: int) -> np.ndarray:
        assert self._reader is not None
        frame = self._reader.read_frame(index)
        return getattr(frame, "image", frame)

    @Slot()
    def shutdown(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._reader, self._cache = None, None


class VideoCanvas(QWidget):
    """Paints the current frame fitted or zoomed, then the overlay, in widget coordinates."""

    clickedAt = Signal(float, float)  # image pixel coordinates
    # A keypoint of ``editable_track`` dragged to image point (x, y): track id, joint index, x, y
    keypointDragged = Signal(int, int, float, float)
    zoomChanged = Signal(float)
    sizeChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(320, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)
        self.image: QImage | None = None
        self.source_size = QSize(0, 0)  # full-resolution size: keypoints are in these pixels
        self.people: list[PersonPose] = []
        self.options = OverlayOptions()
        self.fit = True
        self._zoom = 1.0
        self._pan = QPointF(0, 0)
        self._drag_origin: QPointF | None = None
        self._press_pos: QPointF | None = None
        # The person whose points a press-and-drag moves (the runner, while paused), or None.
        self.editable_track: int | None = None
        self._dragged: tuple[PersonPose, int] | None = None
        self.placeholder = "Open a running video (File ▸ Open, or drop it here)"

    def sizeHint(self) -> QSize:
        return QSize(960, 600)

    def set_frame(
        self,
        image: QImage | None,
        people: list[PersonPose],
        labels: list[AngleLabel],
        source_size: QSize | None = None,
    ) -> None:
        self.image = image
        if image is not None:
            self.source_size = source_size if source_size is not None else image.size()
        self.people = people
        self.options.labels = labels
        self.update()

    def set_overlay(self, people: list[PersonPose], labels: list[AngleLabel]) -> None:
        self.people = people
        self.options.labels = labels
        self.update()

    @property
    def zoom(self) -> float:
        return self._scale()

    def fit_to_window(self) -> None:
        self.fit = True
        self._pan = QPointF(0, 0)
        self.update()
        self.zoomChanged.emit(self._scale())

    def set_zoom(self, zoom: float) -> None:
        self.fit = False
        self._zoom = float(np.clip(zoom, MIN_ZOOM, MAX_ZOOM))
        self.update()
        self.zoomChanged.emit(self._zoom)

    def _fit_scale(self) -> float:
        if self.image is None or self.source_size.isEmpty():
            return 1.0
        return min(
            self.width() / self.source_size.width(), self.height() / self.source_size.height()
        )

    def _scale(self) -> float:
        return self._fit_scale() if self.fit else self._zoom

    def _offset(self) -> QPointF:
        if self.image is None:
            return QPointF(0, 0)
        scale = self._scale()
        centred = QPointF(
            (self.width() - self.source_size.width() * scale) / 2,
            (self.height() - self.source_size.height() * scale) / 2,
        )
        return centred if self.fit else centred + self._pan

    def widget_to_image(self, point: QPointF) -> tuple[float, float]:
        scale, offset = self._scale(), self._offset()
        return (point.x() - offset.x()) / scale, (point.y() - offset.y()) / scale

    def wanted_size(self) -> tuple[int, int] | None:
        """Device pixels the frame covers when shown now (None: full resolution is needed)."""
        if self.source_size.isEmpty() or not self.fit:
            return None
        ratio = self.devicePixelRatioF()
        return (
            int(np.ceil(self.width() * ratio)),
            int(np.ceil(self.height() * ratio)),
        )

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.sizeChanged.emit()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(18, 19, 22))
        if self.image is None:
            painter.setPen(QColor(150, 155, 165))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            return
        scale, offset = self._scale(), self._offset()
        target = QRectF(
            offset.x(),
            offset.y(),
            self.source_size.width() * scale,
            self.source_size.height() * scale,
        )
        ratio = self.devicePixelRatioF()
        if (
            abs(self.image.width() - target.width() * ratio) <= 1
            and abs(self.image.height() - target.height() * ratio) <= 1
        ):
            # Shrunk to this very size off the UI thread: copy it pixel for pixel, on whole
            # device pixels. Scaling it by ~1.0 would cost several times more, for a blur.
            painter.save()
            painter.translate(round(target.x() * ratio) / ratio, round(target.y() * ratio) / ratio)
            painter.scale(1 / ratio, 1 / ratio)
            painter.drawImage(0, 0, self.image)
            painter.restore()
        else:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1.5)
            painter.drawImage(target, self.image)
        draw_overlay(painter, self.people, scale, offset, self.options)
        if self._dragged is not None:
            person, joint = self._dragged
            x, y = person.keypoints[joint, :2] * scale + np.array([offset.x(), offset.y()])
            painter.setPen(QColor(255, 255, 255))
            painter.drawEllipse(QPointF(x, y), 7, 7)
            painter.drawText(QPointF(x + 10, y - 10), POSE_KEYPOINT_NAMES[joint].replace("_", " "))

    def keypoint_near(self, position: QPointF) -> tuple[PersonPose, int] | None:
        """The editable person's keypoint within ``GRAB_RADIUS_PX`` of a widget point: the one a
        press picks up (it snaps to the nearest)."""
        person = next((p for p in self.people if p.track_id == self.editable_track), None)
        if person is None or self.image is None:
            return None
        scale, offset = self._scale(), self._offset()
        xy = person.keypoints[:, :2] * scale + np.array([offset.x(), offset.y()])
        distance = np.hypot(xy[:, 0] - position.x(), xy[:, 1] - position.y())
        distance[~np.isfinite(distance)] = np.inf
        joint = int(np.argmin(distance))
        return (person, joint) if distance[joint] <= GRAB_RADIUS_PX else None

    def wheelEvent(self, event: QWheelEvent) -> None:
        if self.image is None:
            return
        steps = event.angleDelta().y() / 120.0
        if steps == 0:
            return
        before = self.widget_to_image(event.position())
        new_zoom = float(np.clip(self._scale() * (1.15**steps), MIN_ZOOM, MAX_ZOOM))
        self.fit = False
        self._zoom = new_zoom
        # keep the image point under the cursor fixed while zooming
        centred = QPointF(
            (self.width() - self.source_size.width() * new_zoom) / 2,
            (self.height() - self.source_size.height() * new_zoom) / 2,
        )
        self._pan = event.position() - QPointF(before[0] * new_zoom, before[1] * new_zoom) - centred
        self.update()
        self.zoomChanged.emit(new_zoom)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            grabbed = self.keypoint_near(event.position())
            if grabbed is not None:
                person, joint = grabbed
                # A copy: the drag shows the new place without touching the analysis' arrays.
                person = dataclasses.replace(person, keypoints=person.keypoints.copy())
                self.people = [person if p.track_id == person.track_id else p for p in self.people]
                self._dragged = (person, joint)
                self.update()
                return
            self._press_pos = event.position()
            self._drag_origin = event.position() - self._pan

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragged is not None:
            person, joint = self._dragged
            person.keypoints[joint, :2] = self.widget_to_image(event.position())
            self.update()
            return
        if self._drag_origin is not None and not self.fit:
            self._pan = event.position() - self._drag_origin
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._dragged is not None:
            person, joint = self._dragged
            self._dragged = None
            x, y = self.widget_to_image(event.position())
            self.update()
            self.keypointDragged.emit(person.track_id, joint, x, y)
            return
        if event.button() != Qt.MouseButton.LeftButton or self._press_pos is None:
            return
        moved = (event.position() - self._press_pos).manhattanLength()
        self._drag_origin = self._press_pos = None
        if moved < 5 and self.image is not None:
            self.clickedAt.emit(*self.widget_to_image(event.position()))


class PlayerWidget(QWidget):
    """Canvas + transport bar. ``positionChanged(index)`` fires whenever the playhead moves."""

    positionChanged = Signal(int)
    playingChanged = Signal(bool)
    personClicked = Signal(int)
    # A keypoint dragged on the paused frame: track id, frame, joint index, x, y (image pixels)
    keypointMoved = Signal(int, int, int, float, float)
    error = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.canvas = VideoCanvas(self)
        self.canvas.clickedAt.connect(self._on_canvas_click)
        self.canvas.keypointDragged.connect(self._on_keypoint_dragged)
        self._editable_track: int | None = None
        self.canvas.zoomChanged.connect(self._on_zoom_changed)
        self.canvas.zoomChanged.connect(self._refresh_resolution)
        self.canvas.sizeChanged.connect(self._refresh_resolution)
        self.times_s = np.zeros(0)
        self.strike_frames = np.zeros(0, dtype=int)
        self.position = 0
        self.displayed_index = -1
        self.speed = 1.0
        self._overlay_provider: OverlayProvider | None = None
        self._provider: FrameProvider | None = None
        self._thread: QThread | None = None
        self._retired: list[tuple[FrameProvider, QThread]] = []
        self._play_timer = QTimer(self)
        self._play_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._play_timer.setInterval(10)
        self._play_timer.timeout.connect(self._on_play_tick)
        self._play_origin = (0.0, 0.0)  # (wall clock, video time) when playback (re)started
        self._build_controls()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.slider)
        layout.addWidget(self.timeline_marks)
        layout.addLayout(self._bar)
        self._update_enabled()

    # --- construction -------------------------------------------------------------------
    def _tool(self, icon: QStyle.StandardPixmap | None, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton(self)
        if icon is not None:
            button.setIcon(self.style().standardIcon(icon))
        else:
            button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def _build_controls(self) -> None:
        sp = QStyle.StandardPixmap
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("scrubber")
        self.slider.valueChanged.connect(self._on_slider)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.timeline_marks = TimelineMarks(self.slider, self)
        self.first_button = self._tool(
            sp.SP_MediaSkipBackward, "", "First frame (Home)", self.go_first
        )
        self.prev_strike_button = self._tool(
            None, "◀ strike", "Previous foot strike (,)", self.previous_strike
        )
        self.back_button = self._tool(
            sp.SP_MediaSeekBackward, "", "Previous frame (←)", lambda: self.step(-1)
        )
        self.play_button = self._tool(sp.SP_MediaPlay, "", "Play / pause (Space)", self.toggle_play)
        self.forward_button = self._tool(
            sp.SP_MediaSeekForward, "", "Next frame (→)", lambda: self.step(1)
        )
        self.next_strike_button = self._tool(
            None, "strike ▶", "Next foot strike (.)", self.next_strike
        )
        self.last_button = self._tool(sp.SP_MediaSkipForward, "", "Last frame (End)", self.go_last)
        self.time_label = QLabel("--:--.-- / --:--.--", self)
        self.time_label.setObjectName("timecode")
        self.time_label.setMinimumWidth(230)
        self.speed_box = QComboBox(self)
        self.speed_box.setToolTip("Playback speed (↑/↓)")
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}×", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.currentIndexChanged.connect(lambda i: self.set_speed(SPEEDS[i]))
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.fit_button = self._tool(None, "Fit", "Fit to window (F)", self.canvas.fit_to_window)
        self.zoom_out_button = self._tool(None, "−", "Zoom out (-)", lambda: self.zoom_by(1 / 1.25))
        self.zoom_in_button = self._tool(None, "+", "Zoom in (+)", lambda: self.zoom_by(1.25))
        self.zoom_label = QLabel("fit", self)
        self.zoom_label.setMinimumWidth(44)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 0, 6, 4)
        for widget in (
            self.first_button,
            self.prev_strike_button,
            self.back_button,
            self.play_button,
            self.forward_button,
            self.next_strike_button,
            self.last_button,
        ):
            bar.addWidget(widget)
        bar.addSpacing(12)
        bar.addWidget(self.time_label)
        bar.addStretch(1)
        bar.addWidget(QLabel("Speed", self))
        bar.addWidget(self.speed_box)
        bar.addSpacing(12)
        for widget in (self.zoom_out_button, self.zoom_label, self.zoom_in_button, self.fit_button):
            bar.addWidget(widget)
        self._bar = bar

    # --- video --------------------------------------------------------------------------
    def set_video(self, open_reader: Callable[[], FrameReader], times_s: np.ndarray) -> None:
        """Show a new video: ``open_reader`` is called on the decoding thread."""
        self.close_video()
        self.times_s = np.asarray(times_s, dtype=np.float64)
        self._thread = QThread()
        self._thread.setObjectName("frame-decoder")
        self._provider = FrameProvider(open_reader)
        self._provider.moveToThread(self._thread)
        # Closes the reader on the decoding thread itself once its event loop has ended.
        self._thread.finished.connect(self._provider.shutdown, Qt.ConnectionType.DirectConnection)
        self._provider.frameReady.connect(self._on_frame_ready)
        self._provider.failed.connect(self._on_decoder_failed)
        self._thread.start()
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.times_s) - 1))
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.position = 0
        self.displayed_index = -1
        self.canvas.fit = True
        self._update_enabled()
        self.seek(0)

    def close_video(self) -> None:
        """Forget the video without waiting for its decoder (see ``_retire_decoder``)."""
        self.pause()
        if self._provider is not None and self._thread is not None:
            self._retire_decoder(self._provider, self._thread)
        self._provider, self._thread = None, None
        self.times_s = np.zeros(0)
        self.set_strike_frames(np.zeros(0, dtype=int))  # a new video's report brings its own
        self.canvas.set_frame(None, [], [])
        self.canvas.fit = True
        self._on_zoom_changed(self.canvas.zoom)
        self._update_enabled()

    @property
    def frame_count(self) -> int:
        return len(self.times_s)

    def set_overlay_provider(self, provider: OverlayProvider | None) -> None:
        self._overlay_provider = provider
        self.refresh_overlay()

    def refresh_overlay(self) -> None:
        if self.displayed_index >= 0:
            people, labels = self._overlay_for(self.displayed_index)
            self.canvas.set_overlay(people, labels)

    def set_strike_frames(
        self,
        frames: np.ndarray,
        edited_frames: np.ndarray | None = None,
        manual_frames: np.ndarray | None = None,
    ) -> None:
        """Foot strikes to step through and mark; edited frames and events placed by hand to mark."""
        self.strike_frames = np.unique(np.asarray(frames, dtype=int))
        self.timeline_marks.set_marks(
            len(self.times_s), self.strike_frames, edited_frames, manual_frames
        )
        self._update_enabled()

    def _overlay_for(self, index: int) -> tuple[list[PersonPose], list[AngleLabel]]:
        if self._overlay_provider is None:
            return [], []
        return self._overlay_provider(index)

    # --- navigation ---------------------------------------------------------------------
    def seek(self, index: int) -> None:
        if self.frame_count == 0:
            return
        index = int(np.clip(index, 0, self.frame_count - 1))
        changed = index != self.position
        self.position = index
        if self.slider.value() != index:
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        if self._provider is not None:
            self._provider.request(index, self.canvas.wanted_size())
        self._update_time_label()
        if self.is_playing:
            self._play_origin = (time.monotonic(), float(self.times_s[index]))
        if changed or self.displayed_index < 0:
            self.positionChanged.emit(index)

    def seek_time(self, seconds: float) -> None:
        if self.frame_count:
            self.seek(int(np.argmin(np.abs(self.times_s - seconds))))

    def step(self, frames: int) -> None:
        self.pause()
        self.seek(self.position + frames)

    def go_first(self) -> None:
        self.pause()
        self.seek(0)

    def go_last(self) -> None:
        self.pause()
        self.seek(self.frame_count - 1)

    def next_strike(self) -> None:
        later = self.strike_frames[self.strike_frames > self.position]
        if len(later):
            self.pause()
            self.seek(int(later[0]))

    def previous_strike(self) -> None:
        earlier = self.strike_frames[self.strike_frames < self.position]
        if len(earlier):
            self.pause()
            self.seek(int(earlier[-1]))

    # --- playback -----------------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self._play_timer.isActive()

    def toggle_play(self) -> None:
        self.pause() if self.is_playing else self.play()

    def play(self) -> None:
        if self.frame_count < 2 or self.is_playing:
            return
        if self.position >= self.frame_count - 1:
            self.seek(0)
        self._play_origin = (time.monotonic(), float(self.times_s[self.position]))
        self._play_timer.start()
        self.canvas.editable_track = None  # points are corrected on a still frame
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))
        self.playingChanged.emit(True)

    def pause(self) -> None:
        if not self._play_timer.isActive():
            return
        self._play_timer.stop()
        self.canvas.editable_track = self._editable_track
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.playingChanged.emit(False)

    def set_speed(self, speed: float) -> None:
        self.speed = float(np.clip(speed, SPEEDS[0], SPEEDS[-1]))
        nearest = int(np.argmin([abs(s - self.speed) for s in SPEEDS]))
        if self.speed_box.currentIndex() != nearest:
            self.speed_box.setCurrentIndex(nearest)
        if self.is_playing and self.frame_count:
            self._play_origin = (time.monotonic(), float(self.times_s[self.position]))

    def change_speed(self, steps: int) -> None:
        index = int(np.clip(self.speed_box.currentIndex() + steps, 0, len(SPEEDS) - 1))
        self.set_speed(SPEEDS[index])

    def _on_play_tick(self) -> None:
        wall0, video0 = self._play_origin
        target_time = video0 + (time.monotonic() - wall0) * self.speed
        index = int(np.searchsorted(self.times_s, target_time, side="right") - 1)
        index = max(index, 0)
        if index >= self.frame_count - 1:
            self.seek(self.frame_count - 1)
            self.pause()
        elif index != self.position:
            self.seek(index)

    # --- zoom ---------------------------------------------------------------------------
    def zoom_by(self, factor: float) -> None:
        self.canvas.set_zoom(self.canvas.zoom * factor)

    def _refresh_resolution(self, *_args) -> None:
        """Ask again for the shown frame at the resolution the new zoom or size needs."""
        if self._provider is not None and self.displayed_index >= 0 and not self.is_playing:
            self._provider.request(self.position, self.canvas.wanted_size())

    def _on_zoom_changed(self, zoom: float) -> None:
        self.zoom_label.setText("fit" if self.canvas.fit else f"{zoom * 100:.0f}%")

    # --- slots --------------------------------------------------------------------------
    def _on_slider(self, value: int) -> None:
        self.seek(value)

    @Slot(int, QImage, QSize)
    def _on_frame_ready(self, index: int, image: QImage, source_size: QSize) -> None:
        if self.sender() is not self._provider:
            return  # queued by a decoder of a closed video before it was disconnected
        self.displayed_index = index
        people, labels = self._overlay_for(index)
        self.canvas.set_frame(image, people, labels, source_size)
        self._on_zoom_changed(self.canvas.zoom)

    @Slot(str)
    def _on_decoder_failed(self, message: str) -> None:
        if self.sender() is self._provider:
            self.error.emit(message)

    def set_editable_track(self, track_id: int | None) -> None:
        """Let the user drag this person's keypoints while the video is paused (None: nobody)."""
        self._editable_track = track_id
        self.canvas.editable_track = None if self.is_playing else track_id

    def _on_keypoint_dragged(self, track_id: int, joint: int, x: float, y: float) -> None:
        if self.displayed_index >= 0 and not self.is_playing:
            self.keypointMoved.emit(track_id, self.displayed_index, joint, x, y)

    def _on_canvas_click(self, x: float, y: float) -> None:
        track_id = person_at(self.canvas.people, x, y)
        if track_id is not None:
            self.personClicked.emit(track_id)

    def _update_time_label(self) -> None:
        if self.frame_count == 0:
            self.time_label.setText("--:--.-- / --:--.--")
            return
        now = float(self.times_s[self.position])
        total = float(self.times_s[-1])
        self.time_label.setText(
            f"{format_clock(now, 2)} / {format_clock(total, 2)}   "
            f"frame {self.position + 1}/{self.frame_count}"
        )

    def _update_enabled(self) -> None:
        has_video = self.frame_count > 0
        for widget in (
            self.slider,
            self.first_button,
            self.back_button,
            self.play_button,
            self.forward_button,
            self.last_button,
            self.speed_box,
        ):
            widget.setEnabled(has_video)
        has_strikes = has_video and len(self.strike_frames) > 0
        self.prev_strike_button.setEnabled(has_strikes)
        self.next_strike_button.setEnabled(has_strikes)
        self._update_time_label()

    def _retire_decoder(self, provider: FrameProvider, thread: QThread) -> None:
        """Stop a decoder that may be busy on a frame, and keep it alive until it has stopped.

        Its frames and errors are no longer wanted: they are disconnected here, and a frame it
        had already queued is recognised by its sender and dropped. Python holds the thread and
        the provider until the thread has finished (destroying a running QThread aborts).
        """
        provider.frameReady.disconnect(self._on_frame_ready)
        provider.failed.disconnect(self._on_decoder_failed)
        thread.quit()
        self._retired = [(p, t) for p, t in self._retired if not t.isFinished()]
        self._retired.append((provider, thread))

    def shutdown(self) -> None:
        """Close the video and wait for every decoder to stop (the app is closing)."""
        self.close_video()
        for _provider, thread in self._retired:
            thread.wait()
        self._retired.clear()
