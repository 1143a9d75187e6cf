"""Node embedding by skip-gram with negative sampling: DeepWalk, LINE, node2vec.

The three share the objective (DESIGN.md section 1: raise ``sigmoid(vertex[u] .
context[v])`` for positive pairs, lower it for one negative of weight 5 drawn
from the context partition proportional to ``degree ** 0.75``), the kernels
(:mod:`vitegraph.kernels.skipgram_numba`, :mod:`~vitegraph.kernels.skipgram_torch`)
and the walk sampler (:class:`vitegraph.sampling.WalkSampler`); they differ in
how positives are sampled and, for first-order LINE, in the tables:

==========  ==========================  =========================================
model       positives                   tables
==========  ==========================  =========================================
deepwalk    walks (uniform / weighted)  vertex (head), context (tail)
line        edges (walk, step 1)        order 2: as DeepWalk; order 1: context
                                        tied to vertex (one table, both sides)
node2vec    second-order biased walks   as DeepWalk
==========  ==========================  =========================================

Defaults are GraphVite's wherever they decide quality; each is declared once,
in the config sections below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.schema import AUTO, option
from ..config.train import PropagationConfig, TrainConfig, model_field
from ..errors import ParameterError
from ..graph import Graph
from ..sampling import WalkSampler, build_negative_tables, default_augmentation_step
from .estimator import Estimator
from .registry import register_model
from .spec import HEAD, TAIL, DataInfo, GraphInput, Model, Problem, Table


# ---------------------------------------------------------------- config sections

@dataclass(frozen=True)
class SkipGramConfig(TrainConfig, PropagationConfig):
    """Options of the skip-gram objective and the walk sampler."""

    weight_decay: float = option(0.005, "float", "L2 decay applied to each touched row, "
                                 "scaled by the sample weight", minimum=0)
    num_negative: int = option(1, "int", "negative samples per positive sample", minimum=0,
                               exclusive_minimum=True)
    negative_weight: float = option(5.0, "float", "weight of each negative sample's loss",
                                    minimum=0, exclusive_minimum=True)
    negative_exponent: float = option(0.75, "float", "negatives are drawn proportional to "
                                      "degree ** negative_exponent", minimum=0)
    walk_length: int = option(40, "int", "steps of each random walk (walk_length + 1 nodes)",
                              minimum=1)
    augmentation_step: object = option(AUTO, "int", "pairs (c_j, c_j+k) for k = 1..this are "
                                       "emitted from each walk; auto = floor(ln 1600 / "
                                       "ln(|E|/|V|)) (GraphVite's rule), 1 for first-order "
                                       "LINE", minimum=1, allow_auto=True)
    shuffle_base: object = option(AUTO, "int", "pseudo-shuffle stride of each pool chunk; "
                                  "auto = augmentation_step for LINE, 1 (off) otherwise",
                                  minimum=1, allow_auto=True)


@dataclass(frozen=True)
class DeepWalkConfig(SkipGramConfig):
    """DeepWalk: skip-gram on online random walks."""

    model: str = model_field("deepwalk")


@dataclass(frozen=True)
class LineConfig(SkipGramConfig):
    """LINE: skip-gram on sampled edges."""

    model: str = model_field("line")
    order: int = option(2, "int", "proximity order: 2 (vertex . context, as GraphVite) or 1 "
                        "(vertex . vertex)", choices=(1, 2))


@dataclass(frozen=True)
class Node2VecConfig(SkipGramConfig):
    """node2vec: skip-gram on second-order biased walks."""

    model: str = model_field("node2vec")
    p: float = option(1.0, "float", "return parameter: a walk steps back with weight 1/p",
                      minimum=0, exclusive_minimum=True)
    q: float = option(1.0, "float", "in-out parameter: a walk moves away with weight 1/q",
                      minimum=0, exclusive_minimum=True)


# ---------------------------------------------------------------- the specs

VERTEX = Table("vertex", HEAD, init="uniform")
CONTEXT = Table("context", TAIL, init="zeros")


class SkipGram(GraphInput, Model):
    """The shared spec: data is a :class:`~vitegraph.Graph`, one epoch is |E|
    positive pairs, pairs come from :class:`WalkSampler`, negatives from
    per-partition alias tables over the context rows."""

    columns = ("head", "tail")
    primary = "vertex"
    backends = ("numba", "torch", "triton")
    table_specs = (VERTEX, CONTEXT)
    # calibrated on Cora, Citeseer and BlogCatalog, checked on the other labelled
    # graphs of shared/data (docs/benchmarks.md, "Training length")
    learning_rate = 0.025
    short_run_samples_per_row = 6400
    auto_samples_per_row = 12800
    pseudo_shuffle = False  # LINE: pairs of one walk spread over the pool (GraphVite)

    def describe(self, graph: Graph) -> DataInfo:
        return DataInfo(num_nodes=graph.num_nodes, epoch_size=graph.num_edges,
                        partition_weight=graph.weighted_degree,
                        fingerprint=graph.fingerprint(), vocabulary=graph.vocabulary,
                        summary=graph.summary())

    def walk_options(self, config) -> tuple[float, float]:
        return 1.0, 1.0

    def auto_step(self, config) -> bool:
        """Whether ``augmentation_step=auto`` is GraphVite's rule (else 1)."""
        return True

    def resolve(self, config, info: DataInfo) -> dict:
        c = config
        if c.augmentation_step != AUTO:
            s = c.augmentation_step
        elif self.auto_step(c):
            s = default_augmentation_step(info.epoch_size, info.num_nodes, c.walk_length)
        else:
            s = 1
        if s > c.walk_length:
            raise ParameterError(c._owner, "augmentation_step", f"at most walk_length "
                                 f"({c.walk_length})", s)
        if c.shuffle_base != AUTO:
            base = c.shuffle_base
        else:
            base = s if self.pseudo_shuffle else 1
        return {"augmentation_step": int(s), "shuffle_base": int(base)}

    def memory_items(self, info: DataInfo, rc) -> list:
        n = info.num_nodes
        stored = int(info.summary.get("num_stored_edges", 0))
        items = [("negative tables", 8 * n, "-"),
                 ("walk start tables", 16 * n, "-")]
        if info.summary.get("weighted"):
            items.append(("per-row alias tables (weighted graph)", 8 * stored,
                          "read the graph unweighted (weighted: false)"))
        p, q = self.walk_options(rc)
        if (p, q) != (1.0, 1.0):
            items.append(("node2vec hub bitmaps", 4 * stored, "-"))
        return items

    def device_sampling(self, config):
        if self.walk_options(config) != (1.0, 1.0):
            return "node2vec's second-order walks (p, q != 1) run on the host only"
        return None

    can_freeze = True

    def prepare(self, graph: Graph, rc, partition, trainable=None) -> Problem:
        """``trainable`` (bool per node, or None): a run that trains these rows
        only (the others frozen, see :func:`vitegraph.train`'s
        ``freeze_existing``): walks start at them and have ``augmentation_step``
        steps, so every pair lies within reach of a trainable node."""
        p, q = self.walk_options(rc)
        negatives = build_negative_tables(partition, graph.weighted_degree,
                                          rc.negative_exponent)
        constants = {"neg_prob": (negatives.prob, TAIL), "neg_alias": (negatives.alias, TAIL)}
        if trainable is not None:
            flags = np.ascontiguousarray(trainable[partition.order], dtype=np.uint8)
            constants["train_vertex"] = (flags, HEAD)
            constants["train_context"] = (flags, TAIL)
            sampler = WalkSampler(graph.indptr, graph.indices, graph.weights,
                                  num_edges=graph.num_edges,
                                  walk_length=rc.augmentation_step,
                                  augmentation_step=rc.augmentation_step,
                                  shuffle_base=rc.shuffle_base, p=p, q=q,
                                  num_threads=rc.num_sampler_threads, seed=rc.seed,
                                  start_mask=trainable)
            return Problem(sampler, constants)
        if rc.sampler == "device":
            from ..sampling.device_walks import DeviceWalkSampler
            sampler = DeviceWalkSampler(graph.indptr, graph.indices, graph.weights,
                                        walk_length=rc.walk_length,
                                        augmentation_step=rc.augmentation_step,
                                        device=rc.device.split(",")[0], seed=rc.seed)
            return Problem(sampler, constants)
        sampler = WalkSampler(graph.indptr, graph.indices, graph.weights,
                              num_edges=graph.num_edges, walk_length=rc.walk_length,
                              augmentation_step=rc.augmentation_step,
                              shuffle_base=rc.shuffle_base, p=p, q=q,
                              num_threads=rc.num_sampler_threads, seed=rc.seed)
        return Problem(sampler, constants)

    def kernel(self, backend: str, rc):
        kw = dict(num_negative=rc.num_negative, negative_weight=rc.negative_weight,
                  weight_decay=rc.weight_decay)
        if backend == "numba":
            from ..kernels import skipgram_numba as k

            def run(tables, columns, consts, lr_start, lr_end, rng, threads):
                if "train_vertex" in consts:       # frozen rows (freeze_existing)
                    return k.train_block_masked(
                        tables["vertex"], tables["context"], columns[0], columns[1],
                        consts["neg_prob"], consts["neg_alias"], consts["train_vertex"],
                        consts["train_context"], lr_start=lr_start, lr_end=lr_end,
                        states=rng, num_threads=threads, **kw)
                return k.train_block(tables["vertex"], tables["context"], columns[0],
                                     columns[1], consts["neg_prob"], consts["neg_alias"],
                                     lr_start=lr_start, lr_end=lr_end, states=rng,
                                     num_threads=threads, **kw)
        elif backend == "torch":
            from ..kernels import skipgram_torch as k
            batch = rc.batch_size

            def run(tables, columns, consts, lr_start, lr_end, rng, threads):
                return k.train_block(tables["vertex"], tables["context"], columns[0],
                                     columns[1], consts["neg_prob"], consts["neg_alias"],
                                     lr_start=lr_start, lr_end=lr_end, generator=rng,
                                     batch_size=batch, **kw)
        elif backend == "triton":
            from ..kernels import skipgram_triton as k

            def run(tables, columns, consts, lr_start, lr_end, rng, threads):
                # rng: the task's seed (Philox key); the columns come from the
                # run's own samplers, so the range checks (a device sync) are skipped
                return k.train_block(tables["vertex"], tables["context"], columns[0],
                                     columns[1], consts["neg_prob"], consts["neg_alias"],
                                     lr_start=lr_start, lr_end=lr_end, seed=rng,
                                     check=False, sync=False, **kw)
        else:
            raise ParameterError(self.title, "backend", f"one of {self.backends}", backend)
        return run

    def finish(self, graph: Graph, tables: dict, rc) -> dict:
        """With ``propagate``: the sum of the vertex and context tables (the
        ``w + c`` of word embeddings; 0.2-0.4 Micro-F1 above the vertex table
        alone on BlogCatalog) through ProNE's spectral propagation
        (:func:`vitegraph.spectral.propagate_matrix`), as the vertex table; the
        context table no longer pairs with it and is dropped (pairs then score
        ``vertex[u] . vertex[v]``)."""
        if not getattr(rc, "propagate", False):     # LargeVis has no such option
            return tables
        from .._threads import cpu_count
        from ..spectral import propagate_matrix
        signal = tables["vertex"]
        context = tables.get("context")
        if context is not None and context is not signal:
            signal = signal + context
        vertex = propagate_matrix(graph, signal, steps=rc.propagation_steps,
                                  theta=rc.propagation_theta, mu=rc.propagation_mu,
                                  num_threads=cpu_count())
        return {"vertex": vertex}

    def score(self, tables, heads, tails):
        """``vertex[u] . context[v]`` for each pair (``vertex[v]`` when the
        context table was not kept: a propagated run)."""
        v = tables["vertex"]
        c = tables.get("context", v)
        heads, tails = np.asarray(heads), np.asarray(tails)
        return np.einsum("nd,nd->n", v[heads], c[tails])


