"""Training kernels: the hot SGD loops, behind one small interface.

A kernel takes arrays, never model objects, trains one block of positive samples
in place and returns :class:`BlockStats`::

    train_block(vertex, context, heads, tails, neg_prob, neg_alias, *,
                num_negative, negative_weight, weight_decay, lr_start, lr_end,
                <rng>, <parallelism>) -> BlockStats

``vertex`` [n_v, d] and ``context`` [n_c, d] are float32 tables (row slices of the
full tables: one partition each; the same table for first-order LINE); ``heads``
and ``tails`` hold local row indices; negatives come from the alias table
``(neg_prob, neg_alias)`` over the context rows.  The maths is DESIGN.md
section 1, the lr is linear in the sample index from ``lr_start`` to ``lr_end``.

Implementations (same maths, parity-tested):

- :mod:`.numba_sgd`: CPU, per-sample Hogwild, releases the GIL; ``states``
  (uint64 RNG slots) and ``num_threads``.
- :mod:`.torch_sgd`: any torch device, batched gather / compute / scatter-add;
  ``generator`` and ``batch_size``.  Imported on first use (torch is optional).

Each also has ``train_block_with_negatives`` (negatives given as [N, K] instead
of drawn) and ``draw_negatives`` (the draws ``train_block`` would make).

Kernels take every hyper-parameter explicitly and define no defaults (those
belong to the config schema: 1 negative of weight 5, weight decay 0.005).  The
run-wide schedule, with its floor, is the caller's: it passes each block the lr
at the block's first and one-past-last sample.  When vertex and context are one
table and a step pairs a row with itself, both deltas apply (the gradient of
``v.v``), in both implementations.
"""

from __future__ import annotations

import importlib

from ..errors import ParameterError
from . import numba_sgd
from ._common import BlockStats
from .numba_sgd import draw_negatives, train_block, train_block_with_negatives

# torch_sgd is importable as an attribute but left out here: it imports torch
__all__ = ["BlockStats", "numba_sgd", "train_block", "train_block_with_negatives",
           "draw_negatives", "backend"]

_BACKENDS = {"numba": "numba_sgd", "torch": "torch_sgd"}


def backend(name: str):
    """The kernel module for ``name`` ('numba' or 'torch'): each offers
    ``train_block``, ``train_block_with_negatives`` and ``draw_negatives``."""
    if name not in _BACKENDS:
        raise ParameterError("kernels.backend", "name", f"one of {sorted(_BACKENDS)}",
                             name)
    return importlib.import_module(f"{__name__}.{_BACKENDS[name]}")


def __getattr__(name):
    if name == "torch_sgd":
        return importlib.import_module(f"{__name__}.torch_sgd")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
