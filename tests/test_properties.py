"""Property tests (hypothesis) of the maths: invariances and bounds that hold for any data."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crossview.evaluation.metrics import canonical_correlations, sum_correlation
from crossview.evaluation.retrieval import retrieval_precision
from crossview.linear import CCA, Procrustes

PROPS = settings(max_examples=40, deadline=None)
seeds = st.integers(0, 2**31 - 1)


def _pair(seed, n=60, dx=4, dy=3):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, 2))
    X = np.c_[Z, rng.standard_normal((n, dx - 2))] @ rng.standard_normal((dx, dx))
    Y = np.c_[Z + 0.5 * rng.standard_normal((n, 2)), rng.standard_normal((n, dy - 2))]
    return rng, X, Y


def _invertible(rng, d):
    while True:
        A = rng.standard_normal((d, d))
        if np.linalg.cond(A) < 50:
            return A


@PROPS
@given(seed=seeds)
def test_sum_correlation_is_invariant_to_per_column_affine_maps(seed):
    rng, X, Y = _pair(seed, dx=3, dy=3)
    scale_x, scale_y = rng.uniform(0.1, 10, 3), rng.uniform(0.1, 10, 3)
    shift_x, shift_y = rng.normal(0, 100, 3), rng.normal(0, 100, 3)
    before = sum_correlation(X, Y)
    after = sum_correlation(X * scale_x + shift_x, Y * scale_y + shift_y)
    assert np.isclose(before, after, atol=1e-8)


@PROPS
@given(seed=seeds)
def test_canonical_correlations_lie_in_0_1_and_ignore_invertible_maps(seed):
    rng, X, Y = _pair(seed)
    rho = canonical_correlations(X, Y)
    assert np.all(rho >= -1e-12) and np.all(rho <= 1 + 1e-9)
    mapped = canonical_correlations(X @ _invertible(rng, 4), Y @ _invertible(rng, 3))
    np.testing.assert_allclose(np.sort(mapped), np.sort(rho), atol=1e-7)


@PROPS
@given(seed=seeds)
def test_cca_codes_keep_their_correlations_under_invertible_maps_of_a_view(seed):
    rng, X, Y = _pair(seed)
    a = CCA(n_components=2, alpha=0.0).fit(X, Y)
    A = _invertible(rng, 4)
    b = CCA(n_components=2, alpha=0.0).fit(X @ A, Y)
    ca = canonical_correlations(a.transform(X), a.transform_y(Y))
    cb = canonical_correlations(b.transform(X @ A), b.transform_y(Y))
    np.testing.assert_allclose(np.sort(ca), np.sort(cb), atol=1e-6)


@PROPS
@given(seed=seeds, d=st.integers(2, 6))
def test_procrustes_is_orthogonal(seed, d):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((50, d))
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    Y = X @ Q + 0.01 * rng.standard_normal((50, d))
    W = Procrustes(normalize=None).fit(X, Y).coef_xy_
    np.testing.assert_allclose(W.T @ W, np.eye(d), atol=1e-8)


@PROPS
@given(seed=seeds, method=st.sampled_from(["nn", "csls"]), chunk=st.integers(1, 40))
def test_retrieval_is_perfect_on_identical_spaces_rotation_invariant_and_chunk_free(
    seed, method, chunk
):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((40, 5))
    k = (1, 5)
    if method == "nn":  # CSLS's hubness penalty can rank a close neighbour above the partner
        assert retrieval_precision(Z, Z, k=k, method=method) == {1: 1.0, 5: 1.0}
    W = rng.standard_normal((40, 5))
    Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    base = retrieval_precision(Z, W, k=k, method=method)
    assert retrieval_precision(Z @ Q, W @ Q, k=k, method=method) == base
    assert retrieval_precision(Z, W, k=k, method=method, chunk_size=chunk) == base
