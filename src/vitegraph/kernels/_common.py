"""What every kernel shares: the statistics it returns and argument checks.

Nothing here imports torch, so the numba kernel works without it.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

from ..errors import ParameterError


class BlockStats(NamedTuple):
    """Statistics of one trained block.

    ``loss`` is the weighted loss summed over every sub-step (each negative with
    weight ``negative_weight``, each positive with weight 1), ``num_samples`` the
    number of positive samples trained.
    """

    loss: float
    num_samples: int

    @property
    def mean_loss(self) -> float:
        """Weighted loss per positive sample (0.0 for an empty block)."""
        return self.loss / self.num_samples if self.num_samples else 0.0


def check_int(owner: str, name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        what = "a positive int" if minimum == 1 else f"an int >= {minimum}"
        raise ParameterError(owner, name, what, value)
    return int(value)


def check_float(owner: str, name: str, value, minimum: float = 0.0) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = value == value and value != float("inf") and value >= minimum
    if not ok:
        raise ParameterError(owner, name, f"a finite float >= {minimum:g}", value)
    return value
