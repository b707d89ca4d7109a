"""Run several methods over several seeds with one protocol; write tables, figures and a report.

:func:`run_benchmark` fits every method × seed through :func:`~.runner.run_method` and writes,
into one folder:

- ``runs/<method>-seed<k>.json``: one file per method and seed, written as soon as it is done;
  a rerun into the same folder reuses the runs whose method, seed, parameters, evaluation split
  and data are unchanged (resume);
- ``results.json`` / ``results.csv``: one row per method and seed (the JSON adds the protocol,
  the data and the machine);
- ``results.md``: methods against metrics (mean ± std over seeds) with published numbers beside
  ours (MNIST-halves protocol only), and CorrNet's loss combinations when they were run;
- ``figures/*.png`` from the first seed's model of each method (reconstructions both ways,
  training curves, a 2-D map of the codes; for CorrNet loss combinations only the training
  curves), one figure of every method's per-dimension test correlations, and ``report.html``:
  both tables and every figure on one offline page.

Methods are given as registry names, or for CorrNet as a loss combination such as
``corrnet[L2+L3]`` (the paper's L1 self-reconstruction, L2 / L3 cross-reconstruction, L4
correlation); ``ablation=True`` adds the paper's four combinations.
"""

from __future__ import annotations

import csv
import hashlib
import inspect
import json
import logging
import math
import os
import platform
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import registry
from ..base import CrossviewError
from .benchmark_figures import KINDS, dimension_correlations, model_figures
from .runner import run_method

log = logging.getLogger(__name__)

# ---- presets: every per-data-set default of the benchmark, in one place ----------------------

#: protocol name -> method -> parameters. Options given by the caller override these. For the
#: "custom" protocol and for small data, ``n_components`` is capped at the narrower view and
#: ``batch_size`` at the number of training rows.
PRESETS: dict[str, dict[str, dict]] = {
    # the CorrNet paper's architectures (Chandar et al. 2016, sec. 6), code size 50
    "mnist-halves": {
        "cca": dict(n_components=50),
        "kcca": dict(n_components=50),  # its own defaults: RBF, Nystrom with 2000 landmarks
        "dcca": dict(n_components=50, x_hidden=(500, 500), activation="relu", batch_size=500,
                     epochs=40),
        "dccae": dict(n_components=50, x_hidden=(500, 500), activation="relu",
                      output_activation="sigmoid", lam=0.1, batch_size=500, epochs=20),
        # chosen on the validation split (docs/benchmarks.md, section 1): one 500-unit hidden
        # layer, sigmoid view branches and code, cosine schedule (val 26.10 / 75.1 / 74.5
        # against 19.0 / 66.2 / 63.6 for the plain ReLU-to-sigmoid-code network of 20 epochs)
        "mae": dict(n_components=50, x_hidden=(500,), activation="relu",
                    view_activation="sigmoid", code_activation="sigmoid",
                    output_activation="sigmoid", lr_schedule="cosine", learning_rate=2e-3,
                    batch_size=100, epochs=30),
        # Deep CorrNet 500-300-50, tuned on the validation split (docs/corrnet-tuning.md):
        # sigmoid view outputs, L2+L3+L4 (the Keras reproduction's loss), cosine schedule,
        # batches of 50 from a learning rate of 1e-3 (third session: +0.8 / +1.0 transfer points
        # over batches of 100 from 2e-3, mean of three validation seeds)
        "corrnet": dict(n_components=50, x_hidden=(500, 300), view_activation="sigmoid",
                        lam=14.0, loss_self=False, lr_schedule="cosine", learning_rate=1e-3,
                        epochs=30, batch_size=50),
    },
    # small networks and few epochs: the whole digits benchmark takes about a minute on a CPU
    "digits-halves": {
        "cca": dict(n_components=16),
        "kcca": dict(n_components=16, kernel="rbf", method="exact"),
        "dcca": dict(n_components=16, x_hidden=(64,), activation="relu", batch_size=200,
                     epochs=60, learning_rate=2e-3),
        "dccae": dict(n_components=16, x_hidden=(64,), activation="relu",
                      output_activation="sigmoid", lam=0.1, batch_size=200, epochs=60,
                      learning_rate=2e-3),
        "mae": dict(n_components=16, x_hidden=(64,), activation="relu",
                    output_activation="sigmoid", batch_size=50, epochs=60, learning_rate=2e-3),
        "corrnet": dict(n_components=16, x_hidden=(64,), view_activation="sigmoid", lam=1.0,
                        batch_size=50, epochs=60, learning_rate=2e-3),
    },
    # a user's own views: moderate sizes; tune with method_params / --set
    "custom": {
        "cca": dict(n_components=10),
        "kcca": dict(n_components=10, kernel="rbf"),
        "dcca": dict(n_components=10, x_hidden=(256,), batch_size=200, epochs=50),
        "dccae": dict(n_components=10, x_hidden=(256,), batch_size=200, epochs=50),
        "mae": dict(n_components=10, x_hidden=(256,), batch_size=100, epochs=50),
        "corrnet": dict(n_components=10, x_hidden=(256,), batch_size=100, epochs=50),
    },
}
MNIST_PRESETS = PRESETS["mnist-halves"]
DIGITS_PRESETS = PRESETS["digits-halves"]

