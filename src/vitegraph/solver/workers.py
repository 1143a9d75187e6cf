"""Workers: train the blocks of one sample pool on the embedding tables.

The tables live in *permuted* row order (partition 0's nodes, then partition
1's, ...; see :class:`~vitegraph.partition.Partition`), so the vertex rows of
partition i and the context rows of partition j are contiguous slices, and a
block's local indices index those slices directly.

Two implementations of one small interface (:class:`Workers`):

- :class:`NumbaWorkers` (CPU): with one partition, the whole pool is one block
  trained Hogwild by ``num_workers`` threads; with P > 1, each round of the
  schedule trains up to W orthogonal blocks at once, one thread per block, with
  no locking: orthogonal blocks share no vertex and no context rows.
- :class:`TorchWorkers` (any torch device): tables are tensors on the device and
  the blocks of a round run one after another through the batched torch kernel
  (one device, one stream).  Pool arrays are copied to the device per block.

Learning rate: linear in the global sample index ``t`` over the whole run,
``lr(t) = lr0 * max(lr_floor, 1 - t / total)``; a block trained from ``t0`` to
``t1`` gets the ramp ``lr(t0) -> lr(t1)``.  Blocks of one round are trained at
the same time, so each gets the ramp of the round's span.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import numpy as np

from ..kernels import backend as kernel_backend
from ..sampling import SamplePool
from ..sampling.rng import make_states


class LrSchedule:
    """``lr(t) = lr0 * max(floor, 1 - t / total)`` over global sample index t."""

    def __init__(self, lr0: float, floor: float, total: int):
        self.lr0, self.floor, self.total = float(lr0), float(floor), max(int(total), 1)

    def __call__(self, t: int) -> float:
        return self.lr0 * max(self.floor, 1.0 - t / self.total)


class Workers:
    """Interface: ``train_pool(pool, t0, lr, rounds) -> (loss_sum, count)``;
    ``tables()`` returns ``(vertex, context)`` as numpy arrays (permuted order);
    ``reseed(seed)`` resets the negative-sampling streams."""

    def train_pool(self, pool: SamplePool, t0: int, lr: LrSchedule, rounds) -> tuple[float, int]:
        raise NotImplementedError

    def tables(self) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def reseed(self, seed: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _round_spans(pool: SamplePool, rounds, t0: int):
    """Per round: the blocks with samples, and the global sample span
    ``[t, t + sum of the round's block sizes)``."""
    sizes = pool.block_sizes()
    t = t0
    for blocks in rounds:
        live = [(i, j) for i, j in blocks if sizes[i, j] > 0]
        n = int(sum(sizes[i, j] for i, j in live))
        if n:
            yield live, t, t + n
        t += n


class NumbaWorkers(Workers):
    def __init__(self, vertex: np.ndarray, context: np.ndarray, negatives, offsets: np.ndarray,
                 *, num_workers: int, num_negative: int, negative_weight: float,
                 weight_decay: float, seed: int):
        self.vertex, self.context = vertex, context
        self.negatives, self.offsets = negatives, offsets
        self.num_workers = int(num_workers)
        self.kw = dict(num_negative=int(num_negative), negative_weight=float(negative_weight),
                       weight_decay=float(weight_decay))
        self.kernel = kernel_backend("numba")
        self.states = make_states(seed, self.num_workers)
        self._pool: Optional[ThreadPoolExecutor] = None

    def reseed(self, seed: int) -> None:
        self.states[:] = make_states(seed, self.num_workers)

    def _slices(self, i: int, j: int):
        o = self.offsets
        v = self.vertex[o[i]:o[i + 1]]
        c = self.context[o[j]:o[j + 1]]
        prob, alias = self.negatives.table(j)
        return v, c, prob, alias

    def train_pool(self, pool, t0, lr, rounds):
        P = pool.num_partitions
        if P == 1:
            heads, tails = pool.block(0, 0)
            v, c, prob, alias = self._slices(0, 0)
            st = self.kernel.train_block(v, c, heads, tails, prob, alias,
                                         lr_start=lr(t0), lr_end=lr(t0 + heads.size),
                                         states=self.states, num_threads=self.num_workers,
                                         **self.kw)
            return st.loss, st.num_samples
        if self._pool is None and self.num_workers > 1:
            self._pool = ThreadPoolExecutor(self.num_workers, thread_name_prefix="vitegraph-worker")
        loss, count = 0.0, 0
        for blocks, ta, tb in _round_spans(pool, rounds, t0):
            lr0, lr1 = lr(ta), lr(tb)

            def work(slot, block):
                i, j = block
                heads, tails = pool.block(i, j)
                v, c, prob, alias = self._slices(i, j)
                return self.kernel.train_block(v, c, heads, tails, prob, alias,
                                               lr_start=lr0, lr_end=lr1,
                                               states=self.states[slot:slot + 1],
                                               num_threads=1, **self.kw)

            if self._pool is None or len(blocks) == 1:
                results = [work(0, b) for b in blocks]
            else:
                results = list(self._pool.map(work, range(len(blocks)), blocks))
            for st in results:
                loss += st.loss
                count += st.num_samples
        return loss, count

    def tables(self):
        return self.vertex, self.context

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None


class TorchWorkers(Workers):
    def __init__(self, vertex: np.ndarray, context: np.ndarray, negatives, offsets: np.ndarray,
                 *, device: str, batch_size: int, num_negative: int, negative_weight: float,
                 weight_decay: float, seed: int, same_table: bool):
        import torch
        self.torch = torch
        self.device = torch.device(device)
        self.vertex = torch.from_numpy(vertex).to(self.device)
        self.context = self.vertex if same_table else torch.from_numpy(context).to(self.device)
        self.neg_prob = torch.from_numpy(negatives.prob).to(self.device)
        self.neg_alias = torch.from_numpy(negatives.alias).to(self.device)
        self.offsets = [int(x) for x in offsets]
        self.batch_size = int(batch_size)
        self.kw = dict(num_negative=int(num_negative), negative_weight=float(negative_weight),
                       weight_decay=float(weight_decay))
        self.kernel = kernel_backend("torch")
        self.generator = torch.Generator(device=self.device)
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        self.generator.manual_seed(int(seed) & ((1 << 63) - 1))

    def train_pool(self, pool, t0, lr, rounds):
        torch = self.torch
        o = self.offsets
        pin = self.device.type == "cuda"
        loss, count = 0.0, 0
        for blocks, ta, tb in _round_spans(pool, rounds, t0):
            t = ta
            for i, j in blocks:
                heads, tails = pool.block(i, j)
                h = torch.from_numpy(heads)
                tl = torch.from_numpy(tails)
                if pin:
                    h, tl = h.pin_memory(), tl.pin_memory()
                h = h.to(self.device, non_blocking=True)
                tl = tl.to(self.device, non_blocking=True)
                n = heads.size
                # blocks of a round run one after another here: give each its own
                # part of the round's lr ramp
                st = self.kernel.train_block(
                    self.vertex[o[i]:o[i + 1]], self.context[o[j]:o[j + 1]], h, tl,
                    self.neg_prob[o[j]:o[j + 1]], self.neg_alias[o[j]:o[j + 1]],
                    lr_start=lr(t), lr_end=lr(t + n), generator=self.generator,
                    batch_size=self.batch_size, **self.kw)
                t += n
                loss += st.loss
                count += st.num_samples
        return loss, count

    def tables(self):
        v = self.vertex.detach().cpu().numpy()
        c = v if self.context is self.vertex else self.context.detach().cpu().numpy()
        return v, c
