"""Models: specs the engine trains (tables, sample layout, sampler, kernels,
score, config section) and their scikit-learn style estimators.

Adding a model is a file here (a :class:`~vitegraph.models.spec.Model`
subclass registered with :func:`register_model`) plus its kernels; the solver,
config loader, CLI, checkpoints and saved files need no change.  The built-in
ones: DeepWalk, LINE and node2vec (:mod:`vitegraph.models.skipgram`), the
knowledge-graph models (:mod:`~vitegraph.models.kge`), LargeVis
(:mod:`~vitegraph.models.largevis`) and ProNE, solved without samples
(:mod:`~vitegraph.models.spectral`).
"""

from .._lazy import lazy_attributes
from .registry import get_model, model_names, register_model, unregister_model
from .spec import GLOBAL, HEAD, TAIL, DataInfo, DirectModel, Model, Problem, Table

_LAZY = {"Estimator": "vitegraph.models.estimator",
         "DeepWalk": "vitegraph.models.skipgram", "LINE": "vitegraph.models.skipgram",
         "Node2Vec": "vitegraph.models.skipgram", "LargeVis": "vitegraph.models.largevis",
         "ProNE": "vitegraph.models.spectral",
         **{name: "vitegraph.models.kge" for name in ("TransE", "DistMult", "ComplEx",
                                                        "SimplE", "RotatE", "QuatE")}}

__all__ = ["get_model", "model_names", "register_model", "unregister_model", "Model",
           "Table", "DataInfo", "DirectModel", "Problem", "HEAD", "TAIL", "GLOBAL", *_LAZY]

__getattr__ = lazy_attributes("vitegraph.models", globals(), _LAZY)
