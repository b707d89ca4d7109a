"""Where one epoch of DCCA-500-500-50 spends its time (random data of the MNIST-halves shape).

Times one epoch (50,000 rows, batch 500, Adam) three ways, three times each, and prints the
median: ``full`` (a DCCA fit of one epoch through the benchmark runner,
:func:`crossview.evaluation.runner.run_method`: the network, its batch CCA loss and the shared
trainer, float32), ``mlp`` (the same two encoders, built with :func:`crossview.deep.nets.mlp`,
with a trivial loss in a bare loop: the matrix products alone) and ``bf16`` (the full fit with
``precision="bfloat16"``: the encoders under bfloat16 autocast). ``full - mlp`` is the cost of
the CCA loss (and of the trainer's bookkeeping). Run it alone on an idle machine::

    PYTHONPATH=src python benchmarks/profile_dcca_epoch.py
"""

from __future__ import annotations

import statistics
import time

import torch

from crossview.datasets.base import TwoViewData, TwoViewDataset
from crossview.deep.nets import mlp
from crossview.deep.trainer import env_threads, thread_limit
from crossview.evaluation.runner import run_method

N, BATCH, REPEATS = 50_000, 500, 3
HIDDEN, K = (500, 500), 50
#: DCCA-500-500-50 as in docs/benchmarks.md; one epoch, no validation split
PARAMS = dict(
    n_components=K,
    x_hidden=HIDDEN,
    activation="relu",
    batch_size=BATCH,
    learning_rate=1e-3,
    epochs=1,
    device="cpu",
)


def random_halves(seed: int = 0) -> TwoViewDataset:
    """Uniform random views of the MNIST-halves shape, 392 + 392 columns (no validation split,
    so the fits make no validation pass; a small test split for the runner's scores)."""
    gen = torch.Generator().manual_seed(seed)
    X, Y = torch.rand(N, 392, generator=gen).numpy(), torch.rand(N, 392, generator=gen).numpy()
    return TwoViewDataset("random halves", TwoViewData(X, Y), None, TwoViewData(X[:1000], Y[:1000]))


def fit_epoch(data: TwoViewDataset, precision: str, seed: int) -> float:
    """Seconds of one training epoch of DCCA, fitted through the runner."""
    result = run_method("dcca", data, params={**PARAMS, "precision": precision}, seed=seed)
    return result.metrics["seconds_per_epoch"]


def mlp_epoch(data: TwoViewDataset, seed: int) -> float:
    """Seconds of one epoch of the two encoders with a trivial loss (no CCA, no trainer)."""
    torch.manual_seed(seed)
    enc_x, enc_y = (mlp([392, *HIDDEN, K], "relu") for _ in range(2))
    opt = torch.optim.Adam([*enc_x.parameters(), *enc_y.parameters()], 1e-3)
    X, Y = torch.from_numpy(data.train.X), torch.from_numpy(data.train.Y)
    perm = torch.randperm(N)
    t0 = time.perf_counter()
    for start in range(0, N, BATCH):
        idx = perm[start : start + BATCH]
        opt.zero_grad(set_to_none=True)
        (enc_x(X[idx]).square().sum() + enc_y(Y[idx]).square().sum()).backward()
        opt.step()
    return time.perf_counter() - t0


def main() -> None:
    data = random_halves()
    threads = env_threads()
    with thread_limit(threads):
        print(
            f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {N} rows, "
            f"batch {BATCH}"
        )
        for mode in ("full", "mlp", "bf16"):
            times = [
                mlp_epoch(data, seed)
                if mode == "mlp"
                else fit_epoch(data, "bfloat16" if mode == "bf16" else "float32", seed)
                for seed in range(REPEATS)
            ]
            print(
                f"{mode:5s} median {statistics.median(times):.2f} s/epoch "
                f"({', '.join(f'{t:.2f}' for t in times)})"
            )


if __name__ == "__main__":
    main()
