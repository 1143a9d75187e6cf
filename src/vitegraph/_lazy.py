"""Attributes of a package imported on first use (PEP 562), so that importing
the package stays cheap (numba, scikit-learn and torch take seconds)."""

from __future__ import annotations

from importlib import import_module
from typing import Callable, Mapping


def lazy_attributes(package: str, namespace: dict, where: Mapping[str, str]) -> Callable:
    """A module ``__getattr__`` that imports ``where[name]`` (a module path) on
    first access of ``name`` and caches the value in ``namespace``."""

    def __getattr__(name):
        if name in where:
            value = getattr(import_module(where[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
