"""Digits halves and the TwoViewData / TwoViewDataset containers."""

import numpy as np
import pytest

from crossview.base import CrossviewError
from crossview.datasets import TwoViewData, load_digits_halves


def test_digits_halves_shapes_range_and_split():
    data = load_digits_halves(random_state=0)
    sizes = [len(d) for d in data.splits().values()]
    assert sizes == [1078, 359, 360]
    for d in data.splits().values():
        assert d.X.shape[1] == 32 and d.Y.shape[1] == 32
        assert d.X.dtype == np.float32 and d.labels.dtype == np.int64
        assert d.X.min() >= 0 and max(d.X.max(), d.Y.max()) <= 1


def test_digits_halves_reassemble_and_seed():
    from sklearn.datasets import load_digits

    digits = load_digits()
    a, b, c = load_digits_halves(0), load_digits_halves(0), load_digits_halves(1)
    np.testing.assert_array_equal(a.train.X, b.train.X)
    assert not np.array_equal(a.train.labels, c.train.labels)
    whole = np.concatenate([a.test.X.reshape(-1, 8, 4), a.test.Y.reshape(-1, 8, 4)], axis=2) * 16
    # every reassembled test image is one of the original images with the same label
    index = {
        img.tobytes(): lab for img, lab in zip(digits.images.astype(np.float32), digits.target)
    }
    assert all(index[img.tobytes()] == lab for img, lab in zip(whole, a.test.labels))
    all_labels = np.concatenate([d.labels for d in a.splits().values()])
    assert np.array_equal(np.bincount(all_labels), np.bincount(digits.target))


def test_bad_fractions():
    with pytest.raises(CrossviewError, match="fractions"):
        load_digits_halves(fractions=(0.5, 0.5, 0.5))


def test_two_view_data_checks_and_converts():
    d = TwoViewData(np.zeros((3, 2)), np.ones((3, 1)), np.array([0.0, 1.0, 2.0]), name="t")
    assert d.X.dtype == np.float32 and d.labels.dtype == np.int64 and len(d) == 3
    with pytest.raises(CrossviewError, match="X has 3 rows and Y has 2"):
        TwoViewData(np.zeros((3, 2)), np.zeros((2, 2)))
    with pytest.raises(CrossviewError, match="labels have shape"):
        TwoViewData(np.zeros((3, 2)), np.zeros((3, 2)), labels=[1, 2])
    assert TwoViewData(np.zeros((2, 1)), np.zeros((2, 1))).labels is None


def test_dataset_indexing():
    data = load_digits_halves()
    assert data["val"] is data.val
    with pytest.raises(CrossviewError, match="unknown split"):
        data["dev"]
    assert "train 1078" in repr(data)
