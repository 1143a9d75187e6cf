"""Knowledge-graph training kernel in Triton: fused per-sample Hogwild on the GPU.

Same objective and order as :mod:`vitegraph.kernels.kge_numba` (the six
scores, head-or-tail corruption, self-adversarial weights, margin, L3, SGD or
lazy Adam), one program per ``BLOCK_S`` consecutive samples, a sample per row
of a ``[BLOCK_S, BLOCK_P]`` tile for each part of the entity row (the real
and imaginary halves, SimplE's halves, the quaternion components).  For each
sample the program

1. loads the positive's head, relation and tail rows into registers;
2. pass 1: scores the ``K`` negatives (drawn in the kernel with Philox, or
   given), keeping their scores in a scratch buffer and their running
   log-sum-exp for the self-adversarial weights;
3. differentiates the positive;
4. pass 2: for each negative, differentiates it, updates its corrupted row at
   once (atomic add of the change; Adam moments read and written back without
   atomics: Hogwild) and accumulates the gradient of the positive's rows;
5. adds L3 and updates the positive's head and tail rows.

Relation rows, which nearly every sample touches, get their gradients summed
(atomic adds into a buffer) over ``rel_batch`` samples, one kernel launch,
and one update per launch, as the numba kernel's ``rel_batch``.  Draws:
Philox with key ``seed``; sample ``t``'s coin (head or tail) is word
``offset + t * (K + 1) + K``, its negative ``j`` word ``offset + t * (K + 1) +
j``, scaled to the side's entity count by a multiply-shift.

With ``block=1`` under ``TRITON_INTERPRET=1`` (programs run one after another)
this is the numba kernel's order exactly, and the two agree to float
tolerance (tested, every model and both optimisers).  Row offsets are 64-bit.
"""

from __future__ import annotations

import os

import torch

from ..errors import ParameterError
from ._common import BlockStats
from .kge_numba import MODELS
from .kge_torch import _apply
from .skipgram_triton import _on, _seed63, _serial, available

__all__ = ["train_block", "available", "block_size"]

_PARTS = {"transe": 1, "distmult": 1, "complex": 2, "simple": 2, "rotate": 2, "quate": 4}


