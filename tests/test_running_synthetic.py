"""The whole report pipeline against synthetic runners with known gait (tests/synthetic_runner).

Cases: treadmill and overground, facing left and right, 30, 60 and 240 fps (8x slow motion),
clean and corrupted (noise, low-confidence junk, glitches, left/right swaps of legs and arms).
``python -m tests.synthetic_runner`` prints the same numbers as a table.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.core.metrics import LEG_LENGTH_PER_HEIGHT
from app.core.running_report import build_report
from tests.synthetic_runner import CASES, CaseErrors, as_analysis, case, evaluate

ONE_FRAME_AT_60_FPS_S = 1.0 / 60.0


@pytest.fixture(scope="module")
def results() -> dict[str, CaseErrors]:
    return {name: evaluate(case(name), name) for name in CASES}


@pytest.mark.parametrize("name", list(CASES))
def test_cadence_within_one_percent(results, name):
    assert abs(results[name].cadence_pct) < 1.0


@pytest.mark.parametrize("name", list(CASES))
def test_events_within_one_frame_at_60_fps(results, name):
    r = results[name]
    frames_allowed = max(1, int(np.floor(ONE_FRAME_AT_60_FPS_S * r.fps + 1e-9)))
    assert r.ic_frames.size >= 6 and r.to_frames.size >= 6
    assert np.abs(r.ic_frames).max() <= frames_allowed
    assert np.abs(r.to_frames).max() <= frames_allowed
    assert r.missed_events <= 1  # at most one event next to a clip end
    assert r.extra_events <= 1


@pytest.mark.parametrize("name", list(CASES))
def test_angle_curves_within_one_degree(results, name):
    for angle, error in results[name].angle_mae_deg.items():
        assert error < 1.0, angle


@pytest.mark.parametrize("name", list(CASES))
def test_metrics_match_the_true_gait(results, name):
    e = results[name].metric_errors
    assert abs(e["peak_knee_flexion_stance_deg"]) < 1.0
    assert abs(e["hip_extension_to_deg"]) < 1.0
    assert abs(e["trunk_lean_deg"]) < 1.0
    # Read at a corner of the knee curve: a contact found 10 ms early costs up to 2 deg.
    assert abs(e["knee_flexion_ic_deg"]) < 2.5
    assert abs(e["contact_time_ms"]) < 1000 * ONE_FRAME_AT_60_FPS_S
    assert abs(e["flight_time_ms"]) < 1000 * ONE_FRAME_AT_60_FPS_S
    assert abs(e["duty_factor"]) < 0.02
    assert abs(e["overstride"]) < 0.03  # leg lengths
    assert abs(e["vertical_oscillation"]) < 0.01  # leg lengths (about 9 mm)


def test_vertical_oscillation_in_cm_from_the_runner_height():
    run = case("treadmill_right_60fps")
    plain = build_report(as_analysis(run))
    report = build_report(as_analysis(run), runner_height_cm=175.0)
    summary = report.summary["vertical_oscillation"]
    assert summary.unit == "cm"
    expected_cm = plain.summary["vertical_oscillation"].mean * LEG_LENGTH_PER_HEIGHT * 175.0
    assert summary.mean == pytest.approx(expected_cm)
    true_cm = 100 * run.vertical_oscillation_leg * run.gait.leg_m
    assert summary.mean == pytest.approx(true_cm, abs=1.0)


def test_asymmetry_follows_the_runner():
    """Symmetric timing gives near-zero asymmetry; the synthetic hips sit 2 cm apart, so the
    left foot lands 2 cm closer to the mid-hip than the right: a true overstride asymmetry."""
    run = case("treadmill_right_60fps")
    report = build_report(as_analysis(run))
    for key in ("cadence_spm", "contact_time_ms", "knee_flexion_ic_deg"):
        assert abs(report.asymmetry[key]) < 5.0, key
    left, right = run.overstride_leg["left"], run.overstride_leg["right"]
    expected = 100.0 * (left - right) / (0.5 * (left + right))
    assert report.asymmetry["overstride"] == pytest.approx(expected, abs=3.0)
