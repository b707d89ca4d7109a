"""Metrics with known answers (correlations, canonical correlations, transfer, reconstruction)
and the one set of score names they are reported under."""

import warnings

import numpy as np
import pytest

from crossview.base import CrossviewError
from crossview.evaluation import (
    SCORES,
    canonical_correlations,
    canonical_sum_correlation,
    evaluate_codes,
    per_dimension_correlation,
    reconstruction_mse,
    score_codes,
    sum_correlation,
    transfer_accuracy,
)


def test_identical_codes_give_number_of_columns(rng):
    Z = rng.normal(size=(200, 7))
    assert sum_correlation(Z, Z) == pytest.approx(7.0)
    assert sum_correlation(Z, -Z) == pytest.approx(-7.0)
    assert sum_correlation(Z, 3 * Z + 1) == pytest.approx(7.0)


def test_independent_codes_give_about_zero(rng):
    Zx, Zy = rng.normal(size=(5000, 10)), rng.normal(size=(5000, 10))
    assert abs(sum_correlation(Zx, Zy)) < 0.3
    assert np.all(np.abs(per_dimension_correlation(Zx, Zy)) < 0.06)


def test_per_dimension_matches_numpy_and_constant_column_is_zero(rng):
    Zx, Zy = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    Zy[:, 1] += 2 * Zx[:, 1]
    expected = [np.corrcoef(Zx[:, j], Zy[:, j])[0, 1] for j in range(3)]
    np.testing.assert_allclose(per_dimension_correlation(Zx, Zy), expected)
    Zy[:, 2] = 5.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        corr = per_dimension_correlation(Zx, Zy)
    assert corr[2] == 0.0 and np.all(np.isfinite(corr))


def test_sum_correlation_input_errors(rng):
    with pytest.raises(CrossviewError, match="same number"):
        sum_correlation(rng.normal(size=(5, 2)), rng.normal(size=(5, 3)))
    with pytest.raises(CrossviewError, match="NaN"):
        sum_correlation(np.full((5, 2), np.nan), rng.normal(size=(5, 2)))


def test_canonical_correlations_recover_planted_values(rng):
    n, rho = 20000, np.array([0.9, 0.6, 0.3])
    S = rng.normal(size=(n, 3))
    Zx = np.hstack([S, rng.normal(size=(n, 2))])
    Zy = np.hstack(
        [rho * S + np.sqrt(1 - rho**2) * rng.normal(size=(n, 3)), rng.normal(size=(n, 1))]
    )
    # mix each view with a random invertible map: canonical correlations do not change
    Zx, Zy = Zx @ rng.normal(size=(5, 5)), Zy @ rng.normal(size=(4, 4))
    got = canonical_correlations(Zx, Zy)
    assert got.shape == (4,)
    np.testing.assert_allclose(got[:3], rho, atol=0.02)
    assert got[3] < 0.03
    assert canonical_sum_correlation(Zx, Zy, n_components=3) == pytest.approx(rho.sum(), abs=0.05)


def test_canonical_handles_rank_deficiency(rng):
    Z = rng.normal(size=(100, 3))
    Zx = np.hstack([Z, Z[:, :1] + Z[:, 1:2], np.zeros((100, 1))])  # rank 3 of 5 columns
    assert canonical_correlations(Zx, Z).shape == (3,)
    assert canonical_sum_correlation(Zx, Z) == pytest.approx(3.0)
    assert canonical_sum_correlation(np.ones((10, 2)), Z[:10]) == 0.0


def test_canonical_regularisation_matches_direct_formula(rng):
    X, Y = rng.normal(size=(300, 4)), rng.normal(size=(300, 3))
    Y[:, 0] += X[:, 0]
    r = 0.1
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    cxx, cyy = Xc.T @ Xc / 299 + r * np.eye(4), Yc.T @ Yc / 299 + r * np.eye(3)
    cxy = Xc.T @ Yc / 299

    def inv_sqrt(C):
        w, V = np.linalg.eigh(C)
        return V @ np.diag(w**-0.5) @ V.T

    expected = np.linalg.svd(inv_sqrt(cxx) @ cxy @ inv_sqrt(cyy), compute_uv=False)
    np.testing.assert_allclose(canonical_correlations(X, Y, reg=r), expected, rtol=1e-10)
    assert canonical_sum_correlation(X, Y, reg=r) < canonical_sum_correlation(X, Y)


def test_sum_and_canonical_differ_on_redundant_columns(rng):
    s = rng.normal(size=(2000, 1))
    Zx = s + 0.5 * rng.normal(size=(2000, 10))  # one shared signal copied into 10 columns
    Zy = s + 0.5 * rng.normal(size=(2000, 10))
    assert sum_correlation(Zx, Zy) > 7  # counts the same signal ten times
    assert canonical_sum_correlation(Zx, Zy, n_components=1) <= 1.0
    assert canonical_sum_correlation(Zx, Zy) < sum_correlation(Zx, Zy)


def test_one_hot_codes_give_full_transfer(rng):
    labels = rng.integers(0, 4, size=400)
    Z = np.eye(4)[labels]
    assert transfer_accuracy(Z, Z, labels) == {"x_to_y": 1.0, "y_to_x": 1.0}


