"""The main window on real clips: analysis, sidecars, player, overlay, plots, errors, cancel."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from app.core.analysis import Analysis
from tests.support.windows import wait_for_report


def _partial_files(folder):
    return [p for p in folder.rglob("*") if ".partial" in p.name]


@pytest.mark.slow
def test_opening_a_clip_analyses_it_and_reopens_from_the_sidecar(qtbot, window, soccer_clip):
    with qtbot.waitSignal(window.session.analysisFinished, timeout=60_000) as finished:
        window.open_video(soccer_clip)
    analysis = finished.args[0]
    assert analysis.frame_count == 5
    assert analysis.subject() is not None and analysis.subject().frame_count_present >= 4
    sidecar = soccer_clip.parent / "posetrack18_000001_soccer_run_5frames.analysis.npz"
    assert window.session.sidecar_file == sidecar and sidecar.is_file()
    assert Analysis.load(sidecar).model["settings"]["model"] == "default"
    qtbot.waitUntil(lambda: not window.session.busy, timeout=30_000)
    # the overlay shows the runner on the displayed frame
    qtbot.waitUntil(
        lambda: window.player.displayed_index == 0 and bool(window.player.canvas.people)
    )
    assert window.player.canvas.people[0].is_subject
    assert not window.test_errors
    assert str(soccer_clip.resolve()) == window.settings.recent_files()[0]

    # reopening uses the sidecar: no analysis task is started
    started = []
    window.session.analysisFinished.connect(started.append)
    window.open_video(soccer_clip)
    qtbot.waitUntil(lambda: window.session.analysis is not None, timeout=10_000)
    assert window.session.analysis_task is None
    assert "saved analysis" in window.analysis_status.message.text()


def test_player_navigation_and_shortcuts(qtbot, window, clip_with_sidecar):
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    player = window.player
    count = player.frame_count
    assert count == window.session.analysis.frame_count > 60
    qtbot.waitUntil(lambda: player.displayed_index == 0)
    assert player.canvas.image is not None and player.canvas.people

    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert player.position == 2
    qtbot.waitUntil(lambda: player.displayed_index == 2)
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert player.position == 1
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert player.position == count - 1
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert player.position == 0

    # foot strikes from the report: period jumps to the next, comma back
    strikes = player.strike_frames
    assert len(strikes) >= 3
    qtbot.keyClick(window, Qt.Key.Key_Period)
    assert player.position == strikes[0]
    qtbot.keyClick(window, Qt.Key.Key_Period)
    assert player.position == strikes[1]
    qtbot.keyClick(window, Qt.Key.Key_Comma)
    assert player.position == strikes[0]

    # speed, then play advances in (video) time
    qtbot.keyClick(window, Qt.Key.Key_Up)
    assert player.speed == 1.5
    player.set_speed(2.0)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert player.is_playing
    qtbot.wait(300)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not player.is_playing
    assert player.position > strikes[0] + 5

    # zoom and fit
    player.canvas.fit_to_window()
    fitted = player.canvas.zoom
    qtbot.keyClick(window, Qt.Key.Key_Plus)
    assert player.canvas.zoom == pytest.approx(fitted * 1.25)
    qtbot.keyClick(window, Qt.Key.Key_F)
    assert player.canvas.fit and player.canvas.zoom == pytest.approx(fitted)


def test_plots_show_angles_and_seeking_from_the_plot_moves_the_player(
    qtbot, window, clip_with_sidecar
):
    plots = window.plots
    assert plots.plot_stack.currentWidget() is plots.placeholder  # a sentence, not empty axes
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    assert plots.plot_stack.currentWidget() is plots.plot_widget
    assert set(plots.curves) >= {"knee_flexion_left", "knee_flexion_right"}
    x, y = plots.curves["knee_flexion_left"].getData()
    assert np.isfinite(y).sum() > 0.8 * len(y)
    assert 0 < np.nanmax(y) < 150
    assert plots.markers, "gait events are marked on the curves"

    # click in the plot at t = 1.5 s: the player seeks there, and the playhead follows
    target = 1.5
    view = plots.view_box
    scene_point = view.mapViewToScene(QPointF(target, float(np.nanmean(y))))
    widget_point = plots.plot_widget.mapFromScene(scene_point)
    qtbot.mouseClick(plots.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)
    times = window.player.times_s
    assert abs(times[window.player.position] - target) < 0.05
    assert plots.playhead.value() == pytest.approx(times[window.player.position], abs=0.05)

    # dragging the playhead seeks too; playing moves the playhead
    plots.playhead.setValue(0.5)
    plots.playhead.sigDragged.emit(plots.playhead)
    assert abs(times[window.player.position] - 0.5) < 0.05
    window.player.step(10)
    assert plots.playhead.value() == pytest.approx(times[window.player.position])

    # choosing angles in the list adds curves; angle labels follow the choice
    item = next(
        plots.angle_list.item(i)
        for i in range(plots.angle_list.count())
        if plots.angle_list.item(i).data(Qt.ItemDataRole.UserRole) == "hip_flexion_left"
    )
    item.setCheckState(Qt.CheckState.Checked)
    assert "hip_flexion_left" in plots.curves
    assert "hip_flexion_left" in window.settings.value("plot_angles", [])


def test_metrics_panel_lists_metrics_and_flags(qtbot, window, clip_with_sidecar):
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    rows = {row.key: row for row in window.panels.metrics_panel.rows}
    assert {"cadence_spm", "contact_time_ms", "duty_factor", "knee_flexion_ic_deg"} <= set(rows)
    assert rows["cadence_spm"].title == "Cadence (steps/min)"
    cadence = float(rows["cadence_spm"].value.split()[0])
    assert 120 < cadence < 220
    assert window.panels.metrics_panel.table.rowCount() == len(rows)
    for row in window.panels.metrics_panel.rows:
        if row.flagged:
            assert row.reason


def test_clicking_another_person_makes_them_the_runner(qtbot, window, clip_with_sidecar):
    # add a second person (the runner shifted right) to the sidecar, as a multi-person analysis would
    from app.core.sidecars import find_sidecar
    from app.ui.tasks import model_settings

    analysis, sidecar = find_sidecar(clip_with_sidecar, model_settings(window.settings.analysis()))
    runner = analysis.tracks[analysis.subject_id]
    other = type(runner)(7, runner.keypoints.copy(), runner.boxes.copy(), runner.scores.copy())
    other.keypoints[..., 0] += analysis.video.width * 0.4
    other.boxes[:, 0] += analysis.video.width * 0.4
    analysis.tracks[7] = other
    analysis.save(sidecar)

    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    old_subject = window.session.analysis.subject_id
    qtbot.waitUntil(lambda: len(window.player.canvas.people) == 2)
    canvas = window.player.canvas
    box = other.boxes[window.player.displayed_index]
    scale, offset = canvas.zoom, canvas._offset()
    click = QPointF(
        offset.x() + (box[0] + box[2] / 2) * scale, offset.y() + (box[1] + box[3] / 2) * scale
    )
    with qtbot.waitSignal(window.session.reportUpdated, timeout=30_000):
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=click.toPoint())
    assert old_subject != 7 and window.session.analysis.subject_id == 7
    assert window.session.report_view.subject_id == 7
    qtbot.waitUntil(lambda: not window.session.busy)
    assert Analysis.load(sidecar).subject_id == 7


def test_corrupt_file_shows_an_error_and_the_app_stays_usable(
    qtbot, window, tmp_path, clip_with_sidecar
):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video" * 100)
    with qtbot.waitSignal(window.errorReported, timeout=10_000) as error:
        window.open_video(bad)
    assert "broken.mp4" in error.args[0]
    assert window.session.video_path is None and window.session.analysis is None
    assert str(bad.resolve()) not in window.settings.recent_files()
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    assert window.session.analysis.frame_count > 60


@pytest.mark.slow
def test_cancel_shows_partial_results_then_leaves_no_file(qtbot, window, clip_without_sidecar):
    window.open_video(clip_without_sidecar)
    qtbot.waitUntil(
        lambda: window.session.live_poses is not None and window.session.live_poses.done > 0,
        timeout=30_000,
    )
    # results appear while it runs: the overlay draws the analysed frame
    qtbot.waitUntil(lambda: bool(window.player.canvas.people), timeout=10_000)
    assert (
        window.analysis_status.progress_bar.isVisible()
        and window.analysis_status.cancel_button.isVisible()
    )
    assert "elapsed" in window.analysis_status.time_label.text()
    with qtbot.waitSignal(window.session.analysis_task.cancelled, timeout=10_000):
        qtbot.mouseClick(window.analysis_status.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.session.analysis_task is None)
    assert window.session.analysis is None
    assert sorted(p.name for p in clip_without_sidecar.parent.iterdir()) == [
        clip_without_sidecar.name
    ]
    assert not window.test_errors
    assert "cancelled" in window.analysis_status.message.text()


@pytest.mark.slow
def test_closing_during_analysis_cancels_cleanly(qtbot, app_settings, clip_without_sidecar):
    from app.ui.main_window import MainWindow

    win = MainWindow(app_settings)
    qtbot.addWidget(win)
    win.show()
    win.open_video(clip_without_sidecar)
    qtbot.waitUntil(
        lambda: win.session.analysis_task is not None and win.session.analysis_task.isRunning(),
        timeout=10_000,
    )
    task = win.session.analysis_task
    win.close()
    assert not task.isRunning() and task.is_cancelled
    assert sorted(p.name for p in clip_without_sidecar.parent.iterdir()) == [
        clip_without_sidecar.name
    ]


def test_drop_and_recent_files_open_videos(qtbot, window, clip_with_sidecar):
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clip_with_sidecar))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    wait_for_report(qtbot, window)
    assert window.session.video_path == clip_with_sidecar
    window.player.close_video()
    window.session.analysis = None
    actions = window.menus.recent_menu.actions()
    assert actions and actions[0].text() == clip_with_sidecar.name
    actions[0].trigger()
    wait_for_report(qtbot, window)
    assert window.session.analysis is not None


def test_overlay_toggles_are_persisted(qtbot, window, app_settings):
    window.menus.angles_action.setChecked(False)
    window.menus.skeleton_action.setChecked(False)
    assert not window.player.canvas.options.show_angles
    assert app_settings.value("show_skeleton", True) is False
    from app.ui.main_window import MainWindow

    again = MainWindow(app_settings)
    qtbot.addWidget(again)
    assert (
        not again.menus.skeleton_action.isChecked()
        and not again.player.canvas.options.show_skeleton
    )


class StuckAnalysis:
    """Stands in for ``tasks.analyse_and_save``: busy on one frame, deaf to Cancel (as a model is in
    the middle of an inference) until the test releases it; then it reports poses and progress
    late and fails, as a worker torn down under its feet might."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, threading.Event]] = []
        self.late_poses: list[object] = []

    def __call__(self, context, path, prefs, slowmo=1.0, corrections=None):
        from app.ui.tasks import LivePoses

        gate = threading.Event()
        self.calls.append((path, gate))
        gate.wait(5)
        live = LivePoses()
        live.done = 1
        self.late_poses.append(live)
        context.partial(live)
        context.flush_partial()
        context.progress(7, 9)
        raise RuntimeError("the model's session was closed")


