"""Webcam window: live preview with the skeleton, recording, and delayed replay.

Three threads keep the UI fluid: the camera thread captures, records every frame and shrinks it
to the size it is shown at (as a ready-to-paint QImage), the pose thread estimates the newest
frame it can get (dropping older ones, so the overlay keeps up at camera rate even when the
model is slower), and the UI thread only paints the live or delayed frame from the shared
buffer 30 times a second. The camera source and the estimator are injectable, so
tests drive the window with frames from a real clip instead of a camera.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, QStandardPaths, Qt, QThread, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.live import MAX_DELAY_S, DelayBuffer, LiveFrame, Recorder, camera_indices
from app.ui.player import VideoCanvas, bgr_to_qimage, fit_image
from app.ui.settings import AppSettings
from app.viewmodels.items import PersonPose
from rhpnet.errors import UserFacingError

CameraFactory = Callable[[int], Any]
MakeEstimator = Callable[[], Any]


def default_camera_factory(index: int):
    from rhpnet.media.video import open_video

    return open_video(int(index))


def recordings_dir() -> Path:
    movies = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    return Path(movies or Path.home()) / "RHPNet Coach"


class LiveSession:
    """State shared by the camera and pose threads and read by the UI (guarded by one lock).

    ``buffer`` keeps the frames as shown (QImages shrunk to ``preview_size``, the view's size
    in device pixels, or full size when None), which also keeps delayed replay's memory at the
    view's size rather than the camera's; ``pending`` is the newest full-size frame, for the
    pose thread. Poses are in camera pixels (``camera_size``).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buffer = DelayBuffer(MAX_DELAY_S)
        self.new_frame = threading.Condition(self.lock)
        self.pending: LiveFrame | None = None
        self.preview_size: tuple[int, int] | None = None
        self.camera_size = QSize()
        self.stop = threading.Event()
        self.captured = 0
        self.estimated = 0
        self.record_path: Path | None = None  # set by the UI to start, None to stop
        self.fps = 30.0


