"""Where partitions live when W ranks (processes, machines) share a schedule.

A schedule (:func:`orthogonal_rounds` with W workers, or :func:`shared_rounds`)
gives rank w the block ``rounds[r][w]`` in round r.  Before each round every
rank must hold the partitions of its block: the head partition i and the tail
partition j (one table seen from both sides: both are partitions of that
table).  :func:`placement_plan` decides the transfers with the rule GraphVite
applies between host and devices, now between ranks: a partition stays on the
rank that last trained it until another rank needs it, and then travels
straight there (no home to return to).  Because the blocks of a round are
orthogonal, a partition is needed by at most one rank per round, so it has
exactly one holder at any time: no two ranks ever hold, let alone train, the
same partition (checked while the plan is built).

:func:`orthogonal_rounds` keeps each rank on one context (tail) partition for
runs of up to P rounds, so tail partitions almost never move and head
partitions move about once per block: per pass over the schedule about
``P * P`` head transfers of ``n / P`` rows each, that is P times the head
table's bytes, and at most ``P - 1`` tail transfers.  The plan counts them
exactly, over several passes and episodes (the holders carry over).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..errors import ParameterError

HEAD_SIDE = "head"
TAIL_SIDE = "tail"


@dataclass(frozen=True)
class Move:
    """Before round ``round`` (of pass ``pass_no``), partition ``partition`` of
    the ``side`` table goes from rank ``src`` to rank ``dst``."""

    pass_no: int
    round: int
    side: str
    partition: int
    src: int
    dst: int


@dataclass
class PlacementPlan:
    """The transfers of ``passes`` passes over ``rounds`` by ``num_ranks`` ranks.

    ``moves``: every transfer in order; ``initial[side][p]``: the rank that
    initialises partition p; ``max_held[w]``: the most partitions (both sides,
    counted once for a shared table) rank w holds at any time; ``idle[w]``:
    rounds in which rank w has no block."""

    num_partitions: int
    num_ranks: int
    shared: bool
    rounds: list
    passes: int
    initial: dict
    rank_of: object = None              # (position, block) -> rank
    moves: list = field(default_factory=list)
    max_held: list = field(default_factory=list)
    idle: list = field(default_factory=list)

    def count(self, side: Optional[str] = None) -> int:
        return sum(1 for m in self.moves if side is None or m.side == side)

    def bytes_moved(self, rows_per_partition: float, row_bytes: int, side=None) -> float:
        """Bytes of the transfers (``rows_per_partition`` rows of ``row_bytes``
        each; for a model with several tables on one side, the sum of their
        row widths)."""
        return self.count(side) * rows_per_partition * row_bytes


def column_owner(num_ranks: int):
    """The owner rule of :class:`~vitegraph.solver.distributed.DistributedExecutor`:
    block (i, j) runs on rank ``j mod W`` (rounds of P blocks, several per rank)."""
    return lambda position, block: block[1] % num_ranks


def placement_plan(rounds, num_ranks: int, *, shared: bool = False, passes: int = 1,
                   owner=None) -> PlacementPlan:
    """The transfers that give every rank its block's partitions before each
    round of ``rounds`` (round r, position w = rank w's block; or
    ``owner(position, block)``, e.g. :func:`column_owner`), repeated for
    ``passes`` passes.  ``shared``: head and tail index one table (first-order
    LINE, knowledge-graph entities), so a block (i, j) needs partitions i and j
    of that table.  Raises ``ValueError`` if a round asks for one partition on
    two ranks (the schedule is not orthogonal)."""
    if isinstance(num_ranks, bool) or not isinstance(num_ranks, int) or num_ranks < 1:
        raise ParameterError("placement_plan", "num_ranks", "a positive int", num_ranks)
    rank_of = owner or (lambda position, block: position)
    if owner is None and any(len(r) > num_ranks for r in rounds):
        raise ParameterError("placement_plan", "rounds", f"rounds of at most {num_ranks} "
                             "blocks (one per rank)", max(len(r) for r in rounds))
    P = 1 + max(max(i, j) for r in rounds for i, j in r)
    sides = (HEAD_SIDE,) if shared else (HEAD_SIDE, TAIL_SIDE)

    def side_of(k):                    # 0: the head partition of a block, 1: its tail
        return HEAD_SIDE if (shared or k == 0) else TAIL_SIDE

    # each partition starts on the first rank that needs it (it is initialised
    # there: no transfer), or on rank p mod W when no block of the pass uses it
    holder = {s: [None] * P for s in sides}
    for r in rounds:
        for pos, block in enumerate(r):
            for k, p in enumerate(block):
                s = side_of(k)
                if holder[s][p] is None:
                    holder[s][p] = rank_of(pos, block)
    for s in sides:
        holder[s] = [p % num_ranks if h is None else h for p, h in enumerate(holder[s])]
    plan = PlacementPlan(P, num_ranks, shared, rounds, passes,
                         {s: list(holder[s]) for s in sides}, rank_of=rank_of)
    held = [sum(1 for s in sides for h in holder[s] if h == w) for w in range(num_ranks)]
    plan.max_held = list(held)
    plan.idle = [0] * num_ranks
    for pass_no in range(passes):
        for r_no, r in enumerate(rounds):
            wanted = {}
            busy = set()
            for pos, block in enumerate(r):
                w = rank_of(pos, block)
                busy.add(w)
                for k, p in enumerate(block):
                    key = (side_of(k), p)
                    if wanted.setdefault(key, w) != w:
                        raise ValueError(f"round {r_no}: partition {p} ({key[0]}) is needed "
                                         f"by ranks {wanted[key]} and {w}")
            for (s, p), w in sorted(wanted.items()):
                src = holder[s][p]
                if src != w:
                    plan.moves.append(Move(pass_no, r_no, s, p, src, w))
                    holder[s][p] = w
                    held[src] -= 1
                    held[w] += 1
            for w in range(num_ranks):
                plan.max_held[w] = max(plan.max_held[w], held[w])
                if w not in busy:
                    plan.idle[w] += 1
    return plan
