"""Messages that never block the app: an error box the user may leave open while working on."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


class MessageBoxes:
    """Non-modal message boxes over ``parent``, kept alive until the user closes them."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent
        self.open_boxes: list[QMessageBox] = []

    def warn(self, message: str, details: str = "") -> None:
        self._show(QMessageBox.Icon.Warning, "RHPNet Coach", message, details)

    def inform(self, title: str, message: str) -> None:
        self._show(QMessageBox.Icon.Information, title, message)

    def _show(self, icon: QMessageBox.Icon, title: str, message: str, details: str = "") -> None:
        box = QMessageBox(icon, title, message, QMessageBox.StandardButton.Ok, self.parent)
        if details:
            box.setDetailedText(details)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(
            lambda _=0, b=box: self.open_boxes.remove(b) if b in self.open_boxes else None
        )
        self.open_boxes.append(box)
        box.open()