#: methods run when none are named: those that learn a common representation (not the maps
#: ridge / procrustes / mlpmap), in table order; only the available ones are used
DEFAULT_METHODS = ("cca", "kcca", "dcca", "dccae", "mae", "corrnet")

#: CorrNet's loss terms in the paper's notation -> the estimator's switches
CORRNET_TERMS = {"L1": "loss_self", "L2": "loss_from_x", "L3": "loss_from_y", "L4": "loss_corr"}
#: the loss combinations of the paper's ablation table, added by ``ablation=True``
CORRNET_ABLATION = ("corrnet[L2+L3]", "corrnet[L1+L2+L3]", "corrnet[L2+L3+L4]",
                    "corrnet[L1+L2+L3+L4]")

#: parameters the benchmark sets itself
MANAGED_PARAMS = {"random_state": "seeds are chosen with `seeds`",
                  "verbose": "progress is switched with `verbose`"}

RUN_FORMAT = 1


@dataclass(frozen=True)
class Protocol:
    """How a data set is benchmarked: its name, presets, image shape of one view (for pictures)
    and whether published numbers exist for it (see :data:`.tables.PUBLISHED`)."""

    name: str
    presets: dict[str, dict]
    image_shape: tuple[int, int] | None = None
    description: str = ""


PROTOCOLS: dict[str, Protocol] = {
    "mnist-halves": Protocol(
        "mnist-halves", MNIST_PRESETS, (28, 14),
        "MNIST left (X) / right (Y) halves, 392 pixels each; train on the first 50,000 training "
        "images, validate on the last 10,000, test on the 10,000 test images (CorrNet protocol)."),
    "digits-halves": Protocol(
        "digits-halves", DIGITS_PRESETS, (8, 4),
        "scikit-learn 8x8 digits, left (X) / right (Y) halves, 32 pixels each; shuffled 60/20/20 "
        "split (a small offline stand-in for MNIST halves)."),
    "custom": Protocol("custom", PRESETS["custom"], None, "user-supplied paired views."),
}


def get_protocol(protocol, data=None, image_shape=None) -> Protocol:
    """Resolve a protocol name (or None: by the data set's name, else "custom")."""
    if isinstance(protocol, Protocol):
        proto = protocol
    else:
        name = protocol or (getattr(data, "name", "") if getattr(data, "name", "") in PROTOCOLS
                            else "custom")
        if name not in PROTOCOLS:
            raise CrossviewError(f"unknown protocol {name!r}; known: {', '.join(PROTOCOLS)}")
        proto = PROTOCOLS[name]
    if image_shape is not None:
        proto = Protocol(proto.name, proto.presets, tuple(int(v) for v in image_shape),
                         proto.description)
    return proto


# ---- method specs -------------------------------------------------------------------------

@dataclass(frozen=True)
class MethodSpec:
    """One column of the benchmark: a registry method, optionally a variant such as a CorrNet
    loss combination, and the parameters that variant fixes."""

    key: str  # as shown in tables, e.g. "corrnet[L2+L3]"
    method: str  # registry name
    variant: str | None = None
    fixed: dict = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """A file-name-safe form of the key: ``corrnet[L2+L3]`` -> ``corrnet-L2-L3``."""
        return re.sub(r"[^A-Za-z0-9_]+", "-", self.key).strip("-")


_SPEC = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(?:\[([^\]]*)\])?\s*$")


