"""Block schedules: which (vertex partition i, context partition j) block each
worker trains in each round.

:func:`orthogonal_rounds` returns rounds of mutually orthogonal blocks (no two
share a row i or a column j), so the workers of one round touch disjoint
embedding rows and need no synchronisation.  Every one of the ``P x P`` blocks
appears exactly once, in ``ceil(P*P / W)`` rounds, the fewest possible.

Construction.  The blocks are listed column by column (column = context
partition j) and the list is cut into W contiguous segments, one per worker,
longer segments first.  Worker w trains its segment in order, one block per
round, so it keeps its context partition for runs of up to P consecutive rounds
and only swaps vertex partitions in between; each worker changes context at most
``ceil(len(segment) / P)`` times and all workers together at most ``P - 1``
times.  Because every segment holds at least P blocks, the workers of a round are
always in different columns.  The rows inside each column must then be ordered so
that no two workers of a round share a row:

* when W divides P each worker owns whole columns and the k-th block of column
  c is row ``(c + k) mod P`` (a Latin square), which is conflict-free;
* otherwise the rows come from a proper edge colouring with P colours of the
  bipartite graph "column c -- round r" (one edge for each round in which column
  c is trained; colour = row).  Column degrees are P and round degrees at most
  W <= P, so by Koenig's theorem P colours suffice; we find them with the
  classic alternating-path recolouring, O(P^3) at worst, instant for the small
  P used in practice.

Position w of a round is worker w's block; when W does not divide P*P the last
round is shorter and its blocks belong to workers 0, 1, ...

:func:`shared_rounds` is the schedule for objectives whose two sides index ONE
table (first-order LINE, knowledge-graph entities, LargeVis): block ``(i, j)``
touches partitions i and j of that table, so the blocks of a round must use
pairwise disjoint partitions (a diagonal block ``(i, i)`` uses i once) and a
round holds at most ``floor(P/2)`` blocks.

Construction (round-robin tournament, "circle method").  Off-diagonal blocks are
the edges of the complete graph on the P partitions, each in both directions.
For m = P (P odd) or m = P - 1 (P even), matching r (``0 <= r < m``) pairs
``(r + k) mod m`` with ``(r - k) mod m`` for ``k = 1 .. floor(m/2)``; r itself
is paired with the fixed partition P - 1 when P is even, and sits out (is
paired with the dummy) when P is odd.  These m matchings partition
the edges; each is emitted twice, as ``(a, b)`` blocks and then as the reversed
``(b, a)`` blocks, giving ``2m`` full rounds of ``floor(P/2)`` blocks.  The P
diagonal blocks follow, split into ``ceil(P / floor(P/2))`` rounds of balanced
size (larger first).  The partition paired with the dummy cannot take its
diagonal block into its matching round, as that would exceed the
``floor(P/2)`` cap.

Round count: 2P for even P, 2P + 3 for odd P >= 3, 1 for P = 1.  This equals
the lower bound ``ceil(P*P / floor(P/2))``: for even P it is exactly 2P; for odd
P = 2W + 1, ``P*P / W = 2P + 2 + 2 / (P - 1)``, whose ceiling is 2P + 3.  So the
schedule has the fewest rounds possible, every round but the diagonal ones is
full, and the round lengths never increase.
"""

from __future__ import annotations

from ..errors import ParameterError


