"""Hand corrections in the app (docs/corrections.md), driven by real mouse and key events: drag a
keypoint on the paused frame, delete and re-add a foot strike, swap legs over a range; every
edit recomputes the report, is saved in the sidecar, and undo restores the exact analysis."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt

from app.core.analysis import Analysis
from app.core.corrections import Corrections
from rhpnet.skeleton import POSE_KEYPOINT_NAMES
from tests.support.windows import wait_for_report

KNEE = POSE_KEYPOINT_NAMES.index("right_knee")


def _widget_point(canvas, x: float, y: float) -> QPoint:
    scale, offset = canvas._scale(), canvas._offset()
    return QPoint(round(x * scale + offset.x()), round(y * scale + offset.y()))


def _new_report(qtbot, window, old) -> None:
    qtbot.waitUntil(
        lambda: window.session.report_view is not old and not window.session.busy, timeout=30_000
    )


def test_dragging_a_keypoint_recomputes_and_undo_restores(qtbot, window, clip_with_sidecar):
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    original = window.session.analysis
    before = window.session.report_view
    player, canvas = window.player, window.player.canvas
    frame = 40
    player.seek(frame)
    qtbot.waitUntil(lambda: player.displayed_index == frame)
    runner = next(p for p in canvas.people if p.is_subject)
    x, y = runner.keypoints[KNEE, :2]
    start = _widget_point(canvas, x, y)
    end = start + QPoint(0, 30)
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    _new_report(qtbot, window, before)

    (move,) = window.session.analysis.corrections.moves
    assert (move.frame, move.joint, move.spread) == (frame, "right_knee", 6)
    assert abs(move.y - y - 30 / canvas._scale()) < 1 / canvas._scale() + 1e-3
    angles_before = before.report.angles["knee_flexion_right"]
    angles_after = window.session.report_view.report.angles["knee_flexion_right"]
    assert abs(angles_after[frame] - angles_before[frame]) > 1.0  # the curve follows the drag
    np.testing.assert_array_equal(
        original.subject().keypoints, window.session.analysis.subject().keypoints
    )
    qtbot.waitUntil(
        lambda: (
            Analysis.load(window.session.sidecar_file).corrections
            == window.session.analysis.corrections
        )
    )
    shown = next(p for p in canvas.people if p.is_subject).keypoints[KNEE, 1]
    assert abs(shown - move.y) < 1e-3  # the overlay shows the corrected point
    # The edited stretch (the frame and its spread) is marked on the timeline and the plot.
    assert player.timeline_marks.edited == [(frame - 6, frame + 6)]
    times = window.session.report_view.times_s
    assert window.plots.edited_spans_s == [(times[frame - 6], times[frame + 6])]
    shaded = [r for r in window.plots.regions if r.toolTip() == "edited by hand"]
    assert len(shaded) == 1 and shaded[0].getRegion()[0] < times[frame] < shaded[0].getRegion()[1]

    edited = window.session.report_view
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    _new_report(qtbot, window, edited)
    assert window.session.analysis.corrections == Corrections()
    np.testing.assert_array_equal(
        window.session.report_view.report.angles["knee_flexion_right"], angles_before
    )
    assert {k: s.mean for k, s in window.session.report_view.report.summary.items()} == {
        k: s.mean for k, s in before.report.summary.items()
    }
    undone = window.session.report_view
    qtbot.keyClick(
        window,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    _new_report(qtbot, window, undone)
    assert window.session.analysis.corrections.moves == (move,)
    assert not window.test_errors


def test_events_and_leg_swaps_from_the_keyboard(qtbot, window, clip_with_sidecar):
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    report = window.session.report_view
    steps = len(report.report.steps)
    strike = report.report.steps[1].ic_frame
    player = window.player
    player.seek(strike)
    qtbot.waitUntil(lambda: player.displayed_index == strike)
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Delete)
    _new_report(qtbot, window, report)
    assert len(window.session.report_view.report.steps) == steps - 1
    deleted = window.session.report_view

    side = report.report.steps[1].side
    add = next(
        a for a in window.corrections.event_actions if a.text() == f"Add {side} foot strike here"
    )
    add.trigger()
    _new_report(qtbot, window, deleted)
    assert len(window.session.report_view.report.steps) == steps, (
        window.session.analysis.corrections
    )
    manual = [e for e in window.session.report_view.report.gait.events if e.method == "manual"]
    assert [(e.side, e.kind, e.frame) for e in manual] == [(side, "IC", strike)]
    added = window.session.report_view
    # The placed strike is marked as placed by hand on the timeline and on the plot.
    assert player.timeline_marks.manual_frames.tolist() == [strike]
    assert [(m.side, m.frame) for m in window.plots.events if m.manual] == [(side, strike)]

    player.seek(10)
    qtbot.waitUntil(lambda: player.displayed_index == 10)
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    player.seek(14)
    qtbot.waitUntil(lambda: player.displayed_index == 14)
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    _new_report(qtbot, window, added)
    (swap,) = window.session.analysis.corrections.swaps
    assert (swap.first, swap.last) == (10, 14)
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: not window.session.analysis.corrections and not window.session.busy, timeout=30_000
    )
    qtbot.waitUntil(lambda: not player.timeline_marks.edited, timeout=30_000)
    assert player.timeline_marks.manual_frames.size == 0
    assert not window.test_errors


def test_dragging_a_foot_strike_marker_on_the_plot_moves_the_event(
    qtbot, window, clip_with_sidecar
):
    window.open_video(clip_with_sidecar)
    wait_for_report(qtbot, window)
    report = window.session.report_view
    window.plots.set_selected(["knee_flexion_right"])
    step = next(s for s in report.report.steps[1:] if s.side == "right")
    strike = step.ic_frame
    plots = window.plots
    values = plots.angles["knee_flexion_right"]
    view = plots.view_box
    scene = view.mapViewToScene(QPointF(plots.times_s[strike], values[strike]))
    marker = plots.marker_at(scene)
    assert (marker.side, marker.kind, marker.frame) == ("right", "ic", strike)
    viewport = plots.plot_widget.viewport()
    start = plots.plot_widget.mapFromScene(scene)
    end = start + QPoint(20, 0)  # a few frames later
    released_s = view.mapSceneToView(plots.plot_widget.mapToScene(end)).x()
    target = int(np.argmin(np.abs(plots.times_s - released_s)))
    assert target > strike
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    for dx in range(2, 21, 2):  # a hand moves the mouse in small steps, over time
        qtbot.mouseMove(viewport, start + QPoint(dx, 0))
        qtbot.wait(25)  # the plot drops move events that come faster than 60 a second
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)
    _new_report(qtbot, window, report)

    (edit,) = window.session.analysis.corrections.events
    assert (edit.side, edit.kind, edit.action, edit.frame) == ("right", "IC", "move", strike)
    assert edit.to_frame == target  # where the mouse let go
    moved = [e for e in window.session.report_view.report.gait.events if e.method == "manual"]
    assert [(e.side, e.kind, e.frame) for e in moved] == [("right", "IC", edit.to_frame)]
    assert len(window.session.report_view.report.steps) == len(report.report.steps)
    assert window.player.position == edit.to_frame  # the video followed the drag
    assert not window.test_errors
