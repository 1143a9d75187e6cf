"""Memory-mapped reading of the arrays of an uncompressed ``.npz`` archive.

``numpy.savez`` stores each array as an ``.npy`` member without compression,
so the array's bytes lie contiguous in the archive: after the member's local
zip header and the ``.npy`` header.  :class:`MappedNpz` finds that offset and
maps the bytes read-only, so a table of many GiB opens in milliseconds and
its pages are read only when used.  Compressed members (``savez_compressed``)
and 0-d arrays are read normally.
"""

from __future__ import annotations

import struct
import zipfile

import numpy as np

_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")   # zip local file header, 30 bytes


class MappedNpz:
    """``np.load(path)`` for an ``.npz`` whose arrays come back memory-mapped.
    Supports ``files``, ``[name]``, ``in`` and ``with``."""

    def __init__(self, path: str):
        self.path = path
        self._zip = zipfile.ZipFile(path)
        self._infos = {i.filename[:-4]: i for i in self._zip.infolist()
                       if i.filename.endswith(".npy")}
        self.files = list(self._infos)

    def __contains__(self, name) -> bool:
        return name in self._infos

    def __getitem__(self, name: str) -> np.ndarray:
        info = self._infos[name]
        if info.compress_type != zipfile.ZIP_STORED:
            with self._zip.open(info) as f:
                return np.lib.format.read_array(f, allow_pickle=False)
        with open(self.path, "rb") as f:
            f.seek(info.header_offset)
            fields = _LOCAL_HEADER.unpack(f.read(_LOCAL_HEADER.size))
            if fields[0] != b"PK\x03\x04":
                raise ValueError(f"bad zip member header for {name!r}")
            name_len, extra_len = fields[-2], fields[-1]
            f.seek(info.header_offset + _LOCAL_HEADER.size + name_len + extra_len)
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(f)
            offset = f.tell()
        if dtype.hasobject:
            raise ValueError(f"array {name!r} holds Python objects")
        if len(shape) == 0 or int(np.prod(shape)) == 0:
            with self._zip.open(info) as f:
                return np.lib.format.read_array(f, allow_pickle=False)
        return np.memmap(self.path, dtype=dtype, mode="r", offset=offset, shape=shape,
                         order="F" if fortran else "C")

    def close(self) -> None:
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
