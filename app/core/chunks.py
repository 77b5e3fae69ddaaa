"""Split one video into contiguous chunks that separate estimators analyse side by side.

Each chunk owns the frames ``start..stop-1``; its estimator starts ``warmup`` frames earlier
(``first``) so that BlazePose's frame-to-frame tracking, the tracker's velocities and the scene
cut detector have settled by the chunk's first owned frame. The warm-up frames are analysed twice
(as the previous chunk's last owned frames and as this chunk's warm-up) and serve to stitch the
chunks' track identities together (``TrackSet.absorb``). docs/engine.md, "Parallel analysis".
"""

from __future__ import annotations

from dataclasses import dataclass

# Frames an estimator sees before its first owned frame (an eighth of a second at 60 fps). BlazePose
# re-detects on its first frame and tracks from its second, so this is ample to settle.
WARMUP_FRAMES = 8
# A chunk shorter than this would spend a large share of its time warming up and starting.
MIN_CHUNK_FRAMES = 120


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
) -> list[Chunk]:
    """At most ``workers`` chunks of near-equal length covering ``0..frame_count-1``, none
    shorter than ``min_frames`` (a short clip is one chunk: analysed as it always was)."""
    count = max(1, min(int(workers), frame_count // max(min_frames, 1)))
    bounds = [round(k * frame_count / count) for k in range(count + 1)]
    return [
        Chunk(k, max(0, bounds[k] - warmup) if k else 0, bounds[k], bounds[k + 1])
        for k in range(count)
    ]
