"""Partitions of the node set and block schedules for parallel negative sampling.

* :func:`partition_nodes` deals nodes into P partitions by degree (zig-zag);
  :class:`Partition` maps global ids to (partition, local index) and back.
* :func:`orthogonal_rounds` schedules the P x P blocks for W workers.
* :func:`shared_rounds` schedules them when both sides address one table.
"""

from .partition import Partition, partition_nodes
from .schedule import orthogonal_rounds, shared_rounds

__all__ = ["Partition", "partition_nodes", "orthogonal_rounds", "shared_rounds"]
