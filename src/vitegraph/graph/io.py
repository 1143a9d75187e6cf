"""Readers: text edge lists, numpy arrays, scipy matrices, networkx graphs,
PyTorch Geometric ``edge_index``, MATLAB ``.mat`` files.

Text is parsed by pyarrow's multi-threaded CSV reader.  The fast path never
loops over lines in Python; when pyarrow rejects the input, a slow scan of the
same bytes finds the first offending line so the error can name it.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import os
import re
from typing import Any, Optional, Sequence

import numpy as np

from ..errors import GraphError, InputFormatError, ParameterError
from .graph import Graph, Vocabulary

log = logging.getLogger(__name__)

_COMMENT_CHARS = b"#%"
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_RE_COMMENT_LINE = re.compile(rb"(?m)^[ \t]*[#%][^\n]*(?:\n|\Z)")
_RE_HAS_COMMENT = re.compile(rb"(?m)^[ \t]*[#%]")
_RE_WS_RUN = re.compile(rb"[ \t]+")
_RE_EDGE_WS = re.compile(rb"(?m)^ | (?=\r?$)")


# ----------------------------------------------------------------- file bytes
def _opener(path):
    """``open`` or the decompressing opener for ``path`` (``.gz``, ``.bz2``,
    ``.xz``, recognised by their magic bytes, whatever the file name says)."""
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except FileNotFoundError:
        raise InputFormatError("no such file", path) from None
    except IsADirectoryError:
        raise InputFormatError("is a folder, expected a file", path) from None
    if head[:2] == b"\x1f\x8b":
        return gzip.open
    if head[:3] == b"BZh":
        return bz2.open
    if head[:6] == b"\xfd7zXZ\x00":
        return lzma.open
    return open


def read_bytes(path) -> bytes:
    """Whole content of ``path``, decompressed when it is compressed."""
    path = os.fspath(path)
    opener = _opener(path)
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise InputFormatError(f"cannot decompress: {exc}", path) from None


def _blocks(path, size: int):
    """The file's (decompressed) bytes in blocks of about ``size`` bytes, each
    ending at a line end (the last may not)."""
    opener = _opener(path)
    try:
        with opener(path, "rb") as f:
            rest = b""
            while True:
                chunk = f.read(size)
                if not chunk:
                    if rest:
                        yield rest
                    return
                block = rest + chunk if rest else chunk
                cut = block.rfind(b"\n") + 1
                if cut == 0:          # no line end yet: read on
                    rest = block
                    continue
                rest = block[cut:]
                yield block[:cut] if rest else block
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise InputFormatError(f"cannot decompress: {exc}", path) from None


def _data_lines(raw: bytes):
    """Yield ``(line_number, text)`` of non-blank, non-comment lines (slow path)."""
    for no, line in enumerate(raw.split(b"\n"), start=1):
        s = line.strip()
        if not s or s[:1] in (b"#", b"%"):
            continue
        yield no, s


def _split(line: bytes, delimiter: Optional[bytes]) -> list[bytes]:
    return line.split() if delimiter is None else [t.strip() for t in line.split(delimiter)]


def _detect_delimiter(raw: bytes, path) -> Optional[bytes]:
    """Tab, comma, or ``None`` for runs of spaces, from the first data line."""
    head = raw[:1 << 16]
    if len(raw) > len(head):  # a cut last line cannot hide the first data line
        head = head[:head.rfind(b"\n") + 1] or raw
    for _, line in _data_lines(head):
        if b"\t" in line:
            return b"\t"
        if b"," in line:
            return b","
        return None
    raise InputFormatError("no edges: the file is empty or holds only comments", path)


def _is_int_token(tok: bytes) -> bool:
    try:
        int(tok)
        return True
    except ValueError:
        return False


def _is_number_token(tok: bytes) -> bool:
    try:
        float(tok)
        return True
    except ValueError:
        return False


def _mark_header(raw: bytes, delimiter, header, path) -> bytes:
    """``raw`` with its header line, if any, turned into a comment (so line
    numbers stay right).  ``header='auto'``: the first data line is a header
    when a field of it is not a number where the next data line has one
    (``source target`` over integer ids, ``u,v,weight`` over numbers)."""
    if header is False:
        return raw
    lines = _data_lines(raw[:1 << 16])
    first = next(lines, None)
    if first is None:
        return raw
    if header == "auto":
        second = next(lines, None)
        if second is None:
            return raw
        a, b = _split(first[1], delimiter), _split(second[1], delimiter)
        if not any(not _is_number_token(x) and _is_number_token(y) for x, y in zip(a, b)):
            return raw
    no = first[0]
    start = 0
    for _ in range(no - 1):
        start = raw.index(b"\n", start) + 1
    log.info("%s: line %d is a header: %s", path, no, first[1][:80].decode(errors="replace"))
    return raw[:start] + b"#" + raw[start:]


def _first_bad_line(raw: bytes, delimiter, ncols_ok: Sequence[int], ids_int: bool,
                    weighted: bool, path) -> InputFormatError:
    """Slow scan for the first line that breaks the format; returns the error."""
    expected = None
    for no, line in _data_lines(raw):
        toks = _split(line, delimiter)
        n = len(toks)
        if expected is None:
            expected = n
        if n not in ncols_ok:
            want = " or ".join(str(c) for c in ncols_ok)
            return InputFormatError(f"expected {want} columns, got {n}: {line[:80]!r}", path, no)
        if n != expected:
            return InputFormatError(
                f"expected {expected} columns like the first edge line, got {n}", path, no)
        for t in toks[:2]:
            if not t:
                return InputFormatError("empty node id", path, no)
            if ids_int and not _is_int_token(t):
                return InputFormatError(f"node id {t.decode(errors='replace')!r} is not an "
                                        "integer", path, no)
        if weighted and n > 2:
            try:
                float(toks[2])
            except ValueError:
                return InputFormatError(
                    f"weight {toks[2].decode(errors='replace')!r} is not a number", path, no)
    return InputFormatError("cannot parse the file", path)


def _first_non_integer_id(raw: bytes, delimiter, path) -> InputFormatError:
    for no, line in _data_lines(raw):
        for t in _split(line, delimiter)[:2]:
            if not _is_int_token(t):
                return InputFormatError(
                    f"node id {t.decode(errors='replace')!r} is a number but not an "
                    "integer; pass node_type='str' to read every id as a name", path, no)
    return InputFormatError("node ids are numbers but not all integers; pass "
                            "node_type='str' to read them as names", path)


def _line_of_row(raw: bytes, row: int) -> Optional[int]:
    for k, (no, _) in enumerate(_data_lines(raw)):
        if k == row:
            return no
    return None


def _clean_for_arrow(raw: bytes, delimiter: Optional[bytes], force: bool = False) -> bytes:
    """Remove comment lines and, for space-separated files, collapse runs of
    blanks, so pyarrow sees one delimiter between fields.

    Blank runs are looked for in the first 64 KiB only (a full scan costs more
    than the parse); ``force=True`` cleans the whole file, which the parser does
    when pyarrow rejects the optimistic attempt.
    """
    if (b"#" in raw or b"%" in raw) and _RE_HAS_COMMENT.search(raw):
        raw = _RE_COMMENT_LINE.sub(b"", raw)
    if delimiter is None:
        head = raw[:1 << 16]
        if force or b"  " in head or b"\t" in head or b"\n " in head or b" \n" in head \
                or b" \r" in head or head[:1] == b" ":
            raw = _RE_EDGE_WS.sub(b"", _RE_WS_RUN.sub(b" ", raw))
    return raw


def _parse_table(raw: bytes, delimiter: Optional[bytes], id_type: str, path,
                 ncols_ok: Sequence[int], weight_cols: int, force_clean: bool = False,
                 arrow_block: int = 1 << 24):
    """pyarrow table with columns f0, f1 (ids) and optionally f2 (float weight).

    ``id_type``: 'int', 'str' or 'auto' (int when every id parses as one).
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    clean = _clean_for_arrow(raw, delimiter, force_clean)
    delim = " " if delimiter is None else delimiter.decode()
    types = {}
    if id_type == "str":
        types = {"f0": pa.string(), "f1": pa.string()}
    elif id_type == "int":
        types = {"f0": pa.int64(), "f1": pa.int64()}
    if weight_cols:
        types["f2"] = pa.float64()
    read = pcsv.ReadOptions(autogenerate_column_names=True, block_size=arrow_block)
    parse = pcsv.ParseOptions(delimiter=delim, quote_char=False, double_quote=False,
                              ignore_empty_lines=True)
    conv = pcsv.ConvertOptions(column_types=types, null_values=[], strings_can_be_null=False,
                               quoted_strings_can_be_null=False)
    try:
        table = pcsv.read_csv(pa.BufferReader(clean), read_options=read, parse_options=parse,
                              convert_options=conv)
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if delimiter is None and not force_clean:
            # irregular blanks after the first 64 KiB: clean the whole file, retry
            return _parse_table(raw, delimiter, id_type, path, ncols_ok, weight_cols, True,
                                arrow_block)
        if id_type == "auto" and "conversion error" in msg and ("#0" in msg or "#1" in msg):
            # ids look numeric at first but are not all ints: read them as names
            return _parse_table(raw, delimiter, "str", path, ncols_ok, weight_cols,
                                force_clean)
        if "Empty CSV file" in msg:
            raise InputFormatError("no edges: the file is empty or holds only comments",
                                   path) from None
        raise _first_bad_line(raw, delimiter, ncols_ok, id_type == "int",
                              weight_cols > 0, path) from None
    if table.num_columns not in ncols_ok:
        if delimiter is None and not force_clean:
            return _parse_table(raw, delimiter, id_type, path, ncols_ok, weight_cols, True)
        no = next(_data_lines(raw))[0]
        want = " or ".join(str(c) for c in ncols_ok)
        raise InputFormatError(f"expected {want} columns, got {table.num_columns}", path, no)
    if table.num_rows == 0:
        raise InputFormatError("no edges: the file is empty or holds only comments", path)
    return table


