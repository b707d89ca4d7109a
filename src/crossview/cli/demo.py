"""`crossview demo`: the quick start on built-in digits halves, offline, in seconds."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from ..evaluation.tables import format_table
from . import app

#: the demo's methods, with the digits-halves benchmark presets (small enough for a laptop CPU
#: in seconds, good enough to show the idea)
DEMO_METHODS = ("corrnet", "cca")


def run_demo(out: Path, verbose: bool = True, seed: int = 0) -> dict:
    """Fit CorrNet and CCA on digits halves, score both, and draw CorrNet's reconstructions."""
    from ..datasets import load_digits_halves
    from ..evaluation.plots import plot_reconstructions
    from ..evaluation.protocols import DIGITS_PRESETS
    from ..evaluation.runner import run_method
    from ..fileio import write_json

    data = load_digits_halves(random_state=seed)
    results = {}
    for name in DEMO_METHODS:
        t0 = time.perf_counter()
        res = run_method(
            name, data, params=DIGITS_PRESETS[name], seed=seed, verbose=verbose, keep_model=True
        )
        results[name] = res
        if verbose:
            typer.echo(f"fitted {name} in {time.perf_counter() - t0:.1f} s", err=True)
    out.mkdir(parents=True, exist_ok=True)
    test = data.test
    model = results["corrnet"].model
    png = plot_reconstructions(
        test.X,
        test.Y,
        model.predict(test.X),
        (8, 4),
        out / "reconstructions.png",
        n=12,
        title="CorrNet: right halves generated from left halves",
    )
    summary = {name: r.metrics for name, r in results.items()}
    write_json(out / "metrics.json", summary, indent=2)
    return {"metrics": summary, "figure": str(png)}


@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("demo"), "--out", help="Folder for the figure and metrics."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
):
    """Fit CorrNet and CCA on built-in digits halves; print metrics, draw reconstructions."""
    from ._common import check_writable_folder

    check_writable_folder(out, out)
    result = run_demo(out, verbose=not quiet, seed=seed)
    typer.echo(format_table(result["metrics"]))
    typer.echo(f"\nright halves generated from left halves: {result['figure']}")
