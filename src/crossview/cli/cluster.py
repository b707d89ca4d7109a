"""CLI commands for set clustering: `crossview cluster fit | predict | evaluate`."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from .. import registry
from ..exceptions import CrossviewError
from ..io import load_model
from . import app
from ._common import check_writable_folder, parse_params

cluster_app = typer.Typer(
    help="Categorise the items of sets and cluster each set (supervised by cluster ids).",
    no_args_is_help=True,
)
app.add_typer(cluster_app, name="cluster")

_DATA = typer.Option(..., "--data", help="Table with one row per item: .csv, .tsv or .parquet.")
_SET = typer.Option("set", "--set-col", help="Column of set ids.")
_CAT = typer.Option("category", "--category-col", help="Column of categories.")
_CLU = typer.Option("cluster", "--cluster-col", help="Column of cluster ids (within each set).")
_FEAT = typer.Option(
    None,
    "--features",
    help="Feature columns: comma-separated names or glob patterns (px*); default: all others.",
)


def _features(text: Optional[str]) -> Optional[list[str]]:
    return [f.strip() for f in text.split(",") if f.strip()] if text else None


def _clustering_model(model_dir: Path):
    model = load_model(model_dir)
    if registry.get(registry.name_of(model)).task != "clustering":
        raise CrossviewError(
            f"{model_dir} holds a {registry.name_of(model)} model, not a set-clustering model"
        )
    return model


@cluster_app.command("fit")
def fit_cmd(
    data: Path = _DATA,
    out: Path = typer.Option(..., "--out", help="Folder to write the model into."),
    method: str = typer.Option("setclusterer", "--method", help="A clustering method."),
    set_col: str = _SET,
    category_col: str = _CAT,
    cluster_col: str = _CLU,
    features: Optional[str] = _FEAT,
    param: Optional[list[str]] = typer.Option(
        None, "--param", "-p", help="Method parameter KEY=VALUE, repeatable (e.g. -p dim=64)."
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
):
    """Fit a set-clustering method on a table of items and save it to --out."""
    from ..clustering.table import read_table

    check_writable_folder(out, out)
    cls = registry.get(method, task="clustering").load()
    params = parse_params(cls, param)
    if "verbose" in inspect.signature(cls.__init__).parameters:
        params.setdefault("verbose", not quiet)
    table = read_table(data, set_col, category_col, cluster_col, _features(features))
    if not quiet:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    model = cls(**params).fit(table["X"], table["categories"], table["clusters"], table["sets"])
    model.save(out)
    if not quiet:
        n_sets = len(np.unique(table["sets"]))
        typer.echo(
            f"fitted {method} on {len(table['X'])} items in {n_sets} sets "
            f"({table['X'].shape[1]} features, {len(model.classes_)} categories); saved to {out}"
        )


@cluster_app.command("predict")
def predict_cmd(
    model_dir: Path = typer.Argument(..., help="Model folder written by `crossview cluster fit`."),
    data: Path = _DATA,
    out: Path = typer.Option(..., "--out", help="Predictions file (.csv or .tsv)."),
    set_col: str = _SET,
    category_col: str = typer.Option(
        "category", "--category-col", help="A category column to leave out of the features."
    ),
    cluster_col: str = typer.Option(
        "cluster", "--cluster-col", help="A cluster column to leave out of the features."
    ),
    features: Optional[str] = _FEAT,
):
    """Predict each item's category and cluster; write set, category, cluster per row."""
    from ..clustering.table import write_table

    check_writable_folder(Path(out).parent, out)
    model = _clustering_model(model_dir)
    table = _read_for(model, data, set_col, features, category_col, cluster_col)
    cats, clus = model.predict(table["X"], table["sets"])
    write_table(out, {"set": table["sets"], "category": cats, "cluster": clus})
    typer.echo(f"wrote {len(cats)} predictions to {out}")


def _read_for(model, data, set_col, features, category_col, cluster_col, labelled=False):
    """Read a table for ``model``; by default its features are every column but the set,
    category and cluster columns (the latter two need not be there)."""
    from ..clustering.table import read_table

    table = read_table(
        data,
        set_col,
        category_col if labelled else None,
        cluster_col if labelled else None,
        _features(features),
        exclude=(category_col, cluster_col),
    )
    if table["X"].shape[1] != model.n_features_in_:
        raise CrossviewError(
            f"{data} has {table['X'].shape[1]} feature columns; the model was fitted on "
            f"{model.n_features_in_} (name them with --features)"
        )
    return table


@cluster_app.command("evaluate")
def evaluate_cmd(
    model_dir: Path = typer.Argument(..., help="Model folder written by `crossview cluster fit`."),
    data: Path = _DATA,
    set_col: str = _SET,
    category_col: str = _CAT,
    cluster_col: str = _CLU,
    features: Optional[str] = _FEAT,
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the scores here."),
):
    """Score a model on a labelled table: ARI, NMI, Hungarian accuracy, count error, pairwise
    precision / recall / F1 and category accuracy, each per set and averaged."""
    from ..evaluation.clustering_metrics import METRICS, score_sets
    from ..fileio import write_json

    model = _clustering_model(model_dir)
    table = _read_for(model, data, set_col, features, category_col, cluster_col, True)
    cats, clus = model.predict(table["X"], table["sets"])
    true_cats = table["categories"]
    if true_cats.dtype.kind != np.asarray(model.classes_).dtype.kind:
        true_cats = true_cats.astype(str)
        cats = cats.astype(str)
    scores = score_sets(true_cats, table["clusters"], cats, clus, table["sets"])
    typer.echo(f"{scores['n_sets']} sets, {len(cats)} items")
    for m in METRICS:
        typer.echo(f"{m:<18} {scores[m]:.4f}")
    if json_out is not None:
        write_json(json_out, scores, indent=2)
