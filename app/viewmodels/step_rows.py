"""One row per ground contact for the steps table: when the foot landed and left, how long it
stayed, and what placed each event, so a coach can check the foot strikes one by one.

Qt-free (the rows are plain data, tested without a display); ``app/ui/steps_table.py`` lays
them out. A leg graded poor (the far leg of a side view, often hidden) is marked, because its
numbers are guesses (docs/kinematics.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.corrections import MANUAL
from app.core.gait import ANKLE_PELVIS, FEET

if TYPE_CHECKING:
    from app.core.running_report import RunningReport

FOUND_BY = {FEET: "heel and toe", ANKLE_PELVIS: "ankle (fallback)", MANUAL: "by hand"}
NO_VALUE = "–"


@dataclass(frozen=True)
class StepRow:
    number: int
    side: str
    ic_frame: int
    to_frame: int
    cells: tuple[str, ...]  # in ``STEP_COLUMNS`` order
    poor: bool  # the leg is graded poor: every number of the row is a guess


STEP_COLUMNS = ("#", "Foot", "Strike", "Toe-off", "Contact", "Flight", "Knee at IC", "Strike by")


def _number(value: float, unit: str, digits: int = 0) -> str:
    return NO_VALUE if not math.isfinite(value) else f"{value:.{digits}f} {unit}"


def step_rows(report: RunningReport) -> list[StepRow]:
    """The report's steps in time order, each with the frames (1-based, as the player shows
    them) and method of its events."""
    method = {(e.side, e.kind, e.frame): e.method for e in report.gait.events}
    contact = report.summary.get("contact_time_ms")
    rows = []
    for number, step in enumerate(report.steps, start=1):
        found = FOUND_BY.get(method.get((step.side, "IC", step.ic_frame), ""), NO_VALUE)
        cells = (
            str(number),
            step.side,
            f"{step.ic_time_s:.3f} s (frame {step.ic_frame + 1})",
            f"{step.to_time_s:.3f} s (frame {step.to_frame + 1})",
            _number(step.contact_time_ms, "ms"),
            _number(step.flight_time_ms, "ms"),
            _number(step.knee_flexion_ic_deg, "°", 1),
            found,
        )
        poor = contact is not None and contact.side_is_poor(step.side)
        rows.append(StepRow(number, step.side, step.ic_frame, step.to_frame, cells, poor))
    return rows
