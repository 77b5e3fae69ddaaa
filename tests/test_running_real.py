"""Running metrics on real treadmill footage (bundled BlazePose tracks).

``treadmill_side_IMG_5396.mp4`` (60 fps, 6.5 s) was counted by eye, frame by frame, on crops of
the feet: a contact is the frame where the landing foot stops moving forward over the belt.
18 initial contacts, at frames 5, 27, 48, 70, 92, 113, 135, 157, 179, 201, 222, 244, 266, 288,
310, 331, 349 and 371 (+-2 frames): 17 steps in 366 frames, 167 steps/min.

``treadmill_side_slow.mp4`` is slow-motion footage whose capture rate its source does not give.
Analysed at ``slowmo=8`` (240 fps played at 30): its swing phase (stride minus contact) then
lasts about 0.44 s, close to the 0.35-0.45 s swing times measured in runners across speeds
(Weyand et al. 2000); with 10 it would be 0.35 s, a sprinter's, at a jog; with 6, 0.59 s.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from app.core.running_report import build_report

pytestmark = pytest.mark.slow

BY_EYE_CONTACTS = np.array(
    [5, 27, 48, 70, 92, 113, 135, 157, 179, 201, 222, 244, 266, 288, 310, 331, 349, 371]
)
BY_EYE_CADENCE_SPM = 60.0 * 60.0 * (len(BY_EYE_CONTACTS) - 1) / (371 - 5)
SLOW_CLIP_SLOWMO = 8.0

# Physiologically plausible (not "typical") bounds for any runner filmed from the side.
PLAUSIBLE = {
    "cadence_spm": (120.0, 220.0),
    "contact_time_ms": (120.0, 500.0),
    "flight_time_ms": (-60.0, 250.0),
    "duty_factor": (0.15, 0.6),
    "knee_flexion_ic_deg": (0.0, 60.0),
    "peak_knee_flexion_stance_deg": (20.0, 90.0),
    "hip_extension_to_deg": (-10.0, 45.0),
    "trunk_lean_deg": (-15.0, 30.0),
    "overstride": (-0.2, 0.7),
    "vertical_oscillation": (0.01, 0.2),
}


@pytest.fixture(scope="module")
def treadmill_report(analysed_clip):
    return build_report(analysed_clip("treadmill_side_IMG_5396.mp4"))


@pytest.fixture(scope="module")
def slow_report(analysed_clip):
    analysis = analysed_clip("treadmill_side_slow.mp4")
    return build_report(dataclasses.replace(analysis, slowmo=SLOW_CLIP_SLOWMO))


def _assert_plausible(report):
    for key, (low, high) in PLAUSIBLE.items():
        mean = report.summary[key].mean
        assert mean is not None and low <= mean <= high, (key, mean)


def test_treadmill_contacts_match_the_count_by_eye(treadmill_report):
    contacts = np.array(sorted(e.frame for e in treadmill_report.gait.events if e.kind == "IC"))
    assert len(contacts) == len(BY_EYE_CONTACTS) == 18
    offsets = np.array([np.min(np.abs(contacts - frame)) for frame in BY_EYE_CONTACTS])
    assert (offsets <= 3).all(), offsets
    sides = [
        e.side
        for e in sorted(treadmill_report.gait.events, key=lambda e: e.time_s)
        if e.kind == "IC"
    ]
    assert all(a != b for a, b in zip(sides, sides[1:], strict=False))  # feet alternate


def test_treadmill_metrics_are_plausible(treadmill_report):
    cadence = treadmill_report.summary["cadence_spm"].mean
    assert cadence == pytest.approx(BY_EYE_CADENCE_SPM, rel=0.02)
    assert treadmill_report.summary["contact_time_ms"].n >= 15
    assert (treadmill_report.facing == 1).all()  # the runner faces the console, image right
    _assert_plausible(treadmill_report)


def test_slow_motion_treadmill_metrics_are_plausible(slow_report):
    assert slow_report.cleaned.sample_rate_hz == pytest.approx(8 * 29.97, rel=0.01)
    assert slow_report.summary["cadence_spm"].n >= 4
    _assert_plausible(slow_report)
