"""CLI commands about data: `crossview data info`, `data fetch-mnist`, `data fetch-wordnet`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from ..base import count_constant_columns
from . import app

data_app = typer.Typer(help="Inspect data files and fetch data sets.", no_args_is_help=True)
app.add_typer(data_app, name="data")

_DATA_DIR = typer.Option(
    None,
    "--data-dir",
    help="Folder to look in and download into (default: $CROSSVIEW_DATA, then the user cache "
    "folder).",
)
_QUIET = typer.Option(False, "--quiet", "-q", help="No progress bar.")


@data_app.command("info")
def info_cmd(
    file: Path = typer.Argument(
        ..., help="A view: .npy, .npz, .csv, .tsv, .parquet, .txt/.vec (word2vec)."
    ),
    key: Optional[str] = typer.Option(None, "--key", help="Array name inside a .npz file."),
):
    """Show a data file's shape, dtype, NaN/inf counts, constant columns and vocabulary size."""
    from ..datasets.files import read_view

    view = read_view(file, key=key, allow_1d=True)
    data = view.data
    typer.echo(f"file: {file}")
    typer.echo(f"shape: {data.shape}")
    typer.echo(f"dtype: {data.dtype}")
    if data.dtype.kind in "biuf":
        values = data.astype(np.float64, copy=False)
        n_nan = int(np.isnan(values).sum())
        n_inf = int(np.isinf(values).sum())
        typer.echo(f"NaN: {n_nan}, inf: {n_inf}")
        finite = values[np.isfinite(values)]
        if finite.size:
            typer.echo(f"range: [{finite.min():.6g}, {finite.max():.6g}], mean {finite.mean():.6g}")
        if data.ndim == 2:
            typer.echo(f"constant columns: {count_constant_columns(values)} of {data.shape[1]}")
    if data.ndim == 1:
        typer.echo(f"distinct values: {np.unique(data).size}")
    if view.vocab is not None:
        typer.echo(
            f"vocabulary: {len(view.vocab)} names ({len(set(view.vocab))} distinct), "
            f"first: {', '.join(view.vocab[:5])}"
        )


@data_app.command("fetch-mnist")
def fetch_mnist_cmd(
    data_dir: Optional[Path] = _DATA_DIR,
    quiet: bool = _QUIET,
):
    """Find or download MNIST, verify it (checksums, shapes, label counts) and say where it is."""
    from ..datasets.mnist import fetch_mnist

    if not quiet:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    where = fetch_mnist(data_dir, download=True, verbose=not quiet)
    typer.echo(f"MNIST verified: {where}")


@data_app.command("fetch-wordnet")
def fetch_wordnet_cmd(
    data_dir: Optional[Path] = _DATA_DIR,
    quiet: bool = _QUIET,
):
    """Find or download WordNet 3.0, verify it (checksums or synset counts), print its size."""
    from ..datasets.wordnet import find_wordnet, load_wordnet

    if not quiet:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    wn = load_wordnet(data_dir, download=True, verbose=not quiet)
    counts = wn.counts()
    typer.echo(
        f"WordNet 3.0 verified: {find_wordnet(data_dir)} ("
        + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        + ")"
    )
