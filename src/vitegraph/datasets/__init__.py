"""Datasets: synthetic generators (and, later, the registry of standard datasets)."""

from .synthetic import planted_partition

__all__ = ["planted_partition"]
