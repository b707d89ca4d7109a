"""Atomic file writes: a file is either its old self or its complete new self, never half-written.

Hand-written because the standard library has the pieces (``os.replace`` is atomic on POSIX and
Windows) but no helper; third-party ones (``atomicwrites``) are unmaintained.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds it replaces ``path``.

    The caller writes the whole file to the yielded path (with ``open``, ``np.save``,
    safetensors' ``save_file``...). On success the data is flushed to disk and moved over
    ``path`` in one ``os.replace``; on any error (or Ctrl-C) the temporary file is removed and
    ``path`` is untouched. The folder must exist.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically and return the path."""
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike, obj, **dumps_kwargs) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically (``json.dumps`` options pass through)."""
    return write_text(path, json.dumps(obj, **dumps_kwargs) + "\n")


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, as hex (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
