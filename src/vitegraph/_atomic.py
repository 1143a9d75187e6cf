"""Atomic file and folder writes: build under a temporary sibling name, then
rename into place, so a reader (or a crash) never sees a half-written result.

Temporary files from ``tempfile`` are private (mode 0600 / 0700); the result
gets the mode a plain ``open`` would have given it under the process umask.
"""

from __future__ import annotations

import os
import shutil
import tempfile


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path, write, *, suffix: str = "") -> None:
    """Call ``write(binary file object)`` on a temporary sibling of ``path``, then
    rename it to ``path``.  On any exception (Ctrl-C included) the temporary
    file is removed and an existing ``path`` is left as it was."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_folder(path, fill) -> None:
    """Call ``fill(temporary folder)``, then swap the folder into ``path``
    (an existing folder there is replaced only once the new one is complete)."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=parent)
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        fill(tmp)
        if os.path.isdir(path) and not os.path.islink(path):
            old = tempfile.mkdtemp(prefix=".old-", dir=parent)
            os.rmdir(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
