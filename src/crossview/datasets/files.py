"""Read and write one view from a file: .npy, .npz, .csv, .tsv, .parquet, word2vec/fastText text.

`read_view` always returns a :class:`View` ``(data, vocab)``: ``data`` a NumPy array (2-D, or
1-D with ``allow_1d``), ``vocab`` the row names (words) when the file has them, else ``None``.
Every problem with a file raises a one-line :class:`~crossview.base.CrossviewError` naming it.
Nothing is ever unpickled.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..exceptions import CrossviewError
from ..fileio import atomic_write
from ._text import read_table, read_word2vec

#: suffix -> short description, for the "unknown suffix" error and the docs
FORMATS = {
    ".npy": "NumPy array",
    ".npz": "NumPy archive (one array, or choose with key)",
    ".csv": "comma-separated numbers (header and row names detected)",
    ".tsv": "tab-separated numbers (header and row names detected)",
    ".parquet": "Parquet table (needs pyarrow)",
    ".txt": "word2vec/fastText text vectors, or whitespace-separated numbers",
    ".vec": "word2vec/fastText text vectors",
}
_GZ_OK = (".csv", ".tsv", ".txt", ".vec")


class View(NamedTuple):
    """One view read from a file: the numbers, and the row names (words) if the file has them."""

    data: np.ndarray
    vocab: list[str] | None


def _format(path: Path) -> tuple[str, bool]:
    """Return (suffix, gzipped) for a path, or raise an error listing the supported suffixes."""
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    suffix = suffixes[-2] if gz and len(suffixes) >= 2 else (suffixes[-1] if suffixes else "")
    if suffix in FORMATS and (not gz or suffix in _GZ_OK):
        return suffix, gz
    supported = ", ".join(list(FORMATS) + [s + ".gz" for s in _GZ_OK])
    shown = "".join(path.suffixes[-2:] if gz else path.suffixes[-1:]) or "no suffix"
    raise CrossviewError(f"{path}: unknown file type ({shown}); supported: {supported}")


def read_view(path: Path | str, key: str | None = None, allow_1d: bool = False) -> View:
    """Read one view (rows = items) from ``path``, choosing the format by the file's suffix.

    - ``.npy``: the array; ``.npz``: the array named ``key``, or the only array.
    - ``.csv`` / ``.tsv`` (optionally ``.gz``): numbers; a header row is skipped; a non-numeric
      first column becomes ``vocab``; empty and NA cells become NaN.
    - ``.parquet``: numeric columns (a list-of-numbers column is expanded); a string first column
      or string index becomes ``vocab``. Needs pyarrow.
    - ``.txt`` / ``.vec`` (optionally ``.gz``): word2vec / fastText text ("n d" header optional,
      then ``word v1 ... vd``), float32, words in ``vocab``. A ``.txt`` of numbers only is read as
      a plain float64 matrix.

    ``allow_1d`` accepts a 1-D array (e.g. labels); otherwise data must be 2-D.
    """
    path = Path(path)
    if not path.exists():
        raise CrossviewError(f"{path}: no such file")
    if path.is_dir():
        raise CrossviewError(f"{path} is a folder; expected a data file")
    suffix, gz = _format(path)
    if key is not None and suffix != ".npz":
        raise CrossviewError(f"{path}: key={key!r} applies only to .npz files")
    try:
        if suffix == ".npy":
            data, vocab = _read_npy(path), None
        elif suffix == ".npz":
            data, vocab = _read_npz(path, key), None
        elif suffix in (".csv", ".tsv"):
            data, vocab = read_table(path, "," if suffix == ".csv" else "\t", gz, allow_1d)
        elif suffix == ".parquet":
            data, vocab = _read_parquet(path)
        else:
            data, vocab = read_word2vec(path, gz)
    except PermissionError:
        raise
    except OSError as exc:
        raise CrossviewError(f"{path} cannot be read ({exc.strerror or exc})") from None
    return _finish(path, data, vocab, allow_1d)


def _finish(path: Path, data: np.ndarray, vocab, allow_1d: bool) -> View:
    """Check what a reader returned: numeric, 2-D (or 1-D when allowed), non-empty."""
    kind = data.dtype.kind
    if kind == "c":
        raise CrossviewError(f"{path} holds complex numbers; expected real numbers")
    if kind not in "biuf" and not (allow_1d and data.ndim == 1 and kind in "US"):
        raise CrossviewError(f"{path} holds dtype {data.dtype}; expected numbers")
    if data.ndim == 1 and not allow_1d:
        raise CrossviewError(
            f"{path} holds a 1-D array of shape {data.shape}; expected 2-D (rows, features)"
        )
    if data.ndim not in (1, 2):
        raise CrossviewError(
            f"{path} holds a {data.ndim}-D array of shape {data.shape}; expected 2-D "
            "(rows, features)"
        )
    if data.shape[0] == 0 or data.size == 0:
        raise CrossviewError(f"{path} holds no data (shape {data.shape})")
    if vocab is not None and len(vocab) != data.shape[0]:
        raise CrossviewError(f"{path}: {len(vocab)} row names for {data.shape[0]} rows")
    return View(data, vocab)


def _read_npy(path: Path) -> np.ndarray:
    with open(path, "rb") as f:
        try:
            return np.lib.format.read_array(f, allow_pickle=False)
        except ValueError as exc:
            if "pickle" in str(exc).lower() or "object" in str(exc).lower():
                raise CrossviewError(
                    f"{path} holds Python objects; crossview never unpickles files — save "
                    "numbers only"
                ) from None
            raise CrossviewError(f"{path} is not a valid .npy file ({exc})") from None
        except EOFError:
            raise CrossviewError(f"{path} is truncated: not a complete .npy file") from None


def _read_npz(path: Path, key: str | None) -> np.ndarray:
    if not zipfile.is_zipfile(path):
        raise CrossviewError(f"{path} is not a valid .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            if not names:
                raise CrossviewError(f"{path} holds no arrays")
            if key is None:
                if len(names) > 1:
                    raise CrossviewError(
                        f"{path} holds {len(names)} arrays ({', '.join(names)}); choose one "
                        "with key=NAME (in `crossview data info`: --key NAME); other commands "
                        "need a file holding one array, e.g. .npy"
                    )
                key = names[0]
            elif key not in names:
                raise CrossviewError(f"{path} has no array {key!r}; it holds: {', '.join(names)}")
            return z[key]
    except CrossviewError:
        raise
    except (ValueError, zipfile.BadZipFile, EOFError) as exc:
        msg = str(exc)
        if "pickle" in msg.lower() or "object" in msg.lower():
            msg = "it holds Python objects; crossview never unpickles files"
        raise CrossviewError(f"{path} is corrupt or not a valid .npz file ({msg})") from None


def import_pyarrow(path: Path):
    """``(pyarrow, pyarrow.parquet)``, or a one-line error naming ``path`` when pyarrow is not
    installed."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise CrossviewError(
            f"reading {path} needs pyarrow: pip install pyarrow (or crossview[parquet])"
        ) from None
    return pa, pq


