"""The steps table's rows (app/viewmodels/step_rows.py, Qt-free): one per ground contact, in time order,
with the frames as the player numbers them and what placed each foot strike."""

from __future__ import annotations

import dataclasses

from app.core.corrections import Corrections, EventEdit
from app.core.running_report import build_report
from app.viewmodels.step_rows import FOUND_BY, STEP_COLUMNS, step_rows
from tests.support.synthetic_runner import CASES, as_analysis, case


def test_one_row_per_step_with_player_frames_and_methods():
    analysis = as_analysis(case(next(iter(CASES))))
    report = build_report(analysis)
    rows = step_rows(report)
    assert len(rows) == len(report.steps) > 4
    for number, (row, step) in enumerate(zip(rows, report.steps, strict=True), start=1):
        assert len(row.cells) == len(STEP_COLUMNS)
        assert row.cells[0] == str(number) and row.cells[1] == step.side
        assert row.ic_frame == step.ic_frame
        assert f"(frame {step.ic_frame + 1})" in row.cells[2]  # 1-based, as the player shows
        assert row.cells[4] == f"{step.contact_time_ms:.0f} ms"
        assert row.cells[7] in FOUND_BY.values()
    assert [r.ic_frame for r in rows] == sorted(r.ic_frame for r in rows)


def test_a_strike_moved_by_hand_says_so():
    analysis = as_analysis(case(next(iter(CASES))))
    step = build_report(analysis).steps[2]
    edit = EventEdit(analysis.subject_id, step.side, "IC", "move", step.ic_frame, step.ic_frame + 1)
    edited = dataclasses.replace(analysis, corrections=Corrections().plus(edit))
    row = next(r for r in step_rows(build_report(edited)) if r.ic_frame == step.ic_frame + 1)
    assert row.cells[7] == "by hand"
