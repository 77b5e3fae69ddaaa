"""Estimate and track the frames of a video, or of one chunk of it, and make an ``Analysis``.

Decoding runs in its own thread and hands frames to the estimator through a small bounded queue,
so decoding (straight to RGB for mediapipe, saving a conversion) overlaps inference while memory
stays flat: at most ``QUEUE_SIZE`` images exist at a time, and results are kept as
compact track arrays, never images. ``app.core.pipeline`` runs it over a whole video in this
process, ``app.core.parallel`` over chunks in worker processes.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.core.analysis import Analysis, Track
from app.core.appearance import appearance_descriptors
from app.core.camera_motion import CameraMotionMeter
from app.core.chunks import Chunk
from app.core.neighbour_search import find_neighbours
from app.core.options import AnalysisOptions
from app.core.progress import Progress, raise_if_cancelled
from app.core.scene_cuts import SceneCutDetector
from app.core.track_extension import extend_tracks, followable
from app.core.tracking import Tracker, TrackSet, choose_subject, track_at
from rhpnet.errors import UserFacingError
from rhpnet.media.video import VideoSource
from rhpnet.poses import Estimator, FramePoses, RgbEstimator, in_pose_layout

QUEUE_SIZE = 4
UPDATE_INTERVAL_S = 1.0 / 30.0

FramesCallback = Callable[[list["FrameResult"]], None]


class NoPersonFoundError(UserFacingError):
    """The estimator found nobody in the whole video."""


@dataclass
class FrameResult:
    """Tracked poses of one frame, delivered while the analysis runs."""

    index: int
    time_s: float
    track_ids: np.ndarray  # (N,) int
    poses: FramePoses


class EstimatorFactory:
    """Loads what ``options`` ask for once (network weights), then gives every video a fresh
    estimator: BlazePose carries tracking state from frame to frame that must not leak from one
    video into the next. Checkpoint problems surface here, before any video is touched.

    ``options`` are checked once per analysis where they come in (``analyze_video``, the
    ``analyze`` command, the webcam window), not again by every factory a worker makes."""

    def __init__(self, options: AnalysisOptions) -> None:
        self.options = options
        self._network = None
        if options.model != "default":
            from rhpnet.estimators.network_video import load_network

            self._network = load_network(
                options.checkpoint, arch_family=options.model, device=options.device
            )

    def create(self) -> Estimator:
        if self._network is None:
            from rhpnet.estimators.blazepose import BlazePoseEstimator

            return BlazePoseEstimator(
                self.options.max_people, backend=self.options.blazepose_backend
            )
        from rhpnet.estimators.network_video import NetworkVideoEstimator

        topdown, provenance = self._network
        return NetworkVideoEstimator(
            topdown,
            name=self.options.model,
            max_people=self.options.max_people,
            provenance=provenance,
        )


class _Decoder(threading.Thread):
    """Decodes frames ahead of inference into a bounded queue."""

    _END = object()

    def __init__(self, source: VideoSource, rgb: bool, start: int = 0) -> None:
        super().__init__(name="video-decoder", daemon=True)
        self.source = source
        self.rgb = rgb
        self.start_frame = start
        self.items: queue.Queue = queue.Queue(maxsize=QUEUE_SIZE)
        self.stop_event = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for frame in self.source.frames(self.start_frame, rgb=self.rgb):
                if self.stop_event.is_set() or not self._put(frame):
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            self.error = error
        self._put(self._END)

    def _put(self, item: object) -> bool:
        while not self.stop_event.is_set():
            try:
                self.items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def get(self, cancel: threading.Event | None):
        while True:
            raise_if_cancelled(cancel)
            try:
                item = self.items.get(timeout=0.05)
            except queue.Empty:
                continue
            if item is self._END:
                if self.error is not None:
                    raise self.error
                return None
            return item

    def shutdown(self) -> None:
        """Stop and wait for the thread. Emptying the queue wakes a decoder blocked on a full
        queue at once, instead of at its next put timeout: a cancel (which the app waits for
        on its UI thread before opening another video) ends within one decoded frame."""
        self.stop_event.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self.items.get_nowait()
        self.join(timeout=5.0)


@dataclass
class TrackedFrames:
    """What estimating and tracking a run of frames left: tracks, scene cuts, live frame times
    and the background's shift from the frame before each frame (``app.core.camera_motion``)."""

    tracks: TrackSet
    scene_cuts: list[int]
    live_times: list[float]
    camera_shifts: dict[int, tuple[float, float]] = field(default_factory=dict)


