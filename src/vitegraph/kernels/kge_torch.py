"""Knowledge-graph training kernel in torch: the reference on any device.

Same objective as :mod:`vitegraph.kernels.kge_numba` (see its docstring: the
six scores, head-or-tail corruption, self-adversarial weights, margin, L3,
SGD or lazy Adam), batched: a block is cut into mini-batches of
``batch_size`` samples; for each, the scores of the positives and of their
negatives are computed from the rows as they were before the batch, the loss
is differentiated by autograd with respect to those rows, and every touched
row gets one update from the sum of its gradients (SGD, or lazy Adam: the
moments of the touched rows only).  With ``batch_size=1`` and distinct rows
this is the numba kernel's order, and the two agree to float tolerance
(tested); larger batches trade that order for speed, as the skip-gram torch
kernel does.  Relation rows are updated once per mini-batch.
"""

from __future__ import annotations

import torch

from ..errors import ParameterError
from ._common import BlockStats
from .kge_numba import MODELS


def score(model: str, h, r, t, margin: float):
    """Scores of rows ``h``, ``r``, ``t`` (broadcasting over leading dims)."""
    D = h.shape[-1]
    if model == "transe":
        return margin - (h + r - t).abs().sum(-1)
    if model == "distmult":
        return (h * r * t).sum(-1)
    if model == "complex":
        d = D // 2
        hr, hi, rr, ri, tr, ti = h[..., :d], h[..., d:], r[..., :d], r[..., d:], t[..., :d], t[..., d:]
        return (hr * rr * tr + hi * rr * ti + hr * ri * ti - hi * ri * tr).sum(-1)
    if model == "simple":
        d = D // 2
        return 0.5 * ((h[..., :d] * r[..., :d] * t[..., d:]).sum(-1)
                      + (t[..., :d] * r[..., d:] * h[..., d:]).sum(-1))
    if model == "rotate":
        d = D // 2
        c, s = torch.cos(r), torch.sin(r)
        ur = h[..., :d] * c - h[..., d:] * s - t[..., :d]
        ui = h[..., :d] * s + h[..., d:] * c - t[..., d:]
        return margin - torch.sqrt(ur * ur + ui * ui + 1e-18).sum(-1)
    d = D // 4
    a, b, c_, e = (h[..., i * d:(i + 1) * d] for i in range(4))
    p, q, u, v = (r[..., i * d:(i + 1) * d] for i in range(4))
    n = torch.sqrt(p * p + q * q + u * u + v * v) + 1e-9
    p, q, u, v = p / n, q / n, u / n, v / n
    w = a * p - b * q - c_ * u - e * v
    x = a * q + b * p + c_ * v - e * u
    y = a * u - b * v + c_ * p + e * q
    z = a * v + b * u - c_ * q + e * p
    ta, tb, tc, td = (t[..., i * d:(i + 1) * d] for i in range(4))
    return (w * ta + x * tb + y * tc + z * td).sum(-1)


def _apply(table, moments, rows, grads, lr, adam, beta1, beta2, eps):
    """One update of ``table[rows]`` from ``grads`` (rows may repeat: their
    gradients add up first)."""
    uniq, inv = torch.unique(rows, return_inverse=True)
    g = torch.zeros((uniq.shape[0], table.shape[1]), dtype=grads.dtype, device=grads.device)
    g.index_add_(0, inv, grads)
    if adam:
        m, v = moments
        mu = m[uniq].mul_(beta1).add_(g, alpha=1 - beta1)
        vu = v[uniq].mul_(beta2).addcmul_(g, g, value=1 - beta2)
        m[uniq] = mu
        v[uniq] = vu
        table[uniq] -= lr * mu / (vu.sqrt() + eps)
    else:
        table[uniq] -= lr * g


