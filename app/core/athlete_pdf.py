"""The PDF report for the athlete (``<stem>.report.pdf``), drawn with matplotlib's PdfPages.

Pages, in order (docs/report.md):

1. **Summary**: video name, video date, runner, slow-motion factor and frame rate, then every
   metric with its value (mean +- SD over the steps, left / right), its typical range, what that
   means in plain words (within / below / above the typical range, or no range and why) and how
   far to trust it (the number of steps behind it), and the notes of the analysis.
2. **Key frames**: foot strike, mid-stance and toe-off of a representative step of each foot,
   skeleton drawn (``app.core.key_frames``). Left out, with a line saying so, when the video
   is not available.
3. **Gait cycle**: the cycle curves, mean +- SD per side, toe-off and typical ranges.
4. **Comparison** (only with a second session): the metrics of both, the difference and whether
   it exceeds the step-to-step spread, then both sessions' cycle curves over each other.

The file is written atomically: a failure leaves no partial PDF.
"""

from __future__ import annotations

import datetime as dt
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path

from app.core.analysis import Analysis
from app.core.compare import ComparisonRow, compare_reports, comparison_sessions
from app.core.cycle_export import CycleSession, draw_cycle_panels
from app.core.gait_cycle import cycle_ranges, report_cycles
from app.core.key_frames import KeyFrame
from app.core.metrics import METRIC_SPECS, MetricSummary
from app.core.running_report import MIN_STEPS_FOR_SUMMARY, RunningReport
from rhpnet.atomic import atomic_path
from rhpnet.errors import UserFacingError

PAGE_SIZE = (8.27, 11.69)  # A4 portrait, inches
GOOD_STEPS = 8
PAGE_TITLES = {
    "summary": "Running report",
    "key_frames": "Key frames of a typical step",
    "cycle": "Joint angles over the gait cycle",
    "compare_table": "Comparison",
    "compare_cycle": "Comparison: gait cycle",
}


@dataclass
class ReportInputs:
    """What the PDF shows; ``key_frames`` empty with ``key_frames_missing`` saying why."""

    report: RunningReport
    runner: str | None = None
    key_frames: list[tuple[KeyFrame, object]] | None = None
    key_frames_missing: str | None = None
    comparison: RunningReport | None = None


def report_inputs_from_video(
    report: RunningReport,
    analysis: Analysis,
    *,
    runner: str | None = None,
    comparison: RunningReport | None = None,
) -> ReportInputs:
    """The PDF's inputs with key frames read from the analysed video; where the video cannot
    be read, the key-frame page says why instead."""
    from app.core.key_frames import render_key_frames

    inputs = ReportInputs(report, runner=runner, comparison=comparison)
    try:
        inputs.key_frames = render_key_frames(report, analysis.video.path, analysis.video.fps)
    except UserFacingError as error:
        inputs.key_frames_missing = f"No key frames: {str(error).splitlines()[0]}"
    return inputs


def reliability_words(summary: MetricSummary) -> str:
    """'good: 16 steps', or the metric's grade (app.core.reliability) with the steps behind it."""
    if summary.n == 0 or summary.mean is None:
        return "not measured"
    steps = f"{summary.n} step{'s' if summary.n != 1 else ''}"
    if summary.reliability is not None:
        return f"{summary.reliability['level']}: {steps}"
    if summary.n < MIN_STEPS_FOR_SUMMARY:
        return f"unreliable: only {steps}"
    if summary.n < GOOD_STEPS:
        return f"fair: {steps}"
    return f"good: {steps}"


def assessment_words(summary: MetricSummary) -> str:
    if summary.mean is None:
        return "-"
    if summary.typical_range is None:
        return "no typical range: compare with yourself over time"
    if summary.is_poor:
        return "too unsure to compare with the typical range"
    low, high = summary.typical_range
    if summary.flag == "low":
        return f"below the typical {low:g}-{high:g}"
    if summary.flag == "high":
        return f"above the typical {low:g}-{high:g}"
    return f"within the typical {low:g}-{high:g}"


def _number(value: float | None, decimals: int) -> str:
    return "-" if value is None else f"{value:.{decimals}f}"


def metric_decimals(key: str, unit: str) -> int:
    """Decimals shown for a metric: its spec's, but 1 for centimetres (vertical oscillation in
    cm from a 2D estimate is not known to the tenth of a millimetre)."""
    return 1 if unit == "cm" else METRIC_SPECS[key].decimals


