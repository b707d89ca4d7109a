"""Orthogonal (Procrustes) maps between two embedding spaces, with Artetxe et al.'s refinements."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import scipy.linalg
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import CrossviewError, TwoViewModel, check_views
from ._common import psd_power

_STEPS = ("unit", "center")


def _unit_rows(A: np.ndarray) -> np.ndarray:
    """Scale each row to unit Euclidean length; all-zero rows stay zero."""
    norms = np.linalg.norm(A, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return A / norms


def normalization_steps(normalize) -> tuple[str, ...]:
    """The normalisation steps of a ``normalize`` parameter as a tuple, each one of ``_STEPS``."""
    if normalize is None:
        return ()
    steps = (normalize,) if isinstance(normalize, str) else tuple(normalize)
    for s in steps:
        if s not in _STEPS:
            raise CrossviewError(
                f"unknown normalize step {s!r} in {normalize!r}; expected steps from {_STEPS}"
            )
    return steps


def fit_normalization(A: np.ndarray, steps) -> tuple[np.ndarray, np.ndarray]:
    """Apply the steps to training rows; return them and the means the "center" steps took."""
    centers = []
    for step in steps:
        if step == "unit":
            A = _unit_rows(A)
        else:
            mu = A.mean(axis=0)
            centers.append(mu)
            A = A - mu
    return A, np.array(centers, dtype=np.float64).reshape(len(centers), A.shape[1])


def apply_normalization(A: np.ndarray, steps, centers: np.ndarray) -> np.ndarray:
    """Apply fitted steps to new rows, subtracting the stored training means."""
    c = 0
    for step in steps:
        if step == "unit":
            A = _unit_rows(A)
        else:
            A = A - centers[c]
            c += 1
    return A


class Procrustes(TwoViewModel):
    """Map two embedding spaces onto each other with an orthogonal transformation (Procrustes).

    Implements the framework of Artetxe, Labaka & Agirre:

    * 2016, "Learning principled bilingual mappings of word embeddings while preserving
      monolingual invariance" (EMNLP): length normalisation and mean centring (sec. 3.2-3.3), and
      the orthogonal map ``W = U V^T`` from the SVD ``X^T Y = U S V^T`` (sec. 3.1, the solution of
      ``max_W tr(X W Y^T)`` over orthogonal W, Schönemann 1966).
    * 2018, "Generalizing and improving bilingual word embedding mappings with a multi-step
      framework of linear transformations" (AAAI), sec. 3: optional whitening
      ``W_x1 = (X^T X)^{-1/2}``, ``W_y1 = (Y^T Y)^{-1/2}`` (step 1); orthogonal mapping from the SVD
      of ``(X W_x1)^T (Y W_y1) = U S V^T``, ``W_x2 = U``, ``W_y2 = V`` (step 2); re-weighting by
      ``S^p`` (step 3); de-whitening by ``U^T (X^T X)^{1/2} U`` and ``V^T (Y^T Y)^{1/2} V``
      (step 4, each view with its own matrix); dimensionality reduction to the first
      ``n_components`` (step 5).

    Rows of X and Y are paired (e.g. the two words of each dictionary entry). The views may have
    different widths: the rectangular SVD gives ``U`` of shape (dx, r) and ``V`` (dy, r) with
    ``r = min(dx, dy)``.

    Parameters
    ----------
    normalize : sequence of {"unit", "center"}, str or None, default=("unit", "center", "unit")
        Normalisation steps applied in order to each view (the 2018 paper's recommended
        pipeline). "unit" scales every row to length 1; "center" subtracts the training mean of
        the current representation (stored and reused for new data). A single step may be given
        as a string; ``()`` or None: no normalisation.
    whiten : bool, default=False
        Whiten each view before the orthogonal map (2018, step 1).
    reweight : float or None, default=None
        Re-weight both views' mapped components by ``S^reweight`` (2018, step 3; the paper's
        recommended supervised setting uses 0.5 with whitening and de-whitening). None or 0: no
        re-weighting.
    dewhiten : bool, default=False
        Undo the whitening of each view in the mapped space (2018, step 4); needs ``whiten``.
    n_components : int or None, default=None
        Keep the first components of the shared space (2018, step 5); None keeps all
        ``min(dx, dy)``.

    Attributes
    ----------
    x_map_, y_map_ : ndarray of shape (n_features_x, k), (n_features_y, k)
        Map the normalised views into the shared space: ``transform(X) = N_x(X) @ x_map_``.
        With no whitening, re-weighting or reduction and equal widths, ``x_map_ @ y_map_.T`` is
        the orthogonal Procrustes solution ``U V^T``.
    coef_xy_, coef_yx_ : ndarray
        ``x_map_ @ pinv(y_map_)`` and ``y_map_ @ pinv(x_map_)``: map normalised X into normalised
        Y's space and back.
    singular_values_ : ndarray of shape (r,)
        Singular values ``S`` of the (whitened) cross-product.
    x_centers_, y_centers_ : ndarray of shape (n_center_steps, n_features)
        The means subtracted by each "center" step.
    n_features_in_, n_features_in_y_ : int
        Number of columns of X and of Y seen in ``fit``.

    Notes
    -----
    ``predict(X)`` returns X mapped into Y's *normalised* space, ``N_x(X) @ coef_xy_``: unit
    length normalisation cannot be undone, so this is the space to compare against
    ``normalize_y(Y)`` (e.g. for nearest-neighbour retrieval). ``score(X, Y)`` is the mean cosine
    similarity of matching rows of ``transform(X)`` and ``transform_y(Y)``.
    """

    _parameter_constraints: dict = {
        # a sequence of steps (each checked by _steps), one step, or None
        "normalize": ["array-like", StrOptions(set(_STEPS)), None],
        "whiten": ["boolean"],
        "reweight": [Interval(Real, 0, None, closed="left"), None],
        "dewhiten": ["boolean"],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        normalize=("unit", "center", "unit"),
        whiten=False,
        reweight=None,
        dewhiten=False,
        n_components=None,
    ):
        self.normalize = normalize
        self.whiten = whiten
        self.reweight = reweight
        self.dewhiten = dewhiten
        self.n_components = n_components

    # ------------------------------------------------------------------ normalisation
    def _steps(self) -> tuple[str, ...]:
        return normalization_steps(self.normalize)

    def _normalize_fit(self, A: np.ndarray, steps) -> tuple[np.ndarray, np.ndarray]:
        return fit_normalization(A, steps)

    def _normalize_apply(self, A: np.ndarray, centers: np.ndarray) -> np.ndarray:
        return apply_normalization(A, self._steps(), centers)

    def normalize_x(self, X):
        """Return X after the fitted normalisation pipeline (the input space of ``x_map_``)."""
        return self._normalize_apply(self._check_x(X), self.x_centers_)

    def normalize_y(self, Y):
        """Return Y after the fitted normalisation pipeline (the output space of ``predict``)."""
        return self._normalize_apply(self._check_y(Y), self.y_centers_)

    # ------------------------------------------------------------------ fitting
    def fit(self, X, Y):
        """Fit the orthogonal map from paired rows of X (n, dx) and Y (n, dy); returns self."""
        self._validate_params()
        X, Y = check_views(X, Y, min_samples=2)
        steps = self._steps()
        dx, dy = X.shape[1], Y.shape[1]
        r = min(dx, dy)
        k = r if self.n_components is None else int(self.n_components)
        if k > r:
            raise CrossviewError(
                f"n_components={self.n_components!r} is out of range: X has {dx} and Y has {dy} "
                f"features; expected None or an integer from 1 to {r}"
            )
        p = 0.0 if self.reweight is None else float(self.reweight)
        if self.dewhiten and not self.whiten:
            raise CrossviewError("dewhiten=True needs whiten=True (there is nothing to undo)")

        Xn, self.x_centers_ = self._normalize_fit(X, steps)
        Yn, self.y_centers_ = self._normalize_fit(Y, steps)
        if self.whiten:
            Gx, Gy = Xn.T @ Xn, Yn.T @ Yn
            Wx1, Wy1 = psd_power(Gx, -0.5), psd_power(Gy, -0.5)
            M = Wx1 @ (Xn.T @ Yn) @ Wy1
        else:
            M = Xn.T @ Yn
        U, s, Vt = scipy.linalg.svd(
            M, full_matrices=False, check_finite=False, lapack_driver="gesdd"
        )
        V = Vt.T
        x_map, y_map = (Wx1 @ U, Wy1 @ V) if self.whiten else (U, V)
        if p:
            x_map = x_map * s**p
            y_map = y_map * s**p
        if self.dewhiten:
            x_map = x_map @ (U.T @ psd_power(Gx, 0.5) @ U)
            y_map = y_map @ (V.T @ psd_power(Gy, 0.5) @ V)
        self.x_map_ = np.ascontiguousarray(x_map[:, :k])
        self.y_map_ = np.ascontiguousarray(y_map[:, :k])
        self.singular_values_ = s
        self.coef_xy_ = self.x_map_ @ np.linalg.pinv(self.y_map_)
        self.coef_yx_ = self.y_map_ @ np.linalg.pinv(self.x_map_)
        self.n_features_in_ = dx
        self.n_features_in_y_ = dy
        return self

    # ------------------------------------------------------------------ using
    def transform(self, X):
        """Return X in the shared space: ``normalize_x(X) @ x_map_``."""
        return self.normalize_x(X) @ self.x_map_

    def transform_y(self, Y):
        """Return Y in the shared space: ``normalize_y(Y) @ y_map_``."""
        return self.normalize_y(Y) @ self.y_map_

    def predict(self, X):
        """Map X into Y's normalised space: ``normalize_x(X) @ coef_xy_``."""
        return self.normalize_x(X) @ self.coef_xy_

    def predict_x(self, Y):
        """Map Y into X's normalised space: ``normalize_y(Y) @ coef_yx_``."""
        return self.normalize_y(Y) @ self.coef_yx_

    def score(self, X, Y):
        """Return the mean cosine similarity of matching rows of the codes of X and of Y."""
        Zx = _unit_rows(self.transform(X))
        Zy = _unit_rows(self.transform_y(Y))
        if Zx.shape[0] != Zy.shape[0]:
            raise CrossviewError(
                f"score needs paired rows: X has {Zx.shape[0]} rows, Y has {Zy.shape[0]}"
            )
        return float(np.mean(np.einsum("ij,ij->i", Zx, Zy)))

    # ------------------------------------------------------------------ model files
    _ARRAYS = (
        "x_map_",
        "y_map_",
        "coef_xy_",
        "coef_yx_",
        "singular_values_",
        "x_centers_",
        "y_centers_",
    )

    def _get_state(self):
        return {k: getattr(self, k) for k in self._ARRAYS}, {}

    def _set_state(self, arrays, extra):
        for k in self._ARRAYS:
            setattr(self, k, np.array(arrays[k], dtype=np.float64))
