"""Checkpoints: our format round trip, public HRNet layouts built from the key list, bad files."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import rhpnet
from rhpnet import download
from rhpnet.checkpoints import FORMAT_MARKER, load_checkpoint, save_checkpoint
from rhpnet.errors import CheckpointError
from rhpnet.skeleton import COCO_FLIP_PAIRS, COCO_KEYPOINT_NAMES, MPII_KEYPOINT_NAMES
from tests.support.hrnet_key_list import key_list_path, read_sections

COUNTER = "num_batches_tracked"


@pytest.fixture(scope="session")
def key_sections(shared_data):
    return read_sections(key_list_path(shared_data))


@pytest.fixture(scope="session")
def official_tensors(key_sections) -> dict[str, torch.Tensor]:
    """Random tensors with exactly the official W32 names and shapes (Section A)."""
    generator = torch.Generator().manual_seed(0)
    return {
        name: torch.randint(0, 1000, shape, dtype=torch.long, generator=generator)
        if name.endswith(COUNTER)
        else torch.randn(shape, generator=generator)
        for name, shape in key_sections["A"]
    }


def _mmpose_layout(tensors: dict[str, torch.Tensor], head_prefix: str) -> dict[str, torch.Tensor]:
    return {
        (head_prefix if name.startswith("final_layer") else "backbone.") + name: tensor
        for name, tensor in tensors.items()
    }


class HistoryBuffer:
    """Stands for mmengine's log object in real mmpose 1.x checkpoints; must never run on load."""

    restored = False

    def __init__(self) -> None:
        self.values = [1.0, 2.0]

    def __setstate__(self, state) -> None:
        HistoryBuffer.restored = True
        self.__dict__.update(state)


class RunsCommand:
    """A pickle that would run a shell command when loaded without weights_only."""

    def __reduce__(self):
        return (os.system, ("echo should-never-run",))


@pytest.fixture(scope="session")
def public_files(tmp_path_factory, official_tensors, key_sections) -> dict[str, Path]:
    """One synthetic file per public layout, each holding the same tensors."""
    folder = tmp_path_factory.mktemp("public")
    no_counters = {k: v for k, v in official_tensors.items() if not k.endswith(COUNTER)}
    combined_head = {
        name.removeprefix("keypoint_head."): torch.randn(shape)
        for name, shape in key_sections["C51"]
    }
    assert combined_head["final_layer.weight"].shape == (51, 32, 1, 1)
    layouts = {
        "official": (official_tensors, {}),
        "official_legacy_no_counters": (no_counters, {"_use_new_zipfile_serialization": False}),
        "mmpose0": (
            {
                "meta": {"epoch": 210},
                "state_dict": _mmpose_layout(official_tensors, "keypoint_head."),
            },
            {},
        ),
        "mmpose1": (
            {
                "meta": {
                    "dataset_meta": {"sigmas": np.ones(17, dtype=np.float32)},
                    "message_hub": HistoryBuffer(),
                },
                "state_dict": _mmpose_layout(no_counters, "head."),
            },
            {},
        ),
        "module_prefix": (
            {"state_dict": {"module." + k: v for k, v in official_tensors.items()}},
            {},
        ),
        "combined_target": (
            {"state_dict": _mmpose_layout({**no_counters, **combined_head}, "keypoint_head.")},
            {},
        ),
    }
    files = {}
    for name, (payload, options) in layouts.items():
        files[name] = folder / f"{name}.pth"
        torch.save(payload, files[name], **options)
    return files


def _assert_all_loaded(model, tensors: dict[str, torch.Tensor]) -> None:
    state = model.state_dict()
    for name, tensor in tensors.items():
        assert torch.equal(state[name], tensor.to(state[name].dtype)), name


