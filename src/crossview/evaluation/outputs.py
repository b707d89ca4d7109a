"""The benchmark's result files: results.json / .csv / .md and report.html, with the machine.

Every file is written atomically (:mod:`crossview.fileio`), so an interrupted run never leaves
a half-written one. The tables are built once and rendered as Markdown and as HTML, so
``results.md`` and ``report.html`` always show the same numbers.
"""

from __future__ import annotations

import csv
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

from .. import registry
from ..fileio import atomic_write, write_text
from .html_report import write_report
from .run_cache import load_run, run_path, save_json
from .tables import Table, methods_table, summarise_rows, variants_table

#: column order of results.csv (metrics a method lacks are empty); other keys follow, sorted
ROW_COLUMNS = (
    "method",
    "base_method",
    "variant",
    "seed",
    "sum_corr",
    "canonical_sum_corr",
    "transfer_x_to_y",
    "transfer_y_to_x",
    "mse_y_from_x",
    "mse_x_from_y",
    "fit_seconds",
    "peak_mb",
    "n_components",
    "n_train",
    "epochs_run",
    "samples_per_second",
    "seconds_per_epoch",
    "n_parameters",
    "eval_split",
    "params",
)


def machine_info() -> dict:
    """Versions and hardware that the timings depend on."""
    import sklearn

    from .._version import __version__

    info = {
        "crossview": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "threads_env": {
            k: os.environ[k]
            for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
            if k in os.environ
        },
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:  # torch is optional for the linear and kernel methods
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


def machine_line(m: dict) -> str:
    """One line of :func:`machine_info`: platform, CPU, Python, torch, numpy, GPU."""
    parts = [
        m.get("platform") or "",
        f"{m.get('cpu_count')} x {m.get('cpu') or 'CPU'}",
        f"Python {m.get('python')}",
        f"torch {m.get('torch')}",
        f"numpy {m.get('numpy')}",
    ]
    if m.get("cuda"):
        parts.append(f"GPU {m['cuda']}")
    return ", ".join(p for p in parts if p)


def summarise(specs, rows: list[dict]) -> dict[str, dict]:
    """Spec key -> ``{"method", "variant", "n_seeds", "metrics": {metric: mean, std, n}}``."""
    out = {}
    for spec in specs:
        mine = [r for r in rows if r["method"] == spec.key]
        out[spec.key] = {
            "method": spec.method,
            "variant": spec.variant,
            "n_seeds": len(mine),
            "metrics": summarise_rows(mine),
        }
    return out


def result_tables(summary: dict[str, dict], protocol: str, eval_split: str) -> list[Table]:
    """The methods table, then one table of variants per method that has variants here."""
    split_name = "test" if eval_split == "test" else "validation"
    tables = []
    main = {k: v for k, v in summary.items() if v["variant"] is None}
    if main:
        tables.append(
            methods_table(
                main, protocol, f"Methods on the {split_name} split (mean ± std over seeds)"
            )
        )
    for method in dict.fromkeys(v["method"] for v in summary.values() if v["variant"]):
        cls = registry.get(method).load()
        doc = getattr(cls, "VARIANT_TABLE", {})
        variants = {k: v for k, v in summary.items() if v["method"] == method and v["variant"]}
        tables.append(
            variants_table(
                variants,
                f"{cls.__name__} {doc.get('kind', 'variants')} on the {split_name} split "
                "(mean ± std over seeds)",
                column=doc.get("column", "variant"),
                note=doc.get("note"),
            )
        )
    return tables


def write_csv(path: Path, rows: list[dict]) -> Path:
    """Write one row per method and seed; columns :data:`ROW_COLUMNS`, then the others."""
    extra = sorted({k for r in rows for k in r} - set(ROW_COLUMNS))
    with atomic_write(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*ROW_COLUMNS, *extra], restval="")
        writer.writeheader()
        for r in rows:
            writer.writerow(
                {
                    k: ("" if v is None or (isinstance(v, float) and math.isnan(v)) else v)
                    for k, v in r.items()
                }
            )
    return Path(path)


def write_outputs(
    out: Path,
    proto,
    specs,
    seeds: list[int],
    rows: list[dict],
    dim_corr: dict[str, list[float]],
    fingerprint: dict,
    figures: bool,
    eval_split: str,
) -> dict:
    """Write results.json / .csv / .md, the per-dimension figure and report.html.

    Returns ``{"summary", "tables", "figures" (every PNG shown), "files" (kind -> path)}``.
    """
    summary = summarise(specs, rows)
    tables = result_tables(summary, proto.name, eval_split)
    fig_paths: dict[str, list[Path]] = {}
    if figures:
        from .plots import plot_dimension_correlations

        if dim_corr:
            fig_paths["all methods"] = [
                plot_dimension_correlations(
                    dim_corr, out / "figures" / "dimension-correlations.png"
                )
            ]
        for spec in specs:
            run = load_run(run_path(out / "runs", spec, seeds[0])) or {}
            fig_paths[spec.key] = [out / f for f in run.get("figures") or []]

    header = {
        "protocol": {
            "name": proto.name,
            "description": proto.description,
            "image_shape": proto.image_shape,
            "eval_split": eval_split,
        },
        "data": fingerprint,
        "machine": machine_info(),
        "seeds": seeds,
        "methods": [s.key for s in specs],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    files = {
        "json": out / "results.json",
        "csv": out / "results.csv",
        "markdown": out / "results.md",
        "html": out / "report.html",
    }
    save_json(files["json"], {**header, "rows": rows, "summary": summary})
    write_csv(files["csv"], rows)
    md = [
        f"# crossview benchmark: {proto.name}",
        "",
        proto.description,
        "",
        *(t.to_markdown() + "\n" for t in tables),
        f"Machine: {machine_line(header['machine'])}.",
        "",
    ]
    write_text(files["markdown"], "\n".join(md))
    write_report(files["html"], proto, tables, fig_paths, header)
    return {
        "summary": summary,
        "tables": tables,
        "files": files,
        "figures": [p for ps in fig_paths.values() for p in ps],
    }