def _column_to_numpy(col):
    """Integer ids as numpy (int32 when they fit, filled chunk by chunk so no
    int64 copy of the whole column exists), string ids as the pyarrow column,
    anything else None."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if pa.types.is_integer(col.type):
        mm = pc.min_max(col).as_py()
        if mm["min"] is not None and -2**31 <= mm["min"] and mm["max"] < 2**31:
            out = np.empty(len(col), dtype=np.int32)
            pos = 0
            for chunk in _chunks(col):
                n = len(chunk)
                out[pos:pos + n] = chunk.to_numpy()
                pos += n
            return out
        return col.to_numpy().astype(np.int64, copy=False)
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        return col
    return None  # floats or other types: not valid ids


# --------------------------------------------------------------- validation
def _check_weights(w: np.ndarray, where, row_to_line) -> np.ndarray:
    """Weights checked in float64 (finite, >= 0), returned as the float32 the
    CSR stores."""
    w = np.asarray(w, dtype=np.float64)
    bad = ~np.isfinite(w) | (w < 0) | (w > _FLOAT32_MAX)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        x = float(w[r])
        if x > _FLOAT32_MAX and np.isfinite(x):
            raise InputFormatError(f"edge weight {x!r} is too large: weights are stored as "
                                   f"float32 (at most {_FLOAT32_MAX:.4g}); scale them down",
                                   where, row_to_line(r))
        what = "NaN" if np.isnan(x) else ("infinite" if np.isinf(x) else "negative")
        raise InputFormatError(f"{what} edge weight {x!r}; weights must be finite and >= 0",
                               where, row_to_line(r))
    return w.astype(np.float32)


def _ids_for(u, v, *, num_nodes, nodes, where, row_to_line, n_rows):
    """Map the name columns ``u, v`` (int64 arrays or pyarrow string arrays) to
    contiguous ids; returns ``(src, dst, vocabulary)``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    is_str = not isinstance(u, np.ndarray)
    if nodes is not None:
        names = np.asarray(nodes)
        if names.ndim != 1 or names.size == 0:
            raise ParameterError("the reader", "nodes", "a non-empty 1-D sequence of names",
                                 type(nodes).__name__)
        vocab_names = names.astype(str) if is_str or names.dtype.kind in "OUS" else names
        if len(np.unique(vocab_names)) != vocab_names.size:
            raise ParameterError("the reader", "nodes", "a list without repeated names",
                                 "a list with repeats")
        if is_str or vocab_names.dtype.kind == "U":
            value_set = pa.array(vocab_names.astype(str).tolist(), type=pa.string())
            cols = [c if is_str else pa.array(c.astype(str)) for c in (u, v)]
            found = [pc.index_in(c, value_set=value_set) for c in cols]
            missing = [np.asarray(f.is_null().to_numpy(zero_copy_only=False)) for f in found]
            bad = missing[0] | missing[1]
            if bad.any():
                r = int(np.flatnonzero(bad)[0])
                name = cols[0 if missing[0][r] else 1][r].as_py()
                raise InputFormatError(f"node {name!r} is not in the given 'nodes' list",
                                       where, row_to_line(r))
            src, dst = (f.to_numpy(zero_copy_only=False).astype(np.int64) for f in found)
            return src, dst, Vocabulary(vocab_names.astype(str), vocab_names.size)
        order = np.argsort(vocab_names, kind="stable")
        sorted_names = vocab_names[order]
        ids = []
        for col in (u, v):
            pos = np.searchsorted(sorted_names, col)
            pos_c = np.minimum(pos, sorted_names.size - 1)
            bad = sorted_names[pos_c] != col
            if bad.any():
                r = int(np.flatnonzero(bad)[0])
                raise InputFormatError(f"node {col[r]!r} is not in the given 'nodes' list",
                                       where, row_to_line(r))
            ids.append(order[pos_c].astype(np.int64))
        return ids[0], ids[1], Vocabulary(vocab_names, vocab_names.size)

    if is_str:
        if num_nodes is not None:
            raise InputFormatError("node ids are not integers, so 'num_nodes' cannot apply; "
                                   "pass 'nodes' to keep isolated named nodes", where)
        both = pa.chunked_array(list(_chunks(u)) + list(_chunks(v)))
        uniq = pc.unique(both)
        uniq = pc.take(uniq, pc.sort_indices(uniq))
        src = pc.index_in(u, value_set=uniq).to_numpy(zero_copy_only=False).astype(np.int64)
        dst = pc.index_in(v, value_set=uniq).to_numpy(zero_copy_only=False).astype(np.int64)
        names = np.asarray(uniq.to_numpy(zero_copy_only=False).astype(str))
        return src, dst, Vocabulary(names, names.size)

    lo = min(int(u.min()), int(v.min()))
    hi = max(int(u.max()), int(v.max()))
    if num_nodes is not None:
        if lo < 0 or hi >= num_nodes:
            bad = (u < 0) | (u >= num_nodes) | (v < 0) | (v >= num_nodes)
            r = int(np.flatnonzero(bad)[0])
            x = u[r] if not 0 <= u[r] < num_nodes else v[r]
            raise InputFormatError(f"node id {int(x)} out of range for num_nodes={num_nodes} "
                                   f"(ids must be 0..{num_nodes - 1})", where, row_to_line(r))
        return u, v, Vocabulary(None, num_nodes)
    if lo >= 0 and hi < 4 * n_rows + 1024:
        # dense-ish ids: presence table, O(E + max id), keeps sorted order
        present = np.zeros(hi + 1, dtype=bool)
        present[u] = True
        present[v] = True
        names = np.flatnonzero(present)
        if names.size == hi + 1:
            return u, v, Vocabulary(None, hi + 1)
        remap = np.cumsum(present, dtype=np.int64) - 1
        return remap[u], remap[v], Vocabulary(names, names.size)
    names, inv = np.unique(np.concatenate([u, v]), return_inverse=True)
    return inv[:u.size], inv[u.size:], Vocabulary(names, names.size)


