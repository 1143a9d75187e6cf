"""The training options schema: defaults, validation messages, resolution."""

import importlib.util

import pytest

from vitegraph.config import TrainConfig, from_mapping, options_help, resolve
from vitegraph.config.run import train_section
from vitegraph.errors import ConfigError, ParameterError
from vitegraph.models import DataInfo, get_model
from vitegraph.models.skipgram import DeepWalkConfig, LineConfig, Node2VecConfig
from vitegraph.sampling import default_augmentation_step


def info(num_nodes, num_edges):
    import numpy as np
    return DataInfo(num_nodes=num_nodes, epoch_size=num_edges,
                    partition_weight=np.ones(num_nodes), fingerprint={})


def test_graphvite_defaults():
    c = TrainConfig()
    assert (c.dim, c.num_negative, c.negative_weight, c.weight_decay,
            c.walk_length, c.lr_floor) == (128, 1, 5.0, 0.005, 40, 1e-4)
    r = resolve(c, info(10312, 333983))           # BlogCatalog's size
    assert r.learning_rate == 0.025 and r.num_epoch == 395


def test_auto_length_counts_samples_per_row_and_short_runs_learn_faster(caplog):
    # 12,800 positive samples per row whatever the density
    assert resolve(TrainConfig(), info(2708, 5278)).num_epoch == 6567      # Cora
    r = resolve(TrainConfig(), info(1000, 1_000_000))
    assert r.num_epoch == 13 and abs(r.samples_per_row - 13000) < 1
    # learning_rate=auto: 0.025, times sqrt(6400 / samples per row) up to 4x
    assert resolve(TrainConfig(num_epoch=100), info(2708, 5278)).learning_rate == 0.1
    lr = resolve(TrainConfig(num_epoch=1000), info(1000, 1600)).learning_rate
    assert abs(lr - 0.025 * 2) < 1e-12                                    # 1600 per row
    assert resolve(TrainConfig(learning_rate=0.01, num_epoch=1), info(10, 20)).learning_rate \
        == 0.01                                                           # given: kept
    # a length under a quarter of auto is warned about, with the figure to use
    with caplog.at_level("WARNING", logger="vitegraph"):
        resolve(TrainConfig(num_epoch=100), info(2708, 5278))
    assert "num_epoch=100 gives 195 positive samples per row" in caplog.text
    assert "at least 1642" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="vitegraph"):
        resolve(TrainConfig(num_epoch=1642), info(2708, 5278))
    assert caplog.text == ""


def test_line_augments_like_graphvite_except_first_order():
    assert resolve(TrainConfig(model="line"), info(10312, 333983)).augmentation_step == 2
    assert resolve(TrainConfig(model="line"), info(10312, 333983)).shuffle_base == 2
    assert resolve(TrainConfig(model="line", order=1), info(10312, 333983)) \
        .augmentation_step == 1


@pytest.mark.parametrize("kwargs,message", [
    (dict(dim=-3), "The 'dim' parameter of DeepWalk must be a positive int. Got -3 instead."),
    (dict(model="line", dim=2.5), "The 'dim' parameter of LINE must be a positive int. Got 2.5"),
    (dict(model="node2vec", p=0), "The 'p' parameter of Node2Vec must be a positive number"),
    (dict(model="gcn"), "The 'model' parameter of TrainConfig must be one of"),
    (dict(p=2.0), "The 'p' parameter of DeepWalk must be left out: it is an option of node2vec"),
    (dict(dimm=2), "(did you mean 'dim'?)"),
    (dict(num_partitions="many"), "must be an int >= 1 or 'auto'"),
    (dict(progress="yes"), "'progress' parameter of DeepWalk must be a bool"),
    (dict(lr_floor=2.0), "in [0, 1]"),
])
def test_bad_values_name_the_parameter(kwargs, message):
    with pytest.raises(ParameterError) as info:
        TrainConfig(**kwargs)
    assert message in str(info.value)


