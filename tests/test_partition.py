"""Partitioner and block schedules: invariants over many shapes."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vitegraph.errors import ParameterError
from vitegraph.partition import Partition, orthogonal_rounds, partition_nodes, shared_rounds


def check_partition(part: Partition, degree):
    V, P = len(degree), part.num_partitions
    assert part.part_of.dtype == part.local_of.dtype == part.order.dtype == np.int32
    assert part.offsets.dtype == np.int64 and part.offsets[0] == 0 and part.offsets[-1] == V
    assert np.array_equal(np.sort(part.order), np.arange(V))  # a permutation
    rows = part.offsets[part.part_of] + part.local_of
    np.testing.assert_array_equal(part.order[rows], np.arange(V))
    np.testing.assert_array_equal(part.rows(np.arange(V)), rows)
    np.testing.assert_array_equal(part.to_global(part.part_of, part.local_of), np.arange(V))
    sizes = part.sizes()
    assert sizes.max() - sizes.min() <= 1  # node counts balance
    sums = np.array([np.sum(degree[part.members(p)]) for p in range(P)])
    assert sums.max() - sums.min() <= max(np.max(degree, initial=0), 0) + 1e-9
    for p in range(P):
        assert np.all(part.part_of[part.members(p)] == p)
        np.testing.assert_array_equal(part.local_of[part.members(p)], np.arange(sizes[p]))


def test_single_partition_is_identity():
    degree = np.array([3, 1, 4, 1, 5])
    part = partition_nodes(degree, 1)
    np.testing.assert_array_equal(part.order, np.arange(5))
    np.testing.assert_array_equal(part.local_of, np.arange(5))
    assert np.all(part.part_of == 0)
    check_partition(part, degree)


def test_zig_zag_by_degree_with_id_tie_break():
    degree = np.array([1, 9, 5, 5, 7, 3, 8, 2])
    part = partition_nodes(degree, 3)
    # by degree: 1(9) 6(8) 4(7) | 2(5) 3(5) 5(3) | 7(2) 0(1)
    # zig-zag:   p0   p1   p2   | p2   p1   p0   | p0   p1
    np.testing.assert_array_equal(part.members(0), [1, 5, 7])
    np.testing.assert_array_equal(part.members(1), [6, 3, 0])
    np.testing.assert_array_equal(part.members(2), [4, 2])
    check_partition(part, degree)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=300), st.integers(1, 12))
def test_partition_invariants(degrees, P):
    degree = np.array(degrees)
    P = min(P, len(degree))
    check_partition(partition_nodes(degree, P), degree)


def test_weighted_degrees_balance_on_skewed_graph():
    rng = np.random.default_rng(1)
    degree = rng.lognormal(3.0, 1.0, 10_000)  # BlogCatalog-like spread
    part = partition_nodes(degree, 4)
    check_partition(part, degree)
    sums = np.array([degree[part.members(p)].sum() for p in range(4)])
    assert sums.max() / sums.min() < 1.02


def test_partition_errors():
    with pytest.raises(ParameterError):
        partition_nodes(np.ones(3), 4)
    with pytest.raises(ParameterError):
        partition_nodes(np.ones(3), 0)
    with pytest.raises(ParameterError):
        partition_nodes(np.ones((2, 2)), 1)


def check_cover(P, rounds, width):
    """Every block of the P x P grid exactly once, rounds of 1..width blocks,
    never growing (shorter rounds only drop the last positions)."""
    seen = set()
    for r in rounds:
        assert 1 <= len(r) <= width
        for b in r:
            assert 0 <= b[0] < P and 0 <= b[1] < P
            assert b not in seen
            seen.add(b)
    assert len(seen) == P * P
    lengths = [len(r) for r in rounds]
    assert lengths == sorted(lengths, reverse=True)


def check_rounds(P, W, rounds):
    assert len(rounds) == math.ceil(P * P / W)
    check_cover(P, rounds, W)
    for r in rounds:
        rows = [i for i, _ in r]
        cols = [j for _, j in r]
        assert len(set(rows)) == len(r) and len(set(cols)) == len(r)  # orthogonal
    # context partitions stay with a worker: few switches in total
    switches = 0
    for w in range(W):
        cols = [r[w][1] for r in rounds if len(r) > w]
        switches += sum(a != b for a, b in zip(cols, cols[1:]))
    assert switches <= P - 1
    if P % W == 0:
        assert switches == P - W


@pytest.mark.parametrize("P,W", [(P, W) for P in range(1, 13) for W in range(1, P + 1)]
                         + [(16, 3), (16, 5), (17, 4), (24, 7), (32, 8)])
def test_orthogonal_rounds_invariants(P, W):
    check_rounds(P, W, orthogonal_rounds(P, W))


def test_orthogonal_rounds_examples_and_errors():
    assert orthogonal_rounds(1, 1) == [[(0, 0)]]
    assert orthogonal_rounds(2, 2) == [[(0, 0), (1, 1)], [(1, 0), (0, 1)]]
    assert orthogonal_rounds(3, 2) == orthogonal_rounds(3, 2)  # deterministic
    with pytest.raises(ParameterError):
        orthogonal_rounds(2, 3)
    with pytest.raises(ParameterError):
        orthogonal_rounds(0, 1)
    with pytest.raises(ParameterError):
        orthogonal_rounds(2, True)


def check_shared_rounds(P, rounds):
    check_cover(P, rounds, max(1, P // 2))
    for r in rounds:
        touched = [p for i, j in r for p in ({i, j} if i != j else {i})]
        assert len(set(touched)) == len(touched)  # blocks of a round share no partition


@pytest.mark.parametrize("P", range(1, 13))
def test_shared_rounds_invariants(P):
    rounds = shared_rounds(P)
    check_shared_rounds(P, rounds)
    # the fewest possible rounds: the lower bound ceil(P*P / floor(P/2)) is met
    assert len(rounds) == math.ceil(P * P / max(1, P // 2))
    assert len(rounds) == (1 if P == 1 else 2 * P if P % 2 == 0 else 2 * P + 3)
    if P % 2 == 0:
        assert all(len(r) == P // 2 for r in rounds)  # every round full
    assert rounds == shared_rounds(P)  # deterministic


def test_shared_rounds_round_counts():
    counts = {P: len(shared_rounds(P)) for P in range(1, 13)}
    assert counts == {1: 1, 2: 4, 3: 9, 4: 8, 5: 13, 6: 12,
                      7: 17, 8: 16, 9: 21, 10: 20, 11: 25, 12: 24}


def test_shared_rounds_examples_and_errors():
    assert shared_rounds(1) == [[(0, 0)]]
    assert shared_rounds(2) == [[(0, 1)], [(1, 0)], [(0, 0)], [(1, 1)]]
    for r in shared_rounds(6):  # (i, j) and (j, i) never share a round
        assert not any((j, i) in r for i, j in r if i != j)
    for bad in (0, -2, True, 2.0, "3", None):
        with pytest.raises(ParameterError) as info:
            shared_rounds(bad)
        assert info.value.name == "num_partitions"
        assert info.value.expected == "a positive int"
