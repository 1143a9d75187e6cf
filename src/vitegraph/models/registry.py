"""The registry of models: name -> spec.  The built-in models register when
first asked for; a model defined elsewhere (a test, a plug-in) calls
:func:`register_model` and is then trained, configured and saved like the
built-in ones."""

from __future__ import annotations

import importlib

from .._validate import did_you_mean
from ..errors import ParameterError

_BUILTIN_MODULES = ("vitegraph.models.skipgram", "vitegraph.models.kge",
                    "vitegraph.models.largevis", "vitegraph.models.spectral")
_MODELS: dict = {}
_loaded = False


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for name in _BUILTIN_MODULES:
            importlib.import_module(name)


def register_model(model, *, replace: bool = False):
    """Make ``model`` (a :class:`~vitegraph.models.spec.Model` instance) known by
    ``model.name``; returns it."""
    from .spec import Model
    if not isinstance(model, Model) or not model.name:
        raise ParameterError("register_model", "model", "a named Model instance", model)
    if model.name in _MODELS and not replace and _MODELS[model.name] is not model:
        raise ParameterError("register_model", "model", f"a new name ({model.name!r} is "
                             "taken; pass replace=True)", model.name)
    cfg = model.Config
    cfg._model_name = model.name
    cfg._owner = model.title or model.name
    _MODELS[model.name] = model
    return model


def unregister_model(name: str) -> None:
    _MODELS.pop(name, None)


def model_names() -> list[str]:
    _load_builtins()
    return list(_MODELS)


def get_model(name: str, owner: str = "TrainConfig"):
    """The spec registered as ``name``."""
    _load_builtins()
    try:
        return _MODELS[name]
    except (KeyError, TypeError):
        raise ParameterError(owner, "model", "one of " + ", ".join(repr(m) for m in _MODELS)
                             + did_you_mean(name, _MODELS), name) from None
