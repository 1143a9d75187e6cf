"""Device-generic training kernel in torch: batched SGD (DESIGN.md section 1).

Same maths as :mod:`vitegraph.kernels.skipgram_numba`, on torch tensors of any device
(the device comes from ``vertex``).  A block is cut into mini-batches of
``batch_size`` consecutive samples; for each mini-batch the K negative sub-steps
and then the positive sub-step run as

    gather rows (index_select)  ->  g = sigmoid(v.c) - label  ->
    v -= lr*w*(g*c + wd*v), c -= lr*w*(g*v + wd*c)  as two index_add_ calls,

every sample with its own ``lr_t``.  Inside a sub-step all samples read the rows
as they were before it, and updates of a row that several samples touch add up
(scatter-add); with ``batch_size = 1`` this is exactly the per-sample order of
the numba kernel, so the two agree to float tolerance.  Larger batches differ
where rows repeat inside a batch, and are tested for equal quality instead.

Negatives are drawn on the device from the same alias table the numba kernel
uses (uniform slot, then a coin against ``neg_prob``), from ``generator``.

Nothing here assumes the CPU: no host copies inside the loop; the loss stays on
the device until the block ends (one synchronisation per block).  A fused GPU
kernel (e.g. Triton, one program per sample, Hogwild) would plug in at
:func:`_select_impl` with the same arguments as :func:`_train_batched`.
"""

from __future__ import annotations

import torch

from ..errors import ParameterError
from .._validate import check_float, check_int
from ._common import BlockStats

__all__ = ["train_block", "train_block_with_negatives", "draw_negatives"]


def draw_negatives(neg_prob: torch.Tensor, neg_alias: torch.Tensor, num_samples: int,
                   num_negative: int, generator: torch.Generator | None = None
                   ) -> torch.Tensor:
    """``num_samples x num_negative`` draws (int64, on ``neg_prob``'s device) from
    the alias table ``(neg_prob, neg_alias)``; this is how :func:`train_block`
    draws each mini-batch's negatives."""
    n = neg_prob.shape[0]
    shape = (num_samples, num_negative)
    slot = torch.randint(n, shape, generator=generator, device=neg_prob.device)
    coin = torch.rand(shape, generator=generator, device=neg_prob.device)
    return torch.where(coin < neg_prob[slot], slot, neg_alias[slot].long())


class _Workspace:
    """Buffers of one mini-batch, allocated once per block: fresh multi-MiB
    temporaries per operation cost page faults on the CPU (more than the maths)
    and allocator traffic on a GPU."""

    def __init__(self, rows: int, dim: int, device):
        f32 = dict(dtype=torch.float32, device=device)
        self.v = torch.empty(rows, dim, **f32)
        self.c = torch.empty(rows, dim, **f32)
        self.delta = torch.empty(rows, dim, **f32)
        self.x = torch.empty(rows, 1, 1, **f32)

    def take(self, b: int):
        return self.v[:b], self.c[:b], self.delta[:b], self.x[:b]


def _sgd_substep(vertex, context, h, r, scale, positive: bool, weight_decay: float, ws):
    """One batched sub-step on pairs (vertex[h], context[r]); ``scale`` [b, 1] is
    lr * w per sample.  Returns the unweighted loss summed over the batch."""
    v, c, delta, x3 = ws.take(h.shape[0])
    torch.index_select(vertex, 0, h, out=v)
    torch.index_select(context, 0, r, out=c)
    torch.bmm(v.unsqueeze(1), c.unsqueeze(2), out=x3)
    x = x3.view(-1)
    if positive:
        g = torch.sigmoid(x) - 1.0
        loss = torch.nn.functional.softplus(-x)
    else:
        g = torch.sigmoid(x)
        loss = torch.nn.functional.softplus(x)
    g = g.unsqueeze(1) * scale
    decay = scale * weight_decay
    # both deltas from the old rows (v, c are copies), then scatter-add
    torch.mul(c, g, out=delta)
    delta.addcmul_(v, decay)
    vertex.index_add_(0, h, delta, alpha=-1.0)
    torch.mul(v, g, out=delta)
    delta.addcmul_(c, decay)
    context.index_add_(0, r, delta, alpha=-1.0)
    return loss.sum(dtype=_acc_dtype(vertex.device))


