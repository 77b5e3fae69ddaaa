"""Exports: keypoints CSV columns and gaps, COCO results accepted by pycocotools, the overlay
video (H.264, frame-accurate, left/right colours), and all-or-nothing writes."""

from __future__ import annotations

import csv
import io
import json
import threading

import numpy as np
import pytest

from app.core import overlay_style as style
from app.core.analysis import Analysis, Track
from app.core.frame_drawing import draw_people
from app.core.outputs import OutputInputs, chosen_outputs, write_outputs
from app.core.pose_files import (
    KEYPOINT_CSV_COLUMNS,
    coco_results,
    keypoints_csv_text,
    write_coco_json,
    write_keypoints_csv,
    write_overlay_video,
)
from app.core.progress import Cancelled
from rhpnet.errors import UserFacingError
from rhpnet.media.info import VideoInfo
from rhpnet.media.video import open_video
from rhpnet.skeleton import COCO_KEYPOINT_NAMES, keypoint_index
from tests.support.media_factory import write_video


def _toy_analysis(video_path, frames: int = 10) -> Analysis:
    rng = np.random.default_rng(0)
    a = Track.empty(0, frames)
    a.keypoints[:, :17] = np.concatenate(  # a 17-joint model: no feet
        [rng.uniform(10, 100, (frames, 17, 2)), rng.uniform(0.2, 1, (frames, 17, 1))], axis=2
    )
    a.boxes[:] = [5, 6, 100, 110]
    a.scores[:] = 0.8
    a.keypoints[4] = np.nan  # missed in frame 4 ...
    a.boxes[4] = np.nan
    a.scores[4] = np.nan
    a.keypoints[6, keypoint_index("left_ankle")] = np.nan  # ... one keypoint missing in frame 6
    b = Track.empty(1, frames)
    b.keypoints[3:6] = 50.0
    b.keypoints[3:6, :, 2] = 0.5
    b.boxes[3:6] = [40, 40, 20, 20]
    b.scores[3:6] = 0.6
    b.keypoints[4] = np.nan  # seen in frames 3 and 5 only
    b.boxes[4] = np.nan
    b.scores[4] = np.nan
    info = VideoInfo(str(video_path), 128, 96, 30.0, frames, frames / 30)
    return Analysis(
        info, np.arange(frames) / 30.0, {0: a, 1: b}, subject_id=0, model={"name": "toy"}
    )


def test_keypoints_csv_columns_rows_and_empty_cells(tmp_path):
    analysis = _toy_analysis(tmp_path / "clip.mp4")
    path = write_keypoints_csv(analysis, tmp_path / "clip.keypoints.csv")
    rows = list(csv.reader(io.StringIO(path.read_text())))
    header, body = rows[0], rows[1:]
    assert header[:8] == [
        "frame",
        "time_s",
        "track_id",
        "bbox_x",
        "bbox_y",
        "bbox_w",
        "bbox_h",
        "score",
    ]
    assert header[8:11] == ["nose_x", "nose_y", "nose_score"]
    # The agreed COCO-17 columns first, in COCO order, then the feet.
    coco_end = 8 + 3 * len(COCO_KEYPOINT_NAMES)
    assert header[coco_end - 3 : coco_end] == [
        "right_ankle_x",
        "right_ankle_y",
        "right_ankle_score",
    ]
    assert header[coco_end : coco_end + 3] == ["left_heel_x", "left_heel_y", "left_heel_score"]
    assert header[-4:-1] == ["right_big_toe_x", "right_big_toe_y", "right_big_toe_score"]
    assert header[-1] == "corrected"  # docs/corrections.md
    assert tuple(header) == KEYPOINT_CSV_COLUMNS and len(header) == coco_end + 3 * 4 + 1
    # Track 0 spans frames 0-9, track 1 frames 3-5: 13 rows sorted by frame then track.
    keys = [(int(r[0]), int(r[2])) for r in body]
    assert keys == sorted(keys) and len(keys) == 13
    by_key = {(int(r[0]), int(r[2])): r for r in body}
    assert all(cell == "" for cell in by_key[(4, 0)][3:-1])  # person missing: empty cells
    assert all(cell == "" for cell in by_key[(4, 1)][3:-1])
    assert {row[-1] for row in body} == {"0"}  # nothing corrected by hand
    ankle = header.index("left_ankle_x")
    assert by_key[(6, 0)][ankle : ankle + 3] == ["", "", ""]
    assert all(cell == "" for cell in by_key[(5, 0)][coco_end:-1])  # no feet from a 17-joint model
    assert by_key[(6, 0)][ankle - 3] != ""
    row = by_key[(2, 0)]
    assert float(row[1]) == pytest.approx(2 / 30, abs=1e-6)
    expected = analysis.tracks[0].keypoints[2].reshape(-1)
    np.testing.assert_allclose(
        [float(v) if v else np.nan for v in row[8:-1]], expected, atol=0.006, equal_nan=True
    )
    assert [float(v) for v in row[3:8]] == [5, 6, 100, 110, pytest.approx(0.8)]


