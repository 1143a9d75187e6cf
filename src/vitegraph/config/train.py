"""Training options of the node-embedding models: the one place their defaults live.

``"auto"`` values are resolved from the graph and the machine by
:func:`resolve`, which logs what it chose.  GraphVite's defaults are kept where
they decide quality (dim 128, lr 0.025 decaying linearly to 1e-4 of itself,
one negative of weight 5, weight decay 0.005, walk length 40, augmentation step
``floor(ln 1600 / ln(|E|/|V|))``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass

from ..errors import ParameterError
from ..sampling.walks import default_augmentation_step
from .schema import AUTO, option, validate

log = logging.getLogger(__name__)

MODELS = ("deepwalk", "line", "node2vec")


@dataclass(frozen=True)
class TrainConfig:
    """Options of one training run (DeepWalk, LINE or node2vec)."""

    model: str = option("deepwalk", "str", "objective and sampler: deepwalk (uniform or "
                        "weighted walks), line (edge sampling), node2vec (biased walks)",
                        choices=MODELS)
    dim: int = option(128, "int", "embedding dimension", minimum=0, exclusive_minimum=True)
    num_epoch: int = option(400, "int", "training length; one epoch is |E| positive samples "
                            "(|E| = edges as given in the input)", minimum=0,
                            exclusive_minimum=True)
    learning_rate: float = option(0.025, "float", "initial SGD learning rate; decays linearly "
                                  "over the run", minimum=0, exclusive_minimum=True)
    lr_floor: float = option(1e-4, "float", "the learning rate never falls below "
                             "lr_floor * learning_rate", minimum=0, maximum=1)
    weight_decay: float = option(0.005, "float", "L2 decay applied to each touched row, "
                                 "scaled by the sample weight", minimum=0)
    num_negative: int = option(1, "int", "negative samples per positive sample", minimum=0,
                               exclusive_minimum=True)
    negative_weight: float = option(5.0, "float", "weight of each negative sample's loss",
                                    minimum=0, exclusive_minimum=True)
    negative_exponent: float = option(0.75, "float", "negatives are drawn proportional to "
                                      "degree ** negative_exponent", minimum=0)
    walk_length: int = option(40, "int", "steps of each random walk (walk_length + 1 nodes)",
                              minimum=1)
    augmentation_step: object = option(AUTO, "int", "pairs (c_j, c_j+k) for k = 1..this are "
                                       "emitted from each walk; auto = floor(ln 1600 / "
                                       "ln(|E|/|V|)) for walks, 1 for line", minimum=1,
                                       allow_auto=True)
    shuffle_base: object = option(AUTO, "int", "pseudo-shuffle stride of each pool chunk; "
                                  "auto = augmentation_step for line, 1 (off) otherwise",
                                  minimum=1, allow_auto=True)
    p: float = option(1.0, "float", "node2vec return parameter", minimum=0,
                      exclusive_minimum=True)
    q: float = option(1.0, "float", "node2vec in-out parameter", minimum=0,
                      exclusive_minimum=True)
    order: int = option(2, "int", "LINE proximity order: 2 (vertex . context, as GraphVite) "
                        "or 1 (vertex . vertex)", choices=(1, 2))
    num_partitions: object = option(AUTO, "int", "P: nodes are split into P partitions and "
                                    "samples into P x P blocks; auto = 1 when the tables fit "
                                    "one device", minimum=1, allow_auto=True)
    num_workers: object = option(AUTO, "int", "training workers (CPU threads, or one per GPU); "
                                 "auto = CPU count, or GPU count", minimum=1, allow_auto=True)
    num_sampler_threads: object = option(AUTO, "int", "CPU threads generating samples; auto = "
                                         "CPU count", minimum=1, allow_auto=True)
    episode_size: object = option(AUTO, "int", "positive samples per pool (the double-buffered "
                                  "unit of sampling and training); auto from |E| and memory",
                                  minimum=1, allow_auto=True)
    backend: str = option(AUTO, "str", "training kernel: numba (CPU), torch (CPU or GPU), "
                          "auto = torch on a visible CUDA GPU, else numba",
                          choices=(AUTO, "numba", "torch"))
    device: str = option(AUTO, "str", "torch device for the torch backend: cpu, cuda, "
                         "cuda:N; auto = cuda when visible")
    batch_size: int = option(65536, "int", "samples per torch kernel step (torch backend only)",
                             minimum=1)
    seed: int = option(0, "int", "random seed (sampler, negatives, initialisation)", minimum=0,
                       maximum=2**63 - 1)
    progress: bool = option(True, "bool", "show a progress bar")

    def __post_init__(self):
        validate(self, owner=_OWNERS.get(self.model, "TrainConfig"))

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


_OWNERS = {"deepwalk": "DeepWalk", "line": "LINE", "node2vec": "Node2Vec"}


def _cpu_count() -> int:
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class ResolvedConfig:
    """A :class:`TrainConfig` with every ``auto`` replaced by a concrete value."""

    config: TrainConfig
    augmentation_step: int
    shuffle_base: int
    num_partitions: int
    num_workers: int
    num_sampler_threads: int
    episode_size: int
    backend: str
    device: str
    total_samples: int

    def __getattr__(self, name):  # everything else reads through to the config
        return getattr(self.config, name)

    def to_dict(self) -> dict:
        d = self.config.to_dict()
        for f in dataclasses.fields(self):
            if f.name != "config":
                d[f.name] = getattr(self, f.name)
        return d


def resolve(config: TrainConfig, num_nodes: int, num_edges: int) -> ResolvedConfig:
    """Concrete values for the ``auto`` options of ``config`` on this graph and machine."""
    c = config
    owner = _OWNERS[c.model]
    if c.model == "line":
        s = 1 if c.augmentation_step == AUTO else c.augmentation_step
        base = s if c.shuffle_base == AUTO else c.shuffle_base
    else:
        s = (default_augmentation_step(num_edges, num_nodes, c.walk_length)
             if c.augmentation_step == AUTO
             else c.augmentation_step)
        base = 1 if c.shuffle_base == AUTO else c.shuffle_base
    if s > c.walk_length:
        raise ParameterError(owner, "augmentation_step", f"at most walk_length "
                             f"({c.walk_length})", s)
    if c.model != "node2vec":
        for name in ("p", "q"):
            if getattr(c, name) != 1.0:
                raise ParameterError(owner, name, "1.0 (p and q apply to node2vec only)",
                                     getattr(c, name))
    if c.model != "line" and c.order != 2:
        raise ParameterError(owner, "order", "2 (order applies to LINE only)", c.order)

    backend, device = c.backend, c.device
    cuda = _cuda_available() if (backend in (AUTO, "torch") or device == AUTO) else False
    if backend == AUTO:
        backend = "torch" if cuda and device in (AUTO,) or device.startswith("cuda") else "numba"
    if backend == "numba" and device not in (AUTO, "cpu"):
        raise ParameterError(owner, "device", "'cpu' or 'auto' with backend='numba'", device)
    if device == AUTO:
        device = "cuda" if backend == "torch" and cuda else "cpu"
    if backend == "torch":
        _check_torch_device(owner, device)

    cpus = _cpu_count()
    if backend == "torch" and device.startswith("cuda"):
        workers_auto = 1
    else:
        workers_auto = cpus
    parts = 1 if c.num_partitions == AUTO else c.num_partitions
    if parts > num_nodes:
        raise ParameterError(owner, "num_partitions", f"at most the number of nodes "
                             f"({num_nodes})", parts)
    one_table = c.model == "line" and c.order == 1
    if c.num_workers == AUTO:
        # orthogonal blocks: at most P at once; first-order LINE has one table, so
        # blocks (i, j) and (j, i) share rows and partitioned work must be serial
        workers = workers_auto if parts == 1 else (1 if one_table else min(workers_auto, parts))
    else:
        workers = c.num_workers
        if parts > 1 and workers > parts:
            raise ParameterError(owner, "num_workers", f"at most num_partitions ({parts}) when "
                                 "partitioning, since workers train orthogonal blocks", workers)
        if parts > 1 and one_table and workers > 1:
            raise ParameterError(owner, "num_workers", "1 for LINE order 1 with partitions "
                                 "(one table: blocks (i, j) and (j, i) share rows)", workers)
    samplers = cpus if c.num_sampler_threads == AUTO else c.num_sampler_threads
    total = int(c.num_epoch) * int(num_edges)
    if c.episode_size == AUTO:
        # ~20 pools per run so the lr ramp and progress are smooth, at most 2**24
        # samples (2 pools of int32 pairs = 256 MiB), at least 2**16
        episode = int(min(max(total // 20, 1 << 16), 1 << 24))
    else:
        episode = c.episode_size
    r = ResolvedConfig(c, int(s), int(base), int(parts), int(workers), int(samplers),
                       int(episode), backend, device, total)
    log.info("resolved config: model=%s augmentation_step=%d shuffle_base=%d partitions=%d "
             "workers=%d sampler_threads=%d episode_size=%d backend=%s device=%s "
             "total_samples=%d", c.model, s, base, parts, workers, samplers, episode, backend,
             device, total)
    return r


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
