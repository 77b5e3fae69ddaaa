"""The one registry of output files (app/core/outputs.py, docs/engine.md "Outputs")."""

from __future__ import annotations

import dataclasses
import errno

import pytest

from app import cli
from app.core.outputs import OUTPUT_KINDS, OUTPUTS, OutputInputs, chosen_outputs, write_outputs
from app.core.running_report import build_report
from tests.support.synthetic_runner import as_analysis, case

SOCCER = "posetrack18_000001_soccer_run_5frames.mp4"
ALWAYS = ["keypoints_csv", "coco_json", "angles_csv", "metrics_json", "metrics_csv"]


def test_every_kind_has_its_own_suffix_and_a_way_to_ask_for_it():
    suffixes = [kind.suffix for kind in OUTPUTS]
    assert len(set(suffixes)) == len(suffixes)
    assert set(OUTPUT_KINDS) == {kind.key for kind in OUTPUTS}
    every_option = ["--plots", "--cycles", "--opensim", "--report"]
    assert [k.key for k in chosen_outputs(every_option)] == [k.key for k in OUTPUTS]


def test_the_options_choose_the_kinds():
    assert [k.key for k in chosen_outputs([])] == [*ALWAYS, "overlay_video"]
    assert [k.key for k in chosen_outputs(["--no-video"])] == ALWAYS
    assert [k.key for k in chosen_outputs(["--no-video", "--cycles"])] == [
        *ALWAYS,
        "cycle_csv",
        "cycle_png",
    ]


@pytest.fixture(scope="module")
def synthetic_inputs():
    analysis = as_analysis(case("treadmill_right_60fps", duration_s=4.0))
    return OutputInputs(analysis, build_report(analysis))


def test_outputs_are_written_all_or_nothing(synthetic_inputs, tmp_path, monkeypatch):
    """A full disk while the fourth file is written: the three before it are not left behind
    either, the previous files stay as they were, and no temporary file remains."""
    kinds = [OUTPUT_KINDS[key] for key in ALWAYS]
    old = tmp_path / "synthetic_1.angles.csv"
    old.write_text("the previous analysis")

    def full_disk(inputs, path, progress, cancel):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    broken = list(kinds)
    broken[3] = dataclasses.replace(kinds[3], write=full_disk)
    with pytest.raises(OSError, match="synthetic_1.metrics.json"):
        write_outputs(synthetic_inputs, broken, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synthetic_1.angles.csv"]
    assert old.read_text() == "the previous analysis"

    written = write_outputs(synthetic_inputs, kinds, tmp_path)
    assert [p.name for p in written] == [
        "synthetic_1.analysis.npz",
        "synthetic_1.analysis.json",
        *(f"synthetic_1{OUTPUT_KINDS[key].suffix}" for key in ALWAYS),
    ]
    assert old.read_text().startswith("frame,time_s,track_id")


def test_a_report_kind_without_a_report_is_refused(synthetic_inputs, tmp_path):
    with pytest.raises(ValueError, match="Metrics JSON"):
        write_outputs(
            OutputInputs(synthetic_inputs.analysis), [OUTPUT_KINDS["metrics_json"]], tmp_path
        )
    assert list(tmp_path.iterdir()) == []


def test_analyze_writes_every_kind_the_export_menu_offers(tmp_path, videos_dir, capsys):
    out = tmp_path / "all"
    argv = ["analyze", str(videos_dir / SOCCER), "--out", str(out), "--runner-height-cm", "175"]
    code = cli.main([*argv, "--plots", "--cycles", "--opensim", "--report"])
    err = capsys.readouterr().err
    assert code == 0, err
    stem = SOCCER[:-4]
    names = {p.name for p in out.iterdir()}
    assert names == {f"{stem}{kind.suffix}" for kind in OUTPUTS} | {
        f"{stem}.analysis.npz",
        f"{stem}.analysis.json",
    }
    assert all((out / name).stat().st_size > 0 for name in names)
