"""Network structure: official HRNet key names, RHPNet additions, shapes, config, initialisation."""

from __future__ import annotations

import json

import pytest
import torch

from rhpnet import build_model
from rhpnet.checkpoints import save_checkpoint
from rhpnet.model import ARCHITECTURES, ModelConfig, build_from_config
from rhpnet.profile import count_params_and_macs
from tests.support.hrnet_key_list import key_list_path, read_sections

NEW_FUSE_PREFIXES = tuple(f"stage4.2.fuse_layers.{i}." for i in (1, 2, 3))
RFSP_PREFIXES = ("rfb_s.", "rfb.", "merge.", "sppf.", "final_layer.")


@pytest.fixture(scope="session")
def key_sections(shared_data):
    return read_sections(key_list_path(shared_data))


def _names_and_shapes(model: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    return [(name, tuple(t.shape)) for name, t in model.state_dict().items()]


def test_hrnet_w32_state_dict_equals_official_checkpoint_layout(key_sections, built_model):
    official = key_sections["A"]
    assert len(official) == 1754
    assert _names_and_shapes(built_model("hrnet_w32")) == official


def test_mmpose_backbone_names_are_the_official_names(key_sections):
    backbone = [(n.removeprefix("backbone."), s) for n, s in key_sections["B"] if "head." not in n]
    assert backbone == [(n, s) for n, s in key_sections["A"] if not n.startswith("final_layer")]


def test_rhpnet_w32_keeps_hrnet_trunk_names_and_adds_only_the_rfsp_parts(key_sections, built_model):
    rhpnet = dict(_names_and_shapes(built_model("rhpnet_w32")))
    official_trunk = {n: s for n, s in key_sections["A"] if not n.startswith("final_layer")}
    assert {n: rhpnet[n] for n in official_trunk} == official_trunk
    extra = set(rhpnet) - set(official_trunk)
    assert all(name.startswith(NEW_FUSE_PREFIXES + RFSP_PREFIXES) for name in extra)
    new_fuse = [n for n in extra if n.startswith(NEW_FUSE_PREFIXES)]
    # Spec §3.2: the extra fuse outputs have exactly the shapes of the previous module's.
    assert len(new_fuse) == sum(
        n.startswith(("stage4.1.fuse_layers.1", "stage4.1.fuse_layers.2", "stage4.1.fuse_layers.3"))
        for n in official_trunk
    )
    for name in new_fuse:
        assert rhpnet[name] == official_trunk[name.replace("stage4.2.", "stage4.1.", 1)]
    assert rhpnet["final_layer.weight"] == (17, 32, 1, 1)
    assert rhpnet["sppf.cv1.0.weight"] == (144, 288, 1, 1)
    assert rhpnet["sppf.cv2.0.weight"] == (32, 576, 1, 1)


@pytest.mark.parametrize("arch", ["hrnet_tiny", "rhpnet_tiny"])
@pytest.mark.parametrize(
    ("num_keypoints", "size"), [(17, (256, 192)), (16, (256, 256)), (1, (64, 32)), (5, (96, 160))]
)
def test_output_is_k_heatmaps_at_quarter_resolution(arch, num_keypoints, size):
    model = build_model(arch, num_keypoints=num_keypoints).eval()
    with torch.no_grad():
        heatmaps = model(torch.randn(2, 3, *size))
    assert heatmaps.shape == (2, num_keypoints, size[0] // 4, size[1] // 4)
    assert torch.isfinite(heatmaps).all()


def test_input_not_multiple_of_32_is_rejected_clearly():
    with pytest.raises(ValueError, match="multiples of 32"):
        build_model("hrnet_tiny")(torch.zeros(1, 3, 100, 96))


@pytest.mark.parametrize("arch", ["hrnet_tiny", "rhpnet_tiny"])
def test_every_parameter_takes_part_in_training(arch):
    model = build_model(arch).train()
    model(torch.randn(8, 3, 128, 96)).square().mean().backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert unused == []


def test_rhpnet_high_resolution_feature_is_the_hrnet_output():
    """Spec §3.0 step 2: F1 is HRNet's 1/4 output, so HRNet weights keep their meaning."""
    hrnet, rhpnet = build_model("hrnet_tiny").eval(), build_model("rhpnet_tiny").eval()
    result = rhpnet.load_state_dict(hrnet.state_dict(), strict=False)
    assert not [k for k in result.unexpected_keys if not k.startswith("final_layer")]
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        hrnet_shallow, hrnet_features = hrnet.forward_features(x)
        rhpnet_shallow, rhpnet_features = rhpnet.forward_features(x)
    assert len(hrnet_features) == 1 and len(rhpnet_features) == 4
    torch.testing.assert_close(rhpnet_features[0], hrnet_features[0], rtol=0, atol=0)
    torch.testing.assert_close(rhpnet_shallow, hrnet_shallow, rtol=0, atol=0)
    assert [f.shape[1] for f in rhpnet_features] == [8, 16, 32, 64]
    assert [f.shape[-1] for f in rhpnet_features] == [16, 8, 4, 2]


def test_initialisation_follows_hrnet():
    model = build_model("rhpnet_tiny", num_keypoints=3)
    conv = model.stage3[0].branches[2][0].conv1.weight
    assert 0.0008 < conv.std().item() < 0.0012
    assert abs(conv.mean().item()) < 1e-4
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            assert torch.all(module.weight == 1) and torch.all(module.bias == 0)
            assert torch.all(module.running_mean == 0) and torch.all(module.running_var == 1)
            assert module.num_batches_tracked == 0
    assert torch.all(model.final_layer.bias == 0)


def test_model_exposes_a_config_that_rebuilds_it():
    model = build_model("rhpnet_w48", num_keypoints=16)
    config = model.config
    assert (config.arch, config.head, config.num_keypoints) == ("rhpnet_w48", "rfsp", 16)
    assert config.widths == (48, 96, 192, 384)
    assert (model.arch, model.num_keypoints) == ("rhpnet_w48", 16)
    assert model.transition1[0][0].weight.shape == (48, 256, 3, 3)
    assert model.sppf.cv1[0].weight.shape == (152, 304, 1, 1)
    assert ModelConfig.from_dict(config.to_dict()) == config
    custom = build_model("rhpnet_tiny", num_keypoints=2, widths=(16, 32, 64, 128))
    restored = ModelConfig.from_dict(custom.config.to_dict())
    assert restored == custom.config
    assert _names_and_shapes(build_from_config(restored)) == _names_and_shapes(custom)


def test_overrides_and_bad_names():
    model = build_model("hrnet_tiny", num_keypoints=4, widths=(16, 32, 64, 128))
    assert model.config.widths == (16, 32, 64, 128)
    assert model.final_layer.weight.shape == (4, 16, 1, 1)
    with pytest.raises(ValueError, match="unknown architecture 'hrnet_w64'.*rhpnet_w32"):
        build_model("hrnet_w64")
    with pytest.raises(TypeError, match="unknown model option.*'width'"):
        build_model("hrnet_tiny", width=3)
    with pytest.raises(ValueError, match="widths must be 4"):
        build_model("hrnet_tiny", widths=(8, 16))


def test_architecture_table():
    assert set(ARCHITECTURES) == {
        "hrnet_w32",
        "hrnet_w48",
        "rhpnet_w32",
        "rhpnet_w48",
        "hrnet_tiny",
        "rhpnet_tiny",
    }
    for name, config in ARCHITECTURES.items():
        assert config.arch == name
        assert config.head == ("rfsp" if name.startswith("rhpnet") else "plain")


# --- rhpnet-coach model-info ------------------------------------------------------------------


def _run_cli(args, capsys) -> tuple[int, str, str]:
    from app import cli

    code = cli.main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_model_info_json_for_hrnet_w32(capsys):
    code, out, _ = _run_cli(["model-info", "--arch", "hrnet_w32", "--json"], capsys)
    assert code == 0
    info = json.loads(out)
    assert {k: info[k] for k in ("arch", "input_size", "params", "macs", "gflops_paper")} == {
        "arch": "hrnet_w32",
        "input_size": [256, 192],
        "params": 28_536_113,
        "macs": 7_645_003_776,
        "gflops_paper": 7.12,
    }
    assert sum(part["macs"] for part in info["parts"]) == info["macs"]
    assert info["parts"][0] == {"part": "stem", "params": 38_848, "macs": 134_479_872}


def test_model_info_table_and_checkpoint_description(tmp_path, capsys):
    model = build_model("rhpnet_tiny", num_keypoints=3)
    path = save_checkpoint(
        tmp_path / "tiny.pth",
        model,
        keypoint_names=["head", "hip", "ankle"],
        input_size=(128, 96),
        recipe={"lr": 0.001},
        extra={"epoch": 4},
    )
    code, out, _ = _run_cli(["model-info", "--checkpoint", str(path)], capsys)
    assert code == 0
    assert "rhpnet_tiny: 3 keypoints, input 128x96 -> heatmaps 32x24" in out
    assert "format      rhpnet-coach" in out and "head, hip, ankle" in out
    assert '{"epoch": 4}' in out and "tensors loaded" in out
    code, out, _ = _run_cli(
        ["model-info", "--checkpoint", str(path), "--input-size", "64", "64", "--json"], capsys
    )
    info = json.loads(out)
    assert info["input_size"] == [64, 64] and info["num_keypoints"] == 3
    assert info["checkpoint"]["input_size"] == [128, 96]
    assert info["checkpoint"]["load_report"]["random"] == []
    expected = count_params_and_macs(model, (64, 64))
    assert (info["params"], info["macs"]) == (expected.params, expected.macs)


def test_model_info_bad_input(tmp_path, capsys):
    code, _, err = _run_cli(["model-info", "--checkpoint", str(tmp_path / "none.pth")], capsys)
    assert code == 2 and err.startswith("rhpnet-coach: error: checkpoint file not found")
    with pytest.raises(SystemExit) as exit_info:
        _run_cli(["model-info", "--arch", "hrnet_tiny", "--input-size", "100", "96"], capsys)
    assert exit_info.value.code == 2
    assert "multiples of 32" in capsys.readouterr().err


def test_simsppf_pools_are_exactly_the_nchw_computation():
    from rhpnet.model.rfsp import SimSPPF

    block = SimSPPF(24, 8).eval()
    x = torch.randn(2, 24, 16, 12)
    with torch.no_grad():
        reduced = block.cv1(x)
        p1 = torch.nn.functional.max_pool2d(reduced, 5, 1, 2)
        p2 = torch.nn.functional.max_pool2d(p1, 5, 1, 2)
        p3 = torch.nn.functional.max_pool2d(p2, 5, 1, 2)
        expected = block.cv2(torch.cat([reduced, p1, p2, p3], dim=1))
        out = block(x)
        out_cl = block(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(out, expected)
    assert out.is_contiguous()
    assert out_cl.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out_cl, expected)