def test_yaml_style_float_strings():
    # PyYAML reads 1e-3 as a string (YAML 1.1): still a number here
    assert TrainConfig(learning_rate="1e-3").learning_rate == 0.001
    with pytest.raises(ParameterError, match="learning_rate"):
        TrainConfig(learning_rate="fast")
    with pytest.raises(ParameterError, match="seed"):
        TrainConfig(seed=2**64)


def test_trainconfig_builds_the_models_section():
    assert type(TrainConfig()) is DeepWalkConfig
    assert type(TrainConfig(model="line", order=1)) is LineConfig
    c = TrainConfig(model="node2vec", p=2.0)
    assert isinstance(c, Node2VecConfig) and c.p == 2.0 and c.q == 1.0
    assert c.replace(q=3.0).q == 3.0
    line = c.replace(model="line")  # switching model keeps the shared options set
    assert type(line) is LineConfig and line.dim == c.dim
    set_dim = TrainConfig(model="node2vec", dim=32, p=2.0).replace(model="line")
    assert set_dim.dim == 32 and set_dim.num_epoch == "auto"
    with pytest.raises(ParameterError, match="'model' parameter of Node2Vec"):
        Node2VecConfig(model="line")
    with pytest.raises(ParameterError, match="'p' parameter of LINE"):
        c.replace(model="line", p=2.0)


def test_ints_accepted_for_floats_and_auto():
    c = TrainConfig(learning_rate=1, augmentation_step="auto", num_workers=3)
    assert isinstance(c.learning_rate, float) and c.num_workers == 3


def test_train_section_paths_and_hints():
    with pytest.raises(ConfigError, match=r"train\.dimm: unknown option \(did you mean 'dim'\?\)"):
        train_section({"dimm": 3})
    with pytest.raises(ConfigError, match=r"train\.num_epoch: must be a positive int or 'auto', got 'x'"):
        train_section({"num_epoch": "x"})
    with pytest.raises(ConfigError, match=r"train\.p: left out: it is an option of node2vec"):
        train_section({"model": "line", "p": 2})
    with pytest.raises(ConfigError, match=r"train\.model: must be one of"):
        train_section({"model": "gnn"})
    assert train_section({"dim": 64}).dim == 64
    assert train_section({"model": "node2vec", "q": 0.5}).q == 0.5
    assert from_mapping(LineConfig, {"order": 1}, "train").order == 1


@pytest.mark.parametrize("cls", [DeepWalkConfig, LineConfig, Node2VecConfig])
def test_every_option_has_help(cls):
    rows = options_help(cls)
    assert len(rows) >= 20 and all(h for _, _, _, h in rows)
    assert "(default" not in " ".join(h for _, _, _, h in rows)  # the CLI adds it once


@pytest.mark.parametrize("E,V,s", [(333983, 10312, 2), (4945382, 1138499, 5), (100, 100, 40),
                                   (10**8, 10, 1)])
def test_default_augmentation_step(E, V, s):
    # BlogCatalog 2; YouTube (MPI-SWS links, as GraphVite) 5; |E| <= |V|: walk length
    assert default_augmentation_step(E, V, 40) == s


def test_resolve_auto_values():
    r = resolve(TrainConfig(num_epoch=10), info(10312, 333983))
    assert r.augmentation_step == 2 and r.shuffle_base == 1 and r.num_partitions == 1
    assert r.backend == "numba" and r.device == "cpu" and r.total_samples == 3339830
    line = resolve(TrainConfig(model="line"), info(100, 1000))
    assert line.augmentation_step == 3 and line.shuffle_base == 3
    assert not line.shared_rows
    assert resolve(TrainConfig(model="line", order=1), info(100, 1000)).shared_rows


