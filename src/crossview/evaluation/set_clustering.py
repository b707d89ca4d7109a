"""The set-clustering benchmark: every method and baseline on one split, one table.

Protocols (:data:`PROTOCOLS`):

- ``mnist-instance-sets``: sets of transformed copies of 3-10 MNIST base images
  (:func:`crossview.datasets.instance_sets.load_mnist_instance_sets`), test instances never
  seen in training;
- ``context-sets``: synthetic sets whose items' categories can only be read relative to their
  set (:func:`crossview.datasets.instance_sets.make_context_sets`).

Each run fits one method variant on the training sets (the validation sets are not given to it:
a method that tunes its threshold holds out its own), predicts the test sets, and scores them
with :func:`crossview.evaluation.clustering_metrics.score_sets`; fit time and prediction speed
(test sets per second) go in the same row. The reference "oracle k-means" is given the true
categories and the true number of clusters of every set: k-means on PCA features of the raw
items within each true category.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import registry
from ..exceptions import CrossviewError
from .clustering_metrics import METRICS, score_sets

#: the set-clustering protocols of :func:`run_protocol`
PROTOCOLS = ("mnist-instance-sets", "context-sets")


@dataclass(frozen=True)
class Variant:
    """One row of the benchmark: a name, a registered method (or "oracle-kmeans") and settings."""

    name: str
    method: str
    params: dict = field(default_factory=dict)


#: the rows of each protocol, in table order
VARIANTS = {
    "mnist-instance-sets": (
        Variant("setclusterer", "setclusterer"),
        Variant("setclusterer[cnn]", "setclusterer", {"item_encoder": "cnn"}),
        Variant(
            "setclusterer[cnn, no set encoder]",
            "setclusterer",
            {"item_encoder": "cnn", "set_encoder": None},
        ),
        Variant("classifycluster[agglomerative]", "classifycluster"),
        Variant("classifycluster[hdbscan]", "classifycluster", {"clusterer": "hdbscan"}),
        Variant("oracle k-means (true categories, true k)", "oracle-kmeans"),
    ),
    "context-sets": (
        Variant("setclusterer", "setclusterer"),
        Variant("setclusterer[deepsets]", "setclusterer", {"set_encoder": "deepsets"}),
        Variant("setclusterer[no set encoder]", "setclusterer", {"set_encoder": None}),
        Variant("classifycluster[agglomerative]", "classifycluster"),
        Variant("oracle k-means (true categories, true k)", "oracle-kmeans"),
    ),
}


def load_protocol(protocol: str, *, seed: int = 0, data_dir=None, download=True, verbose=True):
    """(train, validation, test) :class:`~crossview.datasets.instance_sets.SetTable` of a
    protocol, seeded."""
    from ..datasets.instance_sets import load_mnist_instance_sets, make_context_sets

    if protocol == "mnist-instance-sets":
        return load_mnist_instance_sets(
            data_dir, random_state=seed, download=download, verbose=verbose
        )
    if protocol == "context-sets":
        return (
            make_context_sets(1000, random_state=seed),
            make_context_sets(100, random_state=seed + 1000, first_set=1000),
            make_context_sets(300, random_state=seed + 2000, first_set=2000),
        )
    raise CrossviewError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")


def oracle_kmeans(train, test, *, n_components: int = 50, seed: int = 0) -> np.ndarray:
    """Cluster ids of ``test`` from k-means given the true categories and the true number of
    clusters of each (set, category), on PCA features fitted on the training items."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    k = min(n_components, train.X.shape[1])
    F = PCA(k, random_state=seed).fit(train.X).transform(test.X) if k < test.X.shape[1] else test.X
    out = np.empty(len(test.X), dtype=np.int64)
    for s in np.unique(test.sets):
        rows = np.flatnonzero(test.sets == s)
        offset = 0
        for c in np.unique(test.categories[rows]):
            r = rows[test.categories[rows] == c]
            n_true = len(np.unique(test.clusters[r]))
            if n_true == 1:
                labels = np.zeros(len(r), dtype=np.int64)
            else:
                labels = KMeans(n_true, n_init=10, random_state=seed).fit_predict(F[r])
            out[r] = labels + offset
            offset += n_true
    return out


