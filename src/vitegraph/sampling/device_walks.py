"""Random walks and augmentation on the training device (torch, any device).

GraphVite samples on the CPU and sends every positive pair over the bus.  When
the host's cores cannot keep a GPU kernel fed, :class:`DeviceWalkSampler` does
the same work on the GPU, vectorised over many walks at once, and writes the
pool where the kernel reads it: nothing crosses the bus.

The walks are those of :class:`~vitegraph.sampling.WalkSampler` (first-order
walks only: DeepWalk and LINE, uniform or weighted):

1. a start edge (u, v) by weight: u by out-strength (alias table over nodes),
   then v among u's neighbours (uniformly, or by the row's alias table);
2. ``walk_length`` steps in all, each to a neighbour of the current node chosen
   the same way, all walks advancing together (one gather of ``indptr`` and one
   of ``indices`` per step); a walk that reaches a node without out-edges ends;
3. every forward pair (c_{m-k}, c_m) with k = 1..s (``augmentation_step``).

Pairs are laid out step-major: consecutive samples of the pool come from
different walks, so the samples a GPU kernel trains at once rarely share a
row (the host sampler's pool is walk-major).  A pool gets exactly its capacity
of pairs: walks are drawn in batches until enough valid pairs exist, and the
surplus of the last batch is dropped, as the host sampler cuts the walks in
progress when its chunk is full.  Random numbers come from a
``torch.Generator`` on the device reseeded per pool, so a pool is a function of
the seed (on one kind of device).

Only one partition (P = 1): the pool holds global ids.
"""

from __future__ import annotations

import numpy as np

from ..errors import ParameterError
from .pool import PAIR, SamplePool
from .walks import prepare_walk_graph


class DevicePool(SamplePool):
    """A one-partition sample pool whose ``data`` is an int32 torch tensor
    [K, capacity] on ``device`` (see :class:`SamplePool` for the interface)."""

    def __init__(self, capacity: int, device, columns=PAIR):
        import torch
        self.capacity = int(capacity)
        self.partition = None
        self.columns = tuple(columns)
        self.num_partitions = 1
        self.data = torch.zeros((len(self.columns), self.capacity), dtype=torch.int32,
                                device=torch.device(device))
        self.offsets = np.zeros(2, dtype=np.int64)

    @property
    def nbytes(self) -> int:
        return int(self.data.numel() * 4 + self.offsets.nbytes)


