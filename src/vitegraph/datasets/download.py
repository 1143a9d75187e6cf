"""Download standard datasets from their original files, with checksums and a cache.

:func:`download_dataset` fetches each original file listed in the dataset's
registry entry (``Dataset.sources``) into ``<data dir>/<name>/orig/``, checks its
SHA-256, and converts the originals into ``edges.txt`` and ``labels.txt``.  The
converted files are byte-identical to those of the project's shared data folder,
so the registry's checksums of ``edges.txt`` / ``labels.txt`` verify them too.

- ``orig/`` is the cache: a file that is there with the registered checksum is not
  downloaded again.  Without network access, place the original files there by
  hand (same names) and run the download: it then only converts.
- A download streams into a temporary file next to its target and is renamed only
  once its checksum matches; a mismatch raises :class:`~vitegraph.errors.InputFormatError`
  and leaves nothing behind.  ``edges.txt`` / ``labels.txt`` are written atomically.
- Network failures raise :class:`DownloadError` (a :class:`~vitegraph.errors.VitegraphError`).

Sources (see ``registry.py``): BlogCatalog from ``phanein/deepwalk``
(``example_graphs/blogcatalog.mat``), and the six karateclub datasets from
``benedekrozemberczki/karateclub`` (``dataset/node_level/<name>/edges.csv`` and
``target.csv``), all as ``https://raw.githubusercontent.com/<repo>/master/<path>``.
These URLs were written without network access and have not been fetched from
the real hosts; the checksums were taken from local copies of the same files, so a
moved or changed upstream file gives a clear error rather than wrong data.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from .._atomic import _umask, atomic_write
from .._version import __version__
from ..errors import InputFormatError, ParameterError, VitegraphError
from .registry import Dataset, Source, _sha256, downloadable, get_dataset
from .registry import data_dir as _resolve_data_dir

log = logging.getLogger(__name__)

TIMEOUT = 60.0                # seconds without data before a download fails
_CHUNK = 1 << 16
_BAR_MIN_BYTES = 1 << 20      # automatic progress bars only for files this large
_ROWS = 1 << 16               # rows formatted per chunk when writing text


class DownloadError(VitegraphError, OSError):
    """A file could not be fetched: no network, an HTTP error, a timeout ..."""


def download_dataset(name: str, data_dir=None, *, base_url: Optional[str] = None,
                     force: bool = False, progress: Optional[bool] = None) -> Path:
    """Download a standard dataset's original files and convert them; returns the
    dataset's folder, ``<data dir>/<name>``, holding ``edges.txt`` and ``labels.txt``.

    ``data_dir``: the data folder (default ``$VITEGRAPH_DATA``, then
    ``~/.vitegraph/data``).  ``base_url`` replaces the host part of every URL
    (``https://raw.githubusercontent.com``), e.g. for a mirror or a test server.
    Without ``force``, a dataset whose converted files are present and verified is
    left as it is, and originals already in ``orig/`` with the right checksum are
    not downloaded again; ``force`` downloads and converts again.  ``progress``
    shows a tqdm bar per download (default: for files over 1 MiB when standard
    error is a terminal).

    The URLs point at the ``master`` branch on raw.githubusercontent.com and were
    not fetched while writing this code (no network); the SHA-256 checks guard
    against any upstream change.
    """
    ds = get_dataset(name)
    if ds.sources is None:
        raise ParameterError("download_dataset", "name", "a dataset with a download source ("
                             + ", ".join(downloadable()) + ")", name)
    root = _resolve_data_dir(data_dir) / name
    if not force and _converted_ok(ds, root):
        log.info("%s: %s present and verified", root, ", ".join(ds.files))
        return root
    convert = CONVERTERS[ds.sources.converter]
    orig = root / "orig"
    created = []                      # folders this call makes, deepest first
    p = orig
    while not p.exists() and p != p.parent:
        created.append(p)
        p = p.parent
    try:
        originals = {src.file: _fetch(src, orig, base_url=base_url, force=force,
                                      progress=progress) for src in ds.sources.files}
        outputs = convert(originals)
        _check_converted(ds, root, outputs)
        for fname, data in outputs.items():
            atomic_write(root / fname, lambda f, data=data: f.write(data))
    except BaseException:
        for p in created:             # remove them again if they stayed empty
            try:
                p.rmdir()
            except OSError:
                pass
        raise
    log.info("%s: wrote %s", root, ", ".join(outputs))
    return root


def _converted_ok(ds: Dataset, root: Path) -> bool:
    paths = [root / f for f in ds.files]
    if not all(p.is_file() for p in paths):
        return False
    bad = [p.name for p in paths if _sha256(p) != ds.sha256[p.name]]
    if bad:
        log.warning("%s: %s differ(s) from the registered checksum; converting again",
                    root, ", ".join(bad))
    return not bad


def _check_converted(ds: Dataset, root: Path, outputs: dict) -> None:
    """The converter's output must be the registered files, byte for byte."""
    if sorted(outputs) != sorted(ds.files):
        raise InputFormatError(f"conversion of {ds.name!r} gave {sorted(outputs)}, expected "
                               f"{sorted(ds.files)}", root)
    for fname, data in outputs.items():
        got = hashlib.sha256(data).hexdigest()
        if got != ds.sha256[fname]:
            raise InputFormatError(
                f"converting the originals of {ds.name!r} gave {fname} with sha256 {got}, "
                f"expected {ds.sha256[fname]}; nothing was written", root)


# -- fetching ----------------------------------------------------------------------------

def _fetch(src: Source, folder: Path, *, base_url: Optional[str], force: bool,
           progress: Optional[bool]) -> Path:
    """``folder/src.file``, downloaded unless it is there with the right checksum."""
    target = folder / src.file
    if not force and target.is_file():
        if _sha256(target) == src.sha256:
            log.info("%s: cached", target)
            return target
        log.warning("%s: differs from the registered original; downloading it again", target)
    url = src.url(base_url)
    log.info("downloading %s", url)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{src.file}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _stream(url, out, progress, target)
        if actual != src.sha256:
            raise InputFormatError(
                f"checksum mismatch for {url}: expected sha256 {src.sha256}, got {actual} "
                "(the download was discarded; the file may have changed upstream)")
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def _stream(url: str, out, progress: Optional[bool], target: Path) -> str:
    """Copy ``url`` into the binary file ``out``; returns the SHA-256 of the bytes."""
    import http.client
    import urllib.error
    import urllib.request

    net_errors = (urllib.error.URLError, http.client.HTTPException, OSError)
    req = urllib.request.Request(url, headers={"User-Agent": f"vitegraph/{__version__}"})
    try:
        resp = urllib.request.urlopen(req, timeout=TIMEOUT)
    except (*net_errors, ValueError) as exc:   # ValueError: not a URL urllib can open
        raise _network_error(url, exc, target) from None
    h = hashlib.sha256()
    received = 0
    with resp:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        bar = _bar(progress, total, target.name)
        try:
            while True:
                try:
                    chunk = resp.read(_CHUNK)
                except net_errors as exc:
                    raise _network_error(url, exc, target) from None
                if not chunk:
                    break
                h.update(chunk)
                out.write(chunk)
                received += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    if total is not None and received != total:
        raise _network_error(url, f"the connection closed after {received:,} of {total:,} "
                                  "bytes", target)
    return h.hexdigest()


def _network_error(url: str, exc, target: Path) -> DownloadError:
    import urllib.error
    if isinstance(exc, urllib.error.HTTPError):
        reason = f"HTTP {exc.code} {exc.reason}"
        exc.close()
    elif isinstance(exc, urllib.error.URLError):
        reason = str(exc.reason)
    else:
        reason = str(exc) or type(exc).__name__
    return DownloadError(
        f"could not download {url}: {reason}. Without network access, get the file "
        f"elsewhere and place it by hand in {target.parent}{os.sep} as {target.name}, then "
        "run the download again: files there with the registered checksum are used as "
        "they are")


def _bar(progress: Optional[bool], total: Optional[int], desc: str):
    if progress is None:
        progress = sys.stderr.isatty() and (total is None or total >= _BAR_MIN_BYTES)
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                dynamic_ncols=True, leave=False)


