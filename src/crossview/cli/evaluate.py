"""CLI command `crossview evaluate`: metrics for two code matrices (and labels).

The metric names (``--json``) are the benchmark's (:data:`crossview.evaluation.SCORES`);
accuracies and precisions are percentages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..exceptions import CrossviewError
from . import app
from ._common import read_array, read_labels


def _parse_ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(int(p) for p in text.replace(" ", "").split(",") if p)
    except ValueError:
        raise CrossviewError(
            f"--k expects comma-separated positive integers (e.g. 1,5,10); got {text!r}"
        ) from None
    if not ks or min(ks) < 1:
        raise CrossviewError(f"--k expects comma-separated positive integers; got {text!r}")
    return ks


def format_report(res: dict) -> str:
    """Render the dict of `evaluate_codes` as an aligned text table (rates in percent)."""
    lines = [
        ("rows", f"{res['n_samples']}"),
        ("code size", f"X {res['n_components_x']}, Y {res['n_components_y']}"),
    ]
    if "sum_corr" in res:
        lines.append(("sum correlation", f"{res['sum_corr']:.2f} (max {res['n_components_x']})"))
    lines.append(("canonical sum correlation", f"{res['canonical_sum_corr']:.2f}"))
    for d, name in (("x_to_y", "X -> Y"), ("y_to_x", "Y -> X")):
        if f"transfer_{d}" in res:
            lines.append((f"transfer accuracy {name}", f"{res[f'transfer_{d}']:.2f} %"))
    for d, name in (("x_to_y", "X -> Y"), ("y_to_x", "Y -> X")):
        for k, p in res.get(f"retrieval_{d}", {}).items():
            lines.append((f"retrieval {name} P@{k}", f"{p:.2f} %"))
    width = max(len(a) for a, _ in lines)
    return "\n".join(f"{a:<{width}}  {b}" for a, b in lines)


@app.command("evaluate")
def evaluate_cmd(
    x_codes: Path = typer.Option(..., "--x-codes", help="Codes of view X (rows = items)."),
    y_codes: Path = typer.Option(
        ..., "--y-codes", help="Codes of view Y, row i paired with row i of X."
    ),
    labels: Optional[Path] = typer.Option(
        None, "--labels", help="Class labels, one per row (for transfer accuracy)."
    ),
    k: Optional[str] = typer.Option(
        None,
        "--k",
        help="Retrieval cut-offs, comma-separated "
        "(default 1,5,10, those up to the number of rows).",
    ),
    method: str = typer.Option("nn", "--method", help="Retrieval ranking: nn (cosine) or csls."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
):
    """Score codes: sum and canonical correlation, transfer accuracy, retrieval precision."""
    from ..evaluation import evaluate_codes

    ks = _parse_ks(k) if k is not None else (1, 5, 10)
    Zx, Zy = read_array(x_codes), read_array(y_codes)
    if k is not None and max(ks) > Zx.shape[0]:
        raise CrossviewError(
            f"--k {k}: the codes have {Zx.shape[0]} rows; expected cut-offs up to {Zx.shape[0]}"
        )
    lab = read_labels(labels) if labels is not None else None
    res = evaluate_codes(Zx, Zy, lab, k=ks, retrieval_method=method)
    if as_json:
        typer.echo(json.dumps(res, indent=2))
    else:
        typer.echo(format_report(res))
