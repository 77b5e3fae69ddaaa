"""The webcam window driven by a fake camera that plays real frames from a clip at camera rate."""

from __future__ import annotations

import threading
import time

import pytest

from rhpnet.media.info import VideoInfo
from rhpnet.media.video import Frame, WebcamError, open_video


class ClipCamera:
    """A live source like ``WebcamSource``: real frames, wall-clock times, paced at ``fps``."""

    def __init__(self, clip, fps: float = 30.0, max_frames: int = 10_000) -> None:
        self._video = open_video(clip)
        self._images = [f.image for f in self._video.frames()]
        self._video.close()
        height, width = self._images[0].shape[:2]
        self.info = VideoInfo(f"fake:{clip.name}", width, height, fps, 0, 0.0, codec="webcam")
        self.warnings: list[str] = []
        self.max_frames = max_frames
        self._stop = threading.Event()
        self.closed = False

    @property
    def times_s(self):
        return None

    def frames(self, start: int = 0):
        t0 = time.monotonic()
        for index in range(self.max_frames):
            if self._stop.is_set():
                return
            due = t0 + index / self.info.fps
            time.sleep(max(0.0, due - time.monotonic()))
            yield Frame(index, time.monotonic() - t0, self._images[index % len(self._images)])

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.closed = True


@pytest.mark.slow
def test_live_preview_skeleton_delay_and_recording(
    qtbot, app_settings, treadmill_3s_clip, tmp_path, monkeypatch
):
    from app.ui import webcam
    from app.ui.webcam import WebcamWindow

    converted_on: list[threading.Thread] = []

    def bgr_to_qimage(image):
        converted_on.append(threading.current_thread())
        return to_qimage(image)

    to_qimage = webcam.bgr_to_qimage
    monkeypatch.setattr(webcam, "bgr_to_qimage", bgr_to_qimage)
    cameras: list[ClipCamera] = []

    def factory(index: int) -> ClipCamera:
        cameras.append(ClipCamera(treadmill_3s_clip))
        return cameras[-1]

    win = WebcamWindow(
        app_settings, camera_factory=factory, recordings_folder=tmp_path / "rec", camera_choices=[0]
    )
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.cameraOpened, timeout=10_000):
        win.start_button.click()
    # live preview with the skeleton drawn on the shown frame
    qtbot.waitUntil(
        lambda: win.canvas.image is not None and len(win.canvas.people) == 1, timeout=40_000
    )
    # the camera thread shrinks and converts each frame to the view's size: the UI only paints
    camera = cameras[0].info
    assert (win.canvas.source_size.width(), win.canvas.source_size.height()) == (
        camera.width,
        camera.height,
    )
    qtbot.waitUntil(lambda: win.canvas.image.size() != win.canvas.source_size, timeout=5_000)
    wanted = win.canvas.wanted_size()
    assert win.canvas.image.width() <= wanted[0] and win.canvas.image.height() <= wanted[1]
    assert max(win.canvas.image.width() - wanted[0], win.canvas.image.height() - wanted[1]) >= -1
    assert converted_on and threading.main_thread() not in converted_on
    started_shown = win.shown_frames
    qtbot.wait(1000)
    assert win.shown_frames - started_shown >= 20  # ~30 fps display
    assert win.session.estimated >= 5

    # delayed replay: the shown frame is about 1 s (30 frames) older than the newest one
    win.delay_spin.setValue(1.0)
    qtbot.wait(200)
    with win.session.lock:
        latest = win.session.buffer.latest.index
    assert 20 <= latest - win.displayed_index <= 40

    # record half a second, stop: the file is complete, and handed on for analysis
    win.record_button.setChecked(True)
    qtbot.waitUntil(lambda: "Recording to" in win.status.text(), timeout=5_000)
    qtbot.wait(600)
    with qtbot.waitSignal(win.recordingSaved, timeout=10_000) as saved:
        win.record_button.setChecked(False)
    with open_video(saved.args[0]) as video:
        assert 10 <= video.info.frame_count <= 40
        assert (video.info.width, video.info.height) == (
            cameras[0].info.width,
            cameras[0].info.height,
        )
    assert not [p for p in (tmp_path / "rec").iterdir() if ".partial" in p.name]
    win.close()
    assert not win.running and cameras[0].closed


