"""What every benchmark needs: the real data, a line about the machine, and fair timings.

A benchmark's numbers only mean something next to the machine they came from and a baseline
measured in the same run, so each script prints ``machine_summary()`` first and times its
candidates with ``timed`` (which waits for a GPU to finish before reading the clock).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def find_shared_data(required: str, explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The real-data folder holding ``required`` (a file or folder name inside it), or None.

    Looked for in ``explicit``, then ``$RHPNET_COACH_DATA``, then ``shared/data`` beside the
    checkout or one level further up.
    """
    candidates = (
        explicit,
        os.environ.get("RHPNET_COACH_DATA"),
        REPO_ROOT.parent / "shared" / "data",
        REPO_ROOT.parent.parent / "shared" / "data",
    )
    for candidate in candidates:
        if candidate and (Path(candidate) / required).exists():
            return Path(candidate)
    return None


def machine_summary() -> str:
    """torch version, CPU, torch threads and load: what the timings below depend on."""
    import torch

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{torch.get_num_threads()} torch threads, load average {load:.2f}"
    )


def timed(
    run: Callable[..., Any],
    *args: Any,
    device_type: str = "cpu",
    clock: Callable[[], float] = time.perf_counter,
    **kwargs: Any,
) -> float:
    """Seconds ``run(*args, **kwargs)`` takes; on CUDA, queued work is finished before and after
    reading the clock, so the GPU's time is measured, not the launch."""
    synchronize = _synchronizer(device_type)
    synchronize()
    start = clock()
    run(*args, **kwargs)
    synchronize()
    return clock() - start


def _synchronizer(device_type: str) -> Callable[[], None]:
    if device_type == "cuda":
        import torch

        return torch.cuda.synchronize
    return lambda: None
