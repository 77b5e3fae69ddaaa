"""Two analyses side by side: their metrics, the difference, and whether it is more than noise.

For each metric of ``METRIC_SPECS``, the comparison gives session A's and session B's mean, SD
and number of steps, the difference B - A and the stride-to-stride spread it is weighed
against: the pooled SD of the two sessions, sqrt((SD_A^2 + SD_B^2) / 2). A difference larger
than that spread is one the runner's own step-to-step variation does not explain; a smaller one
may be noise. With fewer than two steps on either side there is no spread and no verdict
(docs/compare.md).

``write_comparison`` writes ``<stem>.compare.csv`` (one row per metric) and
``<stem>.compare.cycle.png`` (both sessions' cycle curves over each other: A solid with its SD
band, B dashed with its SD as dotted lines).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

from app.core.cycle_export import CycleSession, write_cycle_png
from app.core.gait_cycle import cycle_ranges, report_cycles
from app.core.metrics import METRIC_SPECS
from app.core.running_report import RunningReport
from app.core.table_text import number_cell
from rhpnet.atomic import atomic_write_text

COMPARE_CSV_SUFFIX = ".compare.csv"
COMPARE_PNG_SUFFIX = ".compare.cycle.png"
COMPARE_CSV_COLUMNS: tuple[str, ...] = (
    "metric",
    "label",
    "unit",
    "a_mean",
    "a_sd",
    "a_n",
    "b_mean",
    "b_sd",
    "b_n",
    "difference",
    "spread",
    "exceeds_spread",
)


@dataclass(frozen=True)
class ComparisonRow:
    key: str
    label: str
    unit: str
    decimals: int
    a_mean: float | None
    a_sd: float | None
    a_n: int
    b_mean: float | None
    b_sd: float | None
    b_n: int

    @property
    def difference(self) -> float | None:
        if self.a_mean is None or self.b_mean is None:
            return None
        return self.b_mean - self.a_mean

    @property
    def spread(self) -> float | None:
        """Pooled stride-to-stride SD of the two sessions (None without two SDs)."""
        if self.a_sd is None or self.b_sd is None:
            return None
        return math.sqrt((self.a_sd**2 + self.b_sd**2) / 2.0)

    @property
    def exceeds_spread(self) -> bool | None:
        if self.difference is None or self.spread is None:
            return None
        return abs(self.difference) > self.spread

    @property
    def verdict(self) -> str:
        """Plain words for the table: 'beyond step-to-step spread', 'within spread' or why not."""
        if self.difference is None:
            return "not measured in both"
        if self.exceeds_spread is None:
            return "too few steps to tell"
        return "beyond step-to-step spread" if self.exceeds_spread else "within spread"


def compare_reports(a: RunningReport, b: RunningReport) -> list[ComparisonRow]:
    """One row per metric, in ``METRIC_SPECS`` order."""
    rows = []
    for key, spec in METRIC_SPECS.items():
        first, second = a.summary.get(key), b.summary.get(key)
        if first is None or second is None:
            continue
        rows.append(
            ComparisonRow(
                key=key,
                label=spec.label,
                unit=first.unit,
                decimals=1 if first.unit == "cm" else spec.decimals,  # 2D estimate: mm is noise
                a_mean=first.mean,
                a_sd=first.sd,
                a_n=first.n,
                b_mean=second.mean,
                b_sd=second.sd,
                b_n=second.n,
            )
        )
    return rows


def comparison_csv_text(rows: list[ComparisonRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COMPARE_CSV_COLUMNS)
    for row in rows:
        exceeds = row.exceeds_spread
        writer.writerow(
            [
                row.key,
                row.label,
                row.unit,
                number_cell(row.a_mean, "%.6g"),
                number_cell(row.a_sd, "%.6g"),
                row.a_n,
                number_cell(row.b_mean, "%.6g"),
                number_cell(row.b_sd, "%.6g"),
                row.b_n,
                number_cell(row.difference, "%.6g"),
                number_cell(row.spread, "%.6g"),
                "" if exceeds is None else ("yes" if exceeds else "no"),
            ]
        )
    return buffer.getvalue()


def session_label(report: RunningReport) -> str:
    return Path(report.video_path).stem


def comparison_sessions(a: RunningReport, b: RunningReport) -> list[CycleSession]:
    label_a, label_b = session_label(a), session_label(b)
    if label_a == label_b:
        label_a, label_b = f"A {label_a}", f"B {label_b}"
    return [CycleSession(label_a, report_cycles(a)), CycleSession(label_b, report_cycles(b))]


def write_comparison(
    a: RunningReport, b: RunningReport, out_dir: str | Path, stem: str
) -> list[Path]:
    """``<stem>.compare.csv`` and ``<stem>.compare.cycle.png``; each written atomically."""
    out = Path(out_dir)
    table = out / f"{stem}{COMPARE_CSV_SUFFIX}"
    atomic_write_text(table, comparison_csv_text(compare_reports(a, b)))
    sessions = comparison_sessions(a, b)
    figure = write_cycle_png(
        sessions,
        out / f"{stem}{COMPARE_PNG_SUFFIX}",
        cycle_ranges(a.summary),
        title=f"{sessions[0].label} (solid) vs {sessions[1].label} (dashed)",
    )
    return [table, figure]
