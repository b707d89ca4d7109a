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


#: rows a streamed training set shuffles together by default (see :class:`NpyRows`)
SHUFFLE_BUFFER = 32768


class NpyRows:
    """Rows of a 2-D array on disk, one ``.npy`` file or a folder of ``.npy`` shards, read by
    ranges and never loaded whole.

    A folder's shards are its ``*.npy`` files in name order, concatenated by rows; they need
    the same number of columns and dtype. ``rows[a:b]`` (or :meth:`read`) reads rows ``a:b``
    from disk, ``len(rows)`` and ``rows.shape`` give the size. Deep estimators' ``fit`` takes
    two of these for its views (``CorrNet().fit(NpyRows("x.npy"), NpyRows("y.npy"))``) and
    trains from disk: each epoch visits blocks of rows in a shuffled order and shuffles the
    rows of ``shuffle_buffer`` rows at a time (see :func:`crossview.deep.trainer.train`).

    Parameters
    ----------
    path : str or path-like
        A ``.npy`` file holding a C-ordered 2-D numeric array, or a folder of such files.
    shuffle_buffer : int, default=32768
        Rows shuffled together when training from these rows; at least the number of rows
        (or more) gives the same order as training in memory. Memory use grows with it.
    """

    def __init__(self, path, shuffle_buffer: int = SHUFFLE_BUFFER):
        self.path = Path(path)
        if not isinstance(shuffle_buffer, (int, np.integer)) or isinstance(shuffle_buffer, bool):
            raise CrossviewError(f"shuffle_buffer must be an integer; got {shuffle_buffer!r}")
        if shuffle_buffer < 1:
            raise CrossviewError(f"shuffle_buffer must be >= 1; got {shuffle_buffer}")
        self.shuffle_buffer = int(shuffle_buffer)
        if self.path.is_dir():
            files = sorted(p for p in self.path.iterdir() if p.suffix == ".npy" and p.is_file())
            if not files:
                raise CrossviewError(f"folder {self.path} holds no .npy shards")
        elif self.path.exists():
            files = [self.path]
        else:
            raise CrossviewError(f"{self.path} does not exist; expected a .npy file or a folder")
        infos = [npy_info(f) for f in files]
        widths = {i.shape[1] for i in infos}
        dtypes = {i.dtype for i in infos}
        if len(widths) > 1 or len(dtypes) > 1:
            raise CrossviewError(
                f"the shards in {self.path} differ in columns or dtype "
                f"({', '.join(f'{f.name}: {i.shape[1]} x {i.dtype}' for f, i in zip(files, infos))}"
                "); expected one width and dtype"
            )
        self.files, self._infos = files, infos
        self._starts = np.cumsum([0] + [i.shape[0] for i in infos])
        self.shape = (int(self._starts[-1]), infos[0].shape[1])
        self.dtype = infos[0].dtype

    ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"NpyRows({str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"

    @property
    def nbytes(self) -> int:
        """Bytes of the rows on disk."""
        return self.shape[0] * self.shape[1] * self.dtype.itemsize

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` (clipped to the rows there are), read from disk."""
        start, stop = max(0, int(start)), min(self.shape[0], int(stop))
        if stop <= start:
            return np.empty((0, self.shape[1]), dtype=self.dtype)
        first = int(np.searchsorted(self._starts, start, side="right")) - 1
        parts = []
        for k in range(first, len(self.files)):
            lo = int(self._starts[k])
            if lo >= stop:
                break
            a, b = max(start, lo) - lo, min(stop, int(self._starts[k + 1])) - lo
            parts.append(read_npy_rows(self.files[k], a, b, self._infos[k]))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def __getitem__(self, key) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise CrossviewError("NpyRows reads ranges of rows: index it with rows[a:b]")
        start, stop, _ = key.indices(self.shape[0])
        return self.read(start, stop)

    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
        """Yield consecutive chunks of at most ``chunk_rows`` rows."""
        if int(chunk_rows) < 1:
            raise CrossviewError(f"chunk_rows must be >= 1; got {chunk_rows}")
        for start in range(0, self.shape[0], int(chunk_rows)):
            yield self.read(start, start + int(chunk_rows))


def is_rows_on_disk(A) -> bool:
    """Whether ``A`` is an :class:`NpyRows` (rows read from disk as they are needed)."""
    return isinstance(A, NpyRows)