@pytest.mark.parametrize(
    ("layout", "expected_format"),
    [
        ("official", "official-hrnet"),
        ("official_legacy_no_counters", "official-hrnet"),
        ("mmpose0", "mmpose-0.x"),
        ("mmpose1", "mmpose-1.x"),
        ("module_prefix", "official-hrnet"),
    ],
)
def test_public_checkpoint_fills_every_hrnet_tensor(
    public_files, official_tensors, layout, expected_format
):
    loaded = rhpnet.load_checkpoint(public_files[layout])
    model, report = loaded.model, loaded.report
    assert report.source_format == expected_format
    assert report.complete and report.ignored == [] and report.random == []
    with_counters = layout in ("official", "mmpose0", "module_prefix")
    assert len(report.loaded) == (1754 if with_counters else 1754 - 292)
    _assert_all_loaded(
        model, {k: v for k, v in official_tensors.items() if not k.endswith(COUNTER)}
    )
    meta = loaded.meta
    assert (meta.arch, meta.num_keypoints, meta.source_format) == ("hrnet_w32", 17, expected_format)
    assert meta.keypoint_names == COCO_KEYPOINT_NAMES and meta.flip_pairs == COCO_FLIP_PAIRS
    assert meta.input_size == (256, 192) and meta.heatmap_size == (64, 48)
    assert not model.training


def test_metadata_objects_never_execute(public_files):
    HistoryBuffer.restored = False
    rhpnet.load_checkpoint(public_files["mmpose1"])
    assert HistoryBuffer.restored is False


def test_public_hrnet_into_rhpnet_warm_starts_new_fuse_layers(public_files, official_tensors):
    loaded = load_checkpoint(public_files["mmpose0"], arch="rhpnet_w32")
    model, report = loaded.model, loaded.report
    trunk = {k: v for k, v in official_tensors.items() if not k.startswith("final_layer")}
    assert sorted(report.loaded) == sorted(trunk)
    _assert_all_loaded(model, trunk)
    assert len(report.warm_started) == 78
    state = model.state_dict()
    for name, origin in report.warm_started.items():
        assert name.startswith(
            ("stage4.2.fuse_layers.1", "stage4.2.fuse_layers.2", "stage4.2.fuse_layers.3")
        )
        assert origin == name.replace("stage4.2.", "stage4.1.")
        assert torch.equal(state[name], official_tensors[origin].to(state[name].dtype))
    assert report.ignored == ["final_layer.weight", "final_layer.bias"]
    random_parts = {name.split(".")[0] for name in report.random}
    assert random_parts == {"rfb_s", "rfb", "merge", "sppf", "final_layer"}
    assert not any(name.endswith(COUNTER) for name in report.random)
    assert "527 left at random init" in report.summary()
    assert loaded.meta.arch == "rhpnet_w32"


def test_combined_target_head(public_files):
    with pytest.raises(CheckpointError, match="51-channel UDP CombinedTarget head"):
        load_checkpoint(public_files["combined_target"])
    rhpnet_model = load_checkpoint(public_files["combined_target"], arch="rhpnet_w32")
    assert rhpnet_model.model.num_keypoints == 17
    assert rhpnet_model.report.ignored == ["final_layer.weight", "final_layer.bias"]
    trunk_only = load_checkpoint(public_files["combined_target"], backbone_only=True)
    assert trunk_only.report.random == ["final_layer.weight", "final_layer.bias"]
    assert trunk_only.model.final_layer.weight.shape == (17, 32, 1, 1)


def test_wrong_keypoint_count_and_new_head(public_files):
    with pytest.raises(
        CheckpointError, match="wrong number of keypoints: official.pth has 17, expected 16"
    ):
        load_checkpoint(public_files["official"], num_keypoints=16)
    mpii = load_checkpoint(public_files["official"], num_keypoints=16, backbone_only=True)
    assert mpii.model.final_layer.weight.shape == (16, 32, 1, 1)
    assert mpii.meta.keypoint_names == MPII_KEYPOINT_NAMES
    assert mpii.report.random == ["final_layer.weight", "final_layer.bias"]


def test_shape_mismatch_names_the_tensor(tmp_path, official_tensors):
    broken = dict(official_tensors)
    broken["stage3.1.branches.2.0.conv1.weight"] = torch.zeros(128, 128, 1, 1)
    path = tmp_path / "broken.pth"
    torch.save(broken, path)
    with pytest.raises(
        CheckpointError,
        match=r"shape mismatch .*stage3\.1\.branches\.2\.0\.conv1\.weight is \(128, 128, 1, 1\)",
    ):
        load_checkpoint(path)


