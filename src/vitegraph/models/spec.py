"""What a model is, for the engine: a spec the solver reads, never a name it knows.

A model declares

- its **config section**: a subclass of :class:`~vitegraph.config.TrainConfig` (the engine's options; a model solved without samples subclasses :class:`~vitegraph.config.ModelConfig`)
  adding its options, each with its default and help (the one place they live);
- its **tables** (:class:`Table`): names, rows, initialisation and *role*;
- its **sample layout**: the names of the pool columns, the first two routed to
  blocks (``("head", "tail")`` pairs, ``("head", "relation", "tail")`` triplets);
- its **sampler** and per-partition **constants** (negative tables ...), built
  by :meth:`Model.prepare`;
- its **kernel for each backend** (:meth:`Model.kernel`), bound to its options;
- its **score** function for applications (:meth:`Model.score`).

Table roles, as GraphVite flags its tables:

``HEAD``
    rows are the data's nodes (or entities), split into the P partitions; block
    (i, j) sees partition i (the rows its column-0 samples index);
``TAIL``
    the same, partition j (column 1);
``GLOBAL``
    not partitioned (relations): every round slot gets a private copy per
    episode, and the copies are reduced once per episode, so a few hot rows are
    never trained Hogwild by many threads.

A table may be **tied** to another (``tied_to``): it has no storage of its own
and is the other table seen from its role's side.  First-order LINE ties
``context`` (TAIL) to ``vertex`` (HEAD): one table on both sides, so blocks
(i, j) and (j, i) touch the same rows, and the engine schedules rounds in which
no partition appears twice (:func:`vitegraph.partition.shared_rounds`).
Optimiser state (Adam moments per row ...) is a table like any other, with
``saved=False``.

A kernel binding is a callable::

    kernel(tables, columns, constants, lr_start, lr_end, rng, threads) -> BlockStats

``tables`` maps table names to the arrays of the block (HEAD/TAIL: the
partition's row slice; GLOBAL: ``[threads, rows, dim]``, one private copy per
thread); ``columns`` are the block's pool columns; ``constants`` the block's
slices of the model's constant arrays (same roles); ``rng`` is a uint64 state
array with ``threads`` slots (numba) or a ``torch.Generator`` (torch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np

HEAD = "head"
TAIL = "tail"
GLOBAL = "global"
ROLES = (HEAD, TAIL, GLOBAL)

NODES = "nodes"


@dataclass(frozen=True)
class Table:
    """One named table of a model.

    ``rows``: ``"nodes"`` (the data's rows, partitioned) or the key of a size in
    :attr:`DataInfo.sizes` (GLOBAL tables: relations ...).  ``dim``: None = the
    config's ``dim``, else a function of the config.  ``init``: ``"uniform"``
    (``U(-0.5/d, 0.5/d)``, drawn from the run's seeded generator in table order),
    ``"zeros"``, or ``f(rng, shape) -> float32 array``.  ``saved``: part of the
    trained result (optimiser state is not).  ``reduce`` (GLOBAL tables): the
    lane copies merge as ``"sum"`` of their changes (parameters) or as their
    ``"mean"`` (optimiser moments, which must stay non-negative).
    """

    name: str
    role: str
    init: Any = "zeros"
    tied_to: Optional[str] = None
    rows: str = NODES
    dim: Optional[Callable] = None
    saved: bool = True
    reduce: str = "sum"     # GLOBAL tables: how lane copies merge (see solver.store)

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"table {self.name!r}: role must be one of {ROLES}")
        if self.role == GLOBAL and (self.rows == NODES or self.tied_to):
            raise ValueError(f"table {self.name!r}: a global table names its own rows "
                             "and cannot be tied")
        if self.role != GLOBAL and self.rows != NODES:
            raise ValueError(f"table {self.name!r}: partitioned tables have 'nodes' rows")
        if self.reduce not in ("sum", "mean"):
            raise ValueError(f"table {self.name!r}: reduce must be 'sum' or 'mean'")

    def width(self, config) -> int:
        return int(config.dim if self.dim is None else self.dim(config))


@dataclass
class DataInfo:
    """What the engine needs to know of the training data before sampling.

    ``num_nodes``: rows of the partitioned tables; ``epoch_size``: positive
    samples per epoch; ``partition_weight``: per-row weight the partitioner
    balances (degree); ``fingerprint``: identity recorded in checkpoints;
    ``vocabulary``: names of the rows; ``sizes`` / ``vocabularies``: rows and
    names of the global tables' row kinds.
    """

    num_nodes: int
    epoch_size: int
    partition_weight: np.ndarray
    fingerprint: dict
    vocabulary: Any = None
    sizes: dict = field(default_factory=dict)
    vocabularies: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    trainable_rows: Optional[int] = None   # a frozen warm start: rows that train


@dataclass
class Problem:
    """A model prepared for one run: its sampler (``reseed(seed)``,
    ``fill(pool)``, ``close()``) and its constant arrays, each
    ``name -> (array in partition order, role)``."""

    sampler: Any
    constants: dict = field(default_factory=dict)

    def close(self) -> None:
        self.sampler.close()


class Model:
    """Base class of model specs (trained by the engine; see :class:`DirectModel`
    for one solved without samples).  Subclasses set the class attributes and
    implement :meth:`describe`, :meth:`prepare`, :meth:`kernel` and
    :meth:`score`; :meth:`tables` and :meth:`resolve` may depend on the config."""

    direct: bool = False              # solved by DirectModel.solve, not the engine
    name: str = ""                    # registry key = the config's `model` value
    title: str = ""                   # display name, owner in error messages
    summary: str = ""                 # one line for help texts
    Config: type = None               # config section (a TrainConfig subclass; a DirectModel: a ModelConfig one)
    columns: Sequence[str] = ("head", "tail")
    primary: str = "vertex"           # the table that is "the embedding"
    backends: Sequence[str] = ("numba", "torch")    # + "triton" where it has such kernels
    table_specs: Sequence[Table] = ()
    # learning_rate=auto: this rate, raised for runs under
    # short_run_samples_per_row positive samples per row (None: never raised)
    learning_rate: float = 0.025
    short_run_samples_per_row: Optional[int] = None
    # num_epoch=auto: about this many positive samples per row (None: no auto)
    auto_samples_per_row: Optional[int] = None

    # -- structure -----------------------------------------------------------------
    def tables(self, config) -> tuple[Table, ...]:
        """The tables of a run with ``config`` (default: ``table_specs``)."""
        return tuple(self.table_specs)

    def shares_rows(self, config) -> bool:
        """Whether one table's rows are seen from both sides (HEAD and TAIL), so
        that blocks (i, j) and (j, i) conflict."""
        sides: dict[str, set] = {}
        for t in self.tables(config):
            if t.role == GLOBAL:
                continue
            sides.setdefault(t.tied_to or t.name, set()).add(t.role)
        return any(len(s) == 2 for s in sides.values())

    # -- data and options -----------------------------------------------------
    def coerce_data(self, data):
        """Convert what a user passes to an estimator's ``fit`` (default: as is)."""
        return data

    def check_data(self, data):
        """The training data in the form :meth:`describe` and :meth:`prepare`
        take (raise :class:`~vitegraph.errors.ParameterError` otherwise)."""
        return data

    def describe(self, data) -> DataInfo:
        raise NotImplementedError

    def resolve(self, config, info: DataInfo) -> dict:
        """Concrete values of the model's own ``auto`` options, and cross-checks."""
        return {}

    def device_sampling(self, config) -> Optional[str]:
        """None when :meth:`prepare` can sample on the training device
        (``rc.sampler == "device"``), else why not."""
        return f"{self.title} samples on the host only"

    def memory_items(self, info: DataInfo, rc) -> list:
        """``(what, bytes, remedy)`` of the large arrays :meth:`prepare` builds
        (sampling tables, constants), for the run's memory plan."""
        return []

    # -- a run ------------------------------------------------------------------
    def prepare(self, data, rc, partition) -> Problem:
        raise NotImplementedError

    def kernel(self, backend: str, rc) -> Callable:
        raise NotImplementedError

    def score(self, tables: Mapping[str, np.ndarray], *columns: np.ndarray) -> np.ndarray:
        """Scores of samples (columns of global ids) under trained ``tables``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<model {self.name}>"

    # -- after training ---------------------------------------------------------
    def finish(self, data, tables: dict, rc) -> dict:
        """The trained tables (row-id order) after any post-processing the
        options ask for (DeepWalk, LINE, node2vec: spectral propagation);
        default: as they are."""
        return tables


class GraphInput:
    """Mixin of models whose data is a :class:`~vitegraph.Graph` with at least
    one edge (anything :func:`vitegraph.as_graph` accepts is converted)."""

    def coerce_data(self, data):
        from ..graph.convert import as_graph
        return as_graph(data)

    def check_data(self, data):
        from ..errors import ParameterError
        from ..graph import Graph
        if not isinstance(data, Graph):
            raise ParameterError("train", "graph", "a vitegraph.Graph (see vg.as_graph)",
                                 type(data).__name__)
        if data.num_stored_edges == 0:
            raise ParameterError("train", "graph", "a graph with at least one edge", repr(data))
        return data


class DirectModel(Model):
    """A model solved in closed form from the data, without samples: no
    sampler, pools, kernels, episodes or checkpoints (a run takes seconds).
    :func:`vitegraph.train` calls :meth:`solve` instead of the engine.  Its
    config section subclasses :class:`~vitegraph.config.ModelConfig` (the
    engine's options do not apply)."""

    direct = True
    backends = ()

    def solve(self, data, rc) -> dict:
        """The model's saved tables (``name -> array``, row-id order) for
        ``data`` with resolved options ``rc``."""
        raise NotImplementedError

    def prepare(self, data, rc, partition):
        raise TypeError(f"{self.title} is solved directly (DirectModel.solve), not sampled")

    def kernel(self, backend, rc):
        raise TypeError(f"{self.title} has no training kernels")
