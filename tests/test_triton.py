"""The Triton kernels against the torch reference, their on-device negatives, and
the torch/Triton backends end to end.

Without a GPU the kernels run under Triton's interpreter (``TRITON_INTERPRET=1``,
set here before triton is imported) on CPU tensors; on a machine with CUDA the
same tests run compiled on the GPU (marked ``gpu``), with one more: a table of
more than 2**31 elements (64-bit row offsets).  The interpreter runs programs
one after another, so it cannot show races: with one sample per program
(``block=1``) the kernel is exactly the per-sample order of the reference, and
with wide programs it is tested for quality."""

from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the Triton kernels run on torch tensors")
CUDA = torch.cuda.is_available()
if not CUDA:   # before triton is imported: it reads the variable then
    os.environ.setdefault("TRITON_INTERPRET", "1")
pytest.importorskip("triton", reason="triton is not installed")

from vitegraph.errors import ParameterError  # noqa: E402
from vitegraph.kernels import skipgram_torch as ref  # noqa: E402
from vitegraph.kernels import skipgram_triton as tk  # noqa: E402
from vitegraph.sampling.alias import build_alias  # noqa: E402

pytestmark = pytest.mark.torch

DEVICES = [pytest.param("cuda", marks=pytest.mark.gpu)] if CUDA else []
if os.environ.get("TRITON_INTERPRET") == "1":
    DEVICES.append("cpu")
if not DEVICES:
    DEVICES = [pytest.param("cuda", marks=pytest.mark.skip(reason="no CUDA GPU and "
                                                               "TRITON_INTERPRET is not 1"))]

KW = dict(negative_weight=5.0, weight_decay=0.005, lr_start=0.05, lr_end=0.001)


def tables(seed, n_v, n_c, dim, device):
    rng = np.random.default_rng(seed)
    v = torch.from_numpy(rng.normal(0, 0.3, (n_v, dim)).astype(np.float32)).to(device)
    c = torch.from_numpy(rng.normal(0, 0.3, (n_c, dim)).astype(np.float32)).to(device)
    return v, c


def distinct_samples(seed, n_v, n_c, num, k, device):
    """Samples whose rows never repeat (so any order of the samples is the same)."""
    rng = np.random.default_rng(seed)
    h = rng.permutation(n_v)[:num].astype(np.int32)
    perm = rng.permutation(n_c)
    t = perm[:num].astype(np.int32)
    negs = perm[num:num * (k + 1)].reshape(num, k).astype(np.int64)
    return [torch.from_numpy(a).to(device) for a in (h, t, negs)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dim,k,atomic", [(16, 1, True), (20, 3, True), (7, 1, False),
                                          (128, 2, True), (130, 1, False)])