def read_parquet_table(path: Path):
    """A Parquet file as a ``pyarrow.Table``, with one-line errors for a missing pyarrow and a
    file that is not readable Parquet."""
    pa, pq = import_pyarrow(path)
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        detail = " ".join(str(exc).split())
        raise CrossviewError(f"{path} is not a readable Parquet file ({detail})") from None


def _read_parquet(path: Path) -> tuple[np.ndarray, list[str] | None]:
    """Read numeric columns of a Parquet file; a string first column or index is the vocab."""
    return parquet_to_array(path, read_parquet_table(path))


def parquet_to_array(path: Path, table, dtype=np.float64) -> tuple[np.ndarray, list[str] | None]:
    """The numeric columns of a ``pyarrow.Table`` read from ``path`` as a matrix of ``dtype``
    (float64 or float32; a list-of-numbers column expanded), and a string first column or
    index as the vocab."""
    import pyarrow as pa
    import pyarrow.compute as pc

    meta = table.schema.pandas_metadata or {}
    index_cols = [c for c in meta.get("index_columns", []) if isinstance(c, str)]
    order = index_cols + [n for n in table.column_names if n not in index_cols]
    vocab, columns = None, []
    for i, name in enumerate(order):
        col = table.column(name).combine_chunks()
        typ = col.type
        if pa.types.is_dictionary(typ):
            col = col.dictionary_decode()
            typ = col.type
        if pa.types.is_string(typ) or pa.types.is_large_string(typ):
            if i == 0:
                vocab = [str(v) for v in col.to_pylist()]
                continue
            raise CrossviewError(f"{path}: column {name!r} holds text; expected numbers")
        if name in index_cols:
            continue  # a numeric pandas index carries no information
        if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
            lengths = pc.list_value_length(col).to_numpy(zero_copy_only=False)
            if len(lengths) and (np.any(lengths != lengths[0])):
                bad = int(np.argmax(lengths != lengths[0]))
                raise CrossviewError(
                    f"{path}: column {name!r} row {bad + 1} has {lengths[bad]} values where row 1 "
                    f"has {lengths[0]} (ragged rows)"
                )
            flat = _numeric_arrow(path, name, pc.list_flatten(col), pa, dtype)
            columns.append(flat.reshape(len(col), -1))
            continue
        columns.append(_numeric_arrow(path, name, col, pa, dtype)[:, None])
    if not columns:
        raise CrossviewError(f"{path} has no numeric columns")
    return np.concatenate(columns, axis=1), vocab


