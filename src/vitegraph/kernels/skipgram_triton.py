"""GPU training kernel in Triton: fused Hogwild SGD, negatives drawn on the device.

Same maths as :mod:`vitegraph.kernels.skipgram_numba` (DESIGN.md section 1): for
sample t of a block of N, with ``lr_t = lr_start + (lr_end - lr_start) * t / N``,
``num_negative`` steps on (vertex[h], context[n]) with label 0 and weight
``negative_weight``, then one on (vertex[h], context[tails[t]]) with label 1;
each step, with ``g = sigmoid(v.c) - label``::

    v -= lr * w * (g * c + weight_decay * v)
    c -= lr * w * (g * v + weight_decay * c)      (both from the old v, c)

Layout, after GraphVite's warp-per-sample kernel: one program trains
``BLOCK_S`` consecutive samples at once as a ``[BLOCK_S, BLOCK_D]`` tile (one
row per sample, the embedding dimension across the lanes, masked up to the next
power of two).  The head rows stay in registers across a sample's negatives and
positive; each context row is read, updated and its change added back in
global memory, and at the end the head row's change is added back.  Programs
run concurrently without locks (Hogwild).  The changes are added with relaxed
atomic adds (``atomic=True``, the default), so updates of a row that samples in
flight share add up, as the torch reference's scatter-adds do; plain stores
(``atomic=False``, GraphVite's way) lose all but one of them, which costs
quality when many samples are in flight on a small graph (tested: 1024 samples
at once over 50 rows end at 7x the loss of the per-sample order with stores,
1.7x with atomic adds).  Table traffic per positive sample with K negatives is
``(2 + K) * 2 * 4 * dim`` bytes (3 KiB at d = 128, K = 1).

Negatives are drawn inside the kernel from the context partition's alias table
``(neg_prob, neg_alias)`` with Philox (``tl.randint4x``, counter = ``offset +
t * K + j``, key = ``seed``): one 32-bit word picks the slot, another the coin.
Only the positive samples cross the host-device bus.  :func:`draw_negatives`
draws the same numbers into an array (for tests and for the torch reference).

Row offsets are computed in 64 bits, so tables of more than 2**31 elements work.
The kernel runs compiled on CUDA and, under ``TRITON_INTERPRET=1``, on the CPU
with CPU tensors (how this machine tests it; the interpreter runs programs one
after another, so it cannot show races).
"""

from __future__ import annotations

import contextlib
import os
import threading

import torch

from ..errors import ParameterError
from .._validate import check_int
from ._common import BlockStats
from .skipgram_torch import (_as_index, _check_common, _check_negative_table, _check_ranges,
                             _describe)

__all__ = ["train_block", "train_block_with_negatives", "draw_negatives", "available",
           "block_size"]


def available(device) -> tuple[bool, str]:
    """Whether the Triton kernels can run on ``device``, and if not, why."""
    try:
        import triton  # noqa: F401
    except ImportError:
        return False, "triton is not installed"
    dev = torch.device(device)
    if dev.type == "cuda":
        return True, ""
    if dev.type == "cpu" and os.environ.get("TRITON_INTERPRET") == "1":
        return True, ""
    return False, (f"Triton kernels need a CUDA device (or TRITON_INTERPRET=1 for CPU "
                   f"tensors), not {dev}")


_INTERPRETER_LOCK = threading.Lock()


def _serial():
    """Triton's interpreter patches ``triton.language`` while a kernel runs, so
    two threads (stand-in devices) must not run kernels at once there."""
    if os.environ.get("TRITON_INTERPRET") == "1":
        return _INTERPRETER_LOCK
    return contextlib.nullcontext()


def _kernels():
    """The jitted kernels (:mod:`._triton_sgns`), imported on first use:
    importing triton costs about a second."""
    from . import _triton_sgns
    return _triton_sgns


