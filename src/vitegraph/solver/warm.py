"""Warm starts: a run's tables begin from a trained embedding, and may train
only the rows that embedding lacks.

``train(data, config, init=embeddings)`` copies every saved table of
``embeddings`` that the model also has (same name and width) into the new
run's tables, rows matched by node name (so a grown graph, whose file order
differs, is fine); rows of nodes the embedding lacks start as a fresh run's.
With ``freeze_existing=True`` the copied rows are frozen: the kernels read
them and never write them, so they end bitwise as they came, and only the
new nodes' rows (of every partitioned table: a new node's vertex and context
rows) train.  The model decides how a frozen run samples
(:meth:`~vitegraph.models.skipgram.SkipGram.prepare`: walks from the new
nodes) and the automatic length counts the trainable rows only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import ParameterError
from ..models.spec import GLOBAL, NODES

OWNER = "train"


@dataclass
class WarmStart:
    """``rows[name]``: the source row of each of the run's rows (-1: none);
    ``sources[name]``: the source table; ``trainable``: bool per node of a
    frozen run (None: everything trains)."""

    rows: dict
    sources: dict
    trainable: Optional[np.ndarray]

    @classmethod
    def build(cls, model, config, info, init, freeze: bool) -> "WarmStart":
        from ..embeddings import Embeddings
        if init is None:
            raise ParameterError(OWNER, "freeze_existing", "False unless init= gives the "
                                 "trained embeddings", freeze)
        if not isinstance(init, Embeddings):
            try:
                init = Embeddings.read(init)
            except (TypeError, ValueError) as exc:
                raise ParameterError(OWNER, "init", "an Embeddings or the path of a saved "
                                     "one", type(init).__name__) from exc
        if model.direct:
            raise ParameterError(OWNER, "init", f"None: {model.title} is solved directly, "
                                 "not trained from a start", "an embedding")
        rows, sources = {}, {}
        for t in model.tables(config):
            if t.tied_to is not None or not t.saved or t.name not in init.tables:
                continue
            src = init.table(t.name)
            if src.shape[1] != t.width(config):
                raise ParameterError(OWNER, "init", f"tables of this run's widths ({t.name!r}: "
                                     f"{t.width(config)})", f"{t.name!r} of width {src.shape[1]}")
            vocab = info.vocabulary if t.rows == NODES else info.vocabularies.get(t.rows)
            rows[t.name] = init.rows_for(vocab, t.name)
            sources[t.name] = src
        if not rows:
            raise ParameterError(OWNER, "init", "an embedding with a table of this model ("
                                 + ", ".join(t.name for t in model.tables(config)) + ")",
                                 ", ".join(init.tables))
        trainable = None
        if freeze:
            if not getattr(model, "can_freeze", False):
                raise ParameterError(OWNER, "freeze_existing", f"False ({model.title} cannot "
                                     "train some rows only)", True)
            primary = rows.get(model.primary)
            if primary is None:
                raise ParameterError(OWNER, "init", f"an embedding with the {model.primary!r} "
                                     "table", ", ".join(init.tables))
            trainable = primary < 0
            if not trainable.any():
                raise ParameterError(OWNER, "freeze_existing", "False: every node already "
                                     "has a row in init, nothing would train", True)
        return cls(rows, sources, trainable)

    @property
    def num_trainable(self) -> Optional[int]:
        return None if self.trainable is None else int(self.trainable.sum())

    def check_run(self, rc) -> None:
        """Frozen rows need the numba kernels and tables in memory."""
        if self.trainable is None:
            return
        if rc.backend != "numba":
            raise ParameterError(OWNER, "freeze_existing", "used with backend numba (the CPU "
                                 "kernels freeze rows)", f"backend {rc.backend}")
        if rc.table_storage != "memory":
            raise ParameterError(OWNER, "freeze_existing", "used with tables in memory",
                                 f"table_storage {rc.table_storage}")

    def apply(self, tables: dict, specs, order: np.ndarray) -> None:
        """Copy the source rows into ``tables`` (storage order: row k holds node
        ``order[k]``; global tables are in row order)."""
        for t in specs:
            if t.name not in self.rows or t.name not in tables:
                continue
            src_rows = self.rows[t.name]
            if t.role != GLOBAL:
                src_rows = src_rows[order]
            have = np.flatnonzero(src_rows >= 0)
            tables[t.name][have] = np.asarray(self.sources[t.name])[src_rows[have]]