def vocab_fits_int32(n: int) -> bool:
    return n < 2**31


def _chunks(col):
    return col.chunks if hasattr(col, "chunks") else [col]


def _check_policy(owner, name, value, allowed):
    if value not in allowed:
        raise ParameterError(owner, name, "one of " + ", ".join(repr(a) for a in allowed), value)


def _check_build_options(owner, duplicates, self_loops, num_nodes, nodes):
    """The options every builder shares (policies and the node set)."""
    _check_policy(owner, "duplicates", duplicates, ("auto", "sum", "first", "error"))
    _check_policy(owner, "self_loops", self_loops, ("keep", "drop"))
    if num_nodes is not None and nodes is not None:
        raise ParameterError(owner, "num_nodes", "None when 'nodes' is given", num_nodes)
    if num_nodes is not None and (not isinstance(num_nodes, (int, np.integer)) or num_nodes <= 0):
        raise ParameterError(owner, "num_nodes", "a positive int", num_nodes)


# ---------------------------------------------------------------- text files
def read_edgelist(path, *, directed: bool = False, weighted: Any = "auto",
                  delimiter: str = "auto", num_nodes: Optional[int] = None,
                  nodes: Optional[Sequence[Any]] = None, node_type: str = "auto",
                  duplicates: str = "auto", self_loops: str = "keep",
                  header: Any = "auto") -> Graph:
    """Read a text edge list: one edge per line, ``u v`` or ``u v weight``.

    Fields are separated by spaces (runs allowed), a tab, or a comma (detected
    from the first edge line, or ``delimiter=' ' | '\\t' | ','``).  Lines starting
    with ``#`` or ``%`` are comments.  ``.gz``, ``.bz2`` and ``.xz`` files are
    decompressed transparently.

    ``weighted``: ``'auto'`` (a third column means weights), ``True`` (required)
    or ``False`` (a third column is ignored).  ``node_type``: ``'auto'`` (ints if
    every id is an integer, strings if some id is not a number; ids that are
    numbers but not all integers, such as ``2.5``, are an error naming the line),
    ``'int'`` or ``'str'``.  ``header``: ``'auto'`` (the first line is a header
    when one of its fields is not a number where the second line has one, e.g.
    ``source,target`` over integer ids; string-named graphs need ``True``),
    ``True`` or ``False``.  Weights must fit float32.  For ``num_nodes``,
    ``nodes``, ``duplicates`` (``sum`` on an unweighted file: an edge listed k
    times gets weight k) and ``self_loops`` see :meth:`Graph.from_edges`.
    """
    owner = "read_edgelist"
    _check_policy(owner, "weighted", weighted, ("auto", True, False))
    _check_policy(owner, "node_type", node_type, ("auto", "int", "str"))
    _check_policy(owner, "delimiter", delimiter, ("auto", " ", "\t", ","))
    _check_policy(owner, "header", header, ("auto", True, False))
    _check_build_options(owner, duplicates, self_loops, num_nodes, nodes)

    path = os.fspath(path)
    if nodes is None and node_type != "str":
        g = _read_streamed(path, directed=directed, weighted=weighted, delimiter=delimiter,
                           num_nodes=num_nodes, node_type=node_type, duplicates=duplicates,
                           self_loops=self_loops, header=header)
        if g is not None:
            log.info("read %s: %r", path, g)
            return g
    # the whole file at once: names as ids, a 'nodes' list, or an error to locate
    raw = read_bytes(path)
    delim = (_detect_delimiter(raw, path) if delimiter == "auto"
             else (None if delimiter == " " else delimiter.encode()))
    raw = _mark_header(raw, delim, header, path)
    ncols_ok = {"auto": (2, 3), True: (3,), False: (2, 3)}[weighted]
    # the weight column is typed float only when it will be used
    table = _parse_table(raw, delim, node_type, path, ncols_ok,
                         weight_cols=0 if weighted is False else 1)
    has_w = table.num_columns == 3 and weighted is not False

    def row_to_line(r):
        # error path only: read the file again rather than keep its bytes alive
        return _line_of_row(_mark_header(read_bytes(path), delim, header, path), r)

    u = _column_to_numpy(table.column(0))
    v = _column_to_numpy(table.column(1))
    if (u is None or v is None) and node_type == "auto":
        # ids that parse as numbers but not all as integers ("2.5"): an error,
        # not names (a typo would silently turn every id into a string)
        raise _first_non_integer_id(raw, delim, path)
    if u is None or v is None:
        raise _first_bad_line(raw, delim, ncols_ok, True, has_w, path)
    if isinstance(u, np.ndarray) != isinstance(v, np.ndarray):
        import pyarrow as pa
        table = _parse_table(raw, delim, "str", path, ncols_ok, weight_cols=int(has_w))
        u, v = table.column(0), table.column(1)
        if not pa.types.is_string(u.type):
            raise _first_bad_line(raw, delim, ncols_ok, False, has_w, path)
    raw = None  # parsed: free the file's bytes before the id mapping and the build
    w = None
    if has_w:
        w = _check_weights(table.column(2).to_numpy(), path, row_to_line)
    del table
    src, dst, vocab = _ids_for(u, v, num_nodes=num_nodes, nodes=nodes, where=path,
                               row_to_line=row_to_line, n_rows=len(u))
    del u, v
    if vocab_fits_int32(len(vocab)):
        src, dst = src.astype(np.int32, copy=False), dst.astype(np.int32, copy=False)
    try:
        g = Graph._from_ids(src, dst, w, vocab, directed=directed, duplicates=duplicates,
                            self_loops=self_loops)
    except GraphError as exc:
        raise GraphError(f"{path}: {exc}") from None
    log.info("read %s: %r", path, g)
    return g


