"""CPU training kernel for knowledge-graph embedding: per-sample Hogwild in numba.

Six score functions ``s(h, r, t)`` (higher = more plausible), GraphVite's; ``D``
is the entity row's real dimension, ``d`` the size of one part:

=========  ==================================  ==============================
model      entity row / relation row           score
=========  ==================================  ==============================
TransE     D / D                               gamma - sum |h + r - t|
DistMult   D / D                               sum h r t
ComplEx    [re | im], d = D/2 / D              Re sum h r conj(t)
SimplE     [head | tail] d = D/2 / [r | r^-1]  (sum h_H r t_T + t_H r^-1 h_T) / 2
RotatE     [re | im], d = D/2 / d phases       gamma - sum_k |h_k e^{i theta_k} - t_k|
QuatE      4 parts, d = D/4 / 4 parts          <h (x) r / |r|, t> (Hamilton product)
=========  ==================================  ==============================

For positive sample (h, r, t): ``num_negative`` negatives corrupt the head or
the tail (a fair coin per sample, all negatives on that side), drawn uniformly
from the entity rows of that side's partition.  With ``alpha > 0`` they are
weighted by ``p_i = softmax(alpha * s_i)`` (self-adversarial sampling; no
gradient flows through the weights), else equally.  Loss, as GraphVite and the
RotatE paper::

    L = softplus(-s(h, r, t)) + sum_i p_i softplus(s(h'_i, r, t'_i))
        + l3 * (|h|_3^3 + |r|_3^3 + |t|_3^3)          (the positive's rows)

The sample's negatives' scores come first (to weigh them), then each
negative's gradient updates its corrupted row at once, and the positive's
entity rows are updated last with their gradient summed over the positive and
the negatives.  Relation rows, which nearly every sample touches, get their
gradients summed over ``rel_batch`` samples and one update per batch.  Updates are SGD or lazy Adam (moments of a row advance when the
row is touched; no bias correction, so the first steps of a row are about
3x lr).  Threads split a block into chunks and train them Hogwild.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..errors import ParameterError
from ..sampling.rng import next_u64, split_u64
from ._common import BlockStats, run_chunks

TRANSE, DISTMULT, COMPLEX, SIMPLE, ROTATE, QUATE = range(6)
MODELS = {"transe": TRANSE, "distmult": DISTMULT, "complex": COMPLEX, "simple": SIMPLE,
          "rotate": ROTATE, "quate": QUATE}
_EPS = np.float32(1e-9)


def relation_width(model: str, dim: int) -> int:
    """Real width of a relation row for an entity row of ``dim``."""
    return dim // 2 if model == "rotate" else dim


def check_dim(model: str, dim: int) -> None:
    parts = {"complex": 2, "simple": 2, "rotate": 2, "quate": 4}.get(model, 1)
    if dim % parts:
        raise ParameterError(model, "dim", f"a multiple of {parts} (the entity row holds "
                             f"{parts} parts)", dim)


# ---------------------------------------------------------------- scores and gradients

@njit(inline="always", fastmath=True, cache=True)
def score_grad(model, h, r, t, margin, gh, gr, gt, grad, cos_r, sin_r):
    """``s(h, r, t)``; with ``grad`` also ``ds/dh``, ``ds/dr``, ``ds/dt``
    written (not added) into ``gh``, ``gr``, ``gt``.  RotatE reads the
    relation's rotation from ``cos_r``, ``sin_r`` (computed once per sample)."""
    D = h.shape[0]
    s = np.float32(0.0)
    if model == TRANSE:
        for k in range(D):
            u = h[k] + r[k] - t[k]
            s += abs(u)
            if grad:
                g = np.float32(-1.0) if u > 0 else (np.float32(1.0) if u < 0 else np.float32(0.0))
                gh[k] = g
                gr[k] = g
                gt[k] = -g
        return np.float32(margin) - s
    if model == DISTMULT:
        for k in range(D):
            s += h[k] * r[k] * t[k]
            if grad:
                gh[k] = r[k] * t[k]
                gr[k] = h[k] * t[k]
                gt[k] = h[k] * r[k]
        return s
    if model == COMPLEX:
        d = D // 2
        for k in range(d):
            hr, hi, rr, ri, tr, ti = h[k], h[d + k], r[k], r[d + k], t[k], t[d + k]
            s += hr * rr * tr + hi * rr * ti + hr * ri * ti - hi * ri * tr
            if grad:
                gh[k] = rr * tr + ri * ti
                gh[d + k] = rr * ti - ri * tr
                gr[k] = hr * tr + hi * ti
                gr[d + k] = hr * ti - hi * tr
                gt[k] = hr * rr - hi * ri
                gt[d + k] = hi * rr + hr * ri
        return s
    if model == SIMPLE:
        d = D // 2
        for k in range(d):
            hH, hT, tH, tT, r1, r2 = h[k], h[d + k], t[k], t[d + k], r[k], r[d + k]
            s += hH * r1 * tT + tH * r2 * hT
            if grad:
                gh[k] = np.float32(0.5) * r1 * tT
                gh[d + k] = np.float32(0.5) * tH * r2
                gt[k] = np.float32(0.5) * r2 * hT
                gt[d + k] = np.float32(0.5) * hH * r1
                gr[k] = np.float32(0.5) * hH * tT
                gr[d + k] = np.float32(0.5) * tH * hT
        return np.float32(0.5) * s
    if model == ROTATE:
        d = D // 2
        for k in range(d):
            c = cos_r[k]
            sn = sin_r[k]
            hr, hi = h[k], h[d + k]
            ur = hr * c - hi * sn - t[k]
            ui = hr * sn + hi * c - t[d + k]
            m = np.sqrt(ur * ur + ui * ui)
            s += m
            if grad:
                inv = np.float32(1.0) / (m + _EPS)
                dur = -ur * inv
                dui = -ui * inv
                gh[k] = dur * c + dui * sn
                gh[d + k] = -dur * sn + dui * c
                gt[k] = -dur
                gt[d + k] = -dui
                gr[k] = dur * (-hr * sn - hi * c) + dui * (hr * c - hi * sn)
        return np.float32(margin) - s
    # QUATE
    d = D // 4
    for k in range(d):
        a1, b1, c1, d1 = h[k], h[d + k], h[2 * d + k], h[3 * d + k]
        ta, tb, tc, td = t[k], t[d + k], t[2 * d + k], t[3 * d + k]
        rp, rq, ru, rv = r[k], r[d + k], r[2 * d + k], r[3 * d + k]
        n = np.sqrt(rp * rp + rq * rq + ru * ru + rv * rv) + _EPS
        p, q, u, v = rp / n, rq / n, ru / n, rv / n
        w = a1 * p - b1 * q - c1 * u - d1 * v
        x = a1 * q + b1 * p + c1 * v - d1 * u
        y = a1 * u - b1 * v + c1 * p + d1 * q
        z = a1 * v + b1 * u - c1 * q + d1 * p
        s += w * ta + x * tb + y * tc + z * td
        if grad:
            gt[k] = w
            gt[d + k] = x
            gt[2 * d + k] = y
            gt[3 * d + k] = z
            gh[k] = p * ta + q * tb + u * tc + v * td
            gh[d + k] = -q * ta + p * tb - v * tc + u * td
            gh[2 * d + k] = -u * ta + v * tb + p * tc - q * td
            gh[3 * d + k] = -v * ta - u * tb + q * tc + p * td
            g_p = a1 * ta + b1 * tb + c1 * tc + d1 * td
            g_q = -b1 * ta + a1 * tb + d1 * tc - c1 * td
            g_u = -c1 * ta - d1 * tb + a1 * tc + b1 * td
            g_v = -d1 * ta + c1 * tb - b1 * tc + a1 * td
            dot = p * g_p + q * g_q + u * g_u + v * g_v
            gr[k] = (g_p - p * dot) / n
            gr[d + k] = (g_q - q * dot) / n
            gr[2 * d + k] = (g_u - u * dot) / n
            gr[3 * d + k] = (g_v - v * dot) / n
    return s


