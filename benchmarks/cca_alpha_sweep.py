"""How CCA's ridge ``alpha`` moves sum correlation and transfer on MNIST halves.

Fits ``CCA(n_components=50, alpha=a)`` on the 50,000 training halves for each ``a`` through the
benchmark runner (:func:`crossview.evaluation.runner.run_method`) and prints its scores of the
chosen split (``val`` to choose, ``test`` only to report), protocol of docs/protocols.md:
``sum_corr`` and ``transfer_x_to_y`` / ``transfer_y_to_x`` (%). Takes about 30 seconds here::

    PYTHONPATH=src python benchmarks/cca_alpha_sweep.py --data-dir ../shared/data --split val
"""

from __future__ import annotations

import argparse

from crossview.datasets import load_mnist_halves
from crossview.evaluation.runner import run_method

ALPHAS = (1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="folder with mnist.npz (or $CROSSVIEW_DATA)")
    ap.add_argument("--split", choices=("val", "test"), default="val")
    args = ap.parse_args()
    data = load_mnist_halves(args.data_dir, download=False)
    print(f"| alpha | sum corr | transfer X→Y % | transfer Y→X % |  ({args.split} split)")
    print("|---|---|---|---|")
    for alpha in ALPHAS:
        m = run_method(
            "cca", data, params={"n_components": 50, "alpha": alpha}, eval_split=args.split
        ).metrics
        print(
            f"| {alpha:g} | {m['sum_corr']:.2f} | {m['transfer_x_to_y']:.2f} "
            f"| {m['transfer_y_to_x']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