# -- converters: originals -> edges.txt / labels.txt -------------------------------------
#
# The shared data's conventions: edges.txt holds each undirected edge once as "u v"
# with u <= v (self-loops "u u" kept), rows sorted, no duplicates; labels.txt holds
# "node label" rows, sorted (several rows per node for multi-label data).

def convert_karateclub(files: dict) -> dict:
    """karateclub's ``edges.csv`` (``id_1,id_2``) and ``target.csv`` (``id,target``)."""
    edges = _read_int_csv(files["edges.csv"], ("id_1", "id_2"))
    target = _read_int_csv(files["target.csv"], ("id", "target"))
    return {"edges.txt": _format_edges(edges),
            "labels.txt": _format_rows(np.unique(target, axis=0))}


def convert_deepwalk_mat(files: dict) -> dict:
    """A DeepWalk / ASU ``.mat``: ``network`` (adjacency) and ``group`` (node x label)."""
    import scipy.sparse as sp
    from ..graph.io import _load_mat

    (path,) = files.values()
    mat = _load_mat(path)
    found = ", ".join(k for k in mat if not k.startswith("__")) or "none"
    pairs = {}
    for var in ("network", "group"):
        if var not in mat:
            raise InputFormatError(f"no variable {var!r} (found: {found})", path)
        m = sp.coo_matrix(mat[var])
        m.eliminate_zeros()
        pairs[var] = np.stack([m.row, m.col], axis=1).astype(np.int64)
    shape = mat["network"].shape
    if shape[0] != shape[1]:
        raise InputFormatError(f"'network' must be a square matrix, got {shape}", path)
    return {"edges.txt": _format_edges(pairs["network"]),
            "labels.txt": _format_rows(np.unique(pairs["group"], axis=0))}


