"""The steps table: every ground contact of the runner, one row each; choosing a row shows
that foot strike in the player, so each strike can be checked frame by frame.

A model over the rows, not one widget item per cell: every hand correction replaces the rows,
and refilling a ``QTableWidget`` of a minute's 170 contacts with its columns sized to their
contents took seconds on the UI thread; a model reset costs nothing until the rows are drawn.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from app.viewmodels.step_rows import STEP_COLUMNS, StepRow

POOR_COLOR = QColor(150, 150, 150)
POOR_TIP = "The far leg, often hidden behind the other: this contact's numbers are guesses."
# Text columns (the foot, who timed the strike) read from the left; numbers from the right.
LEFT_ALIGNED = {1, len(STEP_COLUMNS) - 1}

AnyIndex = QModelIndex | QPersistentModelIndex


class StepsModel(QAbstractTableModel):
    """The rows of ``step_rows`` as a read-only table."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[StepRow] = []

    def set_rows(self, rows: list[StepRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(STEP_COLUMNS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.cells[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() not in LEFT_ALIGNED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and row.poor:
            return POOR_COLOR
        if role == Qt.ItemDataRole.ToolTipRole and row.poor:
            return POOR_TIP
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return STEP_COLUMNS[section]
        return None


class StepsTable(QTableView):
    """``strikeChosen(frame)`` when a row is chosen (clicked or selected with the keyboard)."""

    strikeChosen = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("stepsTable")
        self.steps = StepsModel(self)
        self.setModel(self.steps)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.selectionModel().currentRowChanged.connect(self._on_current)

    @property
    def rows(self) -> list[StepRow]:
        return self.steps.rows

    def set_rows(self, rows: list[StepRow]) -> None:
        """Replace the rows (a reset chooses no row, so no strike is sent)."""
        self.steps.set_rows(rows)

    def cell_text(self, row: int, column: int) -> str:
        return self.steps.rows[row].cells[column]

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and 0 <= current.row() < len(self.steps.rows):
            self.strikeChosen.emit(self.steps.rows[current.row()].ic_frame)
