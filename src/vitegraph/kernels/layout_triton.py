"""LargeVis layout kernel in Triton: fused per-sample Hogwild on the GPU.

Same objective and order as :mod:`vitegraph.kernels.layout_numba`: one program
per ``BLOCK_S`` consecutive samples (a sample per row of a ``[BLOCK_S,
BLOCK_D]`` tile, the layout's 2 or 3 coordinates across the lanes); the edge's
tail row and each negative's row are updated at once (atomic adds of the
change; Adam moments read and written back without atomics: Hogwild), the head
row last.  Negatives are drawn in the kernel from the tail partition's alias
table with Philox (key ``seed``, counter ``offset + t * K + q``), as the
skip-gram kernel draws them.  With ``block=1`` under ``TRITON_INTERPRET=1``
(programs one after another) it is the numba kernel's order (tested).
"""

from __future__ import annotations

import os

import torch

from ._common import BlockStats
from .skipgram_triton import _on, _seed63, _serial, available

__all__ = ["train_block", "available"]


def _block(dim: int, block=None) -> tuple[int, int, int]:
    block_d = max(2, 1 << (int(dim) - 1).bit_length())
    if block is not None:
        block_s = int(block)
    elif os.environ.get("TRITON_INTERPRET") == "1":
        block_s = 64
    else:
        block_s = max(32, 1024 // block_d)
    return block_s, block_d, 4


def train_block(y_h, y_t, heads, tails, neg_prob, neg_alias, *, num_negative,
                negative_weight, lr_start, lr_end, optimizer="adam", moments=None,
                beta1=0.9, beta2=0.999, eps=1e-8, clip=5.0, seed=0, offset=0,
                negatives=None, block=None, in_flight=None, sync=True) -> BlockStats:
    """Train one block in place on CUDA tensors (CPU tensors under
    ``TRITON_INTERPRET=1``); arguments as
    :func:`vitegraph.kernels.layout_numba.train_block`, with ``seed`` and
    ``offset`` for the Philox draws, ``block`` samples per program,
    ``in_flight`` samples per launch (launches run one after another, so at
    most this many samples read rows another may be writing: a layout of few
    points needs few in flight) and ``sync=False`` to leave the loss on the
    device."""
    from ..errors import ParameterError
    owner = "layout triton train_block"
    device = y_h.device
    ok, why = available(device)
    if not ok:
        raise ParameterError(owner, "device", "a CUDA device", why)
    for name, a in (("y_h", y_h), ("y_t", y_t)):
        if a.dtype != torch.float32 or a.dim() != 2 or not a.is_contiguous():
            raise ParameterError(owner, name, "a contiguous float32 [rows, dim] tensor",
                                 f"{tuple(a.shape)} {a.dtype}")
    n = int(heads.shape[0])
    if n == 0:
        return BlockStats(0.0, 0)
    adam = optimizer == "adam"
    if adam:
        if moments is None:
            raise ParameterError(owner, "moments", "the Adam moment tables", None)
        m_h, v_h, m_t, v_t = moments
    else:
        m_h = v_h = y_h
        m_t = v_t = y_t
    K = int(num_negative)
    heads = heads.to(device=device, dtype=torch.int64).contiguous()
    tails = tails.to(device=device, dtype=torch.int64).contiguous()
    given = negatives is not None
    negs = (negatives.to(device=device, dtype=torch.int64).contiguous() if given
            else heads[:1])
    prob = neg_prob.to(device).contiguous()
    alias = neg_alias.to(device=device, dtype=torch.int32).contiguous()
    from . import _triton_layout as jit
    block_s, block_d, warps = _block(y_h.shape[1], block)
    chunk = n if in_flight is None else max(block_s, int(in_flight) // block_s * block_s)
    losses = torch.zeros(jit.triton.cdiv(n, block_s), dtype=torch.float32, device=device)
    lr_step = (lr_end - lr_start) / n
    with _serial(), _on(device):
        for lo in range(0, n, chunk):
            m = min(chunk, n - lo)
            grid = jit.triton.cdiv(m, block_s)
            jit.layout_kernel[(grid,)](
                y_h, y_t, m_h, v_h, m_t, v_t, heads[lo:], tails[lo:],
                negs[lo:] if given else negs, prob, alias, losses[lo // block_s:], m,
                y_t.shape[0], y_h.shape[1], y_h.stride(0), float(lr_start + lr_step * lo),
                float(lr_step), float(negative_weight), float(clip), float(beta1),
                float(beta2), float(eps), _seed63(seed), int(offset) + lo * K, K,
                ADAM=adam, GIVEN=given, BLOCK_S=block_s, BLOCK_D=block_d, num_warps=warps)
    total = losses.sum(dtype=torch.float64)
    return BlockStats(float(total) if sync else total, n)
