"""Background work for the UI: a task runs a plain function on a QThread and reports by signals.

The function receives a ``TaskContext`` (cancel event, progress and partial-result callbacks)
and never touches Qt, so the same ``app/core`` functions serve the CLI and the GUI. Progress and
partial results are rate-limited to ~30 per second: a fast worker cannot flood the UI thread's
event queue, and the UI thread only draws.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThread, Signal

from app.core.progress import Cancelled, raise_if_cancelled
from rhpnet.errors import UserFacingError

log = logging.getLogger(__name__)

MAX_UPDATES_PER_SECOND = 30.0


BACKGROUND_NICENESS = 5


def lower_current_thread_priority(niceness: int = BACKGROUND_NICENESS) -> None:
    """Make the calling thread (and every thread it starts later) yield the CPU to the UI.

    On Linux niceness is per thread and inherited by threads created afterwards, so the
    decoder thread and the model's own thread pool started by a task are niced as well: on a
    busy two-core laptop the UI thread still gets the CPU the moment it needs it. Qt's thread
    priorities do nothing under Linux's default scheduler, hence ``os.setpriority``.
    """
    if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        with contextlib.suppress(OSError):
            current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), max(current, niceness))


class RateLimiter:
    """Lets an event through at most ``rate`` times per second (Qt-free, testable)."""

    def __init__(
        self, rate: float = MAX_UPDATES_PER_SECOND, clock: Callable[[], float] = time.monotonic
    ):
        self._interval = 1.0 / rate
        self._clock = clock
        self._last = -float("inf")

    def ready(self) -> bool:
        now = self._clock()
        if now - self._last >= self._interval:
            self._last = now
            return True
        return False


class TaskContext:
    """What a task function may use: the cancel flag and two rate-limited reporting channels."""

    def __init__(self, task: Task) -> None:
        self._task = task
        self.cancel = threading.Event()
        self._progress_limiter = RateLimiter()
        self._partial_limiter = RateLimiter()
        self._pending_partial: Any = None
        self._has_pending = False
        self._lock = threading.Lock()

    def progress(self, done: int, total: int, message: str = "") -> None:
        if self._progress_limiter.ready() or (total > 0 and done >= total):
            self._task.progress.emit(int(done), int(total), message)

    def partial(self, value: Any) -> None:
        """Publish the latest partial result; intermediate ones may be skipped (latest wins)."""
        with self._lock:
            self._pending_partial, self._has_pending = value, True
        if self._partial_limiter.ready():
            self.flush_partial()

    def flush_partial(self) -> None:
        with self._lock:
            value, pending = self._pending_partial, self._has_pending
            self._pending_partial, self._has_pending = None, False
        if pending:
            self._task.partial.emit(value)

    def check_cancelled(self) -> None:
        raise_if_cancelled(self.cancel)


class Task(QThread):
    """Runs ``function(context, *args)`` off the UI thread.

    Exactly one of ``succeeded(result)``, ``failed(message, details)`` or ``cancelled()`` is
    emitted, then QThread's own ``finished``. Once cancelled, the outcome is ``cancelled()``
    whatever happens next: an error raised while a cancelled task winds down (often caused by
    the cancel itself) is logged, never put in front of a user who has moved on.
    """

    progress = Signal(int, int, str)
    partial = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str, str)
    cancelled = Signal()

    def __init__(self, name: str, function: Callable[..., Any], *args: Any, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.name = name
        self._function = function
        self._args = args
        self.context = TaskContext(self)
        self.started_at = 0.0

    def cancel(self) -> None:
        self.context.cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self.context.cancel.is_set()

    def run(self) -> None:
        self.started_at = time.monotonic()
        lower_current_thread_priority()
        try:
            result = self._function(self.context, *self._args)
        except Cancelled:
            self.cancelled.emit()
            return
        except Exception as error:
            if self.is_cancelled:
                log.info("%s: error after it was cancelled", self.name, exc_info=True)
                self.cancelled.emit()
            else:
                self._report_failure(error)
            return
        if self.is_cancelled:
            self.cancelled.emit()
            return
        self.context.flush_partial()
        self.succeeded.emit(result)

    def _report_failure(self, error: Exception) -> None:
        """A one-line message for the user; the traceback goes to the details pane (and the log
        for what can only be a bug)."""
        if isinstance(error, UserFacingError):
            self.failed.emit(str(error), "")
        elif isinstance(error, MemoryError):
            self.failed.emit(f"{self.name}: not enough memory", traceback.format_exc())
        elif isinstance(error, OSError):
            self.failed.emit(f"{self.name}: {error.strerror or error}", traceback.format_exc())
        else:
            log.exception("%s failed", self.name)
            self.failed.emit(f"{self.name} failed: {error}", traceback.format_exc())


def remaining_seconds(elapsed: float, done: int, total: int) -> float | None:
    """Linear estimate of the time left, or None before there is anything to extrapolate."""
    if done <= 0 or total <= 0 or elapsed <= 0:
        return None
    return elapsed * (total - done) / done
