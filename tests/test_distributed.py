"""Training on several processes (gloo on localhost): bitwise the serial run."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest


pytestmark = [pytest.mark.torch, pytest.mark.slow]
WORKER = Path(__file__).with_name("dist_worker.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(tmp_path, options_per_rank):
    """Start one worker per entry of ``options_per_rank`` as the ranks of one
    run (the environment torchrun would give them); returns [(output, Popen)]."""
    port = free_port()
    world = len(options_per_rank)
    procs = []
    for rank, options in enumerate(options_per_rank):
        env = dict(os.environ, RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                   MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), NUMBA_NUM_THREADS="1",
                   OMP_NUM_THREADS="1")
        out = tmp_path / f"rank{rank}.npz"
        procs.append((out, subprocess.Popen(
            [sys.executable, str(WORKER), str(out), json.dumps(options)], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    return procs


def launch(world, tmp_path, options, timeout=240):
    """Run ``world`` ranks; returns [(returncode, stderr, result or None)]."""
    results = []
    deadline = time.monotonic() + timeout
    for out, p in spawn(tmp_path, [options] * world):
        try:
            _, err = p.communicate(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        res = None
        if p.returncode == 0:
            z = np.load(out)
            res = {k: z[k] for k in z.files if k != "stats"}
            res["table_names"] = [k for k in z.files if k != "stats"]
            res.update(json.loads(str(z["stats"])))
        results.append((p.returncode, err, res))
    return results


def rank0(runs):
    """Rank 0's result; the other ranks' results hold no tables."""
    for _, _, res in runs[1:]:
        assert res["table_names"] == []
    return runs[0][2]


BASE = dict(dim=16, num_epoch=40, num_workers=1, threads_per_block=1, num_sampler_threads=4,
            seed=3)


def reference(tmp_path, options):
    """The serial run of ``options`` in a process of its own, after a first one
    that compiles and caches the numba kernels: every process compared then runs
    the same cached machine code (code numba compiles in a process and the code
    it loads from its cache can round differently under fastmath, measured)."""
    folder = tmp_path / "reference"
    folder.mkdir(exist_ok=True)
    for _ in range(2):
        (rc, err, res), = launch(1, folder, options)
        assert rc == 0, err[-3000:]
    return res


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serial")
    return {P: reference(tmp, dict(BASE, num_partitions=P)) for P in (2, 4)}


@pytest.mark.parametrize("world,P,sampling,overlap", [
    (2, 2, "share", True), (2, 4, "share", True), (4, 4, "share", True),
    (2, 4, "all", True), (2, 4, "share", False)])
def test_ranks_give_bitwise_the_serial_tables(world, P, sampling, overlap, tmp_path, serial):
    opts = dict(BASE, num_partitions=P, dist_sampling=sampling, dist_overlap=overlap)
    runs = launch(world, tmp_path, opts)
    for rc, err, _ in runs:
        assert rc == 0, err[-3000:]
    ref = serial[P]
    res = rank0(runs)                         # the result is on rank 0 only
    np.testing.assert_array_equal(res["vertex"], ref["vertex"])
    np.testing.assert_array_equal(res["context"], ref["context"])
    assert res["samples"] == ref["samples"]
    # the transfers are those the placement plan predicts, and every byte sent
    # was received
    from vitegraph.partition.placement import column_owner, placement_plan
    from vitegraph.partition.schedule import orthogonal_rounds
    res = runs[0][2]
    plan = placement_plan(orthogonal_rounds(P, P), world, owner=column_owner(world),
                          passes=res["episodes"] * res["passes"])
    assert res["transfers"] == plan.count()
    rows = ref["vertex"].shape[0] / P
    received = sum(r["received"] for _, _, r in runs)
    assert received == sum(r["sent"] for _, _, r in runs)
    assert received == pytest.approx(plan.count() * rows * 16 * 4, rel=0.05)
    sent_pairs = sum(r["pairs_sent"] for _, _, r in runs)
    assert sent_pairs == sum(r["pairs_received"] for _, _, r in runs)
    # with two blocks per rank and round, a partition whose last block here
    # comes first leaves while the second trains
    overlapped = sum(r["sends_overlapped"] for _, _, r in runs)
    assert (overlapped > 0) == (overlap and P > world), overlapped
    if sampling == "share":
        # about (W - 1) / W of the pairs leave the rank that walked them
        total = res["samples"]
        assert sent_pairs == pytest.approx(total * (world - 1) / world, rel=0.1)
    else:
        assert sent_pairs == 0


def test_a_killed_rank_stops_the_others_with_a_clear_error(tmp_path):
    t0 = time.monotonic()
    runs = launch(2, tmp_path, dict(BASE, num_partitions=2, die_at_episode=3,
                                    dist_timeout=20))
    assert runs[1][0] == 3                     # the killed rank
    rc, err, _ = runs[0]
    assert rc != 0 and "DistributedError" in err and "another rank stopped" in err, err[-2000:]
    assert time.monotonic() - t0 < 120


def test_tables_gone_bad_on_one_rank_stop_every_rank(tmp_path):
    # each rank checks the partitions it holds; all raise together (none is
    # left waiting in a collective until the timeout)
    t0 = time.monotonic()
    runs = launch(2, tmp_path, dict(BASE, num_partitions=2, poison_at_episode=2,
                                    dist_timeout=300))
    errs = [err for _, err, _ in runs]
    assert all(rc != 0 for rc, _, _ in runs)
    assert "DivergenceError" in errs[1] and "not finite" in errs[1], errs[1][-2000:]
    assert "another process's tables are not finite" in errs[0], errs[0][-2000:]
    assert time.monotonic() - t0 < 120


def test_a_hung_rank_stops_the_others_within_the_timeout(tmp_path):
    t0 = time.monotonic()
    opts = dict(BASE, num_partitions=2, hang_at_episode=2, dist_timeout=5)
    procs = [p for _, p in spawn(tmp_path, [opts, opts])]
    try:
        err = procs[0].communicate(timeout=90)[1]
        waited = time.monotonic() - t0
    finally:
        procs[1].kill()
        procs[1].communicate()
    assert procs[0].returncode != 0
    assert "DistributedError" in err and "within 5 s" in err, err[-2000:]
    assert waited < 60


def test_resume_with_the_same_world_size(tmp_path, serial):
    ck = str(tmp_path / "ck.npz")
    opts = dict(BASE, num_partitions=2, checkpoint=ck, checkpoint_every=0)
    first = launch(2, tmp_path, dict(opts, die_at_episode=2, dist_timeout=20))
    assert first[1][0] == 3 and first[0][0] != 0
    from vitegraph.solver.checkpoint import checkpoint_summary
    assert "(2 episodes, 50% done, in 2 shards)" in checkpoint_summary(ck)
    # each rank wrote the partitions it held beside the manifest; the shards of
    # the checkpoints before were removed once the next one was in place
    shards = sorted(tmp_path.glob("ck.npz.shard-*"))
    assert [p.name[-18:] for p in shards] == ["00000-of-00002.npz", "00001-of-00002.npz"]
    runs = launch(2, tmp_path, dict(opts, resume=True))
    for rc, err, _ in runs:
        assert rc == 0, err[-3000:]
    res = rank0(runs)                         # the result is on rank 0 only
    np.testing.assert_array_equal(res["vertex"], serial[2]["vertex"])
    np.testing.assert_array_equal(res["context"], serial[2]["context"])
    assert res["episodes"] == 2            # the two after the checkpoint


def test_ranks_agree_on_when_to_checkpoint(tmp_path, serial):
    # a checkpoint is a collective: a rank whose clock says "due" must not
    # enter it alone (here rank 1 is always due and rank 0 never)
    ck = tmp_path / "ck.npz"
    opts = dict(BASE, num_partitions=2, checkpoint=str(ck), dist_timeout=30)
    t0 = time.monotonic()
    runs = []
    for out, p in spawn(tmp_path, [dict(opts, checkpoint_every=1e9),
                                   dict(opts, checkpoint_every=0)]):
        err = p.communicate(timeout=200)[1]
        assert p.returncode == 0, err[-3000:]
        runs.append(np.load(out))
    assert time.monotonic() - t0 < 150
    np.testing.assert_array_equal(runs[0]["vertex"], serial[2]["vertex"])
    from vitegraph.solver.checkpoint import load_checkpoint
    assert load_checkpoint(ck).episode == 3      # saved after every episode but the last


def test_a_distributed_checkpoint_resumes_in_one_process(tmp_path, serial):
    # the schedule is the serial one, so the world size may even change
    ck = str(tmp_path / "ck.npz")
    opts = dict(BASE, num_partitions=2, checkpoint=ck, checkpoint_every=0)
    first = launch(2, tmp_path, dict(opts, die_at_episode=2, dist_timeout=20))
    assert first[1][0] == 3
    shards = sorted(tmp_path.glob("ck.npz.shard-*"))
    assert len(shards) == 2
    # a shard that is not there is named
    hidden = shards[1].with_name("elsewhere.npz")
    shards[1].rename(hidden)
    (rc, err, _), = launch(1, tmp_path, dict(opts, resume=True))
    assert rc != 0 and "CheckpointError" in err and shards[1].name in err \
        and "is missing" in err, err[-2000:]
    hidden.rename(shards[1])
    (rc, err, r), = launch(1, tmp_path, dict(opts, resume=True))
    assert rc == 0, err[-3000:]
    np.testing.assert_array_equal(r["vertex"], serial[2]["vertex"])
    # one process writes its checkpoints whole, and removes the shards it replaced
    assert not list(tmp_path.glob("ck.npz.shard-*"))


def test_config_mismatch_between_ranks_is_refused(tmp_path):
    procs = [p for _, p in spawn(tmp_path, [dict(BASE, dim=dim, num_partitions=2)
                                            for dim in (16, 8)])]
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode != 0 for p in procs)
    assert any("the ranks disagree on config" in e for e in errs), errs[0][-2000:]


def test_nccl_without_cuda_is_refused(tmp_path):
    runs = launch(2, tmp_path, dict(BASE, num_partitions=2, dist_backend="nccl"), timeout=120)
    for rc, err, _ in runs:
        assert rc != 0 and "dist_backend" in err and "CUDA" in err, err[-2000:]


def test_ctrl_c_on_every_rank_saves_a_checkpoint_that_resumes(tmp_path, serial):
    import signal
    ck = str(tmp_path / "ck.npz")
    opts = dict(BASE, num_partitions=2, num_epoch=4000, checkpoint=ck)
    procs = [p for _, p in spawn(tmp_path, [opts, opts])]
    time.sleep(12)                       # past start-up, into training
    for p in procs:
        p.send_signal(signal.SIGINT)     # as torchrun forwards Ctrl-C
    errs = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode != 0 for p in procs)
    assert all("KeyboardInterrupt" in e for e in errs), errs[0][-2000:]
    assert os.path.exists(ck)
    # resumed in one process, against one process straight through (both in
    # processes of their own, running the cached kernels the ranks ran)
    (rc, err, resumed), = launch(1, tmp_path, dict(opts, resume=True))
    assert rc == 0, err[-3000:]
    opts.pop("checkpoint")
    straight = reference(tmp_path, opts)
    np.testing.assert_array_equal(resumed["vertex"], straight["vertex"])


@pytest.mark.parametrize("model,options", [
    ("line", dict(order=1)),
    ("transe", dict(num_epoch=20, num_negative=4, episode_size=2000)),
])
def test_tables_seen_from_both_sides_and_global_tables(model, options, tmp_path):
    # a table seen from both sides (first-order LINE's, the entities) moves both
    # partitions of a block; global tables (relations) are reduced from every
    # rank's lane copies in lane order: still bitwise the serial run
    opts = dict(BASE, num_partitions=4, model=model, **options)
    ref = reference(tmp_path, opts)
    runs = launch(2, tmp_path, opts)
    for rc, err, _ in runs:
        assert rc == 0, err[-3000:]
    res = rank0(runs)                         # the result is on rank 0 only
    assert res["table_names"] == ref["table_names"]
    for name in ref["table_names"]:
        np.testing.assert_array_equal(res[name], ref[name])
    assert runs[0][2]["transfers"] > 0


def test_a_sharded_checkpoint_holds_the_serial_checkpoints_tables(tmp_path):
    # TransE: entities seen from both sides, relations global; the shards and the
    # manifest assemble to the one-process checkpoint of the same moment
    from vitegraph.solver.checkpoint import load_checkpoint
    opts = dict(BASE, num_partitions=4, model="transe", num_epoch=20, num_negative=4,
                episode_size=2000, checkpoint_every=0)
    reference(tmp_path, dict(opts, checkpoint=str(tmp_path / "one.npz")))
    runs = launch(2, tmp_path, dict(opts, checkpoint=str(tmp_path / "two.npz")))
    for rc, err, _ in runs:
        assert rc == 0, err[-3000:]
    one, two = load_checkpoint(tmp_path / "one.npz"), load_checkpoint(tmp_path / "two.npz")
    assert two.offsets is not None and one.offsets is None
    assert (one.episode, one.samples_done) == (two.episode, two.samples_done)
    assert sorted(one.tables) == sorted(two.tables)
    for name in one.tables:
        np.testing.assert_array_equal(one.tables[name], two.tables[name])


TORCH = dict(BASE, backend="torch", device="cpu", batch_size=4096)
TORCH.pop("num_workers")


@pytest.fixture(scope="module")
def serial_torch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serial_torch")
    return {P: reference(tmp, dict(TORCH, num_partitions=P)) for P in (2, 4)}


@pytest.mark.parametrize("resident,P", [(False, 2), (True, 2), (True, 4)])
def test_the_torch_kernels(resident, P, tmp_path, serial_torch):
    # backend torch with the CPU as the device: the paths a GPU process takes,
    # host-staged (a block's partitions copied in and out) or device-resident
    # (each process keeps the partitions it holds as tensors of their own,
    # sent and received as they are); bitwise the serial torch run
    opts = dict(TORCH, num_partitions=P, resident_on_cpu=resident)
    runs = launch(2, tmp_path, opts)
    for rc, err, _ in runs:
        assert rc == 0, err[-3000:]
    res = rank0(runs)                         # the result is on rank 0 only
    np.testing.assert_array_equal(res["vertex"], serial_torch[P]["vertex"])
    np.testing.assert_array_equal(res["context"], serial_torch[P]["context"])
    assert runs[0][2]["transfers"] > 0


def test_device_resident_partitions_checkpoint_and_resume(tmp_path, serial_torch):
    # a checkpoint copies the resident partitions back to the host arrays
    ck = str(tmp_path / "ck.npz")
    opts = dict(TORCH, num_partitions=2, resident_on_cpu=True, checkpoint=ck,
                checkpoint_every=0)
    first = launch(2, tmp_path, dict(opts, die_at_episode=2, dist_timeout=20))
    assert first[1][0] == 3 and first[0][0] != 0
    runs = launch(2, tmp_path, dict(opts, resume=True))
    for rc, err, _ in runs:
        assert rc == 0, err[-3000:]
    res = rank0(runs)                         # the result is on rank 0 only
    np.testing.assert_array_equal(res["vertex"], serial_torch[2]["vertex"])
    assert res["episodes"] == 2


@pytest.mark.gpu
def test_two_processes_on_one_gpu(tmp_path):
    # the device-resident path on a real GPU (both processes on cuda:0, so
    # partitions travel through host memory over gloo: NCCL refuses two ranks
    # on one GPU).  The torch kernel's scatter-adds on a GPU are not
    # deterministic, so the check is the communities the embedding finds,
    # against one process
    from vitegraph.datasets.synthetic import planted_partition
    _, labels = planted_partition(600, 4, seed=0)
    opts = dict(BASE, num_partitions=2, backend="torch", device="cuda", dist_backend="gloo")
    opts.pop("num_workers")
    runs = launch(2, tmp_path, opts)
    for rc, err, _ in runs:
        assert rc == 0, err[-3000:]
    (tmp_path / "one").mkdir()
    (rc, err, one), = launch(1, tmp_path / "one", opts)
    assert rc == 0, err[-3000:]
    community = np.asarray(labels.matrix.argmax(axis=1)).ravel()

    def purity(x):        # share of each node's 10 nearest (cosine) in its community
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        near = np.argsort(-(x @ x.T), axis=1)[:, 1:11]
        return float(np.mean(community[near] == community[:, None]))
    res = runs[0][2]
    assert res["transfers"] > 0 and res["max_device_bytes"] > 0
    assert purity(res["vertex"]) > purity(one["vertex"]) - 0.05


def test_the_cli_on_two_processes_interrupted_and_resumed(tmp_path):
    # `torchrun ... -m vitegraph embed`: Ctrl-C leaves a sharded checkpoint,
    # --resume finishes, rank 0 writes the output and the finished run removes
    # the checkpoint and its shards
    import signal
    from vitegraph.datasets.synthetic import planted_partition
    g, _ = planted_partition(600, 4, seed=0)
    src, dst = g.edges()[:2]
    (tmp_path / "g.txt").write_text("".join(f"{a} {b}\n" for a, b in zip(src, dst)))

    def start(*extra):
        port = free_port()
        return [subprocess.Popen(
            [sys.executable, "-m", "vitegraph", "embed", "g.txt", "-o", "emb.txt", "--dim",
             "16", "--num-epoch", "3000", "--num-sampler-threads", "2", *extra],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, RANK=str(r), WORLD_SIZE="2", LOCAL_RANK=str(r),
                     MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), OMP_NUM_THREADS="1"))
            for r in range(2)]
    procs = start()
    time.sleep(12)
    for p in procs:
        p.send_signal(signal.SIGINT)
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode != 0 for p in procs), outs[0][1][-2000:]
    assert (tmp_path / "emb.txt.checkpoint.npz").exists()
    assert len(list(tmp_path.glob("emb.txt.checkpoint.npz.shard-*"))) == 2
    assert not (tmp_path / "emb.txt").exists()
    procs = start("--resume")
    outs = [p.communicate(timeout=200) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    assert "wrote emb.txt" in outs[0][0] and "wrote" not in outs[1][0]
    assert len((tmp_path / "emb.txt").read_text().splitlines()) >= 600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emb.txt", "g.txt"]
