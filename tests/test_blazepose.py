"""The bundled BlazePose estimator: offline, COCO mapping, one runner and several people."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from rhpnet.estimators.blazepose import BlazePoseEstimator, landmarks_to_poses
from rhpnet.estimators.blazepose_bundle import bundle_path, ensure_pose_bundle, user_cache_dir
from rhpnet.poses import Estimator
from rhpnet.skeleton import BLAZEPOSE_TO_POSE, COCO_FLIP_PERMUTATION, keypoint_index


def _segment_frames(path, count: int) -> list[np.ndarray]:
    from rhpnet.media.video import open_video

    with open_video(path) as source:
        return [f.image for _, f in zip(range(count), source.frames(), strict=False)]


class NoNetwork(Exception):
    pass


def test_no_download_is_ever_attempted(monkeypatch):
    import urllib.request

    import mediapipe as mp

    def refuse(*args, **kwargs):
        raise NoNetwork("network access attempted")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with BlazePoseEstimator(1) as single, BlazePoseEstimator(2) as several:
        assert isinstance(single, Estimator) and isinstance(several, Estimator)
        blank = np.zeros((240, 320, 3), np.uint8)
        assert len(single.estimate(blank, 0.0)) == 0 and len(several.estimate(blank, 0.0)) == 0
    # The guard is real: the heavy model (complexity 2) is not in the wheel and would download.
    with pytest.raises(NoNetwork):
        mp.solutions.pose.Pose(model_complexity=2)


def test_landmarks_map_to_coco_with_padded_boxes():
    landmarks = np.zeros((1, 33, 4), np.float32)
    landmarks[0, :, 0] = np.linspace(0.2, 0.6, 33)  # x
    landmarks[0, :, 1] = np.linspace(0.1, 0.9, 33)  # y
    landmarks[0, :, 2] = np.linspace(0.0, 1.0, 33)  # score
    poses = landmarks_to_poses(landmarks, width=200, height=100, box_padding=0.1)
    assert poses.keypoints.shape == (1, 21, 3)  # COCO-17, then heels and foot indices
    # mediapipe normalises by the image edges; pixel centres sit at integer coordinates.
    for coco, blaze in enumerate(BLAZEPOSE_TO_POSE):  # heels 29/30, foot indices 31/32
        np.testing.assert_allclose(
            poses.keypoints[0, coco],
            [
                landmarks[0, blaze, 0] * 200 - 0.5,
                landmarks[0, blaze, 1] * 100 - 0.5,
                landmarks[0, blaze, 2],
            ],
            rtol=1e-6,
        )
    # Box: landmark extent x 39.5..119.5, y 9.5..89.5 padded by 10 % each side.
    np.testing.assert_allclose(poses.boxes[0], [31.5, 1.5, 96, 96], atol=1e-4)
    assert poses.scores[0] == pytest.approx(poses.keypoints[0, :, 2].mean())
    landmarks[0, :, 0] = np.linspace(-0.1, 1.2, 33)  # partly outside: clipped to the image
    x, y, w, h = landmarks_to_poses(landmarks, 200, 100).boxes[0]
    assert x == 0 and x + w == 200


def test_bundle_is_built_once_atomically_in_the_user_cache(tmp_path):
    assert user_cache_dir() == Path(os.environ["XDG_CACHE_HOME"]) / "rhpnet-coach"
    path = ensure_pose_bundle(tmp_path)
    assert path == bundle_path(tmp_path) and path.parent == tmp_path
    with zipfile.ZipFile(path) as bundle:
        assert sorted(bundle.namelist()) == [
            "pose_detector.tflite",
            "pose_landmarks_detector.tflite",
        ]
        for name in bundle.namelist():
            model = bundle.read(name)
            assert model[4:8] == b"TFL3" and b"TFLITE_METADATA" in model
            assert bundle.getinfo(name).compress_type == zipfile.ZIP_STORED
    stamp = path.stat().st_mtime_ns
    assert ensure_pose_bundle(tmp_path) == path and path.stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left behind


def test_single_runner_on_real_frames(treadmill_segment):
    frames = _segment_frames(treadmill_segment, 8)
    with BlazePoseEstimator(1) as estimator:
        results = [estimator.estimate(image, i / 60) for i, image in enumerate(frames)]
        described = estimator.describe()
    assert described["backend"] == "solution" and "full" in described["model"]
    assert all(len(r) == 1 for r in results)
    kp = np.stack([r.keypoints[0] for r in results])
    shoulder, hip, ankle = (
        kp[:, keypoint_index(n), 1] for n in ("left_shoulder", "left_hip", "left_ankle")
    )
    assert np.all(shoulder < hip) and np.all(hip < ankle)
    assert np.all(kp[:, :, 2] >= 0) and np.all(kp[:, :, 2] <= 1)
    # Consecutive frames at 60 fps: the hips barely move (tracking is stable).
    assert np.abs(np.diff(kp[:, keypoint_index("left_hip"), :2], axis=0)).max() < 25


def test_keypoints_sit_on_pixel_centres_so_a_mirrored_frame_mirrors_them(treadmill_segment):
    """x -> width - 1 - x is the mirror of a pixel-centre coordinate. Read as x * width (the edge
    convention mistaken for pixel centres) BlazePose's keypoints of a mirrored frame land a
    whole pixel off the mirrored keypoints; read as x * width - 0.5 they agree."""
    frames = [
        cv2.resize(frame, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
        for frame in _segment_frames(treadmill_segment, 24)
    ]
    width = frames[0].shape[1]
    offsets = []
    with BlazePoseEstimator(1) as direct, BlazePoseEstimator(1) as mirrored:
        for i, frame in enumerate(frames):
            seen = direct.estimate(frame, i / 60).keypoints[0, :17]
            mirror = np.ascontiguousarray(frame[:, ::-1])
            back = mirrored.estimate(mirror, i / 60).keypoints[0, :17]
            back = back[list(COCO_FLIP_PERMUTATION)]
            sure = (seen[:, 2] > 0.8) & (back[:, 2] > 0.8)
            offsets.extend(seen[sure, 0] + back[sure, 0] - (width - 1))
    assert len(offsets) > 200
    assert abs(np.mean(offsets)) < 0.5


def test_several_people_with_the_tasks_bundle(treadmill_segment):
    # Two real runners side by side: the clip and its mirror image.
    frames = [np.hstack([f, cv2.flip(f, 1)]) for f in _segment_frames(treadmill_segment, 4)]
    width = frames[0].shape[1]
    with BlazePoseEstimator(3) as estimator:
        assert estimator.backend == "tasks"
        results = [estimator.estimate(image, i / 60) for i, image in enumerate(frames)]
        results.append(estimator.estimate(frames[-1], 3 / 60))  # repeated time stamp: accepted
    for poses in results:
        assert len(poses) == 2
        centres = sorted(poses.boxes[:, 0] + poses.boxes[:, 2] / 2)
        assert centres[0] < width / 2 < centres[1]
        # Mirror images: the right person's hips mirror the left person's.
        left, right = sorted(poses.keypoints, key=lambda k: k[:, 0].mean())
        hip = keypoint_index("left_hip")
        assert abs((width - 1 - right[hip + 1, 0]) - left[hip, 0]) < 30


def test_invalid_settings():
    with pytest.raises(ValueError, match="one person"):
        BlazePoseEstimator(2, backend="solution")
    with pytest.raises(ValueError, match="at least 1"):
        BlazePoseEstimator(0)


@pytest.mark.slow
def test_left_and_right_match_ground_truth(running_lspet_dir):
    """Our COCO mapping keeps the person's own left and right: on the annotated running images,
    well-separated left/right pairs land on the ground-truth side."""
    import json

    from rhpnet.skeleton import COCO_LEFT, COCO_RIGHT

    data = json.loads((running_lspet_dir / "annotations.json").read_text())
    annotations = {a["image_id"]: a for a in data["annotations"]}
    agree = swapped = 0
    for info in data["images"][:20]:
        ann = annotations[info["id"]]
        image = cv2.imread(str(running_lspet_dir / "images" / info["file_name"]))
        x, y, w, h = ann["bbox"]
        x0, y0 = int(max(0, x - 0.4 * w)), int(max(0, y - 0.4 * h))
        crop = image[y0 : int(y + 1.4 * h), x0 : int(x + 1.4 * w)]
        scale = 512 / max(crop.shape[:2])
        with BlazePoseEstimator(1) as estimator:
            poses = estimator.estimate(cv2.resize(crop, None, fx=scale, fy=scale), 0.0)
        if not len(poses):
            continue
        found = poses.keypoints[0, :, :2] / scale + [x0, y0]
        truth = np.asarray(ann["keypoints"], float).reshape(17, 3)
        for left, right in zip(COCO_LEFT[2:], COCO_RIGHT[2:], strict=True):  # shoulders..ankles
            if min(truth[left, 2], truth[right, 2]) == 0:
                continue
            if np.linalg.norm(truth[left, :2] - truth[right, :2]) < 0.15 * h:
                continue  # too close to call
            same = np.linalg.norm(found[left] - truth[left, :2]) + np.linalg.norm(
                found[right] - truth[right, :2]
            )
            crossed = np.linalg.norm(found[left] - truth[right, :2]) + np.linalg.norm(
                found[right] - truth[left, :2]
            )
            agree += same < crossed
            swapped += same >= crossed
    assert agree + swapped >= 50
    assert agree / (agree + swapped) > 0.9
