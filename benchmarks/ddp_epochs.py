"""Epoch time of CorrNet and DCCA on MNIST halves in one process and under torchrun.

The global batch is the same in both runs (``--global-batch`` rows, split over the ranks), so
the runs train on the same batches::

    python benchmarks/ddp_epochs.py --data-dir ../shared/data
    torchrun --nproc-per-node 2 benchmarks/ddp_epochs.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import json
import time

from crossview.datasets.mnist import load_mnist_halves
from crossview.deep.corrnet import CorrNet
from crossview.deep.dcca import DCCA
from crossview.deep.distributed import init_from_env, is_main, world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--global-batch", type=int, default=100)
    args = parser.parse_args()
    init_from_env()
    _, size = world()
    train = load_mnist_halves(args.data_dir, verbose=False).train
    per_rank = args.global_batch // size
    out = {"processes": size, "batch_per_process": per_rank}
    for name, model in (
        ("corrnet", CorrNet(batch_size=per_rank, epochs=args.epochs)),
        ("dcca", DCCA(batch_size=per_rank * 4, epochs=args.epochs)),
    ):
        model.set_params(random_state=0, verbose=False, device="cpu")
        t0 = time.perf_counter()
        model.fit(train.X, train.Y)
        out[f"{name}_s_per_epoch"] = round((time.perf_counter() - t0) / args.epochs, 2)
        out[f"{name}_last_loss"] = round(model.history_.train[-1]["loss"], 5)
    if is_main():
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
