"""Argument checks of the evaluation applications (array shapes, intervals),
beside the package-wide ones of :mod:`vitegraph._validate`.

Every check raises :class:`~vitegraph.errors.ParameterError` naming the function
(``owner``) and the argument, so a caller sees which argument was wrong.
"""

from __future__ import annotations

import numbers
from typing import Optional

import numpy as np

from .._validate import check_bool, check_int, describe, is_int
from ..errors import ParameterError

__all__ = ["check_bool", "check_int", "check_real", "check_seed", "check_n_jobs", "describe",
           "is_int", "as_embedding_matrix", "as_int_array", "as_node_pairs"]


def check_real(owner: str, name: str, value: object, *, low: float, high: float,
               low_open: bool = True, high_open: bool = True, expected: str) -> float:
    """A finite real number within the given interval."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise ParameterError(owner, name, expected, describe(value))
    v = float(value)
    if not np.isfinite(v) or (v <= low if low_open else v < low) or (
            v >= high if high_open else v > high):
        raise ParameterError(owner, name, expected, value)
    return v


def check_seed(owner: str, seed: object) -> int:
    return check_int(owner, "seed", seed, minimum=0)


def check_n_jobs(owner: str, n_jobs: object) -> Optional[int]:
    """``None`` (one job), a positive int, or a negative int in joblib's sense
    (-1 = all cores)."""
    if n_jobs is None:
        return None
    if not is_int(n_jobs) or n_jobs == 0:
        raise ParameterError(owner, "n_jobs", "None or a non-zero int", describe(n_jobs))
    return int(n_jobs)


def as_embedding_matrix(x: object, owner: str, name: str) -> np.ndarray:
    """A finite float64 C-contiguous ``[n, d]`` array with n, d >= 1."""
    try:
        arr = np.asarray(x)
    except Exception:  # ragged lists and other objects numpy cannot hold
        raise ParameterError(owner, name, "a 2-D float array [num_nodes, dim]",
                             type(x).__name__) from None
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ParameterError(owner, name, "a non-empty 2-D float array [num_nodes, dim]",
                             describe(arr))
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ParameterError(owner, name, "a 2-D float array [num_nodes, dim]", describe(arr))
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise ParameterError(owner, name, "an array of finite values (no NaN or inf)",
                             describe(arr))
    return arr


def as_int_array(x: object, owner: str, name: str, *, ndim: int,
                 expected: str) -> np.ndarray:
    """An int64 array of the given rank.  Float arrays are accepted when every
    value is integral (as ``np.loadtxt`` returns them); bools are not."""
    try:
        arr = np.asarray(x)
    except Exception:
        raise ParameterError(owner, name, expected, type(x).__name__) from None
    if arr.ndim != ndim:
        raise ParameterError(owner, name, expected, describe(arr))
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64, copy=False)
    if np.issubdtype(arr.dtype, np.floating) and arr.size and np.isfinite(arr).all() \
            and (arr == np.round(arr)).all():
        return arr.astype(np.int64)
    if np.issubdtype(arr.dtype, np.floating) and arr.size == 0:
        return arr.astype(np.int64)
    raise ParameterError(owner, name, expected, describe(arr))


def as_node_pairs(x: object, num_nodes: int, owner: str, name: str, *,
                  allow_empty: bool = False) -> np.ndarray:
    """An int64 ``(k, 2)`` array of node ids in ``[0, num_nodes)``."""
    expected = "a (k, 2) int array of node pairs"
    arr = as_int_array(x, owner, name, ndim=2, expected=expected)
    if arr.shape[1] != 2:
        raise ParameterError(owner, name, expected, describe(arr))
    if arr.shape[0] == 0 and not allow_empty:
        raise ParameterError(owner, name, "a non-empty (k, 2) int array of node pairs",
                             describe(arr))
    if arr.size and (arr.min() < 0 or arr.max() >= num_nodes):
        bad = arr[(arr < 0) | (arr >= num_nodes)][0]
        raise ParameterError(owner, name, f"node ids in [0, {num_nodes})",
                             f"node id {int(bad)}")
    return np.ascontiguousarray(arr)
