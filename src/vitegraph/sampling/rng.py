"""Small, explicit random streams for numba kernels.

Every sampler thread and every training worker owns one 64-bit state and passes
it through its hot loop (``state, x = next_u64(state)``), so that a fixed seed and
thread count give identical output, independent of numba's global generator.

The generator is xorshift64* (Marsaglia 2003, with Vigna's output multiplier):
period 2**64 - 1, passes BigCrush except the lowest bits' linear tests, which we
never use alone (``randbelow`` takes the high 32 bits).  Streams are seeded with
splitmix64 of ``seed`` and the stream index, so neighbouring streams are
decorrelated and a state is never zero.

All functions are ``@njit(inline="always")`` and operate on ``np.uint64`` scalars;
keep literals wrapped in ``np.uint64`` inside numba code, because mixing uint64
with int64 promotes to float64.  Hand states between Python and
numba in ``uint64`` arrays (:func:`make_states`), one slot per thread: a Python
int arrives in numba as int64, and a loop variable that mixes int64 and uint64 is
silently unified to float64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STAR = np.uint64(0x2545F4914F6CDD1D)
_U32 = np.uint64(0xFFFFFFFF)
_INV24 = np.float32(1.0 / (1 << 24))
_INV53 = 1.0 / float(1 << 53)


@njit(inline="always", cache=True)
def splitmix64(x):
    """One splitmix64 output for input ``x`` (a bijective 64-bit mix)."""
    z = np.uint64(x) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(inline="always", cache=True)
def seed_stream(seed, stream):
    """Initial state of stream number ``stream`` under ``seed`` (never zero)."""
    s = splitmix64(splitmix64(np.uint64(seed)) ^ (np.uint64(stream) * _GOLDEN))
    if s == np.uint64(0):
        s = _GOLDEN
    return s


@njit(inline="always", cache=True)
def next_u64(state):
    """Advance ``state``; return ``(new_state, 64 random bits)``."""
    x = np.uint64(state)  # states arriving from Python are int64
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    return x, x * _STAR


@njit(inline="always", cache=True)
def randbelow(state, n):
    """Uniform integer in ``[0, n)`` for ``0 < n < 2**32``: ``(new_state, value)``.

    Lemire's multiply-shift on the high 32 bits; the bias is below n / 2**32.
    """
    state, x = next_u64(state)
    return state, np.int64(((x >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@njit(inline="always", cache=True)
def uniform(state):
    """Uniform float64 in ``[0, 1)`` with 53 random bits: ``(new_state, value)``."""
    state, x = next_u64(state)
    return state, np.float64(x >> np.uint64(11)) * _INV53


@njit(inline="always", cache=True)
def split_u64(x, n):
    """Split 64 random bits into an index in ``[0, n)`` (high 32 bits) and a float32
    coin in ``[0, 1)`` (24 of the low bits), for one-draw alias sampling."""
    x = np.uint64(x)
    idx = np.int64(((x >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))
    coin = np.float32((x & _U32) >> np.uint64(8)) * _INV24
    return idx, coin


def make_states(seed: int, n: int) -> np.ndarray:
    """``n`` independent stream states for ``seed``, as a ``uint64`` array."""
    return _make_states(np.int64(seed), np.int64(n))


@njit(cache=True)
def _make_states(seed, n):
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        out[i] = seed_stream(seed, i)
    return out
