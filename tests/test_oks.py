"""The one OKS of the code base: its terms follow the COCO definition."""

from __future__ import annotations

import numpy as np

from rhpnet.evaluation.oks_nms import oks_between
from rhpnet.oks import keypoint_similarity
from rhpnet.skeleton import COCO_OKS_SIGMAS


def test_terms_follow_the_coco_formula_and_missing_points_stay_nan():
    pose = np.zeros((17, 3))
    moved = pose.copy()
    moved[:, 0] = 10.0
    area = 4000.0
    expected = np.exp(-100.0 / (2 * area * (2 * np.asarray(COCO_OKS_SIGMAS)) ** 2))
    np.testing.assert_allclose(keypoint_similarity(pose, moved, area), expected)
    assert (keypoint_similarity(pose, pose, area) == 1.0).all()
    moved[3] = np.nan
    terms = keypoint_similarity(pose, moved, area)
    assert np.isnan(terms[3]) and np.isfinite(np.delete(terms, 3)).all()


def test_oks_nms_similarity_is_the_mean_term_at_the_mean_area():
    rng = np.random.default_rng(1)
    reference = rng.uniform(0, 200, (17, 3))
    others = reference + rng.normal(0, 5, (3, 17, 3))
    areas = np.array([3000.0, 5000.0, 8000.0])
    expected = [
        keypoint_similarity(reference, other, (4000.0 + area) / 2).mean()
        for other, area in zip(others, areas, strict=True)
    ]
    np.testing.assert_allclose(oks_between(reference, others, 4000.0, areas), expected)