def run_variant(
    variant: Variant, train, test, *, seed: int = 0, params=None, verbose=False, speed=None
):
    """Fit one variant on ``train`` and score it on ``test``: one row of the table (and the
    fitted model, None for the oracle). ``speed``: a callable ``model -> seconds`` whose
    result goes in the row as ``speed_s`` (e.g. :func:`prediction_speed`)."""
    t0 = time.perf_counter()
    if variant.method == "oracle-kmeans":
        pred_cat, model = test.categories, None
        pred_clu = oracle_kmeans(train, test, seed=seed)
        fit_s, pred_s = float("nan"), time.perf_counter() - t0
    else:
        cls = registry.get(variant.method, task="clustering").load()
        kwargs = {**variant.params, **(params or {}), "random_state": seed}
        if "verbose" in cls().get_params():
            kwargs["verbose"] = verbose
        if "image_shape" in cls().get_params() and train.image_shape:
            kwargs.setdefault("image_shape", train.image_shape)
        model = cls(**kwargs).fit(train.X, train.categories, train.clusters, train.sets)
        fit_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        pred_cat, pred_clu = model.predict(test.X, test.sets)
        pred_s = time.perf_counter() - t1
    scores = score_sets(test.categories, test.clusters, pred_cat, pred_clu, test.sets)
    row = {"method": variant.name, "seed": seed, **{m: scores[m] for m in METRICS}}
    row |= {
        "fit_s": fit_s,
        "sets_per_s": scores["n_sets"] / pred_s if pred_s > 0 else float("nan"),
        "n_test_sets": scores["n_sets"],
    }
    if speed is not None and model is not None:
        row["speed_s"] = speed(model)
    return row, model, (pred_cat, pred_clu)


def markdown_table(rows: list[dict]) -> str:
    """Mean over seeds of each variant's scores, fit time and prediction speed, as Markdown."""
    names = list(dict.fromkeys(r["method"] for r in rows))
    cols = ["ari", "nmi", "accuracy", "count_error", "pair_f1", "category_accuracy"]
    head = (
        "| method | ARI | NMI | Hungarian acc. | count error | pair F1 | category acc. "
        "| fit s | test sets/s | 1,000 x 50 items s | seeds |"
    )
    lines = [head, "|" + "---|" * 11]
    for name in names:
        rs = [r for r in rows if r["method"] == name]
        vals = [f"{np.mean([r[c] for r in rs]):.4f}" for c in cols]
        fit = np.mean([r["fit_s"] for r in rs])
        speed = np.mean([r["sets_per_s"] for r in rs])
        fit_txt = "—" if np.isnan(fit) else f"{fit:.0f}"
        big = [r["speed_s"] for r in rs if "speed_s" in r]
        big_txt = f"{np.mean(big):.1f}" if big else "—"
        lines.append(
            f"| {name} | {' | '.join(vals)} | {fit_txt} | {speed:.0f} | {big_txt} | {len(rs)} |"
        )
    return "\n".join(lines)


