"""Safe model files: safetensors weights plus a JSON config; loading never runs code from a file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ._version import __version__
from .exceptions import CrossviewError
from .fileio import atomic_write, sha256_file, write_json

FORMAT_NAME = "crossview-model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def _jsonable(value, key: str):
    """Convert a parameter value to JSON, or raise a clear error naming the parameter."""
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, tuple):
        return [_jsonable(v, key) for v in value]
    if isinstance(value, list):
        return [_jsonable(v, key) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, key) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    text = repr(value)
    if "\n" in text or len(text) > 80:
        text = f"<a {type(value).__name__}>"
    raise CrossviewError(
        f"parameter {key}={text} cannot be written to a model file; use a plain number, "
        "string, list or None"
    )


def _from_json(value):
    if isinstance(value, list):
        return tuple(_from_json(v) for v in value)
    return value


def save_model(model, path) -> Path:
    """Write a fitted model to folder ``path``: ``config.json`` and ``model.safetensors``."""
    from safetensors.numpy import save_file
    from sklearn.utils.validation import check_is_fitted

    from .registry import name_of

    check_is_fitted(model)
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise CrossviewError(f"model path {path} exists and is not a folder; expected a folder")
    path.mkdir(parents=True, exist_ok=True)
    arrays, extra = model._get_state()
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    raw = model._json_params() if hasattr(model, "_json_params") else model.get_params(deep=False)
    params = {k: _jsonable(v, k) for k, v in raw.items()}
    config = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "crossview_version": __version__,
        "method": name_of(model),
        "class": type(model).__name__,
        "params": params,
        "n_features_in": int(model.n_features_in_),
        "n_features_in_y": int(getattr(model, "n_features_in_y_", 0)),
        "extra": _jsonable(extra, "extra"),
        "arrays": {k: {"shape": list(v.shape), "dtype": str(v.dtype)} for k, v in arrays.items()},
    }
    with atomic_write(path / WEIGHTS_FILE) as tmp:
        save_file(arrays, str(tmp), metadata={"format": FORMAT_NAME})
        config["weights_sha256"] = sha256_file(tmp)
    write_json(path / CONFIG_FILE, config, indent=2)
    return path


def read_config(path) -> dict:
    """Read and check a model folder's ``config.json``."""
    path = Path(path)
    if not path.exists():
        raise CrossviewError(f"model folder {path} does not exist")
    if not path.is_dir():
        raise CrossviewError(
            f"{path} is not a model folder; expected a folder with {CONFIG_FILE} and {WEIGHTS_FILE}"
        )
    cfg_path = path / CONFIG_FILE
    if not cfg_path.is_file():
        raise CrossviewError(f"{path} has no {CONFIG_FILE}; it is not a crossview model folder")
    try:
        config = json.loads(cfg_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CrossviewError(f"{cfg_path} is corrupt: not valid JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT_NAME:
        raise CrossviewError(
            f"{cfg_path} is not a crossview model config (no format={FORMAT_NAME!r})"
        )
    version = config.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CrossviewError(
            f"{cfg_path} has model format version {version!r}; this crossview ({__version__}) "
            f"reads up to version {FORMAT_VERSION}"
        )
    for key in ("method", "params", "n_features_in"):
        if key not in config:
            raise CrossviewError(f"{cfg_path} is missing the field {key!r}")
    fields = {
        "method": (str, "a method name"),
        "params": (dict, "an object of parameters"),
        "n_features_in": (int, "a positive integer"),
        "n_features_in_y": (int, "a non-negative integer"),
        "extra": (dict, "an object"),
        "weights_sha256": (str, "the hex SHA-256 of the weights file"),
        "arrays": (dict, "an object of array shapes and dtypes"),
    }
    for key, (kind, what) in fields.items():
        value = config.get(key)
        if value is None and key in ("n_features_in_y", "extra", "weights_sha256", "arrays"):
            continue
        minimum = 1 if key == "n_features_in" else 0
        bad_int = kind is int and (
            isinstance(value, bool) or not isinstance(value, int) or value < minimum
        )
        if bad_int or not isinstance(value, kind):
            raise CrossviewError(
                f"{cfg_path} is corrupt: field {key!r} is {value!r}; expected {what}"
            )
    return config


def _one_line(exc: BaseException) -> str:
    """An exception's text on one line (file contents can hold line breaks)."""
    return " ".join(str(exc).split())


def _check_arrays(arrays: dict, listed, w_path: Path) -> None:
    """The weights must hold exactly the arrays the config lists, with their shapes and dtypes."""
    if listed is None:  # written before the config listed its arrays
        return
    names, want = set(arrays), set(listed)
    if names != want:
        odd = ", ".join(map(repr, sorted(names ^ want)[:3]))
        raise CrossviewError(
            f"{w_path} does not hold the arrays its config lists (differing: {odd})"
        )
    for name in sorted(names):
        spec, arr = listed[name], arrays[name]
        if (
            not isinstance(spec, dict)
            or spec.get("shape") != list(arr.shape)
            or spec.get("dtype") != str(arr.dtype)
        ):
            raise CrossviewError(
                f"{w_path}: array {name!r} has shape {list(arr.shape)} and dtype {arr.dtype}; "
                f"the config says {spec!r}"
            )


def load_model(path):
    """Load a model saved by :func:`save_model`; raises a clear error for corrupt files."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from .registry import get

    path = Path(path)
    config = read_config(path)
    w_path = path / WEIGHTS_FILE
    if not w_path.is_file():
        raise CrossviewError(f"{path} has no {WEIGHTS_FILE}")
    expected = config.get("weights_sha256")
    if expected is not None and sha256_file(w_path) != expected.lower():
        raise CrossviewError(
            f"{w_path} does not match the SHA-256 recorded in {CONFIG_FILE}: the weights are "
            "corrupt or were changed after saving"
        )
    try:
        arrays = load_file(str(w_path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CrossviewError(
            f"{w_path} is corrupt or not a safetensors file ({_one_line(exc)})"
        ) from None
    _check_arrays(arrays, config.get("arrays"), w_path)
    info = get(config["method"])
    if info.task != "clustering" and not config.get("n_features_in_y"):
        raise CrossviewError(
            f"{path / CONFIG_FILE} is corrupt: a {info.task} model needs 'n_features_in_y' "
            "(the width of view Y)"
        )
    cls = info.load()
    params = {k: _from_json(v) for k, v in config["params"].items()}
    if hasattr(cls, "_params_from_json"):  # parameters that are estimators, e.g. a classifier
        params = cls._params_from_json(params)
    import inspect

    known = set(inspect.signature(cls.__init__).parameters) - {"self"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise CrossviewError(
            f"{path}: config does not match {cls.__name__}: unknown parameter(s) "
            f"{', '.join(map(repr, unknown[:3]))}"
        )
    try:
        model = cls(**params)
    except TypeError as exc:
        raise CrossviewError(
            f"{path}: config does not match {cls.__name__} ({_one_line(exc)})"
        ) from None
    if hasattr(model, "_validate_params"):  # the parameters get the checks fit gives them
        try:
            model._validate_params()
        except CrossviewError as exc:
            raise CrossviewError(f"{path}: corrupt parameters ({_one_line(exc)})") from None
    model.n_features_in_ = int(config["n_features_in"])
    if config.get("n_features_in_y"):
        model.n_features_in_y_ = int(config["n_features_in_y"])
    try:
        model._set_state(arrays, config.get("extra") or {})
    except (
        KeyError,
        ValueError,
        RuntimeError,
        TypeError,
        IndexError,
        AttributeError,
        ZeroDivisionError,
    ) as exc:
        if isinstance(exc, CrossviewError):
            raise
        raise CrossviewError(
            f"{path}: weights do not match the config of {cls.__name__} ({_one_line(exc)})"
        ) from None
    return model
