"""The label-linked benchmark: fit label-linked methods, score translations both ways, compare
with the class-mean floor and a paired ceiling.

The protocols (docs/protocols.md, "Label-linked"): A, MNIST halves with the pairing removed
(:func:`crossview.datasets.load_mnist_unpaired`), with 0 or more known pairs; B, 8x8 digit
scans and MNIST images (:func:`crossview.datasets.load_digits_mnist`); C, semi-paired CorrNet
on MNIST halves. Each method is fitted once per seed; methods that declare ``OUTPUTS`` (e.g.
ClassConditionalMap's soft / hard / sample) are scored for each output from that one fit.
:func:`run_protocol` runs a whole protocol into a folder (``crossview benchmark
label-linked``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from .. import registry
from ..exceptions import CrossviewError
from .label_metrics import (
    label_match_accuracy,
    partner_mse,
    partner_retrieval,
    per_class_energy_distance,
)
from .plots import _save


def class_means(A: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The mean row of each class (rows of ``A`` with that label), in the order of ``classes``."""
    return np.stack([A[labels == c].mean(axis=0) for c in classes])


def score_direction(T_hat, src_labels, T_real, real_labels, partners=None, energy_rows=1000):
    """Scores of translations ``T_hat`` of rows labelled ``src_labels``, against the real rows
    ``T_real`` (and, when known, each row's true partner ``partners``)."""
    out = {
        "label_match": 100 * label_match_accuracy(T_hat, src_labels, T_real, real_labels),
        "energy": per_class_energy_distance(
            T_hat, src_labels, T_real, real_labels, max_rows=energy_rows
        )["mean"],
    }
    if partners is not None:
        out["mse"] = partner_mse(T_hat, partners)
        out["p@1"] = 100 * partner_retrieval(T_hat, partners, k=1)["p@1"]
    return out


def _directions(data):
    """(name, source rows, source labels, real target rows, target labels, partners) per way."""
    paired = data.test_paired
    return (
        (
            "xy",
            data.X_test,
            data.x_test_labels,
            data.Y_test,
            data.y_test_labels,
            data.Y_test if paired else None,
        ),
        (
            "yx",
            data.Y_test,
            data.y_test_labels,
            data.X_test,
            data.x_test_labels,
            data.X_test if paired else None,
        ),
    )


def score_translations(model, data, name: str) -> list[dict]:
    """Score a fitted label-linked model both ways, once per declared output."""
    outputs = getattr(type(model), "OUTPUTS", (None,))
    rows = []
    for output in outputs:
        if output is not None:
            model.set_params(output=output)
        row = {"method": name if output is None else f"{name}[{output}]"}
        for way, S, ls, T, lt, partners in _directions(data):
            T_hat = model.predict(S) if way == "xy" else model.predict_x(S)
            for k, v in score_direction(T_hat, ls, T, lt, partners).items():
                row[f"{k}_{way}"] = v
            labeler = getattr(model, "predict_label" if way == "xy" else "predict_label_y", None)
            if labeler is not None:
                row[f"classifier_accuracy_{way}"] = 100 * float(np.mean(labeler(S) == ls))
        rows.append(row)
    return rows


def reference_rows(data, ceiling: tuple[str, ...] = ("ridge",), seed: int = 0, verbose=False):
    """The floor (each test row's true class mean, from the training rows of the other view)
    and, for paired test data, paired ceilings fitted on ``X_paired`` / ``Y_paired``."""
    classes = np.unique(data.y_labels)
    mu_y, mu_x = (
        class_means(data.Y, data.y_labels, classes),
        class_means(data.X, data.x_labels, classes),
    )
    floor = {"method": "floor (true class mean)"}
    for way, _S, ls, T, lt, partners in _directions(data):
        mu = mu_y if way == "xy" else mu_x
        T_hat = mu[np.searchsorted(classes, ls)]
        floor.update(
            {f"{k}_{way}": v for k, v in score_direction(T_hat, ls, T, lt, partners).items()}
        )
    rows = [floor]
    if not data.test_paired or data.X_paired is None:
        return rows
    for name in ceiling:
        cls = registry.get(name, task="paired").load()
        params = {"random_state": seed, "verbose": verbose} if registry.get(name).deep else {}
        t0 = time.perf_counter()
        model = cls(**params).fit(data.X_paired, data.Y_paired)
        row = {
            "method": f"ceiling: {name} on {len(data.X_paired)} pairs",
            "fit_seconds": time.perf_counter() - t0,
        }
        for way, S, ls, T, lt, partners in _directions(data):
            T_hat = model.predict(S) if way == "xy" else model.predict_x(S)
            row.update(
                {f"{k}_{way}": v for k, v in score_direction(T_hat, ls, T, lt, partners).items()}
            )
        rows.append(row)
    return rows


