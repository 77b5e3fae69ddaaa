"""Waiting on the main window in UI tests."""

from __future__ import annotations


def wait_for_report(qtbot, win, timeout: int = 30_000) -> None:
    qtbot.waitUntil(
        lambda: win.session.report_view is not None and not win.session.busy, timeout=timeout
    )
