"""Ridge-regression maps X -> Y and Y -> X, with alpha chosen by exact leave-one-out or GCV."""

from __future__ import annotations

from numbers import Real

import numpy as np
import scipy.linalg
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import CrossviewError, TwoViewModel, check_views
from ._common import (
    CCA_PAIRS,
    StreamingMoments,
    add_paired_chunk,
    as_dask_pair,
    dask_moments,
    is_dask,
    iter_blocks,
)


def _svd_solve_path(A: np.ndarray, B: np.ndarray):
    """Return the thin SVD ``(U, s, Vt)`` of centred ``A`` and ``G = U^T B`` (for all alphas)."""
    U, s, Vt = scipy.linalg.svd(A, full_matrices=False, check_finite=False, lapack_driver="gesdd")
    return U, s, Vt, U.T @ B


def _ridge_factors(s: np.ndarray, alpha: float, n: int, d: int) -> np.ndarray:
    """Return ``s / (s^2 + alpha)``; for ``alpha == 0`` the pseudo-inverse ``1/s`` above rcond."""
    if alpha > 0:
        return s / (s * s + alpha)
    out = np.zeros_like(s)
    if s.size:
        keep = s > max(n, d) * np.finfo(np.float64).eps * s[0]
        out[keep] = 1.0 / s[keep]
    return out


def _moment_path(Saa: np.ndarray, Sab: np.ndarray, n: int):
    """The same ``(s, Vt, G)`` as :func:`_svd_solve_path`, from the centred scatter matrices
    ``Saa = A^T A`` and ``Sab = A^T B`` alone: ``Saa = V diag(s^2) V^T`` and
    ``G = diag(1/s) V^T Sab`` (which equals ``U^T B`` on the non-zero singular values; rows of
    zero singular values get 0, which they are given weight 0 anyway). Eigenvalues at rounding
    level (below ``max(n, d) * eps`` of the largest) count as zero.
    """
    w, V = np.linalg.eigh(Saa)
    w, V = w[::-1], V[:, ::-1]
    top = max(float(w[0]), 0.0) if w.size else 0.0
    w = np.where(w > max(n, Saa.shape[0]) * np.finfo(np.float64).eps * top, w, 0.0)
    s = np.sqrt(w)
    P = V.T @ Sab
    G = np.zeros_like(P)
    keep = s > 0
    G[keep] = P[keep] / s[keep, None]
    return s, V.T, G


def _loo_errors(U, s, G, B, alphas, n: int, d: int) -> np.ndarray:
    """Mean squared leave-one-out error (summed over output columns) for each alpha.

    For ridge with an unpenalised intercept the hat matrix is
    ``H = 11^T/n + U diag(s^2/(s^2+alpha)) U^T`` (U, s from the SVD of the centred inputs), and the
    leave-one-out residual of row i is ``e_i / (1 - H_ii)`` — Allen (1974), "The relationship
    between variable selection and data augmentation and a method for prediction",
    Technometrics 16(1); Golub, Heath & Wahba (1979), Technometrics 21(2), eq. 1.5. One pass over
    the rows serves all alphas.
    """
    shrink = []
    for a in alphas:
        f = _ridge_factors(s, a, n, d) * s  # s^2/(s^2+a), or 1 on the kept range for a = 0
        shrink.append(f)
    total = np.zeros(len(alphas))
    for sl in iter_blocks(n):
        Ub, Bb = U[sl], B[sl]
        U2 = Ub * Ub
        for k, f in enumerate(shrink):
            resid = Bb - (Ub * f) @ G
            h = 1.0 / n + U2 @ f
            denom = 1.0 - h
            with np.errstate(divide="ignore", invalid="ignore"):
                err = np.einsum("ij,ij->i", resid, resid) / (denom * denom)
            err[denom <= 1e-12] = np.inf
            total[k] += err.sum()
    return total / n