def track_frames(
    video: VideoSource,
    estimator: Estimator,
    options: AnalysisOptions,
    chunk: Chunk | None,
    progress: Progress | None,
    cancel: threading.Event | None,
    on_frames: FramesCallback | None,
) -> TrackedFrames:
    """Estimate and track every frame of ``video``, or of one ``chunk`` of it.

    A chunk's warm-up frames (before ``chunk.start``) are estimated and tracked like the others,
    so they can be matched with the previous chunk, but neither counted in ``progress``, shown
    through ``on_frames`` nor searched for scene cuts (the previous chunk owns those frames).
    """
    # Estimators that take RGB (mediapipe) get it straight from the decoder: no extra conversion.
    rgb = isinstance(estimator, RgbEstimator)
    estimate = estimator.estimate_rgb if rgb else estimator.estimate
    first, start = (chunk.first, chunk.start) if chunk else (0, 0)
    stop = chunk.stop if chunk else None
    total = chunk.owned_frames if chunk else video.info.frame_count
    tracker = Tracker(options.tracker)
    # Looks tell people apart (app.core.appearance); with one person followed there is no one
    # to tell apart, and that person's track is left to position and pose alone.
    told_apart = options.max_people > 1
    tracked = TrackedFrames(TrackSet(), [], [])
    cuts = SceneCutDetector(rgb)
    camera = CameraMotionMeter(rgb)
    batch: list[FrameResult] = []
    done = 0
    last_update = time.monotonic()
    decoder = _Decoder(video, rgb, first)
    decoder.start()
    try:
        while True:
            frame = decoder.get(cancel)
            if frame is None or (stop is not None and frame.index >= stop):
                break
            index, time_s = frame.index, frame.time_s
            if cuts.is_cut(frame.image):
                tracker.end_all()
                camera.reset()
                if index >= start:
                    tracked.scene_cuts.append(index)
            poses = in_pose_layout(estimate(frame.image, time_s), estimator.keypoint_names)
            shift = camera.shift(frame.image, poses.boxes)
            looks = appearance_descriptors(frame.image, poses, rgb) if told_apart else None
            del frame  # no image outlives its estimation
            ids = tracker.update(time_s, poses, shift, looks)
            tracked.tracks.add(index, ids, poses, looks)
            if video.is_live:
                tracked.live_times.append(time_s)
            if index < start:
                continue
            tracked.camera_shifts[index] = shift
            done += 1
            if on_frames is not None:
                batch.append(FrameResult(index, time_s, ids, poses))
            now = time.monotonic()
            if now - last_update >= UPDATE_INTERVAL_S:
                last_update = now
                _deliver(progress, on_frames, batch, done, total)
                batch = []
    finally:
        decoder.shutdown()
    _deliver(progress, on_frames, batch, done, total)
    return tracked


def _deliver(
    progress: Progress | None,
    on_frames: FramesCallback | None,
    batch: list[FrameResult],
    done: int,
    total: int,
) -> None:
    """Progress first, then the frames it counts: a view that shows both (the app's status bar
    and overlay) gets them in that order, so the count never lags the skeletons drawn."""
    if progress is not None:
        progress(done, total)
    if on_frames is not None and batch:
        on_frames(batch)


def _picked_track(name: str, tracks: dict[int, Track], pick: tuple[float, float, int]) -> int:
    x, y, frame = pick
    frame_count = len(next(iter(tracks.values())).scores)
    if frame >= frame_count:
        raise UserFacingError(
            f"{name}: --pick frame {frame} is past the last frame {frame_count - 1}"
        )
    picked = track_at(tracks, x, y, frame)
    if picked is None:
        seen = [
            f"track {tid} at x {b[0]:.0f}-{b[0] + b[2]:.0f}, y {b[1]:.0f}-{b[1] + b[3]:.0f}"
            for tid, track in sorted(tracks.items())
            if np.isfinite(b := track.boxes[frame]).all()
        ]
        raise UserFacingError(
            f"{name}: nobody at x {x:g}, y {y:g} in frame {frame}; "
            + ("people there: " + "; ".join(seen) if seen else "nobody was found in that frame")
        )
    return picked