@njit(inline="always", fastmath=True, cache=True)
def _softplus(x):
    if x > 0:
        return x + np.log1p(np.exp(-x))
    return np.log1p(np.exp(x))


@njit(inline="always", fastmath=True, cache=True)
def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@njit(inline="always", fastmath=True, cache=True)
def _update(table, m, v, i, grad, coef, lr, adam, beta1, beta2, eps):
    """``table[i] -= lr * step(coef * grad)``: SGD, or lazy Adam with moment
    tables m, v (only read with Adam)."""
    row = table[i]
    if adam:
        mi = m[i]
        vi = v[i]
        b1 = np.float32(beta1)
        b2 = np.float32(beta2)
        for k in range(row.shape[0]):
            g = coef * grad[k]
            mi[k] = b1 * mi[k] + (np.float32(1.0) - b1) * g
            vi[k] = b2 * vi[k] + (np.float32(1.0) - b2) * g * g
            row[k] -= lr * mi[k] / (np.sqrt(vi[k]) + np.float32(eps))
    else:
        for k in range(row.shape[0]):
            row[k] -= lr * coef * grad[k]


@njit(nogil=True, fastmath=True, cache=True, error_model="numpy")
def _train_range(model, ent_h, ent_t, rel, m_h, m_t, v_h, v_t, rm, rv, heads, tails,
                 relations, negatives, num_negative, margin, alpha, l3, lr_start, lr_end,
                 adam, beta1, beta2, eps, rel_batch, total, lo, hi, states, slot, losses):
    """Samples ``[lo, hi)`` of a block of ``total``; loss into ``losses[slot]``.
    Relation gradients are summed over ``rel_batch`` samples and applied once
    (a relation row is in nearly every sample: per-sample Adam steps would move
    it ``rel_batch`` times too fast).
    ``negatives`` int32[total, K] with a side in column K (0 head, 1 tail) when
    given (tests), else drawn with ``states[slot]``."""
    D = ent_h.shape[1]
    R = rel.shape[1]
    K = num_negative
    given = negatives.shape[0] > 0
    state = states[slot]
    gh = np.empty(D, dtype=np.float32)
    gt = np.empty(D, dtype=np.float32)
    gr = np.empty(R, dtype=np.float32)
    nh = np.empty(D, dtype=np.float32)
    nt = np.empty(D, dtype=np.float32)
    nr = np.empty(R, dtype=np.float32)
    acc_h = np.empty(D, dtype=np.float32)
    acc_t = np.empty(D, dtype=np.float32)
    acc_r = np.empty(R, dtype=np.float32)
    cos_r = np.empty(R, dtype=np.float32)
    sin_r = np.empty(R, dtype=np.float32)
    racc = np.zeros(rel.shape, dtype=np.float32)     # relation gradients of the batch
    touched = np.zeros(rel.shape[0], dtype=np.bool_)
    neg = np.empty(max(K, 1), dtype=np.int64)
    sc = np.empty(max(K, 1), dtype=np.float32)
    n_head = ent_h.shape[0]
    n_tail = ent_t.shape[0]
    lr_step = (lr_end - lr_start) / total
    loss = 0.0
    for t in range(lo, hi):
        lr = np.float32(lr_start + lr_step * t)
        h = np.int64(heads[t])
        tt = np.int64(tails[t])
        r = np.int64(relations[t])
        # -- the side and the negatives
        if given:
            side_tail = negatives[t, K] == 1
            for j in range(K):
                neg[j] = negatives[t, j]
        else:
            state, x = next_u64(state)
            side_tail = (x >> np.uint64(63)) == np.uint64(1)
            n_side = n_tail if side_tail else n_head
            for j in range(K):
                state, x = next_u64(state)
                idx, _coin = split_u64(x, n_side)
                neg[j] = idx
        corrupt = ent_t if side_tail else ent_h
        if model == ROTATE:
            rrow = rel[r]
            for k in range(R):
                cos_r[k] = np.cos(rrow[k])
                sin_r[k] = np.sin(rrow[k])
        # -- negative scores and self-adversarial weights
        best = np.float32(-np.inf)
        for j in range(K):
            if side_tail:
                sc[j] = score_grad(model, ent_h[h], rel[r], corrupt[neg[j]], margin,
                                   nh, nr, nt, False, cos_r, sin_r)
            else:
                sc[j] = score_grad(model, corrupt[neg[j]], rel[r], ent_t[tt], margin,
                                   nh, nr, nt, False, cos_r, sin_r)
            if sc[j] > best:
                best = sc[j]
        wsum = 0.0
        for j in range(K):
            wsum += np.exp(alpha * (sc[j] - best)) if alpha > 0 else 1.0
        if not (wsum > 0.0 and wsum < np.inf):   # non-finite scores: the run diverged
            wsum = 1.0
        # -- positive: score and gradient
        sp = score_grad(model, ent_h[h], rel[r], ent_t[tt], margin, gh, gr, gt, True,
                        cos_r, sin_r)
        cp = np.float32(-_sigmoid(-sp))         # dL/ds of the positive
        loss += _softplus(-sp)
        for k in range(D):
            acc_h[k] = cp * gh[k]
            acc_t[k] = cp * gt[k]
        for k in range(R):
            acc_r[k] = cp * gr[k]
        # -- each negative: its row now, the positive's rows accumulate
        for j in range(K):
            p = (np.exp(alpha * (sc[j] - best)) if alpha > 0 else 1.0) / wsum
            cn = np.float32(p * _sigmoid(sc[j]))
            loss += p * _softplus(sc[j])
            e = neg[j]
            if side_tail:
                score_grad(model, ent_h[h], rel[r], ent_t[e], margin, nh, nr, nt, True,
                           cos_r, sin_r)
                for k in range(D):
                    acc_h[k] += cn * nh[k]
                _update(ent_t, m_t, v_t, e, nt, cn, lr, adam, beta1, beta2, eps)
            else:
                score_grad(model, ent_h[e], rel[r], ent_t[tt], margin, nh, nr, nt, True,
                           cos_r, sin_r)
                for k in range(D):
                    acc_t[k] += cn * nt[k]
                _update(ent_h, m_h, v_h, e, nh, cn, lr, adam, beta1, beta2, eps)
            for k in range(R):
                acc_r[k] += cn * nr[k]
        # -- L3 regularisation of the positive's rows
        if l3 > 0:
            c3 = np.float32(3.0 * l3)
            hr_ = ent_h[h]
            tr_ = ent_t[tt]
            rr_ = rel[r]
            for k in range(D):
                acc_h[k] += c3 * abs(hr_[k]) * hr_[k]
                acc_t[k] += c3 * abs(tr_[k]) * tr_[k]
            for k in range(R):
                acc_r[k] += c3 * abs(rr_[k]) * rr_[k]
        one = np.float32(1.0)
        _update(ent_h, m_h, v_h, h, acc_h, one, lr, adam, beta1, beta2, eps)
        _update(ent_t, m_t, v_t, tt, acc_t, one, lr, adam, beta1, beta2, eps)
        rrow = racc[r]
        for k in range(R):
            rrow[k] += acc_r[k]
        touched[r] = True
        if (t - lo + 1) % rel_batch == 0 or t == hi - 1:
            for q in range(rel.shape[0]):
                if touched[q]:
                    _update(rel, rm, rv, q, racc[q], one, lr, adam, beta1, beta2, eps)
                    racc[q, :] = 0.0
                    touched[q] = False
    states[slot] = state
    losses[slot] = loss


