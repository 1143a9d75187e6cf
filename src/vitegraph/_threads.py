"""Run GIL-releasing (numba ``nogil``) jobs on Python threads: the one runner
that the samplers, the CPU kernels and the CPU executor share.

Numba's own threading layers are not all safe to enter from several threads at
once, and vitegraph runs a sampler thread beside the training threads, so all
parallel work is plain Python threads calling ``nogil`` functions.
"""

from __future__ import annotations

import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional, Sequence


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    import os
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


class ThreadRunner:
    """``run(fn, jobs)`` calls ``fn(*job)`` for every job, at most ``num_threads``
    at a time, and returns the results in job order; the first exception is
    re-raised in the caller.  The calling thread takes a share of the jobs,
    so ``num_threads = 1`` (or a single job) runs inline with no thread at all.
    The worker threads are created on first use and kept until :meth:`close`
    (or garbage collection).
    """

    def __init__(self, num_threads: int, name: str = "vitegraph"):
        self.num_threads = max(1, int(num_threads))
        self.name = name
        self._executor: Optional[ThreadPoolExecutor] = None
        self._finalizer = None

    def _start(self) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.num_threads - 1,
                                                thread_name_prefix=self.name)
            self._finalizer = weakref.finalize(self, self._executor.shutdown, wait=False)

    def run(self, fn: Callable, jobs: Sequence[tuple]) -> list:
        jobs = list(jobs)
        if self.num_threads == 1 or len(jobs) <= 1:
            return [fn(*job) for job in jobs]
        self._start()
        # jobs are dealt round-robin to the pool's threads and to this one
        lanes = [jobs[k::self.num_threads] for k in range(self.num_threads)]
        index = [list(range(k, len(jobs), self.num_threads)) for k in range(self.num_threads)]

        def lane(k):
            return [fn(*job) for job in lanes[k]]

        futures = [self._executor.submit(lane, k) for k in range(1, self.num_threads)
                   if lanes[k]]
        results: list = [None] * len(jobs)
        first_error: Optional[BaseException] = None
        try:
            for i, r in zip(index[0], lane(0)):
                results[i] = r
        except BaseException as exc:  # still wait for the others
            first_error = exc
        for k, f in zip(range(1, self.num_threads), futures):
            while True:  # a Ctrl-C while waiting must not leave a thread running
                try:
                    for i, r in zip(index[k], f.result()):
                        results[i] = r
                    break
                except KeyboardInterrupt as exc:
                    first_error = first_error or exc
                    if f.done():
                        break
                except BaseException as exc:
                    first_error = first_error or exc
                    break
        if first_error is not None:
            raise first_error
        return results

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._executor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