def plot_sets(table, pred_cat, pred_clu, path, *, n_sets: int = 3, title: str = "") -> Path:
    """A figure of the first ``n_sets`` sets of ``table``: true clusters against predicted.

    Image items: one row per true cluster, each image titled with its predicted cluster (red
    when its category is predicted wrong). Other items: the first two features, colour = the
    predicted cluster, marker = the true cluster.
    """
    import matplotlib
    from matplotlib.figure import Figure

    from .plots import _save

    sets = list(dict.fromkeys(table.sets.tolist()))[:n_sets]
    if table.image_shape:
        rows_per = [len(np.unique(table.clusters[table.sets == s])) for s in sets]
        width = max(int(np.bincount(table.clusters[table.sets == s]).max()) for s in sets)
        width = min(width, 12)
        fig = Figure(figsize=(0.9 * width, 0.95 * sum(rows_per) + 0.4))
        axes = fig.subplots(sum(rows_per), width, squeeze=False)
        for ax in axes.ravel():
            ax.axis("off")
        r0 = 0
        for s, n_rows in zip(sets, rows_per):
            rows = np.flatnonzero(table.sets == s)
            for i, k in enumerate(np.unique(table.clusters[rows])):
                members = rows[table.clusters[rows] == k][:width]
                for j, item in enumerate(members):
                    ax = axes[r0 + i, j]
                    ax.imshow(table.X[item].reshape(table.image_shape), cmap="gray")
                    wrong = pred_cat[item] != table.categories[item]
                    ax.set_title(
                        f"set {s}: {pred_clu[item]}" if j == 0 else str(pred_clu[item]),
                        fontsize=6,
                        color="red" if wrong else "black",
                    )
            r0 += n_rows
    else:
        fig = Figure(figsize=(4 * len(sets), 4))
        axes = fig.subplots(1, len(sets), squeeze=False)[0]
        cmap = matplotlib.colormaps["tab20"]
        markers = "os^vD<>pPX*h"
        for ax, s in zip(axes, sets):
            rows = np.flatnonzero(table.sets == s)
            for item in rows:
                ax.scatter(
                    table.X[item, 0],
                    table.X[item, 1],
                    color=cmap(int(pred_clu[item]) % 20),
                    marker=markers[int(table.clusters[item]) % len(markers)],
                    s=25,
                )
            ax.set_title(f"set {s}: colour = predicted, marker = true cluster", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    return _save(fig, path)


def run_protocol(
    protocol: str,
    out,
    *,
    variants=None,
    seeds=(0,),
    method_params: dict | None = None,
    data_dir=None,
    download: bool = True,
    figures: bool = True,
    resume: bool = True,
    verbose: bool = True,
) -> str:
    """Run a set-clustering protocol into folder ``out`` and return its Markdown table.

    ``variants``: names from :data:`VARIANTS` (default all of the protocol);
    ``method_params``: extra parameters per registered method name (e.g.
    ``{"setclusterer": {"epochs": 5}}``). Writes ``results.md`` / ``.csv`` / ``.json``,
    ``report.html``, figures of the first seed's test sets, and each finished run in ``runs/``
    (reused with ``resume`` when it ran with the same settings).
    """
    from tqdm.auto import tqdm

    from ..fileio import write_text
    from .label_linked import load_run, save_run, write_html_report, write_rows_csv
    from .outputs import machine_info
    from .run_cache import save_json

    if protocol not in PROTOCOLS:
        raise CrossviewError(
            f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}"
        )
    known = {v.name: v for v in VARIANTS[protocol]}
    chosen = list(variants or known)
    for v in chosen:
        if v not in known:
            raise CrossviewError(
                f"unknown variant {v!r} of {protocol}; expected one of {', '.join(known)}"
            )
    params = dict(method_params or {})
    out = Path(out)
    (out / "runs").mkdir(parents=True, exist_ok=True)
    bar = tqdm(
        total=len(seeds) * len(chosen),
        desc=f"set-clustering {protocol}",
        unit="run",
        disable=not verbose,
    )
    rows = []
    for seed in seeds:
        train, _, test = load_protocol(
            protocol, seed=seed, data_dir=data_dir, download=download, verbose=verbose
        )
        for name in chosen:
            v = known[name]
            settings = {
                "params": {**v.params, **params.get(v.method, {})},
                "data": [train.name, len(train.X), test.name, len(test.X)],
            }
            tag = re.sub(r"[^A-Za-z0-9\[\]]+", "-", name).strip("-")
            path = out / "runs" / f"{tag}-seed{seed}.json"
            found = load_run(path, settings) if resume else None
            if found is None:
                speed = None
                if protocol == "mnist-instance-sets":

                    def speed(model):
                        return prediction_speed(model, data_dir=data_dir)

                row, _, (pc, pk) = run_variant(
                    v,
                    train,
                    test,
                    seed=seed,
                    params=params.get(v.method),
                    verbose=verbose,
                    speed=speed,
                )
                found = [row]
                save_run(path, settings, found)
                if figures and seed == seeds[0]:
                    plot_sets(
                        test, pc, pk, out / "figures" / f"{tag}.png", title=f"{protocol}: {name}"
                    )
            rows += found
            bar.update(1)
    bar.close()
    table = markdown_table(rows)
    write_rows_csv(out / "results.csv", rows)
    machine = machine_info()
    save_json(out / "results.json", {"protocol": protocol, "machine": machine, "rows": rows})
    write_text(out / "results.md", f"# set-clustering: {protocol}\n\n{table}\n")
    header = {"variants": chosen, "seeds": list(seeds), "machine": machine}
    description = (train.name or protocol).split("/")[0]
    write_html_report(out, f"set-clustering {protocol}", description, table, header)
    return table


def prediction_speed(model, n_sets: int = 1000, items: int = 50, *, data_dir=None, repeats=3):
    """Median seconds for ``model.predict`` on ``n_sets`` MNIST instance sets of exactly
    ``items`` items each (5 base images x 10 copies)."""
    from ..datasets.instance_sets import make_instance_sets
    from ..datasets.mnist import load_mnist_arrays

    arrays = load_mnist_arrays(data_dir, verbose=False)
    t = make_instance_sets(
        arrays["x_test"],
        arrays["y_test"],
        n_sets,
        bases=(5, 5),
        copies=(items // 5, items // 5),
        random_state=7,
    )
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict(t.X, t.sets)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))
