"""COCO keypoint evaluation: loading (strict on files, forgiving of annotations) and OKS AP/AR."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from rhpnet.datasets.coco_format import load_coco_keypoints
from rhpnet.errors import DataError
from rhpnet.evaluation.coco import (
    METRIC_NAMES,
    KeypointPrediction,
    coco_results,
    evaluate_keypoints,
    instance_score,
)
from rhpnet.evaluation.gt_boxes import evaluate_on_ground_truth_boxes
from rhpnet.skeleton import COCO_KEYPOINT_NAMES, COCO_OKS_SIGMAS

WIDTH, HEIGHT = 200, 300


def _person(ann_id: int, image_id: int, x0: float = 40.0) -> dict:
    """A standing person with all 17 keypoints labelled, box 100 x 200 at (x0, 50)."""
    rng = np.random.default_rng(ann_id)
    xs = x0 + 10 + rng.uniform(0, 80, 17)
    ys = 60 + np.linspace(0, 180, 17)
    keypoints = np.stack([xs, ys, np.full(17, 2.0)], axis=1).round(2)
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": 1,
        "bbox": [x0, 50.0, 100.0, 200.0],
        "area": 10000.0,
        "iscrowd": 0,
        "keypoints": keypoints.reshape(-1).tolist(),
        "num_keypoints": 17,
    }


def _write_set(root: Path, annotations: list, images: list | None = None) -> Path:
    """A COCO-format set on disk with one tiny PNG per image entry."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    if images is None:
        images = [
            {"id": i, "file_name": f"im{i}.png", "width": WIDTH, "height": HEIGHT} for i in (1, 2)
        ]
    for image in images:
        if isinstance(image, dict) and isinstance(image.get("file_name"), str):
            cv2.imwrite(
                str(root / "images" / image["file_name"]), np.zeros((HEIGHT, WIDTH, 3), np.uint8)
            )
    categories = [{"id": 1, "name": "person", "keypoints": list(COCO_KEYPOINT_NAMES)}]
    data = {"images": images, "annotations": annotations, "categories": categories}
    (root / "annotations.json").write_text(json.dumps(data))
    return root


def _ground_truth_predictions(dataset, score: float = 1.0) -> list[KeypointPrediction]:
    predictions = []
    for instance in dataset.instances:
        if instance.is_scored:
            keypoints = instance.keypoints.copy()
            keypoints[:, 2] = score
            predictions.append(KeypointPrediction(instance.image_id, keypoints))
    return predictions


def _shift_for_oks(instance, target: float) -> np.ndarray:
    """Keypoints moved right so that every per-keypoint OKS term, hence the OKS, is ``target``."""
    kappa = 2 * np.asarray(COCO_OKS_SIGMAS)
    distance = kappa * math.sqrt(instance.area) * math.sqrt(-2 * math.log(target))
    keypoints = instance.keypoints.copy()
    keypoints[:, 0] += distance
    keypoints[:, 2] = 1.0
    return keypoints


def test_ground_truth_as_predictions_scores_one_on_real_set(sportpose_dir):
    dataset = load_coco_keypoints(sportpose_dir)
    metrics = evaluate_keypoints(dataset, coco_results(_ground_truth_predictions(dataset)))
    assert metrics["num_instances"] == 62 and metrics["num_images"] == 41
    for name in ("AP", "AP50", "AP75", "AP_M", "AP_L", "AR", "AR50", "AR75", "AR_M", "AR_L"):
        assert metrics[name] == pytest.approx(1.0)
    assert min(metrics["oks_per_instance"].values()) == pytest.approx(1.0)


def test_uniform_shift_gives_the_predicted_oks_and_ap(tmp_path):
    dataset = load_coco_keypoints(_write_set(tmp_path, [_person(1, 1), _person(2, 2)]))
    predictions = [
        KeypointPrediction(i.image_id, _shift_for_oks(i, 0.72)) for i in dataset.instances
    ]
    metrics = evaluate_keypoints(dataset, coco_results(predictions))
    assert list(metrics["oks_per_instance"].values()) == [pytest.approx(0.72, abs=1e-4)] * 2
    # OKS 0.72 passes the thresholds 0.50 ... 0.70 (5 of 10) and fails 0.75 ... 0.95.
    assert metrics["AP50"] == pytest.approx(1.0)
    assert metrics["AP75"] == pytest.approx(0.0)
    assert metrics["AP"] == pytest.approx(0.5)
    assert metrics["AR"] == pytest.approx(0.5)
    assert metrics["AP_M"] is None and metrics["AP_L"] == pytest.approx(0.5)  # area 100² > 96²


