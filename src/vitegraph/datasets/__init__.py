"""Datasets: synthetic generators, the registry of standard datasets, and their
optional download from the original sources."""

from .download import DownloadError, download_dataset
from .registry import DATASETS, downloadable, load_dataset
from .synthetic import planted_partition, power_law_communities

__all__ = ["planted_partition", "power_law_communities", "DATASETS", "load_dataset", "download_dataset", "downloadable",
           "DownloadError"]
