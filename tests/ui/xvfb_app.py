"""Run the real app on an X server, open an analysed clip and save screenshots.

Started by ``test_ui_xvfb.py`` as ``python -m tests.ui.xvfb_app VIDEO OUT_DIR`` with
``QT_QPA_PLATFORM=xcb``; exits 0 once both PNGs are written, 3 if the report never came, 4 on an error.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QTimer


def main(video: str, out_dir: str) -> int:
    from app.ui.main import create_app
    from app.ui.main_window import MainWindow

    app = create_app()
    window = MainWindow()
    window.resize(1500, 940)
    window.show()
    window.open_video(Path(video))
    out = Path(out_dir)
    state = {"code": 3}

    def failed(message: str) -> None:
        print(f"error: {message}", file=sys.stderr)
        state["code"] = 4
        app.quit()

    window.errorReported.connect(failed)

    def at_strike() -> None:
        window.player.next_strike()
        window.player.next_strike()
        QTimer.singleShot(700, second_shot)

    def first_shot() -> None:
        window.grab().save(str(out / "main_window.png"))
        window.plots.set_selected(
            [
                "knee_flexion_left",
                "knee_flexion_right",
                "hip_flexion_left",
                "hip_flexion_right",
                "trunk_lean",
            ]
        )
        at_strike()

    def second_shot() -> None:
        window.player.canvas.set_zoom(window.player.canvas.zoom * 1.6)
        window.grab().save(str(out / "main_window_strike_zoomed.png"))
        state["code"] = 0
        app.quit()

    def wait_for_report() -> None:
        if (
            window.session.report_view is not None
            and not window.session.busy
            and window.player.displayed_index >= 0
        ):
            QTimer.singleShot(500, first_shot)
        else:
            QTimer.singleShot(100, wait_for_report)

    wait_for_report()
    QTimer.singleShot(60_000, app.quit)
    app.exec()
    return state["code"]


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
