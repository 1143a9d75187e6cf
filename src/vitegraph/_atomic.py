"""Outputs: atomic file and folder writes, and checks of where outputs go.

Writes build under a temporary sibling name, then rename into place, so a
reader (or a crash) never sees a half-written result.  Temporary names carry the
writer's host and process id (``.vitegraph-tmp-<host>-<pid>-...``); a process
killed mid-write leaves one behind, and the next write into that folder from the
same host removes those whose process is gone and that are over a minute old
(never another host's, never anything not named so).  Temporary files from ``tempfile`` are private (mode 0600 / 0700); the
result gets the mode a plain ``open`` would have given it under the process
umask.

:func:`check_output_file` and :func:`prepare_output_dir` find an unwritable
location before any work is done, with an :class:`~vitegraph.errors.OutputError`
naming the path.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile

from .errors import OutputError

_STALE = re.compile(r"^\.vitegraph-(?:tmp|old)-([A-Za-z0-9_]+)-(\d+)-")
_STALE_AGE = 60.0  # seconds: a temporary file younger than this is never removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _host() -> str:
    import socket
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname()) or "host"


def _prefix(kind: str = "tmp") -> str:
    return f".vitegraph-{kind}-{_host()}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def clean_stale(folder) -> list[str]:
    """Remove temporary files and folders left in ``folder`` by vitegraph
    processes that no longer run; returns their names."""
    import time
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    host, now = _host(), time.time()
    for name in names:
        m = _STALE.match(name)
        if not m or m.group(1) != host:
            continue
        pid = int(m.group(2))
        if pid == os.getpid() or _alive(pid):
            continue
        p = os.path.join(folder, name)
        try:
            if now - os.lstat(p).st_mtime < _STALE_AGE:
                continue
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p)
            else:
                os.unlink(p)
            removed.append(name)
        except OSError:
            pass
    return removed


def _os_error(exc: OSError, path: str, what: str) -> OutputError:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOTDIR:
        reason = "a part of the path is a file, not a folder"
    return OutputError(f"{path}: cannot {what} ({reason})")


def prepare_output_dir(path) -> str:
    """Create folder ``path`` if needed and check that files can be written in
    it (by writing one); an :class:`OutputError` naming the path otherwise."""
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputError(f"{path}: is a file, expected a folder for the outputs")
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=_prefix(), dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _os_error(exc, path, "write outputs there") from None
    clean_stale(path)
    return path


def check_output_file(path) -> str:
    """Check before any work that ``path`` can be written (its folder exists or
    can be made, is writable, and ``path`` is not a folder)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a folder, expected a file name")
    prepare_output_dir(os.path.dirname(os.path.abspath(path)))
    return path


def atomic_write(path, write, *, suffix: str = "") -> None:
    """Call ``write(binary file object)`` on a temporary sibling of ``path``, then
    rename it to ``path``.  On any exception (Ctrl-C included) the temporary
    file is removed and an existing ``path`` is left as it was."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    clean_stale(parent)
    fd, tmp = tempfile.mkstemp(prefix=_prefix(), suffix=suffix, dir=parent)
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
    clean_stale(parent)
    tmp = tempfile.mkdtemp(prefix=_prefix(), dir=parent)
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        fill(tmp)
        if os.path.isdir(path) and not os.path.islink(path):
            old = tempfile.mkdtemp(prefix=_prefix("old"), dir=parent)
            os.rmdir(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
