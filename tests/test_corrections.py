"""Hand corrections (docs/corrections.md): edits as a layer over the estimate, stored in the
sidecar, read by every metric and export; a corrupted leg fixed by hand restores the metrics."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil

import numpy as np
import pytest

from app import cli
from app.core.analysis import Analysis
from app.core.corrections import (
    Corrections,
    EventEdit,
    KeypointMove,
    LegSwap,
    UnusableFrame,
    corrected_keypoints,
    edited_spans,
)
from app.core.gait import FEET
from app.core.running_report import build_report, metrics_document
from rhpnet.errors import DataError
from rhpnet.skeleton import NUM_POSE_KEYPOINTS, POSE_KEYPOINT_NAMES

CLIP = "treadmill_side_IMG_5396.mp4"
SOCCER = "posetrack18_000001_soccer_run_5frames.mp4"
KNEE = POSE_KEYPOINT_NAMES.index("right_knee")


def _still_track(frames: int = 30) -> np.ndarray:
    points = np.zeros((frames, NUM_POSE_KEYPOINTS, 3), np.float32)
    points[..., 0] = np.arange(NUM_POSE_KEYPOINTS)[None, :] * 10.0
    points[..., 1] = 100.0
    points[..., 2] = 0.9
    return points


def test_a_moved_point_spreads_to_its_neighbours_and_fades_out():
    raw = _still_track()
    move = KeypointMove(0, frame=10, joint="right_knee", x=raw[10, KNEE, 0] + 40, y=100.0, spread=3)
    points, edited = corrected_keypoints(raw, 0, Corrections().plus(move))
    shift = points[:, KNEE, 0] - raw[:, KNEE, 0]
    np.testing.assert_allclose(shift[6:15], [0, 10, 20, 30, 40, 30, 20, 10, 0])
    assert points[10, KNEE, 2] == 1.0  # placed by hand: fully confident
    assert np.flatnonzero(edited[:, KNEE]).tolist() == [7, 8, 9, 10, 11, 12, 13]
    assert not edited[:, :KNEE].any() and (raw == _still_track()).all()  # the estimate stays


def test_points_placed_by_hand_win_over_a_neighbours_spread():
    raw = _still_track()
    corrections = Corrections()
    for frame in (10, 11):
        corrections = corrections.plus(KeypointMove(0, frame, "right_knee", 500.0, 100.0))
    points, _ = corrected_keypoints(raw, 0, corrections)
    assert points[10, KNEE, 0] == points[11, KNEE, 0] == 500.0


def test_a_leg_swap_exchanges_whole_legs_and_an_unusable_frame_is_dropped():
    raw = _still_track()
    corrections = Corrections().plus(LegSwap(0, 5, 7)).plus(UnusableFrame(0, 20))
    points, edited = corrected_keypoints(raw, 0, corrections)
    left_knee = POSE_KEYPOINT_NAMES.index("left_knee")
    left_wrist = POSE_KEYPOINT_NAMES.index("left_wrist")
    np.testing.assert_array_equal(points[5:8, KNEE], raw[5:8, left_knee])
    np.testing.assert_array_equal(points[5:8, left_wrist], raw[5:8, left_wrist])  # arms stay
    np.testing.assert_array_equal(points[8, KNEE], raw[8, KNEE])
    assert np.isnan(points[20]).all() and edited[20].all()
    assert corrected_keypoints(raw, 1, corrections)[1].sum() == 0  # other tracks untouched


@pytest.fixture(scope="module")
def treadmill(analysed_clip):
    return analysed_clip(CLIP)


def test_corrections_survive_the_sidecar_and_old_sidecars_open(treadmill, tmp_path):
    corrections = (
        Corrections()
        .plus(KeypointMove(0, 12, "left_heel", 300.0, 1700.0, spread=2))
        .plus(LegSwap(0, 40, 44))
        .plus(EventEdit(0, "right", "IC", "add", 100))
    )
    saved = dataclasses.replace(treadmill, corrections=corrections).save(
        tmp_path / "a.analysis.npz"
    )
    assert Analysis.load(saved).corrections == corrections
    meta = json.loads(saved.with_suffix(".json").read_text())
    assert meta["format"] == 3 and meta["corrections"]["swaps"] == [
        {"track_id": 0, "first": 40, "last": 44}
    ]
    old = treadmill.save(tmp_path / "old.analysis.npz")
    with np.load(old) as data:
        arrays = dict(data)
    meta = json.loads(str(arrays["metadata_json"]))
    meta["format"] = 2
    del meta["corrections"]
    arrays["metadata_json"] = np.asarray(json.dumps(meta))
    np.savez_compressed(old, **arrays)
    assert not Analysis.load(old).corrections


def test_malformed_corrections_are_a_clear_error(treadmill, tmp_path):
    path = treadmill.save(tmp_path / "bad.analysis.npz")
    with np.load(path) as data:
        arrays = dict(data)
    meta = json.loads(str(arrays["metadata_json"]))
    meta["corrections"] = {"moves": [{"track_id": 0, "frame": 1, "joint": "tail", "x": 0, "y": 0}]}
    arrays["metadata_json"] = np.asarray(json.dumps(meta))
    np.savez_compressed(path, **arrays)
    with pytest.raises(DataError, match="bad.analysis.npz: corrections name an unknown joint"):
        Analysis.load(path)


def test_a_corrupted_leg_fixed_by_hand_restores_the_metrics(treadmill):
    """The near (right) leg is thrown 60 px off over 10 frames around a foot strike; a coach
    drags the knee, ankle, heel and toe back in each of those frames, with the spread set to 0
    (every wrong frame is fixed itself: a spread would shift the good frames beside the block):
    every metric comes back to within 1 % of the uncorrupted analysis (0.5 degree for angles)."""
    reference = build_report(treadmill)
    strike = next(s.ic_frame for s in reference.steps if s.side == "right" and s.ic_frame > 100)
    frames = range(strike - 5, strike + 5)
    joints = ("right_knee", "right_ankle", "right_heel", "right_big_toe")
    subject = treadmill.subject()
    corrupted = subject.keypoints.copy()
    for joint in joints:
        corrupted[frames.start : frames.stop, POSE_KEYPOINT_NAMES.index(joint), :2] += (60, -40)
    broken = dataclasses.replace(
        treadmill,
        tracks={
            **treadmill.tracks,
            subject.track_id: dataclasses.replace(subject, keypoints=corrupted),
        },
    )
    assert build_report(broken).summary != reference.summary  # the corruption shows
    fixes = Corrections()
    for frame in frames:
        for joint in joints:
            x, y = subject.keypoints[frame, POSE_KEYPOINT_NAMES.index(joint), :2]
            fixes = fixes.plus(
                KeypointMove(subject.track_id, frame, joint, float(x), float(y), spread=0)
            )
    fixed = build_report(dataclasses.replace(broken, corrections=fixes))
    assert len(fixed.steps) == len(reference.steps)
    for key, summary in reference.summary.items():
        if summary.mean is None:
            continue
        assert fixed.summary[key].mean == pytest.approx(
            summary.mean, rel=0.01, abs=0.5 if key.endswith("_deg") else 1e-9
        ), key
    assert fixed.edits["moved_keypoints"] == 40
    assert 1 <= fixed.steps_on_edits <= 2


def test_event_edits_are_kept_as_placed_and_marked_manual(treadmill):
    report = build_report(treadmill)
    step = next(s for s in report.steps if s.side == "right" and s.ic_frame > 100)
    later = step.ic_frame + 1
    edits = Corrections().plus(EventEdit(0, "right", "IC", "move", step.ic_frame, later))
    edited = build_report(dataclasses.replace(treadmill, corrections=edits))
    moved = next(s for s in edited.steps if s.side == "right" and s.to_frame == step.to_frame)
    assert moved.ic_frame == later
    assert moved.contact_time_ms == pytest.approx(
        step.contact_time_ms - 1000 / treadmill.video.fps, abs=20
    )
    document = metrics_document(edited)
    manual = [e for e in document["events"] if e["method"] == "manual"]
    assert [(e["side"], e["kind"], e["frame"]) for e in manual] == [("right", "IC", later)]
    assert document["manual_edits"]["event_edits"] == 1
    assert document["manual_edits"]["steps_resting_on_edits"] == 1
    deleted = Corrections().plus(EventEdit(0, "right", "IC", "delete", step.ic_frame + 2))
    fewer = build_report(dataclasses.replace(treadmill, corrections=deleted))
    assert len(fewer.steps) == len(report.steps) - 1
    assert all(e.method in (FEET, "ankle_pelvis") for e in fewer.gait.events)


def test_the_command_keeps_an_edited_analysis_and_flags_corrected_rows(
    tmp_path, videos_dir, capsys
):
    clip = tmp_path / SOCCER
    shutil.copy(videos_dir / SOCCER, clip)
    out = tmp_path / "out"
    assert cli.main(["analyze", str(clip), "--out", str(out), "--no-video"]) == 0
    sidecar = out / f"{clip.stem}.analysis.npz"
    analysis = Analysis.load(sidecar)
    move = KeypointMove(0, 2, "nose", 10.0, 20.0, spread=1)
    dataclasses.replace(analysis, corrections=Corrections().plus(move)).save(sidecar)
    capsys.readouterr()
    assert cli.main(["analyze", str(clip), "--out", str(out), "--no-video"]) == 0
    assert "reusing" in capsys.readouterr().err
    assert Analysis.load(sidecar).corrections.moves == (move,)
    rows = list(csv.DictReader((out / f"{clip.stem}.keypoints.csv").open()))
    assert [r["corrected"] for r in rows] == ["0", "1", "1", "1", "0"]
    assert (rows[2]["nose_x"], rows[2]["nose_y"]) == ("10.00", "20.00")


def test_edited_frames_become_the_spans_the_views_shade():
    mask = np.zeros(20, bool)
    mask[[0, 1, 5, 9, 10, 11, 19]] = True
    assert edited_spans(mask) == [(0, 1), (5, 5), (9, 11), (19, 19)]
    assert edited_spans(np.zeros(5, bool)) == []
