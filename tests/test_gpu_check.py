"""The device check's script runs end to end at toy sizes on CPU tensors
(Triton's interpreter), so it is ready when a GPU machine is lent."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("triton")

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_gpu_check_smoke(tmp_path):
    env = dict(os.environ, TRITON_INTERPRET="1")
    subprocess.run([sys.executable, str(ROOT / "bench" / "gpu_check.py"), "--smoke",
                    "--out", str(tmp_path)], check=True, env=env, capture_output=True,
                   timeout=300)
    figures = json.loads((tmp_path / "gpu_check.json").read_text())
    assert figures["meta"]["finished"]
    for step in ("kernel", "youtube_size"):
        assert "error" not in figures[step], figures[step].get("traceback")
    rates = {r["kernel"]: r for r in figures["kernel"]["rates"]}
    assert rates["triton float32 block=None atomic"]["samples_per_s"] > 0
    runs = figures["youtube_size"]["runs"]
    assert set(runs) == {"gpu, walks on the device", "gpu, walks on the host",
                         "numba on the host"}
    assert all(r["samples"] > 0 for r in runs.values())
