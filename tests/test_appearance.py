"""People told apart by their clothes: descriptors, the tracker's use of them, re-linking."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.appearance import (
    DESCRIPTOR_SIZE,
    Looks,
    appearance_descriptors,
    appearance_distance,
)
from app.core.tracking import Tracker, TrackSet
from tests.support.people import RED_AND_BLUE, WHITE_AND_BLACK, dressed, person, poses_of

FPS = 30.0


def scene(people: list[tuple[np.ndarray, tuple]]) -> np.ndarray:
    image = np.full((400, 600, 3), 128, np.uint8)
    for keypoints, clothes in people:
        dressed(image, keypoints, clothes)
    return image


def test_a_person_looks_like_themselves_and_not_like_someone_else():
    a, b = person(50, 50, 80, 240), person(300, 60, 90, 260)
    image = scene([(a, RED_AND_BLUE), (b, WHITE_AND_BLACK)])
    looks = appearance_descriptors(image, poses_of([a, b]), rgb=False)
    assert looks.shape == (2, DESCRIPTOR_SIZE) and np.isfinite(looks).all()
    moved = person(120, 40, 86, 250)
    again = appearance_descriptors(scene([(moved, RED_AND_BLUE)]), poses_of([moved]), rgb=False)
    distance = appearance_distance(again, looks)[0]
    assert distance[0] < 0.1  # the same clothes elsewhere and a little larger
    assert distance[1] > 0.8  # white over black is nothing like red over blue
    # The channel order is the caller's: the same picture as RGB gives the same look.
    rgb = appearance_descriptors(image[:, :, ::-1].copy(), poses_of([a, b]), rgb=True)
    np.testing.assert_allclose(rgb, looks, atol=1e-6)


def test_a_look_is_unknown_where_the_body_is_not_seen():
    a = person(50, 50, 80, 240)
    hidden = a.copy()
    hidden[[11, 12], 2] = 0.1  # both hips unsure: no torso, no thighs
    tiny = person(50, 50, 3, 10)  # a torso of a few pixels
    looks = appearance_descriptors(
        scene([(a, RED_AND_BLUE)]), poses_of([hidden, tiny, a]), rgb=False
    )
    assert np.isnan(looks[:2]).all() and np.isfinite(looks[2]).all()
    distance = appearance_distance(looks, looks)
    assert np.isnan(distance[0]).all() and distance[2, 2] == pytest.approx(0.0, abs=1e-6)


def test_looks_keep_their_mean_and_both_ends():
    first, last = np.zeros(DESCRIPTOR_SIZE), np.zeros(DESCRIPTOR_SIZE)
    first[0], last[1] = 1.0, 1.0
    looks = Looks(window=2)
    assert np.isnan(looks.mean).all() and np.isnan(looks.end).all()
    for look in (first, first, np.full(DESCRIPTOR_SIZE, np.nan), last, last):
        looks.add(look)
    np.testing.assert_allclose(looks.start, first)
    np.testing.assert_allclose(looks.end, last)
    assert looks.count == 4 and looks.mean[0] == pytest.approx(0.5)
    later = Looks(window=2)
    later.add(first)
    looks.merge(later)
    assert looks.count == 5 and looks.end[0] == pytest.approx(0.5)


def track_looks(clothes) -> np.ndarray:
    """The look of a person wearing ``clothes``, as the descriptor gives it."""
    keypoints = person(50, 50, 80, 240)
    return appearance_descriptors(scene([(keypoints, clothes)]), poses_of([keypoints]), False)[0]


RED, WHITE = track_looks(RED_AND_BLUE), track_looks(WHITE_AND_BLACK)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_of_two_people_equally_near_the_track_takes_the_one_who_looks_like_its_person(order):
    """In a pack a track's box sits between two runners: position cannot choose, clothes can."""
    tracker = Tracker()
    for t in range(5):
        tracker.update(t / FPS, poses_of([person(200 + 4 * t, 50, 80, 240)]), None, RED[None])
    # The next frame: the predicted position is x = 220; one runner 12 px behind, one ahead.
    people = [person(208, 50, 80, 240), person(232, 50, 80, 240)]
    looks = [RED, WHITE]
    ids = tracker.update(
        5 / FPS, poses_of([people[i] for i in order]), None, np.stack([looks[i] for i in order])
    )
    red = order.index(0)
    assert ids[red] == 0 and ids[1 - red] == 1


def test_someone_who_looks_different_starts_a_new_track_where_the_runner_was():
    """A runner's track must not run on into a neighbour who takes their place (race clip: the
    box of the sprinter in blue shorts drifted onto the runner in a white shirt)."""
    tracker = Tracker()
    for t in range(5):
        tracker.update(t / FPS, poses_of([person(200, 50, 80, 240)]), None, RED[None])
    same_place = poses_of([person(200, 50, 80, 240)])
    assert tracker.update(5 / FPS, same_place, None, WHITE[None])[0] == 1


def fragments(track_ids_and_looks: list[tuple[int, int, np.ndarray]]) -> dict:
    """Tracks finished from (frame, id, look) rows of one person standing still."""
    tracks = TrackSet()
    frames = 1 + max(frame for frame, _, _ in track_ids_and_looks)
    for frame, tid, look in track_ids_and_looks:
        tracks.add(frame, np.array([tid]), poses_of([person(200, 50, 80, 240)]), look[None])
    return tracks.finish(frames, np.arange(frames) / FPS)


@pytest.mark.parametrize("later, expected", [(RED, 1), (WHITE, 2)])
def test_a_fragment_is_relinked_only_to_someone_who_looks_the_same(later, expected):
    rows = [(t, 0, RED) for t in range(10)] + [(t, 1, later) for t in range(20, 30)]
    assert len(fragments(rows)) == expected


@pytest.mark.parametrize("other, expected", [(RED, 1), (WHITE, 2)])
def test_one_person_found_in_turn_by_two_ids_is_one_track(other, expected):
    """The detector's box for one runner in two shapes, taken by the tracker for two people in
    turn: one track where they look alike, two where they do not."""
    rows = [(t, t % 2, RED if t % 2 == 0 else other) for t in range(20)]
    tracks = fragments(rows)
    assert len(tracks) == expected
    if expected == 1:
        assert tracks[0].frame_count_present == 20