STREAM_BLOCK = 1 << 22   # bytes of text parsed per batch by the streamed reader
_STREAM_ARROW_BLOCK = 1 << 20   # pyarrow's pieces of a batch (one per thread)


def _read_streamed(path, *, directed, weighted, delimiter, num_nodes, node_type, duplicates,
                   self_loops, header, block_size: Optional[int] = None) -> Optional[Graph]:
    """Integer-id edge lists read in batches of ``block_size`` bytes of text:
    each batch is parsed by pyarrow into int32 id chunks (and float32 weights),
    and the CSR is built from the chunks, so the peak is the chunks plus the
    CSR (about 16 bytes per undirected input edge) and one batch, never the
    whole file's text or an int64 table of it.

    Returns None when the file is not a clean integer-id edge list (names as
    ids, a malformed line, ids out of ``num_nodes``, no edges ...): the caller
    then reads the whole file, which names the problem and its line."""
    ncols_ok = {"auto": (2, 3), True: (3,), False: (2, 3)}[weighted]
    weight_cols = 0 if weighted is False else 1
    us, vs, ws = [], [], []
    ncols = delim = None
    lo, hi, n_rows = 2**63 - 1, -1, 0
    try:
        for k, block in enumerate(_blocks(path, block_size or STREAM_BLOCK)):
            if k == 0:
                delim = (_detect_delimiter(block, path) if delimiter == "auto"
                         else (None if delimiter == " " else delimiter.encode()))
                block = _mark_header(block, delim, header, path)
            elif ncols is None:       # no data line yet: this block holds the first
                block = _mark_header(block, delim, header, path)
            if not _has_data(block):
                continue
            table = _parse_table(block, delim, node_type if ncols is None else "int", path,
                                 ncols_ok, weight_cols, arrow_block=_STREAM_ARROW_BLOCK)
            del block
            if ncols is None:
                ncols = table.num_columns
            elif table.num_columns != ncols:
                return None
            u = _column_to_numpy(table.column(0))
            v = _column_to_numpy(table.column(1))
            if not (isinstance(u, np.ndarray) and isinstance(v, np.ndarray)):
                return None
            if ncols == 3 and weighted is not False:
                ws.append(_check_weights(table.column(2).to_numpy(), path, lambda r: None))
            del table
            if u.size:
                lo = min(lo, int(u.min()), int(v.min()))
                hi = max(hi, int(u.max()), int(v.max()))
            n_rows += u.size
            us.append(u)
            vs.append(v)
    except InputFormatError:
        return None
    if n_rows == 0:
        return None
    if num_nodes is not None:
        if lo < 0 or hi >= num_nodes:
            return None
        vocab = Vocabulary(None, num_nodes)
    elif lo >= 0 and hi < 4 * n_rows + 1024:
        # dense-ish ids: presence table, O(E + max id), keeps sorted order
        present = np.zeros(hi + 1, dtype=bool)
        for c in us + vs:
            present[c] = True
        names = np.flatnonzero(present)
        if names.size == hi + 1:
            vocab = Vocabulary(None, hi + 1)
        else:
            remap = np.cumsum(present, dtype=np.int64) - 1
            for cs in (us, vs):
                for k, c in enumerate(cs):
                    cs[k] = remap[c].astype(c.dtype, copy=False)
            vocab = Vocabulary(names, names.size)
        del present
    else:
        names = np.unique(np.concatenate([np.unique(c) for c in us + vs]))
        for cs in (us, vs):
            for k, c in enumerate(cs):
                cs[k] = np.searchsorted(names, c)
        vocab = Vocabulary(names, names.size)
    try:
        return Graph._from_chunks(us, vs, ws if ws else None, vocab, directed=directed,
                                  duplicates=duplicates, self_loops=self_loops)
    except GraphError as exc:
        raise GraphError(f"{path}: {exc}") from None