def test_parity_with_the_torch_reference(device, dim, k, atomic):
    n, num = 400, 90
    v, c = tables(dim + k, n, n, dim, device)
    h, t, negs = distinct_samples(dim, n, n, num, k, device)
    v2, c2 = v.clone(), c.clone()
    s1 = tk.train_block_with_negatives(v, c, h, t, negs, atomic=atomic, **KW)
    s2 = ref.train_block_with_negatives(v2, c2, h, t, negs, batch_size=1, **KW)
    torch.testing.assert_close(v, v2, atol=2e-6, rtol=1e-5)
    torch.testing.assert_close(c, c2, atol=2e-6, rtol=1e-5)
    assert s1.num_samples == num
    assert s1.loss == pytest.approx(s2.loss, rel=1e-5)
    assert not torch.equal(v, tables(dim + k, n, n, dim, device)[0]), "the kernel trains"


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("atomic", [True, False])
def test_one_sample_per_program_is_the_per_sample_order(device, atomic):
    """Repeated rows everywhere (negative = tail every 7th sample): with one
    sample per program the interpreter trains in the reference's order."""
    if device == "cuda":
        pytest.skip("compiled programs run concurrently: the order is not defined")
    rng = np.random.default_rng(5)
    v, c = tables(5, 30, 25, 16, device)
    h = torch.from_numpy(rng.integers(0, 30, 200).astype(np.int32))
    t = torch.from_numpy(rng.integers(0, 25, 200).astype(np.int32))
    negs = torch.from_numpy(rng.integers(0, 25, (200, 2)))
    negs[::7, 0] = t[::7].long()
    v2, c2 = v.clone(), c.clone()
    tk.train_block_with_negatives(v, c, h, t, negs, block=1, atomic=atomic, **KW)
    ref.train_block_with_negatives(v2, c2, h, t, negs, batch_size=1, **KW)
    torch.testing.assert_close(v, v2, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(c, c2, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
def test_device_negatives_follow_the_alias_table(device):
    from scipy import stats
    n = 200
    weights = np.arange(1, n + 1, dtype=np.float64) ** 0.75
    prob, alias = build_alias(weights)
    p, a = torch.from_numpy(prob).to(device), torch.from_numpy(alias).to(device)
    draws = tk.draw_negatives(p, a, 25_000, 2, seed=11).cpu().numpy()
    assert draws.shape == (25_000, 2) and draws.min() >= 0 and draws.max() < n
    counts = np.bincount(draws.ravel(), minlength=n)
    expected = weights / weights.sum() * draws.size
    assert stats.chisquare(counts, expected).pvalue > 1e-4
    again = tk.draw_negatives(p, a, 25_000, 2, seed=11).cpu().numpy()
    np.testing.assert_array_equal(draws, again)
    other = tk.draw_negatives(p, a, 25_000, 2, seed=12).cpu().numpy()
    assert (other != draws).mean() > 0.9
    high = tk.draw_negatives(p, a, 25_000, 2, seed=11 + (1 << 40)).cpu().numpy()
    assert (high != draws).mean() > 0.9, "the seed's high bits count"
    shifted = tk.draw_negatives(p, a, 100, 2, seed=11, offset=2 * 10).cpu().numpy()
    np.testing.assert_array_equal(shifted, draws[10:110])
    # one row (Triton passes an int argument equal to 1 as a constant)
    one = tk.draw_negatives(p[:1].clone().fill_(1.0), a[:1].clone().zero_(), 50, 1, seed=1)
    assert one.abs().sum().item() == 0


@pytest.mark.parametrize("device", DEVICES)
def test_in_kernel_negatives_are_the_drawn_ones(device):
    """Training with negatives drawn in the kernel gives bitwise the tables of
    training with :func:`draw_negatives`' numbers given."""
    n = 300
    prob, alias = build_alias(np.arange(1, n + 1, dtype=np.float64))
    p, a = torch.from_numpy(prob).to(device), torch.from_numpy(alias).to(device)
    v, c = tables(3, n, n, 24, device)
    h, t, _ = distinct_samples(3, n, n, 100, 1, device)
    v2, c2 = v.clone(), c.clone()
    s1 = tk.train_block(v, c, h, t, p, a, num_negative=2, seed=7, offset=0, **KW)
    negs = tk.draw_negatives(p, a, 100, 2, seed=7)
    s2 = tk.train_block_with_negatives(v2, c2, h, t, negs, **KW)
    if device == "cpu":
        assert torch.equal(v, v2) and torch.equal(c, c2)
    else:   # concurrent programs may collide on a negative row
        torch.testing.assert_close(v, v2, atol=1e-5, rtol=1e-4)
    assert s1.loss == pytest.approx(s2.loss, rel=1e-5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("n", [50, 1000])
def test_wide_programs_train_well_with_collisions(device, n):
    """Hogwild inside a program: 1024 samples at once over n rows.  With the
    deltas added atomically, colliding updates add up: over 1000 rows training
    reaches the loss of the per-sample order (the numba kernel on one thread),
    over 50 rows (20 samples per row at once) it stays within 2x of it; with
    plain stores most updates are lost."""
    from vitegraph.kernels import skipgram_numba
    rng = np.random.default_rng(9)
    num = 4096
    h_np = rng.integers(0, n, num).astype(np.int32)
    t_np = ((h_np + 1) % n).astype(np.int32)
    negs_np = rng.integers(0, n, (num, 1)).astype(np.int32)
    h, t = torch.from_numpy(h_np).to(device), torch.from_numpy(t_np).to(device)
    negs = torch.from_numpy(negs_np).to(device)
    v0, c0 = tables(9, n, n, 16, device)
    c0.zero_()
    losses = {}
    for name in ("atomic", "store", "sequential"):
        v, c = v0.clone(), c0.clone()
        vn, cn = v0.cpu().numpy().copy(), c0.cpu().numpy().copy()
        for _ in range(5):
            if name == "sequential":
                st = skipgram_numba.train_block_with_negatives(vn, cn, h_np, t_np, negs_np,
                                                               **KW)
            else:
                st = tk.train_block_with_negatives(v, c, h, t, negs, block=1024,
                                                   atomic=name == "atomic", **KW)
        losses[name] = st.loss / num
    if n >= 1000:
        assert losses["atomic"] == pytest.approx(losses["sequential"], rel=0.1), losses
    else:
        assert losses["atomic"] < 2 * losses["sequential"], losses
        assert losses["store"] > 3 * losses["atomic"], losses


@pytest.mark.parametrize("device", DEVICES)
def test_empty_blocks_and_bad_arguments(device):
    v, c = tables(1, 10, 10, 8, device)
    empty = torch.zeros(0, dtype=torch.int32, device=device)
    prob, alias = build_alias(np.ones(10))
    p, a = torch.from_numpy(prob).to(device), torch.from_numpy(alias).to(device)
    before = v.clone()
    st = tk.train_block(v, c, empty, empty, p, a, num_negative=1, seed=0, **KW)
    assert (st.loss, st.num_samples) == (0.0, 0) and torch.equal(v, before)
    h = torch.zeros(4, dtype=torch.int32, device=device)
    with pytest.raises(ParameterError, match="'vertex'"):
        tk.train_block(v.double(), c, h, h, p, a, num_negative=1, seed=0, **KW)
    with pytest.raises(ParameterError, match="contiguous rows"):
        tk.train_block(v.t().contiguous().t(), c, h, h, p, a, num_negative=1, seed=0, **KW)
    with pytest.raises(ParameterError, match="'tails'"):
        tk.train_block(v, c, h, h + 10, p, a, num_negative=1, seed=0, **KW)
    with pytest.raises(ParameterError, match="'neg_prob'"):
        tk.train_block(v, c, h, h, p[:5], a, num_negative=1, seed=0, **KW)


def test_availability_says_why():
    ok, why = tk.available("cpu")
    if os.environ.get("TRITON_INTERPRET") == "1":
        assert ok
    else:
        assert not ok and "TRITON_INTERPRET" in why
    assert tk.block_size(128)[1] == 128 and tk.block_size(100)[1] == 128
    assert tk.block_size(7)[1] == 16


@pytest.mark.gpu
@pytest.mark.skipif(not CUDA, reason="no CUDA GPU is visible")
def test_tables_of_more_than_2_31_elements():
    """64-bit row offsets: rows past element 2**31 train as the reference does."""
    dim = 128
    rows = (1 << 31) // dim + 4096          # 2**31 + 2**19 elements, 8.6 GB
    free, _ = torch.cuda.mem_get_info()
    if free < 2.5 * rows * dim * 4:
        pytest.skip("not enough free GPU memory for two tables of 2**31 elements")
    v = torch.empty(rows, dim, device="cuda").uniform_(-0.5, 0.5)
    c = torch.zeros(rows, dim, device="cuda")
    num = 256
    h = torch.arange(rows - num, rows, device="cuda", dtype=torch.int32)
    t = torch.arange(rows - 2 * num, rows - num, device="cuda", dtype=torch.int32)
    negs = torch.arange(rows - 3 * num, rows - 2 * num, device="cuda").view(num, 1)
    c[rows - 3 * num:] = 0.1
    small_v = v[rows - num:].clone()
    small_c = c[rows - 3 * num:].clone()
    tk.train_block_with_negatives(v, c, h, t, negs, **KW)
    # the same samples on small tables (rows renumbered from rows - 3 * num)
    base = rows - 3 * num
    sv = torch.zeros(3 * num, dim, device="cuda")
    sv[2 * num:] = small_v
    ref.train_block_with_negatives(sv, small_c, (h - base).int(), (t - base).int(),
                                   negs - base, batch_size=1, **KW)
    torch.testing.assert_close(v[rows - num:], sv[2 * num:], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(c[base:], small_c, atol=1e-5, rtol=1e-4)


# ---------------------------------------------------------------- the backend end to end

@pytest.fixture(scope="module")
def planted():
    from vitegraph.datasets import planted_partition
    return planted_partition(400, 4, 8, 2, seed=3)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") != "1" and not CUDA,
                    reason="no CUDA GPU and TRITON_INTERPRET is not 1")
def test_deepwalk_with_the_triton_backend_learns_the_communities(planted):
    import vitegraph as vg
    from vitegraph.apps import node_classification
    g, labels = planted
    device = "cuda" if CUDA else "cpu"
    m = vg.DeepWalk(dim=16, num_epoch=300, progress=False, seed=1, backend="triton",
                    device=device).fit(g)
    assert m.config_.backend == "triton"
    r = node_classification(m.embeddings_.vectors, labels.matrix, train_ratios=(0.5,),
                            repeats=2, seed=0)
    assert r.scores[0].micro_f1 >= 90.0   # numba's threshold in test_solver
    losses = m.stats_.loss_history
    assert losses[-1] < losses[0]


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") != "1",
                    reason="stand-in CPU devices need TRITON_INTERPRET=1")
def test_triton_on_two_devices_trains_what_one_trains(planted):
    """Under the interpreter programs run in order, so two stand-in devices
    must give bitwise the tables of one (per-task Philox seeds)."""
    from vitegraph.solver import train
    import vitegraph as vg
    g, _ = planted
    kw = dict(dim=8, num_epoch=20, progress=False, episode_size=3000, seed=4,
              backend="triton", num_partitions=2, num_sampler_threads=2)
    one = train(g, vg.TrainConfig(device="cpu", **kw))
    two = train(g, vg.TrainConfig(device="cpu,cpu", **kw))
    for name in one.tables:
        np.testing.assert_array_equal(one.tables[name], two.tables[name])
    assert two.stats.partition_transfers > 0
