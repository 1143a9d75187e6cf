"""Alias tables and random streams: exact construction, chi-square on draws."""

import numpy as np
import pytest
from scipy import stats

from vitegraph.sampling import alias_sample, build_alias, build_row_alias, make_states
from vitegraph.sampling.alias import _alias_sample


def _table_probs(prob, alias):
    """Exact outcome probabilities encoded by one alias table."""
    n = prob.size
    out = np.zeros(n)
    np.add.at(out, np.arange(n), prob / n)
    np.add.at(out, alias, (1.0 - prob) / n)
    return out


@pytest.mark.parametrize("weights", [
    [1.0], [1, 1, 1, 1], [5, 1, 0, 3, 0.5], np.arange(1, 60, dtype=float) ** 2,
    [0, 0, 7, 0], [1e-9, 1, 1e9],
])
def test_alias_table_encodes_the_distribution(weights):
    w = np.asarray(weights, dtype=float)
    prob, alias = build_alias(w)
    assert prob.dtype == np.float32 and alias.dtype == np.int32
    assert np.all((alias >= 0) & (alias < w.size))
    np.testing.assert_allclose(_table_probs(prob, alias), w / w.sum(), atol=1e-6)


def test_zero_weights_are_never_drawn():
    w = np.array([0, 3, 0, 1, 0, 0, 2, 0], dtype=float)
    prob, alias = build_alias(w)
    draws = alias_sample(prob, alias, 200_000, seed=3)
    assert set(np.unique(draws)) <= {1, 3, 6}


def test_all_zero_weights_fall_back_to_uniform():
    prob, alias = build_alias(np.zeros(5))
    np.testing.assert_allclose(_table_probs(prob, alias), np.full(5, 0.2), atol=1e-7)


def test_alias_draws_chi_square():
    rng = np.random.default_rng(0)
    w = rng.random(50) ** 3 + 0.01
    prob, alias = build_alias(w)
    n = 400_000
    counts = np.bincount(alias_sample(prob, alias, n, seed=11), minlength=w.size)
    assert stats.chisquare(counts, w / w.sum() * n).pvalue > 1e-3


def test_alias_rejects_bad_weights():
    with pytest.raises(ValueError):
        build_alias([1.0, -1.0])
    with pytest.raises(ValueError):
        build_alias([1.0, np.nan])
    with pytest.raises(ValueError):
        build_alias([])


def test_row_alias_tables_are_local_to_rows():
    indptr = np.array([0, 3, 3, 7, 8], dtype=np.int64)
    w = np.array([1, 2, 3, 4, 0.5, 0.5, 1, 9], dtype=float)
    prob, alias = build_row_alias(indptr, w)
    for r in range(4):
        lo, hi = indptr[r], indptr[r + 1]
        if hi == lo:
            continue
        assert np.all((alias[lo:hi] >= 0) & (alias[lo:hi] < hi - lo))
        np.testing.assert_allclose(_table_probs(prob[lo:hi], alias[lo:hi]),
                                   w[lo:hi] / w[lo:hi].sum(), atol=1e-6)


def test_streams_are_seeded_and_distinct():
    a, b = make_states(7, 4), make_states(7, 4)
    assert a.dtype == np.uint64
    np.testing.assert_array_equal(a, b)
    assert len(set(a.tolist())) == 4
    assert not np.array_equal(make_states(8, 4), a)
    prob, alias = build_alias(np.ones(10))
    x = _alias_sample(prob, alias, 1000, make_states(1, 1))
    y = _alias_sample(prob, alias, 1000, make_states(1, 1))
    np.testing.assert_array_equal(x, y)
