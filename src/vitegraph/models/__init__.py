"""Models: estimator shells over the training engine."""

from .node_embedding import LINE, MODEL_CLASSES, DeepWalk, Node2Vec, NodeEmbedding

__all__ = ["NodeEmbedding", "DeepWalk", "LINE", "Node2Vec", "MODEL_CLASSES"]
