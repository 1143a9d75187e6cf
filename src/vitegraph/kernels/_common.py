"""What every kernel shares: the statistics it returns.

Nothing here imports torch, so the numba kernels work without it.
"""

from __future__ import annotations

from typing import NamedTuple


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
