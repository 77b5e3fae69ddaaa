"""A small least-recently-used cache of decoded frames for interactive playback.

Stepping back and forth over a stride (the commonest thing a coach does) would otherwise
re-decode from the previous keyframe at every press. The budget is in bytes, not frames, so a
portrait 1080x1920 clip and a 480x360 one both stay within the same memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")

DEFAULT_BUDGET_BYTES = 192 * 1024 * 1024


def _size_of(value: object) -> int:
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    image = getattr(value, "image", None)
    if isinstance(image, np.ndarray):
        return int(image.nbytes)
    return 1


class FrameCache(Generic[T]):
    """``get(index)`` returns ``load(index)``, remembered until the byte budget evicts it."""

    def __init__(self, load: Callable[[int], T], budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        self._load = load
        self._budget = int(budget_bytes)
        self._items: OrderedDict[int, tuple[T, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __contains__(self, index: int) -> bool:
        return index in self._items

    def __len__(self) -> int:
        return len(self._items)

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def get(self, index: int) -> T:
        if index in self._items:
            self._items.move_to_end(index)
            self.hits += 1
            return self._items[index][0]
        self.misses += 1
        value = self._load(index)
        self.put(index, value)
        return value

    def put(self, index: int, value: T) -> None:
        size = _size_of(value)
        if index in self._items:
            self._bytes -= self._items.pop(index)[1]
        self._items[index] = (value, size)
        self._bytes += size
        while self._bytes > self._budget and len(self._items) > 1:
            _, (_, evicted) = self._items.popitem(last=False)
            self._bytes -= evicted

    def clear(self) -> None:
        self._items.clear()
        self._bytes = 0
