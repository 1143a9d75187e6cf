"""vitegraph: fast graph embeddings after the GraphVite design.

Data flows one way: ``graph`` (CSR storage and readers) -> ``sampling``
(online random-walk augmentation) -> ``partition`` (blocks and schedules) ->
``kernels`` (training loops) -> ``solver`` -> ``apps`` (evaluation, export).
"""

from ._version import __version__
from . import errors

__all__ = ["__version__", "errors"]
