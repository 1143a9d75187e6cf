"""The Triton program behind :mod:`vitegraph.kernels.kge_triton` (see its
docstring for the layout and the maths).  Imported only when it is used.

Rows are handled in parts of ``P`` floats (1, 2 or 4 parts: real and imaginary
halves, SimplE's head and tail halves, quaternion components); a part is a
``[BLOCK_S, BLOCK_P]`` tile, one sample per row.  Unused parts of a model are
aliases of part 0 that the compiler drops."""

import triton
import triton.language as tl



@triton.jit
def _load_parts(ptr, base, d, P, mask, NPART: tl.constexpr):
    x0 = tl.load(ptr + base + d, mask=mask, other=0.0).to(tl.float32)
    x1 = x0
    x2 = x0
    x3 = x0
    if NPART > 1:
        x1 = tl.load(ptr + base + P + d, mask=mask, other=0.0).to(tl.float32)
    if NPART > 2:
        x2 = tl.load(ptr + base + 2 * P + d, mask=mask, other=0.0).to(tl.float32)
        x3 = tl.load(ptr + base + 3 * P + d, mask=mask, other=0.0).to(tl.float32)
    return x0, x1, x2, x3


@triton.jit
def _score_grad(MODEL: tl.constexpr, h0, h1, h2, h3, r0, r1, r2, r3, t0, t1, t2, t3,
                margin):
    """Score ``[BLOCK_S]`` and its gradients by part (see kge_numba.score_grad;
    ``MODEL`` is its model code, 0 TransE ... 5 QuatE)."""
    if MODEL == 0:      # TransE
        u = h0 + r0 - t0
        g = tl.where(u > 0, -1.0, tl.where(u < 0, 1.0, 0.0))
        s = margin - tl.sum(tl.abs(u), axis=1)
        return s, g, h1, h2, h3, g, r1, r2, r3, -g, t1, t2, t3
    elif MODEL == 1:    # DistMult
        s = tl.sum(h0 * r0 * t0, axis=1)
        return s, r0 * t0, h1, h2, h3, h0 * t0, r1, r2, r3, h0 * r0, t1, t2, t3
    elif MODEL == 2:    # ComplEx: Re <h, r, conj(t)>
        s = tl.sum(h0 * r0 * t0 + h1 * r0 * t1 + h0 * r1 * t1 - h1 * r1 * t0, axis=1)
        return (s, r0 * t0 + r1 * t1, r0 * t1 - r1 * t0, h2, h3,
                h0 * t0 + h1 * t1, h0 * t1 - h1 * t0, r2, r3,
                h0 * r0 - h1 * r1, h1 * r0 + h0 * r1, t2, t3)
    elif MODEL == 3:    # SimplE: h = [hH | hT], t = [tH | tT], r = [r | r^-1]
        s = 0.5 * tl.sum(h0 * r0 * t1 + t0 * r1 * h1, axis=1)
        return (s, 0.5 * r0 * t1, 0.5 * t0 * r1, h2, h3,
                0.5 * h0 * t1, 0.5 * t0 * h1, r2, r3,
                0.5 * r1 * h1, 0.5 * h0 * r0, t2, t3)
    elif MODEL == 4:    # RotatE: r0 holds the phases
        c = tl.cos(r0)
        sn = tl.sin(r0)
        ur = h0 * c - h1 * sn - t0
        ui = h0 * sn + h1 * c - t1
        m = tl.sqrt(ur * ur + ui * ui)
        s = margin - tl.sum(m, axis=1)
        inv = 1.0 / (m + 1e-9)
        dur = -ur * inv
        dui = -ui * inv
        return (s, dur * c + dui * sn, dui * c - dur * sn, h2, h3,
                dur * (-h0 * sn - h1 * c) + dui * (h0 * c - h1 * sn), r1, r2, r3,
                -dur, -dui, t2, t3)
    else:               # QuatE: <h (x) r / |r|, t>
        n = tl.sqrt(r0 * r0 + r1 * r1 + r2 * r2 + r3 * r3) + 1e-9
        p = r0 / n
        q = r1 / n
        u = r2 / n
        v = r3 / n
        w = h0 * p - h1 * q - h2 * u - h3 * v
        x = h0 * q + h1 * p + h2 * v - h3 * u
        y = h0 * u - h1 * v + h2 * p + h3 * q
        z = h0 * v + h1 * u - h2 * q + h3 * p
        s = tl.sum(w * t0 + x * t1 + y * t2 + z * t3, axis=1)
        g_p = h0 * t0 + h1 * t1 + h2 * t2 + h3 * t3
        g_q = -h1 * t0 + h0 * t1 + h3 * t2 - h2 * t3
        g_u = -h2 * t0 - h3 * t1 + h0 * t2 + h1 * t3
        g_v = -h3 * t0 + h2 * t1 - h1 * t2 + h0 * t3
        dot = p * g_p + q * g_q + u * g_u + v * g_v
        return (s, p * t0 + q * t1 + u * t2 + v * t3,
                -q * t0 + p * t1 - v * t2 + u * t3,
                -u * t0 + v * t1 + p * t2 - q * t3,
                -v * t0 - u * t1 + q * t2 + p * t3,
                (g_p - p * dot) / n, (g_q - q * dot) / n, (g_u - u * dot) / n,
                (g_v - v * dot) / n, w, x, y, z)