def test_registry_name_resolves_to_cached_download(public_files):
    name = "hrnet_w32_coco_256x192_udp"
    with pytest.raises(
        CheckpointError, match="not downloaded yet: run 'rhpnet-coach weights download"
    ):
        load_checkpoint(name)
    cached = download.cache_dir() / download.WEIGHTS[name].filename
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.symlink_to(public_files["mmpose0"])
    try:
        assert load_checkpoint(name).meta.path == str(cached)
    finally:
        cached.unlink()


# --- our own format ---------------------------------------------------------------------------


def test_our_format_round_trip(tmp_path):
    model = rhpnet.build_model("rhpnet_tiny", num_keypoints=5).eval()
    names = [f"point_{i}" for i in range(5)]
    path = save_checkpoint(
        tmp_path / "run" / "best.pth",
        model,
        keypoint_names=names,
        input_size=(128, 96),
        recipe={"lr": 1e-3, "milestones": [170, 200], "dataset": "coco"},
        extra={"epoch": 12, "ap": 0.61},
        flip_pairs=[(1, 2), (3, 4)],
    )
    assert [p.name for p in path.parent.iterdir()] == ["best.pth"]
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == FORMAT_MARKER and raw["rhpnet_version"] == rhpnet.__version__
    loaded = rhpnet.load_checkpoint(path)
    meta = loaded.meta
    assert meta.source_format == "rhpnet-coach"
    assert (meta.arch, meta.num_keypoints, meta.keypoint_names) == ("rhpnet_tiny", 5, tuple(names))
    assert (meta.input_size, meta.heatmap_size) == ((128, 96), (32, 24))
    assert meta.recipe["milestones"] == [170, 200] and meta.extra == {"epoch": 12, "ap": 0.61}
    assert meta.flip_pairs == ((1, 2), (3, 4))
    assert loaded.report.complete
    assert loaded.model.config == model.config
    x = torch.randn(1, 3, 128, 96)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x), model(x), rtol=0, atol=0)


def test_estimator_takes_its_settings_from_the_metadata(tmp_path):
    from rhpnet.estimators.topdown import TopDownEstimator

    model = rhpnet.build_model("hrnet_tiny", num_keypoints=3)
    path = save_checkpoint(
        tmp_path / "m.pth",
        model,
        keypoint_names=["nose", "left_toe", "right_toe"],
        input_size=(128, 96),
        flip_pairs=[(1, 2)],
    )
    loaded = load_checkpoint(path)
    assert loaded.meta.flip_pairs == ((1, 2),)
    assert TopDownEstimator(loaded.model, meta=loaded.meta).flip_permutation == (0, 2, 1)
    estimator = TopDownEstimator(
        loaded.model, meta=loaded.meta, device="cpu", flip_pairs=loaded.meta.flip_pairs
    )
    assert estimator.input_size == (128, 96)
    assert estimator.keypoint_names == ("nose", "left_toe", "right_toe")
    assert estimator.flip_permutation == (0, 2, 1)
    with pytest.raises(
        ValueError, match=r"flip_pairs \[\[1, 5\]\] refer to keypoints outside 0..2"
    ):
        save_checkpoint(
            tmp_path / "bad.pth",
            model,
            keypoint_names=["a", "b", "c"],
            input_size=(64, 64),
            flip_pairs=[(1, 5)],
        )


def test_bare_state_dict_of_our_network(tmp_path):
    model = rhpnet.build_model("rhpnet_tiny")
    torch.save(model.state_dict(), tmp_path / "bare.pth")
    loaded = load_checkpoint(tmp_path / "bare.pth", arch="rhpnet_tiny")
    assert loaded.report.source_format == "state-dict" and loaded.report.complete
    with pytest.raises(CheckpointError, match="holds an HRNet of width 8; supported"):
        load_checkpoint(tmp_path / "bare.pth")


def test_custom_widths_survive_and_wrappers_are_unwrapped(tmp_path):
    model = rhpnet.build_model("hrnet_tiny", num_keypoints=2, widths=(16, 32, 64, 128))
    wrapped = torch.nn.DataParallel(model)
    path = save_checkpoint(
        tmp_path / "w.pth", wrapped, keypoint_names=["a", "b"], input_size=(64, 64)
    )
    loaded = load_checkpoint(path)
    assert loaded.model.config.widths == (16, 32, 64, 128)
    assert not any(
        k.startswith("module.") for k in torch.load(path, weights_only=True)["state_dict"]
    )


