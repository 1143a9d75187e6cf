"""WalkSampler and sample pools: edge sampling, augmentation, pseudo-shuffle,
routing into blocks, determinism, GIL release."""

import threading
import time

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats

from vitegraph.errors import ParameterError
from vitegraph.partition import partition_nodes
from vitegraph.sampling import SamplePool, WalkSampler, bytes_per_sample

# the training defaults live in the model config sections; here they are the test's
WALK = dict(walk_length=40, augmentation_step=None, shuffle_base=1, p=1.0, q=1.0)


def make_sampler(*args, **kw):
    return WalkSampler(*args, **{**WALK, **kw})


def chi2_p(counts, law):
    counts = np.asarray(counts, dtype=float)
    law = np.asarray(law, dtype=float)
    return stats.chisquare(counts, law / law.sum() * counts.sum()).pvalue


def random_graph(n, m, seed, weighted=False, symmetric=True, self_loops=False):
    rng = np.random.default_rng(seed)
    u = rng.integers(0, n, m)
    v = rng.integers(0, n, m)
    keep = u != v if not self_loops else np.ones(m, bool)
    u, v = u[keep], v[keep]
    if symmetric:
        u, v = np.concatenate([u, v]), np.concatenate([v, u])
    a = sp.csr_matrix((np.ones(u.size), (u, v)), shape=(n, n))
    a.sum_duplicates()
    a.sort_indices()
    w = None
    if weighted:
        w = (rng.random(a.nnz) * 4 + 0.25).astype(np.float32)
        if symmetric:  # symmetric weights
            b = sp.csr_matrix((w, a.indices, a.indptr), shape=(n, n))
            b = sp.triu(b, 1)
            b = (b + b.T).tocsr()
            b.sort_indices()
            w = b.data.astype(np.float32)
    return a.indptr.astype(np.int64), a.indices.astype(np.int32), w


def parse_walks(heads, tails, s, walk_length):
    """Rebuild walks from the pair stream of a one-lane sampler with B = 1.

    The node c_m of a walk brings the group (c_{m-1}, c_m), (c_{m-2}, c_m), ...,
    (c_{m-min(s,m)}, c_m).  Returns the list of walks; raises AssertionError if
    the stream is not exactly such groups.
    """
    walks, cur = [], []
    i, n = 0, heads.size
    while i < n:
        h, t = int(heads[i]), int(tails[i])
        m = len(cur)
        if cur and m <= walk_length and h == cur[-1]:
            g = min(s, m)
            cand = [cur[m - j] for j in range(1, g + 1)]
            got = [int(x) for x in heads[i:i + g]]
            if got == cand[:len(got)] and np.all(tails[i:i + g] == t):
                cur.append(t)
                i += g
                continue
        if cur:
            walks.append(cur)
        cur = [h, t]
        i += 1
    walks.append(cur)
    return walks


@pytest.mark.parametrize("weighted", [False, True])
def test_edge_sampling_proportional_to_weight(weighted):
    indptr, indices, w = random_graph(30, 120, seed=1, weighted=weighted, symmetric=False)
    sampler = make_sampler(indptr, indices, w, walk_length=1, augmentation_step=1, seed=4,
                          num_threads=2)
    n = 400_000
    heads, tails = sampler.sample(n)
    rows = np.repeat(np.arange(30), np.diff(indptr))
    a = sp.csr_matrix((np.arange(indices.size) + 1, indices, indptr), shape=(30, 30))
    edge_id = np.asarray(a[heads, tails]).ravel() - 1
    assert np.all(edge_id >= 0)  # every pair is a stored edge
    assert np.all(rows[edge_id] == heads)
    counts = np.bincount(edge_id, minlength=indices.size)
    law = np.ones(indices.size) if w is None else w
    assert chi2_p(counts, law) > 1e-3


def test_walk_pairs_are_edges_stationary_law():
    # on an undirected graph a walk started from an edge drawn by weight stays in
    # the edge-stationary law: (c_j, c_{j+1}) pairs are still edges by weight
    indptr, indices, w = random_graph(20, 60, seed=2, weighted=True)
    sampler = make_sampler(indptr, indices, w, walk_length=40, augmentation_step=1, seed=5)
    heads, tails = sampler.sample(300_000)
    a = sp.csr_matrix((np.arange(indices.size) + 1, indices, indptr), shape=(20, 20))
    edge_id = np.asarray(a[heads, tails]).ravel() - 1
    assert np.all(edge_id >= 0)
    # neighbouring pairs come from one walk (correlated): loose test on frequencies
    freq = np.bincount(edge_id, minlength=indices.size) / edge_id.size
    np.testing.assert_allclose(freq, w / w.sum(), atol=0.004)


@pytest.mark.parametrize("s,p,q,weighted", [(1, 1, 1, False), (2, 1, 1, False),
                                            (5, 1, 1, True), (3, 4, 2, False),
                                            (4, 0.5, 2, True)])
