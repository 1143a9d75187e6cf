"""Double-buffered sample pools: a producer thread fills one pool while the
trainer consumes the other (GraphVite's collaboration strategy).

The producer runs the sampler's ``fill`` (numba, GIL released) for episode
``k + 1`` while the workers train episode ``k``.  Pools cycle through two
queues, so at most one pool is being filled and one trained; the sampler is
reseeded per episode, which makes every episode's samples a function of
``(seed, episode)`` alone: a resumed run draws the same samples as an
uninterrupted one.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Callable, Iterator

from ..sampling import SamplePool


class PoolPipeline:
    """Iterate ``(episode, pool, fill_seconds)`` for ``episodes`` in order.

    ``fill(pool, episode)`` fills a pool for an episode; ``pools`` are the
    buffers (two for double buffering; one makes sampling and training strictly
    alternate).  A pool yielded by the iterator is handed back to the producer
    when the consumer asks for the next one.
    """

    def __init__(self, fill: Callable[[SamplePool, int], None], pools: list[SamplePool],
                 episodes: range):
        self._fill = fill
        self._episodes = episodes
        self._free: queue.Queue = queue.Queue()
        self._ready: queue.Queue = queue.Queue()
        for p in pools:
            self._free.put(p)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="vitegraph-pools",
                                        daemon=True)
        self.wait_seconds = 0.0   # consumer time spent waiting for a full pool
        self.fill_seconds = 0.0   # producer time spent filling

    def _produce(self) -> None:
        try:
            for ep in self._episodes:
                pool = self._free.get()
                if pool is None or self._stop.is_set():
                    return
                t = time.perf_counter()
                self._fill(pool, ep)
                dt = time.perf_counter() - t
                self.fill_seconds += dt
                self._ready.put((ep, pool, dt))
        except BaseException as exc:  # surfaced in the consumer
            self._ready.put(exc)

    def __iter__(self) -> Iterator:
        self._thread.start()
        last = None
        try:
            for _ in self._episodes:
                if last is not None:
                    self._free.put(last)
                t = time.perf_counter()
                item = self._ready.get()
                self.wait_seconds += time.perf_counter() - t
                if isinstance(item, BaseException):
                    raise item
                last = item[1]
                yield item
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()
        self._free.put(None)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join()