def _has_data(block: bytes) -> bool:
    """Whether a block holds a line that is neither blank nor a comment."""
    if not block.strip():
        return False
    if b"#" not in block and b"%" not in block:
        return True
    return bool(_RE_COMMENT_LINE.sub(b"", block).strip())


def _edges_from_array(edges, weights=None, *, num_nodes=None, nodes=None, directed=False,
                      duplicates="auto", self_loops="keep", source="edges") -> Graph:
    """Shared path for array inputs (numpy, torch, lists)."""
    owner = "Graph.from_edges" if source == "edges" else source
    _check_build_options(owner, duplicates, self_loops, num_nodes, nodes)
    arr = _to_numpy(edges)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ParameterError(owner, "edges", "an array of shape (E, 2)", f"shape {arr.shape}")
    if arr.shape[0] == 0 and nodes is None and num_nodes is None:
        raise ParameterError(owner, "edges", "a non-empty array (or pass num_nodes/nodes)",
                             "an empty array")
    w = None
    if weights is not None:
        w = _to_numpy(weights).astype(np.float64, copy=False).ravel()
        if w.size != arr.shape[0]:
            raise ParameterError(owner, "weights", f"{arr.shape[0]} values, one per edge",
                                 f"{w.size} values")
        w = _check_weights(w, f"{owner} argument 'weights'", lambda r: None)
    where = f"{owner} argument {source!r}"
    if arr.dtype.kind in "iu" or arr.dtype == bool:
        u = arr[:, 0].astype(np.int64)
        v = arr[:, 1].astype(np.int64)
    elif arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ParameterError(owner, source, "integer node ids (or strings)",
                                 "non-integer floats")
        u = arr[:, 0].astype(np.int64)
        v = arr[:, 1].astype(np.int64)
    else:
        import pyarrow as pa
        u = pa.array(arr[:, 0].astype(str))
        v = pa.array(arr[:, 1].astype(str))
    if arr.shape[0] == 0:
        n = num_nodes if num_nodes is not None else len(nodes)
        vocab = Vocabulary(None if nodes is None else np.asarray(nodes), n)
        return Graph._from_ids(np.empty(0, np.int64), np.empty(0, np.int64),
                               None if w is None else w, vocab, directed=directed,
                               duplicates=duplicates, self_loops=self_loops)
    src, dst, vocab = _ids_for(u, v, num_nodes=num_nodes, nodes=nodes, where=where,
                               row_to_line=lambda r: None, n_rows=arr.shape[0])
    return Graph._from_ids(src, dst, w, vocab, directed=directed, duplicates=duplicates,
                           self_loops=self_loops)


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


