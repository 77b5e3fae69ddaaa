"""How long-running core work (analysis, overlay rendering) reports progress and stops on request.

One convention for the CLI, the app's workers and tests alike: a ``Progress`` callable receives
``(done, total)`` (``total`` 0 when unknown, as for a live camera); a ``threading.Event`` set by
the caller asks the work to stop, and the work then raises ``Cancelled`` having left no partial
file behind (writes are atomic, docs/engine.md).
"""

from __future__ import annotations

import threading
from typing import Protocol


class Cancelled(Exception):
    """The user cancelled; the work stopped and nothing half-written was left."""


class Progress(Protocol):
    """Told how far the work has come: ``done`` of ``total`` steps (``total`` 0: unknown)."""

    def __call__(self, done: int, total: int, /) -> None: ...


def raise_if_cancelled(cancel: threading.Event | None) -> None:
    """Raise ``Cancelled`` once the caller has set ``cancel``."""
    if cancel is not None and cancel.is_set():
        raise Cancelled()