def run_label_linked(
    data, methods, *, seed: int = 0, method_params: dict | None = None, verbose: bool = False
) -> tuple[list[dict], dict]:
    """Fit each label-linked method on ``data`` and score it; returns (rows, fitted models)."""
    rows, models = [], {}
    for name in methods:
        info = registry.get(name, task="label-linked")
        cls = info.load()
        params = dict((method_params or {}).get(name, {}))
        sig = cls().get_params()
        for key, value in (("random_state", seed), ("verbose", verbose)):
            if key in sig:
                params.setdefault(key, value)
        t0 = time.perf_counter()
        model = cls(**params).fit(data.X, data.x_labels, data.Y, data.y_labels, pairs=data.pairs)
        seconds = time.perf_counter() - t0
        for row in score_translations(model, data, name):
            rows.append(row | {"fit_seconds": seconds, "n_pairs": len(data.pairs), "seed": seed})
        models[name] = model
    return rows, models


def gap_closed(mse: float, floor: float, ceiling: float) -> float:
    """The share (in %) of the floor-to-ceiling MSE gap a method closes."""
    if not floor > ceiling:
        raise CrossviewError(f"the floor MSE {floor} is not above the ceiling {ceiling}")
    return 100 * (floor - mse) / (floor - ceiling)


def plot_translations(data, model, path, *, n_per_class: int = 2, title: str = "") -> Path:
    """Rows of X next to their translations into Y and real Y rows of the same class, and back.

    One row of panels per class: ``n_per_class`` source images of X, their translations, and as
    many real images of Y of that class; then the same from Y to X.
    """
    sx, sy = data.shapes
    classes = np.unique(data.x_test_labels)
    k = n_per_class
    fig = Figure(figsize=(1.0 * 6 * k, 0.9 * len(classes) + 0.6))
    axes = fig.subplots(len(classes), 6 * k, squeeze=False)
    for r, c in enumerate(classes):
        xs = np.flatnonzero(data.x_test_labels == c)[:k]
        ys = np.flatnonzero(data.y_test_labels == c)[:k]
        panels = [
            *(data.X_test[i].reshape(sx) for i in xs),
            *(t.reshape(sy) for t in model.predict(data.X_test[xs])),
            *(data.Y_test[i].reshape(sy) for i in ys[::-1]),
            *(data.Y_test[i].reshape(sy) for i in ys),
            *(t.reshape(sx) for t in model.predict_x(data.Y_test[ys])),
            *(data.X_test[i].reshape(sx) for i in xs[::-1]),
        ]
        for j, img in enumerate(panels):
            ax = axes[r, j]
            ax.imshow(np.clip(img, 0, 1), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
    heads = ["X", "X -> Y", "real Y", "Y", "Y -> X", "real X"]
    for j, head in enumerate(heads):
        axes[0, j * k].set_title(head, fontsize=8, loc="left")
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def add_gap(rows: list[dict]) -> None:
    """Add ``gap_xy`` / ``gap_yx`` (MSE gap closed, %) to rows scored with true partners, using
    the floor and the first ceiling row among them."""
    floor = next((r for r in rows if r["method"].startswith("floor")), None)
    ceiling = next((r for r in rows if r["method"].startswith("ceiling")), None)
    if floor is None or ceiling is None:
        return
    for row in rows:
        for way in ("xy", "yx"):
            key = f"mse_{way}"
            if key in row and floor[key] > ceiling[key]:
                row[f"gap_{way}"] = gap_closed(row[key], floor[key], ceiling[key])


_HEADS = {
    "label_match": ("label match %", "{:.1f}"),
    "classifier_accuracy": ("classifier %", "{:.1f}"),
    "energy": ("energy", "{:.3f}"),
    "mse": ("MSE", "{:.4f}"),
    "gap": ("gap closed %", "{:.0f}"),
    "p@1": ("P@1 %", "{:.1f}"),
}


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table: both directions of every score that some row has, the
    known pairs and the fit time (means over seeds for rows of the same method and pairs)."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["method"], row.get("n_pairs", "")), []).append(row)
    keys = [
        f"{k}_{way}" for k in _HEADS for way in ("xy", "yx") if any(f"{k}_{way}" in r for r in rows)
    ]
    head = [
        "method",
        "pairs",
        *(f"{_HEADS[k[:-3]][0]} {'X→Y' if k.endswith('xy') else 'Y→X'}" for k in keys),
        "fit s",
        "seeds",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (method, n_pairs), group in groups.items():
        cells = [method, str(n_pairs)]
        for k in keys:
            vals = [r[k] for r in group if k in r]
            cells.append(_HEADS[k[:-3]][1].format(np.mean(vals)) if vals else "")
        secs = [r["fit_seconds"] for r in group if "fit_seconds" in r]
        cells += [f"{np.median(secs):.0f}" if secs else "", str(len(group))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_rows_csv(path, rows: list[dict]) -> Path:
    """Write the rows as CSV (atomically), columns in the order they first appear."""
    import csv

    from ..fileio import atomic_write

    columns = list(dict.fromkeys(k for r in rows for k in r))
    with atomic_write(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def semi_paired_split(X, Y, fraction: float, seed: int = 0):
    """Cut paired training views into ``fraction`` paired rows and single-view rows.

    The paired rows are a seeded random ``fraction`` of the rows; of the others, half (at
    random) give only their X row and the rest only their Y row, so no item is seen in both
    views unless it is paired. Returns ``(X_pairs, Y_pairs, X_only, Y_only)``.
    """
    if not 0 < fraction < 1:
        raise CrossviewError(f"the paired fraction must be between 0 and 1, got {fraction}")
    order = np.random.default_rng(seed).permutation(len(X))
    k = max(2, int(round(fraction * len(X))))
    paired, rest = order[:k], order[k:]
    half = len(rest) // 2
    return X[paired], Y[paired], X[rest[:half]], Y[rest[half:]]


def run_semi_paired(data, fraction: float, *, seed: int = 0, params=None, verbose=False):
    """CorrNet on ``fraction`` of the training pairs alone, and with the other rows as
    single-view rows (half as X only, half as Y only); scored on the test split with the
    paired protocol (sum correlation, transfer accuracy, cross-reconstruction)."""
    from ..deep.corrnet import CorrNet
    from .scores import score_model as score_paired

    Xp, Yp, Xo, Yo = semi_paired_split(data.train.X, data.train.Y, fraction, seed)
    rows = []
    for label, extra in (("pairs only", {}), ("semi-paired", {"X_only": Xo, "Y_only": Yo})):
        model = CorrNet(random_state=seed, verbose=verbose, **(params or {}))
        t0 = time.perf_counter()
        model.fit(Xp, Yp, **extra)
        seconds = time.perf_counter() - t0
        scores = score_paired(model, data.test.X, data.test.Y, data.test.labels)
        rows.append(
            {
                "method": f"corrnet ({label})",
                "paired_fraction": fraction,
                "n_pairs": len(Xp),
                "n_single": len(Xo) + len(Yo) if extra else 0,
                "seed": seed,
                "fit_seconds": seconds,
                **scores,
            }
        )
    return rows


def semi_paired_table(rows: list[dict]) -> str:
    """The semi-paired rows as a Markdown table (means over seeds)."""
    cols = [
        ("sum_corr", "sum corr", "{:.2f}"),
        ("transfer_x_to_y", "transfer X→Y %", "{:.2f}"),
        ("transfer_y_to_x", "transfer Y→X %", "{:.2f}"),
        ("mse_y_from_x", "MSE Y from X", "{:.4f}"),
        ("mse_x_from_y", "MSE X from Y", "{:.4f}"),
        ("fit_seconds", "fit s", "{:.0f}"),
    ]
    head = ["method", "paired rows", "single-view rows", *(c[1] for c in cols), "seeds"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["method"], r["n_pairs"], r["n_single"]), []).append(r)
    for (method, n_pairs, n_single), group in groups.items():
        cells = [method, str(n_pairs), str(n_single)]
        cells += [fmt.format(np.mean([g[key] for g in group])) for key, _, fmt in cols]
        lines.append("| " + " | ".join(cells + [str(len(group))]) + " |")
    return "\n".join(lines)


class MarkdownTable:
    """A Markdown table (as :func:`markdown_table` writes it) that renders as HTML too, for
    :func:`crossview.evaluation.html_report.write_report`."""

    def __init__(self, markdown: str):
        self.markdown = markdown

    def to_html(self) -> str:
        import html

        lines = [ln for ln in self.markdown.splitlines() if ln.startswith("|")]
        rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]
        head, body = rows[0], rows[2:]
        cells = "".join(f"<th>{html.escape(c)}</th>" for c in head)
        out = [f"<table><thead><tr>{cells}</tr></thead><tbody>"]
        for row in body:
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
        return "".join(out) + "</tbody></table>"


def write_html_report(out: Path, name: str, description: str, table: str, header: dict) -> Path:
    """``report.html`` in ``out`` titled ``name``: the table and every figure in
    ``out/figures``, by method."""
    from types import SimpleNamespace

    from .html_report import write_report

    figures: dict[str, list[Path]] = {}
    for path in sorted((Path(out) / "figures").glob("*.png")):
        figures.setdefault(path.stem.split("-pairs")[0], []).append(path)
    protocol = SimpleNamespace(name=name, description=description)
    return write_report(
        Path(out) / "report.html", protocol, [MarkdownTable(table)], figures, header
    )


def load_run(path: Path, params: dict) -> list[dict] | None:
    """The rows of a finished run saved by :func:`save_run`, if it ran with ``params``."""
    import json

    from .run_cache import jsonable

    path = Path(path)
    if not path.is_file():
        return None
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # unreadable: fit again
    if isinstance(saved, list):  # rows alone: a run with every default
        saved = {"params": {}, "rows": saved}
    if jsonable(saved.get("params", {})) != jsonable(params):
        return None
    return saved["rows"]


def save_run(path: Path, params: dict, rows: list[dict]) -> None:
    """Keep a finished run's rows with the settings it ran with (atomically)."""
    from .run_cache import save_json

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_json(Path(path), {"params": params, "rows": rows})


#: the label-linked protocols of :func:`run_protocol`
PROTOCOLS = ("mnist-unpaired", "digits-mnist", "semi-paired")


def run_protocol(
    protocol: str,
    out,
    *,
    methods=None,
    pairs=(0,),
    ceiling=("ridge",),
    fractions=(0.01, 0.1),
    seeds=(0,),
    method_params: dict | None = None,
    data_dir=None,
    download: bool = True,
    figures: bool = True,
    resume: bool = True,
    verbose: bool = True,
) -> str:
    """Run one label-linked protocol into folder ``out`` and return its Markdown table.

    Writes ``results.md`` / ``.csv`` / ``.json``, ``report.html``, figures of translations
    (``figures/``, first seed) and each finished run in ``runs/``; with ``resume`` a kept run
    fitted with the same settings is reused. ``methods``: label-linked methods (default all);
    ``pairs``: known-pair counts (mnist-unpaired); ``ceiling``: paired methods fitted on the
    true pairs; ``fractions``: shares of paired rows (semi-paired).
    """
    from ..fileio import write_text
    from .outputs import machine_info
    from .run_cache import save_json

    if protocol not in PROTOCOLS:
        raise CrossviewError(f"unknown protocol {protocol!r}; expected one of {PROTOCOLS}")
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    params = dict(method_params or {})
    methods = list(methods or registry.names("label-linked"))
    for m in methods:
        registry.get(m, task="label-linked")
    for c in ceiling:
        registry.get(c, task="paired")
    pairs = sorted(set(pairs))
    if protocol == "digits-mnist" and pairs != [0]:
        raise CrossviewError("digits-mnist has no true pairs; drop --pairs")
    from tqdm.auto import tqdm

    n_runs = len(seeds) * (
        len(fractions) if protocol == "semi-paired" else len(pairs) * len(methods)
    )
    bar = tqdm(total=n_runs, desc=f"label-linked {protocol}", unit="run", disable=not verbose)
    rows: list[dict] = []
    if protocol == "semi-paired":
        from ..datasets import load_mnist_halves

        halves = load_mnist_halves(data_dir, download=download, verbose=verbose)
        corrnet = params.get("corrnet", {})
        for seed in seeds:
            for share in fractions:
                path = out / "runs" / f"semi-paired-{share:g}-seed{seed}.json"
                found = load_run(path, corrnet) if resume else None
                if found is None:
                    found = run_semi_paired(
                        halves, share, seed=seed, params=corrnet, verbose=verbose
                    )
                    save_run(path, corrnet, found)
                rows += found
                bar.update(1)
        table = semi_paired_table(rows)
        methods = ["corrnet"]
        description = "CorrNet on MNIST halves: some rows paired, the others in one view only"
    else:
        from ..datasets import load_digits_mnist, load_mnist_unpaired

        for seed in seeds:
            for k in pairs:
                if protocol == "mnist-unpaired":
                    data = load_mnist_unpaired(
                        data_dir, n_pairs=k, random_state=seed, download=download, verbose=verbose
                    )
                else:
                    data = load_digits_mnist(
                        data_dir, random_state=seed, download=download, verbose=verbose
                    )
                if k == pairs[0]:  # the references need no pairs: once per seed
                    path = out / "runs" / f"references-seed{seed}.json"
                    settings = {"ceiling": list(ceiling)}
                    found = load_run(path, settings) if resume else None
                    if found is None:
                        found = reference_rows(data, ceiling, seed=seed, verbose=verbose)
                        found = [r | {"seed": seed, "n_pairs": ""} for r in found]
                        save_run(path, settings, found)
                    rows += found
                for m in methods:
                    path = out / "runs" / f"{m}-pairs{k}-seed{seed}.json"
                    found = load_run(path, params.get(m, {})) if resume else None
                    if found is None:
                        found, models = run_label_linked(
                            data, [m], seed=seed, method_params=params, verbose=verbose
                        )
                        save_run(path, params.get(m, {}), found)
                        if figures and data.shapes and seed == seeds[0]:
                            _translation_figures(data, models[m], m, k, out, protocol)
                    rows += found
                    bar.update(1)
        add_gap(rows)
        table = markdown_table(rows)
        description = data.description
    bar.close()
    write_rows_csv(out / "results.csv", rows)
    machine = machine_info()
    save_json(out / "results.json", {"protocol": protocol, "machine": machine, "rows": rows})
    write_text(out / "results.md", f"# label-linked: {protocol}\n\n{table}\n")
    header = {"methods": methods, "seeds": list(seeds), "machine": machine}
    write_html_report(out, f"label-linked {protocol}", description, table, header)
    return table


def _translation_figures(data, model, name: str, n_pairs: int, out: Path, protocol: str):
    """One figure per declared output of ``model`` (or one figure)."""
    for output in getattr(type(model), "OUTPUTS", (None,)):
        if output is not None:
            model.set_params(output=output)
        tag = name if output is None else f"{name}-{output}"
        plot_translations(
            data,
            model,
            out / "figures" / f"{tag}-pairs{n_pairs}.png",
            title=f"{protocol}: {tag}, {n_pairs} pairs",
        )