# ------------------------------------------------------------- other inputs
def from_edges(edges, weights=None, **kwargs) -> Graph:
    """Same as :meth:`Graph.from_edges`."""
    return Graph.from_edges(edges, weights, **kwargs)


def from_edge_index(edge_index, edge_weight=None, *, num_nodes: Optional[int] = None,
                    directed: bool = False, duplicates: str = "auto",
                    self_loops: str = "keep") -> Graph:
    """Graph from a PyTorch Geometric style ``edge_index`` (2 x E, tensor or array).

    Node ids are used as they are (``num_nodes`` defaults to ``max id + 1``).
    PyG stores an undirected graph with both directions; with the default
    ``directed=False`` the two copies merge into one edge.
    """
    arr = _to_numpy(edge_index)
    if arr.ndim != 2 or arr.shape[0] != 2:
        raise ParameterError("from_edge_index", "edge_index", "an array of shape (2, E)",
                             f"shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise ParameterError("from_edge_index", "edge_index", "an integer array",
                             f"dtype {arr.dtype}")
    if num_nodes is None:
        if arr.size == 0:
            raise ParameterError("from_edge_index", "num_nodes",
                                 "given when edge_index is empty", None)
        num_nodes = int(arr.max()) + 1
    return _edges_from_array(arr.T, edge_weight, num_nodes=num_nodes, directed=directed,
                             duplicates=duplicates, self_loops=self_loops,
                             source="from_edge_index")


