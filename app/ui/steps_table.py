"""The steps table: every ground contact of the runner, one row each; choosing a row shows
that foot strike in the player, so each strike can be checked frame by frame."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from app.viewmodels.step_rows import STEP_COLUMNS, StepRow

POOR_COLOR = QColor(150, 150, 150)
POOR_TIP = "The far leg, often hidden behind the other: this contact's numbers are guesses."


class StepsTable(QTableWidget):
    """``strikeChosen(frame)`` when a row is chosen (clicked or selected with the keyboard)."""

    strikeChosen = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(STEP_COLUMNS), parent)
        self.setObjectName("stepsTable")
        self.rows: list[StepRow] = []
        self.setHorizontalHeaderLabels(STEP_COLUMNS)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        for column in range(len(STEP_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.currentCellChanged.connect(self._on_current)

    def set_rows(self, rows: list[StepRow]) -> None:
        self.rows = list(rows)
        self.blockSignals(True)
        self.clearContents()
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row.cells):
                item = QTableWidgetItem(text)
                if c != 1 and c != len(row.cells) - 1:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if row.poor:
                    item.setForeground(POOR_COLOR)
                    item.setToolTip(POOR_TIP)
                self.setItem(r, c, item)
        self.blockSignals(False)

    def _on_current(self, row: int, _column: int, _previous_row: int, _previous: int) -> None:
        if 0 <= row < len(self.rows):
            self.strikeChosen.emit(self.rows[row].ic_frame)
