"""Start the desktop app: ``rhpnet-coach [VIDEO]`` ends up in ``run_gui``."""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from rhpnet.errors import UserFacingError

# The window icon lives in the repository's assets/ (the app runs from a source checkout).
APP_ICON = Path(__file__).resolve().parents[2] / "assets" / "rhpnet-coach.svg"

NO_DISPLAY_MESSAGE = (
    "the desktop app needs a graphical session, and this one has no display (DISPLAY and "
    "WAYLAND_DISPLAY are unset); without one, use: rhpnet-coach analyze VIDEO --out DIR"
)


def lacks_a_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """True on Linux with no X11 or Wayland display and no Qt platform chosen by hand.

    Qt would otherwise fail to load its xcb plugin and abort the process with a message about
    plugins and a core dump. ``QT_QPA_PLATFORM`` set to anything (offscreen, vnc...) is the
    user's explicit choice and is left to Qt. Windows and macOS always have a window server.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    names = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    return platform.startswith("linux") and not any(environ.get(name) for name in names)


def create_app(argv: list[str] | None = None):
    """The QApplication with the app's identity (used by QSettings) and its dark theme."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from app.ui.settings import APPLICATION, ORGANIZATION
    from app.ui.theme import apply_dark_theme

    # Worker threads run Python between their C calls; with the default 5 ms GIL switch
    # interval every Python callback of a paint (pyqtgraph draws in Python) may wait 5 ms for
    # the GIL. 1 ms keeps painting smooth while analysis and decoding run.
    sys.setswitchinterval(0.001)
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    if APP_ICON.is_file():  # a source checkout (make run) has it; a bare wheel install does not
        app.setWindowIcon(QIcon(str(APP_ICON)))
    apply_dark_theme(app)
    return app


def run_gui(video: str | None = None) -> int:
    """Open the main window (and ``video`` if given); returns the Qt exit code.

    Raises ``UserFacingError`` before starting Qt where there is no display to open it on.
    """
    if lacks_a_display():
        raise UserFacingError(NO_DISPLAY_MESSAGE)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app()
    from PySide6.QtCore import QCoreApplication, QEvent

    from app.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    # The start-up heap (torch, Qt, mediapipe, pyqtgraph: some 300 000 objects) lives as long as
    # the app; frozen, the cyclic garbage collector stops rescanning it, which took a fifth of
    # every report recompute after a hand correction (docs/corrections.md).
    gc.freeze()
    if video:
        window.open_video(Path(video))
    code = int(app.exec())
    # Destroy the widgets while Qt is still fully alive, not during interpreter shutdown.
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return code
