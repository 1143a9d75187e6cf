"""Negative tables: per context partition, proportional to degree ** exponent."""

import numpy as np
import pytest
from scipy import stats

from vitegraph.errors import ParameterError
from vitegraph.partition import partition_nodes
from vitegraph.sampling import build_negative_tables


def test_tables_follow_degree_power_within_each_partition():
    rng = np.random.default_rng(0)
    degree = rng.integers(0, 50, 200).astype(float)
    degree[:5] = 0
    part = partition_nodes(degree, 4)
    tables = build_negative_tables(part, degree, 0.75)
    assert tables.prob.shape == (200,) and tables.alias.dtype == np.int32
    n = 300_000
    for p in range(4):
        members = part.members(p)
        size = members.size
        prob, alias = tables.table(p)
        assert np.all((alias >= 0) & (alias < size))  # local indices
        draws = tables.sample(p, n, seed=p)
        assert np.all((draws >= 0) & (draws < size))
        counts = np.bincount(draws, minlength=size)
        law = np.where(degree[members] > 0, degree[members] ** 0.75, 0.0)
        assert np.all(counts[law == 0] == 0)  # degree 0: never drawn
        pos = law > 0
        expected = law[pos] / law.sum() * n
        assert stats.chisquare(counts[pos], expected).pvalue > 1e-3


def test_zero_degree_partition_is_uniform_and_exponent_zero():
    degree = np.array([5, 0, 3, 0, 0, 0], dtype=float)
    part = partition_nodes(degree, 2)
    # partition 1 gets ranks 1, 2, 5 (degrees 3, 0, 0); make one all-zero partition
    zero = np.array([4, 0, 0, 0, 2, 0], dtype=float)
    t = build_negative_tables(partition_nodes(zero, 3), zero, 0.75)
    for p in range(3):
        members = partition_nodes(zero, 3).members(p)
        draws = t.sample(p, 30_000, seed=1)
        if zero[members].sum() == 0:
            counts = np.bincount(draws, minlength=members.size)
            assert stats.chisquare(counts).pvalue > 1e-3
        else:
            assert np.all(zero[members][draws] > 0)
    t0 = build_negative_tables(part, degree, exponent=0.0)
    for p in range(2):
        members = part.members(p)
        draws = t0.sample(p, 10_000)
        assert np.all(degree[members][draws] > 0)  # still never a degree-0 node


def test_negative_table_errors():
    part = partition_nodes(np.ones(4), 2)
    with pytest.raises(ParameterError):
        build_negative_tables(part, np.ones(5), 0.75)
    with pytest.raises(ParameterError):
        build_negative_tables(part, -np.ones(4), 0.75)
    with pytest.raises(ParameterError):
        build_negative_tables(part, np.ones(4), exponent="x")
