"""Export menu: the CLI's writers from the app, in workers, atomic, cancellable."""

from __future__ import annotations

import csv
import json

import pytest
from PySide6.QtWidgets import QFileDialog, QPushButton

from rhpnet.media.video import open_video
from tests.support.windows import wait_for_report


def _export(qtbot, window, key, path):
    task = window.exporter.export(key, path)
    assert task is not None
    with qtbot.waitSignal(window.exporter.exported, timeout=60_000) as done:
        pass
    assert done.args[0] == str(path)
    return path


@pytest.mark.slow
def test_keypoint_and_report_exports_write_valid_files(
    qtbot, window, clip_with_sidecar, tmp_path, monkeypatch
):
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    frames = window.session.analysis.frame_count
    out = tmp_path / "out"

    # through the menu: the save dialog proposes <stem>.keypoints.csv beside the video
    proposed = []

    def fake_dialog(parent, caption, directory, file_filter):
        proposed.append(directory)
        return str(out / "run.keypoints.csv"), file_filter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    window.exporter.actions["keypoints_csv"].trigger()
    with qtbot.waitSignal(window.exporter.exported, timeout=30_000):
        pass
    assert proposed == [str(clip_with_sidecar.with_name(f"{clip_with_sidecar.stem}.keypoints.csv"))]
    with open(out / "run.keypoints.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == frames and rows[0]["frame"] == "0"
    assert float(rows[10]["left_knee_x"]) > 0

    coco = json.loads(_export(qtbot, window, "coco_json", out / "run.coco.json").read_text())
    assert len(coco) == frames and len(coco[0]["keypoints"]) == 51

    with open(_export(qtbot, window, "angles_csv", out / "run.angles.csv"), newline="") as handle:
        angle_rows = list(csv.DictReader(handle))
    assert len(angle_rows) == frames and "knee_flexion_left" in angle_rows[0]

    metrics = json.loads(
        _export(qtbot, window, "metrics_json", out / "run.metrics.json").read_text()
    )
    assert 120 < metrics["cadence_spm"]["mean"] < 220 and metrics["steps"]

    with open(_export(qtbot, window, "metrics_csv", out / "run.metrics.csv"), newline="") as handle:
        metric_rows = list(csv.DictReader(handle))
    assert any(row["metric"] == "cadence_spm" for row in metric_rows)

    png = _export(qtbot, window, "plot_png", out / "run.angles.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert not [p for p in out.iterdir() if ".partial" in p.name]
    assert not window.test_errors


@pytest.mark.slow
def test_annotated_video_export_and_cancel(qtbot, window, clip_with_sidecar, tmp_path):
    window.open_video(clip_with_sidecar)
    qtbot.waitUntil(
        lambda: window.session.analysis is not None and window.session.analysis_task is None,
        timeout=30_000,
    )
    out = tmp_path / "video"

    video = _export(qtbot, window, "overlay_video", out / "run.overlay.mp4")
    with open_video(video) as result:
        assert result.info.frame_count == window.session.analysis.frame_count
        assert result.info.codec == "h264"

    # cancel from the progress dialog: no file, no temporary left behind
    target = out / "cancelled.overlay.mp4"
    task = window.exporter.export("overlay_video", target)
    dialog = window.exporter.progress_dialog
    assert dialog is not None and dialog.isVisible()
    with qtbot.waitSignal(task.cancelled, timeout=30_000):
        dialog.findChild(QPushButton).click()
    qtbot.waitUntil(lambda: not task.isRunning())
    assert sorted(p.name for p in out.iterdir()) == ["run.overlay.mp4"]
    assert "cancelled" in window.analysis_status.message.text()


def test_the_export_menu_offers_every_kind_of_the_registry(window):
    """The menu is the registry the ``analyze`` command iterates (app/core/outputs.py)."""
    from app.core.outputs import OUTPUTS

    entries = [a.text() for a in window.menus.export_menu.actions() if not a.isSeparator()]
    assert entries == [f"{kind.label}…" for kind in OUTPUTS]
    assert list(window.exporter.actions) == [kind.key for kind in OUTPUTS]
    assert not any(action.isEnabled() for action in window.exporter.actions.values())