def _acc_dtype(device):
    # float64 statistics where the device has it (MPS does not)
    return torch.float32 if device.type == "mps" else torch.float64


def _train_batched(vertex, context, heads, tails, negatives_for, num_negative,
                   negative_weight, weight_decay, lr_start, lr_end, batch_size):
    """Reference batched kernel; ``negatives_for(lo, hi)`` gives the negatives of
    samples ``[lo, hi)`` as int64 [hi - lo, K].  Returns the loss as a 0-d
    float64 tensor on the device."""
    device = vertex.device
    acc = _acc_dtype(device)
    total = heads.shape[0]
    ws = _Workspace(min(batch_size, total), vertex.shape[1], device)
    loss = torch.zeros((), dtype=acc, device=device)
    lr_span = lr_end - lr_start
    for lo in range(0, total, batch_size):
        hi = min(lo + batch_size, total)
        h = heads[lo:hi]
        t = torch.arange(lo, hi, device=device, dtype=acc)
        lr = (lr_start + lr_span * (t / total)).to(torch.float32).unsqueeze(1)
        if num_negative:
            negs = negatives_for(lo, hi)
            scale = lr * negative_weight
            for j in range(num_negative):
                loss += negative_weight * _sgd_substep(
                    vertex, context, h, negs[:, j], scale, False, weight_decay, ws)
        loss += _sgd_substep(vertex, context, h, tails[lo:hi], lr, True, weight_decay, ws)
    return loss


def _select_impl(device: torch.device):
    """The kernel for ``device``; only the batched reference exists so far."""
    return _train_batched


# ---------------------------------------------------------------- checks

def _describe(a):
    if isinstance(a, torch.Tensor):
        return f"Tensor(dtype={a.dtype}, shape={tuple(a.shape)}, device={a.device})"
    return type(a).__name__


def _check_table(owner, name, a, device):
    if not (isinstance(a, torch.Tensor) and a.dtype == torch.float32 and a.dim() == 2
            and a.device == device):
        raise ParameterError(owner, name, f"a float32 tensor of shape (rows, dim) on "
                             f"{device}", _describe(a))


def _as_index(owner, name, a, ndim, device, rows=None):
    if not (isinstance(a, torch.Tensor) and a.dtype in (torch.int32, torch.int64)
            and a.dim() == ndim and a.device == device):
        raise ParameterError(owner, name, f"an int32 or int64 tensor with {ndim} "
                             f"dimension{'s' if ndim > 1 else ''} on {device}",
                             _describe(a))
    if rows is not None and a.shape[0] != rows:
        raise ParameterError(owner, name, f"{rows} rows long", _describe(a))
    return a.long()


def _check_ranges(owner, checks):
    """``checks``: (name, int64 tensor, upper).  One device synchronisation."""
    bad = [((a < 0) | (a >= upper)).any() for _, a, upper in checks if a.numel()]
    if bad and bool(torch.stack(bad).any()):
        for name, a, upper in checks:
            if a.numel() and bool(((a < 0) | (a >= upper)).any()):
                raise ParameterError(owner, name, f"local row indices in [0, {upper})",
                                     f"values in [{int(a.min())}, {int(a.max())}]")


def _check_negative_table(owner, neg_prob, neg_alias, n_c, device):
    """The alias table over ``n_c`` context rows; returns ``neg_alias`` as int64."""
    if not (isinstance(neg_prob, torch.Tensor) and neg_prob.dtype == torch.float32
            and tuple(neg_prob.shape) == (n_c,) and neg_prob.device == device):
        raise ParameterError(owner, "neg_prob", f"a float32 tensor of shape ({n_c},) "
                             f"on {device}", _describe(neg_prob))
    return _as_index(owner, "neg_alias", neg_alias, 1, device, rows=n_c)


