"""Configuration: the engine's training options (each model adds its section in
:mod:`vitegraph.models`), run files, and the schema that declares every option's
type, default and help in one place."""

from .schema import AUTO, from_mapping, options_help
from .train import ModelConfig, ResolvedConfig, TrainConfig, resolve

__all__ = ["AUTO", "TrainConfig", "ModelConfig", "ResolvedConfig", "resolve", "from_mapping",
           "options_help"]
