"""Read the rows of 2-D arrays on disk in chunks, never the whole array (data beyond memory).

NumPy's ``mmap_mode="r"`` also avoids loading a file, but every page it touches stays resident
and counts towards the process's memory until the kernel reclaims it; reading each chunk with
``numpy.fromfile`` keeps the resident memory at one chunk. :func:`iter_npy_rows` feeds
``partial_fit`` (``CCA``, ``RidgeMap``); :func:`npy_dask` gives a Dask array whose chunks are
read by the workers themselves. :class:`DiskRows` reads any range of rows of a ``.npy`` or
Parquet file or a folder of shards: what the deep estimators train from.
"""

from __future__ import annotations

import warnings
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


#: rows per Dask chunk by default: half of :data:`CHUNK_ROWS`, as a worker holds several
#: chunks at once (CCA on 2 million rows: 709 MB on the worker against 1,045 MB with 32,768,
#: in the same time; docs/benchmarks.md, section 10)
DASK_CHUNK_ROWS = 16384


def npy_dask(path: Path | str, chunk_rows: int = DASK_CHUNK_ROWS):
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


#: rows a streamed training set shuffles together by default (see :class:`DiskRows`)
SHUFFLE_BUFFER = 32768


class _NpyShard:
    """One ``.npy`` file of a :class:`DiskRows`: any range of rows is one read."""

    def __init__(self, path: Path):
        self.path, self.info = path, npy_info(path)
        self.n, self.width = self.info.shape
        self.dtype = self.info.dtype
        self.blocks = None  # no preferred reads: any range costs its bytes

    def read(self, start: int, stop: int, group=None) -> np.ndarray:
        return read_npy_rows(self.path, start, stop, self.info)


class _ParquetShard:
    """One Parquet file of a :class:`DiskRows`, decoded one row group at a time.

    Parquet compresses each column of a row group as a whole, so a range of rows costs the
    decoding of every row group it touches: the row groups are this shard's ``blocks`` (the
    trainer's unit of shuffling). Only the metadata is kept between reads (no open file per
    shard); :class:`DiskRows` keeps the last two decoded row groups of all its shards.
    """

    def __init__(self, path: Path):
        from .files import import_pyarrow, parquet_to_array

        pa, pq = import_pyarrow(path)
        self.path, self._pq, self._to_array = path, pq, parquet_to_array
        self._errors, self._pool = (pa.ArrowException, OSError), pa.default_memory_pool()
        try:
            with pq.ParquetFile(path) as file:
                meta = file.metadata
                sizes = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
                first = next(file.iter_batches(batch_size=1), None)
                types = [f.type for f in file.schema_arrow]
        except self._errors as exc:
            detail = " ".join(str(exc).split())
            raise CrossviewError(f"{path} is not a readable Parquet file ({detail})") from None
        self.n = int(sum(sizes))
        # float32 where every number column is float32 or narrower (half the memory of a
        # decoded row group), float64 otherwise, as read_view reads Parquet
        values = [t.value_type if pa.types.is_list(t) or pa.types.is_large_list(t)
                  or pa.types.is_fixed_size_list(t) else t for t in types]  # fmt: skip
        numbers = [t for t in values if not (pa.types.is_string(t) or pa.types.is_large_string(t))]
        narrow = numbers and all(pa.types.is_float32(t) or pa.types.is_float16(t) for t in numbers)
        self._dtype = np.float32 if narrow else np.float64
        self.width, self.dtype = None, None  # an empty shard has no width to check
        if first is not None:
            sample, _ = parquet_to_array(path, pa.Table.from_batches([first]), self._dtype)
            self.width, self.dtype = sample.shape[1], sample.dtype
        self._starts = np.cumsum([0, *sizes])
        self.blocks = [(int(a), int(b)) for a, b in zip(self._starts[:-1], self._starts[1:])]

    def decode(self, g: int) -> np.ndarray:
        """Row group ``g`` as a read-only matrix."""
        try:
            with self._pq.ParquetFile(self.path) as file:
                table = file.read_row_group(g)
        except self._errors as exc:
            detail = " ".join(str(exc).split())
            raise CrossviewError(f"{self.path}: row group {g} is unreadable ({detail})") from None
        rows, _ = self._to_array(self.path, table, self._dtype)
        del table
        self._pool.release_unused()  # Arrow's allocator keeps freed pages otherwise
        if rows.shape[1] != self.width:
            raise CrossviewError(
                f"{self.path}: row group {g} has {rows.shape[1]} columns where the first "
                f"has {self.width}"
            )
        rows.setflags(write=False)  # handed out in slices: a caller must not change the cache
        return rows

    def read(self, start: int, stop: int, group) -> np.ndarray:
        """Rows ``start:stop``; ``group(g)`` gives row group ``g`` (decoded or cached)."""
        first = int(np.searchsorted(self._starts, start, side="right")) - 1
        parts = []
        for g in range(first, len(self.blocks)):
            lo, hi = self.blocks[g]
            if lo >= stop:
                break
            if hi > lo:
                parts.append(group(g)[max(start, lo) - lo : min(stop, hi) - lo])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