@triton.jit
def _sigmoid(x):
    """1 / (1 + exp(-x)) without overflow."""
    e = tl.exp(-tl.abs(x))
    return tl.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@triton.jit
def _step(ptr, m_ptr, v_ptr, off, g, lr, mask, ADAM: tl.constexpr, beta1, beta2, eps):
    """``row -= lr * step(g)`` for one part: SGD, or lazy Adam (moments read and
    written back without atomics: Hogwild); the row change is an atomic add."""
    if ADAM:
        m = tl.load(m_ptr + off, mask=mask, other=0.0)
        v = tl.load(v_ptr + off, mask=mask, other=0.0)
        m = beta1 * m + (1.0 - beta1) * g
        v = beta2 * v + (1.0 - beta2) * g * g
        tl.store(m_ptr + off, m, mask=mask)
        tl.store(v_ptr + off, v, mask=mask)
        delta = -lr * m / (tl.sqrt(v) + eps)
    else:
        delta = -lr * g
    tl.atomic_add(ptr + off, delta.to(ptr.dtype.element_ty), mask=mask, sem="relaxed")


@triton.jit
def _step_parts(ptr, m_ptr, v_ptr, base, d, P, g0, g1, g2, g3, lr, mask,
                NPART: tl.constexpr, ADAM: tl.constexpr, beta1, beta2, eps):
    _step(ptr, m_ptr, v_ptr, base + d, g0, lr, mask, ADAM, beta1, beta2, eps)
    if NPART > 1:
        _step(ptr, m_ptr, v_ptr, base + P + d, g1, lr, mask, ADAM, beta1, beta2, eps)
    if NPART > 2:
        _step(ptr, m_ptr, v_ptr, base + 2 * P + d, g2, lr, mask, ADAM, beta1, beta2, eps)
        _step(ptr, m_ptr, v_ptr, base + 3 * P + d, g3, lr, mask, ADAM, beta1, beta2, eps)


@triton.jit
def _add_parts(ptr, base, d, P, g0, g1, g2, g3, mask, NPART: tl.constexpr):
    tl.atomic_add(ptr + base + d, g0, mask=mask, sem="relaxed")
    if NPART > 1:
        tl.atomic_add(ptr + base + P + d, g1, mask=mask, sem="relaxed")
    if NPART > 2:
        tl.atomic_add(ptr + base + 2 * P + d, g2, mask=mask, sem="relaxed")
        tl.atomic_add(ptr + base + 3 * P + d, g3, mask=mask, sem="relaxed")


@triton.jit
def _negative(negs_ptr, s, j, K, side, smask, n_head, n_tail, seed,
              offset, GIVEN: tl.constexpr):
    """Row index of negative ``j`` of samples ``s`` (given, or Philox)."""
    if GIVEN:
        e = tl.load(negs_ptr + s * (K + 1) + j, mask=smask, other=0).to(tl.int64)
    else:
        x = tl.randint(seed, (offset + s * (K + 1) + j).to(tl.uint32))
        n = tl.where(side, n_tail, n_head).to(tl.int64)
        e = ((x >> 1).to(tl.int64) * n) >> 31
        e = tl.where(smask, e, 0)
    return e


