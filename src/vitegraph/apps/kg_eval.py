"""Knowledge-graph completion: filtered ranking of link-prediction queries.

For each evaluated triplet (h, r, t) two queries are ranked over every entity:
the tail query (h, r, ?) and the head query (?, r, t).  *Filtered*: candidates
that form a triplet known in train, valid or test (other than the answer) are
left out.  Ties are broken by the *realistic* rank, the mean of the optimistic
rank (1 + candidates scoring higher) and the pessimistic one (1 + candidates
scoring at least as high, the answer excluded); the pessimistic figures are
reported too, as a model that scores everything equal would otherwise look good.

Two protocols, both reported:

- ``standard``: every triplet of the split is evaluated (entities that train
  lacks keep their untrained rows);
- ``graphvite``: triplets naming an entity that never occurs in train are
  dropped first, as GraphVite's evaluation does (210 of WN18RR's 3,134 test
  triplets, 28 of FB15k-237's 20,466), which raises WN18RR's figures.

Scores of all entities are computed in blocks of queries: each model turns a
query into a vector and a *kind* of comparison with the entity rows
(``dot``: ``E @ q``; ``l1``: ``-sum |e - q|``; ``complex_l1``: ``-sum_k |e_k -
q_k|`` over complex coordinates stored as ``[re | im]``), so no [queries x
entities x dim] array is built.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange

from ..errors import ParameterError

__all__ = ["KGEvaluation", "evaluate_kg", "filtered_ranks", "rank_metrics", "score_queries"]


# ---------------------------------------------------------------- scoring kernels

@njit(parallel=True, fastmath=True, cache=True)
def _neg_l1(E, Q, out):
    n, d = E.shape
    for a in prange(Q.shape[0]):
        q = Q[a]
        for e in range(n):
            s = np.float32(0.0)
            row = E[e]
            for k in range(d):
                s += abs(row[k] - q[k])
            out[a, e] = -s


@njit(parallel=True, fastmath=True, cache=True)
def _neg_complex_l1(E, Q, out):
    n, d2 = E.shape
    d = d2 // 2
    for a in prange(Q.shape[0]):
        q = Q[a]
        for e in range(n):
            s = np.float32(0.0)
            row = E[e]
            for k in range(d):
                x = row[k] - q[k]
                y = row[d + k] - q[d + k]
                s += np.sqrt(x * x + y * y)
            out[a, e] = -s


def score_queries(kind: str, entities: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Scores ``[len(queries), len(entities)]`` (higher is better) of one kind."""
    E = np.ascontiguousarray(entities, dtype=np.float32)
    Q = np.ascontiguousarray(queries, dtype=np.float32)
    if kind == "dot":
        return Q @ E.T
    out = np.empty((Q.shape[0], E.shape[0]), dtype=np.float32)
    if kind == "l1":
        _neg_l1(E, Q, out)
    elif kind == "complex_l1":
        _neg_complex_l1(E, Q, out)
    else:
        raise ValueError(f"unknown score kind {kind!r}")
    return out


# ---------------------------------------------------------------- filtering

class _Known:
    """Every known (anchor, relation) -> answers, for one side, as sorted
    keys and CSR-like answer lists."""

    def __init__(self, triplets: np.ndarray, side: str, num_entities: int,
                 num_relations: int):
        if side == "tail":
            anchor, answer = triplets[:, 0], triplets[:, 2]
        else:
            anchor, answer = triplets[:, 2], triplets[:, 0]
        key = anchor.astype(np.int64) * num_relations + triplets[:, 1]
        order = np.lexsort((answer, key))
        key, answer = key[order], answer[order]
        self.keys, starts = np.unique(key, return_index=True)
        self.starts = np.append(starts, key.size)
        self.answers = answer.astype(np.int64)
        self.num_relations = num_relations

    def answers_of(self, anchor: np.ndarray, relation: np.ndarray):
        """For each query, the slice of ``answers`` holding its known answers."""
        key = anchor.astype(np.int64) * self.num_relations + relation
        pos = np.searchsorted(self.keys, key)
        found = (pos < self.keys.size) & (self.keys[np.minimum(pos, self.keys.size - 1)] == key)
        lo = np.where(found, self.starts[np.minimum(pos, self.keys.size - 1)], 0)
        hi = np.where(found, self.starts[np.minimum(pos, self.keys.size - 1) + 1], 0)
        return lo, hi