def _check_common(owner, vertex, context, heads, tails, negative_weight,
                  weight_decay, lr_start, lr_end, batch_size):
    if not isinstance(vertex, torch.Tensor):
        raise ParameterError(owner, "vertex", "a float32 tensor", _describe(vertex))
    device = vertex.device
    _check_table(owner, "vertex", vertex, device)
    _check_table(owner, "context", context, device)
    if vertex.shape[1] != context.shape[1]:
        raise ParameterError(owner, "context", f"of dim {vertex.shape[1]} (as vertex)",
                             _describe(context))
    heads = _as_index(owner, "heads", heads, 1, device)
    tails = _as_index(owner, "tails", tails, 1, device, rows=heads.shape[0])
    params = (check_float(owner, "negative_weight", negative_weight, minimum=0),
              check_float(owner, "weight_decay", weight_decay, minimum=0),
              check_float(owner, "lr_start", lr_start, minimum=0),
              check_float(owner, "lr_end", lr_end, minimum=0),
              check_int(owner, "batch_size", batch_size, minimum=1))
    return device, heads, tails, params


# ---------------------------------------------------------------- public

def train_block(vertex, context, heads, tails, neg_prob, neg_alias, *,
                num_negative, negative_weight, weight_decay, lr_start, lr_end,
                generator=None, batch_size) -> BlockStats:
    """Train one block in place on torch tensors (any device, all on the one of
    ``vertex``); negatives drawn on the device from the alias table ``(neg_prob,
    neg_alias)`` over the rows of ``context`` with ``generator`` (a
    ``torch.Generator`` on that device; None: torch's default one).

    Same arguments as :func:`vitegraph.kernels.skipgram_numba.train_block`, with
    ``generator`` for ``states`` and ``batch_size`` for ``num_threads``.
    """
    owner = "torch train_block"
    device, heads, tails, (negw, wd, lr0, lr1, batch_size) = _check_common(
        owner, vertex, context, heads, tails, negative_weight, weight_decay,
        lr_start, lr_end, batch_size)
    num_negative = check_int(owner, "num_negative", num_negative, minimum=0)
    n_c = context.shape[0]
    neg_alias = _check_negative_table(owner, neg_prob, neg_alias, n_c, device)
    if generator is not None and (not isinstance(generator, torch.Generator)
                                  or generator.device.type != device.type):
        raise ParameterError(owner, "generator", f"a torch.Generator on {device}",
                             generator)
    _check_ranges(owner, [("heads", heads, vertex.shape[0]),
                          ("tails", tails, n_c), ("neg_alias", neg_alias, n_c)])
    n = heads.shape[0]
    if n == 0:
        return BlockStats(0.0, 0)

    def negatives_for(lo, hi):
        return draw_negatives(neg_prob, neg_alias, hi - lo, num_negative, generator)

    impl = _select_impl(device)
    loss = impl(vertex, context, heads, tails, negatives_for, num_negative,
                negw, wd, lr0, lr1, batch_size)
    return BlockStats(float(loss), n)


def train_block_with_negatives(vertex, context, heads, tails, negatives, *,
                               negative_weight, weight_decay, lr_start, lr_end,
                               batch_size) -> BlockStats:
    """As :func:`train_block` with the negatives given: ``negatives`` [N, K]
    (int32 or int64) holds the context rows of sample t's K negatives."""
    owner = "torch train_block_with_negatives"
    device, heads, tails, (negw, wd, lr0, lr1, batch_size) = _check_common(
        owner, vertex, context, heads, tails, negative_weight, weight_decay,
        lr_start, lr_end, batch_size)
    negatives = _as_index(owner, "negatives", negatives, 2, device, rows=heads.shape[0])
    n_c = context.shape[0]
    _check_ranges(owner, [("heads", heads, vertex.shape[0]), ("tails", tails, n_c),
                          ("negatives", negatives, n_c)])
    n = heads.shape[0]
    if n == 0:
        return BlockStats(0.0, 0)
    impl = _select_impl(device)
    loss = impl(vertex, context, heads, tails, lambda lo, hi: negatives[lo:hi],
                negatives.shape[1], negw, wd, lr0, lr1, batch_size)
    return BlockStats(float(loss), n)