@triton.jit
def _corrupted(eh_ptr, et_ptr, negs_ptr, s, j, K, side, smask, tmask, hmask, n_head, n_tail,
               seed, offset, stride_e, d, P, h0, h1, h2, h3, r0, r1, r2, r3, t0, t1, t2, t3,
               margin, MODEL: tl.constexpr, NPART: tl.constexpr, GIVEN: tl.constexpr):
    """Negative ``j`` of samples ``s``: its row offsets and the corrupted
    triplet's score and gradients (the row comes from the tail table on lanes
    that corrupt the tail, from the head table on the others)."""
    e = _negative(negs_ptr, s, j, K, side, smask, n_head, n_tail, seed, offset, GIVEN)
    eb = e[:, None] * stride_e
    a0, a1, a2, a3 = _load_parts(et_ptr, eb, d, P, tmask, NPART)
    b0, b1, b2, b3 = _load_parts(eh_ptr, eb, d, P, hmask, NPART)
    x0, x1, x2, x3 = a0 + b0, a1 + b1, a2 + b2, a3 + b3
    side2 = side[:, None]
    sc, g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10, g11 = _score_grad(
        MODEL, tl.where(side2, h0, x0), tl.where(side2, h1, x1), tl.where(side2, h2, x2),
        tl.where(side2, h3, x3), r0, r1, r2, r3, tl.where(side2, x0, t0),
        tl.where(side2, x1, t1), tl.where(side2, x2, t2), tl.where(side2, x3, t3), margin)
    return eb, sc, g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10, g11


