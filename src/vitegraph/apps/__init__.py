"""Evaluation applications: node classification and link prediction.

Library functions only; they log through :mod:`logging` and print nothing.
Imported on first use (scikit-learn takes a second to import); the protocols'
defaults are in :mod:`vitegraph.apps.protocols`.
"""

from .._lazy import lazy_attributes

_LAZY = {name: "vitegraph.apps.classification" for name in (
    "ClassificationResult", "RatioScores", "label_matrix", "node_classification",
    "predict_top_k")}
_LAZY.update({name: "vitegraph.apps.linkpred" for name in (
    "LinkPredictionResult", "link_prediction", "sample_non_edges", "split_edges")})

__all__ = list(_LAZY)

__getattr__ = lazy_attributes("vitegraph.apps", globals(), _LAZY)