class DeepWalkModel(SkipGram):
    name = "deepwalk"
    title = "DeepWalk"
    summary = "skip-gram on online random walks (uniform, or weighted on weighted graphs)"
    Config = DeepWalkConfig


class LineModel(SkipGram):
    name = "line"
    title = "LINE"
    summary = "skip-gram on sampled edges; order 2 (vertex . context) or 1 (vertex . vertex)"
    Config = LineConfig
    pseudo_shuffle = True

    def auto_step(self, config) -> bool:
        # order 2 augments as GraphVite's LINE does (BlogCatalog: 37.4 / 41.6 / 42.5
        # against 32.7 / 39.2 / 41.0 with step 1); order 1, which GraphVite lacks,
        # loses 2 points at 50% with it, so it samples edges (step 1)
        return config.order == 2

    def tables(self, config):
        if config.order == 1:
            return (VERTEX, Table("context", TAIL, tied_to="vertex"))
        return (VERTEX, CONTEXT)


class Node2VecModel(SkipGram):
    name = "node2vec"
    title = "Node2Vec"
    summary = "skip-gram on second-order biased walks (return p, in-out q)"
    Config = Node2VecConfig

    def walk_options(self, config):
        return config.p, config.q


DEEPWALK = register_model(DeepWalkModel())
LINE_MODEL = register_model(LineModel())
NODE2VEC = register_model(Node2VecModel())


# ---------------------------------------------------------------- estimators

class DeepWalk(Estimator):
    """DeepWalk (Perozzi et al. 2014) as GraphVite trains it: online random
    walks (uniform, or weighted on weighted graphs) with augmentation, skip-gram
    with negative sampling on vertex and context tables."""

    model = DEEPWALK


class LINE(Estimator):
    """LINE (Tang et al. 2015): edge sampling; ``order=2`` (vertex . context,
    as GraphVite) or ``order=1`` (vertex . vertex, which GraphVite lacks)."""

    model = LINE_MODEL


class Node2Vec(Estimator):
    """node2vec (Grover & Leskovec 2016): second-order biased walks with return
    parameter ``p`` and in-out parameter ``q``, sampled by rejection with
    O(|V| + |E|) memory (no per-edge alias tables)."""

    model = NODE2VEC
