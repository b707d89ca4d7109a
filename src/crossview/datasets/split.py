"""Cut a user's paired views into train / val / test splits (seeded shuffle)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ..base import CrossviewError, check_labels, check_views
from .base import TwoViewData, TwoViewDataset


def split_views(
    X, Y, labels=None, fractions=(0.6, 0.2, 0.2), random_state=0, name: str = "custom"
) -> TwoViewDataset:
    """Shuffle paired rows with ``random_state`` and cut them into train, val and test.

    ``fractions`` are the (train, val, test) shares: three positive numbers summing to 1.
    Every split gets at least two rows; otherwise a :class:`CrossviewError` says how many rows
    each split would have had.
    """
    fr = np.asarray(fractions, dtype=float)
    if fr.shape != (3,) or np.any(fr <= 0) or not np.isclose(fr.sum(), 1.0):
        raise CrossviewError(
            "split fractions must be three positive numbers summing to 1 "
            f"(train, val, test); got {tuple(fractions)}"
        )
    X, Y = check_views(X, Y, min_samples=6, dtype=np.float32, warn_constant=False)
    n = X.shape[0]
    if labels is not None:
        labels = check_labels(labels, n)
    n_train, n_val = int(round(fr[0] * n)), int(round(fr[1] * n))
    sizes = (n_train, n_val, n - n_train - n_val)
    if min(sizes) < 2:
        raise CrossviewError(
            f"splitting {n} rows by {tuple(fractions)} gives train/val/test "
            f"sizes {sizes}; each split needs at least 2 rows"
        )
    order = check_random_state(random_state).permutation(n)
    cuts = {
        "train": order[:n_train],
        "val": order[n_train : n_train + n_val],
        "test": order[n_train + n_val :],
    }
    parts = {
        s: TwoViewData(X[idx], Y[idx], None if labels is None else labels[idx], name=f"{name}/{s}")
        for s, idx in cuts.items()
    }
    return TwoViewDataset(
        name, description=f"{n} paired rows split {sizes} (seed {random_state})", **parts
    )