_EMPTY_NEG = np.zeros((0, 1), dtype=np.int32)


def train_block(model: str, ent_h, ent_t, rel, heads, tails, relations, *, num_negative,
                margin, alpha, l3, lr_start, lr_end, optimizer="adam", moments=None,
                beta1=0.9, beta2=0.999, eps=1e-8, rel_batch=256, states, num_threads=1,
                negatives=None) -> BlockStats:
    """Train one block of ``(heads, relations, tails)`` in place.

    ``ent_h`` / ``ent_t``: the entity rows of the head and tail partitions
    (the same array with one partition); ``rel``: the relation rows.
    ``moments``: with Adam, ``(m_h, m_t, v_h, v_t, m_rel, v_rel)`` of the same
    shapes.  ``rel_batch``: samples whose relation gradients are summed into
    one update.  ``negatives``: int32[N, K + 1] (K corrupted entities, then 0 for
    the head side or 1 for the tail side) instead of drawn ones, for tests.
    """
    owner = "kge train_block"
    if model not in MODELS:
        raise ParameterError(owner, "model", f"one of {sorted(MODELS)}", model)
    rel = np.asarray(rel)
    lanes = rel if rel.ndim == 3 else rel[None]
    for name, a in (("ent_h", ent_h), ("ent_t", ent_t), ("rel", lanes[0])):
        if not (isinstance(a, np.ndarray) and a.dtype == np.float32 and a.ndim == 2
                and a.flags.c_contiguous):
            raise ParameterError(owner, name, "a C-contiguous float32 [rows, dim] array (or "
                                 "[lanes, rows, dim] for rel)", type(a).__name__)
    if lanes.shape[0] < num_threads:
        raise ParameterError(owner, "rel", f"one lane copy per thread ({num_threads})",
                             lanes.shape[0])
    n = heads.shape[0]
    if n == 0:
        return BlockStats(0.0, 0)
    adam = optimizer == "adam"
    if adam:
        if moments is None:
            raise ParameterError(owner, "moments", "the Adam moment tables", None)
        m_h, m_t, v_h, v_t, rm, rv = moments
        rm = np.asarray(rm) if np.ndim(rm) == 3 else np.asarray(rm)[None]
        rv = np.asarray(rv) if np.ndim(rv) == 3 else np.asarray(rv)[None]
    else:
        m_h = m_t = v_h = v_t = ent_h[:0]
        rm = rv = lanes[:, :0]
    neg = _EMPTY_NEG if negatives is None else np.ascontiguousarray(negatives, np.int32)
    losses = np.zeros(num_threads, dtype=np.float64)
    code = MODELS[model]
    run_chunks(_train_range, lambda lo, hi, i: (
        code, ent_h, ent_t, lanes[i], m_h, m_t, v_h, v_t, rm[i], rv[i], heads, tails,
        relations, neg, np.int64(num_negative), np.float32(margin), np.float64(alpha),
        np.float64(l3), np.float64(lr_start), np.float64(lr_end), adam, np.float64(beta1),
        np.float64(beta2), np.float64(eps), np.int64(rel_batch), np.int64(n), np.int64(lo),
        np.int64(hi), states, np.int64(i), losses), n, num_threads)
    return BlockStats(float(losses.sum()), n)