def metric_value_text(summary: MetricSummary) -> str:
    decimals = metric_decimals(summary.key, summary.unit)
    if summary.mean is None:
        return "-"
    text = _number(summary.mean, decimals)
    if summary.sd is not None:
        text += f" ± {_number(summary.sd, decimals)}"
    return f"{text} {summary.unit}".strip()


def _video_date(path: str) -> str:
    try:
        stamp = os.stat(path).st_mtime
    except OSError:
        return "unknown (video not available)"
    return dt.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")


def _header(figure, title: str, report: RunningReport) -> None:
    figure.text(0.06, 0.965, title, fontsize=16, weight="bold", va="top")
    figure.text(
        0.94, 0.965, Path(report.video_path).name, fontsize=8, ha="right", va="top", color="#555555"
    )


def _summary_page(figure, inputs: ReportInputs) -> None:
    report = inputs.report
    _header(figure, PAGE_TITLES["summary"], report)
    steps = len(report.steps)
    lines = [
        ("Video", Path(report.video_path).name),
        ("Video date", _video_date(report.video_path)),
        ("Runner", inputs.runner or "not given"),
        (
            "Runner height",
            f"{report.runner_height_cm:g} cm"
            if report.runner_height_cm
            else "not given (vertical oscillation in leg lengths)",
        ),
        ("Slow-motion factor", f"{report.slowmo:g} (times are real time)"),
        ("Frame rate", f"{report.cleaned.sample_rate_hz:.0f} frames per real second"),
        ("Ground contacts", f"{steps} measured"),
        ("Report made", dt.datetime.now().strftime("%Y-%m-%d %H:%M")),
    ]
    y = 0.92
    for key, value in lines:
        figure.text(0.06, y, key, fontsize=9, weight="bold", va="top")
        figure.text(0.28, y, value, fontsize=9, va="top")
        y -= 0.02
    rows = []
    for summary in report.summary.values():
        side_text = "-"
        if summary.left is not None or summary.right is not None:
            decimals = metric_decimals(summary.key, summary.unit)
            left, right = (
                _number(value, decimals) + summary.side_mark(side)
                for value, side in ((summary.left, "left"), (summary.right, "right"))
            )
            side_text = textwrap.fill(f"{left} / {right}", 18)
        rows.append(
            [
                textwrap.fill(summary.label, 24),
                textwrap.fill(metric_value_text(summary), 20),
                side_text,
                textwrap.fill(assessment_words(summary), 26),
                reliability_words(summary),
            ]
        )
    ax = figure.add_axes((0.04, 0.2, 0.92, y - 0.22))
    ax.axis("off")
    table = ax.table(
        cellText=rows,
        colLabels=["Metric", "Mean ± SD", "Left / right", "Compared with runners", "Trust"],
        colWidths=[0.25, 0.17, 0.14, 0.27, 0.17],
        loc="upper center",
        cellLoc="left",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1, 2.3)
    for (row, _), cell in table.get_celld().items():
        if row == 0:
            cell.set_text_props(weight="bold")
            cell.set_facecolor("#e8e8e8")
    for index, summary in enumerate(report.summary.values(), start=1):
        if summary.flag:
            table[index, 3].set_facecolor("#fde2cf")
    notes = [
        "Trust: good, fair or poor from the frame rate (event timing), the runner's size in the "
        "picture (angles), events timed from the ankles, a hidden far leg and the number of "
        "ground contacts (docs/kinematics.md, Reliability); the reasons are in metrics.json. "
        "A poor value is not compared with the typical range. Typical ranges are those of "
        "recreational runners; their sources are in metrics.json.",
    ]
    if report.strike_text:
        notes.append(f"Foot strike: {report.strike_text} (Altman & Davis 2012).")
    notes += [f"Note: {note}." for note in report.notes]
    text = "\n".join(textwrap.fill(note, 110) for note in notes)
    figure.text(0.06, 0.17, text, fontsize=7.5, va="top", color="#333333")


