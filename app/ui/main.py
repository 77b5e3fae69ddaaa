"""Start the desktop app: ``rhpnet-coach [VIDEO]`` ends up in ``run_gui``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def create_app(argv: list[str] | None = None):
    """The QApplication with the app's identity (used by QSettings) and its dark theme."""
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
    apply_dark_theme(app)
    return app


def run_gui(video: str | None = None) -> int:
    """Open the main window (and ``video`` if given); returns the Qt exit code."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = create_app()
    from PySide6.QtCore import QCoreApplication, QEvent

    from app.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if video:
        window.open_video(Path(video))
    code = int(app.exec())
    # Destroy the widgets while Qt is still fully alive, not during interpreter shutdown.
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return code