def test_transfer_uses_contiguous_folds_and_swaps_views(rng):
    labels = np.tile(np.arange(3), 100)
    Zx = np.eye(3)[labels] + 0.05 * rng.normal(size=(300, 3))
    Zy = rng.normal(size=(300, 3))  # Y carries nothing
    res = transfer_accuracy(Zx, Zy, labels)
    assert set(res) == {"x_to_y", "y_to_x"}
    assert res["x_to_y"] < 0.6 and res["y_to_x"] < 0.6
    assert 0.0 <= res["x_to_y"] <= 1.0


def test_transfer_with_string_labels(rng):
    labels = np.array(["cat", "dog"] * 50)
    Z = (labels == "dog")[:, None] + 0.01 * rng.normal(size=(100, 2))
    assert transfer_accuracy(Z, Z, labels, folds=4)["x_to_y"] == 1.0


def test_transfer_input_errors(rng):
    Z = rng.normal(size=(10, 2))
    with pytest.raises(CrossviewError, match="labels has 9 entries"):
        transfer_accuracy(Z, Z, np.zeros(9))
    with pytest.raises(CrossviewError, match="folds must be between 2"):
        transfer_accuracy(Z, Z, np.arange(10) % 2, folds=1)
    with pytest.raises(CrossviewError, match="at least 2 classes .* sorted by label"):
        transfer_accuracy(Z, Z, np.repeat([0, 1], [8, 2]), folds=5)


def test_transfer_is_fast_on_benchmark_size(rng):
    import time

    labels = rng.integers(0, 10, size=10000)
    Zx = rng.normal(size=(10, 50))[labels] + 2 * rng.normal(size=(10000, 50))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning leaks out
        transfer_accuracy(Zx, Zx, labels)
    assert time.perf_counter() - start < 30


def test_reconstruction_mse(rng):
    Y = rng.normal(size=(10, 4))
    assert reconstruction_mse(Y, Y) == 0.0
    assert reconstruction_mse(Y, Y + 0.5) == pytest.approx(0.25)
    with pytest.raises(CrossviewError, match="expected the same shape"):
        reconstruction_mse(Y, Y[:, :3])


# ---- one set of score names -------------------------------------------------------------------


def _paired_codes(rng, n=150):
    labels = rng.integers(0, 3, size=n)
    Zx = np.eye(3)[labels] + 0.1 * rng.normal(size=(n, 3))
    return Zx, Zx + 0.1 * rng.normal(size=(n, 3)), labels


def test_codes_are_scored_under_the_shared_names_in_percent(rng):
    Zx, Zy, labels = _paired_codes(rng)
    got = score_codes(Zx, Zy, labels)
    assert set(got) == {"sum_corr", "canonical_sum_corr", "transfer_x_to_y", "transfer_y_to_x"}
    assert got["sum_corr"] == pytest.approx(sum_correlation(Zx, Zy))
    assert got["canonical_sum_corr"] == pytest.approx(canonical_sum_correlation(Zx, Zy))
    fraction = transfer_accuracy(Zx, Zy, labels)["x_to_y"]
    assert got["transfer_x_to_y"] == pytest.approx(100 * fraction)
    assert got["transfer_x_to_y"] > 90
    assert set(score_codes(Zx, Zy[:, :2])) == {"canonical_sum_corr"}  # widths differ


def test_evaluate_codes_uses_the_same_names_as_the_benchmark(rng):
    Zx, Zy, labels = _paired_codes(rng)
    res = evaluate_codes(Zx, Zy, labels, k=(1, 5))
    assert {k: res[k] for k in score_codes(Zx, Zy, labels)} == score_codes(Zx, Zy, labels)
    assert set(res) <= set(SCORES)
    assert set(res["retrieval_x_to_y"]) == {1, 5} and res["retrieval_x_to_y"][5] > 1  # percent


def test_model_scores_tables_and_csv_columns_are_known_score_names(rng):
    from crossview.evaluation.outputs import ROW_COLUMNS
    from crossview.evaluation.runner import score_model
    from crossview.evaluation.tables import METRIC_COLUMNS, SHORT_METRICS, VARIANT_METRICS
    from crossview.linear import CCA

    X = rng.normal(size=(120, 4))
    Y = X @ rng.normal(size=(4, 3)) + 0.1 * rng.normal(size=(120, 3))
    labels = (X[:, 0] > 0).astype(int)
    got = score_model(CCA(n_components=2).fit(X, Y), X, Y, labels)
    assert set(got) == {
        "sum_corr",
        "canonical_sum_corr",
        "transfer_x_to_y",
        "transfer_y_to_x",
        "mse_y_from_x",
        "mse_x_from_y",
        "n_components",
    }
    assert set(METRIC_COLUMNS) | set(SHORT_METRICS) | set(VARIANT_METRICS) <= set(SCORES)
    row_info = {"method", "base_method", "variant", "seed", "params"}
    assert set(ROW_COLUMNS) - row_info <= set(SCORES)
