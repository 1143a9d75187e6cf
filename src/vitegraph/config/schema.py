"""A small typed-options schema: one source of truth for every default.

A config class is a frozen dataclass whose fields are declared with
:func:`option` (type, default, help text, allowed values).  Construction
validates every field and raises :class:`~vitegraph.errors.ParameterError` with
the field's name, so ``DeepWalk(dim=-3)`` says::

    The 'dim' parameter of DeepWalk must be a positive int. Got -3 instead.

:func:`from_mapping` builds a config from plain data (a YAML section) and names
the key path on error, with a "did you mean" hint for unknown keys.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any, Mapping, Optional, Sequence

from .._validate import did_you_mean
from ..errors import ConfigError, ParameterError

AUTO = "auto"


def option(default: Any, kind: str, help: str, *, choices: Optional[Sequence] = None,
           minimum: Optional[float] = None, exclusive_minimum: bool = False,
           maximum: Optional[float] = None, allow_auto: bool = False,
           allow_none: bool = False) -> Any:
    """Declare a config field.

    ``kind``: 'int', 'float', 'bool', 'str' or 'path'.  ``allow_auto``: the
    string ``"auto"`` is accepted and resolved later from the graph and machine.
    """
    meta = dict(kind=kind, help=help, choices=tuple(choices) if choices else None,
                minimum=minimum, exclusive_minimum=exclusive_minimum, maximum=maximum,
                allow_auto=allow_auto, allow_none=allow_none)
    return dataclasses.field(default=default, metadata=meta)


def default_of(func, name: str) -> Any:
    """The default of parameter ``name`` of ``func``: config options that mirror
    a library function's parameter take its default from there, so the two
    cannot drift apart."""
    import inspect
    return inspect.signature(func).parameters[name].default


def describe(meta: Mapping) -> str:
    """The expectation text used in error messages: 'a positive int', ..."""
    kind = meta["kind"]
    if meta["choices"]:
        text = "one of " + ", ".join(repr(c) for c in meta["choices"])
    else:
        lo, hi = meta["minimum"], meta["maximum"]
        noun = {"int": "int", "float": "number", "bool": "bool", "str": "string",
                "path": "path"}[kind]
        if lo == 0 and meta["exclusive_minimum"] and hi is None:
            text = f"a positive {noun}"
        elif lo == 0 and hi is None:
            text = f"a non-negative {noun}"
        elif lo is not None and hi is not None:
            text = f"a {noun} in [{lo}, {hi}]"
        elif lo is not None:
            text = f"a {noun} {'>' if meta['exclusive_minimum'] else '>='} {lo}"
        else:
            text = f"a {noun}"
        if text.startswith("a int"):
            text = "an" + text[1:]
    if meta["allow_auto"]:
        text += " or 'auto'"
    if meta["allow_none"]:
        text += " or None"
    return text


def check_value(meta: Mapping, value: Any) -> Any:
    """The value, normalised (ints for floats are accepted), or raise ValueError."""
    if value is None and meta["allow_none"]:
        return None
    if meta["allow_auto"] and value == AUTO:
        return AUTO
    kind = meta["kind"]
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError
    elif kind == "int":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError
        value = int(value)
    elif kind == "float":
        if isinstance(value, str):
            # YAML 1.1 (PyYAML) reads 1e-3 as a string; accept what float() parses
            try:
                value = float(value)
            except ValueError:
                raise ValueError from None
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError
        value = float(value)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError
    elif kind in ("str", "path"):
        if not isinstance(value, str):
            import os
            if kind == "path" and isinstance(value, os.PathLike):
                value = os.fspath(value)
            else:
                raise ValueError
    if meta["choices"] and value not in meta["choices"]:
        raise ValueError
    if kind in ("int", "float"):
        lo, hi = meta["minimum"], meta["maximum"]
        if lo is not None and (value < lo or (meta["exclusive_minimum"] and value == lo)):
            raise ValueError
        if hi is not None and value > hi:
            raise ValueError
    return value


def validate(obj, owner: Optional[str] = None, skip: tuple = ()) -> None:
    """Check and normalise every field of a frozen config dataclass in place
    (fields named in ``skip`` are checked by the caller)."""
    owner = owner or type(obj).__name__
    for f in dataclasses.fields(obj):
        if "kind" not in f.metadata or f.name in skip:
            continue
        value = getattr(obj, f.name)
        try:
            norm = check_value(f.metadata, value)
        except ValueError:
            raise ParameterError(owner, f.name, describe(f.metadata), value) from None
        if norm is not value:
            object.__setattr__(obj, f.name, norm)


def from_mapping(cls, data: Mapping, path: str = "", owner: Optional[str] = None,
                 **extra):
    """Build ``cls`` from a mapping, naming ``path.key`` in every error."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path or 'config'}: expected a mapping of options, got "
                          f"{type(data).__name__}")
    names = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in names:
            where = f"{path}.{key}" if path else str(key)
            raise ConfigError(f"{where}: unknown option" + did_you_mean(key, names) +
                              f"; known options: {', '.join(names)}")
    try:
        return cls(**dict(data), **extra)
    except ParameterError as exc:
        where = f"{path}.{exc.name}" if path else exc.name
        raise ConfigError(f"{where}: must be {exc.expected}, got {exc.got!r}") from None


def options_help(cls) -> list[tuple[str, Any, str, str]]:
    """``(name, default, expectation, help)`` of every option, for docs and templates."""
    out = []
    for f in dataclasses.fields(cls):
        if "kind" in f.metadata:
            out.append((f.name, f.default, describe(f.metadata), f.metadata["help"]))
    return out
