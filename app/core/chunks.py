"""Split one video into contiguous chunks that separate estimators analyse side by side.

Each chunk owns the frames ``start..stop-1``; its estimator starts ``warmup`` frames earlier
(``first``) so that BlazePose's frame-to-frame tracking, the tracker's velocities and the scene
cut detector have settled by the chunk's first owned frame. The warm-up frames are analysed twice
(as the previous chunk's last owned frames and as this chunk's warm-up) and serve to stitch the
chunks' track identities together (``TrackSet.absorb``). docs/engine.md, "Parallel analysis".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# Frames an estimator sees before its first owned frame (an eighth of a second at 60 fps). BlazePose
# re-detects on its first frame and tracks from its second, so this is ample to settle.
WARMUP_FRAMES = 8
# A chunk shorter than this would spend a large share of its time warming up and starting.
MIN_CHUNK_FRAMES = 120
# What decoding a frame only as a reference (to reach a chunk's first frame from the keyframe
# before it) costs, as a share of analysing one frame: about 2.7 ms against 22 ms for 1080x1920
# H.264 with BlazePose (benchmarks/bench_pipeline.py). Phone video often has one keyframe in
# several seconds, so a chunk starting just after one decodes hundreds of frames first.
LEAD_IN_COST = 0.12


@dataclass(frozen=True)
class Chunk:
    """Frames ``first..stop-1`` are estimated; ``start..stop-1`` are this chunk's result."""

    index: int
    first: int
    start: int
    stop: int

    @property
    def owned_frames(self) -> int:
        return self.stop - self.start


def plan_chunks(
    frame_count: int,
    workers: int,
    *,
    warmup: int = WARMUP_FRAMES,
    min_frames: int = MIN_CHUNK_FRAMES,
    lead_in: Callable[[int], int] | None = None,
) -> list[Chunk]:
    """At most ``workers`` contiguous chunks covering ``0..frame_count-1``, none shorter than
    ``min_frames`` (a short clip is one chunk: analysed as it always was).

    Without ``lead_in`` the chunks are of near-equal length. With it (frames a seek to a given
    frame decodes first: ``FileVideoSource.frames_decoded_before``) they are of near-equal cost,
    so the worker whose chunk starts far from a keyframe gets fewer frames and every worker
    finishes at about the same time.
    """
    count = max(1, min(int(workers), frame_count // max(min_frames, 1)))
    bounds = [round(k * frame_count / count) for k in range(count + 1)]
    if count > 1 and lead_in is not None:
        bounds = _balanced_bounds(bounds, warmup, lead_in)
    return [
        Chunk(k, _first_frame(k, bounds[k], warmup), bounds[k], bounds[k + 1]) for k in range(count)
    ]


def _first_frame(k: int, start: int, warmup: int) -> int:
    """The first frame chunk ``k`` estimates: its warm-up's first, none for the first chunk."""
    return max(0, start - warmup) if k else 0


def _balanced_bounds(equal: list[int], warmup: int, lead_in: Callable[[int], int]) -> list[int]:
    """Chunk bounds that keep the costliest chunk as cheap as possible: a bisection on that
    cost, each chunk taking as many frames as the cost allows; the ``equal`` split where
    nothing beats it."""
    count, frame_count = len(equal) - 1, equal[-1]

    def overhead(k: int, start: int) -> float:
        first = _first_frame(k, start, warmup)
        return (start - first) + LEAD_IN_COST * lead_in(first)

    def fill(limit: float) -> list[int] | None:
        bounds = [0]
        for k in range(count):
            start = bounds[-1]
            stop = min(frame_count, start + int(limit - overhead(k, start)))
            if stop <= start:
                return None
            bounds.append(stop)
        return bounds if bounds[-1] == frame_count else None

    best = equal
    high = max(best[k + 1] - best[k] + overhead(k, best[k]) for k in range(count))
    low = frame_count / count
    while high - low > 0.5:
        middle = (low + high) / 2
        bounds = fill(middle)
        if bounds is None:
            low = middle
        else:
            high, best = middle, bounds
    return best
