"""Partition placement across ranks: one holder per partition, exact transfer counts."""

import pytest

from vitegraph.errors import ParameterError
from vitegraph.partition.placement import HEAD_SIDE, TAIL_SIDE, column_owner, placement_plan
from vitegraph.partition.schedule import orthogonal_rounds, shared_rounds


def replay(plan):
    """Apply the plan's moves round by round, checking that every rank holds its
    block's partitions when the round starts and that no partition is ever on
    two ranks; returns the holders at the end."""
    sides = (HEAD_SIDE,) if plan.shared else (HEAD_SIDE, TAIL_SIDE)
    holder = {s: list(plan.initial[s]) for s in sides}
    moves = iter(plan.moves)
    pending = next(moves, None)
    for pass_no in range(plan.passes):
        for r_no, r in enumerate(plan.rounds):
            while pending is not None and (pending.pass_no, pending.round) == (pass_no, r_no):
                assert holder[pending.side][pending.partition] == pending.src
                holder[pending.side][pending.partition] = pending.dst
                pending = next(moves, None)
            for pos, (i, j) in enumerate(r):
                w = plan.rank_of(pos, (i, j))
                assert holder[HEAD_SIDE][i] == w
                assert holder[HEAD_SIDE if plan.shared else TAIL_SIDE][j] == w
    assert pending is None
    return holder


@pytest.mark.parametrize("P,W", [(1, 1), (4, 2), (4, 4), (6, 4), (7, 3), (8, 8), (16, 4)])
def test_every_rank_holds_its_partitions_and_tails_stay(P, W):
    rounds = orthogonal_rounds(P, W)
    plan = placement_plan(rounds, W, passes=3)
    replay(plan)
    if P % W == 0:
        # whole columns per rank: context partitions never move, and a head
        # partition moves before every block but the first of each run on a rank
        assert plan.count(TAIL_SIDE) == 0
        assert plan.count(HEAD_SIDE) <= 3 * P * P
        assert plan.count(HEAD_SIDE) >= 3 * P * P - 3 * P * W
    else:
        assert plan.count(TAIL_SIDE) <= 3 * (P - 1) + P
    # the tables are sharded: no rank ever holds much more than its share
    assert max(plan.max_held) <= 2 * P // W + 2


@pytest.mark.parametrize("P,W", [(4, 2), (8, 4), (7, 3), (16, 8)])
def test_shared_tables(P, W):
    rounds = shared_rounds(P)
    plan = placement_plan(rounds, W, shared=True, passes=2)
    replay(plan)
    assert plan.count(TAIL_SIDE) == 0 and plan.count() > 0


def test_a_schedule_that_is_not_orthogonal_is_refused():
    with pytest.raises(ValueError, match="partition 0 .* ranks 0 and 1"):
        placement_plan([[(0, 0), (0, 1)]], 2)
    with pytest.raises(ParameterError, match="one per rank"):
        placement_plan(orthogonal_rounds(4, 4), 2)


def test_bytes_follow_the_counts():
    plan = placement_plan(orthogonal_rounds(4, 2), 2)
    assert plan.bytes_moved(1000, 512) == plan.count() * 1000 * 512


@pytest.mark.parametrize("P,W", [(2, 2), (4, 2), (4, 4), (8, 2)])
def test_the_executors_column_rule(P, W):
    plan = placement_plan(orthogonal_rounds(P, P), W, owner=column_owner(W), passes=2)
    replay(plan)
    assert plan.count(TAIL_SIDE) == 0
    # every block but the very first of each head partition needs its head moved
    assert plan.count(HEAD_SIDE) == 2 * P * P - P
