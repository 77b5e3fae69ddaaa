"""Top-down estimator on real images: shapes, end-to-end geometry (oracle network), flip test,
determinism, degenerate boxes and images."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import rhpnet
from rhpnet import codec
from rhpnet.checkpoints import save_checkpoint
from rhpnet.estimators.topdown import TopDownEstimator, crop_boxes
from rhpnet.skeleton import COCO_FLIP_PERMUTATION, MPII_KEYPOINT_NAMES

INPUT_SIZE = (256, 192)
HEATMAP_SIZE = (64, 48)


class TinyHeatmapNet(torch.nn.Module):
    """A two-layer network with the heatmap contract (N,3,H,W) -> (N,K,H/4,W/4) whose outputs
    are of order 1 (the real networks start near 1e-11), so flip averaging and BatchNorm
    modes make visible differences."""

    def __init__(self, num_keypoints: int = 17) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layers = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, stride=2, padding=1),
            torch.nn.BatchNorm2d(8),
            torch.nn.ReLU(),
            torch.nn.Conv2d(8, num_keypoints, 3, stride=2, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class OracleNetwork(torch.nn.Module):
    """Answers every crop it was told about with the perfect heatmaps for that crop."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[bytes, np.ndarray] = {}
        self.calls = 0

    @staticmethod
    def key(crop: np.ndarray) -> bytes:
        return hashlib.sha1(np.ascontiguousarray(crop, dtype=np.float32).tobytes()).digest()

    def teach(self, crop: np.ndarray, heatmaps: np.ndarray) -> None:
        self.answers[self.key(crop)] = heatmaps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return torch.stack([torch.from_numpy(self.answers[self.key(c.numpy())]) for c in x])