@pytest.mark.parametrize("good_first", [True, False])
def test_ranking_by_instance_score_sets_ap(tmp_path, good_first):
    """One exact and one OKS-0.62 person: AP depends on which one the scores rank first."""
    dataset = load_coco_keypoints(_write_set(tmp_path, [_person(1, 1), _person(2, 2)]))
    exact, shifted = dataset.instances
    good = exact.keypoints.copy()
    good[:, 2] = 0.9 if good_first else 0.5
    poor = _shift_for_oks(shifted, 0.62)
    poor[:, 2] = 0.5 if good_first else 0.9
    predictions = [KeypointPrediction(1, good), KeypointPrediction(2, poor)]
    metrics = evaluate_keypoints(dataset, coco_results(predictions))
    # Thresholds 0.50-0.60 match both (AP 1); at the other 7 only the exact one is right: with it
    # ranked first, precision is 1 up to recall 0.5 (51 of 101 recall points), else 1/2 there.
    high_thresholds = 51 / 101 if good_first else 0.5 * 51 / 101
    assert metrics["AP"] == pytest.approx((3 + 7 * high_thresholds) / 10)
    assert metrics["AP50"] == pytest.approx(1.0)


def test_instance_score_is_box_score_times_mean_of_confident_keypoints():
    keypoints = np.zeros((17, 3))
    keypoints[:, 2] = 0.1
    keypoints[:4, 2] = [0.5, 0.7, 0.9, 0.3]
    assert instance_score(keypoints, box_score=0.5) == pytest.approx(0.5 * 0.6)
    assert instance_score(keypoints, box_score=0.5, rescore=False) == 0.5
    keypoints[:, 2] = 0.2
    assert instance_score(keypoints) == 0.0


def test_image_ids_restrict_the_evaluation_and_no_results_score_zero(tmp_path):
    dataset = load_coco_keypoints(_write_set(tmp_path, [_person(1, 1), _person(2, 2)]))
    predictions = _ground_truth_predictions(dataset)
    only_first = evaluate_keypoints(dataset, coco_results(predictions[:1]), image_ids=[1])
    assert only_first["AP"] == pytest.approx(1.0) and only_first["num_instances"] == 1
    nothing = evaluate_keypoints(dataset, [])
    assert nothing["AP"] == 0.0 and nothing["oks_per_instance"] == {1: 0.0, 2: 0.0}
    assert set(METRIC_NAMES) <= set(nothing)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a COCO object"),
        ('{"images": []}', "'annotations'"),
        (
            '{"images": [], "annotations": [], "categories": [{"id": 1, "keypoints": ["a"]}]}',
            "1 keypoint names",
        ),
        ('{"images": [], "annotations": []}', "no usable person"),
    ],
)
def test_malformed_annotation_files_raise_data_error(tmp_path, content, message):
    (tmp_path / "images").mkdir()
    (tmp_path / "annotations.json").write_text(content)
    with pytest.raises(DataError, match=message):
        load_coco_keypoints(tmp_path)


def test_missing_set_raises_data_error(tmp_path):
    with pytest.raises(DataError, match="no annotations.json"):
        load_coco_keypoints(tmp_path)
    with pytest.raises(DataError, match="not a COCO-format set"):
        load_coco_keypoints(tmp_path / "video.mp4")


def test_malformed_annotations_are_skipped_and_counted(tmp_path):
    def broken(ann_id: int, **changes) -> dict:
        return {**_person(ann_id, 1), **changes}

    no_keypoints = _person(3, 1)
    del no_keypoints["keypoints"]
    outside = _person(6, 1)
    outside["keypoints"][0] = WIDTH + 50.0
    annotations = [
        _person(1, 1),
        _person(2, 2),
        no_keypoints,
        broken(4, bbox=[10, 10, 0, 50]),
        broken(5, bbox=[10, 10, "wide", 50]),
        outside,
        broken(7, keypoints=[1.0] * 50),
        broken(8, keypoints=[10.0, 10.0, 5] * 17),
        broken(9, image_id=99),
        _person(1, 2),
        "not an annotation",
        broken(10, category_id=3),
    ]
    images = [
        {"id": 1, "file_name": "im1.png", "width": WIDTH, "height": HEIGHT},
        {"id": 2, "file_name": "im2.png", "width": WIDTH, "height": HEIGHT},
        {"id": 3, "file_name": "gone.png", "width": WIDTH, "height": HEIGHT},
        {"id": 4},
    ]
    root = _write_set(tmp_path, annotations, images)
    (root / "images" / "gone.png").unlink()
    dataset = load_coco_keypoints(root)
    assert [i.id for i in dataset.instances] == [1, 2]
    assert dataset.skipped.counts == {
        "annotations missing fields": 2,
        "annotations with zero-area boxes": 1,
        "annotations with invalid boxes": 1,
        "annotations with keypoints outside the image": 1,
        "annotations with invalid keypoints": 2,
        "annotations of unknown or unusable images": 1,
        "annotations with duplicate or invalid ids": 1,
        "annotations of other categories": 1,
        "missing image files": 1,
        "malformed image entries": 1,
    }
    metrics = evaluate_keypoints(dataset, coco_results(_ground_truth_predictions(dataset)))
    assert metrics["AP"] == pytest.approx(1.0)


