"""Solver: ``train()``, the coordinator (episodes, lr schedule, progress, Ctrl-C,
checkpoints), executors (numba threads, one torch device), partition stores and
double-buffered pools."""

from .coordinator import TrainStats
from .trainer import TrainResult, make_config, train

__all__ = ["train", "make_config", "TrainResult", "TrainStats"]
