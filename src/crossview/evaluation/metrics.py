"""Metrics on codes and reconstructions: arrays in, numbers out (never models).

- :func:`sum_correlation` — the CorrNet measure (Chandar et al. 2016, "Correlational Neural
  Networks", sec. 6.1): Pearson correlation of matching code dimensions, summed.
- :func:`canonical_sum_correlation` — the DCCA measure (Andrew et al. 2013, "Deep Canonical
  Correlation Analysis", sec. 4 "total correlation"): the sum of canonical correlations.
- :func:`transfer_accuracy` — the CorrNet transfer-learning protocol (sec. 6.2).
- :func:`reconstruction_mse` — cross-reconstruction error.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..base import CrossviewError, check_labels, check_view, check_views


def _codes(Zx, Zy, same_width: bool = True) -> tuple[np.ndarray, np.ndarray]:
    Zx, Zy = check_views(Zx, Zy, min_samples=2, warn_constant=False)
    if same_width and Zx.shape[1] != Zy.shape[1]:
        raise CrossviewError(
            f"codes Zx and Zy have {Zx.shape[1]} and {Zy.shape[1]} columns; matching columns are "
            "compared, so they need the same number"
        )
    return Zx, Zy


def per_dimension_correlation(Zx, Zy) -> np.ndarray:
    """Return the Pearson correlation of each column of Zx with the same column of Zy.

    A column that is constant in either view has no defined correlation; it gets 0 (it carries
    no shared information), so a collapsed code cannot score.
    """
    Zx, Zy = _codes(Zx, Zy)
    Xc = Zx - Zx.mean(axis=0)
    Yc = Zy - Zy.mean(axis=0)
    sxx = np.einsum("ij,ij->j", Xc, Xc)
    syy = np.einsum("ij,ij->j", Yc, Yc)
    sxy = np.einsum("ij,ij->j", Xc, Yc)
    constant = (np.ptp(Zx, axis=0) == 0) | (np.ptp(Zy, axis=0) == 0) | (sxx == 0) | (syy == 0)
    denom = np.sqrt(np.where(constant, 1.0, sxx) * np.where(constant, 1.0, syy))
    corr = np.where(constant, 0.0, sxy / denom)
    return np.clip(corr, -1.0, 1.0)


def sum_correlation(Zx, Zy) -> float:
    """Sum over code dimensions of the correlation of matching columns of Zx and Zy (CorrNet).

    This is the "sum correlation" of Chandar et al. (2016), sec. 6.1: each view is encoded
    alone and the Pearson correlations of dimension j of Zx with dimension j of Zy are added, so
    the maximum is the number of columns. It rewards codes that agree dimension by dimension;
    it changes when the columns of one code are rotated or permuted (unlike
    :func:`canonical_sum_correlation`). Constant columns contribute 0.
    """
    return float(per_dimension_correlation(Zx, Zy).sum())


def _orthonormal_basis(
    Zc: np.ndarray, reg: float, rtol: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Return (U, a): an orthonormal basis of the centred code's column space and the weights
    s / sqrt(s^2 + reg (n - 1)) of its directions (all 1 when ``reg`` is 0)."""
    U, s, _ = np.linalg.svd(Zc, full_matrices=False)
    if rtol is None:
        rtol = max(Zc.shape) * np.finfo(Zc.dtype).eps
    keep = s > rtol * (s[0] if s.size else 0.0)
    U, s = U[:, keep], s[keep]
    a = s / np.sqrt(s**2 + reg * (Zc.shape[0] - 1)) if reg > 0 else np.ones_like(s)
    return U, a


def canonical_correlations(Zx, Zy, reg: float = 0.0, rtol: float | None = None) -> np.ndarray:
    """Return the canonical correlations of Zx and Zy, largest first (Hotelling 1936).

    Computed as the singular values of ``Ux.T @ Uy``, where ``Ux``, ``Uy`` are orthonormal bases
    (thin SVD) of the centred codes — the cosines of the principal angles between their column
    spaces (Bjorck & Golub 1973). Directions with singular value below ``rtol`` times the
    largest are dropped, so rank-deficient codes are handled; there are ``min(rank Zx, rank
    Zy)`` correlations. ``reg`` > 0 adds ``reg * I`` to each covariance, as DCCA does (Andrew et
    al. 2013, sec. 2.1, r1 and r2), which shrinks the correlations.
    """
    Zx, Zy = _codes(Zx, Zy, same_width=False)
    if reg < 0:
        raise CrossviewError(f"reg must be >= 0; got {reg}")
    Ux, ax = _orthonormal_basis(Zx - Zx.mean(axis=0), reg, rtol)
    Uy, ay = _orthonormal_basis(Zy - Zy.mean(axis=0), reg, rtol)
    if Ux.shape[1] == 0 or Uy.shape[1] == 0:
        return np.zeros(0)
    M = (ax[:, None] * (Ux.T @ Uy)) * ay[None, :]
    return np.clip(np.linalg.svd(M, compute_uv=False), 0.0, 1.0)


