"""Training data: COCO-format and MPII parsing, skipped bad annotations, layouts, PCKh, OKS-NMS."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from rhpnet.datasets import coco_format, files
from rhpnet.datasets.coco_format import load_coco_keypoints
from rhpnet.errors import DataError
from rhpnet.evaluation.oks_nms import oks_nms
from rhpnet.evaluation.pckh import compute_pckh, head_sizes
from rhpnet.skeleton import MPII_KEYPOINT_NAMES
from tests.support.training_samples import mpii_entries
from training.datasets import find_split, load_mpii, load_person_detections


def _copy_set(sportpose_dir: Path, tmp_path: Path, count: int) -> tuple[dict, Path]:
    """The first ``count`` single-person LSPET images of dev-sportpose, copied into tmp_path."""
    data = json.loads((sportpose_dir / "annotations.json").read_text())
    images = [im for im in data["images"] if im["file_name"].startswith("lspet")][:count]
    ids = {im["id"] for im in images}
    (tmp_path / "images").mkdir()
    for image in images:
        shutil.copy(sportpose_dir / "images" / image["file_name"], tmp_path / "images")
    annotations = [a for a in data["annotations"] if a["image_id"] in ids]
    return {**data, "images": images, "annotations": annotations}, tmp_path / "images"


def test_bad_annotations_are_skipped_and_counted_once_per_kind(sportpose_dir, tmp_path, caplog):
    data, images_dir = _copy_set(sportpose_dir, tmp_path, 8)
    anns = data["annotations"]
    good = [dict(a) for a in anns]
    # One annotation per malformed kind, each a modified copy of a good one.
    missing = {k: v for k, v in anns[0].items() if k != "keypoints"}
    outside = {**anns[1], "id": 901, "keypoints": list(anns[1]["keypoints"])}
    outside["keypoints"][15 * 3] = data["images"][1]["width"] + 50.0  # left ankle beyond the edge
    zero_area = {**anns[2], "id": 902, "bbox": [10.0, 10.0, 0.0, 40.0]}
    unknown = {**anns[3], "id": 903, "image_id": 99999}
    data["images"].append({"id": 500, "file_name": "gone.jpg", "width": 100, "height": 100})
    small = [0.0] * 15 * 3 + [10.0, 10.0, 2, 20.0, 20.0, 2]
    no_file = {**anns[4], "id": 904, "image_id": 500, "bbox": [1.0, 1.0, 50.0, 50.0]}
    no_file["keypoints"] = small
    (images_dir / "broken.jpg").write_bytes(b"this is not a JPEG")
    data["images"].append({"id": 501, "file_name": "broken.jpg", "width": 100, "height": 100})
    broken = {**anns[5], "id": 905, "image_id": 501, "bbox": [1.0, 1.0, 50.0, 50.0]}
    broken["keypoints"] = small
    data["images"].append({"file_name": "no_id.jpg"})
    data["annotations"] = [*good[1:], missing, outside, zero_area, unknown, no_file, broken]
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps(data))

    caplog.set_level(logging.WARNING)
    loaded = load_coco_keypoints(path, images_dir, training=True, check_images=True)

    assert len(loaded) == len(good) - 1
    assert dict(loaded.skipped.counts) == {
        coco_format.MALFORMED: 1,
        coco_format.OUTSIDE: 1,
        coco_format.ZERO_AREA: 1,
        coco_format.UNKNOWN_IMAGE: 1,
        files.MISSING_FILE: 1,
        files.UNDECODABLE: 1,
        coco_format.MALFORMED_IMAGE: 1,
    }
    lines = [r.getMessage() for r in caplog.records]
    names = {im["id"]: im["file_name"] for im in data["images"] if "id" in im}
    first_examples = {
        coco_format.MALFORMED: f"annotation {missing['id']} in {names[missing['image_id']]}",
        coco_format.OUTSIDE: f"annotation 901 in {names[outside['image_id']]}",
        coco_format.ZERO_AREA: f"annotation 902 in {names[zero_area['image_id']]}",
        coco_format.UNKNOWN_IMAGE: "annotation 903",
        files.MISSING_FILE: "gone.jpg",
        files.UNDECODABLE: "broken.jpg",
        coco_format.MALFORMED_IMAGE: "image entry 10",
    }
    expected = [f"{path}: skipped 1 {kind} (first: {ex})" for kind, ex in first_examples.items()]
    assert len(lines) == 7 and sorted(lines) == sorted(expected)
    assert any("broken.jpg" in line and files.UNDECODABLE in line for line in lines)
    # Evaluation keeps the ground truth of every readable image for pycocotools, including
    # the one whose only annotation was malformed.
    truth = load_coco_keypoints(path, images_dir, check_images=True).ground_truth()
    assert {im["id"] for im in truth["images"]} == {im["id"] for im in data["images"][:8]}
    assert len(truth["annotations"]) == len(good) - 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"images": [], "annotations": [', "not valid JSON"),
        ('{"images": []}', "no 'annotations' list"),
        ("[1, 2, 3]", "not a COCO keypoint file"),
    ],
)
def test_malformed_json_is_a_clear_data_error(tmp_path, content, message):
    path = tmp_path / "annotations.json"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_coco_keypoints(path, tmp_path, training=True)


def test_layouts_are_found(sportpose_dir, tmp_path):
    single = find_split(sportpose_dir, "train")
    assert single.format == "coco" and single.annotations.name == "annotations.json"
    coco = tmp_path / "coco"
    (coco / "annotations").mkdir(parents=True)
    (coco / "annotations" / "person_keypoints_val2017.json").write_text("{}")
    (coco / "val2017").mkdir()
    found = find_split(coco, "val")
    assert found.images == coco / "val2017" and found.format == "coco"
    mpii = tmp_path / "mpii"
    (mpii / "annot").mkdir(parents=True)
    (mpii / "annot" / "valid.json").write_text("[]")
    assert find_split(mpii, "val").format == "mpii"
    with pytest.raises(DataError, match="no train annotations"):
        find_split(mpii, "train")


def test_mpii_layout_boxes_joints_and_head_boxes(sportpose_dir, tmp_path):
    from scipy.io import savemat

    entries = mpii_entries(sportpose_dir)
    assert len(entries) == 3
    path = tmp_path / "valid.json"
    path.write_text(json.dumps(entries))
    head = np.zeros((2, 2, len(entries)))
    head[:, :, 0] = [[11, 21], [41, 61]]  # x1, y1 / x2, y2 of person 0, 1-based
    head[:, :, 1] = head[:, :, 2] = [[1, 1], [31, 41]]
    savemat(tmp_path / "gt_valid.mat", {"headboxes_src": head})

    loaded = load_mpii(
        path, sportpose_dir / "images", training=False, head_boxes_file=tmp_path / "gt_valid.mat"
    )

    assert len(loaded) == 3 and loaded.keypoint_names == MPII_KEYPOINT_NAMES
    first, entry = loaded.instances[0], entries[0]
    scale = entry["scale"]
    centre = np.array(entry["center"]) + [0, 15 * scale] - 1
    np.testing.assert_allclose(first.crop_box[:2] + first.crop_box[2:] / 2, centre, atol=1e-3)
    np.testing.assert_allclose(first.crop_box[2:], [200 * scale] * 2, rtol=1e-6)
    shown = np.array(entry["joints_vis"]) > 0
    np.testing.assert_allclose(first.keypoints[shown, :2], np.array(entry["joints"])[shown] - 1)
    np.testing.assert_allclose(first.head_box, [10, 20, 40, 60])
    assert loaded.flip_pairs == ((0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13))

    savemat(tmp_path / "short.mat", {"headboxes_src": head[:, :, :2]})
    with pytest.raises(DataError, match="expected"):
        load_mpii(
            path, sportpose_dir / "images", training=False, head_boxes_file=tmp_path / "short.mat"
        )
    whole = (tmp_path / "gt_valid.mat").read_bytes()
    for cut in (10, 100, len(whole) // 2):
        (tmp_path / "cut.mat").write_bytes(whole[:cut])
        with pytest.raises(DataError, match="no readable 'headboxes_src'"):
            load_mpii(
                path, sportpose_dir / "images", training=False, head_boxes_file=tmp_path / "cut.mat"
            )


def test_pckh_hand_computed():
    # Head box 30 x 40 -> diagonal 50 -> head size 0.6 * 50 = 30 px; PCKh@0.5 radius 15 px,
    # PCKh@0.1 radius 3 px.
    assert head_sizes(np.array([[0, 0, 30, 40]]))[0] == pytest.approx(30.0)
    gt = np.zeros((2, 16, 2))
    pred = gt.copy()
    visible = np.ones((2, 16), bool)
    pred[0, 0] = [10, 0]  # r_ankle: 10 px off -> correct at 0.5, wrong at 0.1
    pred[1, 0] = [0, 20]  # r_ankle of person 1: 20 px off -> wrong at both
    pred[0, 9] = [2, 0]  # head_top: 2 px -> correct at both
    pred[:, 6] = [100, 100]  # pelvis always wrong (excluded from the mean)
    visible[1, 15] = False  # l_wrist of person 1 not labelled
    pred[1, 15] = [500, 500]  # ... so its wild prediction does not count
    result = compute_pckh(pred, gt, visible, np.array([[0, 0, 30, 40]] * 2), (0.5, 0.1))

    at05, at01 = result.per_joint[0.5], result.per_joint[0.1]
    assert at05[0] == 50.0 and at01[0] == 0.0  # r_ankle: 1 of 2, then 0 of 2
    assert at05[9] == 100.0 and at01[9] == 100.0
    assert at05[6] == 0.0 and at05[15] == 100.0 and result.visible_counts[15] == 1
    assert result.groups[0.5]["Ankle"] == 75.0  # mean of r_ankle 50 and l_ankle 100
    # Mean over 14 joints weighted by visible counts: 27 labelled, 1 miss (r_ankle of person 1).
    assert result.mean(0.5) == pytest.approx(100 * 26 / 27)
    assert "PCKh@0.5" in result.table()


def test_oks_nms_drops_duplicates_of_the_same_person():
    rng = np.random.default_rng(0)
    person = np.concatenate([rng.uniform(0, 100, (17, 2)), np.ones((17, 1))], axis=1)
    near_copy = person + [0.5, 0.5, 0]
    other = person + [300, 0, 0]
    keep = oks_nms(np.stack([near_copy, person, other]), np.array([0.8, 0.9, 0.7]), np.full(3, 1e4))
    assert keep == [1, 2]


def test_detections_join_ground_truth_images(sportpose_dir, tmp_path):
    truth = load_coco_keypoints(
        sportpose_dir / "annotations.json", sportpose_dir / "images", training=False
    )
    image_id = next(iter(truth.images))
    detections = [
        {"image_id": image_id, "category_id": 1, "bbox": [10, 20, 50, 80], "score": 0.9},
        {"image_id": image_id, "category_id": 1, "bbox": [10, 20, 50, 80], "score": 0.01},
        {"image_id": 123456, "category_id": 1, "bbox": [10, 20, 50, 80], "score": 0.9},
        {"image_id": image_id, "category_id": 1, "bbox": [10, 20, 0, 80], "score": 0.9},
        {"image_id": image_id, "bbox": "oops"},
    ]
    path = tmp_path / "dets.json"
    path.write_text(json.dumps(detections))
    people = load_person_detections(path, truth, score_threshold=0.05)
    assert len(people) == 1 and people[0].score == pytest.approx(0.9)
    np.testing.assert_allclose(people[0].crop_box, [10, 20, 50, 80])


def test_command_line_errors_are_one_line(tmp_path, capsys):
    from training.cli import main

    code = main(["fit", "--config", "coco_256x192", "--data", str(tmp_path / "nowhere"),
                 "--out", str(tmp_path / "run")])  # fmt: skip
    assert code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == f"python -m training: error: data path not found: {tmp_path / 'nowhere'}"
