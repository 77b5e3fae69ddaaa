"""Augmentation, configs and the preview grid."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from rhpnet import codec
from rhpnet.skeleton import COCO_FLIP_PERMUTATION
from training.config import ConfigError, available_configs, load_config, tiny_preset
from training.datasets import load_split
from training.loader import PoseDataset
from training.transforms import TopDownTransform, grid_mask, random_erasing

GEOMETRY_ONLY = [
    "augment.scale_factor=0.0",
    "augment.rotation_prob=0",
    "augment.half_body_prob=0",
    "augment.color_jitter_prob=0",
    "augment.random_erasing_prob=0",
    "augment.gridmask_prob=0",
]


@pytest.fixture(scope="module")
def running_set(running_lspet_dir):
    return load_split(running_lspet_dir, "train", training=True)


def _transform(running_set, overrides, train=True):
    config = load_config("coco_256x192", overrides)
    return TopDownTransform(
        config.model,
        config.augment,
        running_set.keypoint_names,
        running_set.flip_pairs,
        train=train,
    )


def test_named_configs_load_and_follow_the_paper_recipe():
    assert set(available_configs()) >= {
        "coco_256x192",
        "mpii_256x256",
        "running_human_256x192_finetune",
    }
    for name in available_configs():
        config = load_config(name)
        assert config.optim.lr == 1e-3 and config.optim.epochs == 210
        assert config.optim.milestones == [170, 200] and config.optim.batch_size == 32
        assert config.eval.flip_test
    assert load_config("mpii_256x256").model.num_keypoints == 16
    tiny = tiny_preset(load_config("coco_256x192"))
    assert tiny.model.arch == "rhpnet_tiny"
    assert (tiny.model.input_height, tiny.model.input_width) == (128, 96)


def test_config_errors_name_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="unknown setting optim.'learning_rate'"):
        load_config("coco_256x192", ["optim.learning_rate=0.1"])
    with pytest.raises(ConfigError, match="optim.lr = 'fast': expected float"):
        load_config("coco_256x192", ["optim.lr=fast"])
    with pytest.raises(ConfigError, match="train.amp"):
        load_config("coco_256x192", ["train.amp=fp8"])
    with pytest.raises(ConfigError, match="train.eval_every = 0 must be at least 1"):
        load_config("coco_256x192", ["train.eval_every=0"])
    with pytest.raises(ConfigError, match="data.workers = -1 must be at least 0"):
        load_config("coco_256x192", ["data.workers=-1"])
    with pytest.raises(ConfigError, match="train.seed = -1 must be at least 0"):
        load_config("coco_256x192", ["train.seed=-1"])
    bad = tmp_path / "bad.toml"
    bad.write_text("[optim\nlr = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(str(bad))
    with pytest.raises(ConfigError, match="no config 'nope'"):
        load_config("nope")


def test_flip_mirrors_the_crop_and_swaps_left_and_right_targets(running_set):
    instance = running_set.instances[0]
    image = instance.image.read()
    plain = _transform(running_set, [*GEOMETRY_ONLY, "augment.flip_prob=0"])(
        image, instance, np.random.default_rng(1)
    )
    flipped = _transform(running_set, [*GEOMETRY_ONLY, "augment.flip_prob=1"])(
        image, instance, np.random.default_rng(1)
    )
    assert flipped.geometry.flipped and not plain.geometry.flipped
    mirrored = codec.flip_heatmaps(plain.heatmaps, COCO_FLIP_PERMUTATION)
    np.testing.assert_allclose(flipped.heatmaps, mirrored, atol=1e-2)
    np.testing.assert_array_equal(
        flipped.target_weight, plain.target_weight[list(COCO_FLIP_PERMUTATION)]
    )
    width = plain.crop_bgr.shape[1]
    expected = plain.keypoints[list(COCO_FLIP_PERMUTATION)]
    shown = expected[:, 2] > 0
    np.testing.assert_allclose(
        flipped.keypoints[shown, 0], width - 1 - expected[shown, 0], atol=1e-6
    )
    np.testing.assert_allclose(flipped.keypoints[shown, 1], expected[shown, 1], atol=1e-6)
    difference = np.abs(flipped.crop_bgr.astype(int) - plain.crop_bgr[:, ::-1].astype(int))
    assert difference.mean() < 1.0


def test_unaugmented_targets_peak_on_the_keypoints(running_set):
    instance = running_set.instances[3]
    sample = _transform(running_set, [], train=False)(
        instance.image.read(), instance, np.random.default_rng(0)
    )
    assert sample.image.shape == (3, 256, 192) and sample.heatmaps.shape == (17, 64, 48)
    center, scale = codec.box_to_center_scale(instance.crop_box, 192 / 256)
    matrix = codec.udp_warp_matrix(center, scale, (256, 192))
    expected = codec.transform_points(instance.keypoints[None, :, :2], matrix[None])[0]
    labelled = instance.keypoints[:, 2] > 0
    np.testing.assert_allclose(sample.keypoints[labelled, :2], expected[labelled], atol=1e-4)
    peaks, _ = codec.heatmap_maxima(sample.heatmaps)
    target = codec.input_to_heatmap(expected, (256, 192), (64, 48))
    assert np.abs(peaks[labelled] - target[labelled]).max() <= 0.5 + 1e-6
    assert sample.target_weight[labelled].all() and not sample.target_weight[~labelled].any()


def test_augmentation_depends_only_on_seed_epoch_and_index(running_set):
    config = load_config("coco_256x192")
    transform = TopDownTransform(
        config.model, config.augment, running_set.keypoint_names, running_set.flip_pairs, train=True
    )
    dataset = PoseDataset(running_set, transform, seed=7)
    first, again, other_epoch = dataset[(3, 5)], dataset[(3, 5)], dataset[(4, 5)]
    assert np.array_equal(first["image"].numpy(), again["image"].numpy())
    assert np.array_equal(first["heatmaps"].numpy(), again["heatmaps"].numpy())
    assert not np.array_equal(first["image"].numpy(), other_epoch["image"].numpy())


def test_occlusions_follow_the_spec_magnitudes():
    rng = np.random.default_rng(0)
    crop = np.full((256, 192, 3), 200, np.uint8)
    erased = [
        (random_erasing(crop, [0.02, 0.33], [0.3, 3.3], rng) == 0).all(axis=2).mean()
        for _ in range(200)
    ]
    assert 0.02 - 1e-3 <= min(erased) and max(erased) <= 0.33 + 1e-2
    masked = [(grid_mask(crop, [10, 40], 0.5, rng) == 0).all(axis=2).mean() for _ in range(200)]
    # Holes of half the unit in both directions drop about a quarter of the crop.
    assert 0.2 < float(np.mean(masked)) < 0.3


def test_preview_grid_is_written(sportpose_dir, tmp_path):
    from app import cli

    out = tmp_path / "grid.png"
    code = cli.main(
        ["train", "preview", "--config", "coco_256x192", "--tiny", "--data", str(sportpose_dir),
         "--out", str(out), "--count", "4"]
    )  # fmt: skip
    assert code == 0
    grid = cv2.imread(str(out))
    # Four 128x96 crops shown at 2x in one row, 4 px gaps.
    assert grid.shape == (256 + 8, 4 * 192 + 5 * 4, 3)
    assert grid.std() > 20  # real picture content, not a blank canvas


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["preview", "--count", "0"], "argument --count: must be at least 1, got 0"),
        (["preview", "--epoch", "-1"], "argument --epoch: must be at least 0, got -1"),
        (["pseudo-label", "run.mp4", "--sample-fps", "0"], "--sample-fps: must be above 0"),
    ],
)
def test_counts_and_rates_out_of_range_are_usage_errors(tmp_path, capsys, argv, message):
    from training.cli import main

    if argv[0] == "preview":
        argv += ["--config", "coco_256x192", "--data", str(tmp_path)]
    argv += ["--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
