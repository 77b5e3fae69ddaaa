"""Report building and the angles CSV / metrics JSON / plot exports."""

from __future__ import annotations

import csv
import dataclasses
import json
import math

import numpy as np
import pytest

from app.core.analysis import Track
from app.core.kinematics import ANGLE_NAMES
from app.core.metrics import METRIC_SPECS, StepMetrics, summarize
from app.core.outputs import OUTPUT_KINDS, OutputInputs, write_outputs
from app.core.running_report import build_report, write_angles_csv
from rhpnet.errors import DataError
from tests.support.synthetic_runner import as_analysis, case

REPORT_FILES = ("angles_csv", "metrics_json")


def write_report_files(report, analysis, out_dir, stem, plots=False):
    """The report's own outputs as ``analyze`` writes them (app/core/outputs.py)."""
    keys = REPORT_FILES + (("plot_png",) if plots else ())
    return write_outputs(
        OutputInputs(analysis, report),
        [OUTPUT_KINDS[key] for key in keys],
        out_dir,
        stem=stem,
        save_sidecar=False,
    )


REQUIRED_METRICS = (
    "cadence_spm",
    "contact_time_ms",
    "flight_time_ms",
    "duty_factor",
    "knee_flexion_ic_deg",
    "peak_knee_flexion_stance_deg",
    "hip_extension_to_deg",
    "trunk_lean_deg",
    "overstride",
    "vertical_oscillation",
)


@pytest.fixture(scope="module")
def slow_motion_report():
    run = case("treadmill_right_240fps_slowmo8")
    analysis = as_analysis(run)
    return run, analysis, build_report(analysis, runner_height_cm=180.0)


def test_slow_motion_analysis_is_measured_in_real_time(slow_motion_report):
    run, analysis, report = slow_motion_report
    assert report.slowmo == 8.0
    assert report.cleaned.sample_rate_hz == pytest.approx(240.0)
    assert report.summary["cadence_spm"].mean == pytest.approx(run.gait.cadence_spm, rel=0.01)


