"""Estimators in scikit-learn style, one per model, generated from its config section.

``vg.DeepWalk(dim=64).fit(graph)``: ``__init__`` stores exactly the keyword
parameters it is given (every one an option of the model's config section;
unknown names are a ``TypeError`` with a "did you mean" hint), unset ones read
as the schema's defaults, ``fit`` validates them, trains and returns ``self``;
learned state ends in ``_``.  ``get_params`` / ``set_params`` / ``repr`` follow
scikit-learn's conventions, so ``sklearn.base.clone`` and grid searches work,
and ``inspect.signature(vg.DeepWalk)`` lists every option with its default.

A subclass only names its model::

    class DeepWalk(Estimator):
        model = DEEPWALK      # the registered spec
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from .._validate import did_you_mean


def _param_fields(config_cls) -> list:
    return [f for f in dataclasses.fields(config_cls) if f.name != "model"]


class Estimator:
    """Base estimator; a subclass sets ``model`` to a registered model spec."""

    model = None
    _params: tuple = ()
    _defaults: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.model is None:
            return
        fields = _param_fields(cls.model.Config)
        cls._params = tuple(f.name for f in fields)
        cls._defaults = {f.name: f.default for f in fields}
        params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        params += [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default)
                   for f in fields]

        def __init__(self, **params):
            Estimator.__init__(self, **params)

        __init__.__signature__ = inspect.Signature(params)
        __init__.__doc__ = "Options (defaults and help: ``vitegraph new``):\n\n" + "\n".join(
            f"    {f.name} = {f.default!r}: {f.metadata.get('help', '')}" for f in fields)
        __init__.__qualname__ = f"{cls.__name__}.__init__"
        cls.__init__ = __init__

    def __init__(self, **params: Any):
        self._check_names(params)
        for name, value in params.items():
            setattr(self, name, value)

    def _check_names(self, params) -> None:
        for name in params:
            if name not in self._params:
                raise TypeError(f"{type(self).__name__} got an unexpected parameter "
                                f"{name!r}" + did_you_mean(name, self._params))

    def __getattr__(self, name):
        # unset parameters read as the schema's defaults
        defaults = type(self)._defaults
        if name in defaults:
            return defaults[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- scikit-learn conventions -------------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        """Every parameter, defaults filled in."""
        return {name: getattr(self, name) for name in self._params}

    def set_params(self, **params) -> "Estimator":
        self._check_names(params)
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        """Parameters that differ from the defaults, as scikit-learn prints them."""
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()
                         if not _same(v, self._defaults[k]))
        return f"{type(self).__name__}({args})"

    def config(self):
        """The validated config section of these parameters."""
        return self.model.Config(**self.get_params())

    # -- training -------------------------------------------------------------
    def fit(self, data, *, checkpoint=None, resume: bool = False, init=None,
            freeze_existing: bool = False) -> "Estimator":
        """Train on ``data`` (for node embedding: a :class:`~vitegraph.Graph`, or
        anything :func:`vitegraph.as_graph` accepts: scipy matrix, networkx
        graph, (E, 2) array, PyG edge_index).  Sets ``embeddings_`` (every saved
        table, the primary one first), ``result_``, ``stats_`` and ``config_``
        (the resolved options); returns ``self``.

        ``init``: trained embeddings to start from (rows matched by node name);
        with ``freeze_existing=True`` their rows stay exactly and only the
        nodes they lack train (see :func:`vitegraph.train`)."""
        from ..solver import train
        data = self.model.coerce_data(data)
        result = train(data, self.config(), checkpoint=checkpoint, resume=resume, init=init,
                       freeze_existing=freeze_existing)
        self.result_ = result
        self.embeddings_ = result.embeddings()
        self.stats_ = result.stats
        self.config_ = result.config
        return self

    def embed_new_nodes(self, data, *, method: str = "neighbours", **options):
        """The fitted embeddings extended to the nodes of a grown graph
        ``data`` that they lack, old rows unchanged
        (:func:`vitegraph.embed_new_nodes`; ``method="train"`` trains the new
        rows with this estimator's options).  Returns an
        :class:`~vitegraph.Embeddings` and leaves the estimator as it is."""
        from ..extend import embed_new_nodes
        if not hasattr(self, "embeddings_"):
            raise ValueError(f"{type(self).__name__} is not fitted yet: call fit first")
        if method == "train":
            params = {k: v for k, v in self.get_params().items() if k not in ("model",)}
            options = {**params, "model": self.model.name, **options}
        return embed_new_nodes(self.embeddings_, self.model.coerce_data(data), method=method,
                               **options)

    def fit_transform(self, data, **kwargs):
        """``fit`` then the primary table as a numpy array (row i = node id i)."""
        return self.fit(data, **kwargs).embeddings_.vectors


def _same(a, b) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:  # arrays and the like
        return a is b
