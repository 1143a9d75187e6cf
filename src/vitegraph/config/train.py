"""Training options: the engine's own, shared by every model, and how ``auto``
values become concrete ones.

:class:`TrainConfig` declares the options the coordinator and the executors
read (dimension, length, learning-rate schedule, partitions, workers, backend
...).  Each model subclasses it with its config section (see
:mod:`vitegraph.models`), so one frozen dataclass holds every option of a run
and each option is declared exactly once.  ``TrainConfig(model="line", ...)``
builds the config section of the named model.

:func:`resolve` turns ``"auto"`` into concrete values from the data and the
machine: the engine's here, the model's through :meth:`Model.resolve`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from dataclasses import dataclass
from typing import Any, Mapping

from .._validate import did_you_mean
from ..errors import ParameterError
from .schema import AUTO, option, validate

log = logging.getLogger(__name__)

DEFAULT_MODEL = "deepwalk"

# samples per row of a partition that one pass over the schedule gives a block (P > 1)
PASS_ROW_SAMPLES = 4


def model_field(name: str):
    """The ``model`` option of a config section, defaulting to ``name``."""
    return option(name, "str", "the model to train (see `vitegraph list --models`)")


@dataclass(frozen=True)
class ModelConfig:
    """The options every model has.  ``ModelConfig(model=NAME, **options)``
    (or ``TrainConfig(...)``) returns the config section of model NAME (a
    subclass); every option is validated on construction.  The sampling
    engine's options are :class:`TrainConfig`'s; a model solved without
    samples (the spectral model) has a section without them."""

    model: str = model_field(DEFAULT_MODEL)
    dim: int = option(128, "int", "embedding dimension", minimum=0, exclusive_minimum=True)
    memory_budget: object = option(AUTO, "int", "bytes the run may allocate (tables, pools, "
                                   "sampling tables); a run that needs more stops before "
                                   "allocating, saying what to change; auto = the memory "
                                   "available when the run starts", minimum=1, allow_auto=True)
    seed: int = option(0, "int", "random seed (sampler, negatives, initialisation)", minimum=0,
                       maximum=2**63 - 1)
    progress: bool = option(True, "bool", "show a progress bar")

    # the model this section belongs to; set by each model's subclass
    _model_name = None
    _owner = "TrainConfig"

    def __new__(cls, *args, **kwargs):
        if cls is ModelConfig or cls is TrainConfig:  # dispatch to the model's section
            from ..models import get_model
            name = kwargs.get("model", DEFAULT_MODEL)
            if args:
                raise TypeError("TrainConfig takes keyword arguments only")
            sub = get_model(name, owner="TrainConfig").Config
            check_option_names(sub, kwargs)
            return sub(**kwargs)
        return super().__new__(cls)

    def __post_init__(self):
        validate(self, owner=self._owner)
        if self._model_name is not None and self.model != self._model_name:
            raise ParameterError(self._owner, "model", repr(self._model_name), self.model)

    def replace(self, **changes) -> "ModelConfig":
        """A copy with ``changes``.  Changing ``model`` builds that model's
        section, keeping the shared options that were set (not the old
        section's defaults)."""
        if "model" in changes and changes["model"] != self.model:
            # carry over what was set (differs from this section's defaults) and
            # the new section has; its own defaults fill the rest
            from ..models import get_model
            keep = option_names(get_model(changes["model"]).Config)
            defaults = {f.name: f.default for f in dataclasses.fields(self)}
            data = {k: v for k, v in self.to_dict().items()
                    if k in keep and k != "model" and v != defaults[k]}
            data.update(changes)
            return TrainConfig(**data)
        check_option_names(type(self), changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class TrainConfig(ModelConfig):
    """Options of the sampling engine (episodes, learning-rate schedule,
    partitions, workers, backends, pools), shared by every model it trains."""

    num_epoch: object = option(AUTO, "int", "training length in epochs; one epoch is as many "
                               "positive samples as the data has edges (or triplets); auto = "
                               "the model's samples per row (12,800 for node embedding) times "
                               "the rows, whatever the density", minimum=0,
                               exclusive_minimum=True, allow_auto=True)
    learning_rate: object = option(AUTO, "float", "initial learning rate; decays linearly "
                                   "over the run; auto = the model's (0.025 for node "
                                   "embedding), raised for short runs: times sqrt(6400 / "
                                   "samples per row), at most 4x", minimum=0,
                                   exclusive_minimum=True, allow_auto=True)
    lr_floor: float = option(1e-4, "float", "the learning rate never falls below "
                             "lr_floor * learning_rate", minimum=0, maximum=1)
    num_partitions: object = option(AUTO, "int", "P: rows are split into P partitions and "
                                    "samples into P x P blocks, trained in rounds of blocks "
                                    "that share no partition; auto = 1 (on several "
                                    "processes: one per process)", minimum=1,
                                    allow_auto=True)
    num_workers: object = option(AUTO, "int", "training threads on the CPU (numba), or "
                                 "devices (torch); auto = CPU count, or 1 device",
                                 minimum=1, allow_auto=True)
    threads_per_block: object = option(AUTO, "int", "CPU threads training one block "
                                       "together (Hogwild); auto = the workers a round "
                                       "leaves over (all of them with one partition). 1 "
                                       "makes the result independent of num_workers",
                                       minimum=1, allow_auto=True)
    num_sampler_threads: object = option(AUTO, "int", "CPU threads generating samples; "
                                         "auto = CPU count", minimum=1, allow_auto=True)
    episode_size: object = option(AUTO, "int", "positive samples per pool (the "
                                  "double-buffered unit of sampling and training); auto = "
                                  "about 1/20 of the run, between 2**16 and 2**24",
                                  minimum=1, allow_auto=True)
    backend: str = option(AUTO, "str", "training kernels: numba (CPU), torch (CPU or GPU, "
                          "the reference) or triton (fused GPU kernels); auto = triton on "
                          "a visible CUDA GPU (torch when triton is missing), else numba",
                          choices=(AUTO, "numba", "torch", "triton"))
    device: str = option(AUTO, "str", "device(s) of the torch and triton backends: cpu, "
                         "cuda, cuda:N, or a comma-separated list (cuda:0,cuda:1) to train "
                         "on several; auto = cuda when visible (num_workers devices)")
    sampler: str = option(AUTO, "str", "where positive samples are drawn: host (CPU "
                          "threads, as GraphVite) or device (random walks on the training "
                          "GPU, no pairs cross the bus); auto = device on one CUDA device "
                          "with one partition when the model can, else host",
                          choices=(AUTO, "host", "device"))
    device_memory: object = option(AUTO, "int", "bytes of device memory the embedding "
                                   "partitions may occupy (torch backend); partitions swap "
                                   "through host memory beyond it; auto = no limit",
                                   minimum=1, allow_auto=True)
    table_storage: str = option("memory", "str", "where the embedding tables live while "
                                "training: memory, or a folder (created when missing) that "
                                "holds them as files, paged into table_memory bytes of host "
                                "memory partition by partition in the schedule's order "
                                "(numba backend); it needs twice the tables' size on disk")
    table_memory: object = option(AUTO, "int", "bytes of host memory for table partitions "
                                  "when table_storage is a folder; auto = half the "
                                  "memory_budget (or of the memory available)", minimum=1,
                                  allow_auto=True)
    dist_timeout: float = option(600.0, "float", "seconds a process of a run on several "
                                 "processes (torchrun) waits for the others before it stops "
                                 "with an error", minimum=0, exclusive_minimum=True)
    dist_sampling: str = option("share", "str", "on several processes: share (each walks "
                                "1/W of the pool's streams and sends each pair to the process "
                                "training its block) or all (each walks the whole pool and "
                                "keeps its own blocks' pairs)", choices=("share", "all"))
    dist_backend: str = option(AUTO, "str", "on several processes with the torch or "
                               "triton kernels on GPUs: how partitions travel between "
                               "processes: nccl (device to device; each process's partitions "
                               "stay on its GPU) or gloo (through host memory); auto = nccl "
                               "when the kernels run on CUDA and torch has NCCL, else gloo",
                               choices=(AUTO, "gloo", "nccl"))
    dist_overlap: bool = option(True, "bool", "on several processes: send each partition "
                                "the next round needs as soon as its last block of this round "
                                "is done, while the process trains its other blocks (off: "
                                "all moves between rounds; always off over NCCL)")
    batch_size: int = option(65536, "int", "samples per torch kernel step (torch backend "
                             "only)", minimum=1)



PROPAGATE_HELP = ("apply ProNE's spectral propagation (a band-pass filter of the graph's "
                  "Laplacian) to the embedding: the vertex table (the context table is then "
                  "not saved); default on for prone, off for the others")


@dataclass(frozen=True)
class PropagationConfig(ModelConfig):
    """Options of the spectral propagation (ProNE's second step), shared by the
    spectral model and the node-embedding models it can follow."""

    propagate: bool = option(False, "bool", PROPAGATE_HELP)
    propagation_steps: int = option(10, "int", "Chebyshev terms of the propagation filter "
                                    "(1: none)", minimum=1)
    propagation_theta: float = option(0.5, "float", "width of the propagation's band-pass "
                                      "filter (ProNE's theta)", minimum=0,
                                      exclusive_minimum=True)
    propagation_mu: float = option(0.2, "float", "centre of the band-pass filter on the "
                                   "Laplacian's spectrum [0, 2] (ProNE's mu)")


def option_names(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


def check_option_names(cls, given: Mapping[str, Any], path: str = "") -> None:
    """Raise a ParameterError naming an unknown option, with a 'did you mean'
    hint, or the models that have it."""
    names = option_names(cls)
    for key in given:
        if key not in names:
            raise ParameterError(cls._owner, key, unknown_option_hint(cls, key),
                                 given[key])


def unknown_option_hint(cls, key: str) -> str:
    """'a known option (did you mean 'dim'?)' or 'an option of node2vec ...'."""
    from ..models import model_names, get_model
    others = [m for m in model_names() if key in option_names(get_model(m).Config)]
    if others:
        return (f"left out: it is an option of {', '.join(others)}, not of "
                f"{cls._model_name}")
    return "one of its options" + did_you_mean(key, option_names(cls))


def _cpu_count() -> int:
    from .._threads import cpu_count
    return cpu_count()


@dataclass(frozen=True)
class ResolvedConfig:
    """A config with every ``auto`` replaced by a concrete value: the engine's
    (``values``) and the model's (``model_values``).  Attribute access reads the
    resolved value first, then the config."""

    config: TrainConfig
    values: dict
    model_values: dict

    def __getattr__(self, name):
        if name in ("config", "values", "model_values"):
            raise AttributeError(name)
        if name in self.model_values:
            return self.model_values[name]
        if name in self.values:
            return self.values[name]
        return getattr(self.config, name)

    def to_dict(self) -> dict:
        return {**self.config.to_dict(), **self.values, **self.model_values}


def resolve(config: TrainConfig, info, model=None) -> ResolvedConfig:
    """Concrete values for the ``auto`` options of ``config`` on data described
    by ``info`` (:class:`vitegraph.models.DataInfo`) and this machine."""
    from ..models import get_model
    c = config
    model = model or get_model(c.model)
    owner = c._owner
    backend, devices, why = choose_backend(owner, c.backend, c.device, c.num_workers,
                                           model.backends)
    device = ",".join(devices)
    cpus = _cpu_count()
    on_device = backend != "numba"
    workers = len(devices) if on_device else (cpus if c.num_workers == AUTO
                                               else c.num_workers)
    table_memory = None
    if c.table_storage != "memory":
        if backend != "numba":
            raise ParameterError(owner, "table_storage", "'memory' with the torch and triton "
                                 "backends (tables in a folder page through the numba "
                                 "backend; set backend: numba)", c.table_storage)
        table_memory = resolve_table_memory(c)
    from ..solver.distributed import world_size_from_env
    world = world_size_from_env()
    # several processes: a partition per process (their context partitions stay put)
    parts = world if c.num_partitions == AUTO else c.num_partitions
    if c.num_partitions == AUTO and table_memory is not None:
        parts = partitions_for_memory(model.tables(c), c, info, table_memory)
    if parts > info.num_nodes:
        raise ParameterError(owner, "num_partitions", f"at most the number of rows "
                             f"({info.num_nodes})", parts)
    shared = model.shares_rows(c)
    width = max(1, parts // 2) if shared else parts   # blocks per round (see partition.schedule)
    if c.threads_per_block == AUTO and world > 1:
        # a process trains its blocks one at a time, on all its threads
        per_block = workers
    elif c.threads_per_block == AUTO and table_memory is not None:
        # tables paged from a folder: one block at a time on every thread, so
        # that only its partitions are pinned and the rest of table_memory
        # keeps partitions the next blocks reuse
        per_block = workers
    elif c.threads_per_block == AUTO:
        per_block = 1 if on_device else max(1, workers // width)
    else:
        per_block = c.threads_per_block
    samplers = cpus if c.num_sampler_threads == AUTO else c.num_sampler_threads
    sampler, sampler_why = choose_sampler(owner, c.sampler, model.device_sampling(c),
                                          devices if on_device else (), parts)
    num_epoch, lr0, per_row = training_length(c, model, info)
    total = int(num_epoch) * int(info.epoch_size)
    if c.episode_size == AUTO and table_memory is not None:
        # tables in a folder: every episode pages the partitions through memory
        # once or more, so few, large pools (4 per run, at most 2**24 samples)
        episode = int(min(max(total // 4, 1 << 16), 1 << 24))
    elif c.episode_size == AUTO:
        # ~20 pools per run so the lr ramp and progress are smooth, at most 2**24
        # samples (2 pools of int32 pairs = 256 MiB), at least 2**16
        episode = int(min(max(total // 20, 1 << 16), 1 << 24))
    else:
        episode = c.episode_size
    passes = 1
    if parts > 1:
        # a pool's samples are trained block by block: in passes over the
        # schedule, each giving a block about 4 samples per row of its partition,
        # or rows drift against the one partition their negatives come from
        # (BlogCatalog, P = 4: first-order LINE loses 1.5 Micro-F1 at 10% when a
        # pool is trained in one pass)
        passes = max(1, round(episode / (PASS_ROW_SAMPLES * parts * info.num_nodes)))
    values = dict(num_epoch=int(num_epoch), learning_rate=float(lr0),
                  samples_per_row=round(per_row, 1),
                  num_partitions=int(parts), num_workers=int(workers),
                  threads_per_block=int(per_block), num_sampler_threads=int(samplers),
                  episode_size=int(episode), passes=int(passes), backend=backend,
                  device=device, sampler=sampler,
                  device_memory=c.device_memory, memory_budget=c.memory_budget,
                  table_storage=c.table_storage,
                  table_memory=c.table_memory if table_memory is None else table_memory,
                  total_samples=total, shared_rows=bool(shared), round_width=int(width))
    model_values = model.resolve(c, info)
    r = ResolvedConfig(c, values, model_values)
    log.info("training on %s with the %s kernels (%s); sampling on the %s (%s)", device,
             backend, why, sampler, sampler_why)
    log.info("resolved config: model=%s %s", c.model,
             " ".join(f"{k}={v}" for k, v in {**values, **model_values}.items()))
    return r


def resolve_table_memory(c) -> int:
    """Bytes of host memory for table partitions of a run with tables in a folder."""
    if c.table_memory != AUTO:
        return int(c.table_memory)
    from ..solver.memory import available_memory
    budget = available_memory() if c.memory_budget == AUTO else int(c.memory_budget)
    return max(1, budget // 2)


def partitions_for_memory(specs, c, info, table_memory: int) -> int:
    """The fewest partitions (at least 2) whose largest block, one partition of
    every paged table, takes at most half of ``table_memory``: room for the
    block trained and the next one's partitions."""
    from ..models.spec import GLOBAL, NODES
    row_bytes = sum(t.width(c) * 4 for t in specs
                    if t.tied_to is None and t.role != GLOBAL and t.rows == NODES)
    total = row_bytes * int(info.num_nodes)
    parts = max(2, -(-2 * total // max(1, table_memory)))
    return int(min(parts, max(1, int(info.num_nodes))))


def training_length(c, model, info) -> tuple[int, float, float]:
    """``(num_epoch, learning_rate, samples per row)`` with ``auto`` resolved.

    What decides quality is the number of positive samples per row, not the
    epoch count: ``num_epoch=auto`` gives every graph the model's
    ``auto_samples_per_row`` (12,800 for node embedding: BlogCatalog's 400
    epochs, Cora's 6,400).  ``learning_rate=auto`` is the model's rate, raised
    by ``sqrt(short_run / samples per row)`` (at most 4x) for runs shorter than
    ``short_run_samples_per_row``, which keeps short runs usable.  A length
    under a quarter of the automatic one is warned about, with the figure to
    use.  See docs/benchmarks.md ("Training length") for the calibration.
    """
    rows = info.num_nodes if getattr(info, "trainable_rows", None) is None \
        else info.trainable_rows          # a frozen warm start: the rows that train
    rows, epoch = max(int(rows), 1), max(int(info.epoch_size), 1)
    target = getattr(model, "auto_samples_per_row", None)
    if getattr(info, "trainable_rows", None) is not None and target:
        # new rows trained against frozen, converged ones: each is nearly a
        # problem of its own, and half the samples give the same quality
        # (BlogCatalog, 10% new nodes: docs/benchmarks.md)
        target = getattr(model, "short_run_samples_per_row", None) or target
    auto_epochs = None if not target else max(1, round(target * rows / epoch))
    if c.num_epoch == AUTO:
        if auto_epochs is None:
            raise ParameterError(c._owner, "num_epoch", "a number of epochs (this model has "
                                 "no automatic length)", c.num_epoch)
        num_epoch = auto_epochs
    else:
        num_epoch = int(c.num_epoch)
        if auto_epochs is not None and num_epoch * 4 < auto_epochs:
            log.warning("num_epoch=%d gives %s positive samples per row on this data, under a "
                        "quarter of the %s of num_epoch=auto (%d epochs): expect poor "
                        "embeddings; use num_epoch=auto, or at least %d", num_epoch,
                        f"{num_epoch * epoch / rows:,.0f}", f"{target:,}", auto_epochs,
                        -(-auto_epochs // 4))
    per_row = num_epoch * epoch / rows
    if c.learning_rate == AUTO:
        base = model.learning_rate
        short = getattr(model, "short_run_samples_per_row", None)
        boost = 1.0 if not short else min(4.0, math.sqrt(max(1.0, short / per_row)))
        lr0 = base * boost
    else:
        lr0 = float(c.learning_rate)
    return num_epoch, lr0, per_row


def _cuda_available() -> bool:
    """Whether torch sees a CUDA GPU.  Importing torch costs seconds, so on a
    machine with no NVIDIA driver (no /proc/driver/nvidia, no /dev/nvidia*) the
    answer is no without importing it."""
    import glob
    import importlib.util
    import sys
    if "torch" not in sys.modules:
        if importlib.util.find_spec("torch") is None:
            return False
        if not (os.path.exists("/proc/driver/nvidia") or glob.glob("/dev/nvidia[0-9]*")):
            return False
    import torch
    return bool(torch.cuda.is_available())


def choose_backend(owner: str, backend: str, device: str, num_workers, allowed
                   ) -> tuple[str, tuple[str, ...], str]:
    """``(backend, devices, why)`` for the ``backend`` and ``device`` options.

    auto: Triton kernels on a visible CUDA GPU (the torch reference kernel when
    triton is not installed), else numba on the CPU.  ``device`` may list
    several devices; ``device=auto`` on a GPU backend takes ``num_workers``
    devices (auto: 1)."""
    explicit = device != AUTO
    listed = tuple(d.strip() for d in device.split(",")) if explicit else ()
    if any(not d for d in listed):
        raise ParameterError(owner, "device", "device names separated by commas", device)
    wants_cuda = any(d.startswith("cuda") for d in listed)
    cuda = _cuda_available() if (backend != "numba" and (not explicit or wants_cuda)) else False
    if backend == AUTO:
        if explicit and not wants_cuda:
            backend, why = "torch", f"device={device} asks for torch"
        elif cuda or wants_cuda:
            ok, reason = _triton_ok("cuda")
            if ok and "triton" not in allowed:
                ok, reason = False, "this model has no Triton kernels"
            backend = "triton" if ok else "torch"
            why = ("a CUDA GPU is visible" if ok else
                   f"a CUDA GPU is visible but {reason}: the torch reference kernel")
        else:
            backend, why = "numba", "no CUDA GPU is visible"
    else:
        why = f"backend={backend}"
    if backend not in allowed:
        raise ParameterError(owner, "backend", f"one of {', '.join(allowed)}", backend)
    if backend == "numba":
        if explicit and listed != ("cpu",):
            raise ParameterError(owner, "device", "'cpu' or 'auto' with backend='numba'",
                                 device)
        return backend, ("cpu",), why
    if not explicit:
        count = 1 if num_workers == AUTO else int(num_workers)
        if cuda:
            import torch
            have = torch.cuda.device_count()
            if count > have:
                raise ParameterError(owner, "num_workers", f"at most {have} (the CUDA "
                                     "devices visible)", count)
            listed = ("cuda",) if count == 1 else tuple(f"cuda:{k}" for k in range(count))
        else:
            listed = ("cpu",) * count
    for d in listed:
        _check_torch_device(owner, d)
    if len(set(listed)) < len(listed) and any(d.startswith("cuda") for d in listed):
        raise ParameterError(owner, "device", "distinct CUDA devices", device)
    if backend == "triton":
        for d in listed:
            ok, reason = _triton_ok(d)
            if not ok:
                raise ParameterError(owner, "backend", f"'torch' or 'numba' ({reason})",
                                     backend)
    if listed and listed[0].startswith("cuda"):
        import torch
        name = torch.cuda.get_device_name(torch.device(listed[0]))
        why = f"{why}; {name}"
    return backend, listed, why


def choose_sampler(owner: str, sampler: str, unsupported, devices, parts: int
                   ) -> tuple[str, str]:
    """``(host|device, why)``: walks on the training device need one device, a
    CUDA one for ``auto`` (on a CPU the host's samplers are the faster), one
    partition and a model that can (``unsupported``: None, or why not)."""
    reason = unsupported
    if reason is None and len(devices) != 1:
        reason = ("training runs on the CPU" if not devices else
                  f"training runs on {len(devices)} devices")
    if reason is None and parts > 1:
        reason = f"num_partitions is {parts}"
    if sampler == "device":
        if reason is not None:
            raise ParameterError(owner, "sampler", f"'host' or 'auto' ({reason})", sampler)
        return "device", "sampler=device"
    if sampler == "host":
        return "host", "sampler=host"
    if reason is None and not devices[0].startswith("cuda"):
        reason = "the device is not a GPU"
    if reason is not None:
        return "host", reason
    return "device", "one GPU with one partition: the pairs need not cross the bus"


def _triton_ok(device: str) -> tuple[bool, str]:
    try:
        from ..kernels.skipgram_triton import available
    except ImportError:   # torch missing
        return False, "torch is not installed"
    return available(device)


def _check_torch_device(owner: str, device: str) -> None:
    try:
        import torch
    except ImportError:
        raise ParameterError(owner, "backend", "'numba' when torch is not installed "
                             "(pip install 'vitegraph[torch]')", "torch") from None
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ParameterError(owner, "device", "a torch device such as 'cpu', 'cuda' or "
                             "'cuda:0'", device) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ParameterError(owner, "device", "'cpu' (no CUDA GPU is visible)", device)
