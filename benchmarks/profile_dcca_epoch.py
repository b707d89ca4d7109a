"""Where one epoch of DCCA-500-500-50 spends its time (random data of the MNIST-halves shape).

Times one epoch (50,000 rows, batch 500, Adam) three ways, three times each, and prints the
median: ``full`` (the DCCA network and its batch CCA loss, float32), ``mlp`` (the same two
encoders with a trivial loss: the matrix products alone) and ``bf16`` (the full step with the
encoders under bfloat16 autocast, as ``precision="bfloat16"`` trains). ``full - mlp`` is the
cost of the CCA loss. Run it alone on an idle machine::

    PYTHONPATH=src python benchmarks/profile_dcca_epoch.py
"""

from __future__ import annotations

import statistics
import time

import torch

from crossview.deep.dcca import _DCCANet
from crossview.deep.trainer import configure_threads

N, BATCH, REPEATS = 50_000, 500, 3


def main() -> None:
    threads = configure_threads()
    torch.manual_seed(0)
    X, Y = torch.rand(N, 392), torch.rand(N, 392)
    net = _DCCANet(392, 392, (500, 500), (500, 500), 50, "relu", 1e-4)
    opt = torch.optim.Adam(net.parameters(), 1e-3)

    def loss(x, y, mode):
        if mode == "mlp":
            return net.encoder_x(x).square().sum() + net.encoder_y(y).square().sum()
        if mode == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return net(x, y)["loss"]
        return net(x, y)["loss"]

    def epoch(mode):
        perm = torch.randperm(N)
        t0 = time.perf_counter()
        for start in range(0, N, BATCH):
            idx = perm[start:start + BATCH]
            opt.zero_grad(set_to_none=True)
            loss(X[idx], Y[idx], mode).backward()
            opt.step()
        return time.perf_counter() - t0

    print(f"torch {torch.__version__}, {threads} thread(s), {N} rows, batch {BATCH}")
    for mode in ("full", "mlp", "bf16"):
        times = [epoch(mode) for _ in range(REPEATS)]
        print(f"{mode:5s} median {statistics.median(times):.2f} s/epoch "
              f"({', '.join(f'{t:.2f}' for t in times)})")


if __name__ == "__main__":
    main()
