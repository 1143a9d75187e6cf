"""Training kernels: the hot loops, one module per objective and backend.

Kernels take arrays, never model objects, train one block of samples in place
and return :class:`BlockStats`.  A model (:mod:`vitegraph.models`) binds its
options to the kernel of each backend it supports; the executors call that
binding and know no kernel by name.

Skip-gram with negative sampling (DeepWalk, LINE, node2vec)::

    train_block(vertex, context, heads, tails, neg_prob, neg_alias, *,
                num_negative, negative_weight, weight_decay, lr_start, lr_end,
                <rng>, <parallelism>) -> BlockStats

``vertex`` [n_v, d] and ``context`` [n_c, d] are float32 tables (row slices of the
full tables: one partition each; slices of one table for first-order LINE);
``heads`` and ``tails`` hold local row indices; negatives come from the alias
table ``(neg_prob, neg_alias)`` over the context rows.  The maths is DESIGN.md
section 1, the lr is linear in the sample index from ``lr_start`` to ``lr_end``.

- :mod:`.skipgram_numba`: CPU, per-sample Hogwild, releases the GIL; ``states``
  (uint64 RNG slots) and ``num_threads``.
- :mod:`.skipgram_torch`: any torch device, batched gather / compute /
  scatter-add; ``generator`` and ``batch_size``.  Imported on first use (torch
  is optional).

Each also has ``train_block_with_negatives`` (negatives given as [N, K] instead
of drawn) and ``draw_negatives`` (the draws ``train_block`` would make); the two
are parity-tested.

Kernels take every hyper-parameter explicitly and define no defaults (those
belong to the model's config section).  The run-wide schedule, with its floor,
is the caller's: it passes each block the lr at the block's first and
one-past-last sample.  When vertex and context are one table and a step pairs a
row with itself, both deltas apply (the gradient of ``v.v``), in both
implementations.
"""

from __future__ import annotations

import importlib

from . import skipgram_numba
from ._common import BlockStats

# the torch kernels are importable as attributes but left out here: they import torch
__all__ = ["BlockStats", "skipgram_numba"]


def __getattr__(name):
    if name == "skipgram_torch":
        return importlib.import_module(f"{__name__}.skipgram_torch")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
