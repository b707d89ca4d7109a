"""Run several methods over several seeds with one protocol; write tables, figures and a report.

:func:`run_benchmark` fits every method × seed through :func:`~.runner.run_method` and writes,
into one folder:

- ``runs/<method>-seed<k>.json``: one file per method and seed, written as soon as it is done;
  a rerun into the same folder reuses the runs whose method, seed, parameters, evaluation split
  and data are unchanged (resume; :mod:`.run_cache`);
- ``results.json`` / ``results.csv``: one row per method and seed (the JSON adds the protocol,
  the data and the machine);
- ``results.md``: methods against metrics (mean ± std over seeds) with published numbers beside
  ours (MNIST-halves protocol only), and a table of each method's variants when they were run;
- ``figures/*.png`` from the first seed's model of each method (reconstructions both ways,
  training curves, a 2-D map of the codes; for a variant only the training curves), one figure
  of every method's per-dimension test correlations, and ``report.html``: every table and
  figure on one offline page (:mod:`.outputs`).

Methods are registry names of paired methods, or a method's variant such as ``corrnet[L2+L3]``
(CorrNet with the paper's L2 / L3 cross-reconstruction terms only; :mod:`.specs`);
``ablation=True`` adds the variants each method lists in its class's ``ABLATION``. Presets per
data set are in :mod:`.protocols` (:data:`PRESETS`).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import registry
from ..exceptions import CrossviewError
from .benchmark_figures import KINDS, dimension_correlations, model_figures
from .outputs import write_outputs
from .protocols import PRESETS, Protocol, get_protocol
from .run_cache import (
    RUN_FORMAT,
    as_twin,
    data_fingerprint,
    jsonable,
    load_run,
    matches,
    run_key,
    run_path,
    save_json,
    twin_key,
    twin_serves,
)
from .runner import run_method
from .specs import check_method_params, method_specs, resolve_params

__all__ = ["PRESETS", "BenchmarkResult", "run_benchmark"]

log = logging.getLogger(__name__)


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


def seed_list(seeds) -> list[int]:
    """A count ``k`` -> seeds ``0..k-1``; a list of distinct integers as it is."""
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


def run_benchmark(
    data,
    methods=None,
    seeds=1,
    out_dir="benchmark",
    *,
    method_params=None,
    ablation: bool = False,
    resume: bool = True,
    verbose: bool = True,
    figures: bool = True,
    protocol=None,
    image_shape=None,
    eval_split: str = "test",
) -> BenchmarkResult:
    """Fit every method on ``data`` for every seed, score it, and write the results folder.

    Parameters
    ----------
    data : TwoViewDataset with train (fitting), val (early stopping of deep methods) and test.
    methods : names or specs (list, or one comma-separated string) of paired methods; ``None``
        runs the registered ones among :data:`.protocols.DEFAULT_METHODS` (cca, kcca, dcca,
        dccae, mae, corrnet). ``corrnet[L2+L3]`` etc. run CorrNet with only those loss terms.
    seeds : a count ``k`` (seeds ``0..k-1``) or a list of seeds.
    out_dir : folder for ``runs/``, ``results.*``, ``figures/`` and ``report.html``.
    method_params : ``{"corrnet": {"lam": 0.02}}``; a key may also be a spec
        (``"corrnet[L2+L3]"``) to set that variant only. Applied over :data:`PRESETS`.
    ablation : also run each method's ablation variants (CorrNet's four loss combinations of
        the paper, ``CorrNet.ABLATION``).
    resume : reuse ``runs/*.json`` whose method, seed, parameters, split and data match.
    verbose : progress bars (one over method × seed, and the deep methods' epoch bars).
    figures : draw the figures (from the first seed's model of each method) and embed them.
    protocol : "mnist-halves", "digits-halves", "custom" or a :class:`.protocols.Protocol`; by
        default chosen by ``data.name``. It sets the presets and whether published numbers are
        shown.
    image_shape : (height, width) of one view as an image, for the reconstruction figures
        (defaults to the protocol's: (28, 14) for MNIST halves, (8, 4) for digits halves).
    eval_split : "test" (reported numbers) or "val" (tuning).
    """
    from tqdm.auto import tqdm

    if eval_split not in ("val", "test"):
        raise CrossviewError(f"eval_split must be 'val' or 'test'; got {eval_split!r}")
    proto = get_protocol(protocol, data, image_shape)
    proto.check_views(data)
    specs = method_specs(methods, ablation)
    seeds = seed_list(seeds)
    options = check_method_params(method_params)
    plan = {spec.key: resolve_params(spec, proto, options, data) for spec in specs}
    out = Path(out_dir)
    runs_dir = out / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = data_fingerprint(data)
    split = getattr(data, eval_split)

    rows, fitted, reused, dim_corr, done = [], [], [], {}, {}
    bar = tqdm(total=len(specs) * len(seeds), disable=not verbose, unit="run", desc="benchmark")
    try:
        for spec in specs:
            for i, seed in enumerate(seeds):
                bar.set_description(f"{spec.key} seed {seed}")
                want_figures = figures and i == 0
                key = run_key(spec, seed, plan[spec.key], eval_split, fingerprint)
                path = run_path(runs_dir, spec, seed)
                run = load_run(path) if resume else None
                twin = done.get(twin_key(spec, key))
                if run is not None and matches(run, key, want_figures, out):
                    log.info("reusing %s", path)
                    reused.append((spec.key, seed))
                elif twin is not None and twin_serves(twin, spec, want_figures):
                    log.info(
                        "%s seed %d is the same run as %s", spec.key, seed, twin["key"]["spec"]
                    )
                    run = as_twin(twin, spec, key)
                    save_json(path, run)
                    reused.append((spec.key, seed))
                else:
                    run = _fit_one(
                        spec,
                        seed,
                        data,
                        plan[spec.key],
                        key,
                        verbose,
                        want_figures,
                        proto,
                        split,
                        out,
                    )
                    save_json(path, run)
                    fitted.append((spec.key, seed))
                rows.append(run["row"])
                done.setdefault(twin_key(spec, key), run)
                if i == 0 and run.get("dim_corr"):
                    dim_corr[spec.key] = run["dim_corr"]
                bar.update(1)
    finally:
        bar.close()
    written = write_outputs(
        out, proto, specs, seeds, rows, dim_corr, fingerprint, figures, eval_split
    )
    return BenchmarkResult(
        out,
        proto,
        rows,
        written["summary"],
        fitted,
        reused,
        written["figures"],
        written["files"],
        written["tables"],
    )


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


def _fit_one(spec, seed, data, params, key, verbose, want_figures, proto, split, out) -> dict:
    """Fit and score one method × seed; return its run record (figures drawn if asked)."""
    if registry.get(spec.method, task="paired").deep:
        _warm_up_torch()
    result = run_method(
        spec.method,
        data,
        params=params,
        seed=seed,
        eval_split=key["eval_split"],
        verbose=verbose,
        keep_model=want_figures,
    )
    stored = {k: v for k, v in result.params.items() if k != "verbose"}
    row = {
        "method": spec.key,
        "base_method": spec.method,
        "variant": spec.variant,
        "seed": seed,
        **result.metrics,
        "params": json.dumps(jsonable(stored), sort_keys=True),
    }
    run = {
        "format": RUN_FORMAT,
        "key": key,
        "row": row,
        "finished": time.time(),
        "dim_corr": None,
        "figures": None,
    }
    if result.model is not None:
        run["dim_corr"] = dimension_correlations(result.model, split)
        if want_figures:
            # a variant shows its training curves; its codes are in the per-dimension
            # correlation figure with the other methods
            kinds = ("training",) if spec.variant else KINDS
            paths = model_figures(
                result.model,
                spec.key,
                spec.slug,
                split,
                out / "figures",
                image_shape=proto.image_shape,
                kinds=kinds,
            )
            run["figures"] = [p.relative_to(out).as_posix() for p in paths]
    return run
