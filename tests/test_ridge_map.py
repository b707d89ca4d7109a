"""Ridge maps: closed form against least squares and scikit-learn, LOO/GCV against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from crossview import CrossviewError
from crossview.linear import RidgeMap


def views(rng, n=60, dx=5, dy=4, noise=0.5):
    X = rng.standard_normal((n, dx)) * [1, 2, 3, 0.5, 1][:dx] + 4
    Y = X @ rng.standard_normal((dx, dy)) + noise * rng.standard_normal((n, dy)) - 1
    return X, Y


def lstsq_with_intercept(A, B):
    design = np.hstack([np.ones((A.shape[0], 1)), A])
    return np.linalg.lstsq(design, B, rcond=None)[0]


def test_alpha_zero_is_least_squares(rng):
    X, Y = views(rng)
    m = RidgeMap(alpha=0).fit(X, Y)
    for A, B, pred in ((X, Y, m.predict(X)), (Y, X, m.predict_x(Y))):
        coef = lstsq_with_intercept(A, B)
        np.testing.assert_allclose(
            pred, np.hstack([np.ones((A.shape[0], 1)), A]) @ coef, atol=1e-10
        )
    np.testing.assert_allclose(m.coef_xy_, lstsq_with_intercept(X, Y)[1:], atol=1e-10)


def test_alpha_zero_wide_data_is_minimum_norm(rng):
    X, Y = rng.standard_normal((8, 20)), rng.standard_normal((8, 3))
    m = RidgeMap(alpha=0).fit(X, Y)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    np.testing.assert_allclose(m.coef_xy_, np.linalg.pinv(Xc) @ Yc, atol=1e-10)
    np.testing.assert_allclose(m.predict(X), Y, atol=1e-10)  # interpolates the training rows


def test_matches_sklearn_ridge(rng):
    X, Y = views(rng)
    m = RidgeMap(alpha=3.0).fit(X, Y)
    ref = Ridge(alpha=3.0).fit(X, Y)
    np.testing.assert_allclose(m.coef_xy_, ref.coef_.T, atol=1e-10)
    np.testing.assert_allclose(m.predict(X[:5]), ref.predict(X[:5]), atol=1e-10)
    ref_yx = Ridge(alpha=3.0).fit(Y, X)
    np.testing.assert_allclose(m.predict_x(Y[:5]), ref_yx.predict(Y[:5]), atol=1e-10)


def brute_force_loo(A, B, alpha):
    """Refit ridge with intercept n times, each time leaving one row out."""
    n = A.shape[0]
    total = 0.0
    for i in range(n):
        keep = np.arange(n) != i
        model = Ridge(alpha=alpha, solver="svd").fit(A[keep], B[keep]) if alpha > 0 else None
        if model is None:
            coef = lstsq_with_intercept(A[keep], B[keep])
            pred = np.concatenate([[1.0], A[i]]) @ coef
        else:
            pred = model.predict(A[i : i + 1])[0]
        total += np.sum((B[i] - pred) ** 2)
    return total / n


def test_loo_matches_brute_force(rng):
    X, Y = views(rng, n=30)
    alphas = [0.0, 0.01, 0.3, 3.0, 30.0, 300.0]
    m = RidgeMap(alphas=alphas, cv="loo").fit(X, Y)
    brute_xy = [brute_force_loo(X, Y, a) for a in alphas]
    brute_yx = [brute_force_loo(Y, X, a) for a in alphas]
    np.testing.assert_allclose(m.cv_errors_xy_, brute_xy, rtol=1e-9)
    np.testing.assert_allclose(m.cv_errors_yx_, brute_yx, rtol=1e-9)
    assert m.alpha_xy_ == alphas[int(np.argmin(brute_xy))]
    assert m.alpha_yx_ == alphas[int(np.argmin(brute_yx))]
    # and the chosen alpha is actually used
    np.testing.assert_allclose(m.coef_xy_, RidgeMap(alpha=m.alpha_xy_).fit(X, Y).coef_xy_)


def test_gcv_matches_explicit_hat_matrix(rng):
    X, Y = views(rng, n=25)
    alphas = [0.1, 1.0, 10.0]
    m = RidgeMap(alphas=alphas, cv="gcv").fit(X, Y)
    n = X.shape[0]
    Xc = X - X.mean(0)
    expected = []
    for a in alphas:
        H = np.full((n, n), 1.0 / n) + Xc @ np.linalg.solve(Xc.T @ Xc + a * np.eye(5), Xc.T)
        resid = Y - H @ Y
        expected.append(np.sum(resid**2) / n / (1 - np.trace(H) / n) ** 2)
    np.testing.assert_allclose(m.cv_errors_xy_, expected, rtol=1e-10)


def test_directions_choose_their_own_alpha(rng):
    # Y is a noisy function of X, X is hard to recover from Y: the two directions differ
    X = rng.standard_normal((200, 10))
    Y = X[:, :2] @ rng.standard_normal((2, 3)) + 0.1 * rng.standard_normal((200, 3))
    m = RidgeMap(alphas=np.logspace(-3, 3, 13)).fit(X, Y)
    assert m.alpha_xy_ != m.alpha_yx_


def test_codes_live_in_y_space(rng):
    X, Y = views(rng)
    m = RidgeMap().fit(X, Y)
    np.testing.assert_array_equal(m.transform(X), m.predict(X))
    np.testing.assert_array_equal(m.transform_y(Y), Y)
    assert 0.5 < m.score(X, Y) <= 1.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"alpha": -1.0},
            r"'alpha' parameter of RidgeMap must be a float in the range \[0.0, inf\)",
        ),
        ({"alpha": float("nan")}, "'alpha' parameter of RidgeMap .* Got nan"),
        ({"alphas": 0.5}, "'alphas' parameter of RidgeMap must be an array-like or None"),
        ({"alphas": []}, "non-empty"),
        ({"alphas": [1.0, -2.0]}, ">= 0"),
        ({"alphas": ["a"]}, "non-negative numbers"),
        (
            {"alphas": [1.0], "cv": "kfold"},
            "'cv' parameter of RidgeMap must be a str among .*'gcv'",
        ),
    ],
)
def test_bad_parameters(rng, kwargs, match):
    X, Y = views(rng)
    with pytest.raises(CrossviewError, match=match):
        RidgeMap(**kwargs).fit(X, Y)


def test_bad_input(rng):
    X, Y = views(rng)
    with pytest.raises(CrossviewError, match="different numbers of rows"):
        RidgeMap().fit(X, Y[:-1])
    m = RidgeMap().fit(X, Y)
    with pytest.raises(CrossviewError, match="view X has 4 features"):
        m.predict(Y)
