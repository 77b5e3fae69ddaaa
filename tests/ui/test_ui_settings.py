"""Settings: persisted preferences, the dialog's checks, and what a change does to the analysis."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from app.ui.settings import AnalysisPreferences, AppSettings
from tests.support.windows import wait_for_report


def test_preferences_persist_and_are_clamped(tmp_path):
    path = str(tmp_path / "s.ini")
    settings = AppSettings(QSettings(path, QSettings.Format.IniFormat))
    assert settings.analysis() == AnalysisPreferences()
    settings.set_analysis(
        AnalysisPreferences(
            model="hrnet",
            checkpoint="/x/w.pth",
            device="cpu",
            max_people=3,
            filter_cutoff_hz=6.0,
            runner_height_cm=181.0,
        )
    )
    again = AppSettings(QSettings(path, QSettings.Format.IniFormat))
    prefs = again.analysis()
    assert (prefs.model, prefs.checkpoint, prefs.device, prefs.max_people) == (
        "hrnet",
        "/x/w.pth",
        "cpu",
        3,
    )
    assert (prefs.filter_cutoff_hz, prefs.runner_height_cm) == (6.0, 181.0)
    raw = QSettings(path, QSettings.Format.IniFormat)
    raw.setValue("analysis/max_people", 99)
    raw.setValue("analysis/model", "nonsense")
    raw.setValue("analysis/filter_cutoff_hz", "fast")
    raw.sync()
    prefs = AppSettings(QSettings(path, QSettings.Format.IniFormat)).analysis()
    assert (prefs.max_people, prefs.model, prefs.filter_cutoff_hz) == (10, "default", 8.0)
    for index in range(12):
        again.add_recent_file(tmp_path / f"clip{index}.mp4")
    recent = again.recent_files()
    assert len(recent) == 10 and recent[0].endswith("clip11.mp4")


def test_dialog_requires_an_existing_checkpoint_for_networks(qtbot, tmp_path):
    from app.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(AnalysisPreferences())
    qtbot.addWidget(dialog)
    assert not dialog.checkpoint_edit.isEnabled()
    assert not dialog.slowmo_spin.isEnabled() and dialog.slowmo() is None  # no video open
    dialog.model_box.setCurrentIndex(dialog.model_box.findData("rhpnet"))
    assert dialog.checkpoint_edit.isEnabled()
    dialog.buttons.accepted.emit()
    assert "choose a checkpoint" in dialog.warning.text() and dialog.result() == 0
    dialog.checkpoint_edit.setText(str(tmp_path / "missing.pth"))
    dialog.buttons.accepted.emit()
    assert "not found" in dialog.warning.text()
    checkpoint = tmp_path / "w.pth"
    checkpoint.write_bytes(b"x")
    dialog.checkpoint_edit.setText(str(checkpoint))
    dialog.height_spin.setValue(175)
    dialog.buttons.accepted.emit()
    assert dialog.result() == dialog.DialogCode.Accepted
    prefs = dialog.preferences()
    assert (prefs.model, prefs.checkpoint, prefs.runner_height_cm) == (
        "rhpnet",
        str(checkpoint),
        175.0,
    )


@pytest.mark.slow
def test_runner_height_updates_the_report_and_a_bad_checkpoint_is_reported(
    qtbot, window, clip_with_sidecar, tmp_path
):
    from app.ui.settings_dialog import SettingsDialog

    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    rows = {row.key: row for row in window.panels.metrics_panel.rows}
    assert "leg lengths" in rows["vertical_oscillation"].title

    dialog = SettingsDialog(window.settings.analysis(), window)
    dialog.height_spin.setValue(178)
    with qtbot.waitSignal(window.session.reportUpdated, timeout=30_000):
        window.apply_settings(dialog)
    rows = {row.key: row for row in window.panels.metrics_panel.rows}
    assert "(cm)" in rows["vertical_oscillation"].title
    assert 2 < float(rows["vertical_oscillation"].value.split()[0]) < 20

    # a corrupt checkpoint: a clear message, and the loaded analysis stays usable
    bad = tmp_path / "broken.pth"
    bad.write_bytes(b"not a checkpoint at all")
    dialog = SettingsDialog(window.settings.analysis(), window)
    dialog.model_box.setCurrentIndex(dialog.model_box.findData("rhpnet"))
    dialog.checkpoint_edit.setText(str(bad))
    window.apply_settings(dialog)
    assert "Re-analyse" in window.analysis_status.message.text()
    with qtbot.waitSignal(window.errorReported, timeout=60_000) as error:
        window.session.reanalyse()
    assert "broken.pth" in error.args[0]
    qtbot.waitUntil(lambda: window.session.analysis_task is None, timeout=10_000)
    assert window.session.analysis is not None and window.session.report_view is not None
    window.player.step(5)
    assert window.player.position == 5


def test_the_slow_motion_factor_belongs_to_each_video(qtbot, window, clip_with_sidecar, tmp_path):
    import shutil

    from app.core.analysis import Analysis
    from app.ui.settings_dialog import SettingsDialog

    other = tmp_path / "other" / clip_with_sidecar.name
    other.parent.mkdir()
    for path in clip_with_sidecar.parent.glob(f"{clip_with_sidecar.stem}.*"):
        shutil.copy2(path, other.parent / path.name)

    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    dialog = SettingsDialog(window.settings.analysis(), window, slowmo=window.session.slowmo)
    assert dialog.slowmo_spin.isEnabled() and dialog.slowmo() == 1.0
    dialog.slowmo_spin.setValue(2.0)
    with qtbot.waitSignal(window.session.reportUpdated, timeout=30_000):
        window.apply_settings(dialog)
    assert (
        window.session.report_view.report.slowmo == 2.0
        and "slow motion ×2" in window.session.report_view.summary
    )
    # the report's times are real times, half the video's (foot strikes are placed between
    # frames: within a frame)
    steps = window.session.report_view.report.steps
    video_times = window.session.analysis.times_s
    frame_s = (video_times[1] - video_times[0]) / 2
    assert steps
    for step in steps:
        assert step.ic_time_s == pytest.approx(video_times[step.ic_frame] / 2, abs=frame_s)
    qtbot.waitUntil(lambda: not window.session.busy)
    assert Analysis.load(clip_with_sidecar.with_suffix(".analysis.npz")).slowmo == 2.0

    # another video keeps its own factor (1), and the first one gets its factor back
    window.open_video(other)
    wait_for_report(qtbot, window)
    assert window.session.slowmo == 1.0 and window.session.report_view.report.slowmo == 1.0
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    assert window.session.slowmo == 2.0 and window.session.report_view.report.slowmo == 2.0