def test_resolve_cross_checks():
    with pytest.raises(ParameterError, match="'augmentation_step'"):
        resolve(TrainConfig(walk_length=3, augmentation_step=5), info(10, 20))
    with pytest.raises(ParameterError, match="'device'"):
        resolve(TrainConfig(backend="numba", device="cuda"), info(10, 20))
    with pytest.raises(ParameterError, match="at most the number of rows"):
        resolve(TrainConfig(num_partitions=20), info(10, 50))


def test_threads_per_block_follow_the_round_width(monkeypatch):
    from vitegraph.config import train as train_cfg
    monkeypatch.setattr(train_cfg, "_cpu_count", lambda: 16)

    def tpb(**kw):
        r = resolve(TrainConfig(**kw), info(1000, 5000))
        return r.num_workers, r.round_width, r.threads_per_block

    assert tpb() == (16, 1, 16)                         # one block: all threads Hogwild
    assert tpb(num_partitions=4) == (16, 4, 4)          # 4 blocks a round, 4 threads each
    assert tpb(num_partitions=4, num_workers=2) == (2, 4, 1)
    assert tpb(num_partitions=4, threads_per_block=1) == (16, 4, 1)
    # one table on both sides: rounds of P // 2 blocks
    assert tpb(model="line", order=1, num_partitions=4, num_workers=2) == (2, 2, 1)
    assert tpb(model="line", order=1, num_partitions=2, num_workers=2) == (2, 1, 2)


@pytest.mark.slow
def test_resolve_does_not_import_torch_without_a_gpu_driver():
    """Importing torch costs seconds; a CPU-only machine should not pay it."""
    import glob
    import os
    import subprocess
    import sys
    if os.path.exists("/proc/driver/nvidia") or glob.glob("/dev/nvidia[0-9]*"):
        pytest.skip("an NVIDIA driver is present: torch is imported to ask CUDA")
    code = ("import sys, numpy as np, vitegraph.config as c, vitegraph.models as m; "
            "r = c.resolve(c.TrainConfig(), m.DataInfo(10, 20, np.ones(10), {})); "
            "print(r.backend, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["numba", "False"]


@pytest.mark.torch
def test_backend_choice_and_devices(monkeypatch, caplog):
    """auto: Triton on a visible GPU (torch when triton is missing), numba
    otherwise; a device list trains on several devices; the log says which
    device, which kernels and why."""
    pytest.importorskip("torch")
    import logging
    from vitegraph.config import train as train_cfg
    monkeypatch.setattr(train_cfg, "_cuda_available", lambda: False)
    with caplog.at_level(logging.INFO, logger="vitegraph"):
        r = resolve(TrainConfig(), info(100, 500))
    assert (r.backend, r.device) == ("numba", "cpu")
    assert "training on cpu with the numba kernels (no CUDA GPU is visible)" in caplog.text
    r = resolve(TrainConfig(backend="torch", device="cpu,cpu"), info(100, 500))
    assert (r.device, r.num_workers, r.threads_per_block) == ("cpu,cpu", 2, 1)
    r = resolve(TrainConfig(backend="torch", num_workers=3), info(100, 500))
    assert (r.device, r.num_workers) == ("cpu,cpu,cpu", 3)
    r = resolve(TrainConfig(device="cpu"), info(100, 500))
    assert r.backend == "torch"      # a torch device asks for torch
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    with pytest.raises(ParameterError, match="'backend'.*TRITON_INTERPRET"):
        resolve(TrainConfig(backend="triton", device="cpu"), info(100, 500))
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    if importlib.util.find_spec("triton") is not None:
        assert resolve(TrainConfig(backend="triton", device="cpu"), info(100, 500)).backend \
            == "triton"
    with pytest.raises(ParameterError, match="'device'"):
        resolve(TrainConfig(backend="torch", device="cpu,,cpu"), info(100, 500))
    with pytest.raises(ParameterError, match="'device'"):
        resolve(TrainConfig(backend="numba", device="cpu,cpu"), info(100, 500))
    with pytest.raises(ParameterError, match="'device'"):
        resolve(TrainConfig(backend="torch", device="cuda"), info(100, 500))