def test_pairs_are_forward_pairs_of_real_walks(s, p, q, weighted):
    indptr, indices, w = random_graph(40, 100, seed=3, weighted=weighted)
    L = 9
    sampler = make_sampler(indptr, indices, w, walk_length=L, augmentation_step=s, p=p, q=q,
                          seed=6)
    sampler.num_lanes = 1  # pairs of one walk after another
    heads, tails = sampler.sample(50_000)
    adj = sp.csr_matrix((np.ones(indices.size), indices, indptr), shape=(40, 40)).toarray() > 0
    walks = parse_walks(heads, tails, s, L)
    # complete groups, except that the stream may end inside the last group
    total = sum(min(s, m) for wk in walks for m in range(1, len(wk)))
    assert 0 <= total - heads.size < s
    for wk in walks[:-1]:
        assert len(wk) == L + 1 or not adj[wk[-1]].any()  # full length or dead end
    for wk in walks:
        wk = np.array(wk)
        assert len(wk) <= L + 1
        assert adj[wk[:-1], wk[1:]].all()  # a real walk


@pytest.mark.parametrize("s,p,q", [(3, 1, 1), (2, 4, 2)])
def test_many_lanes_pairs_within_s_steps(s, p, q):
    n = 50
    indptr, indices, _ = random_graph(n, 90, seed=8)
    sampler = make_sampler(indptr, indices, walk_length=12, augmentation_step=s, p=p, q=q,
                          seed=2, num_threads=2)
    heads, tails = sampler.sample(100_000)
    a = sp.csr_matrix((np.ones(indices.size), indices, indptr), shape=(n, n))
    reach = a.copy()
    power = a.copy()
    for _ in range(s - 1):
        power = power @ a
        reach = reach + power
    reach = reach.toarray() > 0
    assert reach[heads, tails].all()
    # every distance 1..s occurs: some pairs are non-edges when s > 1
    assert (a.toarray()[heads, tails] > 0).mean() < 1.0


def test_dead_ends_stop_walks_early():
    # directed: 0 -> 1 -> 2 -> 3 (3 has no out-edge), 4 -> 0
    indptr = np.array([0, 1, 2, 3, 3, 4], dtype=np.int64)
    indices = np.array([1, 2, 3, 0], dtype=np.int32)
    sampler = make_sampler(indptr, indices, walk_length=40, augmentation_step=2, seed=1)
    sampler.num_lanes = 1
    heads, tails = sampler.sample(10_000)
    for wk in parse_walks(heads, tails, 2, 40)[:-1]:
        assert wk[-1] == 3 and len(wk) <= 5


@pytest.mark.parametrize("B,N,T", [(3, 1000, 1), (7, 1003, 2), (2, 999, 3), (5, 4, 1),
                                   (64, 50, 1)])
