"""Analyse the chunks of a video side by side in worker processes, then stitch one ``Analysis``.

Why processes, not threads: mediapipe's Python side (packet handling, landmark conversion) and the
tracker hold the GIL for a large share of every frame, so two BlazePose instances in two threads
reach about 1.45x one instance on two cores, and two processes 1.7x (docs/engine.md, "Parallel
analysis"). A worker process costs about a second to start (it imports mediapipe), so a
``ChunkPool`` starts its workers once, at its first video, and keeps them for the rest of a batch.

Each worker builds its estimator once (network weights load once per worker) and a fresh one per
chunk (BlazePose's tracking state must not leak from one chunk into another), opens the video
itself, seeks to the chunk's first frame and runs ``estimation.track_frames`` on it. Results come
back through one queue: progress counts, live poses for the app, and at the end the chunk's
``TrackedFrames`` (compact arrays, never images). One shared event cancels every worker at once;
a worker that dies is reported, not waited for.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.analysis import Analysis
from app.core.chunks import Chunk, plan_chunks
from app.core.estimation import (
    EstimatorFactory,
    FramesCallback,
    TrackedFrames,
    finish_analysis,
    track_frames,
)
from app.core.options import AnalysisOptions, usable_cores
from app.core.progress import Cancelled, Progress, raise_if_cancelled
from app.core.tracking import TrackSet
from rhpnet.errors import UserFacingError
from rhpnet.media.video import FileVideoSource, ImageFolderSource, VideoSource, open_video

# How long the coordinator waits for a message before it checks the caller's cancel flag and
# whether every worker is still alive.
POLL_S = 0.05
# Live-pose batches a worker may have in flight before it waits: bounds memory if the app is slow.
RESULT_QUEUE_SIZE = 256


class WorkerError(UserFacingError):
    """A worker process died (killed, out of memory)."""


def worker_chunks(video: VideoSource, workers: int) -> list[Chunk]:
    """The chunks ``workers`` processes would analyse, or none where the video stays in this
    process: too short to split, or a source workers cannot open again by its path (a camera,
    whose frames exist once)."""
    reopenable = isinstance(video, (FileVideoSource, ImageFolderSource)) and not video.is_live
    lead_in = video.frames_decoded_before if isinstance(video, FileVideoSource) else None
    chunks = plan_chunks(video.info.frame_count, workers, lead_in=lead_in) if reopenable else []
    return chunks if len(chunks) > 1 else []


@dataclass(frozen=True)
class _ChunkTask:
    job: int
    path: str
    image_fps: float
    chunk: Chunk
    live_poses: bool


class ChunkPool:
    """Worker processes that analyse chunks of videos; use as a context manager.

    ``workers`` processes start at the first ``analyze`` and stay until ``close``. ``options``
    are the analysis options every video of the pool uses, already checked by whoever made
    the pool (``AnalysisOptions.validate``).
    """

    def __init__(self, options: AnalysisOptions, workers: int) -> None:
        self.options = options
        self.workers = max(1, int(workers))
        self._context = multiprocessing.get_context("spawn")  # safe beside Qt and threads
        self._tasks: Any = None
        self._results: Any = None
        self._cancel: Any = None
        self._processes: list[Any] = []
        self._job = 0

    def _start(self) -> None:
        ctx = self._context
        self._tasks = ctx.Queue()
        self._results = ctx.Queue(maxsize=RESULT_QUEUE_SIZE)
        self._cancel = ctx.Event()
        # Torch (network estimators) shares the cores with the other workers.
        threads = max(1, usable_cores() // self.workers)
        self._processes = [
            ctx.Process(
                target=_worker_main,
                args=(self.options, threads, self._tasks, self._results, self._cancel),
                name=f"analysis-worker-{n}",
                daemon=True,
            )
            for n in range(self.workers)
        ]
        for process in self._processes:
            process.start()

    def analyze(
        self,
        video: VideoSource,
        chunks: list[Chunk],
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        on_frames: FramesCallback | None = None,
    ) -> Analysis:
        """The ``Analysis`` of ``video`` (open, left open) from its ``chunks`` run on the
        workers; the same errors as ``pipeline.analyze_video``."""
        if not self._processes:
            self._start()
        self._job += 1
        job = self._job
        for chunk in chunks:
            task = _ChunkTask(
                job, str(video.info.path), self.options.image_fps, chunk, on_frames is not None
            )
            self._tasks.put(task)
        results = self._collect(job, chunks, video.info.frame_count, progress, cancel, on_frames)
        tracks = results[0].tracks
        for chunk, result in zip(chunks[1:], results[1:], strict=True):
            tracks.absorb(result.tracks, chunk.start)
        scene_cuts = tuple(sorted(cut for result in results for cut in result.scene_cuts))
        camera_shifts = {i: s for result in results for i, s in result.camera_shifts.items()}
        for warning in (w for result in results for w in result.warnings):
            if warning not in video.warnings:
                video.warnings.append(warning)
        return finish_analysis(
            video,
            results[0].model,
            self.options,
            tracks,
            np.asarray(video.times_s),
            scene_cuts,
            camera_shifts,
            cancel,
            progress,
        )

    def _collect(
        self,
        job: int,
        chunks: list[Chunk],
        total: int,
        progress: Progress | None,
        cancel: threading.Event | None,
        on_frames: FramesCallback | None,
    ) -> list[_ChunkResult]:
        """Wait for every chunk of ``job``, relaying progress and live poses; on a cancel or an
        error, stop the other chunks at once and wait only for them to acknowledge."""
        done = [0] * len(chunks)
        results: dict[int, _ChunkResult] = {}
        error: BaseException | None = None
        pending = set(range(len(chunks)))
        while pending:
            if error is None and cancel is not None and cancel.is_set():
                error = Cancelled()
            if error is not None:
                self._cancel.set()
            try:
                message = self._results.get(timeout=POLL_S)
            except queue.Empty:
                self._check_alive()
                continue
            kind, message_job, index, payload = message
            if message_job != job:
                continue  # a late message of an earlier, cancelled job
            if kind == "progress":
                done[index] = payload
                if progress is not None:
                    progress(sum(done), total)
            elif kind == "frames":
                if on_frames is not None and error is None:
                    on_frames(payload)
            elif kind == "done":
                results[index] = payload
                pending.discard(index)
            elif kind == "cancelled":
                pending.discard(index)
            elif kind == "error":
                pending.discard(index)
                error = error or payload
        self._cancel.clear()
        if error is not None:
            raise error
        raise_if_cancelled(cancel)
        if progress is not None:
            progress(total, total)
        return [results[k] for k in range(len(chunks))]

    def _check_alive(self) -> None:
        for process in self._processes:
            if not process.is_alive():
                code = process.exitcode
                self.close()
                raise WorkerError(
                    f"an analysis worker stopped unexpectedly (exit code {code}); "
                    "try again with --workers 1"
                )

    def close(self) -> None:
        """Stop the workers (those busy are cancelled first) and wait for them."""
        if not self._processes:
            return
        self._cancel.set()
        for _ in self._processes:
            self._tasks.put(None)
        for process in self._processes:
            if process.pid is None:
                continue  # never started (a failed start): nothing to wait for
            process.join(timeout=5.0)
            if process.is_alive():
                process.terminate()
                process.join(timeout=1.0)
        self._processes = []
        for channel in (self._tasks, self._results):
            channel.close()
            channel.cancel_join_thread()

    def __enter__(self) -> ChunkPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class _ChunkResult:
    """What a worker sends back for one chunk."""

    tracks: TrackSet
    scene_cuts: list[int]
    warnings: list[str]
    model: dict[str, Any]
    camera_shifts: dict[int, tuple[float, float]]

    @classmethod
    def of(cls, tracked: TrackedFrames, video: VideoSource, model: dict) -> _ChunkResult:
        return cls(
            tracked.tracks, tracked.scene_cuts, list(video.warnings), model, tracked.camera_shifts
        )


def _worker_main(
    options: AnalysisOptions, threads: int, tasks: Any, results: Any, cancel: Any
) -> None:
    """A worker process: build the estimator factory once, then analyse chunks until told to
    stop (a ``None`` task)."""
    if options.model != "default":
        import torch

        torch.set_num_threads(threads)
    factory: EstimatorFactory | None = None
    while (task := tasks.get()) is not None:
        try:
            factory = factory or EstimatorFactory(options)
            result = _analyse_chunk(factory, task, results, cancel)
            results.put(("done", task.job, task.chunk.index, result))
        except Cancelled:
            results.put(("cancelled", task.job, task.chunk.index, None))
        except BaseException as error:  # sent to the coordinator, which raises it
            results.put(("error", task.job, task.chunk.index, _portable(error)))


def _analyse_chunk(
    factory: EstimatorFactory, task: _ChunkTask, results: Any, cancel: Any
) -> _ChunkResult:
    index = task.chunk.index

    def progress(done: int, total: int) -> None:
        results.put(("progress", task.job, index, done))

    def on_frames(batch: list) -> None:
        results.put(("frames", task.job, index, batch))

    with open_video(task.path, image_fps=task.image_fps) as video:
        estimator = factory.create()
        try:
            tracked = track_frames(
                video,
                estimator,
                factory.options,
                task.chunk,
                progress,
                cancel,
                on_frames if task.live_poses else None,
            )
            return _ChunkResult.of(tracked, video, estimator.describe())
        finally:
            estimator.close()


def _portable(error: BaseException) -> BaseException:
    """An error a worker can send: a ``UserFacingError`` (it names the video and the reason) as
    it is; anything else, a bug, as a ``RuntimeError`` carrying the worker's traceback."""
    if isinstance(error, UserFacingError):
        try:
            pickle.loads(pickle.dumps(error))
            return error
        except Exception:
            return UserFacingError(str(error))
    text = "".join(traceback.format_exception(error)).strip()
    return RuntimeError(f"in an analysis worker:\n{text}")
