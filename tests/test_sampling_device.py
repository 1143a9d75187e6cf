"""Random walks on the training device (torch; CPU tensors here, CUDA in the
device check): the walks and pairs of the host sampler, exactly a pool's
capacity, and DeepWalk trained from them."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch", reason="device sampling runs on torch")

import vitegraph as vg  # noqa: E402
from vitegraph.errors import ParameterError  # noqa: E402
from vitegraph.sampling import WalkSampler  # noqa: E402
from vitegraph.sampling.device_walks import DevicePool, DeviceWalkSampler  # noqa: E402

pytestmark = pytest.mark.torch
DEVICES = ["cpu"] + ([pytest.param("cuda", marks=pytest.mark.gpu)]
                     if torch.cuda.is_available() else [])


def ring_with_chords(n=60, seed=0):
    rng = np.random.default_rng(seed)
    src = np.arange(n)
    dst = (src + 1) % n
    extra = rng.integers(0, n, (n, 2))
    e = np.vstack([np.c_[src, dst], extra[extra[:, 0] != extra[:, 1]]])
    a = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n)).tocsr()
    a = ((a + a.T) > 0).astype(np.float64).tocsr()
    a.sort_indices()
    return a


@pytest.mark.parametrize("device", DEVICES)
def test_walks_follow_edges_and_pairs_are_forward_within_s(device):
    a = ring_with_chords()
    s = DeviceWalkSampler(a.indptr, a.indices, walk_length=10, augmentation_step=3,
                          device=device, seed=1)
    w = s.walks(500).cpu().numpy()
    assert w.shape == (500, 11) and (w >= 0).all()
    dense = a.toarray() > 0
    assert dense[w[:, :-1], w[:, 1:]].all(), "every step is an edge"
    pool = s.fill(DevicePool(5000, device))
    assert pool.size == 5000 and pool.block_sizes().tolist() == [[5000]]
    h, t = (x.cpu().numpy() for x in pool.block(0, 0))
    # every pair is at walk distance 1..3: reachable in at most 3 steps
    reach = dense.astype(np.int64)
    within = reach.copy()
    for _ in range(2):
        reach = (reach @ dense) > 0
        within = within | reach
    assert within[h, t].all()
    assert s.pairs_per_walk == 3 * 11 - 6


@pytest.mark.parametrize("device", DEVICES)
def test_pairs_have_the_host_samplers_distribution(device):
    """Head and (head, tail) frequencies of the device sampler match those of
    the host WalkSampler (same walks, different random streams)."""
    a = ring_with_chords(40, seed=2)
    kw = dict(walk_length=8, augmentation_step=2)
    host = WalkSampler(a.indptr, a.indices, shuffle_base=1, p=1.0, q=1.0, seed=3, **kw)
    hh, ht = host.sample(200_000)
    dev = DeviceWalkSampler(a.indptr, a.indices, device=device, seed=3, **kw)
    pool = dev.fill(DevicePool(200_000, device))
    dh, dt = (x.cpu().numpy() for x in pool.block(0, 0))
    n = a.shape[0]
    fh = np.bincount(hh, minlength=n) / hh.size
    fd = np.bincount(dh, minlength=n) / dh.size
    assert 0.5 * np.abs(fh - fd).sum() < 0.02
    ph = np.bincount(hh * n + ht, minlength=n * n) / hh.size
    pd = np.bincount(dh * n + dt, minlength=n * n) / dh.size
    assert 0.5 * np.abs(ph - pd).sum() < 0.05
    # different walks in consecutive slots: the step-major layout
    assert (dh[1:] != dh[:-1]).mean() > 0.8


@pytest.mark.parametrize("device", DEVICES)
def test_weighted_steps_and_dead_ends(device):
    # 0 -> 1 (weight 1), 0 -> 2 (weight 3); 1 and 2 lead back to 0; 3 -> 4 is a dead end
    rows = np.array([0, 0, 1, 2, 3])
    cols = np.array([1, 2, 0, 0, 4])
    w = np.array([1.0, 3.0, 1.0, 1.0, 1.0])
    a = sp.csr_matrix((w, (rows, cols)), shape=(5, 5))
    s = DeviceWalkSampler(a.indptr, a.indices, a.data, walk_length=6, augmentation_step=2,
                          device=device, seed=0)
    walks = s.walks(20_000).cpu().numpy()
    from_zero = walks[:, 1][walks[:, 0] == 0]
    assert abs((from_zero == 2).mean() - 0.75) < 0.02
    dead = walks[walks[:, 0] == 3]
    assert len(dead) and (dead[:, 1] == 4).all() and (dead[:, 2:] == -1).all()
    pool = s.fill(DevicePool(30_000, device))
    h, t = (x.cpu().numpy() for x in pool.block(0, 0))
    assert h.min() >= 0 and t.min() >= 0 and pool.size == 30_000


def test_bad_arguments():
    a = ring_with_chords(10)
    with pytest.raises(ParameterError, match="'augmentation_step'"):
        DeviceWalkSampler(a.indptr, a.indices, walk_length=3, augmentation_step=5,
                          device="cpu")


@pytest.fixture(scope="module")
def planted():
    from vitegraph.datasets import planted_partition
    return planted_partition(400, 4, 8, 2, seed=3)


@pytest.mark.slow
def test_deepwalk_from_device_walks_learns_the_communities(planted):
    from vitegraph.apps import node_classification
    g, labels = planted
    m = vg.DeepWalk(dim=16, num_epoch=300, progress=False, seed=1, backend="torch",
                    device="cpu", sampler="device", batch_size=1024).fit(g)
    assert m.config_.sampler == "device"
    r = node_classification(m.embeddings_.vectors, labels.matrix, train_ratios=(0.5,),
                            repeats=2, seed=0)
    assert r.scores[0].micro_f1 >= 90.0


def test_sampler_choice(planted, caplog):
    import logging
    from vitegraph.config import resolve
    from vitegraph.models import get_model
    g, _ = planted
    info = get_model("deepwalk").describe(g)

    def res(**kw):
        return resolve(vg.TrainConfig(**kw), info)

    with caplog.at_level(logging.INFO, logger="vitegraph"):
        assert res(backend="torch", device="cpu").sampler == "host"
    assert "sampling on the host (the device is not a GPU)" in caplog.text
    assert res(backend="numba").sampler == "host"
    assert res(backend="torch", device="cpu", sampler="device").sampler == "device"
    for kw, why in [(dict(backend="numba"), "training runs on the CPU"),
                    (dict(backend="torch", device="cpu", num_partitions=2),
                     "num_partitions is 2"),
                    (dict(backend="torch", device="cpu,cpu"), "2 devices"),
                    (dict(model="node2vec", p=2.0, backend="torch", device="cpu"),
                     "second-order")]:
        with pytest.raises(ParameterError, match=why):
            res(sampler="device", **kw)
