"""DCCA / DCCAE: the CCA loss against NumPy references, planted shared factors, translation,
final-CCA arrays, model files and input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from deep_synthetic import (
    column_correlations,
    nonlinear_shared,
    numpy_canonical_correlations,
    qr_canonical_correlations,
    translatable,
)
from sklearn.base import clone

from crossview.base import CrossviewError
from crossview.deep.dcca import DCCA, DCCAE, _linear_cca
from crossview.deep.losses import canonical_correlations, cca_loss, inv_sqrtm

FAST = dict(device="cpu", verbose=False, random_state=0)


def _codes(n=300, dx=6, dy=5, seed=0):
    rng = np.random.default_rng(seed)
    Hx = rng.normal(size=(n, dx))
    Hy = Hx[:, :dy] @ rng.normal(size=(dy, dy)) + rng.normal(size=(n, dy))
    return Hx, Hy


# ---- the loss -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 2e-5)])
def test_cca_loss_is_minus_the_sum_of_canonical_correlations(dtype, tol):
    Hx, Hy = _codes()
    hx, hy = torch.tensor(Hx, dtype=dtype), torch.tensor(Hy, dtype=dtype)
    ref = numpy_canonical_correlations(Hx, Hy, eps=1e-4)
    loss = cca_loss(hx, hy, eps=1e-4)
    assert loss.dtype == dtype
    assert abs(float(loss) + ref.sum()) < tol * ref.sum()
    # the top-k variant sums only the k largest
    assert abs(float(cca_loss(hx, hy, n_components=2, eps=1e-4)) + ref[:2].sum()) < tol * 10
    # up to the regularisation, these are the plain canonical correlations (another algorithm)
    plain = qr_canonical_correlations(Hx, Hy)
    got = canonical_correlations(hx, hy, eps=1e-4).double().numpy()
    assert np.allclose(got, plain, atol=1e-3)
    assert np.allclose(
        canonical_correlations(hx, hy, eps=0.0).double().numpy(), plain, atol=10 * tol
    )


def test_cca_loss_gradient_is_exact_and_finite_when_degenerate():
    Hx, Hy = _codes(n=40, dx=4, dy=3)
    hx = torch.tensor(Hx, requires_grad=True)
    hy = torch.tensor(Hy, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: cca_loss(a, b, eps=1e-3), (hx, hy))
    assert torch.autograd.gradcheck(lambda a, b: cca_loss(a, b, n_components=2, eps=1e-3), (hx, hy))
    # repeated eigenvalues (identity) and identical views (all correlations 1) stay finite
    eye = torch.eye(4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: inv_sqrtm(0.5 * (a + a.T)), (eye,))
    h = torch.randn(100, 10, requires_grad=True)
    loss = cca_loss(h, h.detach().clone())
    loss.backward()
    assert abs(float(loss.detach()) + 10) < 1e-2 and torch.isfinite(h.grad).all()


def test_cca_loss_rejects_mismatched_batches():
    with pytest.raises(ValueError, match="same batch size"):
        cca_loss(torch.zeros(5, 2), torch.zeros(4, 2))


def test_linear_cca_helper_matches_reference():
    Hx, Hy = _codes()
    mx, Wx, my, Wy, rho = _linear_cca(Hx, Hy, eps=1e-4)
    assert np.allclose(rho, numpy_canonical_correlations(Hx, Hy, eps=1e-4)[:5])
    Zx, Zy = (Hx - mx) @ Wx, (Hy - my) @ Wy
    assert np.allclose(column_correlations(Zx, Zy), rho, atol=1e-4)
    # canonical variates are uncorrelated with each other (up to the ridge eps)
    C = np.corrcoef(Zx.T)
    assert np.allclose(C - np.diag(np.diag(C)), 0, atol=1e-4)


# ---- DCCA ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_data():
    return nonlinear_shared(n=2000, seed=0), nonlinear_shared(n=1000, seed=5)


@pytest.fixture(scope="module")
def fitted_dcca(shared_data):
    (X, Y), _ = shared_data
    return DCCA(
        n_components=2, x_hidden=(64, 64), epochs=30, batch_size=200, learning_rate=3e-3, **FAST
    ).fit(X, Y)


def test_dcca_finds_planted_nonlinear_shared_factors(shared_data, fitted_dcca):
    (X, Y), (Xt, Yt) = shared_data
    assert _linear_cca(X, Y, 1e-4)[-1][:2].sum() < 0.5  # invisible to linear CCA
    assert np.all(fitted_dcca.canonical_correlations_ > 0.93)
    test_corr = column_correlations(fitted_dcca.transform(Xt), fitted_dcca.transform_y(Yt))
    assert np.all(test_corr > 0.9), test_corr
    hist = fitted_dcca.history_
    assert hist.terms == ["loss", "corr"] and hist.term("corr")[-1] > hist.term("corr")[0]


def test_dcca_in_bfloat16_mixed_precision_finds_the_planted_factors(shared_data):
    (X, Y), (Xt, Yt) = shared_data
    m = DCCA(
        n_components=2,
        x_hidden=(64, 64),
        epochs=30,
        batch_size=200,
        learning_rate=3e-3,
        precision="bfloat16",
        **FAST,
    ).fit(X, Y)
    assert m.module_.encoder_x[0].weight.dtype == torch.float32
    test_corr = column_correlations(m.transform(Xt), m.transform_y(Yt))
    assert np.all(test_corr > 0.9), test_corr


def test_dcca_on_unpaired_rows_finds_no_test_correlation(shared_data):
    (X, Y), (Xt, Yt) = shared_data
    Y_shuffled = Y[np.random.default_rng(0).permutation(len(Y))]
    m = DCCA(
        n_components=2, x_hidden=(64, 64), epochs=10, batch_size=200, learning_rate=3e-3, **FAST
    ).fit(X, Y_shuffled)
    assert np.all(np.abs(column_correlations(m.transform(Xt), m.transform_y(Yt))) < 0.15)


def test_final_cca_is_the_linear_cca_of_the_training_codes(shared_data, fitted_dcca):
    (X, Y), (Xt, _) = shared_data
    raw = clone(fitted_dcca).set_params(final_cca=False)
    for name in ("module_", "n_features_in_", "n_features_in_y_", "history_", *DCCA._EXTRA):
        setattr(raw, name, getattr(fitted_dcca, name))
    Fx = raw.transform(Xt)
    Zx = fitted_dcca.transform(Xt)
    assert Zx.shape == Fx.shape == (len(Xt), 2) and Zx.dtype == np.float32
    assert np.allclose(Zx, (Fx - fitted_dcca.x_mean_) @ fitted_dcca.x_weights_, atol=1e-5)
    Ztrain = fitted_dcca.transform(X)
    assert np.allclose(np.cov(Ztrain.T), np.eye(2), atol=2e-3)  # whitened on the training data


def test_dcca_does_not_translate(fitted_dcca):
    # the capability is the method itself: DCCA has neither predict nor predict_x
    assert not hasattr(fitted_dcca, "predict") and not hasattr(fitted_dcca, "predict_x")


def test_dcca_bad_input_is_clear(fitted_dcca, shared_data):
    (X, Y), (Xt, _) = shared_data
    with pytest.raises(CrossviewError, match="view X has 7 features"):
        fitted_dcca.transform(Xt[:, :7])
    bad = Xt.copy()
    bad[3, 2] = np.nan
    with pytest.raises(CrossviewError, match="NaN"):
        fitted_dcca.transform(bad)
    with pytest.raises(CrossviewError, match="view Y has 21 features"):
        fitted_dcca.transform_y(np.zeros((4, 21)))
    with pytest.raises(CrossviewError, match="must exceed n_components"):
        DCCA(n_components=10, batch_size=10, epochs=1, **FAST).fit(X, Y)
    with pytest.raises(
        CrossviewError,
        match=r"'n_components' parameter of DCCA must be an int "
        r"in the range \[1, inf\)\. Got 0 instead",
    ):
        DCCA(n_components=0, epochs=1, batch_size=50, **FAST).fit(X, Y)
    with pytest.raises(CrossviewError, match="'eps' parameter of DCCA .* Got -0.1 instead"):
        DCCA(eps=-0.1, epochs=1, batch_size=50, **FAST).fit(X, Y)
    with pytest.raises(CrossviewError, match="different numbers of rows"):
        DCCA(epochs=1, **FAST).fit(X, Y[:-1])


# ---- DCCAE -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def translation_data():
    return translatable(n=2000, seed=0), translatable(n=500, seed=5)


@pytest.fixture(scope="module")
def fitted_dccae(translation_data):
    (X, Y), _ = translation_data
    return DCCAE(
        n_components=3,
        x_hidden=(64, 64),
        epochs=25,
        batch_size=200,
        learning_rate=3e-3,
        lam=1.0,
        **FAST,
    ).fit(X, Y)


def test_dccae_translates_better_than_the_mean(translation_data, fitted_dccae):
    (X, Y), (Xt, Yt) = translation_data
    m = fitted_dccae
    assert m.history_.terms == ["loss", "corr", "rec_x", "rec_y"]
    mse_y = np.mean((m.predict(Xt) - Yt) ** 2)
    mse_x = np.mean((m.predict_x(Yt) - Xt) ** 2)
    assert mse_y < 0.25 * np.mean((Yt - Y.mean(axis=0)) ** 2)
    assert mse_x < 0.25 * np.mean((Xt - X.mean(axis=0)) ** 2)
    assert np.all(m.canonical_correlations_ > 0.95)
    # the reconstruction terms are fractions of the views' variance, on the scale of 1
    assert 0 < m.history_.train[-1]["rec_x"] < m.history_.train[0]["rec_x"] <= 2
    assert float(m.module_.var_x) == pytest.approx(
        float(X.astype(np.float64).var(0).sum()), rel=1e-5
    )


def test_dccae_rejects_negative_lam(translation_data):
    (X, Y), _ = translation_data
    with pytest.raises(
        CrossviewError,
        match=r"'lam' parameter of DCCAE must be a float in the "
        r"range \[0.0, inf\)\. Got -1 instead",
    ):
        DCCAE(lam=-1, n_components=3, epochs=1, batch_size=100, **FAST).fit(X, Y)


def test_same_seed_same_model(translation_data):
    (X, Y), (Xt, _) = translation_data
    kw = dict(n_components=3, x_hidden=(16,), epochs=2, batch_size=200, **FAST)
    a, b = DCCA(**kw).fit(X, Y), DCCA(**kw).fit(X, Y)
    assert np.array_equal(a.transform(Xt), b.transform(Xt))