def _key_frames_page(figure, inputs: ReportInputs) -> None:
    report = inputs.report
    _header(figure, PAGE_TITLES["key_frames"], report)
    frames = inputs.key_frames or []
    if not frames:
        figure.text(
            0.06, 0.9, inputs.key_frames_missing or "no ground contact found", fontsize=10, va="top"
        )
        return
    sides = sorted({key.side for key, _ in frames}, key=["left", "right"].index)
    grid = figure.add_gridspec(
        len(sides), 3, left=0.04, right=0.96, top=0.9, bottom=0.06, wspace=0.05, hspace=0.12
    )
    for key, image in frames:
        ax = figure.add_subplot(
            grid[sides.index(key.side), ["strike", "mid-stance", "toe-off"].index(key.phase)]
        )
        ax.imshow(image, interpolation="none")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(
            f"{key.side} foot: {key.phase}\nframe {key.frame}, "
            f"{key.time_s - report.real_times_s[0]:.2f} s",
            fontsize=8,
        )


def _cycle_page(figure, title: str, report: RunningReport, sessions: list[CycleSession]) -> None:
    _header(figure, title, report)
    draw_cycle_panels(figure, sessions, cycle_ranges(report.summary))
    figure.subplots_adjust(top=0.88, bottom=0.06, left=0.08, right=0.97, hspace=0.3, wspace=0.22)
    figure.text(
        0.06,
        0.925,
        "Mean of all strides, shaded +- 1 SD; vertical lines: toe-off; "
        "green: typical range at foot strike / during contact. With a comparison: B dashed, "
        "its SD dotted.",
        fontsize=7.5,
    )


def _comparison_page(figure, inputs: ReportInputs, rows: list[ComparisonRow]) -> None:
    report, other = inputs.report, inputs.comparison
    _header(figure, PAGE_TITLES["compare_table"], report)
    figure.text(
        0.06,
        0.92,
        f"A: {Path(report.video_path).name}    B: {Path(other.video_path).name}",
        fontsize=9,
        va="top",
    )
    cells = []
    for row in rows:
        d = row.decimals
        cells.append(
            [
                textwrap.fill(f"{row.label} ({row.unit})" if row.unit else row.label, 30),
                _number(row.a_mean, d),
                _number(row.b_mean, d),
                "-" if row.difference is None else f"{row.difference:+.{d}f}",
                _number(row.spread, d),
                textwrap.fill(row.verdict, 18),
            ]
        )
    ax = figure.add_axes((0.04, 0.25, 0.92, 0.64))
    ax.axis("off")
    table = ax.table(
        cellText=cells,
        colLabels=["Metric", "A", "B", "B - A", "Step spread", "Difference"],
        colWidths=[0.3, 0.11, 0.11, 0.11, 0.13, 0.24],
        loc="upper center",
        cellLoc="left",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(7.5)
    table.scale(1, 2.2)
    for index, row in enumerate(rows, start=1):
        if row.exceeds_spread:
            table[index, 5].set_facecolor("#fde2cf")
    figure.text(
        0.06,
        0.22,
        textwrap.fill(
            "Step spread: the pooled stride-to-stride SD of the two sessions. A difference beyond "
            "it is larger than the runner's own step-to-step variation; one within it may be noise.",
            110,
        ),
        fontsize=7.5,
        va="top",
    )


def write_athlete_pdf(inputs: ReportInputs, path: str | Path) -> Path:
    """Write the report PDF atomically; returns its path. The page titles are PAGE_TITLES."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    report = inputs.report
    pages = []
    summary = Figure(figsize=PAGE_SIZE)
    _summary_page(summary, inputs)
    pages.append(summary)
    frames = Figure(figsize=PAGE_SIZE)
    _key_frames_page(frames, inputs)
    pages.append(frames)
    cycle = Figure(figsize=PAGE_SIZE)
    _cycle_page(
        cycle,
        PAGE_TITLES["cycle"],
        report,
        [CycleSession(Path(report.video_path).stem, report_cycles(report))],
    )
    pages.append(cycle)
    if inputs.comparison is not None:
        table = Figure(figsize=PAGE_SIZE)
        _comparison_page(table, inputs, compare_reports(report, inputs.comparison))
        pages.append(table)
        overlay = Figure(figsize=PAGE_SIZE)
        _cycle_page(
            overlay,
            PAGE_TITLES["compare_cycle"],
            report,
            comparison_sessions(report, inputs.comparison),
        )
        pages.append(overlay)
    path = Path(path)
    with (
        atomic_path(path) as tmp,
        PdfPages(
            tmp,
            metadata={
                "Title": f"Running report: {Path(report.video_path).name}",
                "Subject": inputs.runner or "",
                "Creator": "RHPNet Coach",
            },
        ) as pdf,
    ):
        for page in pages:
            pdf.savefig(page)
    return path
