"""What the views draw, computed without Qt (app/viewmodels, docs/layers.md)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np

from app.core.corrections import Corrections, KeypointMove
from app.core.running_report import build_report
from app.viewmodels.items import PersonPose, angle_side, person_at
from app.viewmodels.overlay_people import OverlayPeople, live_people_at
from app.viewmodels.report_view import build_report_view
from rhpnet.skeleton import pose_index
from tests.support.synthetic_runner import as_analysis, case

KNEE_RIGHT = pose_index("right_knee")


def _analysis():
    analysis = as_analysis(case("treadmill_right_60fps", duration_s=3.0))
    track = analysis.tracks[1]
    track.boxes[:] = [100.0, 100.0, 800.0, 900.0]
    return analysis


def test_the_view_models_import_no_qt():
    code = (
        "import sys, app.viewmodels.overlay_people, app.viewmodels.report_view, "
        "app.viewmodels.step_rows; "
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_runner_is_drawn_with_the_angles_ticked_in_the_plot():
    analysis = _analysis()
    view = build_report_view(build_report(analysis), analysis)
    overlay = OverlayPeople()
    people, labels = overlay.at(30, analysis, None, view, ["knee_flexion_right", "trunk_lean"])
    assert [(p.track_id, p.is_subject) for p in people] == [(1, True)]
    assert sorted(label.side for label in labels) == ["centre", "right"]
    right = next(label for label in labels if label.side == "right")
    x, y = analysis.tracks[1].keypoints[30, KNEE_RIGHT, :2]
    assert (right.x, right.y) == (float(x), float(y))
    assert right.text == f"{round(float(view.angles['knee_flexion_right'][30]))}°"
    # Past the last analysed frame nothing is drawn; a report of another runner gives no labels.
    assert overlay.at(analysis.frame_count, analysis, None, view, ["trunk_lean"]) == ([], [])
    other = dataclasses.replace(view, subject_id=7)
    assert overlay.at(30, analysis, None, other, ["trunk_lean"])[1] == []


def test_points_moved_by_hand_are_drawn_where_they_were_put():
    analysis = _analysis()
    overlay = OverlayPeople()
    before = overlay.at(40, analysis, None, None, [])[0][0].keypoints.copy()
    edited = dataclasses.replace(
        analysis,
        corrections=Corrections().plus(KeypointMove(1, 40, "right_knee", 321.0, 654.0, spread=0)),
    )
    after = overlay.at(40, edited, None, None, [])[0][0].keypoints
    assert tuple(after[KNEE_RIGHT, :2]) == (321.0, 654.0)
    assert not np.array_equal(before[KNEE_RIGHT, :2], after[KNEE_RIGHT, :2])
    # The first analysis, unedited, is still drawn as estimated (one cache per analysis).
    again = overlay.at(40, analysis, None, None, [])[0][0].keypoints
    assert np.array_equal(again, before, equal_nan=True)


def test_while_analysing_everyone_seen_is_drawn():
    poses = type("Poses", (), {})()
    poses.keypoints = np.zeros((2, 17, 3), np.float32)
    poses.boxes = np.array([[0, 0, 10, 10], [5, 5, 100, 100]], np.float32)
    frame = type("Frame", (), {"poses": poses, "track_ids": np.array([4, 9])})()
    live = type("Live", (), {"frames": {12: frame}})()
    people = live_people_at(live, 12)
    assert [(p.track_id, p.is_subject) for p in people] == [(4, True), (9, True)]
    assert live_people_at(live, 13) == [] and live_people_at(None, 12) == []
    assert OverlayPeople().at(12, None, live, None, ["trunk_lean"])[1] == []


def test_clicking_picks_the_smallest_box_under_the_pointer():
    big = PersonPose(1, np.zeros((17, 3)), np.array([0, 0, 500, 500]), True)
    small = PersonPose(2, np.zeros((17, 3)), np.array([100, 100, 50, 50]), False)
    assert person_at([big, small], 120, 120) == 2
    assert person_at([big, small], 400, 400) == 1
    assert person_at([big, small], 900, 900) is None


def test_angle_sides_follow_the_names():
    assert angle_side("knee_flexion_left") == "left"
    assert angle_side("right_foot") == "right"
    assert angle_side("trunk_lean") == "centre"