def filtered_ranks(score_block, queries: np.ndarray, side: str, known: np.ndarray,
                   num_entities: int, num_relations: int, block: int = 256
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``(optimistic, pessimistic)`` filtered ranks (1 = best) of ``side``
    queries of the triplets ``queries`` [n, 3].

    ``score_block(anchor, relation, side)`` gives the scores of every entity
    as the answer, ``[len(anchor), num_entities]``; ``known`` holds every
    true triplet (train + valid + test)."""
    index = _Known(known, side, num_entities, num_relations)
    anchor = queries[:, 0] if side == "tail" else queries[:, 2]
    answer = (queries[:, 2] if side == "tail" else queries[:, 0]).astype(np.int64)
    rel = queries[:, 1]
    n = queries.shape[0]
    opt = np.empty(n, dtype=np.int64)
    pes = np.empty(n, dtype=np.int64)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        s = np.array(score_block(anchor[lo:hi], rel[lo:hi], side), dtype=np.float32)
        target = s[np.arange(hi - lo), answer[lo:hi]].copy()
        a, b = index.answers_of(anchor[lo:hi], rel[lo:hi])
        counts = b - a
        rows = np.repeat(np.arange(hi - lo), counts)
        # positions a[q] .. b[q] - 1 of every query q, without a loop over queries
        first = np.repeat(a - (np.cumsum(counts) - counts), counts)
        cols = index.answers[first + np.arange(counts.sum())]
        s[rows, cols] = -np.inf                 # known answers leave the candidates
        s[np.arange(hi - lo), answer[lo:hi]] = -np.inf   # and so does the answer itself
        t = target[:, None]
        opt[lo:hi] = 1 + (s > t).sum(axis=1)
        pes[lo:hi] = 1 + (s >= t).sum(axis=1)
        # a NaN score cannot be ranked: count it as the worst
        bad = ~np.isfinite(target)
        if bad.any():
            opt[lo:hi][bad] = num_entities
            pes[lo:hi][bad] = num_entities
    return opt, pes


def rank_metrics(ranks: np.ndarray) -> dict:
    r = np.asarray(ranks, dtype=np.float64)
    if r.size == 0:
        return {"count": 0, "mr": float("nan"), "mrr": float("nan"), "hits@1": float("nan"),
                "hits@3": float("nan"), "hits@10": float("nan")}
    return {"count": int(r.size), "mr": float(r.mean()), "mrr": float((1.0 / r).mean()),
            "hits@1": float((r <= 1).mean()), "hits@3": float((r <= 3).mean()),
            "hits@10": float((r <= 10).mean())}


@dataclass
class KGEvaluation:
    """Filtered link-prediction figures of one split under both protocols.

    ``metrics[protocol][ties][side]``: ``protocol`` is ``standard`` or
    ``graphvite``; ``ties`` ``realistic`` or ``pessimistic``; ``side``
    ``head``, ``tail`` or ``both``; each a dict of count, mr, mrr, hits@1/3/10.
    """

    split: str
    metrics: dict
    seconds: float
    dropped: int = 0            # triplets GraphVite's protocol leaves out
    extra: dict = field(default_factory=dict)

    def mrr(self, protocol: str = "standard", ties: str = "realistic") -> float:
        return self.metrics[protocol][ties]["both"]["mrr"]

    def summary(self) -> str:
        lines = [f"{self.split}: filtered ranking, realistic ties ({self.seconds:.1f} s)"]
        for proto in ("standard", "graphvite"):
            m = self.metrics[proto]["realistic"]["both"]
            p = self.metrics[proto]["pessimistic"]["both"]
            lines.append(f"  {proto:9s} n={m['count']:6d} MRR {m['mrr']:.4f} MR {m['mr']:.1f} "
                         f"H@1 {m['hits@1']:.4f} H@3 {m['hits@3']:.4f} H@10 "
                         f"{m['hits@10']:.4f} (pessimistic MRR {p['mrr']:.4f})")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"split": self.split, "metrics": self.metrics, "seconds": self.seconds,
                "dropped_by_graphvite_protocol": self.dropped}


def evaluate_kg(model, tables: dict, kg, split: str = "test", *, config=None,
                block: int = 256) -> KGEvaluation:
    """Filtered ranking of ``kg``'s ``split`` under trained ``tables`` of the
    knowledge-graph ``model`` (a :class:`~vitegraph.models.kge.KGEModel`)."""
    if split not in kg.splits:
        raise ParameterError("evaluate_kg", "split", f"one of {sorted(kg.splits)}", split)
    t0 = time.perf_counter()
    queries = kg.splits[split]
    known = np.concatenate([kg.splits[k] for k in kg.splits])
    n_e, n_r = kg.num_entities, kg.num_relations
    scorer = model.ranker(tables, config)
    ranks = {}
    for side in ("head", "tail"):
        ranks[side] = filtered_ranks(scorer, queries, side, known, n_e, n_r, block)
    seen = (queries[:, 0] < kg.num_train_entities) & (queries[:, 2] < kg.num_train_entities)
    metrics = {}
    for proto, keep in (("standard", np.ones(len(queries), bool)), ("graphvite", seen)):
        metrics[proto] = {}
        for ties in ("realistic", "pessimistic"):
            per = {}
            for side in ("head", "tail"):
                opt, pes = ranks[side]
                r = (opt + pes) / 2.0 if ties == "realistic" else pes.astype(np.float64)
                per[side] = r[keep]
            out = {side: rank_metrics(r) for side, r in per.items()}
            out["both"] = rank_metrics(np.concatenate([per["head"], per["tail"]]))
            metrics[proto][ties] = out
    return KGEvaluation(split, metrics, time.perf_counter() - t0, int((~seen).sum()))
