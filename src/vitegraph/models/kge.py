"""Knowledge-graph embedding: TransE, DistMult, ComplEx, SimplE, RotatE, QuatE.

Data: a :class:`~vitegraph.graph.triplets.KnowledgeGraph`; one epoch is one
pass worth of its training triplets (pools draw them uniformly with
replacement, seeded per episode).  Tables (as GraphVite's): ``entity``,
partitioned by entity and seen from both sides (a block (i, j) trains
triplets whose head is in partition i and tail in partition j), and
``relation``, GLOBAL (each lane trains a private copy during an episode; the
copies are reduced once per episode).  With Adam, the moment tables are
stored beside them (not saved).

``dim`` is the entity row's total real dimension, as in GraphVite: RotatE and
ComplEx with ``dim=1024`` have 512 complex coordinates; QuatE 256 quaternions;
SimplE 512 head and 512 tail coordinates.  RotatE's relation rows hold
``dim / 2`` phases.

Self-adversarial negative sampling: GraphVite weighs negatives by
``softmax(score / T)`` with ``adversarial_temperature`` T; the RotatE paper and
PyKEEN write ``softmax(alpha * score)``, so GraphVite's T = 2 is alpha = 0.5.
Here the option is GraphVite's T (0 turns weighting off).

Scores and the training loss are in :mod:`vitegraph.kernels.kge_numba` (and
the batched torch reference, :mod:`vitegraph.kernels.kge_torch`, and the fused
GPU kernel, :mod:`vitegraph.kernels.kge_triton`);
:meth:`KGEModel.ranker` gives the filtered evaluation
(:mod:`vitegraph.apps.kg_eval`) its all-entity scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..config.schema import option
from ..config.train import TrainConfig, model_field
from ..errors import ParameterError
from ..graph.triplets import KnowledgeGraph, as_knowledge_graph
from ..kernels import kge_numba
from ..sampling import SamplePool
from .estimator import Estimator
from .registry import register_model
from .spec import GLOBAL, HEAD, TAIL, DataInfo, Model, Problem, Table

TRIPLET = ("head", "tail", "relation")


@dataclass(frozen=True)
class KGEConfig(TrainConfig):
    """Options of knowledge-graph embedding.  Model, loss and negative sampling
    are GraphVite's; the sizes default to what trains in minutes on a small CPU
    (RotatE on WN18RR: test MRR 0.47 in about 4 minutes on 2 cores with 80
    epochs; see docs/benchmarks.md)."""

    dim: int = option(256, "int", "entity row's total real dimension (complex models: "
                      "2 x coordinates; QuatE: 4 x)", minimum=1)
    num_epoch: int = option(50, "int", "epochs (one epoch = as many positive triplets as "
                            "the training split has)", minimum=1)
    learning_rate: object = option(3e-3, "float", "initial learning rate (Adam's step size "
                                   "or SGD's rate); decays linearly over the run; "
                                   "auto = 3e-3, chosen on WN18RR's valid split with RotatE",
                                   minimum=0, exclusive_minimum=True, allow_auto=True)
    num_negative: int = option(32, "int", "negatives per positive triplet (all corrupt the "
                               "head or all the tail; GraphVite uses 64)", minimum=1)
    margin: float = option(12.0, "float", "gamma of the distance models (TransE, RotatE): "
                           "score = gamma - distance", minimum=0)
    adversarial_temperature: float = option(2.0, "float", "T of self-adversarial sampling: "
                                            "negatives weighted by softmax(score / T) "
                                            "(alpha = 1/T in the RotatE paper and PyKEEN); "
                                            "0 = equal weights", minimum=0)
    l3_regularization: float = option(0.0, "float", "weight of the L3 penalty on the "
                                      "positive triplet's rows (multiplicative models)",
                                      minimum=0)
    optimizer: str = option("adam", "str", "adam (lazy: a row's moments advance when it is "
                            "trained) or sgd", choices=("adam", "sgd"))
    init_scale: object = option("auto", "float", "entity rows start uniform in "
                                "[-init_scale, init_scale]; auto = (margin + 2) / dim for "
                                "distance models, 1 / sqrt(dim) otherwise", minimum=0,
                                exclusive_minimum=True, allow_auto=True)


def _config_class(name: str):
    return dataclass(frozen=True)(type(f"{name}Config", (KGEConfig,), {
        "__annotations__": {"model": str}, "model": model_field(name.lower()),
        "__doc__": f"Options of {name}."}))


class TripletSampler:
    """Pools of training triplets drawn uniformly with replacement (a function
    of the seed given to :meth:`reseed`), routed by (head, tail) partition."""

    def __init__(self, triplets: np.ndarray, seed: int = 0):
        self.triplets = np.ascontiguousarray(triplets, dtype=np.int32)
        self.rng = np.random.default_rng(seed)

    def reseed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def fill(self, pool: SamplePool) -> SamplePool:
        pick = self.triplets[self.rng.integers(0, len(self.triplets), pool.capacity)]
        return pool.route(np.stack([pick[:, 0], pick[:, 2], pick[:, 1]]))

    def close(self) -> None:
        pass


class KGEModel(Model):
    """The shared spec of the six knowledge-graph models."""

    columns = TRIPLET
    primary = "entity"
    backends = ("numba", "torch", "triton")
    kind = ""                 # kge_numba model name
    distance = False          # gamma - distance (TransE, RotatE)
    learning_rate = 3e-3

    def tables(self, config):
        kind = self.kind
        rel_dim = (lambda c: kge_numba.relation_width(kind, c.dim))
        specs = [Table("entity", HEAD, init=self._entity_init(config)),
                 Table("entity_tail", TAIL, tied_to="entity", saved=False),
                 Table("relation", GLOBAL, init=self._relation_init(config),
                       rows="relations", dim=rel_dim)]
        if config.optimizer == "adam":
            for m in ("m", "v"):
                # lane copies of the relation moments merge by their mean: the
                # sum of changes can make the second moment negative
                specs += [Table(f"entity_{m}", HEAD, init="zeros", saved=False),
                          Table(f"entity_{m}_tail", TAIL, tied_to=f"entity_{m}", saved=False),
                          Table(f"relation_{m}", GLOBAL, init="zeros", rows="relations",
                                dim=rel_dim, saved=False, reduce="mean")]
        return tuple(specs)

    def _scale(self, config) -> float:
        if config.init_scale != "auto":
            return float(config.init_scale)
        if self.distance:
            return (float(config.margin) + 2.0) / float(config.dim)
        return 1.0 / math.sqrt(float(config.dim))

    def _entity_init(self, config):
        b = self._scale(config)
        return lambda rng, shape: rng.uniform(-b, b, shape).astype(np.float32)

    def _relation_init(self, config):
        return self._entity_init(config)

    # -- data -------------------------------------------------------------------
    def coerce_data(self, data):
        return as_knowledge_graph(data)

    def check_data(self, data):
        if not isinstance(data, KnowledgeGraph):
            raise ParameterError("train", "data", "a KnowledgeGraph (vg.read_knowledge_graph; "
                                 "on the command line knowledge graphs train with `vitegraph "
                                 "run` or `vitegraph baseline`)", type(data).__name__)
        return data

    def resolve(self, config, info):
        kge_numba.check_dim(self.kind, config.dim)
        return {}

    def describe(self, kg: KnowledgeGraph) -> DataInfo:
        tr = kg.train
        degree = np.bincount(tr[:, [0, 2]].ravel(), minlength=kg.num_entities)
        return DataInfo(num_nodes=kg.num_entities, epoch_size=int(tr.shape[0]),
                        partition_weight=np.maximum(degree, 1).astype(np.float64),
                        fingerprint={"kg": kg.fingerprint()}, vocabulary=kg.entities,
                        sizes={"relations": kg.num_relations},
                        vocabularies={"relations": kg.relations}, summary=kg.summary())

    def memory_items(self, info, rc) -> list:
        return [("training triplets", 12 * info.epoch_size, "-")]

    def prepare(self, kg: KnowledgeGraph, rc, partition) -> Problem:
        return Problem(TripletSampler(kg.train, rc.seed))

    def kernel(self, backend: str, rc):
        if backend not in self.backends:
            raise ParameterError(self.title, "backend", f"one of {self.backends}", backend)
        kind = self.kind
        alpha = 1.0 / rc.adversarial_temperature if rc.adversarial_temperature > 0 else 0.0
        adam = rc.optimizer == "adam"
        kw = dict(num_negative=rc.num_negative, margin=rc.margin, alpha=alpha,
                  l3=rc.l3_regularization, optimizer=rc.optimizer)
        if backend == "numba":
            from ..kernels.kge_numba import train_block
            extra = lambda rng, threads: dict(states=rng, num_threads=threads)  # noqa: E731
        elif backend == "torch":
            from ..kernels.kge_torch import train_block
            batch = rc.batch_size
            extra = lambda rng, threads: dict(generator=rng, batch_size=batch)  # noqa: E731
        else:
            # rng: the task's seed (Philox key); the loss stays on the device
            from ..kernels.kge_triton import train_block
            extra = lambda rng, threads: dict(seed=rng, sync=False)  # noqa: E731

        def run(tables, columns, consts, lr_start, lr_end, rng, threads):
            moments = None
            if adam:
                moments = (tables["entity_m"], tables["entity_m_tail"], tables["entity_v"],
                           tables["entity_v_tail"], tables["relation_m"], tables["relation_v"])
            return train_block(kind, tables["entity"], tables["entity_tail"],
                               tables["relation"], columns[0], columns[1], columns[2],
                               lr_start=lr_start, lr_end=lr_end, moments=moments,
                               **extra(rng, threads), **kw)
        return run

    # -- scores -----------------------------------------------------------------
    def score(self, tables, heads, tails, relations):
        """Scores of triplets (global ids) under trained tables; for the
        distance models ``-distance`` (the kernel's ``gamma - distance`` less
        the constant gamma, which ranks the same)."""
        E, R = tables["entity"], tables["relation"]
        heads, tails, relations = (np.asarray(x) for x in (heads, tails, relations))
        out = np.empty(heads.size, dtype=np.float32)
        q, kind = self.queries(E[heads], R[relations], "tail")
        rows = E[tails]
        if kind == "dot":
            out[:] = np.einsum("nd,nd->n", q, rows)
        elif kind == "l1":
            out[:] = -np.abs(rows - q).sum(1)
        else:
            d = q.shape[1] // 2
            out[:] = -np.hypot(rows[:, :d] - q[:, :d], rows[:, d:] - q[:, d:]).sum(1)
        return out

    def queries(self, anchor: np.ndarray, rel: np.ndarray, side: str):
        """Query vectors for the ``side`` answers of anchors ``anchor`` [n, D]
        under relations ``rel`` [n, R], and how they compare with entity rows."""
        raise NotImplementedError

    def ranker(self, tables, config=None):
        from ..apps.kg_eval import score_queries
        E = np.ascontiguousarray(tables["entity"], dtype=np.float32)
        R = np.asarray(tables["relation"], dtype=np.float32)

        def score_block(anchor, relation, side):
            q, kind = self.queries(E[anchor], R[relation], side)
            return score_queries(kind, E, q)
        return score_block


class TransEModel(KGEModel):
    name, title, kind, distance = "transe", "TransE", "transe", True
    summary = "translation: gamma - |h + r - t|_1"

    def queries(self, a, r, side):
        return (a + r if side == "tail" else a - r), "l1"


class DistMultModel(KGEModel):
    name, title, kind = "distmult", "DistMult", "distmult"
    summary = "bilinear diagonal: sum h r t"

    def queries(self, a, r, side):
        return a * r, "dot"


class ComplExModel(KGEModel):
    name, title, kind = "complex", "ComplEx", "complex"
    summary = "complex bilinear: Re sum h r conj(t)"

    def queries(self, a, r, side):
        d = a.shape[1] // 2
        ar, ai, rr, ri = a[:, :d], a[:, d:], r[:, :d], r[:, d:]
        if side == "tail":     # Re <h r, conj(e)>
            return np.concatenate([ar * rr - ai * ri, ai * rr + ar * ri], 1), "dot"
        # head: Re <e, r conj(t)>, a = t
        return np.concatenate([rr * ar + ri * ai, rr * ai - ri * ar], 1), "dot"


class SimplEModel(KGEModel):
    name, title, kind = "simple", "SimplE", "simple"
    summary = "canonical polyadic with inverse relations"

    def queries(self, a, r, side):
        d = a.shape[1] // 2
        aH, aT, r1, r2 = a[:, :d], a[:, d:], r[:, :d], r[:, d:]
        if side == "tail":     # e = [eH | eT]: (h_H r e_T + e_H r2 h_T) / 2
            return 0.5 * np.concatenate([r2 * aT, aH * r1], 1), "dot"
        return 0.5 * np.concatenate([r1 * aT, aH * r2], 1), "dot"


class RotatEModel(KGEModel):
    name, title, kind, distance = "rotate", "RotatE", "rotate", True
    summary = "rotation in the complex plane: gamma - sum |h e^{i theta} - t|"

    def _relation_init(self, config):
        return lambda rng, shape: rng.uniform(-math.pi, math.pi, shape).astype(np.float32)

    def queries(self, a, r, side):
        d = a.shape[1] // 2
        ar, ai = a[:, :d], a[:, d:]
        c, s = np.cos(r), np.sin(r)
        if side == "head":
            s = -s            # |e r - t| = |e - t conj(r)|
        return np.concatenate([ar * c - ai * s, ar * s + ai * c], 1), "complex_l1"


class QuatEModel(KGEModel):
    name, title, kind = "quate", "QuatE", "quate"
    summary = "quaternion rotation: <h (x) r/|r|, t>"

    def queries(self, a, r, side):
        d = a.shape[1] // 4
        p, q, u, v = (r[:, i * d:(i + 1) * d] for i in range(4))
        n = np.sqrt(p * p + q * q + u * u + v * v) + 1e-9
        p, q, u, v = p / n, q / n, u / n, v / n
        if side == "tail":
            a1, b1, c1, d1 = (a[:, i * d:(i + 1) * d] for i in range(4))
            w = a1 * p - b1 * q - c1 * u - d1 * v
            x = a1 * q + b1 * p + c1 * v - d1 * u
            y = a1 * u - b1 * v + c1 * p + d1 * q
            z = a1 * v + b1 * u - c1 * q + d1 * p
            return np.concatenate([w, x, y, z], 1), "dot"
        ta, tb, tc, td = (a[:, i * d:(i + 1) * d] for i in range(4))
        return np.concatenate([p * ta + q * tb + u * tc + v * td,
                               -q * ta + p * tb - v * tc + u * td,
                               -u * ta + v * tb + p * tc - q * td,
                               -v * ta - u * tb + q * tc + p * td], 1), "dot"


_SPECS = {}
for _cls in (TransEModel, DistMultModel, ComplExModel, SimplEModel, RotatEModel, QuatEModel):
    _cls.Config = _config_class(_cls.title)
    _SPECS[_cls.name] = register_model(_cls())


class KGEstimator(Estimator):
    """Estimator of a knowledge-graph model: ``fit(kg)``, then ``evaluate`` and
    ``predict``."""

    def fit(self, data, *, checkpoint=None, resume: bool = False):
        data = self.model.coerce_data(data)
        super().fit(data, checkpoint=checkpoint, resume=resume)
        self.kg_ = data
        return self

    def evaluate(self, split: str = "test", kg: KnowledgeGraph = None):
        """Filtered ranking of ``split`` (:class:`~vitegraph.apps.kg_eval.KGEvaluation`)."""
        from ..apps.kg_eval import evaluate_kg
        kg = kg if kg is not None else self.kg_
        return evaluate_kg(self.model, self.result_.tables, kg, split)

    def predict(self, *, head=None, relation, tail=None, k: int = 10, filtered: bool = False):
        """The ``k`` best tails of ``(head, relation, ?)`` or heads of ``(?,
        relation, tail)`` by name, with scores: a list of ``(name, score)``.
        ``filtered``: leave out answers known in the data's splits."""
        if (head is None) == (tail is None):
            raise ParameterError("predict", "head", "exactly one of head and tail", head)
        kg = self.kg_
        side = "tail" if tail is None else "head"
        anchor = kg.entities.id_of(head if side == "tail" else tail)
        rel = kg.relations.id_of(relation)
        scores = self.model.ranker(self.result_.tables)(np.array([anchor]), np.array([rel]),
                                                        side)[0].astype(np.float64)
        if filtered:
            known = np.concatenate([kg.splits[s] for s in kg.splits])
            col_a, col_b = (0, 2) if side == "tail" else (2, 0)
            hit = (known[:, col_a] == anchor) & (known[:, 1] == rel)
            scores[known[hit, col_b]] = -np.inf
        k = min(int(k), scores.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        names = kg.entities.names
        return [(names[i].item() if hasattr(names[i], "item") else names[i], float(scores[i]))
                for i in top]


def _estimator(name: str, doc: str):
    return type(_SPECS[name].title, (KGEstimator,), {"model": _SPECS[name], "__doc__": doc,
                                                       "__module__": __name__})


TransE = _estimator("transe", "TransE (Bordes et al. 2013), L1 distance, GraphVite's form.")
DistMult = _estimator("distmult", "DistMult (Yang et al. 2015).")
ComplEx = _estimator("complex", "ComplEx (Trouillon et al. 2016).")
SimplE = _estimator("simple", "SimplE (Kazemi and Poole 2018).")
RotatE = _estimator("rotate", "RotatE (Sun et al. 2019).")
QuatE = _estimator("quate", "QuatE (Zhang et al. 2019).")