def test_opening_another_video_during_an_analysis_does_not_wait_for_it(
    qtbot, window, clip_without_sidecar, soccer_clip, monkeypatch
):
    from app.ui import tasks

    stuck = StuckAnalysis()
    monkeypatch.setattr(tasks, "analyse_and_save", stuck)
    window.open_video(clip_without_sidecar)
    qtbot.waitUntil(lambda: len(stuck.calls) == 1, timeout=10_000)
    old = window.session.analysis_task

    window.open_video(soccer_clip)  # returns at once: the old worker is still on its frame
    assert old.isRunning() and old.is_cancelled
    qtbot.waitUntil(lambda: len(stuck.calls) == 2, timeout=10_000)
    new = window.session.analysis_task
    assert new is not old and stuck.calls[1][0] == soccer_clip
    qtbot.waitUntil(lambda: window.player.displayed_index == 0, timeout=10_000)

    # the old worker finishes its frame: what it reports late changes nothing on screen
    with qtbot.waitSignal(old.finished, timeout=10_000):
        stuck.calls[0][1].set()
    qtbot.wait(50)
    assert window.session.live_poses is not stuck.late_poses[0]
    assert window.session.analysis_task is new and window.session.video_path == soccer_clip
    assert (
        window.analysis_status.progress_bar.isVisible()
        and window.analysis_status.cancel_button.isVisible()
    )
    assert window.session.progress == (0, 0)
    assert not window.test_errors

    with qtbot.waitSignal(new.finished, timeout=10_000):
        window.session.cancel_analysis()
        stuck.calls[1][1].set()
    qtbot.waitUntil(lambda: window.session.analysis_task is None)
    assert "cancelled" in window.analysis_status.message.text()
    assert not window.test_errors and not window.analysis_status.progress_bar.isVisible()
