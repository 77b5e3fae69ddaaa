"""OpenSim exports (docs/opensim.md): .trc and .mot headers as the formats describe, read back."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.opensim import TRC_HEADER_FIELDS, write_mot, write_trc
from app.core.running_report import build_report
from rhpnet.errors import DataError
from rhpnet.skeleton import COCO_KEYPOINT_NAMES
from tests.support import synthetic_runner

HEIGHT_CM = 175.0  # the synthetic runner's true height


@pytest.fixture(scope="module")
def run_and_report():
    run = synthetic_runner.case("treadmill_right_60fps", long_gap_s=0.2)
    return run, build_report(synthetic_runner.as_analysis(run), runner_height_cm=HEIGHT_CM)


def test_trc_header_and_trajectories_in_metres(run_and_report, tmp_path):
    run, report = run_and_report
    path = write_trc(report, tmp_path / "run.trc")
    lines = path.read_text().split("\n")
    assert lines[0].split("\t") == ["PathFileType", "4", "(X/Y/Z)", "run.trc"]
    assert lines[1].split("\t") == list(TRC_HEADER_FIELDS)
    header = dict(zip(TRC_HEADER_FIELDS, lines[2].split("\t"), strict=True))
    frames = len(report.frames)
    assert float(header["DataRate"]) == pytest.approx(60.0)
    assert float(header["CameraRate"]) == pytest.approx(60.0)
    assert header["NumFrames"] == header["OrigNumFrames"] == str(frames)
    assert header["NumMarkers"] == "17" and header["Units"] == "m"
    assert header["OrigDataStartFrame"] == "1"
    names = lines[3].split("\t")
    assert names[:2] == ["Frame#", "Time"]
    assert names[2::3] == list(COCO_KEYPOINT_NAMES)  # each name over its three columns
    assert lines[4].split("\t")[2:5] == ["X1", "Y1", "Z1"]
    assert lines[4].split("\t")[-3:] == ["X17", "Y17", "Z17"]
    assert lines[5] == ""
    rows = [line.split("\t") for line in lines[6:] if line]
    assert len(rows) == frames
    assert all(len(row) == 2 + 3 * 17 for row in rows)
    assert [int(r[0]) for r in rows] == list(range(1, frames + 1))
    times = np.array([float(r[1]) for r in rows])
    assert np.allclose(times, np.arange(frames) / 60.0, atol=1e-6)  # t = (f - 1) / DataRate
    xyz = np.array([[float(c) if c else np.nan for c in r[2:]] for r in rows]).reshape(-1, 17, 3)
    # Right thigh (hip 12 -> knee 14) comes back at its true 0.245 x height, within 3 %.
    thigh = np.nanmedian(np.linalg.norm(xyz[:, 14] - xyz[:, 12], axis=1))
    assert thigh == pytest.approx(0.245 * HEIGHT_CM / 100, rel=0.03)
    assert np.nanmax(np.abs(xyz[..., 2])) == 0.0
    assert np.nanmin(xyz[:, 15:17, 1]) == pytest.approx(0.0, abs=1e-6)  # Y = 0 at the ground
    # The knee is in front of the hip in mid-swing: X is the runner's forward direction.
    assert np.nanmax(xyz[:, 14, 0] - xyz[:, 12, 0]) > 0.15
    # The right ankle's gap is left empty, not filled.
    assert np.isnan(xyz[:, 16, 0]).sum() == np.isnan(report.cleaned.keypoints[:, 16, 0]).sum() > 0


def test_mot_header_and_angles(run_and_report, tmp_path):
    _, report = run_and_report
    path = write_mot(report, tmp_path / "run.mot")
    lines = path.read_text().split("\n")
    end = lines.index("endheader")
    header = lines[:end]
    assert header[0] == "Coordinates"
    assert header[1] == "version=1"
    assert header[2] == f"nRows={len(report.frames)}"
    labels = lines[end + 1].split("\t")
    assert header[3] == f"nColumns={len(labels)}"
    assert "inDegrees=yes" in header
    assert labels[0] == "time" and set(labels[1:]) == set(report.angles)
    data = np.array([[float(c) for c in line.split("\t")] for line in lines[end + 2 :] if line])
    assert data.shape == (len(report.frames), len(labels))
    for column, name in enumerate(labels[1:], start=1):
        assert np.allclose(data[:, column], report.angles[name], atol=1e-5, equal_nan=True)


def test_trc_needs_the_runner_height(run_and_report, tmp_path):
    run, _ = run_and_report
    report = build_report(synthetic_runner.as_analysis(run))
    with pytest.raises(DataError, match="runner-height-cm"):
        write_trc(report, tmp_path / "run.trc")
    assert not (tmp_path / "run.trc").exists()
