"""A person found twice by a multi-person detector is kept once; two people are both kept."""

from __future__ import annotations

import numpy as np

from rhpnet.poses import FramePoses, without_duplicates
from tests.support.people import person


def _frame(people: list[np.ndarray], scores: list[float]) -> FramePoses:
    keypoints = np.stack(people).astype(np.float32)
    seen = keypoints[..., 2] > 0
    lo = np.stack([k[s, :2].min(0) for k, s in zip(keypoints, seen, strict=True)])
    hi = np.stack([k[s, :2].max(0) for k, s in zip(keypoints, seen, strict=True)])
    return FramePoses(keypoints, np.concatenate([lo, hi - lo], axis=1), np.array(scores))


def test_a_runner_found_whole_and_in_part_is_kept_once():
    """As on race_3runners_pan.mp4: a second, smaller box on the upper body of the same runner,
    its keypoints a few pixels off; the more confident pose stays."""
    whole = person(100.0, 50.0, 60.0, 180.0)
    part = whole.copy()
    part[:, :2] += 3.0
    part[11:, 2] = 0.0  # no hips and legs in the partial pose
    kept = without_duplicates(_frame([part, whole], [0.7, 0.9]))
    assert len(kept) == 1 and kept.scores[0] == 0.9


def test_people_side_by_side_or_one_behind_the_other_are_both_kept():
    front = person(100.0, 50.0, 60.0, 180.0)
    beside = person(170.0, 50.0, 60.0, 180.0)
    behind = person(130.0, 60.0, 50.0, 150.0)  # overlapping box, other keypoints
    assert len(without_duplicates(_frame([front, beside], [0.9, 0.8]))) == 2
    assert len(without_duplicates(_frame([front, behind], [0.9, 0.8]))) == 2


def test_one_or_no_pose_passes_untouched():
    single = _frame([person(0.0, 0.0, 50.0, 150.0)], [0.5])
    assert without_duplicates(single) is single
