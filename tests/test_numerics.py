"""Numerical robustness: views scaled by 1e-6 or 1e6, ill-conditioned and rank-deficient views,
bfloat16 on tiny batches. Each method works (finite outputs; scale-free methods give the same
answer) or stops with a named error."""

from __future__ import annotations

import numpy as np
import pytest

from crossview.evaluation.metrics import canonical_correlations
from crossview.exceptions import CrossviewError
from crossview.linear import CCA, Procrustes, RidgeMap


def _views(n=120, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, 2))
    X = np.c_[Z, rng.standard_normal((n, 4))] @ rng.standard_normal((6, 6))
    Y = np.c_[Z + 0.2 * rng.standard_normal((n, 2)), rng.standard_normal((n, 3))]
    return X, Y


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_cca_is_scale_free(scale):
    X, Y = _views()
    ref = CCA(n_components=2).fit(X, Y)
    m = CCA(n_components=2).fit(X * scale, Y * scale)
    a = canonical_correlations(ref.transform(X), ref.transform_y(Y))
    b = canonical_correlations(m.transform(X * scale), m.transform_y(Y * scale))
    np.testing.assert_allclose(b, a, atol=1e-4)


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_ridge_and_procrustes_give_finite_answers_at_any_scale(scale):
    X, Y = _views()
    pred = RidgeMap().fit(X * scale, Y * scale).predict(X * scale)
    assert np.isfinite(pred).all()
    if scale > 1:  # large values: the penalty fades, the training error can only fall
        ref = RidgeMap().fit(X, Y).predict(X)
        err = np.linalg.norm(pred / scale - Y)
        assert err <= np.linalg.norm(ref - Y) * (1 + 1e-9)
    # (tiny values: alpha is in the data's units, so the penalty dominates; see the notes)
    assert np.isfinite(Procrustes().fit(X * scale, Y * scale).predict(X * scale)).all()


def test_rank_deficient_and_ill_conditioned_views_stay_finite():
    X, Y = _views()
    rng = np.random.default_rng(1)
    dup = np.c_[X, X[:, :3] + 1e-9 * rng.standard_normal((len(X), 3))]  # cond ~ 1e9
    assert np.linalg.cond(dup) > 1e6
    for model in (CCA(n_components=2), RidgeMap(), Procrustes()):
        model.fit(dup, Y)
        out = model.transform(dup) if hasattr(model, "transform") else model.predict(dup)
        assert np.isfinite(out).all(), type(model).__name__
    rho = canonical_correlations(*CCA(n_components=2).fit(dup, Y).transform_both(dup, Y))
    assert np.all((rho >= 0) & (rho <= 1 + 1e-9))


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_deep_methods_work_or_name_the_problem_at_extreme_scales(scale):
    from crossview.deep.corrnet import CorrNet

    X, Y = _views()
    model = CorrNet(
        n_components=2, x_hidden=(8,), epochs=2, batch_size=20, device="cpu", random_state=0,
        verbose=False,
    )  # fmt: skip
    try:
        model.fit((X * scale).astype(np.float32), (Y * scale).astype(np.float32))
    except CrossviewError as exc:
        assert "epoch" in str(exc) and "\n" not in str(exc)
        return
    assert np.isfinite(model.transform(X * scale)).all()


def test_bfloat16_on_tiny_batches_trains_or_names_the_term():
    from crossview.deep.corrnet import CorrNet
    from crossview.deep.dcca import DCCA

    X, Y = _views(n=40)
    for cls in (CorrNet, DCCA):
        model = cls(
            n_components=2, epochs=2, batch_size=2, precision="bfloat16", device="cpu",
            random_state=0, verbose=False,
        )  # fmt: skip
        try:
            model.fit(X.astype(np.float32), Y.astype(np.float32))
        except CrossviewError as exc:  # a named problem: the batch, or the loss term and epoch
            msg = str(exc)
            named = "batch_size" in msg or ("epoch" in msg and "loss term" in msg)
            assert named and "\n" not in msg, msg
            continue
        assert np.isfinite(model.transform(X)).all(), cls.__name__
