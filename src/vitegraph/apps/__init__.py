"""Evaluation applications: node classification and link prediction.

Library functions only; they log through :mod:`logging` and print nothing.
"""

from .classification import (ClassificationResult, RatioScores, label_matrix,
                             node_classification, predict_top_k)
from .linkpred import (LinkPredictionResult, link_prediction, sample_non_edges,
                              split_edges)

__all__ = [
    "ClassificationResult", "RatioScores", "label_matrix", "node_classification",
    "predict_top_k",
    "LinkPredictionResult", "link_prediction", "sample_non_edges", "split_edges",
]
