"""CPU samplers: alias tables, random walks, online augmentation, sample pools,
negative tables.  All hot loops are numba ``nogil`` kernels with explicit,
seeded per-thread streams (see docs/design-sampling.md).
"""

from .alias import alias_draw, alias_sample, build_alias, build_row_alias
from .negative import NegativeTables, build_negative_tables
from .pool import PAIR, SamplePool, bytes_per_sample
from .rng import make_states
from .sampler import WalkSampler
from .walks import (WalkGraph, check_csr, default_augmentation_step, prepare_walk_graph,
                    random_walks, step_counts)

__all__ = [
    "alias_draw", "alias_sample", "build_alias", "build_row_alias",
    "NegativeTables", "build_negative_tables",
    "PAIR", "SamplePool", "bytes_per_sample",
    "make_states", "WalkSampler",
    "WalkGraph", "check_csr", "default_augmentation_step", "prepare_walk_graph",
    "random_walks", "step_counts",
]