def test_missing_area_and_unlabelled_people_follow_coco(tmp_path):
    no_area = _person(1, 1)
    del no_area["area"]
    unlabelled = _person(2, 2)
    unlabelled["keypoints"] = [0.0] * 51
    dataset = load_coco_keypoints(_write_set(tmp_path, [no_area, unlabelled]))
    assert dataset.instances[0].area == pytest.approx(0.53 * 100 * 200)
    assert dataset.num_scored_instances == 1 and dataset.instances_for(2) == []
    assert len(dataset.instances_for(2, scored_only=False)) == 1


def test_undecodable_images_are_left_out_of_the_evaluation(tmp_path):
    root = _write_set(tmp_path, [_person(1, 1), _person(2, 2)])
    (root / "images" / "im2.png").write_bytes(b"\x89PNG truncated")
    dataset = load_coco_keypoints(root)
    truth = {i.image_id: i.keypoints for i in dataset.instances}

    def oracle(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        assert image.shape == (HEIGHT, WIDTH, 3)
        return np.stack([truth[1]] * len(boxes))

    metrics, run = evaluate_on_ground_truth_boxes(dataset, oracle)
    assert run.unreadable_images == ["im2.png"] and run.evaluated_image_ids == [1]
    assert metrics["num_images"] == 1 and metrics["AP"] == pytest.approx(1.0)


def test_people_an_estimator_misses_count_against_recall(tmp_path):
    dataset = load_coco_keypoints(_write_set(tmp_path, [_person(1, 1), _person(2, 2)]))
    truth = {i.image_id: i.keypoints for i in dataset.instances}
    calls = []

    def finds_only_first_image(image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        calls.append(len(calls))
        if len(calls) == 1:
            return truth[1][None]
        return np.full((len(boxes), 17, 3), np.nan)

    metrics, run = evaluate_on_ground_truth_boxes(dataset, finds_only_first_image)
    assert run.num_missed == 1 and metrics["num_missed"] == 1
    assert metrics["AR"] == pytest.approx(0.5)
    assert metrics["oks_per_instance"][2] == 0.0


def test_coco_2017_layout_with_an_explicit_images_folder(tmp_path):
    flat = _write_set(tmp_path / "flat", [_person(1, 1), _person(2, 2)])
    coco = tmp_path / "coco"
    annotation_file = coco / "annotations" / "person_keypoints_val2017.json"
    annotation_file.parent.mkdir(parents=True)
    (flat / "annotations.json").rename(annotation_file)
    (flat / "images").rename(coco / "val2017")
    dataset = load_coco_keypoints(annotation_file, coco / "val2017")
    assert [i.id for i in dataset.instances] == [1, 2] and dataset.root == coco
    assert dataset.instances[0].image.read().shape == (HEIGHT, WIDTH, 3)


def test_person_category_of_any_id_without_area_or_num_keypoints_scores_ap_one(tmp_path):
    """Converted sets name the person category freely and leave out derived fields: ground
    truth and predictions must still meet under one category, with area and num_keypoints."""
    people = [_person(1, 1), _person(2, 2)]
    for person in people:
        person["category_id"] = 7
        del person["area"], person["num_keypoints"]
    root = _write_set(tmp_path, people)
    data = json.loads((root / "annotations.json").read_text())
    data["categories"] = [
        {"id": 3, "name": "ball"},
        {"id": 7, "name": "person", "keypoints": list(COCO_KEYPOINT_NAMES)},
    ]
    (root / "annotations.json").write_text(json.dumps(data))
    dataset = load_coco_keypoints(root)
    assert len(dataset.instances) == 2 and not dataset.skipped
    metrics = evaluate_keypoints(dataset, coco_results(_ground_truth_predictions(dataset)))
    assert metrics["AP"] == pytest.approx(1.0) and metrics["num_instances"] == 2
