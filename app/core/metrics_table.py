"""The running metrics as a flat CSV table (one row per metric), for spreadsheets.

``metrics.json`` is the complete record; this table carries the same summary numbers (mean, SD,
left, right, asymmetry, typical range, flag and its reason) in the shape coaches paste into a
spreadsheet. Written atomically like every export.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from app.core.running_report import RunningReport
from app.core.table_text import number_cell
from rhpnet.atomic import atomic_write_text

METRICS_CSV_COLUMNS: tuple[str, ...] = (
    "metric",
    "label",
    "unit",
    "mean",
    "sd",
    "n",
    "left",
    "right",
    "asymmetry_pct",
    "asymmetry_margin_pct",
    "typical_low",
    "typical_high",
    "flag",
    "reason",
    "reliability",
    "reliability_reasons",
    "source",
)


def _number(value: float | None) -> str:
    return number_cell(value, "%.6g")


def metrics_csv_text(report: RunningReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(METRICS_CSV_COLUMNS)
    for key, summary in report.summary.items():
        low, high = summary.typical_range or (None, None)
        writer.writerow(
            [
                key,
                summary.label,
                summary.unit,
                _number(summary.mean),
                _number(summary.sd),
                summary.n,
                _number(summary.left),
                _number(summary.right),
                _number(summary.asymmetry_pct),
                _number(summary.asymmetry_margin_pct),
                _number(low),
                _number(high),
                summary.flag or "",
                summary.reason or "",
                (summary.reliability or {}).get("level", ""),
                "; ".join((summary.reliability or {}).get("reasons", [])),
                summary.source,
            ]
        )
    return buffer.getvalue()


def write_metrics_csv(report: RunningReport, path: str | Path) -> Path:
    atomic_write_text(path, metrics_csv_text(report))
    return Path(path)