class DeviceWalkSampler:
    """Fills :class:`DevicePool` s with walk pairs computed on ``device``.

    Same graph arguments as :class:`~vitegraph.sampling.WalkSampler` (p = q = 1).
    ``walks_per_batch``: walks advanced together (memory: about
    ``(walk_length + 1) * 8`` bytes each, plus the pairs of a batch)."""

    def __init__(self, indptr, indices, weights=None, *, walk_length: int,
                 augmentation_step: int, device, seed: int = 0,
                 walks_per_batch: int = 1 << 18):
        import torch
        self.torch = torch
        self.device = torch.device(device)
        if augmentation_step < 1 or augmentation_step > walk_length:
            raise ParameterError("DeviceWalkSampler", "augmentation_step",
                                 f"between 1 and walk_length ({walk_length})",
                                 augmentation_step)
        self.walk_length = int(walk_length)
        self.augmentation_step = int(augmentation_step)
        self.walks_per_batch = int(walks_per_batch)
        g = prepare_walk_graph(indptr, indices, weights)
        if g.nnz == 0:
            raise ParameterError("DeviceWalkSampler", "graph", "a graph with edges", "none")
        on = self._on
        self.indptr = on(g.indptr)
        self.degree = on(np.diff(g.indptr))
        self.indices = on(g.indices)
        self.weighted = g.weighted
        self.row_prob = on(g.row_prob) if g.weighted else None
        self.row_alias = on(g.row_alias.astype(np.int64)) if g.weighted else None
        self.node_prob = on(g.node_prob)
        self.node_alias = on(g.node_alias.astype(np.int64))
        self.nbytes = int(sum(t.numel() * t.element_size() for t in
                              (self.indptr, self.degree, self.indices, self.node_prob,
                               self.node_alias) + ((self.row_prob, self.row_alias)
                                                   if g.weighted else ())))
        self.generator = torch.Generator(device=self.device)
        self.reseed(seed)
        # pair (k, m): (walk[m - k], walk[m]); step-major order of the pool
        s, L = self.augmentation_step, self.walk_length
        ks, ms = [], []
        for m in range(1, L + 1):
            for k in range(1, min(s, m) + 1):
                ks.append(k)
                ms.append(m)
        self._tail_pos = torch.tensor(ms, device=self.device)
        self._head_pos = self._tail_pos - torch.tensor(ks, device=self.device)
        self.pairs_per_walk = len(ms)

    def _on(self, a):
        return self.torch.tensor(np.ascontiguousarray(a), device=self.device)   # a copy

    def close(self) -> None:
        pass

    def reseed(self, seed: int) -> None:
        self.generator.manual_seed(int(seed) & ((1 << 63) - 1))

    # -- drawing ----------------------------------------------------------------------
    def _alias(self, prob, alias, n: int, size: int):
        torch = self.torch
        slot = torch.randint(n, (size,), generator=self.generator, device=self.device)
        coin = torch.rand(size, generator=self.generator, device=self.device)
        return torch.where(coin < prob[slot], slot, alias[slot])

    def _neighbour(self, nodes):
        """A neighbour of each node (by weight); -1 for nodes without out-edges."""
        torch = self.torch
        deg = self.degree[nodes]
        u = torch.rand(nodes.shape[0], generator=self.generator, device=self.device,
                       dtype=torch.float64)
        k = torch.minimum((u * deg).long(), (deg - 1).clamp_min(0))
        lo = self.indptr[nodes]
        if self.weighted:
            coin = torch.rand(nodes.shape[0], generator=self.generator, device=self.device)
            slot = lo + k
            safe = torch.where(deg > 0, slot, 0)
            k = torch.where(coin < self.row_prob[safe], k, self.row_alias[safe])
        slot = torch.where(deg > 0, lo + k, 0)
        return torch.where(deg > 0, self.indices[slot].long(), -1)

    def walks(self, num_walks: int):
        """``num_walks`` walks as int64 [num_walks, walk_length + 1], -1 after a
        dead end."""
        torch = self.torch
        n = self.node_prob.shape[0]
        out = torch.empty((num_walks, self.walk_length + 1), dtype=torch.long,
                          device=self.device)
        cur = self._alias(self.node_prob, self.node_alias, n, num_walks)
        out[:, 0] = cur
        for m in range(1, self.walk_length + 1):
            alive = cur >= 0
            nxt = self._neighbour(cur.clamp_min(0))
            cur = torch.where(alive, nxt, -1)
            out[:, m] = cur
        return out

    def _pairs(self, num_walks: int):
        """Valid pairs of ``num_walks`` walks, step-major: int64 [2, count]."""
        w = self.walks(num_walks)
        heads = w[:, self._head_pos].t().reshape(-1)
        tails = w[:, self._tail_pos].t().reshape(-1)
        keep = tails >= 0
        return self.torch.stack((heads[keep], tails[keep]))

    def fill(self, pool: DevicePool) -> DevicePool:
        """Fill ``pool`` with exactly ``pool.capacity`` pairs."""
        need = pool.capacity
        done = 0
        while done < need:
            want = need - done
            walks = min(self.walks_per_batch, max(1, -(-want // self.pairs_per_walk) + 16))
            pairs = self._pairs(walks)
            take = min(want, pairs.shape[1])
            pool.data[:2, done:done + take] = pairs[:, :take]
            done += take
        pool.offsets[:] = (0, need)
        if self.device.type == "cuda":
            # the pool is complete before the training stream reads it
            self.torch.cuda.current_stream(self.device).synchronize()
        return pool

