"""Read and write IDX files, the binary format of the original MNIST distribution.

The format (LeCun et al., http://yann.lecun.com/exdb/mnist/): two zero bytes, a type code, the
number of dimensions, each dimension as a big-endian uint32, then the values in C order,
big-endian. Files may be gzip-compressed; the reader detects that from the first bytes.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from ..exceptions import CrossviewError
from ..fileio import atomic_write

#: IDX type code -> NumPy dtype (big-endian, as stored)
IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dt.newbyteorder("="): code for code, dt in IDX_TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"


def open_maybe_gzip(path: Path | str):
    """Open a file for binary reading, decompressing it on the fly when it is gzip data."""
    path = Path(path)
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == _GZIP_MAGIC else open(path, "rb")


def read_idx(path: Path | str) -> np.ndarray:
    """Read an IDX file (plain or gzip-compressed) into a native-byte-order NumPy array.

    Raises :class:`CrossviewError` naming the file when it is not IDX data or is truncated.
    """
    path = Path(path)
    try:
        with open_maybe_gzip(path) as f:
            header = f.read(4)
            if len(header) < 4 or header[:2] != b"\x00\x00" or header[2] not in IDX_TYPES:
                raise CrossviewError(
                    f"{path} is not an IDX file (bad header {header!r}; expected two zero bytes, "
                    "a type code and the number of dimensions)"
                )
            dtype, ndim = IDX_TYPES[header[2]], header[3]
            raw_dims = f.read(4 * ndim)
            if len(raw_dims) < 4 * ndim:
                raise CrossviewError(f"{path} is truncated inside its IDX header")
            dims = struct.unpack(f">{ndim}I", raw_dims)
            payload = f.read()
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, (FileNotFoundError, IsADirectoryError, PermissionError)):
            raise
        raise CrossviewError(f"{path} is corrupt: cannot decompress or read it ({exc})") from None
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(payload) != expected:
        raise CrossviewError(
            f"{path} has {len(payload)} data bytes; its IDX header (shape {tuple(dims)}) "
            f"promises {expected} — the file is truncated or corrupt"
        )
    return np.frombuffer(payload, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def write_idx(path: Path | str, array: np.ndarray) -> Path:
    """Write an array as an IDX file; a name ending in ``.gz`` is gzip-compressed."""
    path = Path(path)
    arr = np.asarray(array)
    code = _CODES.get(arr.dtype.newbyteorder("="))
    if code is None:
        raise CrossviewError(
            f"cannot write dtype {arr.dtype} as IDX; use uint8, int8, int16, int32, float32 "
            "or float64"
        )
    if arr.ndim > 255:
        raise CrossviewError(f"IDX files hold at most 255 dimensions; got {arr.ndim}")
    data = (
        bytes([0, 0, code, arr.ndim])
        + struct.pack(f">{arr.ndim}I", *arr.shape)
        + np.ascontiguousarray(arr, dtype=IDX_TYPES[code]).tobytes()
    )
    with atomic_write(path) as tmp:
        if path.name.endswith(".gz"):
            with gzip.open(tmp, "wb", compresslevel=6) as f:
                f.write(data)
        else:
            tmp.write_bytes(data)
    return path
