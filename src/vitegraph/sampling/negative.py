"""Negative-sampling tables, one alias table per context partition.

A worker training block (i, j) draws negatives from context partition j with
probability proportional to ``degree ** exponent`` (word2vec's unigram^0.75;
``degree`` is the weighted out-degree).  All P tables are stored back to back in
permuted order, two arrays of length V: partition p's table occupies
``[offsets[p], offsets[p+1])`` of ``prob``/``alias`` and its alias values are
local indices, so a draw returns a local index directly::

    state, local = alias_draw(t.prob, t.alias, offsets[p], offsets[p+1] - offsets[p], state)

A worker can also slice ``prob[offsets[p]:offsets[p+1]]`` and copy it to a device
with lo = 0.  Nodes of degree 0 never come up, unless their whole partition has
degree 0, in which case that partition's table is uniform.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from ..errors import ParameterError
from ..partition import Partition
from .alias import _fill_alias, alias_draw
from .rng import make_states


@dataclass(frozen=True, eq=False)
class NegativeTables:
    """Per-partition alias tables in permuted order (see module docstring)."""

    prob: np.ndarray      # float32[V]
    alias: np.ndarray     # int32[V], local to the partition
    offsets: np.ndarray   # int64[P+1], same as the partition's
    exponent: float

    @property
    def num_partitions(self) -> int:
        return self.offsets.size - 1

    def table(self, part: int) -> tuple[np.ndarray, np.ndarray]:
        """Views ``(prob, alias)`` of partition ``part``'s table."""
        lo, hi = self.offsets[part], self.offsets[part + 1]
        return self.prob[lo:hi], self.alias[lo:hi]

    def sample(self, part: int, size: int, seed: int = 0) -> np.ndarray:
        """``size`` local indices drawn from partition ``part`` (for tests and tools)."""
        lo, hi = int(self.offsets[part]), int(self.offsets[part + 1])
        return _draw(self.prob, self.alias, lo, hi - lo, int(size), make_states(seed, 1))


@njit(nogil=True, parallel=True, cache=True)
def _fill_tables(w, offsets, prob, alias):
    for p in prange(offsets.size - 1):
        lo = offsets[p]
        _fill_alias(w, prob, alias, lo, offsets[p + 1] - lo)


@njit(nogil=True, cache=True)
def _draw(prob, alias, lo, n, size, states):
    out = np.empty(size, dtype=np.int64)
    state = states[0]
    for i in range(size):
        state, out[i] = alias_draw(prob, alias, lo, n, state)
    states[0] = state
    return out


def build_negative_tables(partition: Partition, degree, exponent: float) -> NegativeTables:
    """Alias tables for every partition, proportional to ``degree ** exponent``.

    ``degree`` is indexed by global node id (length V, non-negative).
    """
    owner = "build_negative_tables"
    if not isinstance(partition, Partition):
        raise ParameterError(owner, "partition", "a Partition", type(partition))
    degree = np.asarray(degree, dtype=np.float64)
    if degree.shape != (partition.num_nodes,):
        raise ParameterError(owner, "degree", f"an array of length {partition.num_nodes}",
                             degree.shape)
    if not np.all(np.isfinite(degree)) or np.any(degree < 0):
        raise ParameterError(owner, "degree", "finite and non-negative", "negative or non-finite")
    try:
        exponent = float(exponent)
    except (TypeError, ValueError):
        raise ParameterError(owner, "exponent", "a finite number", exponent) from None
    if not math.isfinite(exponent):
        raise ParameterError(owner, "exponent", "a finite number", exponent)
    d = degree[partition.order]  # permuted order
    w = np.zeros_like(d)
    pos = d > 0
    w[pos] = d[pos] ** exponent
    prob = np.empty(d.size, dtype=np.float32)
    alias = np.empty(d.size, dtype=np.int32)
    offsets = partition.offsets.astype(np.int64)
    if d.size:
        _fill_tables(w, offsets, prob, alias)
    return NegativeTables(prob, alias, offsets.copy(), exponent)