def test_save_rejects_bad_metadata_and_keeps_old_file(tmp_path):
    model = rhpnet.build_model("hrnet_tiny", num_keypoints=2)
    path = tmp_path / "keep.pth"
    save_checkpoint(path, model, keypoint_names=["a", "b"], input_size=(64, 64))
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"recipe\['out'\] holds a PosixPath"):
        save_checkpoint(
            path, model, keypoint_names=["a", "b"], input_size=(64, 64), recipe={"out": tmp_path}
        )
    with pytest.raises(ValueError, match="3 keypoint names given for a model with 2"):
        save_checkpoint(path, model, keypoint_names=["a", "b", "c"], input_size=(64, 64))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.pth"]


def test_our_hrnet_into_rhpnet_and_back(tmp_path):
    hrnet = rhpnet.build_model("hrnet_tiny")
    hrnet_file = save_checkpoint(
        tmp_path / "h.pth", hrnet, keypoint_names=COCO_KEYPOINT_NAMES, input_size=(256, 192)
    )
    warm = load_checkpoint(hrnet_file, arch="rhpnet_tiny")
    assert warm.report.warm_started == {}  # one module in stage 4: nothing to copy from
    assert "final_layer.weight" in warm.report.random
    rhp = rhpnet.build_model("rhpnet_tiny")
    rhp_file = save_checkpoint(
        tmp_path / "r.pth", rhp, keypoint_names=COCO_KEYPOINT_NAMES, input_size=(256, 192)
    )
    with pytest.raises(
        CheckpointError, match="wrong architecture: r.pth holds rhpnet_tiny weights"
    ):
        load_checkpoint(rhp_file, arch="hrnet_tiny")
    trunk = load_checkpoint(rhp_file, arch="hrnet_tiny", backbone_only=True)
    assert trunk.report.random == ["final_layer.weight", "final_layer.bias"]
    assert any(name.startswith("rfb_s.") for name in trunk.report.ignored)
    with pytest.raises(CheckpointError, match="width-8 network .*not hrnet_w32 \\(width 32\\)"):
        load_checkpoint(hrnet_file, arch="hrnet_w32")
    with pytest.raises(CheckpointError, match="unknown architecture 'resnet50'"):
        load_checkpoint(hrnet_file, arch="resnet50")


def test_tensors_the_file_lacks_get_hrnet_initialisation(tmp_path):
    """Loading fills the model from the file and initialises only what the file lacks."""
    hrnet = rhpnet.build_model("hrnet_tiny")
    with torch.no_grad():
        for parameter in hrnet.parameters():
            parameter.add_(1.0)  # unlike any initial value
    saved = {k: v for k, v in hrnet.state_dict().items() if not k.endswith(COUNTER)}
    torch.save(saved, tmp_path / "no_counters.pth")
    loaded = load_checkpoint(tmp_path / "no_counters.pth", arch="rhpnet_tiny")
    model = loaded.model
    state = model.state_dict()
    for name in loaded.report.loaded:
        assert torch.equal(state[name], saved[name]), name
    random = set(loaded.report.random)
    new_parts = ("rfb_s.", "rfb.", "merge.", "sppf.", "final_layer.", "stage4.0.fuse_layers.")
    assert random and all(name.startswith(new_parts) for name in random)
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            assert module.num_batches_tracked == 0, name
            if f"{name}.weight" in random:
                assert torch.all(module.weight == 1) and torch.all(module.bias == 0), name
                assert torch.all(module.running_mean == 0) and torch.all(module.running_var == 1)
    conv = state["sppf.cv1.0.weight"]
    assert 0.0008 < conv.std().item() < 0.0012
    assert torch.all(state["final_layer.bias"] == 0)


# --- bad files --------------------------------------------------------------------------------


