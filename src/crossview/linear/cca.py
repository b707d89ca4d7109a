"""Regularised canonical correlation analysis in closed form (whitening + one SVD), streamable."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ..base import CrossviewError, check_views
from ._common import (
    CCA_PAIRS,
    SharedSpaceModel,
    StreamingMoments,
    add_paired_chunk,
    as_dask_pair,
    check_n_components,
    dask_moments,
    is_dask,
    least_squares_map,
    regularized_cca,
)


class CCA(SharedSpaceModel):
    """Find linear projections of X and Y whose columns are maximally correlated (regularised CCA).

    Closed form, not iterative: with sample covariances ``Cxx``, ``Cyy``, ``Cxy`` and ridges
    ``rx = alpha * mean(diag(Cxx))`` and ``ry = alpha * mean(diag(Cyy))``, the whitened
    cross-covariance ``T = (Cxx + rx I)^{-1/2} Cxy (Cyy + ry I)^{-1/2}`` is decomposed by one SVD
    ``T = U S V^T``; the weights are ``(Cxx + rx I)^{-1/2} U`` and ``(Cyy + ry I)^{-1/2} V``
    and the singular values are the regularised canonical correlations (Hotelling 1936;
    ridge-regularised CCA of Vinod 1976, "Canonical ridge and econometrics of joint production";
    whitening form as in Uurtio et al. 2017, ACM Computing Surveys 50(6), eqs. 2.4-2.6).

    The ridge is a fraction of each view's average variance, so ``alpha`` means the same whatever
    the scale of the data. Some regularisation is needed whenever a view has constant or
    collinear columns (e.g. the blank border pixels of MNIST), otherwise CCA overfits.

    Parameters
    ----------
    n_components : int, default=2
        Number of canonical pairs to keep, at most ``min(n_features_x, n_features_y)``.
    alpha : float, default=1e-5
        Ridge added to each view's covariance, as a fraction of that view's mean variance
        (``>= 0``). ``0`` is plain CCA: directions of zero variance are dropped through the
        pseudo-inverse, which overfits on views with collinear columns. See docs/benchmarks.md
        for how the default was chosen.

    Attributes
    ----------
    x_weights_, y_weights_ : ndarray of shape (n_features_x, k), (n_features_y, k)
        Canonical weights; ``transform(X) = (X - mean_x_) @ x_weights_``. Signs are fixed so that
        the largest-magnitude entry of each column of ``x_weights_`` is positive.
    canonical_correlations_ : ndarray of shape (k,)
        Regularised canonical correlations on the training data, in decreasing order.
    mean_x_, mean_y_ : ndarray
        Column means of the training views.
    coef_xy_, coef_yx_ : ndarray of shape (k, n_features_y), (k, n_features_x)
        Least-squares maps from one view's canonical variates to the other view, used by
        ``predict`` and ``predict_x``.
    reg_x_, reg_y_ : float
        Absolute ridges added to ``Cxx`` and ``Cyy`` (``alpha`` times each view's mean variance).
    n_samples_seen_ : int
        Rows seen by ``fit`` / ``partial_fit``.
    n_features_in_, n_features_in_y_ : int
        Number of columns of X and of Y seen in ``fit``.

    Notes
    -----
    ``predict(X) = mean_y_ + transform(X) @ coef_xy_`` where ``coef_xy_`` is the least-squares
    regression of the centred training Y on the training variates ``Zx``:
    ``coef_xy_ = (A^T Cxx A)^+ A^T Cxy`` with ``A = x_weights_``; it needs only the stored
    covariances, so it is exact after ``partial_fit`` too. ``predict_x`` is the mirror image.

    ``partial_fit`` accumulates means and centred cross-products in float64 over chunks
    (Chan et al. 1979 pairwise updates) and re-solves after each chunk; after any sequence of
    chunks the model equals ``fit`` on their concatenation (to rounding). Memory is
    ``O((n_features_x + n_features_y)^2)``, independent of the number of rows.

    ``fit`` also takes Dask arrays (``dask.array``; ``pip install 'crossview[dask]'``): the
    moments of each chunk of rows are computed where the chunk lives (on the connected
    ``dask.distributed`` cluster if there is one) and merged the same way, so the model equals
    the in-memory fit on the same rows (to rounding) and never gathers a view.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, n_components=2, alpha=1e-5):
        self.n_components = n_components
        self.alpha = alpha

    # ------------------------------------------------------------------ fitting
    def fit(self, X, Y):
        """Fit CCA on paired views X (n, dx) and Y (n, dy), NumPy or Dask arrays; returns self."""
        self._validate_params()
        if is_dask(X) or is_dask(Y):  # blockwise moments where the chunks live
            X, Y = as_dask_pair(X, Y)
            check_n_components(self.n_components, X.shape[1], Y.shape[1])
            self._moments = dask_moments((X, Y), CCA_PAIRS)
        else:
            X, Y = check_views(X, Y, min_samples=2)
            check_n_components(self.n_components, X.shape[1], Y.shape[1])
            self._moments = StreamingMoments((X.shape[1], Y.shape[1]), CCA_PAIRS)
            self._moments.add_rows((X, Y))
        self.n_features_in_ = X.shape[1]
        self.n_features_in_y_ = Y.shape[1]
        self._solve()
        return self

    def partial_fit(self, X, Y):
        """Add a chunk of paired rows and re-solve; the result equals ``fit`` on all chunks so far.

        The first chunk fixes the widths of X and Y and needs at least 2 rows.
        """
        self._validate_params()
        add_paired_chunk(self, X, Y, lambda dx, dy: check_n_components(self.n_components, dx, dy))
        self._solve()
        return self

    def _solve(self) -> None:
        """Compute weights, correlations and translation maps from the accumulated moments."""
        mom = self._moments
        k = check_n_components(self.n_components, self.n_features_in_, self.n_features_in_y_)
        Cxx, Cyy, Cxy = mom.cov(0, 0), mom.cov(1, 1), mom.cov(0, 1)
        ridges = []
        for name, C in (("X", Cxx), ("Y", Cyy)):
            scale = float(np.mean(np.diag(C)))
            if scale <= 0:
                raise CrossviewError(
                    f"view {name}: every column is constant over the {mom.n} training rows; "
                    "CCA needs at least one varying column per view"
                )
            ridges.append(float(self.alpha) * scale)
        self.reg_x_, self.reg_y_ = ridges
        self.x_weights_, self.y_weights_, self.canonical_correlations_ = regularized_cca(
            Cxx, Cyy, Cxy, k, self.reg_x_, self.reg_y_
        )
        self.mean_x_ = mom.means[0].copy()
        self.mean_y_ = mom.means[1].copy()
        self.coef_xy_ = least_squares_map(self.x_weights_, Cxx, Cxy)
        self.coef_yx_ = least_squares_map(self.y_weights_, Cyy, Cxy.T)
        self.n_samples_seen_ = int(mom.n)

    # ------------------------------------------------------------------ using
    def transform(self, X):
        """Return the canonical variates of X, shape (n, n_components)."""
        X = self._check_x(X)
        return (X - self.mean_x_) @ self.x_weights_

    def transform_y(self, Y):
        """Return the canonical variates of Y, shape (n, n_components)."""
        Y = self._check_y(Y)
        return (Y - self.mean_y_) @ self.y_weights_

    # ------------------------------------------------------------------ model files
    _ARRAYS = (
        "mean_x_",
        "mean_y_",
        "x_weights_",
        "y_weights_",
        "canonical_correlations_",
        "coef_xy_",
        "coef_yx_",
    )

    def _get_state(self):
        arrays = {name: getattr(self, name) for name in self._ARRAYS}
        arrays.update(self._moments.to_arrays("moments_"))
        extra = {"reg_x": self.reg_x_, "reg_y": self.reg_y_}
        return arrays, extra

    def _set_state(self, arrays, extra):
        for name in self._ARRAYS:
            setattr(self, name, np.array(arrays[name], dtype=np.float64))
        self._moments = StreamingMoments.from_arrays(
            arrays, "moments_", (self.n_features_in_, self.n_features_in_y_), CCA_PAIRS
        )
        self.n_samples_seen_ = int(self._moments.n)
        self.reg_x_ = float(extra["reg_x"])
        self.reg_y_ = float(extra["reg_y"])