def test_exports_are_complete_and_valid(slow_motion_report, tmp_path):
    run, analysis, report = slow_motion_report
    paths = write_report_files(report, analysis, tmp_path, "clip", plots=True)
    assert [p.name for p in paths] == ["clip.angles.csv", "clip.metrics.json", "clip.angles.png"]
    assert not list(tmp_path.glob(".*partial*"))

    with open(tmp_path / "clip.angles.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["frame", "time_s", "track_id", *ANGLE_NAMES]
    assert len(rows) == 1 + len(run.keypoints)
    frame = 300
    assert int(rows[1 + frame][0]) == frame
    assert float(rows[1 + frame][1]) == pytest.approx(run.video_times_s[frame], abs=1e-6)
    knee = float(rows[1 + frame][rows[0].index("knee_flexion_left")])
    assert knee == pytest.approx(run.angles["knee_flexion_left"][frame], abs=2.0)

    text = (tmp_path / "clip.metrics.json").read_text()
    assert "NaN" not in text
    document = json.loads(text)
    for key in REQUIRED_METRICS:
        metric = document[key]
        assert {"mean", "sd", "left", "right", "unit", "typical_range", "source", "flag"} <= set(
            metric
        )
    assert document["vertical_oscillation"]["unit"] == "cm"
    assert document["cadence_spm"]["typical_range"] == [160.0, 190.0]
    assert "Heiderscheit" in document["knee_flexion_ic_deg"]["source"]
    assert document["slowmo"] == 8.0
    steps = document["steps"]
    assert len(steps) >= 8
    for step in steps:
        assert {"side", "ic_frame", "ic_time_s", "to_frame", "to_time_s"} <= set(step)
        assert step["side"] in ("left", "right")
        assert step["to_time_s"] > step["ic_time_s"]
    assert set(REQUIRED_METRICS) <= set(document["asymmetry"])

    png = (tmp_path / "clip.angles.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


def test_angles_csv_leaves_missing_angles_empty(slow_motion_report, tmp_path):
    _, analysis, report = slow_motion_report
    angles = {name: values.copy() for name, values in report.angles.items()}
    angles["knee_flexion_left"][10:20] = np.nan
    path = write_angles_csv(dataclasses.replace(report, angles=angles), tmp_path / "a.csv")
    text = path.read_text()
    rows = list(csv.DictReader(text.splitlines()))
    assert [row["knee_flexion_left"] for row in rows[10:20]] == [""] * 10
    assert rows[9]["knee_flexion_left"] and rows[15]["knee_flexion_right"]
    assert "nan" not in text.lower()


def test_rewriting_replaces_the_files_whole(slow_motion_report, tmp_path):
    _, analysis, report = slow_motion_report
    target = tmp_path / "clip.metrics.json"
    target.write_text("old")
    write_report_files(report, analysis, tmp_path, "clip")
    assert json.loads(target.read_text())["format"] == 1


def test_a_person_standing_still_gets_no_metrics_but_valid_files(tmp_path):
    run = case("treadmill_right_60fps")
    analysis = as_analysis(run)
    for seed in range(6):  # the landmarks' jitter is sometimes periodic enough to look like one
        still = np.repeat(run.keypoints[:1], len(run.keypoints), axis=0)
        still[..., :2] += np.random.default_rng(seed).normal(0, 1.0, still[..., :2].shape)
        analysis.tracks[1].keypoints = still.astype(np.float32)
        report = build_report(analysis)
        assert report.steps == [], seed
        assert report.notes and "no periodic" in report.notes[0]
    write_report_files(report, analysis, tmp_path, "still")
    document = json.loads((tmp_path / "still.metrics.json").read_text())
    assert document["cadence_spm"]["mean"] is None and document["steps"] == []


def test_a_single_frame_gets_its_angles_and_valid_files(tmp_path):
    """A photo (a one-image folder) has no frame rate: nothing over time can be cleaned or
    measured, but its angles are reported (this raised 'need at least two frame times')."""
    run = case("treadmill_right_60fps")
    analysis = as_analysis(run)
    track = analysis.tracks[1]
    photo = dataclasses.replace(
        analysis,
        times_s=analysis.times_s[:1],
        tracks={1: Track(1, track.keypoints[:1], track.boxes[:1], track.scores[:1])},
    )
    report = build_report(photo)
    assert report.steps == [] and report.gait.events == []
    assert report.angles["knee_flexion_left"][0] == pytest.approx(
        run.angles["knee_flexion_left"][0], abs=3.0
    )
    write_report_files(report, photo, tmp_path, "photo", plots=True)
    document = json.loads((tmp_path / "photo.metrics.json").read_text())
    assert document["frame_rate_hz"] is None and document["steps"] == []


def test_bad_input_is_refused_with_a_clear_error():
    analysis = as_analysis(case("treadmill_right_60fps"))
    with pytest.raises(DataError, match="human height"):
        build_report(analysis, runner_height_cm=17.0)
    with pytest.raises(DataError, match="no runner"):
        build_report(dataclasses.replace(analysis, subject_id=None))
    with pytest.raises(DataError, match="no runner"):
        build_report(analysis, track_id=42)


def _step(side: str, step_ms: float, contact_ms: float, knee: float) -> StepMetrics:
    return StepMetrics(
        side,
        0,
        0.0,
        0,
        0.0,
        step_time_ms=step_ms,
        contact_time_ms=contact_ms,
        knee_flexion_ic_deg=knee,
    )


def test_summary_statistics_flags_and_asymmetry():
    steps = [_step("left", 400.0, 320.0, 10.0), _step("right", 400.0, 280.0, 6.0)] * 3
    summary = summarize(steps)
    cadence = summary["cadence_spm"]
    assert cadence.mean == pytest.approx(150.0)  # 60000 / 400 ms
    assert cadence.flag == "low"
    assert "below the typical 160-190" in cadence.reason
    contact = summary["contact_time_ms"]
    assert contact.mean == pytest.approx(300.0) and contact.flag is None
    assert contact.left == pytest.approx(320.0) and contact.right == pytest.approx(280.0)
    assert contact.asymmetry_pct == pytest.approx(100 * 40 / 300)
    knee = summary["knee_flexion_ic_deg"]
    assert knee.flag == "low" and knee.sd == pytest.approx(np.std([10, 6] * 3, ddof=1))
    assert summary["flight_time_ms"].mean is None and summary["flight_time_ms"].n == 0
    for key, spec in METRIC_SPECS.items():
        assert spec.source, key
        assert spec.typical_range is None or spec.typical_range[0] < spec.typical_range[1]
    assert math.isclose(summary["step_time_ms"].mean, 400.0)


def test_an_asymmetry_carries_the_margin_the_steps_allow():
    """Contact 320 vs 280 ms with 5 ms of scatter is a clear difference; 300 vs 290 ms with
    40 ms of scatter is not: the same "+3 %" could come from two identical legs."""
    clear = [_step("left", 400.0, 320.0 + d, 10.0) for d in (-5, 0, 5)] + [
        _step("right", 400.0, 280.0 + d, 10.0) for d in (-5, 0, 5)
    ]
    contact = summarize(clear)["contact_time_ms"]
    se_diff = math.sqrt(2 * np.var([-5, 0, 5], ddof=1) / 3)
    assert contact.asymmetry_margin_pct == pytest.approx(100 * 2 * se_diff / 300)
    assert contact.asymmetry_is_clear
    noisy = [_step("left", 400.0, 300.0 + d, 10.0) for d in (-40, 0, 40)] + [
        _step("right", 400.0, 290.0 + d, 10.0) for d in (-40, 0, 40)
    ]
    contact = summarize(noisy)["contact_time_ms"]
    assert contact.asymmetry_pct == pytest.approx(100 * 10 / 295)
    assert contact.asymmetry_margin_pct > abs(contact.asymmetry_pct)
    assert not contact.asymmetry_is_clear
    assert json.loads(json.dumps(contact.to_dict()))["asymmetry_margin_pct"] > 3


def test_asymmetry_is_left_out_where_a_side_is_zero_within_its_scatter():
    """Hip extension of 1 +- 1 deg on the left, 3 deg on the right: the left mean is no clearer
    than zero, so no symmetry index (it read -100 %); a clear difference still gets one."""
    left, right = [1.5, -0.5, 2.0], [3.0, 3.2, 2.8]
    steps = [
        StepMetrics("left", 0, 0.0, 0, 0.0, hip_extension_to_deg=value, overstride=0.3)
        for value in left
    ] + [
        StepMetrics("right", 0, 0.0, 0, 0.0, hip_extension_to_deg=value, overstride=0.2)
        for value in right
    ]
    summary = summarize(steps)
    hip = summary["hip_extension_to_deg"]
    assert hip.asymmetry_pct is None
    assert hip.left_minus_right == pytest.approx(np.mean(left) - np.mean(right))
    assert summary["overstride"].asymmetry_pct == pytest.approx(100 * 0.1 / 0.25)
    one_step_each = summarize([steps[0], steps[3]])
    assert one_step_each["hip_extension_to_deg"].asymmetry_pct is None


def test_slow_motion_footage_without_its_factor_gets_a_hint(slow_motion_report):
    """Forgetting --slowmo makes the legs swing far too slowly to be running: no metrics are
    made up, and the note names the factor that would fit a typical stride."""
    run, _, _ = slow_motion_report
    analysis = dataclasses.replace(as_analysis(run), slowmo=1.0)
    report = build_report(analysis)
    assert report.steps == [] and report.gait.stride_s is None
    video_stride_s = 8.0 * 120.0 / run.gait.cadence_spm
    assert report.gait.slow_swing_s == pytest.approx(video_stride_s, rel=0.03)
    assert report.gait.suggested_slowmo == pytest.approx(video_stride_s / 0.7, rel=0.03)
    assert any("--slowmo" in note for note in report.notes)
