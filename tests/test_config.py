"""The training options schema: defaults, validation messages, resolution."""

import pytest

from vitegraph.config import (TrainConfig, default_augmentation_step, from_mapping,
                              options_help, resolve)
from vitegraph.errors import ConfigError, ParameterError


def test_graphvite_defaults():
    c = TrainConfig()
    assert (c.dim, c.learning_rate, c.num_negative, c.negative_weight, c.weight_decay,
            c.walk_length, c.lr_floor) == (128, 0.025, 1, 5.0, 0.005, 40, 1e-4)


@pytest.mark.parametrize("kwargs,message", [
    (dict(dim=-3), "The 'dim' parameter of DeepWalk must be a positive int. Got -3 instead."),
    (dict(model="line", dim=2.5), "The 'dim' parameter of LINE must be a positive int. Got 2.5"),
    (dict(model="node2vec", p=0), "The 'p' parameter of Node2Vec must be a positive number"),
    (dict(model="gcn"), "The 'model' parameter of TrainConfig must be one of"),
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


def test_p_and_q_named_for_non_node2vec():
    with pytest.raises(ParameterError, match="'q' parameter of DeepWalk"):
        resolve(TrainConfig(q=2.0), 10, 20)


def test_ints_accepted_for_floats_and_auto():
    c = TrainConfig(learning_rate=1, augmentation_step="auto", num_workers=3)
    assert isinstance(c.learning_rate, float) and c.num_workers == 3


def test_from_mapping_paths_and_hints():
    with pytest.raises(ConfigError, match=r"train\.dimm: unknown option \(did you mean 'dim'\?\)"):
        from_mapping(TrainConfig, {"dimm": 3}, "train")
    with pytest.raises(ConfigError, match=r"train\.num_epoch: must be a positive int, got 'x'"):
        from_mapping(TrainConfig, {"num_epoch": "x"}, "train")
    assert from_mapping(TrainConfig, {"dim": 64}, "train").dim == 64


def test_every_option_has_help():
    rows = options_help(TrainConfig)
    assert len(rows) >= 20 and all(h for _, _, _, h in rows)


@pytest.mark.parametrize("E,V,s", [(333983, 10312, 2), (4945382, 1138499, 5), (100, 100, 40),
                                   (10**8, 10, 1)])
def test_default_augmentation_step(E, V, s):
    # BlogCatalog 2; YouTube (MPI-SWS links, as GraphVite) 5; |E| <= |V|: walk length
    assert default_augmentation_step(E, V) == s


def test_resolve_auto_values():
    r = resolve(TrainConfig(num_epoch=10), 10312, 333983)
    assert r.augmentation_step == 2 and r.shuffle_base == 1 and r.num_partitions == 1
    assert r.backend == "numba" and r.device == "cpu" and r.total_samples == 3339830
    line = resolve(TrainConfig(model="line"), 100, 1000)
    assert line.augmentation_step == 1 and line.shuffle_base == 1


def test_resolve_cross_checks():
    with pytest.raises(ParameterError, match="'p' parameter of DeepWalk"):
        resolve(TrainConfig(p=2.0), 10, 20)
    with pytest.raises(ParameterError, match="'augmentation_step'"):
        resolve(TrainConfig(walk_length=3, augmentation_step=5), 10, 20)
    with pytest.raises(ParameterError, match="num_workers"):
        resolve(TrainConfig(num_partitions=2, num_workers=3), 10, 20)
    with pytest.raises(ParameterError, match="'device'"):
        resolve(TrainConfig(backend="numba", device="cuda"), 10, 20)


def test_resolve_does_not_import_torch_without_a_gpu_driver():
    """Importing torch costs seconds; a CPU-only machine should not pay it."""
    import glob
    import os
    import subprocess
    import sys
    if os.path.exists("/proc/driver/nvidia") or glob.glob("/dev/nvidia[0-9]*"):
        pytest.skip("an NVIDIA driver is present: torch is imported to ask CUDA")
    code = ("import sys, vitegraph.config as c; r = c.resolve(c.TrainConfig(), 10, 20); "
            "print(r.backend, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["numba", "False"]
