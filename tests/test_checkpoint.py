"""Sharded checkpoints without a process group (a stand-in for the ranks)."""

import numpy as np
import pytest

from vitegraph.errors import CheckpointError
from vitegraph.solver.checkpoint import (Checkpoint, TableShard, checkpoint_summary,
                                         load_checkpoint, save_checkpoint,
                                         save_sharded_checkpoint)


class OneRank:
    """Rank 0 of ``world``; ``others`` are what the other ranks would answer
    to each all-gather, in call order."""

    def __init__(self, world=1, others=()):
        self.rank, self.world = 0, world
        self.others = list(others)

    def all_gather(self, obj, what):
        return [obj] + (self.others.pop(0) if self.others else [])


def shard(tables, offsets, held):
    parts = {(n, p): a[offsets[p]:offsets[p + 1]] for n, a in tables.items() for p in held}
    return TableShard(parts, {"relation": np.arange(6, dtype=np.float32).reshape(2, 3)},
                      np.array(offsets), {n: a.shape for n, a in tables.items()})


def ckpt(episode=1):
    return Checkpoint({}, episode, 100 * episode, {"model": "transe"}, {"n": 1}, {})


def test_sharded_round_trip_and_replacement(tmp_path):
    rng = np.random.default_rng(0)
    tables = {"entity": rng.random((10, 4), dtype=np.float32)}
    offsets = [0, 3, 7, 10]
    path = tmp_path / "ck.npz"
    save_sharded_checkpoint(path, ckpt(1), shard(tables, offsets, [0, 1, 2]), OneRank())
    first = sorted(tmp_path.glob("ck.npz.shard-*"))
    assert len(first) == 1 and "in 1 shards" in checkpoint_summary(path)
    ck = load_checkpoint(path)
    np.testing.assert_array_equal(ck.tables["entity"], tables["entity"])
    np.testing.assert_array_equal(ck.tables["relation"], np.arange(6).reshape(2, 3))
    assert ck.offsets == offsets and ck.episode == 1
    # only the wanted partitions are read; the others stay zero
    part = load_checkpoint(path, wanted=lambda name, p: p == 1).tables["entity"]
    np.testing.assert_array_equal(part[3:7], tables["entity"][3:7])
    assert not part[:3].any() and not part[7:].any()
    # the next checkpoint gets new shard names and removes the old ones
    tables["entity"] += 1
    save_sharded_checkpoint(path, ckpt(2), shard(tables, offsets, [0, 1, 2]), OneRank())
    second = sorted(tmp_path.glob("ck.npz.shard-*"))
    assert len(second) == 1 and second != first
    np.testing.assert_array_equal(load_checkpoint(path).tables["entity"], tables["entity"])
    # a whole checkpoint written over it removes its shards too
    save_checkpoint(path, Checkpoint(dict(tables), 3, 300, {}, {}, {}))
    assert not list(tmp_path.glob("ck.npz.shard-*"))
    assert load_checkpoint(path).offsets is None


def test_a_shard_another_rank_cannot_see_stops_the_save(tmp_path):
    tables = {"entity": np.ones((4, 2), dtype=np.float32)}
    path = tmp_path / "ck.npz"
    save_sharded_checkpoint(path, ckpt(1), shard(tables, [0, 2, 4], [0, 1]), OneRank())
    before = load_checkpoint(path)
    files = sorted(tmp_path.iterdir())
    # rank 1 (on another machine) wrote its shard where rank 0 cannot see it
    ranks = OneRank(world=2, others=[["token"],
                                     [("ck.npz.shard-x-00001-of-00002.npz", [], None)],
                                     [[]], [None]])
    with pytest.raises(CheckpointError, match="rank 0 does not see the shard "
                                              "ck.npz.shard-x-00001-of-00002.npz"):
        save_sharded_checkpoint(path, ckpt(2), shard(tables, [0, 2, 4], [0]), ranks)
    # the checkpoint in place is the one before
    after = load_checkpoint(path)
    assert after.episode == before.episode == 1
    assert sorted(tmp_path.iterdir()) == files      # and nothing was left beside it
    np.testing.assert_array_equal(after.tables["entity"], before.tables["entity"])


def test_a_shard_that_cannot_be_written_stops_every_rank(tmp_path):
    tables = {"entity": np.ones((4, 2), dtype=np.float32)}
    path = tmp_path / "ck.npz"
    save_sharded_checkpoint(path, ckpt(1), shard(tables, [0, 2, 4], [0, 1]), OneRank())
    files = sorted(tmp_path.iterdir())
    # rank 1's disk was full: rank 0 does not write the manifest
    ranks = OneRank(world=2, others=[["token"],
                                     [("ck.npz.shard-x-00001-of-00002.npz", [],
                                       "No space left on device")], [[]], [None]])
    with pytest.raises(CheckpointError, match="rank 1 could not write its shard "
                                              r"\(No space left on device\)"):
        save_sharded_checkpoint(path, ckpt(2), shard(tables, [0, 2, 4], [0]), ranks)
    assert sorted(tmp_path.iterdir()) == files
    assert load_checkpoint(path).episode == 1


def test_unlisted_shards_left_by_a_crash_are_removed(tmp_path):
    tables = {"entity": np.ones((4, 2), dtype=np.float32)}
    path = tmp_path / "ck.npz"
    (tmp_path / "ck.npz.shard-dead0000-00000-of-00002.npz").write_bytes(b"x")
    (tmp_path / "other.npz").write_bytes(b"y")
    save_sharded_checkpoint(path, ckpt(1), shard(tables, [0, 2, 4], [0, 1]), OneRank())
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "ck.npz.shard-dead0000-00000-of-00002.npz" not in names and "other.npz" in names
    from vitegraph.solver.checkpoint import remove_checkpoint
    remove_checkpoint(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.npz"]
