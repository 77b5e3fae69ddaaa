"""Comparison, athlete PDF and OpenSim files on the real treadmill clips (docs/report.md,
docs/compare.md). Both clips are analysed once per session (the ``analysed_clip`` fixture)."""

from __future__ import annotations

import dataclasses
import math
import shutil
import subprocess

import cv2
import numpy as np
import pytest

from app.cli import main as cli_main
from app.core.athlete_pdf import PAGE_TITLES, ReportInputs, write_athlete_pdf
from app.core.compare import COMPARE_CSV_COLUMNS, compare_reports
from app.core.key_frames import crop_box, draw_key_frame, key_frames, render_key_frames
from app.core.metrics import METRIC_SPECS
from app.core.running_report import build_report
from rhpnet.media.video import open_video
from tests.support.clips import SLOW_CLIP_SLOWMO

pytestmark = pytest.mark.slow
TREADMILL = "treadmill_side_IMG_5396.mp4"
SLOW = "treadmill_side_slow.mp4"


@pytest.fixture(scope="module")
def treadmill(analysed_clip):
    analysis = analysed_clip(TREADMILL)
    return analysis, build_report(analysis, runner_height_cm=178)


@pytest.fixture(scope="module")
def slow(analysed_clip):
    analysis = dataclasses.replace(analysed_clip(SLOW), slowmo=SLOW_CLIP_SLOWMO)
    return analysis, build_report(analysis, runner_height_cm=178)


def test_comparison_table_of_two_real_clips(treadmill, slow):
    a, b = treadmill[1], slow[1]
    rows = {row.key: row for row in compare_reports(a, b)}
    assert list(rows) == list(METRIC_SPECS)
    for key, row in rows.items():
        assert row.a_mean == a.summary[key].mean and row.b_mean == b.summary[key].mean
        if row.difference is not None:
            assert row.difference == pytest.approx(b.summary[key].mean - a.summary[key].mean)
        if row.spread is not None:
            pooled = math.sqrt((a.summary[key].sd ** 2 + b.summary[key].sd ** 2) / 2)
            assert row.spread == pytest.approx(pooled)
            assert row.exceeds_spread == (abs(row.difference) > pooled)
    cadence = rows["cadence_spm"]
    assert cadence.a_n >= 8 and cadence.b_n >= 4
    # Two different runners: about 167 against 141 steps/min, a gap well beyond their
    # step-to-step spreads (14 and 8 steps/min).
    assert 150 < cadence.a_mean < 185 and 125 < cadence.b_mean < 155
    assert cadence.exceeds_spread is True and cadence.verdict == "beyond step-to-step spread"
    assert all(r.verdict != "not measured in both" for r in rows.values() if r.a_n and r.b_n)


def test_compare_command_on_sidecars(treadmill, slow, tmp_path, capsys):
    sidecars = []
    for analysis, _ in (treadmill, slow):
        sidecars.append(
            str(
                analysis.save(
                    tmp_path
                    / f"{analysis.video.path.rsplit('/', 1)[-1]}".replace(".mp4", ".analysis.npz")
                )
            )
        )
    out = tmp_path / "out"
    assert cli_main(["compare", *sidecars, "--out", str(out), "--runner-height-cm", "178"]) == 0
    stem = "treadmill_side_IMG_5396_vs_treadmill_side_slow"
    table = (out / f"{stem}.compare.csv").read_text().splitlines()
    assert table[0].split(",") == list(COMPARE_CSV_COLUMNS)
    assert len(table) == 1 + len(METRIC_SPECS)
    assert (out / f"{stem}.compare.cycle.png").read_bytes()[:4] == b"\x89PNG"
    assert "Cadence" in capsys.readouterr().out


def _render(pdf, page, dpi, target):
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-png",
            "-singlefile",
            str(pdf),
            str(target),
        ],
        check=True,
    )
    return cv2.cvtColor(cv2.imread(f"{target}.png"), cv2.COLOR_BGR2RGB)


def _page_texts(pdf):
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_pdf_pages_and_key_frames(treadmill, slow, tmp_path):
    analysis, report = treadmill
    keys = render_key_frames(report, analysis.video.path, analysis.video.fps)
    assert {(k.side, k.phase) for k, _ in keys} == {
        (side, phase) for side in ("left", "right") for phase in ("strike", "mid-stance", "toe-off")
    }
    inputs = ReportInputs(report, runner="Test Runner", key_frames=keys, comparison=slow[1])
    pdf = write_athlete_pdf(inputs, tmp_path / "run.report.pdf")
    pages = _page_texts(pdf)
    assert len(pages) == 5
    for page, title in zip(pages, PAGE_TITLES.values(), strict=True):
        assert title in page
    assert "Test Runner" in pages[0] and TREADMILL in pages[0]
    assert "Cadence" in pages[0] and "steps/min" in pages[0]
    assert "left foot: strike" in pages[1] and "right foot: toe-off" in pages[1]

    # Each key frame on page 2 is the video frame it names, not a neighbour: find the drawn
    # panel in the rendered page, then the nearest frames must all match it worse.
    page = _render(pdf, 2, 100, tmp_path / "page2").astype(np.float32)
    frames = [k.frame for k in key_frames(report)]
    with open_video(analysis.video.path) as source:
        box = crop_box(report, frames, source.info.width, source.info.height)

        def panel(frame):
            return draw_key_frame(source.read_frame(frame).image, report, frame, box)

        first = panel(frames[0]).astype(np.float32)

        def match(scale):
            template = cv2.resize(first, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            return cv2.minMaxLoc(cv2.matchTemplate(page, template, cv2.TM_CCOEFF_NORMED))[1]

        coarse = np.linspace(0.15, 0.6, 46)
        best_coarse = float(coarse[int(np.argmax([match(s) for s in coarse]))])
        fine = np.linspace(best_coarse - 0.01, best_coarse + 0.01, 21)
        scores = [match(s) for s in fine]
        scale = float(fine[int(np.argmax(scores))])
        assert max(scores) > 0.9
        for key, _ in keys:
            expected = cv2.resize(
                panel(key.frame).astype(np.float32),
                None,
                fx=scale,
                fy=scale,
                interpolation=cv2.INTER_AREA,
            )
            result = cv2.matchTemplate(page, expected, cv2.TM_CCOEFF_NORMED)
            _, best, _, (x, y) = cv2.minMaxLoc(result)
            assert best > 0.9, key
            patch = page[y : y + expected.shape[0], x : x + expected.shape[1]]
            errors = {}
            for frame in range(key.frame - 3, key.frame + 4):
                candidate = cv2.resize(
                    panel(frame).astype(np.float32),
                    None,
                    fx=scale,
                    fy=scale,
                    interpolation=cv2.INTER_AREA,
                )
                errors[frame] = float(np.abs(candidate - patch).mean())
            assert min(errors, key=errors.get) == key.frame, (key, errors)


def test_report_command_without_the_video_says_so(treadmill, tmp_path, capsys):
    analysis, _ = treadmill
    moved = dataclasses.replace(
        analysis, video=dataclasses.replace(analysis.video, path=str(tmp_path / "gone" / TREADMILL))
    )
    sidecar = moved.save(tmp_path / "treadmill_side_IMG_5396.analysis.npz")
    out = tmp_path / "out"
    assert cli_main(["report", str(sidecar), "--out", str(out), "--runner", "A. Runner"]) == 0
    pdf = out / "treadmill_side_IMG_5396.report.pdf"
    pages = _page_texts(pdf)
    assert len(pages) == 3
    assert "No key frames" in pages[1]
    assert "A. Runner" in pages[0]
