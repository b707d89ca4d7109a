"""Read and write set-clustering tables: one row per item, with named columns.

A table is a CSV / TSV file (header row first) or a Parquet file. It holds a set-id column, the
item features (numeric columns, or one Parquet column of number lists) and, for training, a
category and a cluster-id column. Predictions are written as CSV, atomically.
"""

from __future__ import annotations

import csv
import fnmatch
from pathlib import Path

import numpy as np

from ..exceptions import CrossviewError
from ..fileio import atomic_write

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet")


def _read_columns(path: Path) -> dict[str, list | np.ndarray]:
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise CrossviewError(f"cannot read table {path}: expected a .csv, .tsv or .parquet file")
    if not path.is_file():
        what = "a folder" if path.is_dir() else "missing"
        raise CrossviewError(f"table {path} is {what}; expected a {suffix} file")
    if suffix == ".parquet":
        from ..datasets.files import read_parquet_table

        table = read_parquet_table(path)
        return {name: table.column(name).to_pylist() for name in table.column_names}
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter="\t" if suffix == ".tsv" else ","))
    except UnicodeDecodeError:
        raise CrossviewError(f"{path} is not UTF-8 text; expected a {suffix} table") from None
    if not rows or not rows[0]:
        raise CrossviewError(f"table {path} is empty; expected a header row and item rows")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    if not body:
        raise CrossviewError(f"table {path} has a header but no rows")
    bad = [i + 2 for i, r in enumerate(body) if len(r) != len(header)]
    if bad:
        raise CrossviewError(
            f"{path} line {bad[0]} has a different number of fields than the header "
            f"({len(header)}); {len(bad)} such line(s)"
        )
    return {name: [r[j] for r in body] for j, name in enumerate(header)}


def _numeric(values, name: str, path: Path) -> np.ndarray:
    if values and isinstance(values[0], (list, tuple)):
        try:
            return np.asarray(values, dtype=np.float64)
        except ValueError:
            raise CrossviewError(
                f"column {name!r} of {path} holds lists of different lengths"
            ) from None
    try:
        return np.asarray(values, dtype=np.float64).reshape(-1, 1)
    except (ValueError, TypeError):
        raise CrossviewError(
            f"feature column {name!r} of {path} is not numeric; name the feature columns "
            "with --features"
        ) from None


def _labels(values, name: str, path: Path) -> np.ndarray:
    """Integer ids when every value is an integer (or its exact text), else strings."""
    if any(v is None or (isinstance(v, float) and not np.isfinite(v)) for v in values):
        raise CrossviewError(f"column {name!r} of {path} has empty values; expected an id per row")
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=np.int64)
    if all(isinstance(v, str) for v in values):
        text = [v.strip() for v in values]
        if "" in text:
            raise CrossviewError(
                f"column {name!r} of {path} has empty values (line {text.index('') + 2}); "
                "expected an id per row"
            )
        if all(t.lstrip("-").isdigit() and str(int(t)) == t for t in text):
            return np.asarray([int(t) for t in text], dtype=np.int64)
        return np.asarray(text, dtype=str)
    if all(isinstance(v, float) and v == int(v) for v in values):
        return np.asarray(values, dtype=np.int64)
    raise CrossviewError(
        f"column {name!r} of {path} holds values that are neither whole numbers nor text "
        f"(e.g. {next(v for v in values if not isinstance(v, (int, str)))!r})"
    )


def read_table(
    path,
    set_col: str,
    category_col: str | None = None,
    cluster_col: str | None = None,
    features: list[str] | None = None,
    exclude: tuple[str, ...] = (),
) -> dict[str, np.ndarray]:
    """Read a set-clustering table.

    Returns ``X`` (float64), ``sets``, and ``categories`` / ``clusters`` when their columns are
    named. ``features`` are column names or glob patterns (``px*``); by default every column
    that is not the set, category or cluster column, nor in ``exclude``. Missing columns are a
    one-line error that lists the columns the file has.
    """
    path = Path(path)
    cols = _read_columns(path)
    names = list(cols)
    named = {"--set-col": set_col, "--category-col": category_col, "--cluster-col": cluster_col}
    for option, col in named.items():
        if col is not None and col not in cols:
            raise CrossviewError(
                f"{path} has no column {col!r} ({option}); its columns: {', '.join(names[:20])}"
            )
    taken = {c for c in named.values() if c is not None} | set(exclude)
    if features:
        chosen = []
        for pattern in features:
            hits = [n for n in names if fnmatch.fnmatchcase(n, pattern) and n not in chosen]
            if not hits:
                raise CrossviewError(
                    f"{path} has no feature column matching {pattern!r}; its columns: "
                    f"{', '.join(names[:20])}"
                )
            chosen += hits
    else:
        chosen = [n for n in names if n not in taken]
    if not chosen:
        raise CrossviewError(
            f"{path} has no feature columns besides {', '.join(sorted(taken & set(names)))}"
        )
    X = np.hstack([_numeric(cols[n], n, path) for n in chosen])
    out = {"X": X, "sets": _labels(cols[set_col], set_col, path), "features": chosen}
    if category_col is not None:
        out["categories"] = _labels(cols[category_col], category_col, path)
    if cluster_col is not None:
        out["clusters"] = _labels(cols[cluster_col], cluster_col, path)
    return out


def write_table(path, columns: dict[str, np.ndarray]) -> Path:
    """Write equal-length columns as a CSV (or TSV) file, atomically."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".tsv"):
        raise CrossviewError(f"cannot write {path}: use a .csv or .tsv file name")
    if path.is_dir():
        raise CrossviewError(f"cannot write {path}: it is a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(columns)
    n = len(next(iter(columns.values())))
    with atomic_write(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        w.writerow(names)
        for i in range(n):
            w.writerow([columns[c][i] for c in names])
    return path


def table_from_arrays(X, sets, categories=None, clusters=None, prefix: str = "f") -> dict:
    """Columns of a table (``set``, ``category``, ``cluster``, ``f0``...) from arrays."""
    cols = {"set": np.asarray(sets)}
    if categories is not None:
        cols["category"] = np.asarray(categories)
    if clusters is not None:
        cols["cluster"] = np.asarray(clusters)
    X = np.asarray(X)
    for j in range(X.shape[1]):
        cols[f"{prefix}{j}"] = X[:, j]
    return cols
