"""A report recomputed through the cache after an edit is the report a fresh computation gives,
and only the stages whose inputs the edit changed run again (docs/corrections.md, Speed)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from app.core.corrections import Corrections, EventEdit, KeypointMove
from app.core.report_cache import ReportCache
from app.core.running_report import build_report, metrics_document
from rhpnet.skeleton import POSE_KEYPOINT_NAMES

CLIP = "treadmill_side_IMG_5396.mp4"


@pytest.fixture(scope="module")
def treadmill(analysed_clip):
    return analysed_clip(CLIP)


def _edited(analysis, *edits):
    corrections = Corrections()
    for edit in edits:
        corrections = corrections.plus(edit)
    return dataclasses.replace(analysis, corrections=corrections)


def _same_report(cached, fresh) -> None:
    assert metrics_document(cached) == metrics_document(fresh)
    np.testing.assert_array_equal(cached.cleaned.keypoints, fresh.cleaned.keypoints)
    for name, curve in fresh.angles.items():
        np.testing.assert_array_equal(cached.angles[name], curve)


def test_an_event_edit_reuses_the_cleaning_and_contacts_and_gives_the_fresh_report(treadmill):
    cache = ReportCache()
    first = build_report(treadmill, cache=cache)
    strike = next(e for e in first.gait.events if e.kind == "IC" and e.side == "right")
    edited = _edited(
        treadmill,
        EventEdit(treadmill.subject_id, "right", "IC", "move", strike.frame, strike.frame + 2),
    )
    cached = build_report(edited, cache=cache)
    assert cache.hits == {"cleaning": 1, "contacts": 1}
    _same_report(cached, build_report(edited))
    assert cached.summary != first.summary  # the edit did change the numbers


@pytest.mark.parametrize(
    ("joint", "shift", "contacts_kept"),
    [
        ("right_knee", (12.0, 0.0), 1),  # the cleaned feet stay as they were
        ("right_heel", (-15.0, -10.0), 0),  # a foot point: the contacts are found again
    ],
)
def test_a_moved_keypoint_reruns_the_cleaning_and_the_contacts_only_if_the_feet_changed(
    treadmill, joint, shift, contacts_kept
):
    cache = ReportCache()
    build_report(treadmill, cache=cache)
    frame = treadmill.frame_count // 2
    x, y = treadmill.subject().keypoints[frame, POSE_KEYPOINT_NAMES.index(joint), :2]
    move = KeypointMove(
        treadmill.subject_id, frame, joint, float(x) + shift[0], float(y) + shift[1]
    )
    edited = _edited(treadmill, move)
    cached = build_report(edited, cache=cache)
    assert cache.hits == {"cleaning": 0, "contacts": contacts_kept}
    _same_report(cached, build_report(edited))


def test_a_foot_moved_in_its_swing_reworks_only_the_contacts_around_it(treadmill):
    cache = ReportCache()
    first = build_report(treadmill, cache=cache)
    heel, toe = (POSE_KEYPOINT_NAMES.index(f"right_{part}") for part in ("heel", "big_toe"))
    points = treadmill.subject().keypoints
    middle = slice(treadmill.frame_count // 3, 2 * treadmill.frame_count // 3)
    frame = middle.start + int(np.nanargmin(points[middle, heel, 1]))  # the heel at its highest
    edits = [
        KeypointMove(treadmill.subject_id, frame, name, float(x) + 6.0, float(y) - 4.0)
        for name, (x, y) in (
            ("right_heel", points[frame, heel, :2]),
            ("right_big_toe", points[frame, toe, :2]),
        )
    ]
    edited = _edited(treadmill, *edits)
    cached = build_report(edited, cache=cache)
    # The whole foot moved as one, in the air: the clip's foot length and planted heights stay,
    # and only the contacts whose frames reach the edit are read again.
    found = len(first.gait.events) // 2
    assert found - 5 <= cache.contacts_recalled < found
    _same_report(cached, build_report(edited))


def test_kept_results_are_read_only(treadmill):
    cache = ReportCache()
    report = build_report(treadmill, cache=cache)
    with pytest.raises(ValueError, match="read-only"):
        report.cleaned.keypoints[0, 0, 0] = 1.0
