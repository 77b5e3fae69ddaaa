import numpy as np

from app.core.frame_cache import FrameCache


def test_cache_hits_and_evicts_by_bytes():
    loads: list[int] = []

    def load(index: int) -> np.ndarray:
        loads.append(index)
        return np.full((10, 10, 3), index, np.uint8)  # 300 bytes each

    cache = FrameCache(load, budget_bytes=1000)
    for index in (0, 1, 2):
        cache.get(index)
    assert cache.get(1)[0, 0, 0] == 1
    assert loads == [0, 1, 2] and cache.hits == 1
    cache.get(3)  # 1200 bytes > 1000: the least recently used (0) goes
    assert 0 not in cache and 1 in cache and 3 in cache
    assert cache.bytes_used == 900
    cache.get(0)
    assert loads == [0, 1, 2, 3, 0]


def test_single_oversized_item_is_kept():
    cache = FrameCache(lambda i: np.zeros(5000, np.uint8), budget_bytes=100)
    cache.get(7)
    assert 7 in cache and len(cache) == 1