class NeverCalled(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise AssertionError("the network must not run")


@pytest.fixture(scope="session")
def sportpose(sportpose_dir: Path) -> dict:
    data = json.loads((sportpose_dir / "annotations.json").read_text())
    by_image: dict[int, list[dict]] = {}
    for annotation in data["annotations"]:
        by_image.setdefault(annotation["image_id"], []).append(annotation)
    samples = {}
    for image in data["images"]:
        pixels = cv2.imread(str(sportpose_dir / "images" / image["file_name"]), cv2.IMREAD_COLOR)
        assert pixels is not None, image["file_name"]
        annotations = by_image.get(image["id"], [])
        samples[image["id"]] = {
            "image": pixels,
            "boxes": np.array([a["bbox"] for a in annotations], np.float64).reshape(-1, 4),
            "keypoints": np.array([a["keypoints"] for a in annotations], np.float64).reshape(
                -1, 17, 3
            ),
        }
    return samples


# Images with several people, small and large boxes: COCO (5 people), OCHuman (751 px tall
# box), PoseTrack (11 people in a 1920x1080 frame).
ORACLE_IMAGES = (4, 40, 41)


def oracle_for(sample: dict) -> OracleNetwork:
    """Teach an oracle the ground-truth heatmaps of every crop the estimator will make."""
    oracle = OracleNetwork()
    batch = crop_boxes(sample["image"], sample["boxes"], INPUT_SIZE)
    matrices = codec.udp_warp_matrix(batch.centers, batch.scales, INPUT_SIZE)
    in_crop = codec.transform_points(sample["keypoints"][..., :2], matrices)
    labelled = sample["keypoints"][..., 2] > 0
    heatmaps, _ = codec.encode_heatmaps(in_crop, labelled, INPUT_SIZE, HEATMAP_SIZE)
    # the mirrored crop shows the mirrored person, whose left side is the person's right side
    mirrored_points = codec.flip_keypoints(in_crop, INPUT_SIZE[1], COCO_FLIP_PERMUTATION)
    mirrored_labelled = labelled[:, COCO_FLIP_PERMUTATION]
    mirrored, _ = codec.encode_heatmaps(
        mirrored_points, mirrored_labelled, INPUT_SIZE, HEATMAP_SIZE
    )
    for crop, answer, mirrored_answer in zip(batch.inputs, heatmaps, mirrored, strict=True):
        oracle.teach(crop, answer)
        oracle.teach(crop[:, :, ::-1], mirrored_answer)
    return oracle


@pytest.mark.parametrize("flip_test", [False, True])
@pytest.mark.parametrize("image_id", ORACLE_IMAGES)
def test_oracle_network_gives_back_the_ground_truth_in_image_pixels(sportpose, image_id, flip_test):
    sample = sportpose[image_id]
    oracle = oracle_for(sample)
    estimator = TopDownEstimator(oracle, device="cpu", flip_test=flip_test, batch_size=4)
    predicted = estimator.predict(sample["image"], sample["boxes"])

    labelled = sample["keypoints"][..., 2] > 0
    assert predicted.shape == sample["keypoints"].shape and labelled.sum() >= 17
    error = np.linalg.norm(predicted[..., :2] - sample["keypoints"][..., :2], axis=-1)[labelled]
    assert error.max() < 0.05  # requirement: within 0.5 px
    assert np.all(predicted[..., 2][labelled] > 0.9)
    assert np.all(predicted[..., 2][~labelled] == 0)
    assert oracle.calls == -(-len(sample["boxes"]) // 4)  # one pass per batch of 4 crops


def test_random_network_keypoints_fall_inside_their_padded_boxes(sportpose):
    sample = sportpose[4]
    estimator = TopDownEstimator(rhpnet.build_model("hrnet_tiny"), device="cpu", batch_size=2)
    predicted = estimator.predict(sample["image"], sample["boxes"])
    assert predicted.shape == (len(sample["boxes"]), 17, 3) and predicted.dtype == np.float32
    assert np.all(np.isfinite(predicted))

    center, scale = codec.box_to_center_scale(sample["boxes"], 0.75)
    # refinement moves at most one heatmap pixel beyond the padded box
    slack = scale / (np.array(HEATMAP_SIZE[::-1]) - 1)
    low = (center - scale / 2 - slack)[:, None, :]
    high = (center + scale / 2 + slack)[:, None, :]
    assert np.all((predicted[..., :2] >= low) & (predicted[..., :2] <= high))


def test_cpu_inference_is_deterministic(sportpose):
    image, boxes = sportpose[4]["image"], sportpose[4]["boxes"][:2]
    model = rhpnet.build_model("rhpnet_tiny")
    settings = {"device": "cpu", "input_size": (128, 96)}  # small crops keep the test fast
    first = TopDownEstimator(model, **settings).predict(image, boxes)
    estimator = TopDownEstimator(model, **settings)
    for _ in range(2):
        again = estimator.predict(image, boxes)
        np.testing.assert_array_equal(again, first)


def test_zero_boxes_give_an_empty_result_without_running_the_network(sportpose):
    estimator = TopDownEstimator(NeverCalled(), device="cpu")
    result = estimator.predict(sportpose[4]["image"], np.zeros((0, 4)))
    assert result.shape == (0, 17, 3) and result.dtype == np.float32
    assert estimator.predict(sportpose[4]["image"], []).shape == (0, 17, 3)


def test_degenerate_boxes_and_tiny_images_give_finite_keypoints(sportpose):
    model = rhpnet.build_model("hrnet_tiny")
    estimator = TopDownEstimator(model, device="cpu", input_size=(128, 96))
    image = sportpose[4]["image"]
    height, width = image.shape[:2]
    boxes = np.array(
        [
            [100, 100, 0, 0],  # zero size
            [200, 150, 0, 80],  # zero width
            [-50, -40, 120, 160],  # partly outside, top-left
            [width - 30, height - 20, 200, 100],  # partly outside, bottom-right
            [5 * width, 5 * height, 50, 60],  # completely outside
        ]
    )
    predicted = estimator.predict(image, boxes)
    assert predicted.shape == (5, 17, 3) and np.all(np.isfinite(predicted))
    # the zero-size box gets a 1 px minimum: its keypoints stay within a couple of pixels
    assert np.all(np.abs(predicted[0, :, :2] - 100) < 2)

    for tiny in (np.zeros((1, 1, 3), np.uint8), np.full((2, 3, 3), 90, np.uint8)):
        result = estimator.predict(tiny, [[0, 0, tiny.shape[1], tiny.shape[0]]])
        assert result.shape == (1, 17, 3) and np.all(np.isfinite(result))
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    assert estimator.predict(grey, boxes[2:3]).shape == (1, 17, 3)


def test_bad_input_is_rejected_with_a_clear_message(sportpose):
    estimator = TopDownEstimator(TinyHeatmapNet(), device="cpu")
    image = sportpose[4]["image"]
    with pytest.raises(ValueError, match="uint8"):
        estimator.predict(image.astype(np.float32), [[0, 0, 10, 10]])
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        estimator.predict(image[..., :2], [[0, 0, 10, 10]])
    with pytest.raises(ValueError, match="x, y, w, h"):
        estimator.predict(image, [[0, 0, 10]])
    with pytest.raises(ValueError, match="NaN"):
        estimator.predict(image, [[np.nan, 0, 10, 10]])
    with pytest.raises(ValueError, match="returned"):
        TopDownEstimator(rhpnet.build_model("hrnet_tiny", 5), device="cpu").predict(
            image, [[0, 0, 9, 9]]
        )
    with pytest.raises(ValueError, match="refinement"):
        TopDownEstimator(TinyHeatmapNet(), device="cpu", refine="dark")


def test_settings_come_from_the_checkpoint(tmp_path):
    path = tmp_path / "mpii_tiny.pth"
    save_checkpoint(
        path,
        rhpnet.build_model("hrnet_tiny", num_keypoints=16),
        keypoint_names=MPII_KEYPOINT_NAMES,
        input_size=(128, 96),
    )
    estimator = TopDownEstimator.from_checkpoint(path, device="cpu")
    assert estimator.input_size == (128, 96) and estimator.num_keypoints == 16
    assert estimator.keypoint_names == MPII_KEYPOINT_NAMES
    assert estimator.flip_permutation[:6] == (5, 4, 3, 2, 1, 0)
    result = estimator.predict(np.zeros((50, 40, 3), np.uint8), [[0, 0, 40, 50]])
    assert result.shape == (1, 16, 3)
    described = estimator.describe()
    assert described["arch"] == "hrnet_tiny" and described["checkpoint"] == str(path)
    assert described["input_size"] == [128, 96] and described["flip_test"] is True
    # explicit arguments win over the checkpoint
    again = TopDownEstimator(estimator.model, device="cpu", input_size=(64, 64))
    assert again.input_size == (64, 64)


def test_keypoint_sets_without_known_flip_pairs():
    model = rhpnet.build_model("hrnet_tiny", num_keypoints=2)
    names = ["head", "tail"]
    with pytest.raises(ValueError, match="flip_pairs"):
        TopDownEstimator(model, device="cpu", keypoint_names=names)
    plain = TopDownEstimator(model, device="cpu", keypoint_names=names, flip_test=False)
    assert plain.predict(np.zeros((20, 20, 3), np.uint8), [[2, 2, 10, 10]]).shape == (1, 2, 3)
    paired = TopDownEstimator(model, device="cpu", keypoint_names=names, flip_pairs=[(0, 1)])
    assert paired.flip_permutation == (1, 0)


def test_predict_crops_shares_the_pipeline_and_restores_training_mode(sportpose):
    sample = sportpose[41]
    model = TinyHeatmapNet()
    estimator = TopDownEstimator(model, device="cpu")
    model.eval()
    expected = estimator.predict(sample["image"], sample["boxes"])

    model.train()  # as in a training loop that evaluates between epochs
    batch = crop_boxes(sample["image"], sample["boxes"], INPUT_SIZE)
    from_crops = estimator.predict_crops(
        torch.from_numpy(batch.inputs), batch.centers, batch.scales
    )
    assert model.training  # the caller's mode is back
    # BatchNorm ran with its running statistics (eval mode), hence the same answer
    np.testing.assert_array_equal(from_crops, expected)
    assert estimator.heatmaps(batch.inputs).shape == (len(batch), 17, 64, 48)


def test_flip_test_averages_the_mirrored_pass(sportpose):
    sample = sportpose[4]
    model = TinyHeatmapNet()
    batch = crop_boxes(sample["image"], sample["boxes"], INPUT_SIZE)
    plain = TopDownEstimator(model, device="cpu", flip_test=False).heatmaps(batch.inputs)
    mirrored = TopDownEstimator(model, device="cpu", flip_test=False).heatmaps(
        batch.inputs[..., ::-1]
    )
    averaged = TopDownEstimator(model, device="cpu", flip_test=True).heatmaps(batch.inputs)
    expected = 0.5 * (plain + codec.flip_heatmaps(mirrored, COCO_FLIP_PERMUTATION))
    np.testing.assert_allclose(averaged, expected, rtol=1e-5, atol=1e-5)