CONVERTERS: dict[str, Callable[[dict], dict]] = {
    "karateclub_csv": convert_karateclub,
    "deepwalk_mat": convert_deepwalk_mat,
}


def _read_int_csv(path, header: tuple) -> np.ndarray:
    """An (n, len(header)) int64 array from a csv with exactly that header line."""
    with open(path, "rb") as f:
        first = f.readline().decode("utf-8", "replace").strip()
    if [c.strip() for c in first.split(",")] != list(header):
        raise InputFormatError(f"expected the header {','.join(header)!r}, got {first!r}",
                               path, 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)   # a header-only file: no rows
            a = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
    except ValueError as exc:
        raise InputFormatError(f"expected rows of {len(header)} integers ({exc})", path) from None
    if a.size and (a.shape[1] != len(header) or a.min() < 0):
        raise InputFormatError(f"expected rows of {len(header)} non-negative integers", path)
    return a.reshape(-1, len(header))


def _format_edges(pairs: np.ndarray) -> bytes:
    """Undirected edges, each once as "u v" with u <= v, sorted, duplicates merged."""
    pairs = np.sort(pairs.reshape(-1, 2), axis=1)
    return _format_rows(np.unique(pairs, axis=0))


def _format_rows(rows: np.ndarray) -> bytes:
    """ "a b" lines of an (n, 2) integer array."""
    flat = rows.reshape(-1, 2).astype(np.int64).ravel().tolist()
    out = []
    for i in range(0, len(flat), 2 * _ROWS):
        chunk = flat[i:i + 2 * _ROWS]
        out.append((("%d %d\n" * (len(chunk) // 2)) % tuple(chunk)).encode("ascii"))
    return b"".join(out)
