"""What ``vitegraph info`` reports: library versions and hardware."""

from __future__ import annotations

import importlib
import os
import platform

from .._version import __version__


def _version(module: str) -> str:
    try:
        return importlib.import_module(module).__version__
    except ImportError:
        return "not installed"
    except Exception as exc:  # a broken install should not break `info`
        return f"unusable ({type(exc).__name__}: {exc})"


def collect_info() -> dict:
    info = {
        "vitegraph": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "cpus usable": str(len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity")
        else str(os.cpu_count()),
    }
    for mod in ("numpy", "scipy", "numba", "pyarrow", "sklearn", "torch"):
        info[mod] = _version(mod)
    try:
        import numba
        info["numba threads"] = str(numba.config.NUMBA_NUM_THREADS)
    except ImportError:
        pass
    cuda = "no (torch not installed)"
    if info["torch"] != "not installed" and not info["torch"].startswith("unusable"):
        import torch
        if torch.cuda.is_available():
            names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            cuda = f"yes: {', '.join(names)}"
        else:
            cuda = "no" + (" (CPU-only torch build)" if torch.version.cuda is None else "")
    info["cuda"] = cuda
    return info
