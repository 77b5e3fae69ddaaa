"""The whole report pipeline against synthetic runners with known gait (tests/support/synthetic_runner).

Cases: treadmill and overground, facing left and right, 30, 60 and 240 fps (8x slow motion),
clean and corrupted (noise, low-confidence junk, glitches, left/right swaps of legs and arms).
``python -m tests.support.synthetic_runner`` prints the same numbers as a table.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.core.metrics import LEG_LENGTH_PER_HEIGHT
from app.core.running_report import build_report
from tests.support.synthetic_runner import (
    CASES,
    CaseErrors,
    GaitParameters,
    Recording,
    as_analysis,
    case,
    evaluate,
    generate_run,
)

SIDE_NAMES = ("left", "right")

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
    left foot lands 2 cm closer to the mid-hip than the right: a true overstride asymmetry.
    This runner has no feet, so its contacts are timed from the ankles: contact times are graded
    poor and make no asymmetry."""
    run = case("treadmill_right_60fps")
    report = build_report(as_analysis(run))
    for key in ("cadence_spm", "knee_flexion_ic_deg"):
        assert abs(report.asymmetry[key]) < 5.0, key
    assert report.asymmetry["contact_time_ms"] is None
    assert report.summary["contact_time_ms"].reliability["left"]["level"] == "poor"
    left, right = run.overstride_leg["left"], run.overstride_leg["right"]
    expected = 100.0 * (left - right) / (0.5 * (left + right))
    assert report.asymmetry["overstride"] == pytest.approx(expected, abs=3.0)


STRIKES = [(15.0, "rearfoot"), (3.0, "midfoot"), (-8.0, "forefoot")]
# (recording, strike angle tolerance in degrees, share of steps whose pattern must be right)
FILMING = {
    "treadmill_right": (Recording(seed=1), 1.0, 1.0),
    "overground_left_noisy": (
        Recording(facing=-1, treadmill=False, duration_s=3.0, noise_px=1.5, seed=4),
        4.0,
        0.75,
    ),
}


@pytest.mark.parametrize(("strike_deg", "pattern"), STRIKES)
@pytest.mark.parametrize("filming", list(FILMING))
def test_foot_strike_pattern_of_every_step(strike_deg, pattern, filming):
    """Heel and toe points landing toe-up, flat or toe-down (Altman & Davis' three patterns):
    the strike angle is measured to within a degree on the treadmill and every step is named
    right; overground, with 1.5 px noise on a 42 px foot (about 3 deg of angle noise per step),
    within 4 deg and three steps in four."""
    recording, tolerance_deg, share = FILMING[filming]
    run = generate_run(GaitParameters(strike_angle_deg=strike_deg), recording)
    report = build_report(as_analysis(run))
    counts = report.strike_patterns
    named = [n for side in counts.values() for n in side.values()]
    right = sum(side.get(pattern, 0) for side in counts.values())
    assert sum(named) >= 6 and right >= share * sum(named), counts
    assert report.summary["foot_strike_angle_deg"].mean == pytest.approx(
        strike_deg, abs=tolerance_deg
    )
    assert report.strike_text.startswith(f"lands {pattern} (")


def test_ankle_dorsiflexion_at_contact_follows_the_strike():
    run = generate_run(GaitParameters(strike_angle_deg=15.0), Recording(seed=1))
    report = build_report(as_analysis(run))
    truth = np.mean(
        [
            run.angles[f"ankle_dorsiflexion_{side}"][f]
            for side in SIDE_NAMES
            for f in run.event_frames(side, "ic")
        ]
    )
    assert report.summary["ankle_dorsiflexion_ic_deg"].mean == pytest.approx(truth, abs=3.0)


def test_a_model_without_feet_gives_no_strike_pattern(results):
    report = build_report(as_analysis(case("treadmill_right_60fps")))
    assert report.strike_text == "" and report.summary["foot_strike_angle_deg"].mean is None
