"""``rhpnet-coach analyze`` writes the runner's angles, metrics and plot (docs/kinematics.md)."""

from __future__ import annotations

import csv
import json

import pytest

from app import cli
from app.core.kinematics import ANGLE_NAMES


@pytest.mark.slow
def test_analyze_writes_angles_metrics_and_plot(tmp_path, treadmill_segment, capsys):
    out = tmp_path / "results"
    code = cli.main(
        [
            "analyze",
            str(treadmill_segment),
            "--out",
            str(out),
            "--no-video",
            "--plots",
            "--runner-height-cm",
            "180",
            "--slowmo",
            "2",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    stem = treadmill_segment.stem
    names = {p.name for p in out.iterdir()}
    assert {f"{stem}.angles.csv", f"{stem}.metrics.json", f"{stem}.angles.png"} <= names
    assert f"{stem}.metrics.json" in err  # listed among the outputs

    rows = list(csv.reader((out / f"{stem}.angles.csv").open()))
    assert rows[0] == ["frame", "time_s", "track_id", *ANGLE_NAMES]
    assert len(rows) == 1 + 60
    metrics = json.loads((out / f"{stem}.metrics.json").read_text())
    assert metrics["slowmo"] == 2.0 and metrics["runner_height_cm"] == 180.0
    assert metrics["frame_rate_hz"] == pytest.approx(120.0)  # 60 fps played twice as slow
    assert metrics["leg_length_cm"] == pytest.approx(0.491 * 180)
    assert metrics["vertical_oscillation"]["unit"] == "cm"
    assert (out / f"{stem}.angles.png").read_bytes().startswith(b"\x89PNG")


def test_bad_kinematics_options_are_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["analyze", "x.mp4", "--out", str(tmp_path), "--cutoff-hz", "0"])
    assert "--cutoff-hz must be positive" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["analyze", "x.mp4", "--out", str(tmp_path), "--runner-height-cm", "1.8"])
    assert "human height in cm" in capsys.readouterr().err