def test_coco_results_load_in_pycocotools(tmp_path):
    from pycocotools.coco import COCO

    analysis = _toy_analysis(tmp_path / "clip.mp4")
    path = write_coco_json(analysis, tmp_path / "clip.coco.json")
    results = json.loads(path.read_text())
    assert len(results) == 9 + 2
    first = results[0]
    assert first["image_id"] == 0 and first["category_id"] == 1 and first["track_id"] == 0
    assert len(first["keypoints"]) == 51 and first["score"] == pytest.approx(0.8)
    frame6 = next(r for r in results if r["image_id"] == 6)
    ankle = keypoint_index("left_ankle")
    assert frame6["keypoints"][3 * ankle : 3 * ankle + 3] == [0, 0, 0]
    ground_truth = COCO()
    ground_truth.dataset = {
        "images": [{"id": i, "width": 128, "height": 96} for i in range(10)],
        "categories": [{"id": 1, "name": "person", "keypoints": list(COCO_KEYPOINT_NAMES)}],
        "annotations": [],
    }
    ground_truth.createIndex()
    loaded = ground_truth.loadRes(str(path))
    assert len(loaded.getAnnIds()) == 11
    assert coco_results(analysis) == results


def test_overlay_draws_left_blue_right_orange_and_fades_doubt():
    image = np.zeros((200, 200, 3), np.uint8)
    kp = np.full((1, 17, 3), np.nan, np.float32)
    kp[0, keypoint_index("left_knee")] = [50, 100, 0.9]
    kp[0, keypoint_index("left_ankle")] = [50, 180, 0.9]
    kp[0, keypoint_index("right_knee")] = [150, 100, 0.9]
    kp[0, keypoint_index("right_ankle")] = [150, 180, 0.2]  # doubtful: faded
    draw_people(image, kp, np.array([0]), subject_id=0)
    left = image[140, 50].astype(int)
    np.testing.assert_allclose(left, style.bgr(style.LEFT_RGB), atol=40)
    right_knee_dot = image[100, 150].astype(int)
    np.testing.assert_allclose(right_knee_dot, style.bgr(style.RIGHT_RGB), atol=40)
    # The shin ends at a doubtful ankle, so the whole bone is faded.
    expected = np.array(style.bgr(style.RIGHT_RGB)) * style.FADED_OPACITY
    for y in (120, 165):
        np.testing.assert_allclose(image[y, 150].astype(int), expected, atol=25)
    assert image[20, 100].sum() == 0  # nothing drawn where no keypoint is


def test_overlay_video_is_h264_with_every_frame_and_time(tmp_path):
    video = write_video(tmp_path / "clip.mp4", 10)
    analysis = _toy_analysis(video)
    progress = []
    out = write_overlay_video(
        analysis, tmp_path / "clip.overlay.mp4", progress=lambda d, t: progress.append((d, t))
    )
    assert progress[-1] == (10, 10)
    with open_video(out) as overlay, open_video(video) as original:
        assert overlay.info.codec == "h264" and overlay.info.frame_count == 10
        np.testing.assert_allclose(overlay.times_s, original.times_s, atol=1e-4)
        drawn = overlay.read_frame(2).image.astype(int)
        plain = original.read_frame(2).image.astype(int)
        changed = np.abs(drawn - plain).sum(axis=2) > 60
        assert changed.mean() > 0.01  # skeleton drawn
        untouched = np.abs(overlay.read_frame(4).image.astype(int) - original.read_frame(4).image)
        # Frame 4: only track 1 ... which is missing too; nothing drawn but compression noise.
        assert (untouched.sum(axis=2) > 60).mean() < 0.002


def write_video_outputs(analysis, out, video=True, **kwargs):
    """The keypoint files and the overlay (no report: the toy person does not run)."""
    options = [] if video else ["--no-video"]
    kinds = [kind for kind in chosen_outputs(options) if not kind.needs_report]
    return write_outputs(OutputInputs(analysis), kinds, out, **kwargs)


def test_all_outputs_written_together(tmp_path):
    video = write_video(tmp_path / "clip.mp4", 10)
    analysis = _toy_analysis(video)
    out = tmp_path / "out"
    written = write_video_outputs(analysis, out)
    names = sorted(p.name for p in written)
    assert names == sorted(
        [
            "clip.analysis.npz",
            "clip.analysis.json",
            "clip.keypoints.csv",
            "clip.coco.json",
            "clip.overlay.mp4",
        ]
    )
    assert sorted(p.name for p in out.iterdir()) == names
    assert Analysis.load(out / "clip.analysis.npz").subject_id == 0
    no_video = write_video_outputs(analysis, tmp_path / "out2", video=False)
    assert not any(p.name.endswith(".overlay.mp4") for p in no_video)


def test_cancel_or_error_leaves_no_partial_file(tmp_path):
    video = write_video(tmp_path / "clip.mp4", 30)
    analysis = _toy_analysis(video, frames=30)
    out = tmp_path / "out"
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        cancel.set()

    with pytest.raises(Cancelled):
        write_video_outputs(analysis, out, progress=progress, cancel=cancel)
    assert list(out.iterdir()) == []
    video.unlink()  # the source is gone: the overlay cannot be drawn
    with pytest.raises(UserFacingError, match="not available"):
        write_video_outputs(analysis, out)
    assert list(out.iterdir()) == []
    # A previous good export stays untouched by a failed one.
    write_keypoints_csv(analysis, out / "clip.keypoints.csv")
    before = (out / "clip.keypoints.csv").read_text()
    with pytest.raises(UserFacingError):
        write_video_outputs(_toy_analysis(video, frames=30), out)
    assert (out / "clip.keypoints.csv").read_text() == before
    assert [p.name for p in out.iterdir()] == ["clip.keypoints.csv"]


def test_csv_of_the_real_analysis(treadmill_analysis):
    text = keypoints_csv_text(treadmill_analysis)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 60 and {r["track_id"] for r in rows} == {"0"}
    assert all(r["left_knee_x"] != "" for r in rows if r["score"] != "")