def canonical_sum_correlation(
    Zx, Zy, n_components: int | None = None, reg: float = 0.0, rtol: float | None = None
) -> float:
    """Sum of the ``n_components`` largest canonical correlations of Zx and Zy (DCCA measure).

    This is the "total correlation" that Andrew et al. (2013) report for DCCA: linear CCA is
    fitted between the two codes and its canonical correlations summed. Unlike
    :func:`sum_correlation` it does not care how the dimensions are arranged: it is unchanged
    by any invertible linear map of either code, so it measures how much linearly shared
    information the codes hold, not whether they are aligned column by column. It is computed
    on the same rows it is evaluated on, so with few rows and many columns it is optimistic.
    ``n_components`` defaults to all (``min(rank Zx, rank Zy)``). See
    :func:`canonical_correlations` for ``reg`` and ``rtol``.
    """
    rho = canonical_correlations(Zx, Zy, reg=reg, rtol=rtol)
    if n_components is not None:
        if int(n_components) < 1:
            raise CrossviewError(f"n_components must be >= 1; got {n_components}")
        rho = rho[: int(n_components)]
    return float(rho.sum())


def transfer_accuracy(
    Zx, Zy, labels, folds: int = 5, C: float = 1.0, random_state=0, max_iter: int = 2000
) -> dict[str, float]:
    """Train a linear classifier on one view's codes and test it on the other's (CorrNet protocol).

    Chandar et al. (2016), sec. 6.2: the rows are cut into ``folds`` contiguous folds; for each
    fold a LinearSVC (after a StandardScaler fitted on the training part) is trained on the Zx
    codes of the other folds and tested on the Zy codes of the held-out fold; the accuracies are
    averaged ("x_to_y"). Then the same with the views swapped ("y_to_x").

    Returns ``{"x_to_y": float, "y_to_x": float}`` as fractions in [0, 1] (the CLI prints
    percent). Both codes must live in the same space (same number of columns).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    Zx, Zy = _codes(Zx, Zy)
    labels = check_labels(labels, Zx.shape[0])
    n = Zx.shape[0]
    folds = int(folds)
    if not 2 <= folds <= n:
        raise CrossviewError(f"folds must be between 2 and the number of rows ({n}); got {folds}")
    parts = np.array_split(np.arange(n), folds)
    result = {}
    for direction, (A, B) in (("x_to_y", (Zx, Zy)), ("y_to_x", (Zy, Zx))):
        scores = []
        for test in parts:
            train = np.setdiff1d(np.arange(n), test, assume_unique=True)
            if np.unique(labels[train]).size < 2:
                raise CrossviewError(
                    "transfer accuracy needs at least 2 classes in every training part; rows "
                    f"outside {test[0]}..{test[-1]} hold one class only (are the rows sorted by "
                    "label? shuffle them first)"
                )
            clf = make_pipeline(
                StandardScaler(),
                LinearSVC(C=C, dual="auto", max_iter=max_iter, random_state=random_state),
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(A[train], labels[train])
            scores.append(float(np.mean(clf.predict(B[test]) == labels[test])))
        result[direction] = float(np.mean(scores))
    return result


def reconstruction_mse(Y, Y_hat) -> float:
    """Mean squared error per element between a view and its reconstruction."""
    Y = check_view(Y, "Y")
    Y_hat = check_view(Y_hat, "Y_hat")
    if Y.shape != Y_hat.shape:
        raise CrossviewError(
            f"Y has shape {Y.shape} but its reconstruction Y_hat has {Y_hat.shape}; expected "
            "the same shape"
        )
    return float(np.mean((Y - Y_hat) ** 2))
