"""Parallel analysis (docs/engine.md, "Parallel analysis"): chunk plans, stitching track ids
across chunk borders, the same answers as one worker on a real clip, live poses and progress
from every chunk, cancel, a dying worker, and the batch command's one-line errors."""

from __future__ import annotations

import errno
import shutil
import threading

import numpy as np
import pytest

from app import cli
from app.core.chunks import LEAD_IN_COST, WARMUP_FRAMES, plan_chunks
from app.core.options import AnalysisOptions
from app.core.parallel import ChunkPool, WorkerError, worker_chunks
from app.core.pipeline import analyze_video
from app.core.progress import Cancelled
from app.core.running_report import build_report
from app.core.tracking import TrackSet
from rhpnet.media.video import open_video
from rhpnet.poses import FramePoses
from rhpnet.skeleton import NUM_POSE_KEYPOINTS

CLIP = "treadmill_side_IMG_5396.mp4"
SOCCER = "posetrack18_000001_soccer_run_5frames.mp4"


@pytest.mark.parametrize(
    ("frames", "workers", "expected"), [(388, 2, 2), (388, 8, 3), (100, 4, 1), (5, 2, 1)]
)
def test_chunks_cover_every_frame_once(frames, workers, expected):
    chunks = plan_chunks(frames, workers)
    assert len(chunks) == expected
    assert chunks[0].first == chunks[0].start == 0 and chunks[-1].stop == frames
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert after.start == before.stop
        assert after.first == after.start - WARMUP_FRAMES
    assert sum(c.owned_frames for c in chunks) == frames
    assert max(c.owned_frames for c in chunks) - min(c.owned_frames for c in chunks) <= 1


def _keyframes_every(spacing: int):
    """Frames a seek decodes before a frame, with a keyframe every ``spacing`` frames."""
    return lambda index: index % spacing


def _chunk_cost(chunk, lead_in) -> float:
    return chunk.stop - chunk.first + LEAD_IN_COST * lead_in(chunk.first)


@pytest.mark.parametrize(("frames", "workers", "spacing"), [(388, 2, 250), (949, 4, 160)])
def test_chunks_balance_the_decoding_a_seek_costs(frames, workers, spacing):
    """A chunk whose warm-up starts far after a keyframe decodes that far first: it gets fewer
    frames, so no worker waits for another; the plan still covers every frame once."""
    lead_in = _keyframes_every(spacing)
    equal = plan_chunks(frames, workers)
    balanced = plan_chunks(frames, workers, lead_in=lead_in)
    assert len(balanced) == len(equal) == workers
    assert balanced[0].start == 0 and balanced[-1].stop == frames
    for before, after in zip(balanced, balanced[1:], strict=False):
        assert after.start == before.stop and after.first == after.start - WARMUP_FRAMES
    costs = [_chunk_cost(c, lead_in) for c in balanced]
    assert max(costs) < max(_chunk_cost(c, lead_in) for c in equal)
    assert max(costs) - min(costs) <= 0.1 * max(costs)


def test_chunks_of_a_video_with_a_keyframe_in_every_frame_estimate_as_many_frames():
    """Only the warm-up costs extra then: the first chunk, which has none, owns that many more."""
    chunks = plan_chunks(1000, 4, lead_in=lambda index: 0)
    assert [c.stop - c.first for c in chunks] == [256, 256, 256, 256]
    assert chunks[0].owned_frames == chunks[1].owned_frames + WARMUP_FRAMES


def _poses(boxes: list[tuple[float, float]]) -> FramePoses:
    """People as 50x100 boxes at the given corners (keypoints inside, all confident)."""
    keypoints = np.zeros((len(boxes), NUM_POSE_KEYPOINTS, 3), np.float32)
    for n, (x, y) in enumerate(boxes):
        keypoints[n, :, 0], keypoints[n, :, 1], keypoints[n, :, 2] = x + 25, y + 50, 1.0
    box_array = np.array([(x, y, 50, 100) for x, y in boxes], np.float32).reshape(-1, 4)
    return FramePoses(keypoints, box_array, np.ones(len(boxes), np.float32))


def test_a_later_chunk_continues_the_tracks_it_overlaps():
    """Chunk ids are the chunk's own; over the warm-up frames (10..14) the later chunk's id 0 is
    the earlier chunk's id 1 and vice versa; a person entering at frame 17 is someone new."""
    earlier, later = TrackSet(), TrackSet()
    for frame in range(15):
        earlier.add(frame, np.array([0, 1]), _poses([(frame, 0), (400 + frame, 0)]))
    for frame in range(10, 30):
        people = [(400 + frame, 0), (frame, 0)] + ([(800, 300)] if frame >= 17 else [])
        later.add(frame, np.arange(len(people)), _poses(people))
    earlier.absorb(later, start=15)
    tracks = earlier.finish(30, np.arange(30) / 30.0)
    assert len(tracks) == 3
    left, right, newcomer = tracks[0], tracks[1], tracks[2]
    assert left.present.all() and right.present.all()
    np.testing.assert_allclose(left.boxes[:, 0], np.arange(30))  # one person, both chunks
    np.testing.assert_allclose(right.boxes[:, 0], 400 + np.arange(30))
    assert np.flatnonzero(newcomer.present).tolist() == list(range(17, 30))


@pytest.fixture(scope="module")
def parallel_run(videos_dir):
    """The real clip analysed by two workers, with every progress call and live pose kept."""
    calls: list[tuple[int, int]] = []
    live: list[int] = []
    analysis = analyze_video(
        videos_dir / CLIP,
        AnalysisOptions(workers=2),
        progress=lambda done, total: calls.append((done, total)),
        on_frames=lambda batch: live.extend(result.index for result in batch),
    )
    return analysis, calls, live


