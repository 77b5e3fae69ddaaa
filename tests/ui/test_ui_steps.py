"""The steps table in the app: one row per contact of the real treadmill clip (3 s of it); clicking a row
shows that foot strike in the player; a leg graded poor is marked on every one of its rows."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.support.windows import wait_for_report


def test_clicking_a_step_shows_its_foot_strike(qtbot, window, clip_with_sidecar):
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    report = window.session.report_view.report
    table = window.panels.steps_table
    assert table.model().rowCount() == len(report.steps) > 4
    window.panels.steps_dock.raise_()
    qtbot.waitUntil(table.isVisible)
    row = 3
    rect = table.visualRect(table.model().index(row, 2))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    strike = report.steps[row].ic_frame
    qtbot.waitUntil(lambda: window.player.position == strike)
    assert table.cell_text(row, 2).endswith(f"(frame {strike + 1})")
    assert table.model().index(row, 2).data() == table.cell_text(row, 2)
    contact = report.summary["contact_time_ms"]
    for shown, step in zip(table.rows, report.steps, strict=True):
        assert shown.poor == contact.side_is_poor(step.side)
    assert not window.test_errors
