"""Benchmark the deep baselines (DCCA, DCCAE, MultimodalAE, optionally cca-zoo's DCCA) on MNIST
left/right halves with the CorrNet protocol (see ../shared/DESIGN.md).

For every method and seed it fits on the training split and reports, on the evaluation split
(test by default; ``--eval-on val`` for tuning):

- sum correlation of the codes of X alone and Y alone (sum of the Pearson correlations of
  matching columns, at most 50);
- canonical sum correlation: the same after a linear CCA fitted on the *training* codes
  (for DCCA with its final CCA the two coincide up to the re-fit);
- transfer accuracy L->R and R->L (5 contiguous folds, StandardScaler + LinearSVC trained on
  the codes of one view in 4 folds, tested on the other view's codes of the 5th, mean);
- reconstruction MSE per pixel of Y from X and X from Y, where the method translates;
- fit seconds and seconds per epoch (training only; no validation pass during fit).

It prints a Markdown table and writes every number to ``--out`` (JSON). Run it alone on an
otherwise idle machine: parallel CPU jobs distort the timings by 10-50x.

Example::

    PYTHONPATH=src python benchmarks/bench_deep_baselines.py --data-dir ../shared/data \\
        --methods dcca-500-50,dcca-500-500-50,dccae,mae,mae-500-50 --epochs 40 --seeds 0 \\
        --out bench-out/deep_baselines.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

log = logging.getLogger("bench_deep_baselines")

# ---- the methods ---------------------------------------------------------------------------

#: the settings of each method; ``epochs`` and ``random_state`` come from the command line
METHODS = {
    # CorrNet paper baselines (Chandar et al. 2016, table 2): DCCA-500-50 and DCCA-500-500-50
    "dcca-500-50": ("dcca", dict(n_components=50, x_hidden=(500,), activation="relu",
                                 batch_size=500, learning_rate=1e-3)),
    "dcca-500-500-50": ("dcca", dict(n_components=50, x_hidden=(500, 500), activation="relu",
                                     batch_size=500, learning_rate=1e-3)),
    # the same in bfloat16 mixed precision (DCCA(precision="bfloat16"))
    "dcca-500-500-50-bf16": ("dcca", dict(n_components=50, x_hidden=(500, 500),
                                          activation="relu", batch_size=500, learning_rate=1e-3,
                                          precision="bfloat16")),
    "dccae": ("dccae", dict(n_components=50, x_hidden=(500, 500), activation="relu",
                            output_activation="sigmoid", lam=0.1, batch_size=500,
                            learning_rate=1e-3)),
    # the CorrNet paper's MAE: its one-layer network 392+392 -> 50 sigmoid -> 392+392 sigmoid,
    # trained on the three presentations without the correlation term
    "mae": ("mae", dict(n_components=50, x_hidden=(), code_activation="sigmoid",
                        output_activation="sigmoid", batch_size=100, learning_rate=1e-3)),
    # Ngiam et al.'s deep variant: one 500-unit ReLU layer per view before the shared code,
    # with the benchmark preset's sigmoid view branches and cosine schedule
    "mae-500-50": ("mae", dict(n_components=50, x_hidden=(500,), activation="relu",
                               view_activation="sigmoid", code_activation="sigmoid",
                               output_activation="sigmoid", lr_schedule="cosine",
                               batch_size=100, learning_rate=2e-3)),
    # cca-zoo 4's DCCA with the dcca-500-500-50 encoders (optional: needs cca_zoo + lightning)
    "zoo-dcca": ("zoo", dict(n_components=50, x_hidden=(500, 500), batch_size=500,
                             learning_rate=1e-3)),
    # the same with Lightning's bfloat16 mixed precision (Trainer(precision="bf16-mixed"))
    "zoo-dcca-bf16": ("zoo", dict(n_components=50, x_hidden=(500, 500), batch_size=500,
                                  learning_rate=1e-3, precision="bf16-mixed")),
}

PAPER = {  # CorrNet paper (Chandar et al. 2016), MNIST halves: sum corr, transfer L->R, R->L
    "dcca-500-500-50": (33.77, None, None),
    "dcca-500-500-50-bf16": (33.77, None, None),
    "mae": (24.40, 64.14, 68.88),
    "mae-500-50": (24.40, 64.14, 68.88),
}


# ---- data and metrics: crossview's loader and crossview.evaluation -------------------------------

def load_halves(data_dir: Path):
    """Return dict split -> (X, Y, labels) with the CorrNet protocol's splits."""
    from crossview.datasets import load_mnist_halves

    ds = load_mnist_halves(data_dir, download=False)
    return {s: (ds[s].X, ds[s].Y, ds[s].labels) for s in ("train", "val", "test")}


