"""Shared fixtures.  Real datasets live in ../shared/data (or $VITEGRAPH_DATA);
tests that need them skip with a reason when the folder is absent."""

import os
from pathlib import Path

import pytest

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