def test_two_workers_give_the_same_runner_and_metrics(parallel_run, analysed_clip, videos_dir):
    """Frames of the first chunk are bit-identical to one worker; the second chunk's BlazePose
    starts from another history, so its keypoints differ a little, its metrics barely."""
    parallel, _, _ = parallel_run
    sequential = analysed_clip(CLIP)
    assert len(parallel.tracks) == len(sequential.tracks) == 1
    with open_video(videos_dir / CLIP) as video:
        border = worker_chunks(video, 2)[1].start
    assert border == 210  # the second chunk decodes 203 frames from the keyframe at 0 first
    one, two = sequential.subject(), parallel.subject()
    np.testing.assert_array_equal(one.keypoints[:border], two.keypoints[:border])
    np.testing.assert_array_equal(one.present, two.present)
    # The camera's shift of the border frame is measured from the second chunk's warm-up.
    np.testing.assert_array_equal(
        sequential.camera_shift_px[:border], parallel.camera_shift_px[:border]
    )
    assert np.isfinite(parallel.camera_shift_px[1:]).all()
    a, b = build_report(sequential), build_report(parallel)
    assert len(a.steps) == len(b.steps)
    for key, tolerance in [
        ("cadence_spm", 0.01),
        ("step_time_ms", 0.01),
        ("contact_time_ms", 0.02),
        ("duty_factor", 0.02),
    ]:
        assert b.summary[key].mean == pytest.approx(a.summary[key].mean, rel=tolerance), key
    # BlazePose crops each frame around the last frame's landmarks, so two histories never
    # quite meet again: over the whole second chunk the body moves by a pixel or two, and in a
    # few frames a foot in fast swing or hidden by the other leg by tens of pixels. The angle
    # of one step at contact can then change by tens of degrees (the near knee at frame 204
    # reads 4 or 37 degrees), its mean over the clip by less than two standard errors.
    for key in ("knee_flexion_ic_deg", "peak_knee_flexion_stance_deg", "trunk_lean_deg"):
        one_worker = a.summary[key]
        standard_error = one_worker.sd / np.sqrt(one_worker.n)
        assert abs(b.summary[key].mean - one_worker.mean) <= max(1.0, 2 * standard_error), key


def test_progress_and_live_poses_come_from_every_chunk(parallel_run):
    analysis, calls, live = parallel_run
    total = analysis.frame_count
    assert {t for _, t in calls} == {total}
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == total
    assert sorted(live) == list(range(total))  # each frame once, warm-up frames never


def test_cancel_stops_every_worker_and_the_pool_stays_usable(videos_dir):
    cancel = threading.Event()
    with ChunkPool(AnalysisOptions(), 2) as pool, open_video(videos_dir / CLIP) as video:
        chunks = plan_chunks(video.info.frame_count, 2)
        with pytest.raises(Cancelled):
            pool.analyze(video, chunks, progress=lambda done, total: cancel.set(), cancel=cancel)
        analysis = pool.analyze(video, chunks, cancel=threading.Event())
        assert analysis.subject() is not None


def test_a_worker_that_dies_is_reported_not_waited_for(videos_dir):
    with ChunkPool(AnalysisOptions(), 2) as pool, open_video(videos_dir / CLIP) as video:

        def kill_a_worker(done: int, total: int) -> None:
            pool._processes[1].kill()

        with pytest.raises(WorkerError, match="stopped unexpectedly.*--workers 1"):
            pool.analyze(video, plan_chunks(video.info.frame_count, 2), progress=kill_a_worker)


def test_the_command_spreads_a_video_over_workers(tmp_path, videos_dir, capsys):
    clip = tmp_path / CLIP
    shutil.copy(videos_dir / CLIP, clip)
    code = cli.main(
        ["analyze", str(clip), "--out", str(tmp_path / "out"), "--no-video", "--workers", "2"]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "388 frames in" in err and "2 workers" in err and "runner = track 0" in err


def test_bad_worker_counts_are_refused(tmp_path, videos_dir, capsys):
    code = cli.main(["analyze", str(videos_dir / SOCCER), "--out", str(tmp_path), "--workers", "0"])
    assert code != 0
    assert "--workers must be 1-64, got 0" in capsys.readouterr().err


def test_a_full_disk_is_one_line_naming_the_file(tmp_path, videos_dir, monkeypatch, capsys):
    """The sidecar written before the disk filled stays; the file that did not fit is named,
    and no partial file is left behind."""
    import rhpnet.atomic

    real_fsync = rhpnet.atomic._fsync

    def full_disk(path, flags):
        if ".keypoints." in str(path):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(path, flags)

    monkeypatch.setattr(rhpnet.atomic, "_fsync", full_disk)
    out = tmp_path / "out"
    code = cli.main(["analyze", str(videos_dir / SOCCER), "--out", str(out), "--no-video"])
    err = capsys.readouterr().err
    assert code == 1
    errors = [line for line in err.splitlines() if "error" in line]
    target = out / (SOCCER[:-4] + ".keypoints.csv")
    reason = f"cannot write {target}: no space left on device"
    assert errors == [f"rhpnet-coach: error: {videos_dir / SOCCER}: {reason}"]
    assert "Traceback" not in err
    assert not list(out.glob("*.partial*")) and not target.exists()


def test_a_missing_webcam_counts_as_one_input(tmp_path, capsys):
    code = cli.main(["analyze", "--webcam", "57", "--out", str(tmp_path), "--no-video"])
    err = capsys.readouterr().err
    assert code == 1
    assert "webcam 57" in err and "0 of 1 analysed" in err