def canonical_sum_correlation(Zx_tr, Zy_tr, Zx, Zy, eps=1e-4):
    """Sum correlation of evaluation codes projected by a linear CCA fitted on training codes."""
    from crossview.deep.dcca import _linear_cca
    from crossview.evaluation import sum_correlation

    mx, Wx, my, Wy, _ = _linear_cca(Zx_tr, Zy_tr, eps)
    return float(sum_correlation((Zx - mx) @ Wx, (Zy - my) @ Wy))


# ---- running one method ------------------------------------------------------------------------

def zoo_available() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("cca_zoo", "lightning"))


class ZooDCCA:
    """cca-zoo 4's DCCA trained with Lightning, followed by the same linear CCA as crossview's."""

    def __init__(self, n_components, x_hidden, batch_size, learning_rate, epochs, random_state,
                 precision="32-true"):
        self.k, self.hidden, self.batch_size = n_components, x_hidden, batch_size
        self.lr, self.epochs, self.seed = learning_rate, epochs, random_state
        self.precision = precision

    def fit(self, X, Y):
        import lightning.pytorch as pl
        import torch
        from cca_zoo.deep import DCCA as ZDCCA
        from cca_zoo.deep import MultiviewDataset
        from torch.utils.data import DataLoader

        from crossview.deep.dcca import _linear_cca
        from crossview.deep.nets import mlp

        pl.seed_everything(self.seed, verbose=False)
        enc = [mlp([A.shape[1], *self.hidden, self.k], "relu") for A in (X, Y)]
        self.model = ZDCCA(n_components=self.k, encoders=enc, learning_rate=self.lr)
        trainer = pl.Trainer(max_epochs=self.epochs, logger=False, enable_progress_bar=False,
                             enable_checkpointing=False, enable_model_summary=False,
                             accelerator="cpu", precision=self.precision)
        loader = DataLoader(MultiviewDataset([X, Y]), batch_size=self.batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(self.seed))
        t0 = time.perf_counter()
        trainer.fit(self.model, loader)
        self.train_seconds = time.perf_counter() - t0
        self.model.eval()
        Fx, Fy = self._raw(X, 0), self._raw(Y, 1)
        self.cca = _linear_cca(Fx, Fy, 1e-4)
        return self

    def _raw(self, A, view):
        import torch

        with torch.no_grad():
            return self.model.encoders[view](torch.from_numpy(A)).numpy()

    def transform(self, X):
        mx, Wx, _, _, _ = self.cca
        return (self._raw(X, 0) - mx) @ Wx

    def transform_y(self, Y):
        _, _, my, Wy, _ = self.cca
        return (self._raw(Y, 1) - my) @ Wy


def make_model(name: str, epochs: int, seed: int):
    kind, params = METHODS[name]
    if kind == "zoo":
        return ZooDCCA(epochs=epochs, random_state=seed, **params)
    from crossview.deep.dcca import DCCA, DCCAE
    from crossview.deep.multimodal_ae import MultimodalAE

    cls = {"dcca": DCCA, "dccae": DCCAE, "mae": MultimodalAE}[kind]
    return cls(epochs=epochs, random_state=seed, device="cpu", verbose=False, **params)


def run_one(name, data, eval_on, epochs, seed):
    """Fit one method on the training split and score it on ``eval_on``."""
    from crossview.evaluation import sum_correlation, transfer_accuracy

    Xtr, Ytr, _ = data["train"]
    Xe, Ye, labels = data[eval_on]
    model = make_model(name, epochs, seed)
    t0 = time.perf_counter()
    model.fit(Xtr, Ytr)
    fit_s = time.perf_counter() - t0
    if hasattr(model, "history_"):
        train_s, n_epochs = model.history_.seconds, len(model.history_.train)
        last = model.history_.train[-1]
    else:
        train_s, n_epochs, last = model.train_seconds, epochs, {}
    Zx, Zy = np.asarray(model.transform(Xe)), np.asarray(model.transform_y(Ye))
    Zx_tr, Zy_tr = np.asarray(model.transform(Xtr)), np.asarray(model.transform_y(Ytr))
    acc = transfer_accuracy(Zx, Zy, labels)
    row = {
        "method": name, "seed": seed, "epochs": n_epochs, "eval_on": eval_on,
        "params": {k: (list(v) if isinstance(v, tuple) else v)
                   for k, v in METHODS[name][1].items()},
        "sum_corr": float(sum_correlation(Zx, Zy)),
        "canonical_sum_corr": canonical_sum_correlation(Zx_tr, Zy_tr, Zx, Zy),
        "transfer_l2r": 100 * acc["x_to_y"],
        "transfer_r2l": 100 * acc["y_to_x"],
        "mse_y_from_x": None, "mse_x_from_y": None,
        "fit_s": fit_s, "s_per_epoch": train_s / max(n_epochs, 1),
        "last_epoch_terms": last,
    }
    if getattr(model, "translates", False):
        row["mse_y_from_x"] = float(np.mean((model.predict(Xe) - Ye) ** 2))
        row["mse_x_from_y"] = float(np.mean((model.predict_x(Ye) - Xe) ** 2))
    if hasattr(model, "canonical_correlations_"):
        row["train_canonical_correlations"] = [float(c) for c in model.canonical_correlations_]
    return row