def parse_spec(text: str) -> MethodSpec:
    """Parse ``name`` or ``corrnet[L1+L2+L3]`` into a :class:`MethodSpec` (name must be available)."""
    m = _SPEC.match(text or "")
    if not m:
        raise CrossviewError(f"cannot read method {text!r}; expected a name such as 'cca' or a "
                             "CorrNet loss combination such as 'corrnet[L2+L3]'")
    name = registry.get(m.group(1)).name
    if m.group(2) is None:
        return MethodSpec(name, name)
    if name != "corrnet":
        raise CrossviewError(f"method {name!r} has no variants; only CorrNet takes a loss "
                             f"combination such as 'corrnet[L2+L3]'")
    terms = [t.strip().upper() for t in m.group(2).split("+")]
    bad = [t for t in terms if t not in CORRNET_TERMS]
    if bad or not terms or len(set(terms)) != len(terms):
        raise CrossviewError(f"cannot read CorrNet loss combination {m.group(2)!r}; expected "
                             "distinct terms from L1, L2, L3, L4 joined by '+', e.g. L2+L3")
    variant = "+".join(t for t in CORRNET_TERMS if t in terms)
    fixed = {switch: term in terms for term, switch in CORRNET_TERMS.items()}
    return MethodSpec(f"corrnet[{variant}]", "corrnet", variant, fixed)


def default_methods() -> list[str]:
    """The available methods among :data:`DEFAULT_METHODS`."""
    have = registry.available()
    return [m for m in DEFAULT_METHODS if m in have]


def _accepted(method: str) -> dict:
    cls = registry.get(method).load()
    return {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
            if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def _check_keys(params: dict, method: str, where: str) -> None:
    accepted = _accepted(method)
    for key in params:
        if key in MANAGED_PARAMS:
            raise CrossviewError(f"{where}: {key!r} is set by the benchmark ({MANAGED_PARAMS[key]})")
        if key not in accepted:
            raise CrossviewError(f"{where}: {registry.get(method).load().__name__} has no "
                                 f"parameter {key!r}; it has: {', '.join(sorted(accepted))}")


def resolve_params(spec: MethodSpec, protocol: Protocol, method_params: dict, data) -> dict:
    """The parameters of one spec: preset, then the method's options, the variant's switches,
    then options given for this exact spec (later wins)."""
    preset = dict(protocol.presets.get(spec.method, {}))
    _check_keys(preset, spec.method, f"preset {protocol.name}.{spec.method}")
    n_x, n_y, n = data.train.X.shape[1], data.train.Y.shape[1], data.train.X.shape[0]
    if "n_components" in preset and preset["n_components"] > min(n_x, n_y):
        preset["n_components"] = min(n_x, n_y)
    if "batch_size" in preset and preset["batch_size"] > n:
        preset["batch_size"] = n
    params = {**preset, **method_params.get(spec.method, {}), **spec.fixed}
    if spec.key != spec.method:
        params.update(method_params.get(spec.key, {}))
    return params


def _check_method_params(method_params: dict, specs: list[MethodSpec]) -> dict:
    out = {}
    for target, params in (method_params or {}).items():
        if not isinstance(params, dict):
            raise CrossviewError(f"options for {target!r} must be a dict of parameters")
        spec = parse_spec(target)
        key = spec.method if spec.variant is None else spec.key
        _check_keys(params, spec.method, f"options for {key}")
        out.setdefault(key, {}).update(params)
    return out


# ---- data, machine, run files ----------------------------------------------------------------

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


def machine_info() -> dict:
    """Versions and hardware that the timings depend on."""
    import sklearn

    from .._version import __version__

    info = {"crossview": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "scikit-learn": sklearn.__version__,
            "platform": platform.platform(), "cpu": _cpu_name(),
            "cpu_count": os.cpu_count(),
            "threads_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                        "OPENBLAS_NUM_THREADS") if k in os.environ}}
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["torch"] = None
    return info


def _cpu_name() -> str | None:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or None


def _jsonable(obj):
    """Round-trip through JSON so that tuples and lists (and numpy scalars) compare equal."""
    return json.loads(json.dumps(obj, sort_keys=True, default=_json_default))


def _json_default(obj):
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    return str(obj)


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=_json_default, allow_nan=True))
    tmp.replace(path)  # never leave a half-written file behind an interrupted run


def _load_run(path: Path) -> dict | None:
    try:
        run = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return run if isinstance(run, dict) and run.get("format") == RUN_FORMAT else None


# ---- the result ----------------------------------------------------------------------------