def test_pseudo_shuffle_is_the_documented_permutation(B, N, T):
    indptr, indices, _ = random_graph(30, 80, seed=4)
    plain = make_sampler(indptr, indices, augmentation_step=2, shuffle_base=1, seed=9,
                        num_threads=T)
    shuffled = make_sampler(indptr, indices, augmentation_step=2, shuffle_base=B, seed=9,
                           num_threads=T)
    h0, t0 = plain.sample(N)
    h1, t1 = shuffled.sample(N)
    for c in range(T):
        lo, hi = N * c // T, N * (c + 1) // T
        n = hi - lo
        b = min(B, n)
        k = np.arange(n)
        col = k % b
        start = col * (n // b) + np.minimum(col, n % b)
        pos = lo + start + k // b
        assert np.array_equal(np.sort(pos), np.arange(lo, hi))  # a permutation
        np.testing.assert_array_equal(h1[pos], h0[lo:hi])
        np.testing.assert_array_equal(t1[pos], t0[lo:hi])


def test_determinism_and_reseed():
    indptr, indices, w = random_graph(60, 200, seed=5, weighted=True)
    for T in (1, 2):
        a = make_sampler(indptr, indices, w, seed=3, num_threads=T, p=2, q=0.5).sample(20_000)
        b = make_sampler(indptr, indices, w, seed=3, num_threads=T, p=2, q=0.5).sample(20_000)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    c = make_sampler(indptr, indices, w, seed=4).sample(20_000)
    assert not np.array_equal(a[0], c[0])
    s = make_sampler(indptr, indices, w, seed=3)
    first = s.sample(5000)[0].copy()
    second = s.sample(5000)[0]
    assert not np.array_equal(first, second)  # streams continue
    s.reseed(3)
    np.testing.assert_array_equal(s.sample(5000)[0], first)


@pytest.mark.parametrize("P,T,B", [(4, 1, 1), (3, 2, 1), (4, 3, 5), (2, 2, 2)])
def test_routing_blocks_and_local_indices(P, T, B):
    n = 80
    indptr, indices, w = random_graph(n, 300, seed=6, weighted=True)
    degree = np.diff(indptr)
    part = partition_nodes(degree, P)
    kw = dict(walk_length=10, augmentation_step=3, shuffle_base=B, seed=12, num_threads=T)
    pool = make_sampler(indptr, indices, w, **kw).fill(SamplePool(30_001, part))
    flat = make_sampler(indptr, indices, w, **kw).fill(SamplePool(30_001))
    assert pool.size == 30_001 and pool.block_sizes().sum() == 30_001
    gh, gt = flat.heads, flat.tails
    blk = part.part_of[gh] * P + part.part_of[gt]
    sizes = part.sizes()
    for i in range(P):
        for j in range(P):
            h, t = pool.block(i, j)
            assert h.dtype == np.int32
            assert np.all((h >= 0) & (h < sizes[i])) and np.all((t >= 0) & (t < sizes[j]))
            # the same pairs as the unrouted pool, in the same (stable) order
            sel = blk == i * P + j
            np.testing.assert_array_equal(part.to_global(i, h), gh[sel])
            np.testing.assert_array_equal(part.to_global(j, t), gt[sel])
            assert np.all(part.part_of[part.to_global(i, h)] == i)


def test_pool_budget_and_errors():
    assert bytes_per_sample(2, 1, 2) == 16
    assert bytes_per_sample(2, 4, 2) == 16 + 9
    assert bytes_per_sample(2, 20, 2) == 16 + 10
    assert bytes_per_sample(3, 1, 2) == 24
    indptr, indices, _ = random_graph(20, 40, seed=7)
    part = partition_nodes(np.diff(indptr), 2)
    pools = [SamplePool(400, part) for _ in range(2)]
    assert pools[0].heads is not pools[1].heads
    with pytest.raises(ParameterError):
        SamplePool(0)
    with pytest.raises(ParameterError):
        SamplePool(10, columns=("head",))
    with pytest.raises(IndexError):
        pools[0].block(2, 0)
    sampler = make_sampler(indptr, indices)
    other = partition_nodes(np.ones(21), 2)
    with pytest.raises(ParameterError):
        sampler.fill(SamplePool(10, other))
    with pytest.raises(ParameterError):
        make_sampler(indptr, indices, augmentation_step=41)
    with pytest.raises(ParameterError):
        make_sampler(indptr, indices, q=-1)
    with pytest.raises(ParameterError):
        make_sampler(np.zeros(5, np.int64), np.zeros(0, np.int32))


def test_default_step_uses_input_edge_count():
    indptr, indices, _ = random_graph(100, 2000, seed=9)
    s = make_sampler(indptr, indices, num_edges=indices.size // 2)
    assert s.augmentation_step_ == int(np.floor(np.log(1600) / np.log(indices.size / 2 / 100)))


def test_fill_releases_the_gil():
    indptr, indices, _ = random_graph(2000, 20_000, seed=10)
    sampler = make_sampler(indptr, indices, augmentation_step=2, seed=1, num_threads=2)
    pool = SamplePool(200_000)
    sampler.fill(pool)  # compile outside the timed part
    big = SamplePool(4_000_000)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (sampler.fill(big), done.set()))
    spins = 0
    thread.start()
    t0 = time.perf_counter()
    while not done.is_set():
        spins += 1
    thread.join()
    elapsed = time.perf_counter() - t0
    sampler.close()
    # with the GIL held the main thread would barely run
    assert spins > 1000 and elapsed > 0
    assert big.size == 4_000_000


def test_route_generic_columns():
    """SamplePool.route: a stable counting sort of K columns into blocks, the
    routed columns in local indices, the others carried unchanged."""
    rng = np.random.default_rng(0)
    part = partition_nodes(rng.integers(1, 10, 50), 3)
    samples = np.stack([rng.integers(0, 50, 1000), rng.integers(0, 7, 1000),
                        rng.integers(0, 50, 1000)])
    # columns: head, tail (routed), relation (carried)
    pool = SamplePool(1000, part, ("head", "tail", "relation"))
    pool.route(samples[[0, 2, 1]])
    assert pool.block_sizes().sum() == 1000
    blk = part.part_of[samples[0]] * 3 + part.part_of[samples[2]]
    for i in range(3):
        for j in range(3):
            h, t, r = pool.block(i, j)
            sel = blk == i * 3 + j
            np.testing.assert_array_equal(part.to_global(i, h), samples[0][sel])
            np.testing.assert_array_equal(part.to_global(j, t), samples[2][sel])
            np.testing.assert_array_equal(r, samples[1][sel])
    np.testing.assert_array_equal(pool.column("relation").size, 1000)
    flat = SamplePool(1000, None, ("head", "tail", "relation")).route(samples)
    np.testing.assert_array_equal(flat.data, samples)
    with pytest.raises(ParameterError):
        pool.route(samples[:, :10])
    bad = samples.copy()
    bad[0, 3] = 50
    with pytest.raises(ParameterError, match="out of range"):
        pool.route(bad)
