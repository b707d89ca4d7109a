"""Read the rows of a 2-D ``.npy`` file in chunks, never the whole array (data beyond memory).

NumPy's ``mmap_mode="r"`` also avoids loading a file, but every page it touches stays resident
and counts towards the process's memory until the kernel reclaims it; reading each chunk with
``numpy.fromfile`` keeps the resident memory at one chunk. :func:`iter_npy_rows` feeds
``partial_fit`` (``CCA``, ``RidgeMap``); :func:`npy_dask` gives a Dask array whose chunks are
read by the workers themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..exceptions import CrossviewError

#: rows per chunk by default: 32,768 rows of 392 float32 columns are 51 MB
CHUNK_ROWS = 32768


class NpyInfo(NamedTuple):
    """Shape, dtype and the byte offset of the data of a C-ordered 2-D ``.npy`` file."""

    shape: tuple[int, int]
    dtype: np.dtype
    offset: int


def npy_info(path: Path | str) -> NpyInfo:
    """Read a ``.npy`` header; a CrossviewError unless it holds a C-ordered 2-D numeric array."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"format version {version} is not supported for streaming")
            offset = f.tell()
    except OSError as e:
        raise CrossviewError(f"cannot read {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise CrossviewError(f"{path} is not a .npy file ({e})") from None
    if len(shape) != 2:
        raise CrossviewError(f"{path} holds an array of shape {shape}; expected 2-D rows x columns")
    if fortran:
        raise CrossviewError(f"{path} is stored in Fortran order; save it C-ordered to stream it")
    if dtype.kind not in "biuf" or dtype.hasobject:
        raise CrossviewError(f"{path} holds dtype {dtype}; expected numbers")
    return NpyInfo((int(shape[0]), int(shape[1])), dtype, int(offset))


def read_npy_rows(path: Path | str, start: int, stop: int, info: NpyInfo | None = None):
    """Rows ``start:stop`` of a 2-D ``.npy`` file, read from disk (no memory map)."""
    info = npy_info(path) if info is None else info
    n, d = info.shape
    start, stop = max(0, int(start)), min(n, int(stop))
    count = max(0, stop - start) * d
    with open(path, "rb") as f:
        f.seek(info.offset + start * d * info.dtype.itemsize)
        data = np.fromfile(f, dtype=info.dtype, count=count)
    if data.size != count:
        raise CrossviewError(f"{path} is truncated: rows {start}:{stop} are not all there")
    return data.reshape(-1, d)


def iter_npy_rows(path: Path | str, chunk_rows: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
    """Yield consecutive chunks of at most ``chunk_rows`` rows of a 2-D ``.npy`` file."""
    if int(chunk_rows) < 1:
        raise CrossviewError(f"chunk_rows must be >= 1; got {chunk_rows}")
    info = npy_info(path)
    for start in range(0, info.shape[0], int(chunk_rows)):
        yield read_npy_rows(path, start, start + int(chunk_rows), info)


def npy_dask(path: Path | str, chunk_rows: int = CHUNK_ROWS):
    """A Dask array over a 2-D ``.npy`` file, one task per chunk of rows (needs Dask)."""
    import dask
    import dask.array as da

    if int(chunk_rows) < 1:
        raise CrossviewError(f"chunk_rows must be >= 1; got {chunk_rows}")
    info = npy_info(path)
    n, d = info.shape
    path = str(path)
    parts = [
        da.from_delayed(
            dask.delayed(read_npy_rows)(path, s, min(n, s + int(chunk_rows)), info),
            shape=(min(n, s + int(chunk_rows)) - s, d),
            dtype=info.dtype,
        )
        for s in range(0, n, int(chunk_rows))
    ]
    return da.concatenate(parts, axis=0) if parts else da.zeros((0, d), dtype=info.dtype)
