"""Solver: episodes over double-buffered pools, workers, lr schedule, checkpoints."""

from .trainer import TrainResult, TrainStats, train

__all__ = ["train", "TrainResult", "TrainStats"]
