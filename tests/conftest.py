"""Shared fixtures.  Real datasets live in ../shared/data (or $VITEGRAPH_DATA);
tests that need them skip with a reason when the folder is absent."""

import glob
import importlib.util
import os
from pathlib import Path

import pytest

# Without an NVIDIA driver the Triton kernels run under Triton's interpreter on
# CPU tensors.  Triton reads the variable when it is imported, so it is set here,
# before any test module can import triton.
if not (os.path.exists("/proc/driver/nvidia") or glob.glob("/dev/nvidia[0-9]*")):
    os.environ.setdefault("TRITON_INTERPRET", "1")

DATA_DIR = Path(os.environ.get("VITEGRAPH_DATA",
                               Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))


def dataset_path(name: str) -> Path:
    """Folder of a shared dataset, or skip the calling test."""
    p = DATA_DIR / name
    if not p.is_dir():
        pytest.skip(f"dataset {name!r} not found at {p} (set VITEGRAPH_DATA to the folder "
                    "laid out like shared/data)")
    return p


@pytest.fixture
def data_dir():
    return dataset_path


def _cuda_visible() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch
    return bool(torch.cuda.is_available())


def pytest_collection_modifyitems(config, items):
    """``@pytest.mark.torch`` tests skip without torch, ``@pytest.mark.gpu``
    tests without a CUDA GPU, each with the reason; tests on the real datasets
    (the ``data_dir`` fixture) count as ``slow``."""
    has_torch = importlib.util.find_spec("torch") is not None
    gpu = None
    for item in items:
        if "data_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
        if "torch" in item.keywords and not has_torch:
            item.add_marker(pytest.mark.skip(reason="torch is not installed "
                                             "(pip install 'vitegraph[torch]')"))
        if "gpu" in item.keywords:
            if gpu is None:
                gpu = _cuda_visible()
            if not gpu:
                item.add_marker(pytest.mark.skip(reason="no CUDA GPU is visible"))