def block_size(dim: int, block=None) -> tuple[int, int, int]:
    """``(BLOCK_S, BLOCK_D, num_warps)`` for rows of ``dim`` floats (``block``:
    samples per program, default about 4096 tile elements).  Warps grow with
    the tile: compiled for sm_90 with triton 3.6, a 32 x 128 tile on 4 warps
    used all 255 registers and spilled, on 8 it did not."""
    block_d = 1 << max(4, (int(dim) - 1).bit_length())
    if block is not None:
        block_s = int(block)
    else:
        block_s = max(1, min(64, 4096 // block_d))
        if os.environ.get("TRITON_INTERPRET") == "1":
            # the interpreter pays per program, not per lane: wide programs
            block_s = max(block_s, 1024)
    tile = block_d * block_s
    warps = 8 if tile >= 4096 else 4 if tile >= 1024 else 2
    return block_s, block_d, warps


def _seed63(seed: int) -> int:
    """The Philox key: 63 bits of the task's seed (Triton's Philox takes both
    32-bit halves of a 64-bit seed)."""
    return int(seed) & ((1 << 63) - 1)


def _on(device):
    """Triton launches on the current CUDA device: make it the tensors' one."""
    return torch.cuda.device(device) if device.type == "cuda" else contextlib.nullcontext()


def draw_negatives(neg_prob: torch.Tensor, neg_alias: torch.Tensor, num_samples: int,
                   num_negative: int, seed: int, offset: int = 0) -> torch.Tensor:
    """The ``num_samples x num_negative`` negatives (int64, on ``neg_prob``'s
    device) that :func:`train_block` draws with ``seed`` and ``offset``."""
    jit = _kernels()
    total = int(num_samples) * int(num_negative)
    out = torch.empty(total, dtype=torch.int64, device=neg_prob.device)
    if total:
        block = 1024
        with _serial(), _on(neg_prob.device):
            jit.draw_kernel[(jit.triton.cdiv(total, block),)](
                out, neg_prob, neg_alias.to(torch.int32), neg_prob.shape[0], total,
                _seed63(seed), int(offset), BLOCK=block)
    return out.view(int(num_samples), int(num_negative))


def _launch(vertex, context, heads, tails, negatives, neg_prob, neg_alias, num_negative,
            negative_weight, weight_decay, lr_start, lr_end, seed, offset, block, atomic):
    jit = _kernels()
    n, dim = heads.shape[0], vertex.shape[1]
    block_s, block_d, warps = block_size(dim, block)
    grid = jit.triton.cdiv(n, block_s)
    losses = torch.empty(grid, dtype=torch.float32, device=vertex.device)
    given = negatives is not None
    dummy = heads[:1]
    with _serial(), _on(vertex.device):
        _run_sgns(jit, grid, vertex, context, heads, tails, negatives if given else dummy,
                  neg_prob if neg_prob is not None else vertex,
                  neg_alias if neg_alias is not None else dummy, losses, n, dim,
                  lr_start, lr_end, negative_weight, weight_decay, seed, offset,
                  num_negative, given, atomic, block_s, block_d, warps)
    return losses.sum(dtype=torch.float64)


def _run_sgns(jit, grid, vertex, context, heads, tails, negs, prob, alias, losses, n, dim,
              lr_start, lr_end, negative_weight, weight_decay, seed, offset, num_negative,
              given, atomic, block_s, block_d, warps):
    jit.sgns_kernel[(grid,)](
        vertex, context, heads, tails, negs, prob, alias, losses, n, context.shape[0], dim,
        vertex.stride(0), context.stride(0), float(lr_start), float((lr_end - lr_start) / n),
        float(negative_weight), float(weight_decay), _seed63(seed), int(offset),
        K=int(num_negative), GIVEN=given, ATOMIC=bool(atomic), BLOCK_S=block_s,
        BLOCK_D=block_d, num_warps=warps)


def _check_rows_contiguous(owner, name, a):
    if a.stride(1) != 1:
        raise ParameterError(owner, name, "a tensor with contiguous rows", _describe(a))


def train_block(vertex, context, heads, tails, neg_prob, neg_alias, *, num_negative,
                negative_weight, weight_decay, lr_start, lr_end, seed, offset=0,
                block=None, atomic=True, check=True, sync=True) -> BlockStats:
    """Train one block in place (Triton); negatives drawn in the kernel from the
    alias table ``(neg_prob, neg_alias)`` over the rows of ``context`` with the
    Philox ``seed`` (counters from ``offset``).  Same arguments as
    :func:`vitegraph.kernels.skipgram_torch.train_block`, with ``seed`` for the
    generator; ``block`` overrides the samples per program; ``check=False``
    skips the range checks (each costs a device synchronisation);
    ``sync=False`` returns the loss as a 0-d device tensor without waiting for
    the kernel (an executor sums them once per episode).
    """
    owner = "triton train_block"
    device, heads, tails, (negw, wd, lr0, lr1, _b) = _check_common(
        owner, vertex, context, heads, tails, negative_weight, weight_decay,
        lr_start, lr_end, 1)
    num_negative = check_int(owner, "num_negative", num_negative, minimum=0)
    n_c = context.shape[0]
    neg_alias = _check_negative_table(owner, neg_prob, neg_alias, n_c, device)
    _check_rows_contiguous(owner, "vertex", vertex)
    _check_rows_contiguous(owner, "context", context)
    if check:
        _check_ranges(owner, [("heads", heads, vertex.shape[0]),
                              ("tails", tails, n_c), ("neg_alias", neg_alias, n_c)])
    if heads.shape[0] == 0:
        return BlockStats(0.0, 0)
    loss = _launch(vertex, context, heads, tails, None, neg_prob.contiguous(),
                   neg_alias.contiguous(), num_negative, negw, wd, lr0, lr1, seed,
                   offset, block, atomic)
    return BlockStats(float(loss) if sync else loss, int(heads.shape[0]))


def train_block_with_negatives(vertex, context, heads, tails, negatives, *,
                               negative_weight, weight_decay, lr_start, lr_end,
                               block=None, atomic=True) -> BlockStats:
    """As :func:`train_block` with the negatives given (``negatives`` [N, K])."""
    owner = "triton train_block_with_negatives"
    device, heads, tails, (negw, wd, lr0, lr1, _b) = _check_common(
        owner, vertex, context, heads, tails, negative_weight, weight_decay,
        lr_start, lr_end, 1)
    negatives = _as_index(owner, "negatives", negatives, 2, device,
                          rows=heads.shape[0]).contiguous()
    _check_rows_contiguous(owner, "vertex", vertex)
    _check_rows_contiguous(owner, "context", context)
    n_c = context.shape[0]
    _check_ranges(owner, [("heads", heads, vertex.shape[0]), ("tails", tails, n_c),
                          ("negatives", negatives, n_c)])
    if heads.shape[0] == 0:
        return BlockStats(0.0, 0)
    loss = _launch(vertex, context, heads, tails, negatives, None, None,
                   negatives.shape[1], negw, wd, lr0, lr1, 0, 0, block, atomic)
    return BlockStats(float(loss), int(heads.shape[0]))
