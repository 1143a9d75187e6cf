"""The memory plan of a run: every large array counted before any is allocated.

:func:`plan_memory` lists what a run will allocate on top of the data already
loaded (tables and their initialisation temporaries, lane copies of global
tables, the two sample pools and the sampler's staging buffer, the model's
sampling tables and constants; with tables in a folder, the partitions held in
memory instead of the tables, and the window that writes them back in row
order), :meth:`MemoryPlan.check` refuses a run that does not fit the
``memory_budget`` option, naming the figure and what to change, and ``-v``
logs the plan.  (Tables are initialised in place in float32, in chunks, so
initialisation needs no temporary of a table's size.)  The default budget is the memory the system has available when
the run starts (``MemAvailable``).

Models add their own items through :meth:`Model.memory_items` (sampling tables,
constants); the big-graph and knowledge-graph work extends this plan.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError
from ..models.spec import GLOBAL, NODES
from ..sampling.pool import block_id_dtype

log = logging.getLogger(__name__)


def available_memory() -> int:
    """Bytes the system can give a new allocation without swapping: Linux's
    ``MemAvailable``, else free physical pages, else 0 (unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def human(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


@dataclass
class MemoryPlan:
    """``items``: (what, bytes, remedy) of every large allocation; ``peak`` is
    their sum (all of them can be alive at once)."""

    items: list = field(default_factory=list)

    def add(self, what: str, nbytes: int, remedy: str) -> None:
        if nbytes > 0:
            self.items.append((what, int(nbytes), remedy))

    @property
    def peak(self) -> int:
        return sum(b for _, b, _ in self.items)

    def describe(self) -> str:
        rows = sorted(self.items, key=lambda x: -x[1])
        return ", ".join(f"{what} {human(b)}" for what, b, _ in rows)

    def check(self, budget: int, owner: str, source: str) -> None:
        """Raise ``ParameterError`` (naming ``memory_budget``) when the plan
        exceeds ``budget``; ``source`` says where the budget came from."""
        log.info("memory plan: about %s (%s); budget %s (%s)", human(self.peak),
                 self.describe(), human(budget), source)
        if budget <= 0 or self.peak <= budget:
            return
        what, b, remedy = max(self.items, key=lambda x: x[1])
        raise ParameterError(owner, "memory_budget",
                             f"at least the {human(self.peak)} this run needs ({self.describe()}); "
                             f"the largest part is {what} ({human(b)}): {remedy}",
                             f"{human(budget)} ({source})")


def plan_memory(model, rc, info) -> MemoryPlan:
    """The plan of a run of ``model`` with resolved options ``rc`` on data
    described by ``info``."""
    plan = MemoryPlan()
    if model.direct:          # solved without samples: the model counts its arrays
        for what, nbytes, remedy in model.memory_items(info, rc):
            plan.add(what, nbytes, remedy)
        return plan
    specs = model.tables(rc.config)
    slots = max(1, rc.round_width)
    paged = getattr(rc, "table_storage", "memory") != "memory"
    in_files = 0
    for t in specs:
        if t.tied_to is not None:
            continue
        rows = info.num_nodes if t.rows == NODES else int(info.sizes.get(t.rows, 0))
        nbytes = rows * t.width(rc) * 4
        if t.role == GLOBAL:
            plan.add(f"table {t.name!r}", nbytes, f"lower dim ({rc.dim})")
            plan.add(f"lane copies of {t.name!r}", nbytes * slots * rc.threads_per_block,
                     "use fewer partitions or threads_per_block")
        elif paged:
            in_files += nbytes
        else:
            # (back in row order at the end in place: no second copy)
            plan.add(f"table {t.name!r}", nbytes,
                     f"lower dim ({rc.dim}), or keep the tables in a folder (table_storage)")
    if paged:
        plan.add("table partitions in memory", min(int(rc.table_memory), in_files),
                 f"lower table_memory ({int(rc.table_memory):,})")
        if rc.num_partitions > 1:
            plan.add("row-order window at the end", 2 * (1 << 28) + 8 * info.num_nodes,
                     "-")
    elif rc.num_partitions > 1:
        plan.add("row-order bitmap at the end", info.num_nodes, "-")
    k = len(model.columns)
    plan.add("two sample pools", 2 * rc.episode_size * 4 * k,
             f"lower episode_size ({rc.episode_size})")
    if rc.num_partitions > 1:
        staging = 8 + np.dtype(block_id_dtype(rc.num_partitions)).itemsize
        plan.add("routing staging buffer", rc.episode_size * staging,
                 f"lower episode_size ({rc.episode_size})")
    for what, nbytes, remedy in model.memory_items(info, rc):
        plan.add(what, nbytes, remedy)
    return plan


def check_memory(model, rc, info) -> MemoryPlan:
    plan = plan_memory(model, rc, info)
    if rc.memory_budget == "auto":
        budget, source = available_memory(), "the memory available"
    else:
        budget, source = int(rc.memory_budget), "memory_budget"
    plan.check(budget, rc.config._owner, source)
    return plan
