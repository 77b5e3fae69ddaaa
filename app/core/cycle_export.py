"""Gait-cycle curves as files: ``<stem>.cycle.csv`` and ``<stem>.cycle.png`` (docs/kinematics.md).

The CSV has one row per % of the cycle (0-100) and, per angle and side, the mean, the SD and
the number of strides averaged (``knee_flexion_left_mean``, ``..._sd``, ``..._n``); empty cells
where a side has no complete stride (SD needs two). The PNG draws the main angles, each side's
mean with a +-1 SD band, toe-off as a vertical line at its mean %, and the typical-range bands of
the metrics read off the curves. ``draw_cycle_panels`` also draws two sessions over each other
(the comparison) and a figure page of the athlete's PDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.gait_cycle import (
    CYCLE_ANGLES,
    PERCENT,
    CycleRange,
    GaitCycles,
    cycle_label,
    range_extent_pct,
)
from app.core.kinematics import SIDES
from app.core.overlay_style import plot_colour
from app.core.table_text import csv_from_columns, number_column
from rhpnet.atomic import atomic_path, atomic_write_text

PLOTTED_CYCLE_ANGLES: tuple[str, ...] = (
    "knee_flexion",
    "hip_flexion",
    "thigh_angle",
    "shank_angle",
    "elbow_flexion",
    "trunk_lean",
)
SESSION_STYLES = ("-", "--")


def cycle_csv_columns() -> list[str]:
    return ["percent"] + [
        f"{angle}_{side}_{part}"
        for angle in CYCLE_ANGLES
        for side in SIDES
        for part in ("mean", "sd", "n")
    ]


def cycle_csv_text(cycles: GaitCycles) -> str:
    columns = [number_column(PERCENT, "%.0f")]
    for angle in CYCLE_ANGLES:
        for side in SIDES:
            curves = cycles.curves[angle][side]
            columns.append(number_column(curves.mean, "%.3f"))
            columns.append(number_column(curves.sd, "%.3f"))
            columns.append(np.full(len(PERCENT), str(curves.n)))
    return csv_from_columns(cycle_csv_columns(), columns)


def write_cycle_csv(cycles: GaitCycles, path: str | Path) -> Path:
    atomic_write_text(path, cycle_csv_text(cycles))
    return Path(path)


@dataclass(frozen=True)
class CycleSession:
    """One session's cycles to draw, with its legend name."""

    label: str
    cycles: GaitCycles


def draw_cycle_panels(
    figure,
    sessions: Sequence[CycleSession],
    ranges: Sequence[CycleRange] = (),
    angles: Sequence[str] = PLOTTED_CYCLE_ANGLES,
) -> None:
    """Fill a matplotlib ``figure`` with one panel per angle (3 x 2 grid for six angles)."""
    columns = 2
    rows = -(-len(angles) // columns)
    axes = np.atleast_1d(figure.subplots(rows, columns, sharex=True)).reshape(-1)
    first = sessions[0].cycles if sessions else None
    for ax, angle in zip(axes, angles, strict=False):
        for cycle_range in ranges:
            if cycle_range.angle != angle or first is None:
                continue
            found = [v for v in (first.toe_off_pct(s) for s in SIDES) if v is not None]
            toe_off = np.nan if not found else np.nanmean(found)
            start, stop = range_extent_pct(cycle_range, float(toe_off))
            ax.fill_between(
                [start, stop], cycle_range.low, cycle_range.high, color="#2ca02c", alpha=0.15, lw=0
            )
        for style, session in zip(SESSION_STYLES, sessions, strict=False):
            for side in SIDES:
                curves = session.cycles.curves[angle][side]
                if curves.n == 0:
                    continue
                colour = plot_colour(side)
                name = f"{session.label} {side}" if len(sessions) > 1 else side
                ax.plot(
                    PERCENT,
                    curves.mean,
                    color=colour,
                    ls=style,
                    lw=1.4,
                    label=f"{name} (n={curves.n})",
                )
                if curves.n >= 2 and style == "-":
                    ax.fill_between(
                        PERCENT,
                        curves.mean - curves.sd,
                        curves.mean + curves.sd,
                        color=colour,
                        alpha=0.18,
                        lw=0,
                    )
                elif curves.n >= 2:
                    ax.plot(PERCENT, curves.mean - curves.sd, color=colour, ls=":", lw=0.6)
                    ax.plot(PERCENT, curves.mean + curves.sd, color=colour, ls=":", lw=0.6)
                toe_off = session.cycles.toe_off_pct(side)
                if toe_off is not None:
                    ax.axvline(toe_off, color=colour, ls=style, lw=0.8, alpha=0.7)
        ax.set_title(f"{cycle_label(angle)} (deg)", fontsize=9)
        ax.set_xlim(0, 100)
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6, loc="best")
    for ax in axes[len(angles) :]:
        ax.set_visible(False)
    for ax in axes[-columns:]:
        ax.set_xlabel("% of gait cycle (foot strike to next strike of the same foot)", fontsize=7)


def write_cycle_png(
    sessions: Sequence[CycleSession],
    path: str | Path,
    ranges: Sequence[CycleRange] = (),
    title: str = "",
) -> Path:
    """The cycle panels as a PNG; toe-off lines per side, typical ranges shaded green."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 10), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    draw_cycle_panels(figure, sessions, ranges)
    if title:
        figure.suptitle(title, fontsize=11)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    return Path(path)