@pytest.fixture()
def tiny_checkpoint(tmp_path) -> Path:
    model = rhpnet.build_model("hrnet_tiny")
    return save_checkpoint(
        tmp_path / "tiny.pth", model, keypoint_names=COCO_KEYPOINT_NAMES, input_size=(256, 192)
    )


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_missing_empty_and_folder(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint file not found: .*nope.pth"):
        load_checkpoint(tmp_path / "nope.pth")
    with pytest.raises(CheckpointError, match="is empty"):
        load_checkpoint(_write(tmp_path / "empty.pth", b""))
    with pytest.raises(CheckpointError, match="is a folder"):
        load_checkpoint(tmp_path)


def test_files_that_are_not_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match="is not a PyTorch checkpoint"):
        load_checkpoint(_write(tmp_path / "notes.pth", b"epoch 1 loss 0.3\n"))
    with pytest.raises(CheckpointError, match="is not a PyTorch checkpoint"):
        load_checkpoint(_write(tmp_path / "plain.pkl", pickle.dumps({"weights": [1, 2, 3]})))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError, match="is a zip archive but not a PyTorch checkpoint"):
        load_checkpoint(_write(tmp_path / "other.zip", archive.getvalue()))
    torch.save([torch.zeros(3)], tmp_path / "list.pth")
    with pytest.raises(CheckpointError, match="not a model checkpoint \\(it holds a list"):
        load_checkpoint(tmp_path / "list.pth")
    torch.save({"epoch": 3, "lr": 0.1}, tmp_path / "nums.pth")
    with pytest.raises(CheckpointError, match="not a model checkpoint \\(no named tensors"):
        load_checkpoint(tmp_path / "nums.pth")


def test_truncated_files(tmp_path, tiny_checkpoint):
    data = tiny_checkpoint.read_bytes()
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(_write(tmp_path / "cut.pth", data[: len(data) // 2]))
    legacy = tmp_path / "legacy.pth"
    torch.save(
        torch.load(tiny_checkpoint, weights_only=True), legacy, _use_new_zipfile_serialization=False
    )
    cut = legacy.read_bytes()
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(_write(tmp_path / "legacy_cut.pth", cut[: len(cut) * 2 // 3]))


def test_wrong_architecture_resnet(tmp_path):
    resnet = {
        "conv1.weight": torch.zeros(64, 3, 7, 7),
        "bn1.weight": torch.ones(64),
        "layer1.0.conv1.weight": torch.zeros(64, 64, 1, 1),
        "fc.weight": torch.zeros(1000, 2048),
    }
    torch.save(resnet, tmp_path / "resnet50.pth")
    with pytest.raises(
        CheckpointError, match="wrong architecture: resnet50.pth does not hold an HRNet"
    ):
        load_checkpoint(tmp_path / "resnet50.pth")


def test_unexpected_and_missing_tensors(tmp_path, tiny_checkpoint):
    raw = torch.load(tiny_checkpoint, weights_only=True)
    raw["state_dict"]["incre_modules.0.weight"] = torch.zeros(3)
    torch.save(raw, tmp_path / "extra.pth")
    with pytest.raises(
        CheckpointError, match="has 1 tensors hrnet_tiny does not have, e.g. incre_modules.0.weight"
    ):
        load_checkpoint(tmp_path / "extra.pth")
    raw = torch.load(tiny_checkpoint, weights_only=True)
    del raw["state_dict"]["stage3.0.branches.1.0.conv2.weight"]
    torch.save(raw, tmp_path / "missing.pth")
    with pytest.raises(
        CheckpointError,
        match="lacks 1 tensors of hrnet_tiny, e.g. stage3.0.branches.1.0.conv2.weight",
    ):
        load_checkpoint(tmp_path / "missing.pth")


def test_newer_format_and_damaged_metadata(tmp_path, tiny_checkpoint):
    raw = torch.load(tiny_checkpoint, weights_only=True)
    torch.save({**raw, "format_version": 99}, tmp_path / "future.pth")
    with pytest.raises(CheckpointError, match="newer rhpnet-coach \\(format version 99\\)"):
        load_checkpoint(tmp_path / "future.pth")
    torch.save({**raw, "model_config": {"arch": "x"}}, tmp_path / "damaged.pth")
    with pytest.raises(CheckpointError, match="damaged metadata"):
        load_checkpoint(tmp_path / "damaged.pth")


def test_code_in_a_pickle_is_refused(tmp_path, tiny_checkpoint):
    raw = torch.load(tiny_checkpoint, weights_only=True)
    raw["extra"] = {"payload": RunsCommand()}
    torch.save(raw, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError, match="refers to Python code that is never loaded"):
        load_checkpoint(tmp_path / "evil.pth")
