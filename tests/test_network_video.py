"""RHPNet/HRNet on video: BlazePose boxes, keypoint-refreshed boxes, checkpoint checks."""

from __future__ import annotations

import numpy as np
import pytest

import rhpnet
from app.core.pipeline import AnalysisOptions, EstimatorFactory, analyze_video
from rhpnet.boxes import box_iou
from rhpnet.checkpoints import save_checkpoint
from rhpnet.errors import CheckpointError, UserFacingError
from rhpnet.estimators.network_video import NetworkVideoEstimator, boxes_from_keypoints
from rhpnet.poses import FramePoses
from rhpnet.skeleton import COCO_KEYPOINT_NAMES, MPII_KEYPOINT_NAMES


@pytest.fixture(scope="module")
def tiny_checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp("checkpoints")
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    paths = {}
    for arch in ("rhpnet_tiny", "hrnet_tiny"):
        paths[arch] = save_checkpoint(
            folder / f"{arch}.pth",
            rhpnet.build_model(arch),
            keypoint_names=COCO_KEYPOINT_NAMES,
            input_size=(256, 192),
        )
    paths["mpii"] = save_checkpoint(
        folder / "mpii.pth",
        rhpnet.build_model("hrnet_tiny", num_keypoints=16),
        keypoint_names=MPII_KEYPOINT_NAMES,
        input_size=(256, 256),
    )
    junk = folder / "junk.pth"
    junk.write_bytes(b"not a checkpoint" * 64)
    paths["junk"] = junk
    return paths


class ScriptedDetector:
    """Stands in for BlazePose: a fixed box, counting how often it is asked."""

    def __init__(self, box) -> None:
        self.box = np.asarray(box, np.float32)
        self.calls = 0

    def estimate(self, image, timestamp_s):
        self.calls += 1
        return FramePoses(np.zeros((1, 17, 3)), self.box[None], [1.0])

    def close(self) -> None:
        pass


class ConfidentNetwork:
    """Stands in for TopDownEstimator: a confident pose filling the middle of each box."""

    keypoint_names = COCO_KEYPOINT_NAMES

    def predict(self, image, boxes):
        out = []
        for x, y, w, h in boxes:
            xy = np.stack(
                [
                    np.linspace(x + 0.3 * w, x + 0.7 * w, 17),
                    np.linspace(y + 0.2 * h, y + 0.9 * h, 17),
                ],
                1,
            )
            out.append(np.concatenate([xy, np.full((17, 1), 0.9)], 1))
        return np.asarray(out, np.float32).reshape(-1, 17, 3)

    def describe(self):
        return {"arch": "stand-in"}


def test_boxes_from_keypoints_cover_head_and_feet():
    kp = np.zeros((2, 17, 3))
    kp[0, :, 0] = np.linspace(100, 200, 17)
    kp[0, :, 1] = np.linspace(50, 450, 17)
    kp[0, :, 2] = 0.9
    kp[1, :, 2] = 0.1  # nobody confident
    boxes, usable = boxes_from_keypoints(kp, 0.3, image_size=(640, 480))
    assert usable.tolist() == [True, False]
    x, y, w, h = boxes[0]
    assert x == pytest.approx(90) and y == pytest.approx(0)  # 50 - 0.2 * 400 clipped at 0
    assert x + w == pytest.approx(210) and y + h == pytest.approx(480)  # 450 + 40 clipped at 480


def test_detector_runs_every_n_frames_and_boxes_follow_keypoints_between():
    detector = ScriptedDetector([100, 100, 200, 400])
    estimator = NetworkVideoEstimator(
        ConfidentNetwork(), name="hrnet", detect_every=5, detector=detector
    )
    image = np.zeros((600, 800, 3), np.uint8)
    boxes = []
    for t in range(12):
        poses = estimator.estimate(image, t / 30)
        assert len(poses) == 1
        boxes.append(poses.boxes[0])
    assert detector.calls == 3  # frames 0, 5 and 10
    # In between, the box comes from the previous keypoints: it differs from the detector's.
    assert not np.allclose(boxes[1], detector.box)
    assert box_iou(boxes[1], detector.box)[0, 0] > 0.3


@pytest.mark.slow
def test_tiny_checkpoint_analyses_a_real_clip(tiny_checkpoints, videos_dir):
    # A random network's heatmaps are weak, so keep every person to see the plumbing work.
    estimator = NetworkVideoEstimator.from_checkpoint(
        tiny_checkpoints["hrnet_tiny"], arch_family="hrnet", device="cpu", min_person_score=0.0
    )
    analysis = analyze_video(
        videos_dir / "posetrack18_000001_soccer_run_5frames.mp4", estimator=estimator
    )
    estimator.close()
    assert analysis.model["name"] == "hrnet" and analysis.model["arch"] == "hrnet_tiny"
    assert analysis.model["checkpoint"].endswith("hrnet_tiny.pth")
    assert analysis.model["flip_test"] is True and analysis.model["device"] == "cpu"
    runner = analysis.subject()
    assert runner.frame_count_present == 5
    kp, box = runner.keypoints[0], runner.boxes[0]
    # Every keypoint lies in the network's crop: the box enlarged 1.25x (and to 3:4).
    centre = box[:2] + box[2:] / 2
    half = np.maximum(box[2:], box[3] * 0.75) * 1.25 / 2 + 2
    assert np.all(np.abs(kp[:17, :2] - centre) <= half)
    # The box is BlazePose's runner (the white-shirted player near x = 480, y = 390).
    assert box[0] < 480 < box[0] + box[2] and box[1] < 390 < box[1] + box[3]


def test_checkpoint_problems_are_one_line_errors(tiny_checkpoints, tmp_path):
    def factory(model, checkpoint):
        return EstimatorFactory(AnalysisOptions(model=model, checkpoint=checkpoint, device="cpu"))

    with pytest.raises(UserFacingError, match="needs --checkpoint"):
        factory("hrnet", None)
    with pytest.raises(
        CheckpointError, match="holds rhpnet_tiny weights, not hrnet; use --model rhpnet"
    ):
        factory("hrnet", str(tiny_checkpoints["rhpnet_tiny"]))
    with pytest.raises(CheckpointError, match="predicts 16 keypoints"):
        factory("hrnet", str(tiny_checkpoints["mpii"]))
    with pytest.raises(CheckpointError):
        factory("rhpnet", str(tiny_checkpoints["junk"]))
    with pytest.raises(CheckpointError, match="not found"):
        factory("rhpnet", str(tmp_path / "missing.pth"))
    estimator = factory("rhpnet", str(tiny_checkpoints["rhpnet_tiny"])).create()
    assert estimator.name == "rhpnet"
    estimator.close()