def test_missing_camera_gives_a_clear_message(qtbot, app_settings, tmp_path):
    from app.ui.webcam import WebcamWindow

    def missing(index: int):
        raise WebcamError(f"webcam {index}: no camera with this index (or it is busy)")

    win = WebcamWindow(
        app_settings, camera_factory=missing, recordings_folder=tmp_path, camera_choices=[3]
    )
    qtbot.addWidget(win)
    with qtbot.waitSignal(win.error, timeout=10_000) as error:
        win.start_camera()
    assert error.args[0] == "webcam 3: no camera with this index (or it is busy)"
    qtbot.waitUntil(lambda: not win.running)
    assert win.start_button.text() == "Start" and not win.record_button.isEnabled()

    empty = WebcamWindow(
        app_settings, camera_factory=missing, recordings_folder=tmp_path, camera_choices=[]
    )
    qtbot.addWidget(empty)
    with qtbot.waitSignal(empty.error) as error:
        empty.start_camera()
    assert "No camera found" in error.args[0]


@pytest.mark.slow
def test_recording_from_the_main_window_is_analysed(
    qtbot, app_settings, treadmill_3s_clip, tmp_path, monkeypatch
):
    from app.ui import webcam
    from app.ui.main_window import MainWindow

    monkeypatch.setattr(webcam, "recordings_dir", lambda: tmp_path / "rec")
    monkeypatch.setattr(webcam, "camera_indices", lambda: [0])
    win = MainWindow(
        app_settings, camera_factory=lambda i: ClipCamera(treadmill_3s_clip, max_frames=25)
    )
    qtbot.addWidget(win)
    win.show()
    win.show_webcam()
    cam = win.webcam_window
    with qtbot.waitSignal(cam.cameraOpened, timeout=10_000):
        cam.start_camera()
    cam.record_button.setChecked(True)  # the clip ends after 25 frames: the recording is kept
    with qtbot.waitSignal(win.session.analysisFinished, timeout=60_000) as finished:
        pass
    assert win.session.video_path.parent == tmp_path / "rec"
    assert finished.args[0].frame_count >= 15
    win.close()


def test_a_camera_plugged_in_later_is_offered_when_the_window_is_shown_again(
    qtbot, app_settings, tmp_path, monkeypatch
):
    from app.ui import webcam

    present: list[int] = []
    monkeypatch.setattr(webcam, "camera_indices", lambda: list(present))
    win = webcam.WebcamWindow(app_settings, recordings_folder=tmp_path)
    qtbot.addWidget(win)
    win.show()
    assert win.camera_box.itemText(0) == "No camera found"
    assert "connect a webcam" in win.canvas.placeholder
    win.hide()
    present.append(2)
    win.show()
    assert [win.camera_box.itemData(i) for i in range(win.camera_box.count())] == [2]
    assert win.canvas.placeholder == "Pick a camera and press Start"


@pytest.mark.slow
def test_stop_does_not_wait_for_the_pose_estimate(qtbot, app_settings, treadmill_3s_clip, tmp_path):
    from app.ui.webcam import WebcamWindow

    gate, estimating = threading.Event(), threading.Event()

    class SlowEstimator:
        """A network on a CPU: one estimate takes as long as the test says."""

        def estimate(self, image, time_s):
            estimating.set()
            gate.wait(5)

        def close(self) -> None:
            pass

    win = WebcamWindow(
        app_settings,
        camera_factory=lambda i: ClipCamera(treadmill_3s_clip),
        estimator_factory=SlowEstimator,
        recordings_folder=tmp_path,
        camera_choices=[0],
    )
    qtbot.addWidget(win)
    win.show()
    win.start_camera()
    qtbot.waitUntil(estimating.is_set, timeout=10_000)
    pose = win.pose_thread
    win.stop_camera()  # returns while the estimate runs on
    assert pose.isRunning()
    assert not win.running and win.start_button.text() == "Start"
    gate.set()
    qtbot.waitUntil(lambda: not pose.isRunning(), timeout=10_000)
    with qtbot.waitSignal(win.cameraOpened, timeout=10_000):  # and the camera starts again
        win.start_camera()
    win.close()
    assert not win.running
