"""The running metrics table: value, left/right, typical range with its source, and flags.

Rows come from the kinematics report; this widget only lays them out. A value outside its
published typical range is highlighted and its row says why, so a coach sees at a glance what
to look at and can check the source of the range in the tooltip.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

FLAG_BRUSH = QBrush(QColor(120, 72, 10))
OK_COLOR = QColor(140, 210, 140)
FLAG_COLOR = QColor(255, 190, 90)


@dataclass
class MetricRow:
    """One metric as displayed (already formatted by the report adapter)."""

    key: str
    title: str
    value: str
    left: str = ""
    right: str = ""
    asymmetry: str = ""
    typical: str = ""
    flagged: bool = False
    reason: str = ""
    source: str = ""


COLUMNS = ("Metric", "Value", "Left", "Right", "Asym.", "Typical", "Note")


class MetricsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[MetricRow] = []
        self.title = QLabel("Running metrics", self)
        self.title.setObjectName("panelTitle")
        self.summary = QLabel("", self)
        self.summary.setObjectName("metricsSummary")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("metricsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.set_message("No analysis yet.")

    def set_message(self, text: str) -> None:
        self.rows = []
        self.table.setRowCount(0)
        self.summary.setText(text)

    def set_rows(self, rows: list[MetricRow], summary: str = "") -> None:
        self.rows = list(rows)
        self.summary.setText(summary)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            cells = (
                row.title,
                row.value,
                row.left,
                row.right,
                row.asymmetry,
                row.typical,
                row.reason if row.flagged else ("within typical range" if row.typical else ""),
            )
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in (1, 2, 3, 4):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                tip = row.reason if row.flagged else ""
                if row.source:
                    tip = f"{tip}\nTypical range: {row.typical} ({row.source})".strip()
                item.setToolTip(tip)
                if row.flagged:
                    item.setBackground(FLAG_BRUSH)
                    if c in (1, 6):
                        item.setForeground(FLAG_COLOR)
                elif c == 6 and row.typical:
                    item.setForeground(OK_COLOR)
                self.table.setItem(r, c, item)
            self.table.item(r, 0).setData(Qt.ItemDataRole.UserRole, row.key)

    def flagged_keys(self) -> list[str]:
        return [row.key for row in self.rows if row.flagged]
