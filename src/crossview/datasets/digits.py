"""scikit-learn's 8x8 digits as left/right halves: a small offline two-view set for demos."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from ..exceptions import CrossviewError
from .base import TwoViewData, TwoViewDataset


def load_digits_halves(
    random_state=0, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)
) -> TwoViewDataset:
    """Load the 1,797 sklearn digits as left (X) / right (Y) halves, shuffled and split.

    X is columns 0-3 and Y columns 4-7 of each 8x8 image, flattened to 32 values scaled to
    [0, 1] (pixel / 16), float32. Rows are shuffled with ``random_state`` and cut into train,
    val and test by ``fractions`` (default 60/20/20: 1078 / 359 / 360 rows). Needs no download.
    """
    from sklearn.datasets import load_digits

    fr = np.asarray(fractions, dtype=float)
    if fr.shape != (3,) or np.any(fr <= 0) or not np.isclose(fr.sum(), 1.0):
        raise CrossviewError(
            "fractions must be three positive numbers summing to 1 (train, val, test); "
            f"got {fractions}"
        )
    digits = load_digits()
    images = digits.images.astype(np.float32) / np.float32(16.0)
    labels = digits.target.astype(np.int64)
    n = images.shape[0]
    order = check_random_state(random_state).permutation(n)
    n_train = int(round(fr[0] * n))
    n_val = int(round(fr[1] * n))
    cuts = {
        "train": order[:n_train],
        "val": order[n_train : n_train + n_val],
        "test": order[n_train + n_val :],
    }
    data = {
        split: TwoViewData(
            images[idx, :, :4].reshape(len(idx), -1),
            images[idx, :, 4:].reshape(len(idx), -1),
            labels[idx],
            name=f"digits-halves/{split}",
        )
        for split, idx in cuts.items()
    }
    return TwoViewDataset(
        "digits-halves",
        description="sklearn 8x8 digits, left (X) and right (Y) halves, 32 pixels each",
        **data,
    )