class CameraThread(QThread):
    """Captures frames into the session; writes them while recording."""

    opened = Signal(str)
    failed = Signal(str)
    recordingStarted = Signal(str)
    recordingSaved = Signal(str)

    def __init__(
        self, session: LiveSession, factory: CameraFactory, index: int, parent=None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.factory = factory
        self.index = index
        self.source = None

    def run(self) -> None:
        session = self.session
        try:
            self.source = self.factory(self.index)
        except UserFacingError as error:
            self.failed.emit(str(error))
            return
        except Exception as error:
            self.failed.emit(f"camera {self.index}: cannot open ({error})")
            return
        info = self.source.info
        session.fps = info.fps
        self.opened.emit(f"Camera {self.index}: {info.width}×{info.height} at {info.fps:.0f} fps")
        recorder: Recorder | None = None
        try:
            for frame in self.source.frames():
                if session.stop.is_set():
                    break
                live = LiveFrame(frame.index, frame.time_s, frame.image)
                with session.lock:
                    preview_size = session.preview_size
                shown = bgr_to_qimage(fit_image(frame.image, preview_size))
                with session.lock:
                    session.buffer.push(LiveFrame(frame.index, frame.time_s, shown))
                    session.camera_size = QSize(frame.image.shape[1], frame.image.shape[0])
                    session.pending = live
                    session.captured += 1
                    wanted = session.record_path
                    session.new_frame.notify()
                recorder = self._record(recorder, wanted, live)
        except UserFacingError as error:
            self.failed.emit(str(error))
        except Exception as error:
            self.failed.emit(f"camera {self.index}: capture stopped ({error})")
        finally:
            if recorder is not None:
                self._finish(recorder)
            self.source.close()
            with session.lock:
                session.stop.set()
                session.new_frame.notify_all()

    def _record(
        self, recorder: Recorder | None, wanted: Path | None, frame: LiveFrame
    ) -> Recorder | None:
        if recorder is not None and wanted != recorder.path:
            self._finish(recorder)
            recorder = None
        if recorder is None and wanted is not None:
            height, width = frame.image.shape[:2]
            try:
                recorder = Recorder(wanted, width, height, self.session.fps)
            except Exception as error:
                self.failed.emit(f"cannot record to {wanted}: {error}")
                with self.session.lock:
                    self.session.record_path = None
                return None
            self.recordingStarted.emit(str(wanted))
        if recorder is not None:
            try:
                recorder.write(frame.image, frame.time_s)
            except Exception as error:
                recorder.abort()
                self.failed.emit(f"recording stopped: {error}")
                with self.session.lock:
                    self.session.record_path = None
                return None
        return recorder

    def _finish(self, recorder: Recorder) -> None:
        try:
            path = recorder.finish()
        except Exception as error:
            self.failed.emit(f"could not save the recording: {error}")
            return
        self.recordingSaved.emit(str(path))


class PoseThread(QThread):
    """Estimates poses on the newest captured frame, skipping frames it cannot keep up with."""

    failed = Signal(str)

    def __init__(self, session: LiveSession, estimator_factory: MakeEstimator, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.estimator_factory = estimator_factory

    def run(self) -> None:
        session = self.session
        try:
            estimator = self.estimator_factory()
        except Exception as error:
            self.failed.emit(f"live skeleton unavailable: {error}")
            return
        last_time = -1.0
        try:
            while True:
                with session.lock:
                    while session.pending is None and not session.stop.is_set():
                        session.new_frame.wait(0.2)
                    if session.stop.is_set():
                        return
                    frame, session.pending = session.pending, None
                if frame.time_s <= last_time:
                    continue
                last_time = frame.time_s
                poses = estimator.estimate(frame.image, frame.time_s)
                with session.lock:
                    session.buffer.attach_poses(frame.index, poses)
                    session.estimated += 1
        except Exception as error:
            self.failed.emit(f"live skeleton stopped: {error}")
        finally:
            estimator.close()


class WebcamWindow(QWidget):
    """Camera picker, live/delayed view with skeleton, Record button."""

    error = Signal(str)
    recordingSaved = Signal(str)
    cameraOpened = Signal(str)

    def __init__(
        self,
        settings: AppSettings,
        camera_factory: CameraFactory | None = None,
        estimator_factory: MakeEstimator | None = None,
        recordings_folder: Path | None = None,
        camera_choices: list[int] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Webcam — RHPNet Coach")
        self.resize(960, 680)
        self.settings = settings
        self.camera_factory = camera_factory or default_camera_factory
        self.estimator_factory = estimator_factory or self._default_estimator
        self.recordings_folder = recordings_folder or recordings_dir()
        self.session: LiveSession | None = None
        self.camera_thread: CameraThread | None = None
        self.pose_thread: PoseThread | None = None
        self._stopping: list[QThread] = []
        self.shown_frames = 0
        self.displayed_index = -1
        self._rate_window: list[float] = []

        self._camera_choices = camera_choices
        self.camera_box = QComboBox(self)
        self.start_button = QPushButton("Start", self)
        self.start_button.clicked.connect(self.toggle_camera)
        self.skeleton_box = QCheckBox("Skeleton", self)
        self.skeleton_box.setChecked(True)
        self.delay_spin = QDoubleSpinBox(self)
        self.delay_spin.setRange(0.0, MAX_DELAY_S)
        self.delay_spin.setDecimals(1)
        self.delay_spin.setSingleStep(0.5)
        self.delay_spin.setSuffix(" s")
        self.delay_spin.setSpecialValueText("live")
        self.delay_spin.setToolTip("Delayed replay: show the feed this many seconds late")
        self.record_button = QPushButton("● Record", self)
        self.record_button.setCheckable(True)
        self.record_button.setEnabled(False)
        self.record_button.toggled.connect(self.set_recording)
        self.analyse_box = QCheckBox("Analyse when recording stops", self)
        self.analyse_box.setChecked(True)
        self.canvas = VideoCanvas(self)
        self.status = QLabel("", self)
        controls = QHBoxLayout()
        controls.addWidget(self.camera_box)
        controls.addWidget(self.start_button)
        controls.addSpacing(12)
        controls.addWidget(self.skeleton_box)
        controls.addSpacing(12)
        controls.addWidget(QLabel("Delay", self))
        controls.addWidget(self.delay_spin)
        controls.addStretch(1)
        controls.addWidget(self.analyse_box)
        controls.addWidget(self.record_button)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.status)
        self.display_timer = QTimer(self)
        self.display_timer.setInterval(33)
        self.display_timer.timeout.connect(self._show_frame)
        self.list_cameras()

    def list_cameras(self) -> None:
        """Offer the cameras present now (a webcam may be plugged in after the app started)."""
        current = self.camera_box.currentData()
        choices = camera_indices() if self._camera_choices is None else self._camera_choices
        self.camera_box.clear()
        for index in choices:
            self.camera_box.addItem(f"Camera {index}", index)
        if not choices:
            self.camera_box.addItem("No camera found", -1)
        self.camera_box.setCurrentIndex(max(0, self.camera_box.findData(current)))
        self.canvas.placeholder = (
            "Pick a camera and press Start"
            if choices
            else "No camera found: connect a webcam, then reopen this window"
        )
        self.canvas.update()

    def showEvent(self, event) -> None:
        if not self.running:
            self.list_cameras()
        super().showEvent(event)

    def _default_estimator(self):
        """The model the app's settings choose, as for analysing a video."""
        from app.core.pipeline import EstimatorFactory
        from app.ui.tasks import analysis_options

        options = analysis_options(self.settings.analysis())
        options.validate()
        return EstimatorFactory(options).create()

    @property
    def running(self) -> bool:
        """From Start until the window has handled the camera's end, as the Start/Stop button
        shows: the capture thread may already have stopped (a failed camera) a moment before."""
        return self.camera_thread is not None

    def toggle_camera(self) -> None:
        self.stop_camera() if self.running else self.start_camera()

    def start_camera(self) -> None:
        index = self.camera_box.currentData()
        if index is None or index < 0:
            self._fail(
                "No camera found: connect a webcam (or check it is not used by another app)."
            )
            return
        self.stop_camera()
        self.wait_stopped(cameras_only=True)  # the previous capture lets go of the device
        self.session = LiveSession()
        self.shown_frames = 0
        self.camera_thread = CameraThread(self.session, self.camera_factory, int(index), self)
        self.camera_thread.opened.connect(self._on_opened)
        self.camera_thread.failed.connect(self._fail)
        self.camera_thread.recordingStarted.connect(
            lambda p: self.status.setText(f"Recording to {p}")
        )
        self.camera_thread.recordingSaved.connect(self._on_recording_saved)
        self.camera_thread.finished.connect(self._on_camera_stopped)
        self.camera_thread.start()
        self.start_button.setText("Stop")
        self.status.setText(f"Opening camera {index}…")
        self.display_timer.start()

    def stop_camera(self) -> None:
        """Stop the live view at once, without waiting for its threads.

        The pose thread may be in the middle of an estimate (hundreds of ms for a network on a
        CPU) and the camera thread may be closing a recording: both end on their own a moment
        later. ``wait_stopped`` waits for them where that matters.
        """
        if self.session is not None:
            self.session.stop.set()
            with self.session.lock:
                self.session.new_frame.notify_all()
        self._stopping = [t for t in self._stopping if not t.isFinished()]
        self._stopping += [t for t in (self.camera_thread, self.pose_thread) if t is not None]
        self.camera_thread = self.pose_thread = None
        self.display_timer.stop()
        self.start_button.setText("Start")
        self.record_button.blockSignals(True)
        self.record_button.setChecked(False)
        self.record_button.blockSignals(False)
        self.record_button.setEnabled(False)

    def wait_stopped(self, cameras_only: bool = False) -> None:
        """Wait for stopped threads to end (only the capture ones: a restart needs the camera
        device released, not the last estimate finished)."""
        for thread in self._stopping:
            if not cameras_only or isinstance(thread, CameraThread):
                thread.wait()
        self._stopping = [t for t in self._stopping if not t.isFinished()]

    def set_recording(self, on: bool) -> None:
        if self.session is None:
            return
        path = None
        if on:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            path = self.recordings_folder / f"webcam-{stamp}.mp4"
            path.parent.mkdir(parents=True, exist_ok=True)
        with self.session.lock:
            self.session.record_path = path
        self.record_button.setText("■ Stop recording" if on else "● Record")

    def _on_opened(self, text: str) -> None:
        """The camera works: start estimating poses (not before, a missing camera loads no model)."""
        if self.sender() is not self.camera_thread or self.session.stop.is_set():
            return
        self.pose_thread = PoseThread(self.session, self.estimator_factory, self)
        self.pose_thread.failed.connect(self._fail)
        self.pose_thread.start()
        self.status.setText(text)
        self.record_button.setEnabled(True)
        self.cameraOpened.emit(text)

    def _on_recording_saved(self, path: str) -> None:
        self.status.setText(f"Saved {path}")
        if self.analyse_box.isChecked():
            self.recordingSaved.emit(path)

    def _on_camera_stopped(self) -> None:
        if self.sender() is self.camera_thread:
            self.stop_camera()

    def _fail(self, message: str) -> None:
        self.status.setText(message)
        self.error.emit(message)

    def _show_frame(self) -> None:
        """Paint the live or delayed frame: already shrunk and converted by the camera thread."""
        session = self.session
        if session is None:
            return
        with session.lock:
            session.preview_size = self.canvas.wanted_size()
            frame = session.buffer.delayed(self.delay_spin.value())
            poses = session.buffer.latest_poses_up_to(frame.index) if frame is not None else None
            captured, estimated = session.captured, session.estimated
            camera_size = session.camera_size
        if frame is None:
            if captured:
                self.canvas.placeholder = (
                    f"Buffering {self.delay_spin.value():.1f} s for delayed replay…"
                )
                self.canvas.set_frame(None, [], [])
            return
        people = []
        if poses is not None and self.skeleton_box.isChecked():
            people = [
                PersonPose(i, poses.keypoints[i], poses.boxes[i], True) for i in range(len(poses))
            ]
        self.canvas.set_frame(frame.image, people, [], camera_size)
        self.displayed_index = frame.index
        self.shown_frames += 1
        now = time.monotonic()
        self._rate_window = [t for t in self._rate_window if now - t < 1.0] + [now]
        if not (self.record_button.isChecked()):
            mode = (
                "live" if self.delay_spin.value() == 0 else f"{self.delay_spin.value():.1f} s late"
            )
            self.status.setText(
                f"{mode} — {len(self._rate_window)} fps shown, {captured} captured, {estimated} with skeleton"
            )

    def closeEvent(self, event) -> None:
        """Closing the window ends everything: nothing keeps running, the recording is saved."""
        self.stop_camera()
        self.wait_stopped()
        super().closeEvent(event)
