"""CPU training kernel of LargeVis layouts: per-sample Hogwild in numba.

For a positive edge (i, j) and ``K`` negatives k drawn from the tail
partition's alias table (``degree ** 0.75``), with ``d2 = |y_i - y_j|^2``
and the edge probability ``p = 1 / (1 + d2)``, LargeVis minimises::

    L = log(1 + d2_ij)  -  gamma * sum_k log(1 - 1 / (1 + d2_ik))

whose gradients are, for the edge and for each negative::

    dL/dy_i =  2 (y_i - y_j) / (1 + d2_ij)
    dL/dy_i = -2 gamma (y_i - y_k) / ((eps + d2_ik) (1 + d2_ik))

(``eps = 0.1`` keeps the repulsion finite at coincident points, as the
LargeVis implementation does) and the opposite for ``y_j``, ``y_k``.  Each
gradient coordinate is clipped to ``[-clip, clip]`` (5, LargeVis's).  The tail
rows (``y_j``, each ``y_k``) are updated at once; ``y_i`` once at the end with
its summed gradient.  Updates are SGD or lazy Adam (a row's moments advance
when it is touched).  Threads split a block into chunks (Hogwild).  The loss
reported is estimated on every 8th sample (two logarithms per row cost as much
as the update).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..errors import ParameterError
from ..sampling.alias import alias_draw
from ._common import BlockStats, run_chunks

_EPS = np.float32(0.1)


@njit(inline="always", fastmath=True, cache=True)
def _clip(x, c):
    return min(max(x, -c), c)


@njit(nogil=True, fastmath=True, cache=True)
def _train_range(y_h, y_t, m_h, v_h, m_t, v_t, heads, tails, neg_prob, neg_alias, negatives,
                 K, gamma, clip, lr_start, lr_end, adam, beta1, beta2, eps, total, lo, hi,
                 states, slot, losses):
    D = y_h.shape[1]
    gi = np.empty(D, dtype=np.float32)
    gt = np.empty(D, dtype=np.float32)
    given = negatives.shape[0] > 0
    n_t = neg_prob.shape[0]
    state = states[slot]
    lr_step = (lr_end - lr_start) / total
    b1 = np.float32(beta1)
    b2 = np.float32(beta2)
    ep = np.float32(eps)
    c = np.float32(clip)
    g_ = np.float32(gamma)
    one = np.float32(1.0)
    # the SGD / lazy Adam steps are written out in the loop: as an inlined
    # function taking the gradient array they ran 10x slower (measured)
    loss = 0.0
    for t in range(lo, hi):
        lr = np.float32(lr_start + lr_step * t)
        i = heads[t]
        j = tails[t]
        d2 = np.float32(0.0)
        for k in range(D):
            u = y_h[i, k] - y_t[j, k]
            d2 += u * u
        a = np.float32(2.0) / (np.float32(1.0) + d2)
        for k in range(D):
            g = _clip(a * (y_h[i, k] - y_t[j, k]), c)
            gi[k] = g
            gt[k] = -g
        probe = (t & 7) == 0       # the loss is estimated on every 8th sample
        if probe:
            loss += 8.0 * math.log1p(d2)
        if adam:
            for k in range(D):
                mk = b1 * m_t[j, k] + (one - b1) * gt[k]
                vk = b2 * v_t[j, k] + (one - b2) * gt[k] * gt[k]
                m_t[j, k] = mk
                v_t[j, k] = vk
                y_t[j, k] -= lr * mk / (math.sqrt(vk) + ep)
        else:
            for k in range(D):
                y_t[j, k] -= lr * gt[k]
        for q in range(K):
            if given:
                e = negatives[t, q]
            else:
                state, e = alias_draw(neg_prob, neg_alias, 0, n_t, state)
            d2 = np.float32(0.0)
            for k in range(D):
                u = y_h[i, k] - y_t[e, k]
                d2 += u * u
            a = -np.float32(2.0) * g_ / ((_EPS + d2) * (np.float32(1.0) + d2))
            for k in range(D):
                g = _clip(a * (y_h[i, k] - y_t[e, k]), c)
                gi[k] += g
                gt[k] = -g
            if probe:
                loss -= 8.0 * gamma * math.log((d2 + 1e-12) / (1.0 + d2))
            if adam:
                for k in range(D):
                    mk = b1 * m_t[e, k] + (one - b1) * gt[k]
                    vk = b2 * v_t[e, k] + (one - b2) * gt[k] * gt[k]
                    m_t[e, k] = mk
                    v_t[e, k] = vk
                    y_t[e, k] -= lr * mk / (math.sqrt(vk) + ep)
            else:
                for k in range(D):
                    y_t[e, k] -= lr * gt[k]
        if adam:
            for k in range(D):
                mk = b1 * m_h[i, k] + (one - b1) * gi[k]
                vk = b2 * v_h[i, k] + (one - b2) * gi[k] * gi[k]
                m_h[i, k] = mk
                v_h[i, k] = vk
                y_h[i, k] -= lr * mk / (math.sqrt(vk) + ep)
        else:
            for k in range(D):
                y_h[i, k] -= lr * gi[k]
    states[slot] = state
    losses[slot] = loss


_EMPTY_NEG = np.zeros((0, 1), dtype=np.int64)


def train_block(y_h, y_t, heads, tails, neg_prob, neg_alias, *, num_negative,
                negative_weight, lr_start, lr_end, optimizer="adam", moments=None,
                beta1=0.9, beta2=0.999, eps=1e-8, clip=5.0, states, num_threads=1,
                negatives=None) -> BlockStats:
    """Train one block of edges ``(heads, tails)`` in place.

    ``y_h`` / ``y_t``: coordinates of the head and tail partitions (the same
    array with one partition); ``moments``: with Adam, ``(m_h, v_h, m_t,
    v_t)`` of the same shapes; ``negatives``: int [N, K] instead of drawn ones
    (tests); ``negative_weight`` is LargeVis's gamma."""
    owner = "layout train_block"
    for name, a in (("y_h", y_h), ("y_t", y_t)):
        if not (isinstance(a, np.ndarray) and a.dtype == np.float32 and a.ndim == 2
                and a.flags.c_contiguous):
            raise ParameterError(owner, name, "a C-contiguous float32 [rows, dim] array",
                                 type(a).__name__)
    n = int(heads.shape[0])
    if n == 0:
        return BlockStats(0.0, 0)
    adam = optimizer == "adam"
    if adam:
        if moments is None:
            raise ParameterError(owner, "moments", "the Adam moment tables", None)
        m_h, v_h, m_t, v_t = moments
    else:
        m_h = v_h = y_h[:0]
        m_t = v_t = y_t[:0]
    neg = _EMPTY_NEG if negatives is None else np.ascontiguousarray(negatives, np.int64)
    losses = np.zeros(num_threads, dtype=np.float64)
    run_chunks(_train_range, lambda lo, hi, i: (
        y_h, y_t, m_h, v_h, m_t, v_t, heads, tails, neg_prob, neg_alias, neg,
        np.int64(num_negative), np.float64(negative_weight), np.float64(clip),
        np.float64(lr_start), np.float64(lr_end), adam, np.float64(beta1), np.float64(beta2),
        np.float64(eps), np.int64(n), np.int64(lo), np.int64(hi), states, np.int64(i),
        losses), n, num_threads)
    return BlockStats(float(losses.sum()), n)
