"""Argument checks used across the package: one place, one argument order.

Every check is ``check_x(owner, name, value, ...)`` and raises
:class:`~vitegraph.errors.ParameterError` naming the parameter and its owner
(scikit-learn style: ``The 'dim' parameter of DeepWalk must be a positive int.
Got -3 instead.``).  Config options are declared with
:func:`vitegraph.config.schema.option` and checked through the same functions.
"""

from __future__ import annotations

import difflib
import math
import numbers
from typing import Iterable, Optional

import numpy as np

from .errors import ParameterError


def describe(value: object) -> object:
    """A short stand-in for ``value`` in error messages (no huge array dumps)."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return value


def is_int(value: object) -> bool:
    """An integer that is not a bool (numpy integers included)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def int_expectation(minimum: Optional[int], maximum: Optional[int]) -> str:
    """'a positive int', 'a non-negative int', 'an int in [1, 40]', ..."""
    if maximum is not None:
        if minimum is None:
            return f"an int <= {maximum}"
        return f"an int in [{minimum}, {maximum}]"
    if minimum is None:
        return "an int"
    if minimum == 1:
        return "a positive int"
    if minimum == 0:
        return "a non-negative int"
    return f"an int >= {minimum}"


def check_int(owner: str, name: str, value, *, minimum: Optional[int] = None,
              maximum: Optional[int] = None) -> int:
    """An int (not a bool) in ``[minimum, maximum]``; returns it as a Python int."""
    ok = is_int(value) and (minimum is None or value >= minimum) and (
        maximum is None or value <= maximum)
    if not ok:
        raise ParameterError(owner, name, int_expectation(minimum, maximum), describe(value))
    return int(value)


def check_float(owner: str, name: str, value, *, minimum: Optional[float] = None,
                exclusive_minimum: bool = False, maximum: Optional[float] = None,
                expected: Optional[str] = None) -> float:
    """A finite real number (not a bool) within the bounds; returns a float."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if ok:
        x = float(value)
        ok = math.isfinite(x) and (minimum is None or x > minimum or
                                   (x == minimum and not exclusive_minimum)) and (
            maximum is None or x <= maximum)
    if not ok:
        if expected is None:
            if minimum == 0 and exclusive_minimum and maximum is None:
                expected = "a positive finite number"
            elif minimum is not None and maximum is not None:
                expected = f"a finite number in [{minimum:g}, {maximum:g}]"
            elif minimum is not None:
                expected = f"a finite number {'>' if exclusive_minimum else '>='} {minimum:g}"
            else:
                expected = "a finite number"
        raise ParameterError(owner, name, expected, describe(value))
    return float(value)


def check_bool(owner: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterError(owner, name, "a bool", describe(value))
    return bool(value)


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """``" (did you mean 'dim'?)"`` for the closest of ``choices``, or ``""``."""
    hint = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""