def from_scipy(matrix, *, directed: Optional[bool] = None, weighted: Any = "auto",
               duplicates: str = "auto", self_loops: str = "keep",
               nodes: Optional[Sequence[Any]] = None) -> Graph:
    """Graph from a square scipy.sparse matrix (or dense array) of edge weights.

    ``directed=None`` decides from symmetry.  An undirected graph reads the upper
    triangle (with the diagonal) of a symmetric matrix, so every edge counts once;
    an asymmetric matrix read as undirected merges ``(i, j)`` and ``(j, i)`` by
    the duplicate policy.  ``weighted='auto'`` keeps weights unless they are all 1.
    """
    import scipy.sparse as sp

    owner = "from_scipy"
    if not sp.issparse(matrix):
        matrix = sp.csr_matrix(np.asarray(matrix))
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ParameterError(owner, "matrix", "a square matrix", f"shape {matrix.shape}")
    coo = sp.coo_matrix(matrix)
    coo.sum_duplicates()
    coo.eliminate_zeros()
    n = matrix.shape[0]
    if n == 0:
        raise ParameterError(owner, "matrix", "a non-empty matrix", "shape (0, 0)")
    data = np.asarray(coo.data, dtype=np.float64)
    if data.size and (not np.all(np.isfinite(data)) or np.any(data < 0)):
        raise ParameterError(owner, "matrix", "finite, non-negative weights",
                             "NaN, infinite or negative entries")
    row, col = coo.row.astype(np.int64), coo.col.astype(np.int64)
    symmetric = (abs(coo - coo.T) > 1e-6 * max(1.0, float(np.abs(data).max(initial=0)))).nnz == 0
    if directed is None:
        directed = not symmetric
    if not directed and symmetric:
        keep = row <= col
        row, col, data = row[keep], col[keep], data[keep]
    if weighted == "auto":
        weighted = not np.all(data == 1.0)
    w = data if weighted else None
    vocab = Vocabulary(None if nodes is None else np.asarray(nodes), n)
    return Graph._from_ids(row, col, w, vocab, directed=directed, duplicates=duplicates,
                           self_loops=self_loops)