@dataclass
class BenchmarkResult:
    """Everything one benchmark call produced (the same numbers as the files it wrote)."""

    out_dir: Path
    protocol: Protocol
    rows: list[dict]  # one per method and seed, as in results.csv
    summary: dict[str, dict]  # method key -> {"method", "variant", "n_seeds", "metrics"}
    fitted: list[tuple[str, int]]  # (method, seed) fitted by this call
    reused: list[tuple[str, int]]  # (method, seed) read back from earlier runs
    figures: list[Path]
    files: dict[str, Path]
    tables: list = field(default_factory=list)  # the rendered Table objects

    def markdown(self) -> str:
        """The tables of ``results.md``."""
        return "\n\n".join(t.to_markdown() for t in self.tables)


#: column order of results.csv (metrics a method lacks are empty); other keys follow, sorted
ROW_COLUMNS = ("method", "base_method", "variant", "seed", "sum_corr", "canonical_sum_corr",
               "transfer_x_to_y", "transfer_y_to_x", "mse_y_from_x", "mse_x_from_y",
               "fit_seconds", "peak_mb", "n_components", "n_train", "epochs_run",
               "samples_per_second", "seconds_per_epoch", "n_parameters", "eval_split",
               "params")


def _seed_list(seeds) -> list[int]:
    if isinstance(seeds, bool):
        raise CrossviewError(f"seeds must be a count or a list of integers; got {seeds!r}")
    if isinstance(seeds, int):
        if seeds < 1:
            raise CrossviewError(f"seeds must be at least 1; got {seeds}")
        return list(range(seeds))
    out = [int(s) for s in seeds]
    if not out or len(set(out)) != len(out):
        raise CrossviewError(f"seeds must be a non-empty list of distinct integers; got {seeds!r}")
    return out


def _specs(methods, ablation: bool) -> list[MethodSpec]:
    if isinstance(methods, str):
        methods = [m for m in methods.split(",") if m.strip()]
    names = list(methods) if methods is not None else default_methods()
    if ablation:
        names += [s for s in CORRNET_ABLATION if s not in names]
    specs: list[MethodSpec] = []
    for name in names:
        spec = parse_spec(name)
        if spec.key not in [s.key for s in specs]:
            specs.append(spec)
    if not specs:
        raise CrossviewError("no methods to run" + ("" if methods is not None else
                             f": none of {', '.join(DEFAULT_METHODS)} is available in this "
                             "installation"))
    return specs