def finish_analysis(
    video: VideoSource,
    model: dict,
    options: AnalysisOptions,
    tracks_so_far: TrackSet,
    times: np.ndarray,
    scene_cuts: tuple[int, ...] = (),
    camera_shifts: dict[int, tuple[float, float]] | None = None,
    cancel: threading.Event | None = None,
    progress: Progress | None = None,
) -> Analysis:
    """Dense tracks, the runner's choice (picked, named or automatic) and the ``Analysis``;
    ``model`` is the estimator's ``describe()``, ``camera_shifts`` the background's shift of each
    frame (frames not in it are unknown).

    Where several people are followed with the bundled model in a video file, each track is
    then followed into the frames the detector missed (``app.core.track_extension``), and
    where fewer people than ``max_people`` can be followed, the runners beside them are looked
    for and followed too (``app.core.neighbour_search``); the frames added per track are in the
    model's provenance (``followed_frames``), the ids of the people found beside in
    ``found_beside``. ``progress``
    is told then that what is left is unknown: every frame is done, but not the work."""
    name = Path(video.info.path).name
    tracks = tracks_so_far.finish(len(times), times, scene_cuts=scene_cuts)
    if not tracks:
        raise NoPersonFoundError(f"{name}: no person found in any of its {len(times)} frames")
    shifts = None if camera_shifts is None else _per_frame(camera_shifts, len(times))
    if options.max_people > 1 and model.get("name") == "blazepose" and not video.is_live:
        if progress is not None:
            progress(len(times), 0)
        followed, beside = _followed(
            video, tracks, tracks_so_far, times, shifts, scene_cuts, options.max_people, cancel
        )
        model = {**model, "followed_frames": followed, "found_beside": beside}
    if options.pick is not None:
        subject = _picked_track(name, tracks, options.pick)
    elif options.track_id is not None:
        if options.track_id not in tracks:
            raise UserFacingError(
                f"{name}: there is no track {options.track_id}; tracks found: "
                + ", ".join(str(t) for t in sorted(tracks))
            )
        subject = options.track_id
    else:
        # The runner is told apart by how fast they move in reality, not in slow motion.
        subject = choose_subject(tracks, times / options.slowmo, video.info.height)
    info = video.info
    if video.is_live:
        info.frame_count = len(times)
        info.duration_s = float(times[-1]) + 1.0 / info.fps if len(times) else 0.0
    return Analysis(
        video=info,
        times_s=np.asarray(times, np.float64),
        tracks=tracks,
        subject_id=subject,
        model={**model, "settings": options.model_settings()},
        slowmo=float(options.slowmo),
        warnings=list(video.warnings),
        scene_cuts=list(scene_cuts),
        camera_shift_px=shifts,
    )


def _followed(
    video: VideoSource,
    tracks: dict[int, Track],
    tracked: TrackSet,
    times: np.ndarray,
    shifts: np.ndarray | None,
    scene_cuts: tuple[int, ...],
    max_people: int,
    cancel: threading.Event | None,
) -> tuple[dict[str, int], list[int]]:
    """``extend_tracks`` with the bundled model on crops, then ``find_neighbours`` beside the
    tracks followed (into ``tracks``) and ``extend_tracks`` on those found: frames added per
    track id, and the ids of the people found beside."""
    from rhpnet.estimators.blazepose_crop import BlazePoseCropEstimator

    estimator = BlazePoseCropEstimator()
    cuts = list(scene_cuts)
    looks = dict(tracked.finished_looks)
    try:
        added = extend_tracks(tracks, looks, video, times, shifts, cuts, estimator.estimate, cancel)
        anchors = [tid for tid in sorted(tracks) if followable(tracks[tid], times)]
        found = find_neighbours(
            tracks,
            anchors,
            video,
            times,
            shifts,
            cuts,
            estimator.estimate,
            max_people - len(anchors),
            cancel,
        )
        for track_id, (track, track_looks) in found.items():
            tracks[track_id], looks[track_id] = track, track_looks
        extend_tracks(
            tracks, looks, video, times, shifts, cuts, estimator.estimate, cancel, list(found)
        )
        added.update((track_id, tracks[track_id].frame_count_present) for track_id in found)
    finally:
        estimator.close()
    return {str(track_id): count for track_id, count in added.items()}, sorted(found)


def _per_frame(shifts: dict[int, tuple[float, float]], frames: int) -> np.ndarray:
    """(frames, 2) shifts, NaN where a frame has none."""
    array = np.full((frames, 2), np.nan, np.float32)
    for index, shift in shifts.items():
        if 0 <= index < frames:
            array[index] = shift
    return array
