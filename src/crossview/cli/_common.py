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
    """Read a label vector from .npy, .npz (one array), .csv/.tsv/.txt (one column)."""
    from ..datasets.files import read_view

    arr = np.asarray(read_view(path, allow_1d=True).data)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise CrossviewError(f"labels file {path} holds shape {arr.shape}; expected one column")
    return arr


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
