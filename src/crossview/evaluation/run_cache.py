"""The benchmark's run files: one JSON file per method and seed, reused when nothing changed.

A run is reused (resume) when its key matches: the spec, seed, parameters, evaluation split and
a fingerprint of the data. Two specs that are the same fit under different names (``corrnet``
and ``corrnet[L1+L2+L3+L4]``) are twins: one fit serves both.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..fileio import write_json
from .specs import MethodSpec, accepted_params

#: version of the run-file layout; files of another version are refitted
RUN_FORMAT = 1


def data_fingerprint(data) -> dict:
    """Name, split sizes and a hash of every array: what a stored run must match to be reused."""
    h = hashlib.blake2b(digest_size=16)
    sizes = {}
    for split in ("train", "val", "test"):
        part = getattr(data, split)
        sizes[split] = [int(part.X.shape[0]), int(part.X.shape[1]), int(part.Y.shape[1])]
        for arr in (part.X, part.Y, part.labels):
            if arr is not None:
                arr = np.asarray(arr)
                h.update(f"{arr.shape}{arr.dtype}".encode())
                if arr.dtype.kind in "biuf":
                    h.update(np.ascontiguousarray(arr).tobytes())
                else:  # string or object labels: hash their text
                    h.update("\x00".join(map(str, arr.ravel())).encode())
    return {"name": data.name, "sizes": sizes, "hash": h.hexdigest()}


def json_default(obj):
    """JSON form of what :func:`json.dumps` cannot write: numpy scalars, sets, anything else."""
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    return str(obj)


def jsonable(obj):
    """Round-trip through JSON so that tuples and lists (and numpy scalars) compare equal."""
    return json.loads(json.dumps(obj, sort_keys=True, default=json_default))


def save_json(path: Path, obj) -> Path:
    """Write ``obj`` as indented JSON, atomically (never half-written by an interrupted run)."""
    return write_json(path, obj, indent=2, default=json_default, allow_nan=True)


def run_key(spec: MethodSpec, seed: int, params: dict, eval_split: str, fingerprint: dict) -> dict:
    """What a stored run must match to be reused."""
    return {
        "spec": spec.key,
        "seed": seed,
        "params": jsonable(params),
        "eval_split": eval_split,
        "data": fingerprint,
    }


def run_path(runs_dir: Path, spec: MethodSpec, seed: int) -> Path:
    """The file of one spec and seed: ``runs/<slug>-seed<k>.json``."""
    return Path(runs_dir) / f"{spec.slug}-seed{seed}.json"


def load_run(path: Path) -> dict | None:
    """A stored run, or None if the file is missing, unreadable or of another format."""
    try:
        run = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return run if isinstance(run, dict) and run.get("format") == RUN_FORMAT else None


def matches(run: dict, key: dict, want_figures: bool, out: Path) -> bool:
    """Whether a stored run has ``key`` (and, if figures are wanted, all its figure files)."""
    if jsonable(run.get("key")) != jsonable(key):
        return False
    if want_figures:
        figs = run.get("figures")
        return figs is not None and all((out / f).is_file() for f in figs)
    return True


def twin_key(spec: MethodSpec, key: dict) -> str:
    """Method, seed and every parameter (defaults filled in): equal keys mean the same fit."""
    full = jsonable({**accepted_params(spec.method), **key["params"]})
    return json.dumps([spec.method, key["seed"], key["eval_split"], full], sort_keys=True)


def twin_serves(twin: dict, spec: MethodSpec, want_figures: bool) -> bool:
    """Whether a twin's run can stand for ``spec``: it can unless ``spec`` needs figures the
    twin lacks (a variant draws only its training curves, a plain method every kind)."""
    if not want_figures:
        return True
    return twin.get("figures") is not None and (
        spec.variant is not None or twin["row"].get("variant") is None
    )


def as_twin(twin: dict, spec: MethodSpec, key: dict) -> dict:
    """The twin's run recorded under ``spec``'s name and key."""
    return {
        **twin,
        "key": key,
        "same_as": twin["key"]["spec"],
        "row": {**twin["row"], "method": spec.key, "variant": spec.variant},
    }
