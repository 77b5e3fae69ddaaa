"""Ground contact from the heel and toe points (app/core/foot_contact.py, docs/gait_events.md).

The synthetic feet below run on a treadmill with known contacts: in stance heel and toe sit on
the belt and move back at belt speed; at toe-off the toe leaves the belt (stops, then swings
forward and up); in swing the foot travels forward, reaches its most forward position at the
instant of initial contact and comes down onto the belt there, which takes it up to its speed
within 30 ms (as on the counted clips).
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
from scipy.interpolate import CubicHermiteSpline

from app.core.foot_contact import (
    ContactEvent,
    FootPoints,
    _crossing,
    _own_edge,
    detect_foot_contacts,
    feet_from_keypoints,
)
from app.core.gait import ANKLE_PELVIS, CALIBRATED, FEET, GaitEvent, combine_events
from rhpnet.skeleton import COCO_KEYPOINT_NAMES, POSE_KEYPOINT_NAMES, as_pose_layout

STRIDE_S = 0.7
CONTACT_S = 0.25
BELT_MPS = 3.0
PX_PER_M = 400.0
FOOT_PX = 0.27 * PX_PER_M
GROUND_Y = 900.0
SWING_LIFT_PX = 60.0
LANDING_RAMP_S = 0.03  # as seen on the counted clips: 2 frames at 60 fps, 8 at 240 fps


def _foot(times: np.ndarray, first_ic: float, noise_px: float, rng) -> tuple[FootPoints, list]:
    """One foot's heel, toe and ankle, and its true (IC, TO) times."""
    belt = BELT_MPS * PX_PER_M  # px/s, backwards (image -x; the runner faces +x)
    heel = np.zeros((len(times), 2))
    contacts = []
    ic = first_ic - STRIDE_S
    while ic < times[-1] + STRIDE_S:
        to = ic + CONTACT_S
        contacts.append((ic, to))
        ic += STRIDE_S
    x_ic = 700.0
    x_to = x_ic - belt * (CONTACT_S - LANDING_RAMP_S / 2)
    swing = CubicHermiteSpline([0.0, STRIDE_S - CONTACT_S], [x_to, x_ic], [0.0, 0.0])
    for i, t in enumerate(times):
        phase = (t - first_ic) % STRIDE_S
        if phase < CONTACT_S:
            # The belt takes the landed foot up to its speed within LANDING_RAMP_S.
            carried = (
                phase**2 / (2 * LANDING_RAMP_S)
                if phase < LANDING_RAMP_S
                else (phase - LANDING_RAMP_S / 2)
            )
            heel[i] = (x_ic - belt * carried, GROUND_Y)
        else:
            s = (phase - CONTACT_S) / (STRIDE_S - CONTACT_S)
            heel[i] = (
                float(swing(phase - CONTACT_S)),
                GROUND_Y - SWING_LIFT_PX * np.sin(np.pi * s),
            )
    toe = heel + np.array([FOOT_PX, 0.0])
    ankle = heel + np.array([0.2 * FOOT_PX, -0.3 * FOOT_PX])
    heel = heel + rng.normal(0.0, noise_px, heel.shape)
    toe = toe + rng.normal(0.0, noise_px, toe.shape)
    score = np.full(len(times), 0.95)
    truth = [(a, b) for a, b in contacts if times[0] < a and b < times[-1]]
    return FootPoints(heel, toe, score, score.copy(), ankle), truth


