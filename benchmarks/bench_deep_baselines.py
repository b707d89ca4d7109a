"""Benchmark the deep baselines (DCCA, DCCAE, MultimodalAE, optionally cca-zoo's DCCA) on MNIST
left/right halves with the CorrNet protocol (docs/protocols.md).

For every method and seed it fits on the training split through the benchmark runner
(:func:`crossview.evaluation.runner.run_method`; cca-zoo's DCCA is scored by
:func:`~crossview.evaluation.runner.score_model`) and reports, on the evaluation split (test by
default; ``--eval-on val`` for tuning), the runner's metrics under its names:

- ``sum_corr``: sum correlation of the codes of X alone and Y alone (sum of the Pearson
  correlations of matching columns, at most 50);
- ``canonical_sum_corr``: the sum of the canonical correlations of the two codes;
- ``transfer_x_to_y`` / ``transfer_y_to_x``: transfer accuracy in % (5 contiguous folds,
  StandardScaler + LinearSVC trained on the codes of one view in 4 folds, tested on the other
  view's codes of the 5th, mean);
- ``mse_y_from_x`` / ``mse_x_from_y``: reconstruction MSE per pixel, where the method translates;
- ``fit_seconds`` and ``seconds_per_epoch`` (training only: the fits get no validation split,
  so there is no validation pass and no early stopping).

It prints a Markdown table and writes every number to ``--out`` (JSON). Run it alone on an
otherwise idle machine: parallel CPU jobs distort the timings by 10-50x.

Example::

    PYTHONPATH=src python benchmarks/bench_deep_baselines.py --data-dir ../shared/data \\
        --methods dcca-500-50,dcca-500-500-50,dccae,mae,mae-500-50 --epochs 40 --seeds 0 \\
        --out bench-out/deep_baselines.json
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from crossview.datasets import load_mnist_halves
from crossview.datasets.base import TwoViewData, TwoViewDataset
from crossview.evaluation.runner import run_method, score_model
from crossview.fileio import write_json

log = logging.getLogger("bench_deep_baselines")

# ---- the methods ---------------------------------------------------------------------------

#: name -> (registry method, or "zoo" for cca-zoo's DCCA; its settings). ``epochs`` and the seed
#: come from the command line
METHODS = {
    # CorrNet paper baselines (Chandar et al. 2016, table 2): DCCA-500-50 and DCCA-500-500-50
    "dcca-500-50": (
        "dcca",
        dict(
            n_components=50, x_hidden=(500,), activation="relu", batch_size=500, learning_rate=1e-3
        ),
    ),
    "dcca-500-500-50": (
        "dcca",
        dict(
            n_components=50,
            x_hidden=(500, 500),
            activation="relu",
            batch_size=500,
            learning_rate=1e-3,
        ),
    ),
    # the same in bfloat16 mixed precision (DCCA(precision="bfloat16"))
    "dcca-500-500-50-bf16": (
        "dcca",
        dict(
            n_components=50,
            x_hidden=(500, 500),
            activation="relu",
            batch_size=500,
            learning_rate=1e-3,
            precision="bfloat16",
        ),
    ),
    "dccae": (
        "dccae",
        dict(
            n_components=50,
            x_hidden=(500, 500),
            activation="relu",
            output_activation="sigmoid",
            lam=0.1,
            batch_size=500,
            learning_rate=1e-3,
        ),
    ),
    # the CorrNet paper's MAE: its one-layer network 392+392 -> 50 sigmoid -> 392+392 sigmoid,
    # trained on the three presentations without the correlation term
    "mae": (
        "mae",
        dict(
            n_components=50,
            x_hidden=(),
            code_activation="sigmoid",
            output_activation="sigmoid",
            batch_size=100,
            learning_rate=1e-3,
        ),
    ),
    # Ngiam et al.'s deep variant: one 500-unit ReLU layer per view before the shared code,
    # with the benchmark preset's sigmoid view branches and cosine schedule
    "mae-500-50": (
        "mae",
        dict(
            n_components=50,
            x_hidden=(500,),
            activation="relu",
            view_activation="sigmoid",
            code_activation="sigmoid",
            output_activation="sigmoid",
            lr_schedule="cosine",
            batch_size=100,
            learning_rate=2e-3,
        ),
    ),
    # cca-zoo 4's DCCA with the dcca-500-500-50 encoders (optional: needs cca_zoo + lightning)
    "zoo-dcca": (
        "zoo",
        dict(n_components=50, x_hidden=(500, 500), batch_size=500, learning_rate=1e-3),
    ),
    # the same with Lightning's bfloat16 mixed precision (Trainer(precision="bf16-mixed"))
    "zoo-dcca-bf16": (
        "zoo",
        dict(
            n_components=50,
            x_hidden=(500, 500),
            batch_size=500,
            learning_rate=1e-3,
            precision="bf16-mixed",
        ),
    ),
}

PAPER = {  # CorrNet paper (Chandar et al. 2016), MNIST halves: sum corr, transfer X->Y, Y->X
    "dcca-500-500-50": (33.77, None, None),
    "dcca-500-500-50-bf16": (33.77, None, None),
    "mae": (24.40, 64.14, 68.88),
    "mae-500-50": (24.40, 64.14, 68.88),
}


def zoo_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("cca_zoo", "lightning"))


class ZooDCCA:
    """cca-zoo 4's DCCA trained with Lightning, followed by crossview's linear CCA of its
    encoder outputs (as crossview's DCCA ends)."""

    def __init__(
        self,
        n_components,
        x_hidden,
        batch_size,
        learning_rate,
        epochs,
        random_state,
        precision="32-true",
    ):
        self.k, self.hidden, self.batch_size = n_components, x_hidden, batch_size
        self.lr, self.epochs, self.seed = learning_rate, epochs, random_state
        self.precision = precision

    def fit(self, X, Y):
        import lightning.pytorch as pl
        import torch
        from cca_zoo.deep import DCCA as ZDCCA
        from cca_zoo.deep import MultiviewDataset
        from torch.utils.data import DataLoader

        from crossview.deep.nets import mlp
        from crossview.linear import CCA

        pl.seed_everything(self.seed, verbose=False)
        enc = [mlp([A.shape[1], *self.hidden, self.k], "relu") for A in (X, Y)]
        self.model = ZDCCA(n_components=self.k, encoders=enc, learning_rate=self.lr)
        trainer = pl.Trainer(
            max_epochs=self.epochs,
            logger=False,
            enable_progress_bar=False,
            enable_checkpointing=False,
            enable_model_summary=False,
            accelerator="cpu",
            precision=self.precision,
        )
        loader = DataLoader(
            MultiviewDataset([X, Y]),
            batch_size=self.batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(self.seed),
        )
        t0 = time.perf_counter()
        trainer.fit(self.model, loader)
        self.train_seconds = time.perf_counter() - t0
        self.model.eval()
        self.cca = CCA(n_components=self.k).fit(self.encode(X, 0), self.encode(Y, 1))
        return self

    def encode(self, A, view):
        """The raw output of one view's encoder."""
        import torch

        with torch.no_grad():
            return self.model.encoders[view](torch.from_numpy(A)).numpy()

    def transform(self, X):
        return self.cca.transform(self.encode(X, 0))

    def transform_y(self, Y):
        return self.cca.transform_y(self.encode(Y, 1))


# ---- running one method ------------------------------------------------------------------------


def fit_data(data: TwoViewDataset, eval_on: str) -> TwoViewDataset:
    """The training split and the split to score (as ``test``), without a validation split:
    fits then make no validation pass (timings are training only) and never stop early."""
    return TwoViewDataset(f"{data.name} (scored on {eval_on})", data.train, None, data[eval_on])


def run_zoo(name: str, data: TwoViewDataset, epochs: int, seed: int) -> dict:
    """Fit cca-zoo's DCCA and score it like the runner does."""
    model = ZooDCCA(epochs=epochs, random_state=seed, **METHODS[name][1])
    t0 = time.perf_counter()
    model.fit(data.train.X, data.train.Y)
    metrics = score_model(model, data.test.X, data.test.Y, data.test.labels)
    metrics.update(
        fit_seconds=time.perf_counter() - t0,
        epochs_run=epochs,
        seconds_per_epoch=model.train_seconds / max(epochs, 1),
        n_train=int(data.train.X.shape[0]),
    )
    return metrics


def run_one(name: str, data: TwoViewDataset, eval_on: str, epochs: int, seed: int) -> dict:
    """Fit one method on the training split and score it on ``eval_on``: one row."""
    kind, params = METHODS[name]
    scored = fit_data(data, eval_on)
    row = {
        "method": name,
        "seed": seed,
        "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in params.items()},
    }
    if kind == "zoo":
        row.update(run_zoo(name, scored, epochs, seed))
    else:
        result = run_method(
            kind,
            scored,
            params={**params, "epochs": epochs, "device": "cpu"},
            seed=seed,
            keep_model=True,
        )
        row.update(result.metrics)
        model = result.model
        row["last_epoch_terms"] = model.history_.train[-1]
        if hasattr(model, "canonical_correlations_"):
            row["train_canonical_correlations"] = [float(c) for c in model.canonical_correlations_]
    row["eval_split"] = eval_on
    return row


# ---- report ------------------------------------------------------------------------------------

COLUMNS = [
    ("sum_corr", "sum corr", "{:.2f}"),
    ("canonical_sum_corr", "canonical sum corr", "{:.2f}"),
    ("transfer_x_to_y", "transfer X→Y %", "{:.2f}"),
    ("transfer_y_to_x", "transfer Y→X %", "{:.2f}"),
    ("mse_y_from_x", "MSE Y from X", "{:.4f}"),
    ("mse_x_from_y", "MSE X from Y", "{:.4f}"),
    ("fit_seconds", "fit s", "{:.1f}"),
    ("seconds_per_epoch", "s/epoch", "{:.2f}"),
]


def summarise(rows):
    out = []
    for name in dict.fromkeys(r["method"] for r in rows):
        rs = [r for r in rows if r["method"] == name]
        s = {"method": name, "n_seeds": len(rs), "epochs_run": rs[0]["epochs_run"]}
        for key, _, _ in COLUMNS:
            vals = [r[key] for r in rs if r.get(key) is not None]
            s[key] = (float(np.mean(vals)), float(np.std(vals))) if vals else None
        out.append(s)
    return out


def markdown(summary, eval_on):
    head = (
        "| method | epochs | "
        + " | ".join(c[1] for c in COLUMNS)
        + " | paper (sum corr, X→Y, Y→X) |"
    )
    lines = [f"Evaluated on: {eval_on}", "", head, "|" + "---|" * (len(COLUMNS) + 3)]
    for s in summary:
        cells = []
        for key, _, fmt in COLUMNS:
            v = s[key]
            if v is None:
                cells.append("—")
            elif s["n_seeds"] > 1:
                cells.append(fmt.format(v[0]) + " ± " + fmt.format(v[1]))
            else:
                cells.append(fmt.format(v[0]))
        paper = PAPER.get(s["method"])
        ptxt = ", ".join("—" if p is None else f"{p:.2f}" for p in paper) if paper else ""
        lines.append(f"| {s['method']} | {s['epochs_run']} | " + " | ".join(cells) + f" | {ptxt} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=Path("../shared/data"),
        help="folder holding mnist.npz (Keras layout)",
    )
    p.add_argument(
        "--methods",
        default="dcca-500-50,dcca-500-500-50,dccae,mae,mae-500-50,zoo-dcca",
        help=f"comma-separated, from: {', '.join(METHODS)}",
    )
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--seeds", default="0", help="comma-separated random seeds")
    p.add_argument(
        "--eval-on",
        choices=("test", "val"),
        default="test",
        help="split to report on (tune on val; report on test)",
    )
    p.add_argument(
        "--n-train", type=int, default=None, help="use only the first N training rows (smoke tests)"
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: $CROSSVIEW_THREADS, else torch's default)",
    )
    p.add_argument("--out", type=Path, default=Path("bench-out/deep_baselines.json"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        p.error(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    if not zoo_available():
        for name in [m for m in methods if METHODS[m][0] == "zoo"]:
            log.info("skipping %s: cca_zoo and lightning are not both installed", name)
            methods.remove(name)
    if args.threads:
        os.environ["CROSSVIEW_THREADS"] = str(args.threads)  # read by crossview's trainer
    import torch

    from crossview.deep.trainer import env_threads

    threads = env_threads() or torch.get_num_threads()
    data = load_mnist_halves(args.data_dir, download=False)
    if args.n_train:
        t = data.train
        data = TwoViewDataset(
            data.name,
            TwoViewData(
                t.X[: args.n_train], t.Y[: args.n_train], t.labels[: args.n_train], name=t.name
            ),
            data.val,
            data.test,
            data.description,
        )
    log.info("torch threads: %d", threads)

    rows = []
    for name in methods:
        for seed in (int(s) for s in args.seeds.split(",")):
            log.info("fitting %s (seed %d, %d epochs)", name, seed, args.epochs)
            row = run_one(name, data, args.eval_on, args.epochs, seed)
            log.info(
                "%s seed %d: sum corr %.2f, transfer %.2f / %.2f, %.2f s/epoch",
                name,
                seed,
                row["sum_corr"],
                row["transfer_x_to_y"],
                row["transfer_y_to_x"],
                row["seconds_per_epoch"],
            )
            rows.append(row)
    summary = summarise(rows)
    table = markdown(summary, args.eval_on)
    print(table)
    env = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "threads": threads,
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "metrics": "crossview.evaluation.runner",
        "n_train": len(data.train.X),
        "n_eval": len(data[args.eval_on].X),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(
        args.out, {"env": env, "rows": rows, "summary": summary, "markdown": table}, indent=2
    )
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
