"""What every kernel shares: the statistics it returns, and the CPU kernels'
split of a block into one chunk per thread.

Nothing here imports torch, so the numba kernels work without it.
"""

from __future__ import annotations

from typing import NamedTuple

from .._threads import ThreadRunner


class BlockStats(NamedTuple):
    """Statistics of one trained block.

    ``loss`` is the weighted loss summed over every sub-step (each negative with
    weight ``negative_weight``, each positive with weight 1), ``num_samples`` the
    number of positive samples trained.
    """

    loss: float
    num_samples: int

    @property
    def mean_loss(self) -> float:
        """Weighted loss per positive sample (0.0 for an empty block)."""
        return self.loss / self.num_samples if self.num_samples else 0.0


def run_chunks(kernel, args_for, num_samples, num_threads):
    """Run ``kernel(*args_for(lo, hi, slot))`` over ``num_threads`` contiguous
    chunks of ``num_samples``, one thread each (the calling thread takes chunk
    0; with one thread, the call is direct)."""
    bounds = [num_samples * i // num_threads for i in range(num_threads + 1)]
    jobs = [args_for(bounds[i], bounds[i + 1], i) for i in range(num_threads)]
    if num_threads == 1:
        kernel(*jobs[0])
        return
    with ThreadRunner(num_threads, "vitegraph-kernel") as runner:
        runner.run(kernel, jobs)
