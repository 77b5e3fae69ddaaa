"""The report and compare commands on bad input: one clear line, exit code 2, nothing written."""

from __future__ import annotations

import pytest

from app.cli import main


def test_opensim_needs_the_runner_height(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["analyze", str(tmp_path / "run.mp4"), "--out", str(tmp_path / "out"), "--opensim"])
    assert stop.value.code == 2
    assert "--opensim needs --runner-height-cm" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_report_of_a_missing_file(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "gone.mp4"), "--out", str(out)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == [f"rhpnet-coach: error: {tmp_path / 'gone.mp4'}: no such file"]
    assert not out.exists()


def test_compare_with_a_broken_sidecar(tmp_path, capsys):
    broken = tmp_path / "run.analysis.npz"
    broken.write_bytes(b"not an archive")
    assert main(["compare", str(broken), str(broken), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "not a readable analysis file" in error[0]
    assert not (tmp_path / "out").exists()


def test_report_rejects_an_impossible_slowmo(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["report", "x.analysis.npz", "--out", str(tmp_path), "--slowmo", "0"])
    assert "--slowmo must be" in capsys.readouterr().err


@pytest.mark.slow
def test_analyze_writes_cycles_report_and_opensim_files(treadmill_segment, tmp_path):
    out = tmp_path / "out"
    argv = [
        "analyze",
        str(treadmill_segment),
        "--out",
        str(out),
        "--no-video",
        "--cycles",
        "--report",
        "--opensim",
        "--runner-height-cm",
        "178",
    ]
    assert main(argv) == 0
    stem = treadmill_segment.stem
    for suffix in (".cycle.csv", ".cycle.png", ".report.pdf", ".trc", ".mot"):
        assert (out / f"{stem}{suffix}").stat().st_size > 0, suffix
    trc = (out / f"{stem}.trc").read_text().splitlines()
    # NumFrames, NumMarkers (COCO-17 and BlazePose's heels and toes), Units
    assert trc[2].split("\t")[2:5] == ["60", "21", "m"]
    assert len([line for line in trc[6:] if line]) == 60
    assert (out / f"{stem}.report.pdf").read_bytes()[:5] == b"%PDF-"
    assert not [p for p in out.iterdir() if ".partial" in p.name or p.name.startswith(".")]
