"""LargeVis layout kernel in torch: the reference on any device.

Same objective as :mod:`vitegraph.kernels.layout_numba` (see its docstring),
batched: a block is cut into mini-batches of ``batch_size`` samples; each
batch's gradients (closed form, each coordinate clipped) are computed from the
rows as they were before the batch, and every touched row gets one update from
the sum of its gradients (SGD, or lazy Adam on the touched rows).  With
``batch_size=1`` and distinct rows within a sample this is the numba kernel's
order (tested).
"""

from __future__ import annotations

import torch

from ._common import BlockStats
from .kge_torch import _apply
from .skipgram_torch import draw_negatives

_EPS = 0.1


def train_block(y_h, y_t, heads, tails, neg_prob, neg_alias, *, num_negative,
                negative_weight, lr_start, lr_end, optimizer="adam", moments=None,
                beta1=0.9, beta2=0.999, eps=1e-8, clip=5.0, generator=None,
                batch_size=65536, negatives=None) -> BlockStats:
    """Train one block in place on torch tensors (one device); arguments as
    :func:`vitegraph.kernels.layout_numba.train_block`, with ``generator``
    (a ``torch.Generator`` on the device) and ``batch_size``."""
    n = int(heads.shape[0])
    if n == 0:
        return BlockStats(0.0, 0)
    device = y_h.device
    adam = optimizer == "adam"
    m_h = v_h = m_t = v_t = None
    if adam:
        m_h, v_h, m_t, v_t = moments
    K = int(num_negative)
    gamma = float(negative_weight)
    heads, tails = heads.to(device).long(), tails.to(device).long()
    alias = neg_alias.to(device).long()
    total = torch.zeros((), dtype=torch.float64, device=device)
    for lo in range(0, n, batch_size):
        hi = min(n, lo + batch_size)
        lr = lr_start + (lr_end - lr_start) * lo / n
        i, j = heads[lo:hi], tails[lo:hi]
        if negatives is not None:
            e = negatives[lo:hi, :K].to(device).long()
        else:
            e = draw_negatives(neg_prob, alias, hi - lo, K, generator)
        yi, yj, ye = y_h[i], y_t[j], y_t[e]
        u = yi - yj
        d2 = (u * u).sum(-1, keepdim=True)
        g_pos = (2.0 * u / (1.0 + d2)).clamp(-clip, clip)
        w = yi.unsqueeze(1) - ye
        d2n = (w * w).sum(-1, keepdim=True)
        g_neg = (-2.0 * gamma * w / ((_EPS + d2n) * (1.0 + d2n))).clamp(-clip, clip)
        total += (torch.log1p(d2).sum() - gamma * torch.log(
            (d2n + 1e-12) / (1.0 + d2n)).sum()).double()
        g_i = g_pos + g_neg.sum(1)
        # tails (positives and negatives) first, then the heads
        rows = torch.cat([j, e.reshape(-1)])
        grads = torch.cat([-g_pos, -g_neg.reshape(-1, g_neg.shape[-1])])
        _apply(y_t, (m_t, v_t) if adam else None, rows, grads, lr, adam, beta1, beta2, eps)
        _apply(y_h, (m_h, v_h) if adam else None, i, g_i, lr, adam, beta1, beta2, eps)
    return BlockStats(float(total), n)
