"""Keyed embeddings: vectors with a key (word, node name) per row, read from and written to files.

Formats, chosen by the file's suffix:

- word2vec / fastText text (``.txt``, ``.vec``, optionally ``.gz``): an "n d" header, then
  ``key v1 ... vd`` per line;
- NumPy (``.npy``) with the keys in a side file ``NAME.keys.txt`` (one key per line, UTF-8);
- Parquet (``.parquet``): a string column of keys and one numeric column per dimension (or one
  list-of-numbers column).

Reading goes through :func:`crossview.datasets.files.read_view`, so every problem with a file
is a one-line :class:`~crossview.exceptions.CrossviewError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets.files import read_view, write_view
from ..exceptions import CrossviewError
from ..fileio import atomic_write, write_text


@dataclass(frozen=True)
class Embedding:
    """Vectors (n, d) with one unique string key per row."""

    keys: list[str]
    vectors: np.ndarray

    def __post_init__(self):
        v = np.asarray(self.vectors)
        if v.ndim != 2:
            raise CrossviewError(f"embedding vectors must be 2-D (n, d); got shape {v.shape}")
        if len(self.keys) != v.shape[0]:
            raise CrossviewError(
                f"embedding has {len(self.keys)} keys for {v.shape[0]} vectors; expected one each"
            )
        if len(set(self.keys)) != len(self.keys):
            seen: set[str] = set()
            dup = next(k for k in self.keys if k in seen or seen.add(k))
            raise CrossviewError(
                f"embedding key {dup!r} occurs more than once; keys must be unique"
            )

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def dim(self) -> int:
        """Number of dimensions of each vector."""
        return int(self.vectors.shape[1])

    def index(self) -> dict[str, int]:
        """Map each key to its row."""
        return {k: i for i, k in enumerate(self.keys)}

    def subset(self, keys) -> Embedding:
        """The rows of the given keys, in that order (each key must be present)."""
        idx = self.index()
        missing = [k for k in keys if k not in idx]
        if missing:
            raise CrossviewError(
                f"{len(missing)} keys are not in the embedding, e.g. {missing[0]!r}"
            )
        rows = np.fromiter((idx[k] for k in keys), dtype=np.int64, count=len(keys))
        return Embedding(list(keys), self.vectors[rows])


def keys_path(path: Path | str) -> Path:
    """The side file holding the keys of a ``.npy`` embedding: ``NAME.keys.txt``."""
    path = Path(path)
    return path.with_name(path.name[: -len(".npy")] + ".keys.txt")


def read_embedding(path: Path | str, keys: Path | str | None = None) -> Embedding:
    """Read keyed vectors from word2vec text, ``.npy`` + keys file, or Parquet (module docs).

    ``keys`` names the keys file of a ``.npy`` (default ``NAME.keys.txt`` beside it).
    """
    path = Path(path)
    view = read_view(path)
    if path.suffix.lower() == ".npy":
        kpath = Path(keys) if keys is not None else keys_path(path)
        if not kpath.exists():
            raise CrossviewError(
                f"{path}: a .npy embedding needs its keys in {kpath} (one key per line)"
            )
        words = kpath.read_text(encoding="utf-8").splitlines()
        if len(words) != view.data.shape[0]:
            raise CrossviewError(
                f"{kpath} has {len(words)} keys for the {view.data.shape[0]} rows of {path}"
            )
    elif view.vocab is None:
        raise CrossviewError(
            f"{path} has no keys (row names); expected word2vec text, a table with a key column, "
            "or a .npy with a .keys.txt file"
        )
    else:
        words = view.vocab
    return Embedding(list(words), np.asarray(view.data, dtype=np.float32))


def write_embedding(embedding: Embedding, path: Path | str) -> Path:
    """Write keyed vectors (word2vec text, ``.npy`` + ``.keys.txt``, or Parquet), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    bad = next((k for k in embedding.keys if not k or any(c.isspace() for c in k)), None)
    if bad is not None:
        raise CrossviewError(f"cannot write {path}: key {bad!r} is empty or contains whitespace")
    if suffix == ".npy":
        write_text(keys_path(path), "".join(k + "\n" for k in embedding.keys))
        return write_view(path, embedding.vectors)
    if suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ModuleNotFoundError:
            raise CrossviewError(
                f"cannot write {path}: Parquet needs pyarrow (pip install 'crossview[parquet]')"
            ) from None
        v = np.asarray(embedding.vectors)
        cols = {"key": pa.array(embedding.keys, pa.string())}
        cols.update({f"v{j}": pa.array(v[:, j]) for j in range(v.shape[1])})
        with atomic_write(path) as tmp:
            pq.write_table(pa.table(cols), tmp)
        return path
    return write_view(path, embedding.vectors, vocab=embedding.keys)
