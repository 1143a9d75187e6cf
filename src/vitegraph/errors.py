"""Errors raised by vitegraph.

Every error a user can trigger with bad input derives from :class:`VitegraphError`,
so callers can catch one class.  Errors about files carry the path and, where it
is known, the 1-based line number, and put both at the front of the message::

    edges.txt, line 17: expected 2 or 3 columns, got 4
"""

from __future__ import annotations

import os
from typing import Optional


class VitegraphError(Exception):
    """Base class of all errors raised by vitegraph on bad input or state."""


class ParameterError(VitegraphError, ValueError):
    """An argument or option has a wrong type or value.

    The message names the parameter and its owner, scikit-learn style:
    ``The 'dim' parameter of DeepWalk must be a positive int. Got -3 instead.``
    """

    def __init__(self, owner: str, name: str, expected: str, got: object):
        self.owner, self.name, self.expected, self.got = owner, name, expected, got
        super().__init__(
            f"The {name!r} parameter of {owner} must be {expected}. Got {got!r} instead."
        )


class InputFormatError(VitegraphError, ValueError):
    """A file or array holds data that cannot be read as the expected format."""

    def __init__(self, message: str, path: Optional[os.PathLike | str] = None,
                 line: Optional[int] = None):
        self.path = None if path is None else os.fspath(path)
        self.line = line
        self.reason = message
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}, line {line}"
            where += ": "
        super().__init__(where + message)


class GraphError(VitegraphError, ValueError):
    """The graph content breaks a rule: duplicate edges under the 'error' policy,
    node ids out of range, an empty graph where one is not allowed ..."""


class UnknownNodeError(VitegraphError, KeyError):
    """A node name is not in the graph's vocabulary."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


class ConfigError(VitegraphError, ValueError):
    """A configuration value is invalid; the message names the key path."""


class OutputError(VitegraphError, OSError):
    """An output location cannot be written (read-only folder, a parent that is
    a file, an unknown format ...); the message names the path."""


class DivergenceError(VitegraphError):
    """Training diverged (the loss exploded or became NaN, or a table holds
    non-finite values); the message names the likely cause and a value to try.
    Nothing non-finite is written."""


class CheckpointError(VitegraphError):
    """A checkpoint is missing, corrupt, or does not match the run it resumes."""


class DistributedError(VitegraphError):
    """A run on several processes failed: a rank stopped, did not answer within
    the timeout, or disagrees with the others on the config or the data."""
