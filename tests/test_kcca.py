"""Kernel CCA: agreement with linear CCA, Nystrom against exact, solver choice, errors."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from crossview import CrossviewError
from crossview.kernel import KernelCCA
from crossview.kernel.kcca import exact_memory_mb, kernel_matrix
from crossview.linear import CCA


def views(rng, n=120, d=4):
    X = rng.standard_normal((n, d))
    Y = X @ rng.standard_normal((d, d)) + 0.5 * rng.standard_normal((n, d))
    return X, Y


def match_signs(A, B):
    """Flip the columns of B to agree in sign with A."""
    return B * np.sign(np.sum(A * B, axis=0))


def test_linear_kernel_equals_cca(rng):
    X, Y = views(rng)
    d = X.shape[1]
    cca = CCA(n_components=3, alpha=0.1).fit(X, Y)
    # CCA's ridge is alpha * mean variance, KernelCCA's is alpha * total variance
    kcca = KernelCCA(n_components=3, kernel="linear", alpha=0.1 / d, method="exact").fit(X, Y)
    np.testing.assert_allclose(
        kcca.canonical_correlations_, cca.canonical_correlations_, rtol=1e-10
    )
    Xn, Yn = rng.standard_normal((30, d)), rng.standard_normal((30, d))
    Zc, Zk = cca.transform(Xn), kcca.transform(Xn)
    np.testing.assert_allclose(match_signs(Zc, Zk), Zc, atol=1e-9)
    np.testing.assert_allclose(kcca.predict(Xn), cca.predict(Xn), atol=1e-9)
    np.testing.assert_allclose(kcca.predict_x(Yn), cca.predict_x(Yn), atol=1e-9)


@pytest.mark.parametrize("kernel, gamma", [("rbf", 0.2), ("rbf", None), ("poly", None)])
def test_nystrom_with_all_rows_equals_exact(rng, kernel, gamma):
    X, Y = views(rng, n=80)
    kw = dict(n_components=4, kernel=kernel, gamma=gamma, degree=2, alpha=1e-3)
    exact = KernelCCA(method="exact", **kw).fit(X, Y)
    nys = KernelCCA(method="nystrom", n_landmarks=500, random_state=0, **kw).fit(X, Y)
    assert exact.method_ == "exact" and nys.method_ == "nystrom"
    assert nys.x_basis_.shape[0] == 80  # landmarks capped at n
    np.testing.assert_allclose(
        nys.canonical_correlations_, exact.canonical_correlations_, rtol=1e-7
    )
    Xn, Yn = rng.standard_normal((20, 4)), rng.standard_normal((20, 4))
    np.testing.assert_allclose(nys.transform(Xn), exact.transform(Xn), atol=1e-6)
    np.testing.assert_allclose(nys.transform_y(Yn), exact.transform_y(Yn), atol=1e-6)
    np.testing.assert_allclose(nys.predict(Xn), exact.predict(Xn), atol=1e-6)


def test_exact_training_variates_are_centred_kernel_projections(rng):
    """Training codes from transform() equal the centred-kernel features times the weights."""
    X, Y = views(rng, n=50)
    m = KernelCCA(n_components=2, gamma=0.3, method="exact", alpha=1e-2).fit(X, Y)
    Z = m.transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-10)
    K = kernel_matrix(X, X, "rbf", 0.3, 3, 1.0)
    H = np.eye(50) - 1.0 / 50
    np.testing.assert_allclose(Z, H @ K @ m.x_dual_coef_, atol=1e-9)


def test_finds_a_nonlinear_relation_that_cca_misses(rng):
    x = rng.uniform(-2, 2, size=(400, 1))
    X = np.hstack([x, rng.standard_normal((400, 1))])
    Y = np.hstack([x**2, rng.standard_normal((400, 1))]) + 0.05 * rng.standard_normal((400, 2))
    Xt, Yt = X[300:], Y[300:]
    lin = CCA(n_components=1).fit(X[:300], Y[:300])
    ker = KernelCCA(n_components=1, alpha=1e-2, random_state=0).fit(X[:300], Y[:300])
    assert lin.score(Xt, Yt) < 0.3
    assert ker.score(Xt, Yt) > 0.9


def test_auto_picks_solver_by_memory(rng, caplog):
    X, Y = views(rng, n=100)
    with caplog.at_level(logging.INFO, logger="crossview.kernel.kcca"):
        assert KernelCCA().fit(X, Y).method_ == "exact"
    assert "exact solver for 100 rows" in caplog.text
    tiny = exact_memory_mb(100) / 2
    m = KernelCCA(max_memory_mb=tiny, n_landmarks=30, random_state=0).fit(X, Y)
    assert m.method_ == "nystrom" and m.x_basis_.shape == (30, 4)
    with pytest.raises(CrossviewError, match="needs about .* MB, more than max_memory_mb"):
        KernelCCA(method="exact", max_memory_mb=tiny).fit(X, Y)
    assert exact_memory_mb(50_000) > 40_000  # the documented scale: tens of GB
    # more rows than landmarks: Nystrom, even when the exact solver would fit in memory
    assert KernelCCA(n_landmarks=50, random_state=0).fit(X, Y).method_ == "nystrom"


def test_median_heuristic_gamma(rng):
    X, Y = views(rng, n=60)
    m = KernelCCA().fit(X, Y)
    assert m.gamma_x_ == pytest.approx(2.0 / np.median(pdist(X, "sqeuclidean")))
    assert m.gamma_y_ == pytest.approx(2.0 / np.median(pdist(Y, "sqeuclidean")))
    m = KernelCCA(gamma=(0.1, 0.2)).fit(X, Y)
    assert (m.gamma_x_, m.gamma_y_) == (0.1, 0.2)
    m = KernelCCA(kernel="poly").fit(X, Y)
    assert m.gamma_x_ == 0.25


def test_nystrom_is_deterministic_given_random_state(rng):
    X, Y = views(rng, n=200)
    a = KernelCCA(method="nystrom", n_landmarks=50, random_state=3).fit(X, Y)
    b = KernelCCA(method="nystrom", n_landmarks=50, random_state=3).fit(X, Y)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))


def test_nystrom_blocks_and_progress_bar(rng, monkeypatch):
    """Blocked accumulation gives the same result as one block (and verbose runs)."""
    import crossview.kernel.kcca as kcca_mod

    X, Y = views(rng, n=700)
    kw = dict(method="nystrom", n_landmarks=40, random_state=0, n_components=3)
    one = KernelCCA(**kw).fit(X, Y)
    monkeypatch.setattr(kcca_mod, "_block_rows", lambda m: 64)
    many = KernelCCA(verbose=True, **kw).fit(X, Y)
    np.testing.assert_allclose(many.transform(X), one.transform(X), atol=1e-9)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"kernel": "sigmoid"}, "'kernel' parameter of KernelCCA must be a str among .*'poly'"),
        ({"method": "fast"}, "'method' parameter of KernelCCA must be a str among .*'nystrom'"),
        (
            {"alpha": -1},
            r"'alpha' parameter of KernelCCA must be a float in the range \[0.0, inf\)",
        ),
        (
            {"gamma": -1.0},
            r"'gamma' parameter of KernelCCA must be a float in the range \(0.0, inf\)",
        ),
        ({"gamma": (1.0, -2.0)}, "gamma must be positive"),
        ({"gamma": (1.0, 2.0, 3.0)}, "pair"),
        (
            {"n_landmarks": 0},
            r"'n_landmarks' parameter of KernelCCA must be an int in the range \[1,",
        ),
        ({"kernel": "poly", "degree": 0}, "'degree' parameter of KernelCCA .* Got 0"),
        ({"max_memory_mb": "lots"}, "'max_memory_mb' parameter of KernelCCA"),
        ({"random_state": "seed"}, "'random_state' parameter of KernelCCA"),
        ({"n_components": 200}, "n_components=200 is out of range"),
    ],
)
def test_bad_parameters(rng, kwargs, match):
    X, Y = views(rng, n=40)
    with pytest.raises(CrossviewError, match=match):
        KernelCCA(**kwargs).fit(X, Y)


def test_more_components_than_kernel_rank(rng):
    X, Y = views(rng, n=40)
    with pytest.raises(CrossviewError, match="kernel features support"):
        KernelCCA(n_components=6, kernel="linear").fit(X, Y)


def test_bad_input(rng):
    X, Y = views(rng, n=40)
    with pytest.raises(CrossviewError, match="different numbers of rows"):
        KernelCCA().fit(X, Y[:-1])
    Xb = X.copy()
    Xb[0, 0] = np.inf
    with pytest.raises(CrossviewError, match="inf"):
        KernelCCA().fit(Xb, Y)
    m = KernelCCA().fit(X, Y)
    with pytest.raises(CrossviewError, match="view X has 3 features"):
        m.transform(X[:, :3])
