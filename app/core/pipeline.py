"""Analyse one video: decode -> pose estimation -> tracking -> ``Analysis``. The GUI and CLI API.

``analyze_video`` is synchronous; call it from a worker thread to keep a UI responsive:

* ``progress(done, total)`` is called at most ~30 times a second (``total`` 0 for live cameras);
* ``cancel`` (a ``threading.Event``) stops it within a frame: ``Cancelled`` is raised;
* ``on_frames(list[FrameResult])`` receives the tracked poses in batches while it runs.

With ``options.workers`` above 1, a video file or image folder long enough to split is analysed
in chunks by that many worker processes (``app.core.parallel``); otherwise, and always for a
camera, in this process exactly as with one worker.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from app.core.analysis import Analysis
from app.core.estimation import (
    QUEUE_SIZE,
    EstimatorFactory,
    FrameResult,
    FramesCallback,
    NoPersonFoundError,
    finish_analysis,
    track_frames,
)
from app.core.options import AnalysisOptions
from app.core.parallel import ChunkPool, worker_chunks
from app.core.progress import Progress
from rhpnet.media.video import VideoSource, open_video
from rhpnet.poses import Estimator

__all__ = [
    "QUEUE_SIZE",
    "AnalysisOptions",
    "EstimatorFactory",
    "FrameResult",
    "NoPersonFoundError",
    "analyze_video",
]


def analyze_video(
    source: str | Path | int | VideoSource,
    options: AnalysisOptions | None = None,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    on_frames: FramesCallback | None = None,
    estimator: Estimator | None = None,
    factory: EstimatorFactory | None = None,
    pool: ChunkPool | None = None,
) -> Analysis:
    """Run pose estimation and tracking over a whole video and return the ``Analysis``.

    ``source`` is a path (video file or image folder), a webcam index or an open
    ``VideoSource`` (left open). ``estimator`` overrides the one ``options`` describe (it is left
    open too, so a caller can re-use it; the analysis then runs in this process). ``factory``
    lends weights already loaded (a batch loads them once) and its options; ``pool`` lends
    workers already started. Without them, a video worth splitting over ``options.workers``
    starts its own workers, and one analysed here loads its own estimator. Raises
    ``UserFacingError`` subclasses for bad input (``VideoError``, ``CheckpointError``,
    ``NoPersonFoundError``) and ``Cancelled``.
    """
    if factory is not None:
        options = factory.options  # checked by whoever made the factory
    else:
        options = options or AnalysisOptions()
        options.validate()
    own_source = not isinstance(source, VideoSource)
    video = open_video(source, image_fps=options.image_fps) if own_source else source
    try:
        chunks = worker_chunks(video, options.workers) if estimator is None else []
        if chunks:
            if pool is not None:
                return pool.analyze(video, chunks, progress, cancel, on_frames)
            with ChunkPool(options, len(chunks)) as own_pool:
                return own_pool.analyze(video, chunks, progress, cancel, on_frames)
        if estimator is not None:
            return _analyse_here(video, estimator, options, progress, cancel, on_frames)
        # Loads any network weights only now: the workers above load their own.
        own = (factory or EstimatorFactory(options)).create()
        try:
            return _analyse_here(video, own, options, progress, cancel, on_frames)
        finally:
            own.close()
    finally:
        if own_source:
            video.close()


def _analyse_here(
    video: VideoSource,
    estimator: Estimator,
    options: AnalysisOptions,
    progress: Progress | None,
    cancel: threading.Event | None,
    on_frames: FramesCallback | None,
) -> Analysis:
    tracked = track_frames(video, estimator, options, None, progress, cancel, on_frames)
    times = video.times_s if video.times_s is not None else np.asarray(tracked.live_times)
    return finish_analysis(
        video,
        estimator.describe(),
        options,
        tracked.tracks,
        times,
        tuple(tracked.scene_cuts),
        tracked.camera_shifts,
        cancel,
        progress,
    )
