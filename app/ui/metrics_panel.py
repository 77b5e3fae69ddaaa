"""The running metrics table: value, left/right, typical range with its source, and flags.

Rows come from the kinematics report; this widget only lays them out. A value outside its
published typical range is highlighted and its row says why, so a coach sees at a glance what
to look at and can check the source of the range in the tooltip.
"""

from __future__ import annotations

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

from app.viewmodels.items import MetricRow

FLAG_BRUSH = QBrush(QColor(120, 72, 10))
OK_COLOR = QColor(140, 210, 140)
FLAG_COLOR = QColor(255, 190, 90)


COLUMNS = ("Metric", "Value", "Left", "Right", "Asym.", "Typical", "")
POOR_COLOR = QColor(150, 150, 150)
STATUS_TEXT = {True: "⚠", False: "✓"}
NO_VALUE = "–"


class MetricsPanel(QWidget):
    """Table of metrics plus, below it, the reasons for every flagged value in plain words."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[MetricRow] = []
        self.summary = QLabel("", self)
        self.summary.setObjectName("metricsSummary")
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("metricsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(True)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.flags = QLabel("", self)
        self.flags.setObjectName("metricsFlags")
        self.flags.setWordWrap(True)
        self.flags.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.flags)
        self.set_message("No analysis yet.")

    def set_message(self, text: str) -> None:
        """No metrics (yet): the message alone, without an empty table."""
        self.rows = []
        self.table.setRowCount(0)
        self.table.setVisible(False)
        self.summary.setText(text)
        self.flags.setText("")
        self.flags.setVisible(False)

    def set_rows(self, rows: list[MetricRow], summary: str = "") -> None:
        self.rows = list(rows)
        self.summary.setText(summary)
        self.table.setVisible(True)
        header = self.table.horizontalHeader()
        # Sized to their contents after the fill, not after every cell: re-measuring a column
        # per new cell made each refill (every hand correction) cost a few dozen milliseconds.
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            # No verdict on a poor value: a tick would claim it is within the typical range.
            judged = row.typical and row.value is not None and row.trust != "poor"
            status = STATUS_TEXT[row.flagged] if judged else ""
            value = row.value if row.value is not None else NO_VALUE
            if row.value is not None and row.trust in ("fair", "poor"):
                value += f"\n({row.trust})"  # good is the rule: only the exceptions are marked
            cells = (
                row.title,
                value,
                row.left,
                row.right,
                row.asymmetry,
                row.typical,
                status,
            )
            tip = row.reason
            if row.source:
                tip = f"{tip}\n\nTypical range: {row.typical or 'none established'}. {row.source}".strip()
            if row.trust_reason:
                tip = f"{tip}\n\nReliability {row.trust_reason}".strip()
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c in (1, 2, 3, 4):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                item.setToolTip(tip)
                if row.flagged:
                    item.setBackground(FLAG_BRUSH)
                    if c in (1, 6):
                        item.setForeground(FLAG_COLOR)
                elif c == 6:
                    item.setForeground(OK_COLOR)
                if row.trust == "poor" and c == 1:
                    item.setForeground(POOR_COLOR)
                if c == 4 and row.asymmetry_note:
                    item.setToolTip(row.asymmetry_note)
                    if not row.asymmetry_clear:  # muted: the legs cannot be told apart
                        item.setForeground(POOR_COLOR)
                self.table.setItem(r, c, item)
            self.table.item(r, 0).setData(Qt.ItemDataRole.UserRole, row.key)
        for column in range(1, len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.resizeRowsToContents()
        reasons = [f"⚠ {row.reason}" for row in rows if row.flagged and row.reason]
        self.flags.setText("<br>".join(reasons))
        self.flags.setVisible(bool(reasons))