def from_networkx(graph, *, weight: Optional[str] = "weight", duplicates: str = "auto",
                  self_loops: str = "keep") -> Graph:
    """Graph from a networkx graph; node names and order are networkx's, isolated
    nodes included, directedness from ``graph.is_directed()``.  Edge attribute
    ``weight`` gives weights when any edge has it (``weight=None`` ignores it)."""
    names = list(graph.nodes())
    if not names:
        raise ParameterError("from_networkx", "graph", "a graph with nodes", "an empty graph")
    index = {name: i for i, name in enumerate(names)}
    m = graph.number_of_edges()
    src = np.empty(m, dtype=np.int64)
    dst = np.empty(m, dtype=np.int64)
    has_w = weight is not None and any(weight in d for _, _, d in graph.edges(data=True))
    w = np.ones(m, dtype=np.float64) if has_w else None
    for k, (a, b, d) in enumerate(graph.edges(data=True)):
        src[k] = index[a]
        dst[k] = index[b]
        if has_w:
            w[k] = d.get(weight, 1.0)
    if w is not None:
        w = _check_weights(w, "from_networkx argument 'graph'", lambda r: None)
    if all(isinstance(x, (int, np.integer)) for x in names):
        vocab_names = np.asarray(names, dtype=np.int64)
    else:
        vocab_names = np.asarray([str(x) for x in names])
        if len(set(vocab_names.tolist())) != len(names):
            raise ParameterError("from_networkx", "graph", "node names that stay distinct "
                                 "as strings", "names that collide")
    return Graph._from_ids(src, dst, w, Vocabulary(vocab_names, len(names)),
                           directed=graph.is_directed(), duplicates=duplicates,
                           self_loops=self_loops)


def read_mat(path, *, variable: str = "network", directed: Optional[bool] = None,
             **kwargs) -> Graph:
    """Graph from a MATLAB ``.mat`` file holding an adjacency matrix ``variable``
    (the DeepWalk/ASU ``network``); see :func:`read_mat_labels` for ``group``."""
    mat = _load_mat(path)
    if variable not in mat:
        found = ", ".join(k for k in mat if not k.startswith("__")) or "none"
        raise InputFormatError(f"no variable {variable!r} (found: {found})", path)
    try:
        return from_scipy(mat[variable], directed=directed, **kwargs)
    except ParameterError as exc:
        raise InputFormatError(f"variable {variable!r}: {exc}", path) from None


def _load_mat(path) -> dict:
    import scipy.io
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputFormatError("no such file", path)
    try:
        return scipy.io.loadmat(path)
    except Exception as exc:  # scipy raises ValueError, TypeError, MatReadError ...
        raise InputFormatError(f"not a readable MATLAB file ({exc})", path) from None
