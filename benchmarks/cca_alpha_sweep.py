"""How CCA's ridge ``alpha`` moves sum correlation and transfer on MNIST halves.

Fits ``CCA(n_components=50, alpha=a)`` on the 50,000 training halves for each ``a`` and scores
the codes of the chosen split (``val`` to choose, ``test`` only to report) with the protocol of
docs/benchmarks.md: sum correlation and transfer accuracy both ways. Takes about 30 seconds here::

    PYTHONPATH=src python benchmarks/cca_alpha_sweep.py --data-dir ../shared/data --split val
"""

from __future__ import annotations

import argparse

from crossview.datasets import load_mnist_halves
from crossview.evaluation import sum_correlation, transfer_accuracy
from crossview.linear import CCA

ALPHAS = (1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="folder with mnist.npz (or $CROSSVIEW_DATA)")
    ap.add_argument("--split", choices=("val", "test"), default="val")
    args = ap.parse_args()
    data = load_mnist_halves(args.data_dir, download=False)
    split = getattr(data, args.split)
    print(f"| alpha | sum corr | transfer X->Y % | transfer Y->X % |  ({args.split} split)")
    print("|---|---|---|---|")
    for alpha in ALPHAS:
        model = CCA(n_components=50, alpha=alpha).fit(data.train.X, data.train.Y)
        Zx, Zy = model.transform(split.X), model.transform_y(split.Y)
        t = transfer_accuracy(Zx, Zy, split.labels)
        print(f"| {alpha:g} | {sum_correlation(Zx, Zy):.2f} | {100 * t['x_to_y']:.2f} "
              f"| {100 * t['y_to_x']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
