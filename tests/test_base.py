"""check_views / check_view / check_labels: every bad input gives its own clear error."""

import warnings

import numpy as np
import pytest

from crossview.base import (
    ConstantColumnWarning,
    CrossviewError,
    check_labels,
    check_view,
    check_views,
    count_constant_columns,
)


def test_valid_views_pass_through_as_float64(rng):
    X, Y = rng.normal(size=(5, 3)), rng.integers(0, 5, size=(5, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Xa, Ya = check_views(X, Y)
    assert Xa.dtype == np.float64 and Ya.dtype == np.float64
    assert Xa.shape == (5, 3) and Ya.shape == (5, 2)


def test_crossview_error_is_a_value_error():
    assert issubclass(CrossviewError, ValueError)


def test_different_row_counts(rng):
    with pytest.raises(CrossviewError, match=r"different numbers of rows: X has 5 .* Y has 4"):
        check_views(rng.normal(size=(5, 2)), rng.normal(size=(4, 2)))


def test_nan_is_counted_and_named(rng):
    X = rng.normal(size=(6, 3))
    X[1, 0] = X[1, 2] = np.nan
    with pytest.raises(CrossviewError, match=r"view X .* 2 NaN and 0 inf in 1 of 6 rows"):
        check_views(X, rng.normal(size=(6, 2)))


def test_inf_is_counted_and_named(rng):
    Y = rng.normal(size=(6, 2))
    Y[0, 0], Y[3, 1], Y[4, 0] = np.inf, -np.inf, np.nan
    with pytest.raises(CrossviewError, match=r"view Y .* 1 NaN and 2 inf in 3 of 6 rows"):
        check_views(rng.normal(size=(6, 2)), Y)


@pytest.mark.parametrize("bad", [np.empty((0, 3)), np.empty((4, 0))])
def test_empty(bad, rng):
    with pytest.raises(CrossviewError, match="view X is empty"):
        check_views(bad, rng.normal(size=(4, 3)))


def test_one_dimensional_suggests_reshape(rng):
    with pytest.raises(CrossviewError, match=r"1-D .* \.reshape\(-1, 1\)"):
        check_views(np.arange(5.0), rng.normal(size=(5, 2)))


def test_three_dimensional(rng):
    with pytest.raises(CrossviewError, match="has 3 dimensions"):
        check_views(np.zeros((5, 2, 2)), rng.normal(size=(5, 2)))


def test_non_numeric_strings(rng):
    with pytest.raises(CrossviewError, match="view Y holds non-numeric data"):
        check_views(rng.normal(size=(2, 2)), np.array([["a", "b"], ["c", "d"]]))


def test_numeric_strings_are_converted():
    Xa, _ = check_views(np.array([["1", "2"], ["3", "4"]]), np.ones((2, 1)) * [[1], [2]])
    assert Xa.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_complex_and_none(rng):
    with pytest.raises(CrossviewError, match="complex"):
        check_views(np.ones((3, 2)) * 1j, rng.normal(size=(3, 2)))
    with pytest.raises(CrossviewError, match="missing"):
        check_views(None, rng.normal(size=(3, 2)))


def test_too_few_rows(rng):
    with pytest.raises(CrossviewError, match="1 rows; this method needs at least 2"):
        check_views(rng.normal(size=(1, 2)), rng.normal(size=(1, 2)))
    with pytest.raises(CrossviewError, match="at least 10"):
        check_views(rng.normal(size=(5, 2)), rng.normal(size=(5, 2)), min_samples=10)


def test_constant_column_warning(rng):
    X = rng.normal(size=(6, 3))
    X[:, 1] = 4.0
    with pytest.warns(ConstantColumnWarning, match="view X has 1 constant column"):
        check_views(X, rng.normal(size=(6, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_views(X, rng.normal(size=(6, 2)), warn_constant=False)
    assert count_constant_columns(X) == 1


def test_check_view_feature_count(rng):
    with pytest.raises(CrossviewError, match="has 3 features .* fitted with 4"):
        check_view(rng.normal(size=(5, 3)), "X", n_features=4)


def test_sparse_input_is_densified():
    from scipy import sparse

    Xa = check_view(sparse.csr_matrix(np.eye(3)))
    assert isinstance(Xa, np.ndarray) and Xa.trace() == 3


def test_check_labels():
    assert check_labels([[1], [2], [3]], 3).shape == (3,)
    with pytest.raises(CrossviewError, match="has 2 entries; expected 3"):
        check_labels([1, 2], 3)
    with pytest.raises(CrossviewError, match="must be 1-D"):
        check_labels(np.zeros((3, 2)), 3)
    with pytest.raises(CrossviewError, match="NaN or inf"):
        check_labels([1.0, np.nan, 2.0], 3)
