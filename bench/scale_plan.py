"""A plan, with numbers, for training a Friendster-size graph on W ranks.

For each rank count W and dimension d: the schedule the engine would run
(:func:`orthogonal_rounds` with W workers, P partitions), replayed by
:func:`placement_plan` at that real P (with no tables: only who holds which
partition when) to count the partition transfers of one episode exactly; then
the bytes they move, the samples exchanged between ranks, memory per rank and
the time per episode and per run under stated throughput and bandwidth
assumptions.

An episode is one pass over the P x P schedule giving each block about
``--pass-samples`` samples per row of its partition (the engine's rule: 4), so
``4 * P * n`` positive samples; rank w samples 1/W of them and sends each pair
(8 bytes) to the rank whose block it falls in.

    python bench/scale_plan.py                       # Friendster, W = 4 and 16
    python bench/scale_plan.py --nodes 41.6e6 --edges 1.46e9   # PBG's Twitter
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from vitegraph.partition.placement import HEAD_SIDE, TAIL_SIDE, placement_plan  # noqa: E402
from vitegraph.partition.schedule import orthogonal_rounds  # noqa: E402

GIB = 2 ** 30


def plan_row(n, m, d, W, P, args):
    rounds = orthogonal_rounds(P, W)
    plan = placement_plan(rounds, W, passes=2)
    # the second pass is the steady state (the first starts from the initial placement)
    moves = [mv for mv in plan.moves if mv.pass_no == 1]
    part_bytes = n / P * d * 4
    head = sum(1 for mv in moves if mv.side == HEAD_SIDE)
    tail = sum(1 for mv in moves if mv.side == TAIL_SIDE)
    episode = args.pass_samples * P * n
    moved = (head + tail) * part_bytes
    exchanged = episode * 8 * (W - 1) / W
    per_rank_in = moved / W + exchanged / W
    # memory per rank: the partitions it holds at most, one more arriving, its
    # share of two pools and the routing staging, the sampling tables; the graph
    # (memory-mapped, shared by the ranks of one machine) counted per machine
    tables = (max(plan.max_held) + 1) * part_bytes
    pools = 2 * episode / W * 8 + episode / W * 9
    sampling = 24 * n
    graph = 8 * (n + 1) + 4 * 2 * m
    rounds_per_episode = len(rounds)
    compute = episode / W / args.throughput
    transfer_round = part_bytes / args.bandwidth           # one head partition per round
    exchange = exchanged / W / args.bandwidth
    episode_time = rounds_per_episode * max(compute / rounds_per_episode, transfer_round) \
        + exchange * (0 if args.overlap_exchange else 1)
    episodes = args.samples_per_row * n / episode
    return dict(W=W, P=P, d=d, rounds=rounds_per_episode, head=head, tail=tail,
                part_gib=part_bytes / GIB, moved_gib=moved / GIB,
                exch_gib=exchanged / GIB, in_gib=per_rank_in / GIB,
                mem_gib=(tables + pools + sampling) / GIB, graph_gib=graph / GIB,
                held=max(plan.max_held), episode=episode, compute=compute,
                transfer=rounds_per_episode * transfer_round, exchange=exchange,
                episode_time=episode_time, episodes=episodes,
                hours=episodes * episode_time / 3600)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=float, default=65.6e6)
    ap.add_argument("--edges", type=float, default=1.806e9)
    ap.add_argument("--dims", type=int, nargs="+", default=[96, 128])
    ap.add_argument("--ranks", type=int, nargs="+", default=[4, 16])
    ap.add_argument("--partitions-per-rank", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--pass-samples", type=float, default=4.0,
                    help="samples per row a block gets in one pass (the engine's rule: 4)")
    ap.add_argument("--samples-per-row", type=float, default=1000.0,
                    help="training length in positive samples per row")
    ap.add_argument("--throughput", type=float, default=3e8,
                    help="positive samples per second one rank trains (assumed; see docs)")
    ap.add_argument("--bandwidth", type=float, default=25e9,
                    help="bytes per second into one rank (25 GB/s: 200 Gb/s InfiniBand)")
    ap.add_argument("--overlap-exchange", action="store_true",
                    help="the sample exchange hides behind training (double-buffered pools)")
    args = ap.parse_args(argv)
    n, m = int(args.nodes), int(args.edges)
    print(f"graph: {n:,} nodes, {m:,} edges; {args.samples_per_row:g} samples per row; "
          f"rank throughput {args.throughput:.2g} samples/s; link {args.bandwidth / 1e9:g} GB/s "
          f"per rank; exchange {'overlapped' if args.overlap_exchange else 'not overlapped'}")
    print("\n| W | P | d | rounds | head moves / tail moves per episode | partition GiB "
          "| moved GiB (partitions) | exchanged GiB (samples) | in per rank GiB | memory per "
          "rank GiB (+ graph per machine) | episode samples | compute / transfer / exchange "
          "s per episode | episodes | hours |")
    print("|" + "---|" * 14)
    for W in args.ranks:
        for k in args.partitions_per_rank:
            for d in args.dims:
                r = plan_row(n, m, d, W, W * k, args)
                print(f"| {W} | {r['P']} | {d} | {r['rounds']} | {r['head']} / {r['tail']} | "
                      f"{r['part_gib']:.2f} | {r['moved_gib']:.0f} | {r['exch_gib']:.0f} | "
                      f"{r['in_gib']:.0f} | {r['mem_gib']:.1f} (+{r['graph_gib']:.1f}) | "
                      f"{r['episode'] / 1e9:.2f} B | {r['compute']:.1f} / {r['transfer']:.1f} / "
                      f"{r['exchange']:.1f} | {r['episodes']:.0f} | {r['hours']:.2f} |")


if __name__ == "__main__":
    main()