def block_size(part: int, parts: int, block=None) -> tuple[int, int, int]:
    """``(BLOCK_S, BLOCK_P, num_warps)`` for rows of ``parts`` parts of
    ``part`` floats: about 2048 elements per program's row tile (a program
    holds some dozen part tiles at once), more samples per program under the
    interpreter, which pays per program."""
    block_p = 1 << max(4, (int(part) - 1).bit_length())
    if block is not None:
        block_s = int(block)
    else:
        block_s = max(1, min(32, 2048 // (block_p * parts)))
        if os.environ.get("TRITON_INTERPRET") == "1":
            block_s = max(block_s, 512)
    tile = block_p * block_s
    warps = 8 if tile >= 2048 else 4 if tile >= 512 else 2
    return block_s, block_p, warps


def _check_table(owner, name, a, device, cols=None):
    if not (isinstance(a, torch.Tensor) and a.dim() == 2 and a.dtype == torch.float32
            and a.device == device and a.is_contiguous()):
        raise ParameterError(owner, name, f"a contiguous float32 [rows, dim] tensor on {device}",
                             type(a).__name__ if not isinstance(a, torch.Tensor) else
                             f"{tuple(a.shape)} {a.dtype} on {a.device}")
    if cols is not None and a.shape[1] != cols:
        raise ParameterError(owner, name, f"{cols} columns", a.shape[1])


def train_block(model: str, ent_h, ent_t, rel, heads, tails, relations, *, num_negative,
                margin, alpha, l3, lr_start, lr_end, optimizer="adam", moments=None,
                beta1=0.9, beta2=0.999, eps=1e-8, seed=0, offset=0, rel_batch=4096,
                negatives=None, block=None, sync=True) -> BlockStats:
    """Train one block in place on CUDA tensors (or CPU tensors under
    ``TRITON_INTERPRET=1``).  Arguments as
    :func:`vitegraph.kernels.kge_numba.train_block`, with ``seed`` (and
    ``offset``) for the Philox draws, ``rel_batch`` samples per launch (one
    relation update each) and ``block`` samples per program; ``sync=False``
    returns the loss as a 0-d device tensor without waiting for the kernels."""
    owner = "kge triton train_block"
    if model not in MODELS:
        raise ParameterError(owner, "model", f"one of {sorted(MODELS)}", model)
    rel2 = rel[0] if rel.dim() == 3 else rel
    device = ent_h.device
    ok, why = available(device)
    if not ok:
        raise ParameterError(owner, "device", "a CUDA device", why)
    D = ent_h.shape[1]
    parts = _PARTS[model]
    P = D // parts
    PR = rel2.shape[1] // (1 if model == "rotate" else parts)
    _check_table(owner, "ent_h", ent_h, device)
    _check_table(owner, "ent_t", ent_t, device, D)
    _check_table(owner, "rel", rel2, device)
    adam = optimizer == "adam"
    if adam:
        if moments is None:
            raise ParameterError(owner, "moments", "the Adam moment tables", None)
        m_h, m_t, v_h, v_t, rm, rv = moments
        rm = rm[0] if rm.dim() == 3 else rm
        rv = rv[0] if rv.dim() == 3 else rv
        for name, a, like in (("m_h", m_h, ent_h), ("m_t", m_t, ent_t), ("v_h", v_h, ent_h),
                              ("v_t", v_t, ent_t)):
            _check_table(owner, f"moments {name}", a, device, D)
            if a.shape != like.shape:
                raise ParameterError(owner, f"moments {name}", f"shape {tuple(like.shape)}",
                                     tuple(a.shape))
    else:
        m_h = v_h = ent_h
        m_t = v_t = ent_t
    n = int(heads.shape[0])
    if n == 0:
        return BlockStats(0.0, 0)
    K = int(num_negative)
    heads = heads.to(device=device, dtype=torch.int64).contiguous()
    tails = tails.to(device=device, dtype=torch.int64).contiguous()
    relations = relations.to(device=device, dtype=torch.int64).contiguous()
    given = negatives is not None
    if given:
        negs = negatives.to(device=device, dtype=torch.int64).contiguous()
        if negs.shape != (n, K + 1):
            raise ParameterError(owner, "negatives", f"shape ({n}, {K + 1})", tuple(negs.shape))
    else:
        negs = heads[:1]
    from . import _triton_kge as jit
    block_s, block_p, warps = block_size(max(P, PR), parts, block)
    rel_batch = max(1, int(rel_batch))
    chunk = min(n, rel_batch)
    scratch = torch.empty(chunk * max(K, 1), dtype=torch.float32, device=device)
    rgrad = torch.zeros_like(rel2)
    losses = torch.empty(jit.triton.cdiv(chunk, block_s), dtype=torch.float32, device=device)
    total = torch.zeros((), dtype=torch.float64, device=device)
    lr_step = (lr_end - lr_start) / n
    with _serial(), _on(device):
        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            grid = jit.triton.cdiv(hi - lo, block_s)
            jit.kge_kernel[(grid,)](
                ent_h, ent_t, rel2, rgrad, m_h, m_t, v_h, v_t, heads, tails, relations, negs,
                scratch, losses, lo, hi, ent_h.shape[0], ent_t.shape[0], P, PR,
                ent_h.stride(0), rel2.stride(0), float(lr_start), float(lr_step),
                float(margin), float(alpha), float(l3), float(beta1), float(beta2),
                float(eps), _seed63(seed), int(offset), K, MODEL=MODELS[model],
                NPART=parts, RPART=1 if model == "rotate" else parts, ADAM=adam,
                GIVEN=given, L3=l3 > 0, BLOCK_S=block_s, BLOCK_P=block_p, num_warps=warps)
            total += losses[:grid].sum(dtype=torch.float64)
            rows = torch.unique(relations[lo:hi])
            lr = lr_start + lr_step * (hi - 1)
            _apply(rel2, (rm, rv) if adam else None, rows, rgrad[rows], lr, adam, beta1,
                   beta2, eps)
            rgrad[rows] = 0.0
    return BlockStats(float(total) if sync else total, n)