def _check(num_partitions, num_workers):
    for name, value in (("num_partitions", num_partitions), ("num_workers", num_workers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ParameterError("orthogonal_rounds", name, "a positive int", value)
    if num_workers > num_partitions:
        raise ParameterError("orthogonal_rounds", "num_workers",
                             f"at most num_partitions ({num_partitions})", num_workers)


def _segments(num_blocks: int, num_workers: int) -> list[tuple[int, int]]:
    """Split ``range(num_blocks)`` into contiguous segments, longer ones first."""
    base, extra = divmod(num_blocks, num_workers)
    out, start = [], 0
    for w in range(num_workers):
        n = base + (1 if w < extra else 0)
        out.append((start, n))
        start += n
    return out


def _colour_rows(P: int, column_rounds: list[list[int]], num_rounds: int) -> dict:
    """Proper P-edge-colouring of the bipartite multigraph column--round.

    Returns ``{(column, round): row}``.  Edges of one column go to distinct rounds.
    """
    col_colour = [dict() for _ in range(P)]          # colour -> round
    round_colour = [dict() for _ in range(num_rounds)]  # colour -> column

    for c in range(P):
        for r in column_rounds[c]:
            a = next(x for x in range(P) if x not in col_colour[c])
            if a not in round_colour[r]:
                col_colour[c][a] = r
                round_colour[r][a] = c
                continue
            b = next(x for x in range(P) if x not in round_colour[r])
            # b is free at round r; if also free at column c, use it
            if b not in col_colour[c]:
                col_colour[c][b] = r
                round_colour[r][b] = c
                continue
            # Swap a and b along the alternating path that starts at round r with
            # colour a.  It cannot reach column c (bipartite parity argument), so
            # afterwards a is free at r and still free at c.
            path = []
            node_is_round, node, colour = True, r, a
            while True:
                table = round_colour[node] if node_is_round else col_colour[node]
                if colour not in table:
                    break
                nxt = table[colour]
                path.append((node, nxt, colour) if node_is_round else (nxt, node, colour))
                node_is_round, node = not node_is_round, nxt
                colour = b if colour == a else a
            for rr, cc, col in path:  # remove, then re-add with swapped colours
                del round_colour[rr][col]
                del col_colour[cc][col]
            for rr, cc, col in path:
                new = b if col == a else a
                round_colour[rr][new] = cc
                col_colour[cc][new] = rr
            col_colour[c][a] = r
            round_colour[r][a] = c
    return {(c, r): colour for c in range(P) for colour, r in col_colour[c].items()}


def orthogonal_rounds(num_partitions: int, num_workers: int) -> list[list[tuple[int, int]]]:
    """Rounds of orthogonal blocks covering the ``P x P`` grid exactly once.

    Returns a list of rounds; round[w] is the ``(i, j)`` block of worker w
    (i = vertex partition, j = context partition).  ``1 <= num_workers <=
    num_partitions``.  Pure and deterministic.
    """
    _check(num_partitions, num_workers)
    P, W = num_partitions, num_workers
    segments = _segments(P * P, W)
    num_rounds = segments[0][1]
    # flattened block x -> (column x // P, k-th block of that column x % P)
    if P % W == 0:
        def row(c, k, r):
            return (c + k) % P
    else:
        column_rounds = [[] for _ in range(P)]
        for start, n in segments:
            for r in range(n):
                column_rounds[(start + r) // P].append(r)
        colours = _colour_rows(P, column_rounds, num_rounds)

        def row(c, k, r):
            return colours[(c, r)]
    rounds = []
    for r in range(num_rounds):
        blocks = []
        for start, n in segments:
            if r < n:
                x = start + r
                c, k = divmod(x, P)
                blocks.append((row(c, k, r), c))
        rounds.append(blocks)
    return rounds


def shared_rounds(num_partitions: int) -> list[list[tuple[int, int]]]:
    """Rounds of partition-disjoint blocks for a table shared by both sides.

    Every one of the ``P x P`` blocks ``(i, j)`` appears exactly once; within a
    round no partition occurs in two blocks (``(i, i)`` counts i once) and a
    round holds at most ``floor(P/2)`` blocks (one block when P = 1).  Uses
    ``ceil(P*P / floor(P/2))`` rounds, the fewest possible: 2P for even P,
    2P + 3 for odd P >= 3, and 1 for P = 1.  Round lengths never increase.  Pure
    and deterministic.
    """
    P = num_partitions
    if isinstance(P, bool) or not isinstance(P, int) or P < 1:
        raise ParameterError("shared_rounds", "num_partitions", "a positive int", P)
    if P == 1:
        return [[(0, 0)]]
    half = P // 2
    m = P if P % 2 else P - 1  # number of matchings (tournament rounds)
    rounds = []
    for r in range(m):
        pairs = [] if P % 2 else [(r, P - 1)]
        pairs += [((r + k) % m, (r - k) % m) for k in range(1, m // 2 + 1)]
        rounds.append(pairs)
        rounds.append([(b, a) for a, b in pairs])
    num_diag = -(-P // half)
    for start, n in _segments(P, num_diag):
        rounds.append([(i, i) for i in range(start, start + n)])
    return rounds