#: shard formats :class:`DiskRows` reads, by suffix
SHARD_TYPES = {".npy": _NpyShard, ".parquet": _ParquetShard}


class DiskRows:
    """Rows of a 2-D array on disk, read by ranges and never loaded whole: a ``.npy`` or
    ``.parquet`` file, or a folder of ``.npy`` or ``.parquet`` shards.

    A folder's shards are its ``*.npy`` (or ``*.parquet``) files in name order, concatenated by
    rows; they need the same number of columns (and dtype). ``rows[a:b]`` (or :meth:`read`)
    reads rows ``a:b`` from disk, ``len(rows)`` and ``rows.shape`` give the size. Deep
    estimators' ``fit`` takes two of these for its views
    (``CorrNet().fit(DiskRows("x.npy"), DiskRows("y.npy"))``) and trains from disk: each epoch
    visits blocks of rows in a shuffled order and shuffles the rows of ``shuffle_buffer`` rows
    at a time (see :func:`crossview.deep.trainer.train`).

    A ``.npy`` file is read with ``numpy.fromfile`` at the rows' offset. A Parquet file is
    decoded one row group at a time (numeric columns, or one column of number lists, as
    :func:`crossview.datasets.files.read_view` reads them; a text first column is skipped);
    its row groups are the blocks the trainer shuffles, so write it with row groups of a few
    thousand rows (``pyarrow.parquet.write_table(table, path, row_group_size=4096)``): a
    row group larger than ``shuffle_buffer`` makes a buffer of its own (with a warning). The
    blocks of the first view that has them are shuffled for both views: write X and Y with
    the same row groups, or a read of one view's block decodes several of the other's. Empty
    shards in a folder are skipped. Needs pyarrow.

    Parameters
    ----------
    path : str or path-like
        A ``.npy`` file holding a C-ordered 2-D numeric array, a ``.parquet`` table of numbers,
        or a folder of such files (of one kind).
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
            found = {
                suffix: sorted(p for p in self.path.iterdir() if p.suffix == suffix and p.is_file())
                for suffix in SHARD_TYPES
            }
            kinds = [suffix for suffix, paths in found.items() if paths]
            if not kinds:
                raise CrossviewError(f"folder {self.path} holds no .npy or .parquet shards")
            if len(kinds) > 1:
                raise CrossviewError(
                    f"folder {self.path} holds both .npy and .parquet shards; expected one kind"
                )
            files = found[kinds[0]]
        elif self.path.exists():
            if self.path.suffix not in SHARD_TYPES:
                raise CrossviewError(
                    f"{self.path} is neither a .npy nor a .parquet file; cannot read it by rows"
                )
            files = [self.path]
        else:
            raise CrossviewError(
                f"{self.path} does not exist; expected a .npy or .parquet file or a folder"
            )
        shards = [SHARD_TYPES[f.suffix](f) for f in files]
        if len(shards) > 1:  # empty Parquet shards (as Dask and Spark write) add no rows
            kept = [(f, s) for f, s in zip(files, shards) if s.width is not None]
            files, shards = [f for f, _ in kept], [s for _, s in kept]
        if not shards or shards[0].width is None:
            raise CrossviewError(f"{self.path} holds no rows; expected a table of numbers")
        widths = {s.width for s in shards}
        dtypes = {s.dtype for s in shards}
        if len(widths) > 1 or len(dtypes) > 1:
            raise CrossviewError(
                f"the shards in {self.path} differ in columns or dtype "
                f"({', '.join(f'{f.name}: {s.width} x {s.dtype}' for f, s in zip(files, shards))}"
                "); expected one width and dtype"
            )
        self.files, self._shards = files, shards
        self._starts = np.cumsum([0] + [s.n for s in shards])
        self.shape = (int(self._starts[-1]), shards[0].width)
        self.dtype = shards[0].dtype
        self._groups: dict[tuple[int, int], np.ndarray] = {}  # the last two decoded row groups
        largest = max((b - a for a, b in self.blocks or ()), default=0)
        if largest > self.shuffle_buffer:
            warnings.warn(
                f"{self.path} has row groups of up to {largest} rows, more than shuffle_buffer="
                f"{self.shuffle_buffer}: each is shuffled as one buffer of its own (write it "
                "with row groups of a few thousand rows for a finer shuffle)",
                stacklevel=2,
            )

    ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"DiskRows({str(self.path)!r}, shape={self.shape}, dtype={self.dtype})"

    @property
    def nbytes(self) -> int:
        """Bytes of the rows once read (as ``dtype``)."""
        return self.shape[0] * self.shape[1] * self.dtype.itemsize

    @property
    def blocks(self) -> list[tuple[int, int]] | None:
        """The row ranges that are cheapest to read whole (Parquet row groups), in order, or
        None when any range is (``.npy``); the trainer shuffles these blocks."""
        if all(s.blocks is None for s in self._shards):
            return None
        out = []
        for s, lo in zip(self._shards, self._starts[:-1]):
            parts = s.blocks or [(0, s.n)]
            out += [(int(lo) + a, int(lo) + b) for a, b in parts]
        return out

    def read(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop`` (clipped to the rows there are), read from disk."""
        start, stop = max(0, int(start)), min(self.shape[0], int(stop))
        if stop <= start:
            return np.empty((0, self.shape[1]), dtype=self.dtype)
        first = int(np.searchsorted(self._starts, start, side="right")) - 1
        parts = []
        for k in range(first, len(self._shards)):
            lo = int(self._starts[k])
            if lo >= stop:
                break
            a, b = max(start, lo) - lo, min(stop, int(self._starts[k + 1])) - lo
            parts.append(self._shards[k].read(a, b, lambda g, k=k: self._group(k, g)))
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _group(self, k: int, g: int) -> np.ndarray:
        """Row group ``g`` of Parquet shard ``k``, decoded once while it is among the last two
        used (a buffer's blocks are read in order, so each is decoded once an epoch)."""
        key = (k, g)
        if key not in self._groups:
            while len(self._groups) >= 2:
                del self._groups[next(iter(self._groups))]
            self._groups[key] = self._shards[k].decode(g)
        return self._groups[key]

    def __getitem__(self, key) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise CrossviewError("DiskRows reads ranges of rows: index it with rows[a:b]")
        start, stop, _ = key.indices(self.shape[0])
        return self.read(start, stop)

    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[np.ndarray]:
        """Yield consecutive chunks of at most ``chunk_rows`` rows."""
        if int(chunk_rows) < 1:
            raise CrossviewError(f"chunk_rows must be >= 1; got {chunk_rows}")
        for start in range(0, self.shape[0], int(chunk_rows)):
            yield self.read(start, start + int(chunk_rows))


def is_rows_on_disk(A) -> bool:
    """Whether ``A`` is a :class:`DiskRows` (rows read from disk as they are needed)."""
    return isinstance(A, DiskRows)
