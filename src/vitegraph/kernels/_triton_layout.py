"""The Triton program behind :mod:`vitegraph.kernels.layout_triton` (LargeVis's
objective; see :mod:`vitegraph.kernels.layout_numba` for the maths).  One
program trains ``BLOCK_S`` samples as a ``[BLOCK_S, BLOCK_D]`` tile."""

import triton
import triton.language as tl

from ._triton_kge import _step
from ._triton_sgns import alias_draw


@triton.jit
def layout_kernel(yh_ptr, yt_ptr, mh_ptr, vh_ptr, mt_ptr, vt_ptr, heads_ptr, tails_ptr,
                  negs_ptr, prob_ptr, alias_ptr, loss_ptr, n_samples, n_tail, dim, stride,
                  lr_start, lr_step, gamma, clip, beta1, beta2, eps, seed, offset, K,
                  ADAM: tl.constexpr, GIVEN: tl.constexpr, BLOCK_S: tl.constexpr,
                  BLOCK_D: tl.constexpr):
    pid = tl.program_id(0)
    s = pid.to(tl.int64) * BLOCK_S + tl.arange(0, BLOCK_S)
    smask = s < n_samples
    d = tl.arange(0, BLOCK_D)[None, :]
    mask = smask[:, None] & (d < dim)
    lr = (lr_start + lr_step * s.to(tl.float32))[:, None]
    i = tl.load(heads_ptr + s, mask=smask, other=0).to(tl.int64)
    j = tl.load(tails_ptr + s, mask=smask, other=0).to(tl.int64)
    ib = i[:, None] * stride + d
    jb = j[:, None] * stride + d
    yi = tl.load(yh_ptr + ib, mask=mask, other=0.0)
    yj = tl.load(yt_ptr + jb, mask=mask, other=0.0)
    u = yi - yj
    d2 = tl.sum(u * u, axis=1)[:, None]
    g = tl.minimum(tl.maximum(2.0 * u / (1.0 + d2), -clip), clip)
    gi = g
    _step(yt_ptr, mt_ptr, vt_ptr, jb, -g, lr, mask, ADAM, beta1, beta2, eps)
    loss = tl.log(1.0 + tl.sum(u * u, axis=1))
    for q in range(K):
        if GIVEN:
            e = tl.load(negs_ptr + s * K + q, mask=smask, other=0).to(tl.int64)
        else:
            e = alias_draw(prob_ptr, alias_ptr, n_tail, seed, (offset + s * K + q).to(tl.uint32))
            e = tl.where(smask, e, 0)
        eb = e[:, None] * stride + d
        ye = tl.load(yt_ptr + eb, mask=mask, other=0.0)
        w = yi - ye
        dn = tl.sum(w * w, axis=1)
        dn2 = dn[:, None]
        g = tl.minimum(tl.maximum(-2.0 * gamma * w / ((0.1 + dn2) * (1.0 + dn2)), -clip), clip)
        gi += g
        _step(yt_ptr, mt_ptr, vt_ptr, eb, -g, lr, mask, ADAM, beta1, beta2, eps)
        loss -= gamma * tl.log((dn + 1e-12) / (1.0 + dn))
    _step(yh_ptr, mh_ptr, vh_ptr, ib, gi, lr, mask, ADAM, beta1, beta2, eps)
    tl.store(loss_ptr + pid, tl.sum(tl.where(smask, loss, 0.0), axis=0))
