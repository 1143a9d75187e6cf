"""The Triton programs behind :mod:`vitegraph.kernels.skipgram_triton` (see its
docstring for the layout and the maths).  Imported only when they are used."""

import triton
import triton.language as tl


@triton.jit
def alias_draw(prob_ptr, alias_ptr, n, seed, counter):
    """One draw per lane from the alias table over ``n`` rows (Philox: one word
    picks the slot, another the coin)."""
    r0, r1, _r2, _r3 = tl.randint4x(seed, counter)
    # slot = floor(r0' * n / 2**31) with r0' the top 31 bits: a multiply-shift
    # instead of a modulo, in signed 64-bit arithmetic (n may arrive as a
    # constexpr when it is 1, which has no .to())
    slot = ((r0 >> 1).to(tl.int64) * n) >> 31
    coin = tl.random.uint_to_uniform_float(r1)
    p = tl.load(prob_ptr + slot)
    a = tl.load(alias_ptr + slot).to(tl.int64)
    return tl.where(coin < p, slot, a)


@triton.jit
def draw_kernel(out_ptr, prob_ptr, alias_ptr, n_rows, total, seed, offset,
                BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    k = pid.to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = k < total
    neg = alias_draw(prob_ptr, alias_ptr, n_rows, seed, (offset + k).to(tl.uint32))
    tl.store(out_ptr + k, neg, mask=mask)


@triton.jit
def sgns_kernel(vertex_ptr, context_ptr, heads_ptr, tails_ptr, negs_ptr, prob_ptr,
                alias_ptr, loss_ptr, n_samples, n_context, dim, stride_v, stride_c,
                lr_start, lr_step, negative_weight, weight_decay, seed, offset,
                K: tl.constexpr, GIVEN: tl.constexpr, ATOMIC: tl.constexpr,
                BLOCK_S: tl.constexpr, BLOCK_D: tl.constexpr):
    pid = tl.program_id(0)
    s = pid.to(tl.int64) * BLOCK_S + tl.arange(0, BLOCK_S)
    smask = s < n_samples
    d = tl.arange(0, BLOCK_D)
    mask = smask[:, None] & (d < dim)[None, :]
    h = tl.load(heads_ptr + s, mask=smask, other=0).to(tl.int64)
    lr = lr_start + lr_step * s.to(tl.float32)
    v = tl.load(vertex_ptr + h[:, None] * stride_v + d[None, :], mask=mask,
                other=0.0).to(tl.float32)   # fp32 maths for any table dtype
    v0 = v
    loss = tl.zeros([BLOCK_S], dtype=tl.float32)
    for j in tl.static_range(K + 1):
        if j < K:
            if GIVEN:
                row = tl.load(negs_ptr + s * K + j, mask=smask, other=0).to(tl.int64)
            else:
                row = alias_draw(prob_ptr, alias_ptr, n_context, seed,
                                 (offset + s * K + j).to(tl.uint32))
                row = tl.where(smask, row, 0)
            w = negative_weight
            label = 0.0     # a negative: g = sigmoid(x), loss softplus(x)
        else:
            row = tl.load(tails_ptr + s, mask=smask, other=0).to(tl.int64)
            w = 1.0
            label = 1.0     # the positive: g = sigmoid(x) - 1, loss softplus(-x)
        c_ptrs = context_ptr + row[:, None] * stride_c + d[None, :]
        c = tl.load(c_ptrs, mask=mask, other=0.0).to(tl.float32)
        x = tl.sum(v * c, axis=1)
        g = 1.0 / (1.0 + tl.exp(-x)) - label
        scale = lr * w
        gs = (g * scale)[:, None]
        decay = (scale * weight_decay)[:, None]
        v_new = v - gs * c - decay * v
        if ATOMIC:
            tl.atomic_add(c_ptrs, (-(gs * v + decay * c)).to(context_ptr.dtype.element_ty),
                          mask=mask, sem="relaxed")
        else:
            tl.store(c_ptrs, (c - gs * v - decay * c).to(context_ptr.dtype.element_ty),
                     mask=mask)
        v = v_new
        z = x * (1.0 - 2.0 * label)
        loss += w * (tl.maximum(z, 0.0) + tl.log(1.0 + tl.exp(-tl.abs(z))))
    # the pointer tile is rebuilt here rather than kept live across the loop
    # (64-bit pointers are two registers per element: keeping them spilled)
    v_ptrs = vertex_ptr + h[:, None] * stride_v + d[None, :]
    if ATOMIC:
        tl.atomic_add(v_ptrs, (v - v0).to(vertex_ptr.dtype.element_ty), mask=mask,
                      sem="relaxed")
    else:
        tl.store(v_ptrs, v.to(vertex_ptr.dtype.element_ty), mask=mask)
    tl.store(loss_ptr + pid, tl.sum(tl.where(smask, loss, 0.0), axis=0))