def _numeric_arrow(path, name, col, pa, dtype=np.float64) -> np.ndarray:
    typ = col.type
    if not (
        pa.types.is_integer(typ)
        or pa.types.is_floating(typ)
        or pa.types.is_boolean(typ)
        or pa.types.is_decimal(typ)
    ):
        raise CrossviewError(f"{path}: column {name!r} has type {typ}; expected numbers")
    target = pa.float32() if np.dtype(dtype) == np.float32 else pa.float64()
    return col.cast(target).to_numpy(zero_copy_only=False)


def write_view(path: Path | str, data, vocab: list[str] | None = None) -> Path:
    """Write a 2-D view to .npy, .csv, .tsv or word2vec text (.txt/.vec), atomically.

    ``vocab`` (one name per row) goes into the first column of .csv/.tsv and is the word of each
    .txt/.vec line (a word2vec "n d" header is written); .npy cannot hold it. A .txt without
    vocab is written as plain whitespace-separated numbers.
    """
    path = Path(path)
    suffix, gz = _format(path)
    arr = np.asarray(data)
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise CrossviewError(
            f"cannot write {path}: expected a 2-D numeric array, got "
            f"shape {arr.shape} dtype {arr.dtype}"
        )
    if vocab is not None:
        vocab = [str(v) for v in vocab]
        if len(vocab) != arr.shape[0]:
            raise CrossviewError(f"cannot write {path}: {len(vocab)} names for {arr.shape[0]} rows")
    if gz or suffix not in (".npy", ".csv", ".tsv", ".txt", ".vec"):
        raise CrossviewError(f"cannot write {path}: use a .npy, .csv, .tsv, .txt or .vec name")
    if suffix == ".npy" and vocab is not None:
        raise CrossviewError(f"cannot write row names to {path}: use .csv, .tsv, .txt or .vec")
    if suffix == ".vec" and vocab is None:
        raise CrossviewError(
            f"cannot write {path}: word2vec .vec files need vocab (one word per row)"
        )
    if vocab is not None and not all(vocab):
        raise CrossviewError(f"cannot write {path}: row {vocab.index('') + 1} has an empty name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = _number_format(arr.dtype)
    with atomic_write(path) as tmp:
        if suffix == ".npy":
            with open(tmp, "wb") as f:
                np.save(f, arr)
        elif suffix in (".csv", ".tsv"):
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(
                    f, delimiter="," if suffix == ".csv" else "\t", lineterminator="\n"
                )
                for i, row in enumerate(arr.tolist()):
                    cells = [fmt(v) for v in row]
                    writer.writerow(([vocab[i]] if vocab is not None else []) + cells)
        else:
            with open(tmp, "w", encoding="utf-8") as f:
                if vocab is not None:
                    f.write(f"{arr.shape[0]} {arr.shape[1]}\n")
                for i, row in enumerate(arr.tolist()):
                    if vocab is not None:
                        if any(ch.isspace() for ch in vocab[i]):
                            raise CrossviewError(
                                f"cannot write {path}: word {vocab[i]!r} (row {i + 1}) contains "
                                "whitespace"
                            )
                        f.write(vocab[i] + " ")
                    f.write(" ".join(fmt(v) for v in row) + "\n")
    return path


def _number_format(dtype):
    """Return a function that writes one value so that reading it back gives the same number.

    Floats always carry a decimal point or exponent ("1.0", not "1"), so that a first row such
    as 0, 1, 2 is never mistaken for pandas' column-number header when read back.
    """
    if dtype.kind in "biu":
        return lambda v: str(int(v))
    spec = ".9g" if dtype.itemsize <= 4 else ".17g"

    def fmt(v: float) -> str:
        text = format(v, spec)
        return text + ".0" if text.lstrip("-").isdigit() else text

    return fmt


__all__ = ["View", "read_view", "write_view", "FORMATS"]