def run_benchmark(data, methods=None, seeds=1, out_dir="benchmark", *, method_params=None,
                  ablation: bool = False, resume: bool = True, verbose: bool = True,
                  figures: bool = True, protocol=None, image_shape=None,
                  eval_split: str = "test") -> BenchmarkResult:
    """Fit every method on ``data`` for every seed, score it, and write the results folder.

    Parameters
    ----------
    data : TwoViewDataset with train (fitting), val (early stopping of deep methods) and test.
    methods : names or specs (list, or one comma-separated string); ``None`` runs the available
        methods among :data:`DEFAULT_METHODS` (cca, kcca, dcca, dccae, mae, corrnet).
        ``corrnet[L2+L3]`` etc. run CorrNet with only those loss terms.
    seeds : a count ``k`` (seeds ``0..k-1``) or a list of seeds.
    out_dir : folder for ``runs/``, ``results.*``, ``figures/`` and ``report.html``.
    method_params : ``{"corrnet": {"lam": 0.02}}``; a key may also be a spec
        (``"corrnet[L2+L3]"``) to set that variant only. Applied over :data:`PRESETS`.
    ablation : also run CorrNet's four loss combinations of the paper (:data:`CORRNET_ABLATION`).
    resume : reuse ``runs/*.json`` whose method, seed, parameters, split and data match.
    verbose : progress bars (one over method × seed, and the deep methods' epoch bars).
    figures : draw the figures (from the first seed's model of each method) and embed them.
    protocol : "mnist-halves", "digits-halves", "custom" or a :class:`Protocol`; by default
        chosen by ``data.name``. It sets the presets and whether published numbers are shown.
    image_shape : (height, width) of one view as an image, for the reconstruction figures
        (defaults to the protocol's: (28, 14) for MNIST halves, (8, 4) for digits halves).
    eval_split : "test" (reported numbers) or "val" (tuning).
    """
    from tqdm.auto import tqdm

    if eval_split not in ("val", "test"):
        raise CrossviewError(f"eval_split must be 'val' or 'test'; got {eval_split!r}")
    proto = get_protocol(protocol, data, image_shape)
    if proto.image_shape is not None:
        h, w = proto.image_shape
        widths = (data.train.X.shape[1], data.train.Y.shape[1])
        if widths != (h * w, h * w):
            raise CrossviewError(f"image shape {h}x{w} has {h * w} pixels but the views have "
                                 f"{widths[0]} (X) and {widths[1]} (Y) features")
    specs = _specs(methods, ablation)
    seed_list = _seed_list(seeds)
    options = _check_method_params(method_params, specs)
    plan = {spec.key: resolve_params(spec, proto, options, data) for spec in specs}
    out = Path(out_dir)
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = data_fingerprint(data)
    split = getattr(data, eval_split)

    rows, fitted, reused, dim_corr, done = [], [], [], {}, {}
    bar = tqdm(total=len(specs) * len(seed_list), disable=not verbose, unit="run",
               desc="benchmark")
    try:
        for spec in specs:
            info = registry.get(spec.method)
            for i, seed in enumerate(seed_list):
                bar.set_description(f"{spec.key} seed {seed}")
                want_figures = figures and i == 0
                key = {"spec": spec.key, "seed": seed, "params": _jsonable(plan[spec.key]),
                       "eval_split": eval_split, "data": fingerprint}
                path = runs_dir / f"{spec.slug}-seed{seed}.json"
                run = _load_run(path) if resume else None
                twin = done.get(_twin_key(spec, key))
                if run is not None and _matches(run, key, want_figures, out):
                    log.info("reusing %s", path)
                    reused.append((spec.key, seed))
                elif twin is not None and (not want_figures or (
                        twin.get("figures") is not None
                        and (spec.variant or twin["row"].get("variant") is None))):
                    # the same method, parameters and seed under another name (e.g. corrnet and
                    # corrnet[L1+L2+L3+L4]): one fit serves both (and its figures, if they are
                    # the kinds this name needs)
                    log.info("%s seed %d is the same run as %s", spec.key, seed,
                             twin["key"]["spec"])
                    run = {**twin, "key": key, "same_as": twin["key"]["spec"],
                           "row": {**twin["row"], "method": spec.key, "variant": spec.variant}}
                    _write_json(path, run)
                    reused.append((spec.key, seed))
                else:
                    run = _fit_one(spec, info, seed, data, plan[spec.key], key, verbose,
                                   want_figures, proto, split, out)
                    _write_json(path, run)
                    fitted.append((spec.key, seed))
                rows.append(run["row"])
                done.setdefault(_twin_key(spec, key), run)
                if i == 0 and run.get("dim_corr"):
                    dim_corr[spec.key] = run["dim_corr"]
                bar.update(1)
    finally:
        bar.close()
    return _write_outputs(out, proto, specs, seed_list, rows, fitted, reused, dim_corr,
                          fingerprint, figures, eval_split)


def _twin_key(spec: MethodSpec, key: dict) -> str:
    """Method, seed and every parameter (defaults filled in): equal keys mean the same fit."""
    full = _jsonable({**_accepted(spec.method), **key["params"]})
    return json.dumps([spec.method, key["seed"], key["eval_split"], full], sort_keys=True)


def _matches(run: dict, key: dict, want_figures: bool, out: Path) -> bool:
    if _jsonable(run.get("key")) != _jsonable(key):
        return False
    if want_figures:
        figs = run.get("figures")
        return figs is not None and all((out / f).is_file() for f in figs)
    return True


_warmed_up = False


def _warm_up_torch() -> None:
    """Take one optimiser step on a tiny network, untimed.

    PyTorch imports much of itself (about 2 s on a laptop CPU) on a process's first optimiser
    step; without this the first deep method's fit time would include it.
    """
    global _warmed_up
    if _warmed_up:
        return
    import torch

    layer = torch.nn.Linear(2, 1)
    opt = torch.optim.Adam(layer.parameters())
    layer(torch.zeros(1, 2)).sum().backward()
    opt.step()
    _warmed_up = True