# ---- report ------------------------------------------------------------------------------------

COLUMNS = [("sum_corr", "sum-corr", "{:.2f}"), ("canonical_sum_corr", "canon. sum-corr", "{:.2f}"),
           ("transfer_l2r", "L->R %", "{:.2f}"), ("transfer_r2l", "R->L %", "{:.2f}"),
           ("mse_y_from_x", "MSE Y|X", "{:.4f}"), ("mse_x_from_y", "MSE X|Y", "{:.4f}"),
           ("fit_s", "fit s", "{:.1f}"), ("s_per_epoch", "s/epoch", "{:.2f}")]


def summarise(rows):
    out = []
    for name in dict.fromkeys(r["method"] for r in rows):
        rs = [r for r in rows if r["method"] == name]
        s = {"method": name, "n_seeds": len(rs), "epochs": rs[0]["epochs"]}
        for key, _, _ in COLUMNS:
            vals = [r[key] for r in rs if r[key] is not None]
            s[key] = (float(np.mean(vals)), float(np.std(vals))) if vals else None
        out.append(s)
    return out


def markdown(summary, eval_on):
    head = ("| method | epochs | " + " | ".join(c[1] for c in COLUMNS)
            + " | paper (sum-corr, L->R, R->L) |")
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
        lines.append(f"| {s['method']} | {s['epochs']} | " + " | ".join(cells) + f" | {ptxt} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=Path("../shared/data"),
                   help="folder holding mnist.npz (Keras layout)")
    p.add_argument("--methods", default="dcca-500-50,dcca-500-500-50,dccae,mae,mae-500-50,zoo-dcca",
                   help=f"comma-separated, from: {', '.join(METHODS)}")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--seeds", default="0", help="comma-separated random seeds")
    p.add_argument("--eval-on", choices=("test", "val"), default="test",
                   help="split to report on (tune on val; report on test)")
    p.add_argument("--n-train", type=int, default=None,
                   help="use only the first N training rows (smoke tests)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: OMP_NUM_THREADS or all cores)")
    p.add_argument("--out", type=Path, default=Path("bench-out/deep_baselines.json"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        p.error(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    if "zoo-dcca" in methods and not zoo_available():
        log.info("skipping zoo-dcca: cca_zoo and lightning are not both installed")
        methods.remove("zoo-dcca")
    if args.threads:
        os.environ["CROSSVIEW_THREADS"] = str(args.threads)
    import torch

    from crossview.deep.trainer import configure_threads

    threads = configure_threads()
    data = load_halves(args.data_dir)
    if args.n_train:
        data["train"] = tuple(a[: args.n_train] for a in data["train"])
    log.info("torch threads: %d", threads)

    rows = []
    for name in methods:
        for seed in (int(s) for s in args.seeds.split(",")):
            log.info("fitting %s (seed %d, %d epochs)", name, seed, args.epochs)
            row = run_one(name, data, args.eval_on, args.epochs, seed)
            log.info("%s seed %d: sum-corr %.2f, transfer %.2f / %.2f, %.2f s/epoch", name, seed,
                     row["sum_corr"], row["transfer_l2r"], row["transfer_r2l"],
                     row["s_per_epoch"])
            rows.append(row)
    summary = summarise(rows)
    table = markdown(summary, args.eval_on)
    print(table)
    env = {"python": sys.version.split()[0], "torch": torch.__version__, "threads": threads,
           "machine": platform.machine(), "processor": platform.processor(),
           "cpu_count": os.cpu_count(), "metrics": "crossview.evaluation",
           "n_train": len(data["train"][0]), "n_eval": len(data[args.eval_on][0])}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"env": env, "rows": rows, "summary": summary,
                                    "markdown": table}, indent=2) + "\n")
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
