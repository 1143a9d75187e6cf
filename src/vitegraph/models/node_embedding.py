"""Estimators: ``vg.DeepWalk(...).fit(graph)`` and friends.

Thin shells over :func:`vitegraph.solver.train`, in scikit-learn style:
``__init__`` only stores parameters (every one is an option of
:class:`~vitegraph.config.TrainConfig`, with the same defaults), ``fit``
validates, trains and returns ``self``; learned state ends in ``_``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..config import TrainConfig
from ..embeddings import Embeddings
from ..graph.convert import as_graph

_FIELDS = [f.name for f in dataclasses.fields(TrainConfig) if f.name != "model"]


class NodeEmbedding:
    """Base estimator; subclasses fix ``model``."""

    model = ""

    def __init__(self, **params: Any):
        unknown = sorted(set(params) - set(_FIELDS))
        if unknown:
            import difflib
            hint = difflib.get_close_matches(unknown[0], _FIELDS, n=1)
            raise TypeError(f"{type(self).__name__} got an unexpected parameter "
                            f"{unknown[0]!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        self._params = params

    def get_params(self, deep: bool = True) -> dict:
        """All parameters with defaults filled in (scikit-learn convention)."""
        defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)
                    if f.name != "model"}
        return {**defaults, **self._params}

    def set_params(self, **params) -> "NodeEmbedding":
        type(self)(**{**self._params, **params})  # same checks as __init__
        self._params.update(params)
        return self

    def config(self) -> TrainConfig:
        """The validated :class:`TrainConfig` of these parameters."""
        return TrainConfig(model=self.model, **self._params)

    def fit(self, graph, *, checkpoint=None, resume: bool = False) -> "NodeEmbedding":
        """Train on ``graph`` (a :class:`~vitegraph.Graph`, or anything
        :func:`vitegraph.as_graph` accepts: scipy matrix, networkx graph, (E, 2)
        array).  Sets ``embeddings_``, ``context_embeddings_``, ``stats_`` and
        ``config_`` (the resolved options); returns ``self``."""
        from ..solver import train
        g = as_graph(graph)
        result = train(g, self.config(), checkpoint=checkpoint, resume=resume)
        meta = {"config": result.config.to_dict(), "graph": g.summary(),
                "stats": result.stats.to_dict()}
        self.embeddings_ = Embeddings(result.vertex, g.vocabulary, result.context, meta)
        self.context_embeddings_ = Embeddings(result.context, g.vocabulary, None,
                                              {**meta, "table": "context"})
        self.stats_ = result.stats
        self.config_ = result.config
        self.graph_ = g
        return self

    def fit_transform(self, graph, **kwargs):
        """``fit`` then the vertex vectors as a numpy array (row i = node id i)."""
        return self.fit(graph, **kwargs).embeddings_.vectors

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"


class DeepWalk(NodeEmbedding):
    """DeepWalk (Perozzi et al. 2014) as GraphVite trains it: online random
    walks (uniform, or weighted on weighted graphs) with augmentation, skip-gram
    with negative sampling on vertex and context tables."""

    model = "deepwalk"


class LINE(NodeEmbedding):
    """LINE (Tang et al. 2015): edge sampling; ``order=2`` (vertex . context,
    as GraphVite) or ``order=1`` (vertex . vertex, which GraphVite lacks)."""

    model = "line"


class Node2Vec(NodeEmbedding):
    """node2vec (Grover & Leskovec 2016): second-order biased walks with return
    parameter ``p`` and in-out parameter ``q``, sampled by rejection with
    O(|V| + |E|) memory (no per-edge alias tables)."""

    model = "node2vec"


MODEL_CLASSES = {"deepwalk": DeepWalk, "line": LINE, "node2vec": Node2Vec}
__all__ = ["NodeEmbedding", "DeepWalk", "LINE", "Node2Vec", "MODEL_CLASSES"]