def _gcv_errors(s, G, total_ss: float, alphas, n: int, d: int) -> np.ndarray:
    """Generalised cross-validation score for each alpha (Golub, Heath & Wahba 1979, eq. 1.4).

    ``GCV(alpha) = (||(I - H) B||^2 / n) / (1 - tr(H)/n)^2`` with the intercept counted in
    ``tr(H)``; only the singular values, ``G = U^T B`` and ``total_ss = ||B||^2`` (centred B)
    are needed, so it costs nothing per row and works from moments.
    """
    g2 = np.sum(G * G, axis=1)
    out = np.empty(len(alphas))
    for k, a in enumerate(alphas):
        f = _ridge_factors(s, a, n, d) * s
        rss = total_ss - float(np.sum(g2)) + float(np.sum((1.0 - f) ** 2 * g2))
        dof = 1.0 + float(np.sum(f))
        denom = 1.0 - dof / n
        out[k] = np.inf if denom <= 1e-12 else (rss / n) / (denom * denom)
    return out


class RidgeMap(TwoViewModel):
    """Map each view linearly onto the other with ridge regression (X -> Y and Y -> X).

    For each direction, e.g. X -> Y: ``Y_hat = mean_y + (X - mean_x) W`` with
    ``W = argmin ||Y_c - X_c W||^2 + alpha ||W||^2 = V diag(s / (s^2 + alpha)) U^T Y_c`` from one
    thin SVD ``X_c = U diag(s) V^T`` of the centred inputs (Hoerl & Kennard 1970). The intercept is
    not penalised. ``alpha = 0`` is ordinary least squares (minimum-norm, like
    ``numpy.linalg.lstsq`` and ``pinv``).

    Parameters
    ----------
    alpha : float, default=1.0
        Ridge penalty on the squared weights (``>= 0``), on the scale of the summed squared
        error (as in ``sklearn.linear_model.Ridge``); ``0`` is least squares. Used only when
        ``alphas`` is None.
    alphas : sequence of float or None, default=None
        Candidate penalties (each ``>= 0``). When given, each direction picks its own alpha
        from them by ``cv`` and ``alpha`` is ignored; the same SVD serves every candidate.
    cv : {"loo", "gcv"}, default="loo"
        How candidates are scored: exact leave-one-out error (one pass over the rows per
        candidate; cost ``O(n r d_out)`` each) or generalised cross-validation (``O(r d_out)``
        each, an approximation to leave-one-out).

    Attributes
    ----------
    coef_xy_ : ndarray of shape (n_features_x, n_features_y)
        Weights of the map X -> Y; ``predict(X) = mean_y_ + (X - mean_x_) @ coef_xy_``.
    coef_yx_ : ndarray of shape (n_features_y, n_features_x)
        Weights of the map Y -> X.
    alpha_xy_, alpha_yx_ : float
        The penalty used in each direction.
    cv_errors_xy_, cv_errors_yx_ : ndarray of shape (len(alphas),)
        Mean squared leave-one-out (or GCV) error per row, summed over output columns, for
        each candidate (only when ``alphas`` is given).
    mean_x_, mean_y_ : ndarray
        Column means of the training views.
    n_features_in_, n_features_in_y_ : int
        Number of columns of X and of Y seen in ``fit``.

    Notes
    -----
    A ridge map has no separate shared space: the common representation is Y's own space.
    ``transform(X)`` returns ``predict(X)`` (X mapped into Y's space) and ``transform_y(Y)``
    returns Y unchanged (validated, as float64), so codes of both views can be compared and
    classifiers transferred in Y's coordinates. ``score(X, Y)`` is the coefficient of
    determination R^2 of ``predict(X)`` against Y (averaged over Y's columns), higher is better.
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "alphas": ["array-like", None],
        "cv": [StrOptions({"loo", "gcv"})],
    }

    def __init__(self, alpha=1.0, alphas=None, cv="loo"):
        self.alpha = alpha
        self.alphas = alphas
        self.cv = cv

    def _candidates(self):
        """The candidate alphas as a float array (None without ``alphas``), checked one by one."""
        if self.alphas is None:
            return None
        try:
            arr = np.asarray(self.alphas, dtype=np.float64).ravel()
        except (TypeError, ValueError):
            raise CrossviewError(
                f"alphas must be a list of non-negative numbers; got {self.alphas!r}"
            ) from None
        if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise CrossviewError(
                f"alphas must be a non-empty list of finite numbers >= 0; got {self.alphas!r}"
            )
        return arr

    def fit(self, X, Y):
        """Fit both ridge maps on paired views X (n, dx) and Y (n, dy); returns self.

        X and Y may be Dask arrays: the maps are then solved from blockwise moments (class
        docs), which needs ``cv="gcv"`` when ``alphas`` is given.
        """
        self._validate_params()
        if is_dask(X) or is_dask(Y):
            X, Y = as_dask_pair(X, Y)
            self._check_streamable("fit on Dask arrays")
            self._moments = dask_moments((X, Y), CCA_PAIRS)
            self.n_features_in_, self.n_features_in_y_ = int(X.shape[1]), int(Y.shape[1])
            self._solve_moments()
            return self
        X, Y = check_views(X, Y, min_samples=2)
        candidates = self._candidates()
        n = X.shape[0]
        self.mean_x_ = X.mean(axis=0)
        self.mean_y_ = Y.mean(axis=0)
        Xc = X - self.mean_x_
        Yc = Y - self.mean_y_
        self._moments = None
        self.coef_xy_, self.alpha_xy_, errs_xy = self._fit_direction(Xc, Yc, candidates, n)
        self.coef_yx_, self.alpha_yx_, errs_yx = self._fit_direction(Yc, Xc, candidates, n)
        if candidates is not None:
            self.cv_errors_xy_, self.cv_errors_yx_ = errs_xy, errs_yx
        self.n_features_in_ = X.shape[1]
        self.n_features_in_y_ = Y.shape[1]
        self.n_samples_seen_ = n
        return self

    def partial_fit(self, X, Y):
        """Add a chunk of paired rows and re-solve from the accumulated moments; returns self.

        After any sequence of chunks the maps equal ``fit`` on their concatenation (to
        rounding). Needs ``cv="gcv"`` when ``alphas`` is given (leave-one-out needs every row).
        The first chunk fixes the widths of X and Y and needs at least 2 rows; a model fitted
        by ``fit`` on in-memory rows starts over.
        """
        self._validate_params()
        self._check_streamable("partial_fit")
        add_paired_chunk(self, X, Y)
        self._solve_moments()
        return self

    def _check_streamable(self, what: str) -> None:
        if self.alphas is not None and self.cv == "loo":
            raise CrossviewError(
                f"{what} solves from moments, and leave-one-out needs every row; use "
                "cv='gcv' with alphas, or a single alpha"
            )

    def _solve_moments(self) -> None:
        """Both maps from the accumulated moments (means and centred scatter matrices)."""
        mom = self._moments
        n = int(mom.n)
        if n < 2:
            raise CrossviewError(f"need at least 2 rows to fit a ridge map; have {n}")
        candidates = self._candidates()
        self.mean_x_, self.mean_y_ = mom.means[0].copy(), mom.means[1].copy()
        Sxx, Syy, Sxy = mom.scatter[(0, 0)], mom.scatter[(1, 1)], mom.scatter[(0, 1)]
        for direction, (Saa, Sab, Sbb) in (("xy", (Sxx, Sxy, Syy)), ("yx", (Syy, Sxy.T, Sxx))):
            s, Vt, G = _moment_path(Saa, Sab, n)
            W, alpha, errors = self._solve_path(s, Vt, G, float(np.trace(Sbb)), candidates, n)
            setattr(self, f"coef_{direction}_", W)
            setattr(self, f"alpha_{direction}_", alpha)
            if candidates is not None:
                setattr(self, f"cv_errors_{direction}_", errors)
        self.n_samples_seen_ = n

    def _solve_path(self, s, Vt, G, total_ss, candidates, n):
        """Weights from the path ``(s, Vt, G)``, alpha chosen by GCV among the candidates."""
        d = Vt.shape[1]
        errors = None
        if candidates is None:
            alpha = float(self.alpha)
        else:
            errors = _gcv_errors(s, G, total_ss, candidates, n, d)
            alpha = self._best_alpha(errors, candidates, n)
        f = _ridge_factors(s, alpha, n, d)
        return Vt.T @ (f[:, None] * G), alpha, errors

    def _best_alpha(self, errors, candidates, n) -> float:
        if not np.any(np.isfinite(errors)):
            raise CrossviewError(
                f"every candidate alpha in {candidates.tolist()} gives an undefined "
                f"{self.cv} error on {n} rows (each row is fitted exactly); add a positive "
                "alpha"
            )
        return float(candidates[int(np.argmin(errors))])

    def _fit_direction(self, A, B, candidates, n):
        """Fit ``B ~ A`` (both centred): return weights, the alpha used and the CV errors."""
        U, s, Vt, G = _svd_solve_path(A, B)
        d = A.shape[1]
        errors = None
        if candidates is None:
            alpha = float(self.alpha)
        else:
            if self.cv == "loo":
                errors = _loo_errors(U, s, G, B, candidates, n, d)
            else:
                errors = _gcv_errors(s, G, float(np.sum(B * B)), candidates, n, d)
            alpha = self._best_alpha(errors, candidates, n)
        f = _ridge_factors(s, alpha, n, d)
        W = Vt.T @ (f[:, None] * G)
        return W, alpha, errors

    def transform(self, X):
        """Return X mapped into Y's space (the shared space of a ridge map is Y's space)."""
        return self.predict(X)

    def transform_y(self, Y):
        """Return Y itself (validated, float64): Y's space is the shared space."""
        return self._check_y(Y).copy()

    def predict(self, X):
        """Translate X into Y: ``mean_y_ + (X - mean_x_) @ coef_xy_``."""
        X = self._check_x(X)
        return (X - self.mean_x_) @ self.coef_xy_ + self.mean_y_

    def predict_x(self, Y):
        """Translate Y into X: ``mean_x_ + (Y - mean_y_) @ coef_yx_``."""
        Y = self._check_y(Y)
        return (Y - self.mean_y_) @ self.coef_yx_ + self.mean_x_

    def score(self, X, Y):
        """Return R^2 of ``predict(X)`` against Y, averaged over Y's columns."""
        from sklearn.metrics import r2_score

        Y = self._check_y(Y)
        return float(r2_score(Y, self.predict(X)))

    # ------------------------------------------------------------------ model files
    def _get_state(self):
        arrays = {k: getattr(self, k) for k in ("mean_x_", "mean_y_", "coef_xy_", "coef_yx_")}
        if hasattr(self, "cv_errors_xy_"):
            arrays["cv_errors_xy_"] = self.cv_errors_xy_
            arrays["cv_errors_yx_"] = self.cv_errors_yx_
        if getattr(self, "_moments", None) is not None:  # fitted by partial_fit or on Dask
            arrays.update(self._moments.to_arrays("moments_"))
        extra = {"alpha_xy": self.alpha_xy_, "alpha_yx": self.alpha_yx_}
        return arrays, {**extra, "n_samples_seen": int(self.n_samples_seen_)}

    def _set_state(self, arrays, extra):
        names = ["mean_x_", "mean_y_", "coef_xy_", "coef_yx_"]
        if "cv_errors_xy_" in arrays:
            names += ["cv_errors_xy_", "cv_errors_yx_"]
        for k in names:
            setattr(self, k, np.array(arrays[k], dtype=np.float64))
        self.alpha_xy_ = float(extra["alpha_xy"])
        self.alpha_yx_ = float(extra["alpha_yx"])
        self._moments = None
        if "moments_n" in arrays:
            self._moments = StreamingMoments.from_arrays(
                arrays, "moments_", (self.n_features_in_, self.n_features_in_y_), CCA_PAIRS
            )
        if "n_samples_seen" in extra:
            self.n_samples_seen_ = int(extra["n_samples_seen"])
