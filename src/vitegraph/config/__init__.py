"""Configuration schema: every option's type, default and help in one place."""

from .schema import AUTO, from_mapping, options_help
from .train import MODELS, ResolvedConfig, TrainConfig, default_augmentation_step, resolve

__all__ = ["AUTO", "MODELS", "TrainConfig", "ResolvedConfig", "resolve",
           "default_augmentation_step", "from_mapping", "options_help"]