def _treadmill(fps: float, noise_px: float = 0.5, seconds: float = 3.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    times = np.arange(int(seconds * fps)) / fps
    left, left_truth = _foot(times, 0.1, noise_px, rng)
    right, right_truth = _foot(times, 0.1 + STRIDE_S / 2, noise_px, rng)
    return times, {"left": left, "right": right}, {"left": left_truth, "right": right_truth}


def _errors_frames(contacts, truth, times, fps):
    """Signed errors (frames) of the found IC and TO positions against the true times."""
    errors = {"IC": [], "TO": []}
    for side, pairs in truth.items():
        for kind, column in (("IC", 0), ("TO", 1)):
            found = np.array(
                [e.position for e in contacts.events if e.side == side and e.kind == kind]
            )
            for pair in pairs:
                true_position = pair[column] * fps
                assert found.size, (side, kind)
                nearest = found[np.argmin(np.abs(found - true_position))]
                errors[kind].append(nearest - true_position)
    return {kind: np.array(values) for kind, values in errors.items()}


# Mean |error| allowed (frames). At 240 fps the first 30 ms on the belt move the foot back by
# less than the landmark's jitter for about 2 frames: IC can be seen no sooner (10 ms).
@pytest.mark.parametrize(("fps", "ic_frames", "to_frames"), [(60.0, 0.5, 0.5), (240.0, 2.5, 1.5)])
def test_treadmill_contacts_are_timed_to_the_frame(fps, ic_frames, to_frames):
    times, feet, truth = _treadmill(fps)
    contacts = detect_foot_contacts(feet, times, np.ones(len(times)), (1920, 1080))
    errors = _errors_frames(contacts, truth, times, fps)
    for kind, allowed in (("IC", ic_frames), ("TO", to_frames)):
        assert np.abs(errors[kind]).mean() <= allowed, (kind, errors[kind])
        assert np.abs(errors[kind]).max() <= allowed + 0.5, (kind, errors[kind])
    # One IC and one TO per contact, no more.
    for side, pairs in truth.items():
        inside = [e for e in contacts.events if e.side == side and 0.2 < e.time_s < times[-1] - 0.2]
        assert len(inside) <= 2 * len(pairs) + 2
    # Frames follow the counting rule: the first frame in contact, the last one.
    for event in contacts.events:
        if event.kind == "IC":
            assert event.frame == int(np.ceil(event.position))
        else:
            assert event.frame == int(np.floor(event.position))


def test_a_landing_seen_to_recede_is_timed_though_a_later_frame_is_unseen():
    """At 240 fps the far foot's points drop out now and then as the near leg passes; a frame
    unseen after the foot has been seen receding must not send IC to the belt-speed line, which
    lies late while the belt is still taking the foot up to its speed."""
    fps = 240.0
    times, feet, truth = _treadmill(fps)
    for side, pairs in truth.items():
        for ic, _ in pairs:
            unseen = int(np.ceil(ic * fps)) + 12
            feet[side].heel[unseen] = feet[side].toe[unseen] = np.nan
    contacts = detect_foot_contacts(feet, times, np.ones(len(times)), (1920, 1080))
    errors = _errors_frames(contacts, truth, times, fps)["IC"]
    assert np.abs(errors).mean() <= 2.5 and np.abs(errors).max() <= 3.0, errors


def test_a_dip_of_jitter_below_the_landing_level_is_not_the_landing():
    """The toe of a 26 px foot jitters by 2 px: the foot has receded once it stays behind."""
    assert _crossing(np.array([5.0, 4.4, 5.0, 4.0, 3.0]), 4.5) == pytest.approx(2.5)
    assert _crossing(np.array([5.0, 4.0, 5.0]), 4.5) is None  # back up at the end: not yet
    assert _crossing(np.array([4.0, 3.0]), 4.5) is None  # below from the start: no crossing


def test_ground_line_is_the_belt():
    times, feet, _ = _treadmill(60.0, noise_px=0.0)
    contacts = detect_foot_contacts(feet, times, np.ones(len(times)))
    intercept, slope = contacts.ground
    assert intercept == pytest.approx(GROUND_Y, abs=1.0)
    assert slope == pytest.approx(0.0, abs=0.01)
    assert contacts.foot_length_px == pytest.approx(FOOT_PX, rel=0.01)


def test_hidden_foot_gives_no_event_but_says_why():
    times, feet, truth = _treadmill(60.0)
    ic = truth["right"][1][0]
    hidden = np.abs(times - ic) < 0.1  # the landing foot behind a rail
    right = feet["right"]
    low = np.where(hidden, 0.1, right.heel_score)
    feet["right"] = FootPoints(right.heel, right.toe, low, low.copy(), right.ankle)
    contacts = detect_foot_contacts(feet, times, np.ones(len(times)))
    near = [
        e
        for e in contacts.events
        if e.side == "right" and e.kind == "IC" and abs(e.time_s - ic) < 0.15
    ]
    assert near == []
    assert any(
        u.side == "right" and u.kind == "IC" and "unseen" in u.reason for u in contacts.unfound
    )


def test_feet_cut_by_the_image_border_are_not_used():
    times, feet, _ = _treadmill(60.0)
    # An image just high enough that the belt (y = 900) is at its bottom edge.
    contacts = detect_foot_contacts(feet, times, np.ones(len(times)), (1920, 901))
    assert contacts.events == []


def test_a_17_point_track_has_no_feet():
    assert feet_from_keypoints(np.zeros((5, 17, 3)), COCO_KEYPOINT_NAMES) is None
    names = POSE_KEYPOINT_NAMES
    padded = as_pose_layout(np.zeros((5, 17, 3)))  # the pose layout of a 17-joint model
    assert feet_from_keypoints(padded, names) is None
    keypoints = np.random.default_rng(0).normal(size=(5, 21, 3))
    feet = feet_from_keypoints(keypoints, names)
    assert feet is not None
    np.testing.assert_array_equal(feet["right"].toe, keypoints[:, 20, :2])
    np.testing.assert_array_equal(feet["left"].heel_score, keypoints[:, 17, 2])
    np.testing.assert_array_equal(feet["left"].ankle, keypoints[:, 15, :2])


def test_feet_replace_the_ankle_events_and_the_rest_falls_back():
    times, feet, truth = _treadmill(60.0)
    contacts = detect_foot_contacts(feet, times, np.ones(len(times)))
    found_ic = next(e for e in contacts.events if e.side == "left" and e.kind == "IC")
    fallback = [
        # the ankle-pelvis guess of the same contact, 4 frames early
        GaitEvent("left", "IC", found_ic.frame - 4, found_ic.time_s - 4 / 60, "ankle_vertical"),
        # one the feet did not see (nothing of theirs near it)
        GaitEvent("left", "TO", 999, 50.0, "knee_extension"),
    ]
    combined, _ = combine_events(fallback, contacts, STRIDE_S, times)
    by_time = {round(e.time_s, 6): e for e in combined}
    assert by_time[round(found_ic.time_s, 6)].method == FEET
    assert by_time[50.0].method == ANKLE_PELVIS
    # The foot events with no ankle-pelvis candidate are kept, once each.
    lefts = [e for e in combined if e.side == "left" and e.kind == "IC"]
    assert len(lefts) == len({round(e.time_s, 3) for e in lefts})


def test_an_ankle_event_the_feet_missed_is_moved_by_the_clips_own_offset():
    """docs/gait_events.md, Fallback: the feet-timed contacts show how early the ankle-pelvis
    candidates are on this clip; a candidate the feet could not time is moved by as much."""
    times, feet, _ = _treadmill(60.0)
    contacts = detect_foot_contacts(feet, times, np.ones(len(times)))
    timed = [e for e in contacts.events if e.side == "left" and e.kind == "IC"]
    assert len(timed) >= 4
    # Ankle-pelvis candidates 4 frames early at every contact the feet timed but the last, whose
    # feet are taken away: its candidate must come out on time.
    fallback = [
        GaitEvent("left", "IC", e.frame - 4, e.time_s - 4 / 60, "ankle_vertical") for e in timed
    ]
    hidden = timed[-1]
    contacts.events = [e for e in contacts.events if e is not hidden]
    combined, _ = combine_events(fallback, contacts, STRIDE_S, times)
    moved = next(e for e in combined if e.method == ANKLE_PELVIS)
    assert moved.cue == "ankle_vertical" + CALIBRATED
    assert moved.time_s == pytest.approx(hidden.time_s, abs=1e-9)
    assert abs(moved.frame - hidden.time_s * 60) <= 0.5
    # With too few contacts to show the offset, a candidate stays where it was found.
    contacts.events = [e for e in contacts.events if e.kind != "IC"]
    combined, _ = combine_events(fallback[:2], contacts, STRIDE_S, times)
    assert [e.cue for e in combined if e.kind == "IC"] == ["ankle_vertical"] * 2
    assert [e.time_s for e in combined if e.kind == "IC"] == [e.time_s for e in fallback[:2]]


def test_a_contact_under_way_when_the_clip_starts_has_no_landing_to_miss():
    """The clip opens four frames before a toe-off: that contact's landing (before the clip)
    is neither invented nor reported missing, and no other contact's landing is used for it."""
    times, feet, truth = _treadmill(60.0)
    _, toe_off = truth["left"][0]
    first = int(np.floor(toe_off * 60)) - 4
    cut = {
        side: FootPoints(*(np.asarray(getattr(foot, f.name))[first:] for f in fields(foot)))
        for side, foot in feet.items()
    }
    contacts = detect_foot_contacts(cut, times[first:], np.ones(len(times) - first))
    assert not [u for u in contacts.unfound if u.kind == "IC" and u.near_frame < 10]
    next_landing = truth["left"][1][0] * 60 - first
    first_ic = min(e.position for e in contacts.events if e.side == "left" and e.kind == "IC")
    assert first_ic == pytest.approx(next_landing, abs=1.0)


def test_a_toe_unseen_for_a_frame_before_toe_off_does_not_bring_toe_off_forward():
    """The toe's release speed is taken over 80 ms; a frame the toe is unseen in must not cut
    that window short: a speed fitted up to the edge of what is seen runs off the toe's curve
    (here toe-off came 1.5 frames early; the slow clip's frame-116 toe-off 8 frames early)."""
    fps = 240.0
    times, feet, truth = _treadmill(fps)
    for side, pairs in truth.items():
        for _, to in pairs:
            feet[side].toe[int(round(to * fps)) - 2] = np.nan
    contacts = detect_foot_contacts(feet, times, np.ones(len(times)), (1920, 1080))
    errors = _errors_frames(contacts, truth, times, fps)["TO"]
    assert np.abs(errors).mean() <= 1.5 and np.abs(errors).max() <= 2.0, errors


def test_of_a_contact_seen_as_two_low_phases_each_edge_comes_from_its_own_phase():
    """Mid-stance a foot's height or speed can stray for a few frames, and one contact shows
    as two low phases (the slow clip's frames 739-759 and 772-829). The walk from each runs on
    through the other: the first phase's toe-off walk ends at the second phase's toe-off, timed
    with the first phase's ground speed (3 frames early there), and the second's landing walk
    goes back to the first's landing. Each edge is taken from the phase it belongs to, where
    that phase timed one; a phase's edges are kept where its neighbour has none."""
    runs = [(739, 759), (772, 829)]

    def event(kind: str, position: float) -> ContactEvent:
        return ContactEvent("right", kind, position, int(position), position / 240.0, "")

    first = [event("IC", 734.5), event("TO", 830.1)]
    second = [event("IC", 734.5), event("TO", 833.7)]
    found = [first, second]
    kept = [[e for e in phase if _own_edge(e, runs, found, n)] for n, phase in enumerate(found)]
    assert kept == [[first[0]], [second[1]]]
    alone = [first, [second[1]]]  # the second phase could not time its landing
    assert [e for e in first if _own_edge(e, runs, alone, 0)] == [first[0]]
    lone = [[first[0]], [second[1]]]
    assert _own_edge(first[0], runs, lone, 0) and _own_edge(second[1], runs, lone, 1)
    assert _own_edge(event("TO", 830.1), runs, [[], []], 0)  # no toe-off of the second's own
