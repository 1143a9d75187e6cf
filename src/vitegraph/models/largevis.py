"""LargeVis (Tang et al. 2016): 2-D or 3-D layouts of high-dimensional vectors.

Two stages:

1. the weighted KNN graph of the vectors (:func:`vitegraph.graph.knn.knn_graph`:
   scaling, exact or NN-descent neighbours, perplexity-calibrated weights,
   symmetrised by their mean);
2. the layout, trained by the engine like first-order LINE: edges of that
   graph sampled in proportion to their weight (random walks with step 1: at
   stationarity a walk crosses an edge in proportion to its weight), one
   coordinate table seen from both sides, negatives drawn by ``degree ** 0.75``,
   and LargeVis's objective (:mod:`vitegraph.kernels.layout_numba`; the torch
   reference :mod:`~vitegraph.kernels.layout_torch` and the fused GPU kernel
   :mod:`~vitegraph.kernels.layout_triton` train the same): raise
   ``1 / (1 + d^2)`` on edges, lower it for ``num_negative`` negatives of
   weight ``negative_weight`` (LargeVis's gamma).

Defaults are GraphVite's (its LargeVis application, MNIST settings): 200
neighbours, perplexity 20, 5 negatives of weight 3, Adam with learning rate
0.5, 50 epochs of |E| edge samples.  ``docs/benchmarks.md`` compares them with
the LargeVis paper's (K 150, perplexity 50, gamma 7, SGD at 1.0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.schema import AUTO, option
from ..config.train import TrainConfig, model_field
from ..errors import ParameterError
from ..graph import Graph
from ..graph.knn import METHODS, METRICS, SCALES, knn_graph
from .estimator import Estimator
from .registry import register_model
from .skipgram import SkipGram
from .spec import HEAD, TAIL, Table


@dataclass(frozen=True)
class LargeVisConfig(TrainConfig):
    """LargeVis: the KNN graph's options, then the layout's."""

    model: str = model_field("largevis")
    dim: int = option(2, "int", "layout dimension (2 or 3 for pictures)", minimum=1)
    num_epoch: object = option(50, "int", "epochs; one epoch is as many edge samples as the "
                               "KNN graph has edges", minimum=0, exclusive_minimum=True)
    learning_rate: object = option(0.5, "float", "initial learning rate (Adam's step size, "
                                   "or SGD's); decays linearly", minimum=0,
                                   exclusive_minimum=True)
    optimizer: str = option("adam", "str", "adam (lazy: a row's moments advance when it is "
                            "touched) or sgd", choices=("adam", "sgd"))
    num_negative: int = option(5, "int", "negative samples per edge", minimum=0,
                               exclusive_minimum=True)
    negative_weight: float = option(3.0, "float", "weight of each negative's repulsion "
                                    "(LargeVis's gamma)", minimum=0, exclusive_minimum=True)
    negative_exponent: float = option(0.75, "float", "negatives are drawn proportional to "
                                      "degree ** negative_exponent", minimum=0)
    gradient_clip: float = option(5.0, "float", "each gradient coordinate is clipped to "
                                  "[-this, this]", minimum=0, exclusive_minimum=True)
    n_neighbors: int = option(200, "int", "K of the KNN graph", minimum=1)
    perplexity: float = option(20.0, "float", "perplexity the edge weights of each point are "
                               "calibrated to (at most n_neighbors)", minimum=0,
                               exclusive_minimum=True)
    knn_method: str = option("auto", "str", "exact (blocked brute force), nndescent "
                             "(pynndescent, approximate) or auto (exact up to n^2 d = 1e11)",
                             choices=METHODS)
    metric: str = option("euclidean", "str", "distance of the KNN search", choices=METRICS)
    scale: str = option("maxabs", "str", "input scaling: maxabs (centre each feature, divide "
                        "by its largest |value|: GraphVite's), standard, or none",
                        choices=SCALES)
    walk_length: int = option(40, "int", "steps of each random walk over the KNN graph "
                              "(edge samples are its consecutive pairs)", minimum=1)
    augmentation_step: object = option(1, "int", "pairs (c_j, c_j+k) for k = 1..this per walk "
                                       "(1: edges only)", minimum=1)
    shuffle_base: object = option(AUTO, "int", "pseudo-shuffle stride of each pool chunk; "
                                  "auto = 1 (off)", minimum=1, allow_auto=True)


COORDS = Table("coordinates", HEAD, init="uniform")
# torch batches and Triton launches hold at most one sample per this many rows
# of the partition: every sample of a batch reads rows before any of them is
# written, and a layout of few points loses its shape when a batch covers them
# (2,000 points, 4 clusters, 10-NN accuracy: numba 0.98, torch batches of 64
# 0.97, of 1024 0.79)
ROWS_PER_SAMPLE_IN_FLIGHT = 32


class LargeVisModel(SkipGram):
    """The layout stage: first-order LINE's sampling and tables, LargeVis's
    objective.  The data is the (weighted) KNN graph."""

    name = "largevis"
    title = "LargeVis"
    summary = "2-D/3-D layouts of vectors: KNN graph, perplexity weights, LargeVis objective"
    Config = LargeVisConfig
    primary = "coordinates"
    backends = ("numba", "torch", "triton")
    can_freeze = False          # its kernels have no frozen rows
    learning_rate = 0.5
    short_run_samples_per_row = None
    auto_samples_per_row = None
    pseudo_shuffle = False

    def auto_step(self, config) -> bool:
        return False

    def tables(self, config):
        specs = [COORDS, Table("coordinates_tail", TAIL, tied_to="coordinates", saved=False)]
        if config.optimizer == "adam":
            for m in ("m", "v"):
                specs += [Table(f"coordinates_{m}", HEAD, init="zeros", saved=False),
                          Table(f"coordinates_{m}_tail", TAIL, tied_to=f"coordinates_{m}",
                                saved=False)]
        return tuple(specs)

    def device_sampling(self, config):
        return "LargeVis samples on the host only"

    def kernel(self, backend: str, rc):
        if backend not in self.backends:
            raise ParameterError(self.title, "backend", f"one of {self.backends}", backend)
        kw = dict(num_negative=rc.num_negative, negative_weight=rc.negative_weight,
                  optimizer=rc.optimizer, clip=rc.gradient_clip)
        adam = rc.optimizer == "adam"
        if backend == "numba":
            from ..kernels.layout_numba import train_block
            extra = lambda rng, threads, rows: dict(states=rng,  # noqa: E731
                                                    num_threads=threads)
        elif backend == "torch":
            from ..kernels.layout_torch import train_block
            batch = rc.batch_size
            extra = lambda rng, threads, rows: dict(  # noqa: E731
                generator=rng, batch_size=max(16, min(batch, rows // ROWS_PER_SAMPLE_IN_FLIGHT)))
        else:
            # rng: the task's seed (Philox key); the loss stays on the device
            from ..kernels.layout_triton import train_block
            extra = lambda rng, threads, rows: dict(  # noqa: E731
                seed=rng, sync=False, in_flight=max(256, rows // ROWS_PER_SAMPLE_IN_FLIGHT))

        def run(tables, columns, consts, lr_start, lr_end, rng, threads):
            moments = None
            if adam:
                moments = (tables["coordinates_m"], tables["coordinates_v"],
                           tables["coordinates_m_tail"], tables["coordinates_v_tail"])
            return train_block(tables["coordinates"], tables["coordinates_tail"],
                               columns[0], columns[1], consts["neg_prob"],
                               consts["neg_alias"], lr_start=lr_start, lr_end=lr_end,
                               moments=moments,
                               **extra(rng, threads, tables["coordinates"].shape[0]), **kw)
        return run

    def score(self, tables, heads, tails):
        """``1 / (1 + |y_u - y_v|^2)`` of each pair (the edge probability)."""
        y = tables["coordinates"]
        d = y[np.asarray(heads)] - y[np.asarray(tails)]
        return 1.0 / (1.0 + np.einsum("nd,nd->n", d, d))


LARGEVIS = register_model(LargeVisModel())


class LargeVis(Estimator):
    """LargeVis layouts in scikit-learn style: ``vg.LargeVis(dim=2).fit_transform(X)``
    with ``X`` [n, d] vectors (or a :class:`~vitegraph.Graph` to lay out as it
    is).  After ``fit``: ``embedding_`` (the coordinates [n, dim]),
    ``knn_graph_`` (the weighted KNN graph, reusable: ``fit(model.knn_graph_)``)
    and ``knn_stats_`` (seconds per stage, method)."""

    model = LARGEVIS

    def fit(self, data, *, checkpoint=None, resume: bool = False) -> "LargeVis":
        cfg = self.config()
        if isinstance(data, Graph):
            graph, stats = data, {"given": True}
        else:
            graph, stats = knn_graph(data, n_neighbors=cfg.n_neighbors,
                                     perplexity=cfg.perplexity, method=cfg.knn_method,
                                     metric=cfg.metric, scale=cfg.scale, seed=cfg.seed,
                                     progress=cfg.progress)
        self.knn_graph_ = graph
        self.knn_stats_ = stats
        super().fit(graph, checkpoint=checkpoint, resume=resume)
        self.embedding_ = self.embeddings_.vectors
        return self
