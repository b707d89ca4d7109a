"""Orthogonal Procrustes maps: exact recovery of rotations, Artetxe et al.'s pipeline steps."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from scipy.stats import special_ortho_group

from crossview import CrossviewError
from crossview.linear import Procrustes


@pytest.fixture
def rotated(rng):
    X = rng.standard_normal((200, 6)) * [3, 2, 1.5, 1, 0.5, 0.2] + 1.0
    R = special_ortho_group.rvs(6, random_state=1)
    return X, X @ R, R


def test_rotation_recovered_without_normalisation(rotated):
    X, Y, R = rotated
    m = Procrustes(normalize=()).fit(X, Y)
    np.testing.assert_allclose(m.coef_xy_, R, atol=1e-10)
    np.testing.assert_allclose(m.coef_yx_, R.T, atol=1e-10)
    np.testing.assert_allclose(m.predict(X), Y, atol=1e-10)
    np.testing.assert_allclose(m.predict_x(Y), X, atol=1e-10)
    np.testing.assert_allclose(m.transform(X), m.transform_y(Y), atol=1e-10)
    assert m.score(X, Y) == pytest.approx(1.0)


def test_rotation_recovered_with_default_pipeline(rotated):
    X, Y, R = rotated
    m = Procrustes().fit(X, Y)
    assert m.get_params()["normalize"] == ("unit", "center", "unit")
    np.testing.assert_allclose(m.coef_xy_, R, atol=1e-10)
    np.testing.assert_allclose(m.predict(X), m.normalize_y(Y), atol=1e-10)
    # the normalised views: unit rows after centring
    np.testing.assert_allclose(np.linalg.norm(m.normalize_x(X), axis=1), 1.0)


@pytest.mark.parametrize("reweight", [None, 0.5, 1.0])
def test_rotation_recovered_with_whitening_steps(rotated, reweight):
    X, Y, R = rotated
    m = Procrustes(whiten=True, reweight=reweight, dewhiten=True).fit(X, Y)
    np.testing.assert_allclose(m.predict(X), m.normalize_y(Y), atol=1e-9)
    np.testing.assert_allclose(m.predict_x(Y), m.normalize_x(X), atol=1e-9)


def test_matches_scipy_orthogonal_procrustes_on_noisy_data(rotated, rng):
    X, Y, _ = rotated
    Y = Y + 0.3 * rng.standard_normal(Y.shape)
    m = Procrustes(normalize=()).fit(X, Y)
    R_ref, _ = scipy.linalg.orthogonal_procrustes(X, Y)
    np.testing.assert_allclose(m.coef_xy_, R_ref, atol=1e-10)
    np.testing.assert_allclose(m.coef_xy_ @ m.coef_xy_.T, np.eye(6), atol=1e-10)


def test_whitening_makes_the_mapped_views_white(rotated, rng):
    X, _, _ = rotated
    Y = rng.standard_normal((200, 6))
    m = Procrustes(normalize=(), whiten=True).fit(X, Y)
    Zx, Zy = m.transform(X), m.transform_y(Y)
    np.testing.assert_allclose(Zx.T @ Zx, np.eye(6), atol=1e-10)
    np.testing.assert_allclose(Zy.T @ Zy, np.eye(6), atol=1e-10)
    # step 2: the cross-product of the whitened views is diagonal with the singular values
    np.testing.assert_allclose(Zx.T @ Zy, np.diag(m.singular_values_), atol=1e-10)


def test_different_widths(rng):
    X = rng.standard_normal((100, 5))
    Q = np.linalg.qr(rng.standard_normal((7, 5)))[0].T  # (5, 7) with orthonormal rows
    Y = X @ Q
    m = Procrustes(normalize=()).fit(X, Y)
    assert m.x_map_.shape == (5, 5) and m.y_map_.shape == (7, 5)
    np.testing.assert_allclose(m.coef_xy_, Q, atol=1e-10)
    np.testing.assert_allclose(m.predict(X), Y, atol=1e-10)
    np.testing.assert_allclose(m.predict_x(Y), X, atol=1e-10)
    m = Procrustes().fit(Y, X)  # and the other way round, with the default pipeline
    assert m.predict(Y).shape == (100, 5)


def test_dimensionality_reduction(rotated):
    X, Y, _ = rotated
    m = Procrustes(n_components=2).fit(X, Y)
    assert m.transform(X).shape == (200, 2)
    assert m.predict(X).shape == (200, 6)


def test_zero_rows_stay_zero(rotated):
    X, Y, _ = rotated
    m = Procrustes(normalize=("unit",)).fit(X, Y)
    out = m.predict(np.zeros((2, 6)))
    np.testing.assert_array_equal(out, 0.0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"normalize": ("unit", "l2")}, "unknown normalize step 'l2'"),
        ({"normalize": "l2"}, "'normalize' parameter of Procrustes .* Got 'l2'"),
        ({"normalize": 3}, "'normalize' parameter of Procrustes must be an array-like, .* Got 3"),
        ({"whiten": "yes"}, "'whiten' parameter of Procrustes must be an instance of 'bool'"),
        ({"dewhiten": True}, "dewhiten=True needs whiten=True"),
        ({"n_components": 7}, "n_components=7 is out of range"),
        (
            {"n_components": 0},
            r"'n_components' parameter of Procrustes must be an int in the "
            r"range \[1,",
        ),
        (
            {"reweight": -0.5},
            r"'reweight' parameter of Procrustes must be a float in the range \[0.0,",
        ),
    ],
)
def test_bad_parameters(rotated, kwargs, match):
    X, Y, _ = rotated
    with pytest.raises(CrossviewError, match=match):
        Procrustes(**kwargs).fit(X, Y)


def test_bad_input(rotated):
    X, Y, _ = rotated
    with pytest.raises(CrossviewError, match="different numbers of rows"):
        Procrustes().fit(X, Y[:10])
    m = Procrustes().fit(X, Y)
    with pytest.raises(CrossviewError, match="view Y has 5 features"):
        m.predict_x(Y[:, :5])
