"""Regularised closed-form CCA: planted correlations, the regularised eigenproblem, streaming."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from crossview import CrossviewError
from crossview.base import ConstantColumnWarning
from crossview.linear import CCA


def planted(rng, n=20000, rho=(0.9, 0.6, 0.3), dx=6, dy=5):
    """Views whose canonical correlations are exactly ``rho`` in the population."""
    rho = np.asarray(rho)
    k = rho.size
    Zx = rng.standard_normal((n, k))
    Zy = rho * Zx + np.sqrt(1 - rho**2) * rng.standard_normal((n, k))
    X = np.hstack([Zx, rng.standard_normal((n, dx - k))]) @ rng.standard_normal((dx, dx))
    Y = np.hstack([Zy, rng.standard_normal((n, dy - k))]) @ rng.standard_normal((dy, dy))
    return X + 3.0, Y - 2.0


def test_planted_correlations_recovered(rng):
    X, Y = planted(rng)
    m = CCA(n_components=3, alpha=0).fit(X, Y)
    np.testing.assert_allclose(m.canonical_correlations_, [0.9, 0.6, 0.3], atol=0.02)
    # unregularised: training variates are white and their correlations are the reported ones
    Zx, Zy = m.transform(X), m.transform_y(Y)
    np.testing.assert_allclose(np.cov(Zx.T), np.eye(3), atol=1e-8)
    np.testing.assert_allclose(np.cov(Zy.T), np.eye(3), atol=1e-8)
    corr = np.corrcoef(Zx.T, Zy.T)[:3, 3:]
    np.testing.assert_allclose(np.diag(corr), m.canonical_correlations_, atol=1e-10)
    assert m.score(X, Y) == pytest.approx(m.canonical_correlations_.sum(), abs=1e-10)


def test_matches_regularised_generalised_eigenproblem(rng):
    """Correlations and weights solve [0 Cxy; Cyx 0] w = rho blockdiag(Cxx+rxI, Cyy+ryI) w."""
    X, Y = planted(rng, n=300)
    alpha = 0.05
    m = CCA(n_components=3, alpha=alpha).fit(X, Y)
    C = np.cov(np.hstack([X, Y]).T)
    dx = X.shape[1]
    Cxx, Cyy, Cxy = C[:dx, :dx], C[dx:, dx:], C[:dx, dx:]
    Rx = Cxx + alpha * np.mean(np.diag(Cxx)) * np.eye(dx)
    Ry = Cyy + alpha * np.mean(np.diag(Cyy)) * np.eye(Y.shape[1])
    A = np.block([[np.zeros_like(Cxx), Cxy], [Cxy.T, np.zeros_like(Cyy)]])
    B = scipy.linalg.block_diag(Rx, Ry)
    evals = scipy.linalg.eigh(A, B, eigvals_only=True)[::-1]
    np.testing.assert_allclose(m.canonical_correlations_, evals[:3], rtol=1e-10)
    # the weights are normalised in the regularised metric and satisfy the eigen-equation
    w = np.vstack([m.x_weights_, m.y_weights_])
    np.testing.assert_allclose(m.x_weights_.T @ Rx @ m.x_weights_, np.eye(3), atol=1e-10)
    np.testing.assert_allclose(A @ w, B @ w * m.canonical_correlations_, atol=1e-10)


def test_order_and_deterministic_signs(rng):
    X, Y = planted(rng, n=2000)
    m = CCA(n_components=3).fit(X, Y)
    assert np.all(np.diff(m.canonical_correlations_) <= 0)
    idx = np.argmax(np.abs(m.x_weights_), axis=0)
    assert np.all(m.x_weights_[idx, range(3)] > 0)
    m2 = CCA(n_components=3).fit(X[::-1], Y[::-1])  # row order does not matter
    np.testing.assert_allclose(m2.x_weights_, m.x_weights_, atol=1e-10)


def test_alpha_is_scale_free(rng):
    X, Y = planted(rng, n=500)
    a = CCA(n_components=3, alpha=0.1).fit(X, Y)
    b = CCA(n_components=3, alpha=0.1).fit(1000 * X, 0.01 * Y)
    np.testing.assert_allclose(a.canonical_correlations_, b.canonical_correlations_, rtol=1e-10)
    np.testing.assert_allclose(a.transform(X), b.transform(1000 * X), atol=1e-8)


def test_predict_is_least_squares_on_the_variates(rng):
    X, Y = planted(rng, n=400)
    m = CCA(n_components=2, alpha=1e-2).fit(X, Y)
    for Z, target, pred in (
        (m.transform(X), Y, m.predict(X)),
        (m.transform_y(Y), X, m.predict_x(Y)),
    ):
        design = np.hstack([np.ones((Z.shape[0], 1)), Z])
        coef = np.linalg.lstsq(design, target, rcond=None)[0]
        np.testing.assert_allclose(pred, design @ coef, atol=1e-10)


def test_partial_fit_equals_fit(rng):
    X, Y = planted(rng, n=5000)
    X, Y = X + 1e3, Y - 1e3  # far from the origin: naive sums of squares would lose digits
    full = CCA(n_components=3, alpha=1e-3).fit(X, Y)
    part = CCA(n_components=3, alpha=1e-3)
    for chunk in np.array_split(np.arange(X.shape[0]), [2, 7, 1000, 1001, 3333]):
        part.partial_fit(X[chunk], Y[chunk])
    assert part.n_samples_seen_ == X.shape[0]
    for name in (
        "x_weights_",
        "y_weights_",
        "canonical_correlations_",
        "coef_xy_",
        "coef_yx_",
        "mean_x_",
        "mean_y_",
    ):
        np.testing.assert_allclose(
            getattr(part, name), getattr(full, name), rtol=0, atol=1e-10, err_msg=name
        )
    np.testing.assert_allclose(part.transform(X), full.transform(X), atol=1e-9)


def test_partial_fit_continues_after_load(rng, tmp_path):
    import crossview

    X, Y = planted(rng, n=600)
    a = CCA(n_components=2).partial_fit(X[:300], Y[:300])
    a.save(tmp_path / "m")
    b = crossview.load(tmp_path / "m").partial_fit(X[300:], Y[300:])
    full = CCA(n_components=2).fit(X, Y)
    np.testing.assert_allclose(b.x_weights_, full.x_weights_, atol=1e-10)


def test_fit_resets_partial_fit(rng):
    X, Y = planted(rng, n=600)
    m = CCA(n_components=2).partial_fit(X[:300], Y[:300]).fit(X[300:], Y[300:])
    assert m.n_samples_seen_ == 300


def test_default_regularisation_keeps_constant_columns_finite(rng):
    X, Y = planted(rng, n=200)
    X = np.hstack([X, np.zeros((200, 3))])  # blank "border pixels"
    with pytest.warns(UserWarning, match="constant"):
        m = CCA(n_components=3).fit(X, Y)
    assert np.all(np.isfinite(m.x_weights_))
    assert np.all(m.x_weights_[-3:] == 0)


@pytest.mark.parametrize(
    "kwargs, Xs, Ys, match",
    [
        ({}, (10, 3), (9, 3), "different numbers of rows"),
        ({"n_components": 4}, (10, 3), (10, 5), "n_components=4 is out of range"),
        (
            {"n_components": 0},
            (10, 3),
            (10, 5),
            r"'n_components' parameter of CCA must be an int in the range \[1, inf\)\. Got 0",
        ),
        ({"n_components": 1.5}, (10, 3), (10, 5), "'n_components' parameter of CCA .* Got 1.5"),
        (
            {"alpha": -1},
            (10, 3),
            (10, 5),
            r"'alpha' parameter of CCA must be a float in the range \[0.0, inf\)\. Got -1",
        ),
        ({"alpha": float("inf")}, (10, 3), (10, 5), "'alpha' parameter of CCA .* Got inf"),
        ({}, (1, 3), (1, 3), "at least 2"),
    ],
)
def test_bad_fit_input(rng, kwargs, Xs, Ys, match):
    with pytest.raises(CrossviewError, match=match):
        CCA(**kwargs).fit(rng.standard_normal(Xs), rng.standard_normal(Ys))


def test_partial_fit_checks_the_parameters_of_every_chunk(rng):
    X, Y = rng.standard_normal((10, 3)), rng.standard_normal((10, 5))
    with pytest.raises(CrossviewError, match="'alpha' parameter of CCA"):
        CCA(alpha="big").partial_fit(X, Y)
    m = CCA(n_components=1).partial_fit(X, Y)
    with pytest.raises(CrossviewError, match="'n_components' parameter of CCA .* Got -1"):
        m.set_params(n_components=-1).partial_fit(X, Y)


def test_bad_transform_input(rng):
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 4))
    m = CCA().fit(X, Y)
    with pytest.raises(CrossviewError, match="view X has 4 features.*fitted with 3"):
        m.transform(Y)
    with pytest.raises(CrossviewError, match="view Y has 3 features.*fitted with 4"):
        m.predict_x(X)
    bad = X.copy()
    bad[2, 1] = np.nan
    with pytest.raises(CrossviewError, match="1 NaN"):
        m.transform(bad)
    with pytest.raises(CrossviewError, match="NaN"):
        CCA().fit(bad, Y)
    with pytest.raises(CrossviewError, match="earlier chunks had 3"):
        CCA().partial_fit(X, Y).partial_fit(Y, Y)


def test_constant_view_is_an_error(rng):
    with (
        pytest.raises(CrossviewError, match="every column is constant"),
        pytest.warns(ConstantColumnWarning, match="view X has 2 constant column"),
    ):
        CCA(n_components=1).fit(np.ones((10, 2)), rng.standard_normal((10, 2)))
