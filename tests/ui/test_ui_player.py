"""The player: switching videos never waits for the decoder, and frames shrunk for the view are
painted as they are."""

from __future__ import annotations

import threading

import numpy as np


class FakeReader:
    """Frames of one flat grey level; ``gate`` (if given) holds every read, as a slow seek does."""

    def __init__(self, level: int, gate: threading.Event | None = None) -> None:
        self.level = level
        self.gate = gate
        self.reading = threading.Event()
        self.closed_on: threading.Thread | None = None

    def read_frame(self, index: int) -> np.ndarray:
        self.reading.set()
        if self.gate is not None:
            self.gate.wait(5)
        return np.full((90, 160, 3), self.level, np.uint8)

    def close(self) -> None:
        self.closed_on = threading.current_thread()


def test_opening_a_video_does_not_wait_for_the_previous_decoder(qtbot):
    from app.ui.player import PlayerWidget

    player = PlayerWidget()
    qtbot.addWidget(player)
    player.show()
    gate = threading.Event()
    slow, fast = FakeReader(200, gate), FakeReader(50)
    player.set_video(lambda: slow, np.arange(10) / 30)
    qtbot.waitUntil(slow.reading.is_set)
    player.zoom_by(2.0)
    assert player.zoom_label.text() != "fit"

    player.set_video(lambda: fast, np.arange(5) / 30)  # returns while the old frame decodes
    assert slow.closed_on is None
    assert player.zoom_label.text() == "fit"  # a new video starts fitted, and says so at once
    qtbot.waitUntil(lambda: player.canvas.image is not None)
    assert player.canvas.image.pixelColor(0, 0).red() == 50

    # the old decoder finishes its frame, which is never shown, and closes its own reader
    gate.set()
    qtbot.waitUntil(lambda: slow.closed_on is not None)
    assert slow.closed_on is not threading.main_thread()
    qtbot.wait(50)
    assert player.canvas.image.pixelColor(0, 0).red() == 50 and player.frame_count == 5

    player.shutdown()
    assert fast.closed_on is not None


def test_a_frame_shrunk_to_the_view_is_painted_pixel_for_pixel(qtbot):
    from PySide6.QtCore import QSize

    from app.ui.player import VideoCanvas, bgr_to_qimage, fit_image

    canvas = VideoCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(400, 300)
    canvas.show()
    full = np.random.default_rng(0).integers(0, 256, (601, 1000, 3), dtype=np.uint8)
    canvas.set_frame(bgr_to_qimage(full), [], [], QSize(1000, 601))
    shown = fit_image(full, canvas.wanted_size())  # 400x240 for a 400x240.4 area
    assert shown.shape[:2] == (240, 400)
    canvas.set_frame(bgr_to_qimage(shown), [], [], QSize(1000, 601))
    painted = canvas.grab().toImage().convertToFormat(bgr_to_qimage(shown).format())
    pixels = np.frombuffer(painted.constBits(), np.uint8).reshape(300, painted.bytesPerLine())
    pixels = pixels[:, : 400 * 3].reshape(300, 400, 3)
    top = round((300 - 601 * 0.4) / 2)
    np.testing.assert_array_equal(pixels[top : top + 240], shown)
