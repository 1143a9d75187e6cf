"""A model is one file: this test defines a toy triplet objective (a tiny
TransE) with a global relation table, entirely here, and trains it through
``vg.train``, the executors, checkpoints and the saved embeddings file with no
change to the package."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import vitegraph as vg
from vitegraph.config.schema import option
from vitegraph.config.train import TrainConfig, model_field
from vitegraph.embeddings import Embeddings
from vitegraph.graph import Vocabulary
from vitegraph.kernels import BlockStats
from vitegraph.models import (GLOBAL, HEAD, TAIL, DataInfo, Model, Problem, Table,
                              register_model, unregister_model)
from vitegraph.sampling import SamplePool


# ---------------------------------------------------------------- the model

@dataclass(frozen=True)
class ToyConfig(TrainConfig):
    """Toy TransE: score -|h + r - t|^2, margin loss against a corrupted tail."""

    model: str = model_field("toy_transe")
    dim: int = option(8, "int", "embedding dimension", minimum=1)
    num_epoch: int = option(60, "int", "epochs", minimum=1)
    learning_rate: float = option(0.05, "float", "learning rate", minimum=0,
                                  exclusive_minimum=True)
    margin: float = option(2.0, "float", "margin of the ranking loss", minimum=0)


@dataclass
class Triplets:
    """(head, relation, tail) rows over ``num_entities`` and ``num_relations``."""

    rows: np.ndarray
    num_entities: int
    num_relations: int


class ToySampler:
    """Uniform draws of training triplets, routed by (head, tail) partitions."""

    def __init__(self, rows: np.ndarray):
        self.rows = rows
        self.rng = np.random.default_rng(0)

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def fill(self, pool: SamplePool) -> SamplePool:
        pick = self.rows[self.rng.integers(0, len(self.rows), pool.capacity)]
        return pool.route(np.stack([pick[:, 0], pick[:, 2], pick[:, 1]]))  # head, tail, rel

    def close(self) -> None:
        pass


def toy_kernel(margin: float):
    def run(tables, columns, consts, lr_start, lr_end, rng, threads):
        ent_h, ent_t, rel = tables["entity"], tables["entity_tail"], tables["relation"][0]
        h, t, r = (c.astype(np.int64) for c in columns)
        n = h.size
        gen = np.random.default_rng(int(rng[0]))
        neg = gen.integers(0, ent_t.shape[0], n)
        loss = 0.0
        for k in range(n):  # per sample, as the real kernels do
            lr = lr_start + (lr_end - lr_start) * k / n
            d_pos = ent_h[h[k]] + rel[r[k]] - ent_t[t[k]]
            d_neg = ent_h[h[k]] + rel[r[k]] - ent_t[neg[k]]
            gap = margin + d_pos @ d_pos - d_neg @ d_neg
            if gap <= 0:
                continue
            loss += gap
            g_pos, g_neg = 2 * lr * d_pos, 2 * lr * d_neg
            ent_h[h[k]] -= g_pos - g_neg
            rel[r[k]] -= g_pos - g_neg
            ent_t[t[k]] += g_pos
            ent_t[neg[k]] -= g_neg
        return BlockStats(float(loss), n)
    return run


class ToyTransE(Model):
    name = "toy_transe"
    title = "ToyTransE"
    summary = "a test's tiny TransE"
    Config = ToyConfig
    columns = ("head", "tail", "relation")
    primary = "entity"
    backends = ("numba",)
    table_specs = (Table("entity", HEAD, init="uniform"),
                   Table("entity_tail", TAIL, tied_to="entity", saved=False),
                   Table("relation", GLOBAL, init="uniform", rows="relations"))

    def check_data(self, data):
        assert isinstance(data, Triplets)
        return data

    def describe(self, data):
        degree = np.bincount(data.rows[:, [0, 2]].ravel(), minlength=data.num_entities)
        rel_names = Vocabulary(np.array([f"r{k}" for k in range(data.num_relations)]),
                               data.num_relations)
        return DataInfo(num_nodes=data.num_entities, epoch_size=len(data.rows),
                        partition_weight=degree.astype(np.float64),
                        fingerprint={"triplets": len(data.rows),
                                     "sum": int(data.rows.sum())},
                        sizes={"relations": data.num_relations},
                        vocabularies={"relations": rel_names},
                        summary={"num_triplets": len(data.rows)})

    def prepare(self, data, rc, partition):
        return Problem(ToySampler(data.rows))

    def kernel(self, backend, rc):
        return toy_kernel(rc.margin)

    def score(self, tables, heads, tails, relations):
        e, r = tables["entity"], tables["relation"]
        d = e[heads] + r[relations] - e[tails]
        return -np.einsum("nd,nd->n", d, d)


@pytest.fixture(scope="module")
def toy():
    model = register_model(ToyTransE())
    yield model
    unregister_model(model.name)


def shift_kg(num_entities=60, num_relations=3, seed=0):
    """Relation k maps entity e to (e + 7 (k + 1)) mod n."""
    rng = np.random.default_rng(seed)
    heads = rng.integers(0, num_entities, 600)
    rels = rng.integers(0, num_relations, 600)
    tails = (heads + 7 * (rels + 1)) % num_entities
    return Triplets(np.unique(np.stack([heads, rels, tails], 1), axis=0), num_entities,
                    num_relations)


def tail_mean_rank(model, tables, rows, num_entities):
    ranks = []
    for h, r, t in rows[:100]:
        s = model.score(tables, np.full(num_entities, h), np.arange(num_entities),
                        np.full(num_entities, r))
        ranks.append(1 + np.count_nonzero(s > s[t]))
    return float(np.mean(ranks))


# ---------------------------------------------------------------- the tests

def test_toy_model_trains_through_the_engine(toy, tmp_path):
    data = shift_kg()
    result = vg.train(data, "toy_transe", progress=False, num_workers=1, episode_size=2000)
    assert set(result.tables) == {"entity", "relation"}          # entity_tail is not saved
    assert result.tables["relation"].shape == (3, 8)
    assert tail_mean_rank(toy, result.tables, data.rows, 60) < 6  # random: about 30
    emb = result.embeddings()
    assert emb.primary == "entity" and emb.vocabulary_of("relation").name_of(2) == "r2"
    emb.save(tmp_path / "kg.npz")
    back = Embeddings.load(tmp_path / "kg.npz")
    assert np.array_equal(back.table("relation"), result.tables["relation"])
    assert back.metadata["model"] == "toy_transe"


@pytest.mark.parametrize("P", [1, 4])
def test_toy_model_workers_do_not_change_the_result(toy, P):
    """Entities are seen from both sides (shared rounds) and relations are
    global (per-slot copies reduced once per episode): still, one and two
    workers give bitwise the same tables."""
    data = shift_kg()
    kw = dict(progress=False, episode_size=1500, num_partitions=P, threads_per_block=1,
              num_epoch=20)
    one = vg.train(data, "toy_transe", num_workers=1, **kw)
    two = vg.train(data, "toy_transe", num_workers=2, **kw)
    for name in one.tables:
        assert np.array_equal(one.tables[name], two.tables[name]), name
    assert one.config.shared_rows and one.config.round_width == max(1, P // 2)


def test_toy_model_resumes_from_a_checkpoint(toy, tmp_path, monkeypatch):
    import signal
    from vitegraph.solver import executors
    data = shift_kg()
    kw = dict(progress=False, episode_size=500, num_workers=1, num_partitions=2,
              num_epoch=20)
    full = vg.train(data, "toy_transe", **kw)
    assert full.stats.episodes >= 4
    original = executors.NumbaExecutor._train_block
    calls = {"n": 0}

    def ctrl_c(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 6:  # inside the second episode: lane copies half trained
            signal.raise_signal(signal.SIGINT)
        return original(self, *a, **k)

    monkeypatch.setattr(executors.NumbaExecutor, "_train_block", ctrl_c)
    ck = tmp_path / "ck.npz"
    with pytest.raises(KeyboardInterrupt):
        vg.train(data, "toy_transe", checkpoint=ck, checkpoint_every=100, **kw)
    monkeypatch.undo()
    from vitegraph.solver.checkpoint import load_checkpoint
    saved = load_checkpoint(ck)
    assert saved.episode == 1 and saved.partial_done and "relation" in saved.lanes
    from vitegraph.errors import CheckpointError
    with pytest.raises(CheckpointError, match="lane copies of table 'relation'"):
        vg.train(data, "toy_transe", checkpoint=ck, resume=True,
                 **{**kw, "threads_per_block": 2})
    resumed = vg.train(data, "toy_transe", checkpoint=ck, resume=True, **kw)
    assert resumed.stats.resumed_from_episode == 1
    for name in full.tables:
        assert np.array_equal(full.tables[name], resumed.tables[name]), name


def test_toy_model_options_and_errors(toy):
    cfg = vg.TrainConfig(model="toy_transe", margin=1.0)
    assert isinstance(cfg, ToyConfig) and cfg.dim == 8
    with pytest.raises(vg.errors.ParameterError, match="'p' parameter of ToyTransE"):
        vg.TrainConfig(model="toy_transe", p=2.0)
    with pytest.raises(vg.errors.ParameterError, match="'backend' parameter of ToyTransE"):
        vg.train(shift_kg(), "toy_transe", backend="torch", progress=False)
