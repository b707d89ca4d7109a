"""Label-linked benchmark data: two data sets that share only class labels.

- :func:`load_mnist_unpaired` — MNIST halves with the pairing removed: X = left halves of the
  first 25,000 training images, Y = right halves of the other 25,000 (no image in both); the
  10,000 test images keep both halves, so the true partners are known.
- :func:`load_digits_mnist` — two data sets of different nature: scikit-learn's 8x8 digit
  scans (64 pixels) and MNIST's 28x28 images (784 pixels), linked by digit class only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..exceptions import CrossviewError
from .mnist import _halves, load_mnist_arrays

#: images of each view of the MNIST halves data: 28 rows of 14 pixels
HALF_SHAPE = (28, 14)


@dataclass(frozen=True, eq=False)
class LabelLinkedDataset:
    """Training rows of two views linked by labels (and maybe pairs), and test rows of each.

    ``pairs`` links rows of ``X`` and ``Y`` known to be the same item ((k, 2), may be empty).
    ``test_paired`` says that row i of ``X_test`` and of ``Y_test`` are the same item (then
    ``y_test_labels`` equals ``x_test_labels``). ``shapes`` are the image shapes of X and Y
    rows, for figures.
    """

    name: str
    X: np.ndarray
    x_labels: np.ndarray
    Y: np.ndarray
    y_labels: np.ndarray
    X_test: np.ndarray
    x_test_labels: np.ndarray
    Y_test: np.ndarray
    y_test_labels: np.ndarray
    test_paired: bool
    pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    shapes: tuple = ()
    X_paired: np.ndarray | None = None  # the training images of X with their own Y halves
    Y_paired: np.ndarray | None = None  # (for paired references such as a ridge ceiling)
    description: str = ""

    def __repr__(self) -> str:
        return (
            f"LabelLinkedDataset({self.name!r}: X {self.X.shape}, Y {self.Y.shape}, "
            f"{len(self.pairs)} pairs; test X {self.X_test.shape}, Y {self.Y_test.shape})"
        )


def load_mnist_unpaired(
    data_dir=None,
    *,
    n_pairs: int = 0,
    n_each: int = 25_000,
    random_state=0,
    download=True,
    verbose=True,
) -> LabelLinkedDataset:
    """MNIST halves with the pairing removed (the label-linked protocol A).

    X = left halves of the first ``n_each`` training images, Y = right halves of the next
    ``n_each``; labels only. With ``n_pairs`` > 0, the left halves of that many of Y's images
    (chosen with ``random_state``) are appended to X and linked to their right halves by
    ``pairs``. Test: the 10,000 test images, both halves (true partners known). ``X_paired`` /
    ``Y_paired`` hold both halves of X's own images, for paired references.
    """
    if not 0 <= n_pairs <= n_each:
        raise CrossviewError(f"n_pairs must be between 0 and {n_each}, got {n_pairs}")
    arrays = load_mnist_arrays(data_dir, download=download, verbose=verbose)
    images, labels = arrays["x_train"], arrays["y_train"].astype(np.int64)
    if 2 * n_each > len(images):
        raise CrossviewError(f"n_each={n_each} needs {2 * n_each} training images")
    L1, R1 = _halves(images[:n_each])
    L2, R2 = _halves(images[n_each : 2 * n_each])
    l1, l2 = labels[:n_each], labels[n_each : 2 * n_each]
    chosen = np.sort(np.random.default_rng(random_state).choice(n_each, n_pairs, replace=False))
    X = np.concatenate([L1, L2[chosen]])
    x_labels = np.concatenate([l1, l2[chosen]])
    pairs = np.c_[n_each + np.arange(n_pairs), chosen].astype(np.int64)
    Lt, Rt = _halves(arrays["x_test"])
    lt = arrays["y_test"].astype(np.int64)
    return LabelLinkedDataset(
        "mnist-unpaired",
        X,
        x_labels,
        R2,
        l2,
        Lt,
        lt,
        Rt,
        lt,
        True,
        pairs,
        shapes=(HALF_SHAPE, HALF_SHAPE),
        X_paired=L1,
        Y_paired=R1,
        description=f"MNIST left halves ({n_each} images) and right halves of {n_each} other "
        f"images, {n_pairs} known pairs",
    )


def load_digits_mnist(
    data_dir=None,
    *,
    n_mnist: int = 10_000,
    test_fraction: float = 0.3,
    random_state=0,
    download=True,
    verbose=True,
) -> LabelLinkedDataset:
    """scikit-learn's 8x8 digit scans (X) and MNIST 28x28 images (Y), linked by class only.

    X: the 1,797 digits scaled to [0, 1] (pixel / 16), 64 features, split into train and test
    by ``test_fraction`` (shuffled with ``random_state``); Y: the first ``n_mnist`` MNIST
    training images for training and the 10,000 test images for testing, 784 features in
    [0, 1]. No row of one is paired with a row of the other.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    D = (digits.images.reshape(len(digits.images), -1) / 16.0).astype(np.float32)
    Dtr, Dte, dtr, dte = train_test_split(
        D,
        digits.target.astype(np.int64),
        test_size=test_fraction,
        random_state=random_state,
        stratify=digits.target,
    )
    arrays = load_mnist_arrays(data_dir, download=download, verbose=verbose)
    M = arrays["x_train"][:n_mnist].reshape(n_mnist, -1).astype(np.float32) / 255.0
    Mte = arrays["x_test"].reshape(len(arrays["x_test"]), -1).astype(np.float32) / 255.0
    return LabelLinkedDataset(
        "digits-mnist",
        Dtr,
        dtr,
        M,
        arrays["y_train"][:n_mnist].astype(np.int64),
        Dte,
        dte,
        Mte,
        arrays["y_test"].astype(np.int64),
        False,
        shapes=((8, 8), (28, 28)),
        description=f"sklearn 8x8 digits ({len(Dtr)} train) and MNIST ({n_mnist} train)",
    )


__all__ = ["LabelLinkedDataset", "load_digits_mnist", "load_mnist_unpaired"]
