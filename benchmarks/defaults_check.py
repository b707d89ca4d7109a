"""Score a method with its own defaults (only the architecture given) on several paired data sets.

The check behind "defaults that work on data nobody tuned them for" (docs/benchmarks.md,
"Defaults"): each data set is fitted through the benchmark runner with the method's defaults
plus the architecture of ``--arch`` (and any ``--set KEY=VALUE`` overrides, for the presets it
is compared with), watching the validation split, and scored on ``--split``.

Data sets: ``mnist-halves`` (left / right, the CorrNet protocol), ``mnist-top-bottom`` (rows 0-13
against rows 14-27 of the same images; never used for tuning), ``digits-halves`` and
``digits-top-bottom`` (scikit-learn's 8x8 digits). About 150 s per MNIST fit here::

    PYTHONPATH=src python benchmarks/defaults_check.py corrnet --data mnist-halves \\
        --data-dir ../shared/data --arch n_components=50 --arch x_hidden=500,300
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from crossview.datasets import load_digits_halves, load_mnist_halves
from crossview.datasets.base import TwoViewData, TwoViewDataset
from crossview.evaluation.runner import run_method

DATASETS = ("mnist-halves", "mnist-top-bottom", "digits-halves", "digits-top-bottom")


def _top_bottom(data: TwoViewDataset, side: int, name: str) -> TwoViewDataset:
    """Re-cut left / right halves of ``side`` x ``side`` images into top / bottom halves."""
    parts = {}
    for split in ("train", "val", "test"):
        part = getattr(data, split)
        n, half = part.X.shape[0], side // 2
        images = np.concatenate(
            [part.X.reshape(n, side, half), part.Y.reshape(n, side, half)], axis=2
        )
        parts[split] = TwoViewData(
            images[:, :half].reshape(n, -1),
            images[:, half:].reshape(n, -1),
            part.labels,
            name=f"{name}/{split}",
        )
    return TwoViewDataset(name=name, **parts)


def load(name: str, data_dir: str | None) -> TwoViewDataset:
    """One of :data:`DATASETS`."""
    if name.startswith("mnist"):
        data = load_mnist_halves(data_dir, download=False)
        return data if name == "mnist-halves" else _top_bottom(data, 28, name)
    data = load_digits_halves()
    return data if name == "digits-halves" else _top_bottom(data, 8, name)


def _value(text: str):
    if "," in text:
        return tuple(int(v) for v in text.split(",") if v)
    try:
        return json.loads(text)
    except ValueError:
        return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("method")
    ap.add_argument("--data", choices=DATASETS, default="mnist-halves")
    ap.add_argument("--data-dir", default=None, help="folder with mnist.npz (or $CROSSVIEW_DATA)")
    ap.add_argument("--split", choices=("val", "test"), default="test")
    ap.add_argument("--arch", action="append", default=[], help="KEY=VALUE, the architecture")
    ap.add_argument("--set", action="append", default=[], help="KEY=VALUE, a preset's setting")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    params = {}
    for item in args.arch + args.set:
        key, _, value = item.partition("=")
        params[key] = _value(value)
    data = load(args.data, args.data_dir)
    result = run_method(
        args.method, data, params=params, seed=args.seed, eval_split=args.split, verbose=False
    )
    m = result.metrics
    shown = {k: v for k, v in params.items()}
    print(
        f"| {args.data} | {args.split} | {json.dumps(shown, default=str)} "
        f"| {m['sum_corr']:.2f} | {m.get('transfer_x_to_y', float('nan')):.2f} "
        f"| {m.get('transfer_y_to_x', float('nan')):.2f} | {m['fit_seconds']:.0f} s |",
        flush=True,
    )


if __name__ == "__main__":
    main()