@triton.jit
def kge_kernel(eh_ptr, et_ptr, rel_ptr, rgrad_ptr, mh_ptr, mt_ptr, vh_ptr, vt_ptr,
               heads_ptr, tails_ptr, rels_ptr, negs_ptr, scratch_ptr, loss_ptr,
               first, last, n_head, n_tail, P, PR, stride_e, stride_r,
               lr_start, lr_step, margin, alpha, l3, beta1, beta2, eps, seed, offset, K,
               MODEL: tl.constexpr, NPART: tl.constexpr, RPART: tl.constexpr,
               ADAM: tl.constexpr, GIVEN: tl.constexpr, L3: tl.constexpr,
               BLOCK_S: tl.constexpr, BLOCK_P: tl.constexpr):
    pid = tl.program_id(0)
    local = pid.to(tl.int64) * BLOCK_S + tl.arange(0, BLOCK_S)
    s = first + local
    smask = s < last
    d = tl.arange(0, BLOCK_P)[None, :]
    mask = smask[:, None] & (d < P)
    rmask = smask[:, None] & (d < PR)
    lr = (lr_start + lr_step * s.to(tl.float32))[:, None]
    h = tl.load(heads_ptr + s, mask=smask, other=0).to(tl.int64)
    t = tl.load(tails_ptr + s, mask=smask, other=0).to(tl.int64)
    r = tl.load(rels_ptr + s, mask=smask, other=0).to(tl.int64)
    if GIVEN:
        coin = tl.load(negs_ptr + s * (K + 1) + K, mask=smask, other=0).to(tl.int32)
    else:
        coin = (tl.randint(seed, (offset + s * (K + 1) + K).to(tl.uint32)) >> 31).to(tl.int32)
    side = coin == 1                # corrupt the tail
    side2 = side[:, None]
    hb = h[:, None] * stride_e
    tb = t[:, None] * stride_e
    rb = r[:, None] * stride_r
    h0, h1, h2, h3 = _load_parts(eh_ptr, hb, d, P, mask, NPART)
    t0, t1, t2, t3 = _load_parts(et_ptr, tb, d, P, mask, NPART)
    r0, r1, r2, r3 = _load_parts(rel_ptr, rb, d, PR, rmask, RPART)
    tmask = mask & side2            # lanes whose corrupted row is a tail row
    hmask = mask & (coin == 0)[:, None]

    # -- pass 1: the negatives' scores (kept for pass 2) and their log-sum-exp
    best = tl.full([BLOCK_S], -1.0e30, tl.float32)
    wsum = tl.zeros([BLOCK_S], dtype=tl.float32)
    for j in range(K):
        _eb, sc, _g0, _g1, _g2, _g3, _g4, _g5, _g6, _g7, _g8, _g9, _g10, _g11 = _corrupted(
            eh_ptr, et_ptr, negs_ptr, s, j, K, side, smask, tmask, hmask, n_head, n_tail, seed,
            offset, stride_e, d, P, h0, h1, h2, h3, r0, r1, r2, r3, t0, t1, t2, t3, margin,
            MODEL, NPART, GIVEN)
        tl.store(scratch_ptr + local * K + j, sc, mask=smask)
        top = tl.maximum(best, sc)
        wsum = wsum * tl.exp(alpha * (best - top)) + tl.exp(alpha * (sc - top))
        best = top
    wsum = tl.where((wsum > 0.0) & (wsum < 3.0e38), wsum, 1.0)

    # -- the positive: dL/ds = -sigmoid(-s)
    sp, gh0, gh1, gh2, gh3, gr0, gr1, gr2, gr3, gt0, gt1, gt2, gt3 = _score_grad(
        MODEL, h0, h1, h2, h3, r0, r1, r2, r3, t0, t1, t2, t3, margin)
    cp = (-_sigmoid(-sp))[:, None]
    loss = tl.maximum(-sp, 0.0) + tl.log(1.0 + tl.exp(-tl.abs(sp)))
    ah0, ah1, ah2, ah3 = cp * gh0, cp * gh1, cp * gh2, cp * gh3
    at0, at1, at2, at3 = cp * gt0, cp * gt1, cp * gt2, cp * gt3
    ar0, ar1, ar2, ar3 = cp * gr0, cp * gr1, cp * gr2, cp * gr3

    # -- pass 2: each negative's row is updated now; the positive's accumulate
    for j in range(K):
        eb, _s, nh0, nh1, nh2, nh3, nr0, nr1, nr2, nr3, nt0, nt1, nt2, nt3 = _corrupted(
            eh_ptr, et_ptr, negs_ptr, s, j, K, side, smask, tmask, hmask, n_head, n_tail, seed,
            offset, stride_e, d, P, h0, h1, h2, h3, r0, r1, r2, r3, t0, t1, t2, t3, margin,
            MODEL, NPART, GIVEN)
        sc = tl.load(scratch_ptr + local * K + j, mask=smask, other=0.0)
        p = tl.exp(alpha * (sc - best)) / wsum
        cn = p * _sigmoid(sc)
        loss += p * (tl.maximum(sc, 0.0) + tl.log(1.0 + tl.exp(-tl.abs(sc))))
        c2 = cn[:, None]
        # tail side: the negative is a tail row (gradient nt), the head accumulates
        _step_parts(et_ptr, mt_ptr, vt_ptr, eb, d, P, c2 * nt0, c2 * nt1, c2 * nt2,
                    c2 * nt3, lr, tmask, NPART, ADAM, beta1, beta2, eps)
        _step_parts(eh_ptr, mh_ptr, vh_ptr, eb, d, P, c2 * nh0, c2 * nh1, c2 * nh2,
                    c2 * nh3, lr, hmask, NPART, ADAM, beta1, beta2, eps)
        ch = tl.where(side2, c2, 0.0)
        ct = tl.where(side2, 0.0, c2)
        ah0, ah1, ah2, ah3 = ah0 + ch * nh0, ah1 + ch * nh1, ah2 + ch * nh2, ah3 + ch * nh3
        at0, at1, at2, at3 = at0 + ct * nt0, at1 + ct * nt1, at2 + ct * nt2, at3 + ct * nt3
        ar0, ar1, ar2, ar3 = ar0 + c2 * nr0, ar1 + c2 * nr1, ar2 + c2 * nr2, ar3 + c2 * nr3

    # -- L3 on the positive's rows, then their updates
    if L3:
        c3 = 3.0 * l3
        ah0, ah1, ah2, ah3 = (ah0 + c3 * tl.abs(h0) * h0, ah1 + c3 * tl.abs(h1) * h1,
                              ah2 + c3 * tl.abs(h2) * h2, ah3 + c3 * tl.abs(h3) * h3)
        at0, at1, at2, at3 = (at0 + c3 * tl.abs(t0) * t0, at1 + c3 * tl.abs(t1) * t1,
                              at2 + c3 * tl.abs(t2) * t2, at3 + c3 * tl.abs(t3) * t3)
        ar0, ar1, ar2, ar3 = (ar0 + c3 * tl.abs(r0) * r0, ar1 + c3 * tl.abs(r1) * r1,
                              ar2 + c3 * tl.abs(r2) * r2, ar3 + c3 * tl.abs(r3) * r3)
    _step_parts(eh_ptr, mh_ptr, vh_ptr, hb, d, P, ah0, ah1, ah2, ah3, lr, mask, NPART,
                ADAM, beta1, beta2, eps)
    _step_parts(et_ptr, mt_ptr, vt_ptr, tb, d, P, at0, at1, at2, at3, lr, mask, NPART,
                ADAM, beta1, beta2, eps)
    # relation gradients add up in a buffer, applied once per launch
    _add_parts(rgrad_ptr, rb, d, PR, ar0, ar1, ar2, ar3, rmask, RPART)
    tl.store(loss_ptr + pid, tl.sum(tl.where(smask, loss, 0.0), axis=0))
