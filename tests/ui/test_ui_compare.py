"""Gait-cycle view, the comparison window and the new exports, in the app (docs/app.md)."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess

import numpy as np
import pytest

from tests.support.windows import wait_for_report

pytestmark = pytest.mark.slow


def test_cycle_view_toggle_shows_both_sides(qtbot, window, clip_with_sidecar):
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    pane = window.panels.angle_pane
    assert not pane.showing_cycle
    pane.cycle_button.click()
    assert pane.showing_cycle
    view = pane.cycle_view
    assert view.stack.currentWidget() is view.layout_widget
    assert list(view.plots) == ["knee_flexion", "trunk_lean"]  # from the default selection
    names = [item.name() for item in view.plots["knee_flexion"].listDataItems() if item.name()]
    assert any(n.startswith("left (n=") for n in names)
    assert any(n.startswith("right (n=") for n in names)
    pane.time_button.click()
    assert not pane.showing_cycle
    # A new report (every hand correction brings one) while the time view is shown: its strides
    # are resampled only once the cycle view is chosen again.
    fresh = dataclasses.replace(window.session.report_view, _cycles=None)
    pane.set_report(fresh)
    assert fresh._cycles is None
    pane.cycle_button.click()
    assert fresh._cycles is not None and view.sessions[0].cycles is fresh._cycles


def test_compare_window_syncs_strikes_and_steps_strides(qtbot, window, clip_with_sidecar, tmp_path):
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    other = tmp_path / "other" / clip_with_sidecar.name
    other.parent.mkdir()
    for path in clip_with_sidecar.parent.glob(f"{clip_with_sidecar.stem}.*"):
        shutil.copy2(path, other.parent / path.name)
    sidecar = other.with_name(f"{other.stem}.analysis.npz")
    task = window.compare.open(str(sidecar))
    qtbot.waitUntil(lambda: bool(window.compare.windows), timeout=30_000)
    compare = window.compare.windows[0]
    a, b = compare.sessions
    assert compare.table.rowCount() == len(compare.rows) > 5
    cadence = next(r for r in compare.rows if r.key == "cadence_spm")
    assert cadence.difference == pytest.approx(0.0)  # the same clip twice
    assert cadence.verdict == "within spread"

    strikes = a.strikes("left")
    assert len(strikes) >= 2
    compare.strike_boxes[0].setCurrentIndex(0)
    compare.strike_boxes[1].setCurrentIndex(1 if len(b.strikes("left")) > 1 else 0)
    compare.sync()
    assert compare.players[0].position == strikes[0]
    assert compare.players[1].position == b.strikes("left")[compare.strike_boxes[1].currentIndex()]
    compare.step_stride(+1)
    assert compare.players[0].position == strikes[1]
    compare.step_stride(-1)
    assert compare.players[0].position == strikes[0]
    assert task is not None and not window.test_errors

    pdf = compare.write_report(tmp_path / "compare.report.pdf")
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        assert re.search(r"^Pages:\s+5$", info, re.MULTILINE)
    compare.close()


def test_new_exports_from_the_app(qtbot, window, clip_with_sidecar, tmp_path):
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    out = tmp_path / "out"
    written = {}
    for key, name in (
        ("cycle_csv", "run.cycle.csv"),
        ("cycle_png", "run.cycle.png"),
        ("report_pdf", "run.report.pdf"),
        ("opensim_mot", "run.mot"),
    ):
        window.exporter.export(key, out / name)
        with qtbot.waitSignal(window.exporter.exported, timeout=60_000) as done:
            pass
        written[key] = done.args[0]
    rows = (out / "run.cycle.csv").read_text().splitlines()
    assert len(rows) == 102 and rows[0].startswith("percent,")
    assert (out / "run.report.pdf").read_bytes()[:5] == b"%PDF-"
    assert "endheader" in (out / "run.mot").read_text()
    # The .trc needs the runner's height: without one, the export fails with that reason.
    window.exporter.export("opensim_trc", out / "run.trc")
    qtbot.waitUntil(lambda: bool(window.test_errors), timeout=30_000)
    assert "runner-height-cm" in window.test_errors[-1] or "height" in window.test_errors[-1]
    assert not (out / "run.trc").exists()
    assert np.all([p for p in out.iterdir() if ".partial" in p.name] == [])


def test_compare_report_button_writes_on_a_worker(
    qtbot, window, clip_with_sidecar, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    from app.ui.compare_view import ComparedRun

    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    session = ComparedRun(window.session.analysis, window.session.report_view.report)
    compare = window.compare.show(session, session)
    target = tmp_path / "both.report.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), "PDF"))
    )
    compare.report_button.click()
    qtbot.waitUntil(lambda: compare.status.text().startswith("Report written"), timeout=60_000)
    assert target.read_bytes()[:5] == b"%PDF-"
    compare.close()