def _fit_one(spec, info, seed, data, params, key, verbose, want_figures, proto, split, out):
    """Fit and score one method × seed; return its run record (figures drawn if asked)."""
    if info.deep:
        _warm_up_torch()
    result = run_method(spec.method, data, params=params, seed=seed,
                        eval_split=key["eval_split"], verbose=verbose, keep_model=want_figures)
    stored = {k: v for k, v in result.params.items() if k != "verbose"}
    row = {"method": spec.key, "base_method": spec.method, "variant": spec.variant,
           "seed": seed, **result.metrics,
           "params": json.dumps(_jsonable(stored), sort_keys=True)}
    run = {"format": RUN_FORMAT, "key": key, "row": row, "finished": time.time(),
           "dim_corr": None, "figures": None}
    if result.model is not None:
        run["dim_corr"] = dimension_correlations(result.model, split)
        if want_figures:
            # a variant (a CorrNet loss combination) shows its training curves; its codes are
            # in the per-dimension correlation figure with the other methods
            kinds = ("training",) if spec.variant else KINDS
            paths = model_figures(result.model, spec.key, spec.slug, split, out / "figures",
                                  translates=info.translates, image_shape=proto.image_shape,
                                  kinds=kinds)
            run["figures"] = [p.relative_to(out).as_posix() for p in paths]
    return run


def _summary(specs, rows) -> dict[str, dict]:
    from .tables import summarise_rows

    out = {}
    for spec in specs:
        mine = [r for r in rows if r["method"] == spec.key]
        out[spec.key] = {"method": spec.method, "variant": spec.variant, "n_seeds": len(mine),
                         "metrics": summarise_rows(mine)}
    return out


def _write_outputs(out, proto, specs, seed_list, rows, fitted, reused, dim_corr, fingerprint,
                   figures, eval_split) -> BenchmarkResult:
    from .html_report import write_report
    from .tables import ablation_table, methods_table

    summary = _summary(specs, rows)
    split_name = "test" if eval_split == "test" else "validation"
    main = {k: v for k, v in summary.items() if v["variant"] is None}
    ablation = {k: v for k, v in summary.items() if v["method"] == "corrnet" and v["variant"]}
    tables = []
    if main:
        tables.append(methods_table(
            main, proto.name, f"Methods on the {split_name} split (mean ± std over seeds)"))
    if ablation:
        tables.append(ablation_table(
            ablation, f"CorrNet loss combinations on the {split_name} split "
                      "(mean ± std over seeds)"))

    fig_paths: dict[str, list[Path]] = {}
    if figures:
        from .plots import plot_dimension_correlations

        if dim_corr:
            fig_paths["all methods"] = [plot_dimension_correlations(
                dim_corr, out / "figures" / "dimension-correlations.png")]
        for spec in specs:
            run = _load_run(out / "runs" / f"{spec.slug}-seed{seed_list[0]}.json") or {}
            fig_paths[spec.key] = [out / f for f in run.get("figures") or []]

    header = {"protocol": {"name": proto.name, "description": proto.description,
                           "image_shape": proto.image_shape, "eval_split": eval_split},
              "data": fingerprint, "machine": machine_info(), "seeds": seed_list,
              "methods": [s.key for s in specs],
              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    files = {"json": out / "results.json", "csv": out / "results.csv",
             "markdown": out / "results.md", "html": out / "report.html"}
    _write_json(files["json"], {**header, "rows": rows, "summary": summary})
    _write_csv(files["csv"], rows)
    md = [f"# crossview benchmark: {proto.name}", "", proto.description, "",
          *(t.to_markdown() + "\n" for t in tables),
          f"Machine: {_machine_line(header['machine'])}.", ""]
    files["markdown"].write_text("\n".join(md))
    all_figs = [p for ps in fig_paths.values() for p in ps]
    write_report(files["html"], proto, tables, fig_paths, header)
    return BenchmarkResult(out, proto, rows, summary, fitted, reused, all_figs, files, tables)


def _write_csv(path: Path, rows: list[dict]) -> None:
    extra = sorted({k for r in rows for k in r} - set(ROW_COLUMNS))
    cols = [*ROW_COLUMNS, *extra]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols, restval="")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if v is None or (isinstance(v, float) and math.isnan(v))
                                 else v) for k, v in r.items()})


def _machine_line(m: dict) -> str:
    parts = [m.get("platform") or "", f"{m.get('cpu_count')} x {m.get('cpu') or 'CPU'}",
             f"Python {m.get('python')}", f"torch {m.get('torch')}", f"numpy {m.get('numpy')}"]
    if m.get("cuda"):
        parts.append(f"GPU {m['cuda']}")
    return ", ".join(p for p in parts if p)