def train_block(model: str, ent_h, ent_t, rel, heads, tails, relations, *, num_negative,
                margin, alpha, l3, lr_start, lr_end, optimizer="adam", moments=None,
                beta1=0.9, beta2=0.999, eps=1e-8, generator=None, batch_size=1024,
                negatives=None) -> BlockStats:
    """Train one block in place on torch tensors (all on one device).

    Arguments as :func:`vitegraph.kernels.kge_numba.train_block`, with
    ``generator`` (a ``torch.Generator`` on the device) for the random states
    and ``batch_size`` samples per step; ``rel`` may carry a leading lane
    dimension of 1."""
    owner = "kge torch train_block"
    if model not in MODELS:
        raise ParameterError(owner, "model", f"one of {sorted(MODELS)}", model)
    rel2 = rel[0] if rel.dim() == 3 else rel
    device = ent_h.device
    n = int(heads.shape[0])
    if n == 0:
        return BlockStats(0.0, 0)
    adam = optimizer == "adam"
    if adam:
        if moments is None:
            raise ParameterError(owner, "moments", "the Adam moment tables", None)
        m_h, m_t, v_h, v_t, rm, rv = moments
        rm = rm[0] if rm.dim() == 3 else rm
        rv = rv[0] if rv.dim() == 3 else rv
    K = int(num_negative)
    heads, tails, relations = heads.long(), tails.long(), relations.long()
    total_loss = torch.zeros((), dtype=torch.float64, device=device)
    for lo in range(0, n, batch_size):
        hi = min(n, lo + batch_size)
        b = hi - lo
        lr = lr_start + (lr_end - lr_start) * lo / n
        h, t, r = heads[lo:hi], tails[lo:hi], relations[lo:hi]
        if negatives is not None:
            negs = negatives[lo:hi, :K].long()
            side_tail = negatives[lo:hi, K] == 1
        else:
            side_tail = torch.rand(b, generator=generator, device=device) < 0.5
            u = torch.rand((b, K), generator=generator, device=device, dtype=torch.float64)
            size = torch.where(side_tail, ent_t.shape[0], ent_h.shape[0]).unsqueeze(1)
            negs = (u * size).long().clamp_max(size - 1)
        hv = ent_h[h].detach().requires_grad_(True)
        tv = ent_t[t].detach().requires_grad_(True)
        rv_ = rel2[r].detach().requires_grad_(True)
        corrupt = torch.where(side_tail.unsqueeze(1).unsqueeze(2), ent_t[negs], ent_h[negs])
        nv = corrupt.detach().requires_grad_(True)
        st = side_tail.unsqueeze(1).unsqueeze(2)
        nh = torch.where(st, hv.unsqueeze(1).expand_as(nv), nv)
        nt = torch.where(st, nv, tv.unsqueeze(1).expand_as(nv))
        s_neg = score(model, nh, rv_.unsqueeze(1), nt, margin)
        s_pos = score(model, hv, rv_, tv, margin)
        with torch.no_grad():
            w = torch.softmax(alpha * s_neg, 1) if alpha > 0 else torch.full_like(s_neg, 1.0 / K)
        per = (torch.nn.functional.softplus(-s_pos)
               + (w * torch.nn.functional.softplus(s_neg)).sum(1))
        loss = per.sum()
        if l3 > 0:
            reg = l3 * ((hv.abs() ** 3).sum() + (rv_.abs() ** 3).sum() + (tv.abs() ** 3).sum())
            g = torch.autograd.grad(loss + reg, (hv, tv, rv_, nv))
        else:
            g = torch.autograd.grad(loss, (hv, tv, rv_, nv))
        total_loss += loss.detach().double()
        with torch.no_grad():
            gh, gt, gr, gn = g
            # negatives first (their rows from before the batch), then the positives'
            tail_rows = negs[side_tail].reshape(-1)
            head_rows = negs[~side_tail].reshape(-1)
            if tail_rows.numel():
                _apply(ent_t, (m_t, v_t) if adam else None, tail_rows,
                       gn[side_tail].reshape(-1, gn.shape[-1]), lr, adam, beta1, beta2, eps)
            if head_rows.numel():
                _apply(ent_h, (m_h, v_h) if adam else None, head_rows,
                       gn[~side_tail].reshape(-1, gn.shape[-1]), lr, adam, beta1, beta2, eps)
            _apply(ent_h, (m_h, v_h) if adam else None, h, gh, lr, adam, beta1, beta2, eps)
            _apply(ent_t, (m_t, v_t) if adam else None, t, gt, lr, adam, beta1, beta2, eps)
            _apply(rel2, (rm, rv) if adam else None, r, gr, lr, adam, beta1, beta2, eps)
    return BlockStats(float(total_loss), n)

