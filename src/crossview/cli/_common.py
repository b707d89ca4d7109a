"""Helpers shared by CLI commands: reading views, writing arrays, parsing KEY=VALUE options."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np

from ..exceptions import CrossviewError


def read_array(path: Path | str) -> np.ndarray:
    """Read a 2-D view (any format `read_view` knows) for a CLI command."""
    from ..datasets.files import read_view

    return read_view(path).data


def read_labels(path: Path | str) -> np.ndarray:
    """Read a label vector: numbers from .npy, .npz (one array), .csv/.tsv/.txt (one column), or
    class names from a text file with one label per line.

    Whole numbers come back as int64, names as strings.
    """
    from ..datasets.files import read_view

    try:
        arr = np.asarray(read_view(path, allow_1d=True).data)
    except CrossviewError:
        if Path(path).suffix.lower() not in (".txt", ".csv", ".tsv", ".lst", ".labels"):
            raise
        arr = _read_label_lines(Path(path))
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise CrossviewError(f"labels file {path} holds shape {arr.shape}; expected one column")
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    return arr


def _read_label_lines(path: Path) -> np.ndarray:
    """Labels as text, one per line (names such as ``cat``; no header)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise CrossviewError(f"labels file {path} is not UTF-8 text") from None
    while lines and not lines[-1].strip():
        lines.pop()
    labels = [line.strip() for line in lines]
    for i, lab in enumerate(labels):
        if not lab:
            raise CrossviewError(f"labels file {path}, line {i + 1} is empty; expected one label")
        if "," in lab or "\t" in lab:
            raise CrossviewError(
                f"labels file {path}, line {i + 1} holds several fields; expected one label a line"
            )
    if not labels:
        raise CrossviewError(f"labels file {path} is empty; expected one label per line")
    try:
        return np.asarray([int(v) for v in labels], dtype=np.int64)
    except ValueError:
        return np.asarray(labels, dtype=str)


def check_writable_folder(folder: Path | str, target: Path | str) -> None:
    """Raise a clear error when ``folder`` cannot be a folder because it or a parent is a file."""
    folder = Path(folder)
    for p in (folder, *folder.parents):
        if p.exists():
            if not p.is_dir():
                raise CrossviewError(f"cannot write {target}: {p} is a file, not a folder")
            return


def write_array(path: Path | str, arr: np.ndarray) -> Path:
    """Write an array as .npy (default), .csv or .tsv, choosing by the file ending."""
    path = Path(path)
    check_writable_folder(path.parent, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        np.savetxt(path, arr, delimiter="," if suffix == ".csv" else "\t", fmt="%.8g")
    elif suffix == ".npy":
        np.save(path, arr)
    else:
        raise CrossviewError(f"cannot write {path}: use a .npy, .csv or .tsv file name")
    return path


def _coerce(text: str, default):
    """Turn the text of KEY=VALUE into the type of the parameter's default."""
    low = text.strip().lower()
    if low in ("none", "null"):
        return None
    if isinstance(default, bool):
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise CrossviewError(f"expected true or false, got {text!r}")
    if text.strip().startswith("["):
        try:
            return tuple(json.loads(text))
        except json.JSONDecodeError:
            raise CrossviewError(f"expected a list such as [64, 32], got {text!r}") from None
    if isinstance(default, (tuple, list)) or "," in text:
        inner = text.strip()
        if inner.startswith("(") and inner.endswith(")"):  # Python's tuple spelling: (500, 300)
            inner = inner[1:-1]
        parts = [p for p in inner.replace(" ", "").split(",") if p]
        return tuple(_coerce(p, None) for p in parts)
    if isinstance(default, int) and not isinstance(default, bool):
        try:
            return int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise CrossviewError(f"expected a number, got {text!r}") from None
            return int(number) if number.is_integer() else number  # 1e3 -> 1000
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise CrossviewError(f"expected a number, got {text!r}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    if isinstance(value, float) and value.is_integer() and "e" in low:
        return int(value)  # 1e3 -> 1000, as for integer parameters (e.g. epochs, default "auto")
    return tuple(value) if isinstance(value, list) else value


def parse_params(cls, items: list[str] | None) -> dict:
    """Parse repeated ``KEY=VALUE`` options into estimator parameters of ``cls``."""
    sig = inspect.signature(cls.__init__)
    known = {k: p.default for k, p in sig.parameters.items() if k != "self"}
    out = {}
    for item in items or []:
        if "=" not in item:
            raise CrossviewError(f"option {item!r} is not KEY=VALUE (e.g. n_components=50)")
        key, _, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if key not in known:
            raise CrossviewError(
                f"{cls.__name__} has no parameter {key!r}; it has: {', '.join(sorted(known))}"
            )
        try:
            out[key] = _coerce(value, known[key])
        except CrossviewError as exc:
            raise CrossviewError(f"parameter {key}: {exc}") from None
    return out
