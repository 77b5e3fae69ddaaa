"""The app's dark look: video tools are dark so the footage, not the chrome, stands out."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

STYLESHEET = """
QMainWindow, QDialog { background: #1e2024; }
QDockWidget { color: #d8dbe0; font-weight: 600; }
QDockWidget::title { background: #2a2d33; padding: 5px 8px; }
QToolBar { background: #25282d; border: 0; border-bottom: 1px solid #33373e; spacing: 4px; padding: 3px; }
QToolBar QToolButton { color: #e4e6ea; padding: 4px 8px; border-radius: 4px; }
QToolBar QToolButton:hover, QToolButton:hover { background: #363a42; }
QToolBar QToolButton:checked { background: #2f4f74; }
QStatusBar { background: #25282d; color: #c9ccd2; border-top: 1px solid #33373e; }
QLabel#panelTitle { color: #aeb4bd; font-weight: 600; padding: 4px 2px; }
QLabel#timecode { color: #e9ecf1; font-family: monospace; padding-left: 6px; }
QLabel#metricsSummary { color: #c9ccd2; padding: 0 2px 4px 2px; }
QLabel#metricsFlags { color: #ffbe5a; padding: 4px 2px; }
QLabel#plotPlaceholder { background: #181a1e; color: #8a9099; }
QTableWidget { background: #202328; alternate-background-color: #262a30; color: #e2e4e8;
               gridline-color: #33373e; border: 1px solid #33373e; }
QHeaderView::section { background: #2a2d33; color: #b8bdc6; border: 0; padding: 4px 6px; }
QListWidget { background: #202328; color: #e2e4e8; border: 1px solid #33373e; }
QSlider::groove:horizontal { height: 6px; background: #3a3e46; border-radius: 3px; }
QSlider::sub-page:horizontal { background: #3d7fd1; border-radius: 3px; }
QSlider::handle:horizontal { background: #e9ecf1; width: 12px; margin: -5px 0; border-radius: 6px; }
QProgressBar { background: #2c3036; color: #e9ecf1; border: 1px solid #3a3e46; border-radius: 3px;
               text-align: center; max-height: 16px; }
QProgressBar::chunk { background: #3d7fd1; border-radius: 2px; }
"""


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#1e2024",
        QPalette.ColorRole.WindowText: "#e2e4e8",
        QPalette.ColorRole.Base: "#202328",
        QPalette.ColorRole.AlternateBase: "#262a30",
        QPalette.ColorRole.Text: "#e2e4e8",
        QPalette.ColorRole.Button: "#2c3036",
        QPalette.ColorRole.ButtonText: "#e2e4e8",
        QPalette.ColorRole.Highlight: "#3d7fd1",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2c3036",
        QPalette.ColorRole.ToolTipText: "#e2e4e8",
        QPalette.ColorRole.PlaceholderText: "#8a9099",
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6b7079"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText, QColor("#6b7079"))
    app.setPalette(palette)
    app.setStyleSheet(STYLESHEET)
