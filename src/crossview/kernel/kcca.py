"""Regularised kernel CCA: exact (centred kernel eigendecomposition) or Nystrom for large n."""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
import scipy.linalg
from scipy.spatial.distance import pdist
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import CrossviewError, check_views
from ..linear._common import (
    SharedSpaceModel,
    StreamingMoments,
    cca_from_covariances,
    check_n_components,
    iter_blocks,
    least_squares_map,
    regularized_cca,
)

logger = logging.getLogger(__name__)

#: rows sampled (evenly spaced, deterministic) for the RBF median heuristic
GAMMA_SAMPLE_ROWS = 1000
#: the RBF default is ``GAMMA_SCALE / median squared distance`` (see docs/benchmarks.md)
GAMMA_SCALE = 2.0
#: n x n float64 matrices alive at the peak of an exact fit (see ``exact_memory_mb``)
_EXACT_MATRICES = 4
# moment blocks for Nystrom: 0 = features of X, 1 = features of Y, 2 = X, 3 = Y
_NYSTROM_PAIRS = ((0, 0), (1, 1), (0, 1), (0, 3), (1, 2))


def kernel_matrix(
    A: np.ndarray,
    B: np.ndarray,
    kernel: str,
    gamma: float,
    degree: int,
    coef0: float,
    B_sqnorm: np.ndarray | None = None,
) -> np.ndarray:
    """Return the kernel matrix ``K[i, j] = k(A_i, B_j)`` (float64, from one matrix product).

    rbf: ``exp(-gamma ||a - b||^2)``; poly: ``(gamma <a, b> + coef0)^degree``; linear: ``<a, b>``.
    """
    K = A @ B.T
    if kernel == "linear":
        return K
    if kernel == "poly":
        K *= gamma
        K += coef0
        if degree != 1:
            np.power(K, degree, out=K)
        return K
    # rbf: ||a||^2 + ||b||^2 - 2 a.b, clipped at 0 against rounding, then exp(-gamma d)
    if B_sqnorm is None:
        B_sqnorm = np.einsum("ij,ij->i", B, B)
    K *= -2.0
    K += np.einsum("ij,ij->i", A, A)[:, None]
    K += B_sqnorm[None, :]
    np.maximum(K, 0.0, out=K)
    K *= -gamma
    np.exp(K, out=K)
    return K


def median_heuristic_gamma(
    A: np.ndarray, scale: float = GAMMA_SCALE, n_rows: int = GAMMA_SAMPLE_ROWS
) -> float:
    """Return ``scale / median squared distance`` between rows of ``A`` (evenly spaced sample).

    The median heuristic (e.g. Gretton et al. 2012, JMLR 13, sec. 8) with ``scale = 1`` sets
    the RBF width to the typical distance; the sample is deterministic so the default does not
    depend on a random seed.
    """
    n = A.shape[0]
    idx = np.unique(np.linspace(0, n - 1, min(n, n_rows)).round().astype(int))
    d2 = pdist(A[idx], "sqeuclidean")
    d2 = d2[d2 > 0]
    if d2.size == 0:
        raise CrossviewError(
            "cannot set the RBF gamma by the median heuristic: all sampled rows are identical; "
            "pass gamma explicitly"
        )
    return float(scale / np.median(d2))


def exact_memory_mb(n: int) -> float:
    """Estimate the peak memory of an exact fit on ``n`` rows, in MB.

    At the peak there are about four n x n float64 matrices: while the second view's kernel is
    decomposed, that kernel, its eigenvectors and the first view's eigenvectors; while solving,
    both views' eigenvectors, the whitened cross-covariance and its Gram matrix (so 50,000 rows
    need about 80 GB, 5,000 rows 800 MB).
    """
    return _EXACT_MATRICES * 8.0 * n * n / 2**20


def _block_rows(n_basis: int) -> int:
    """Rows per block so that one block's kernel against ``n_basis`` rows is about 64 MB."""
    return int(max(256, min(16384, 2**23 // max(n_basis, 1))))


def _psd_feature_map(K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(V, lam)`` with ``K ~= V diag(lam) V^T`` keeping eigenvalues above rounding level.

    Eigenvalues at or below ``n * eps * trace(K)`` are dropped (they are rounding noise: keeping
    them would amplify kernel rounding errors in new data by ``lam^{-1/2}``).
    """
    n = K.shape[0]
    thr = n * np.finfo(np.float64).eps * max(float(np.trace(K)), 0.0)
    # K is symmetric, so K.T (Fortran-ordered) is the same matrix and LAPACK needs no copy.
    # (Asking LAPACK for the subset above thr is ~4x slower than computing all and dropping.)
    lam, V = scipy.linalg.eigh(K.T, overwrite_a=True, check_finite=False, driver="evr")
    keep = lam > thr
    if not np.all(keep):
        lam, V = lam[keep], V[:, keep]
    return V, lam


class KernelCCA(SharedSpaceModel):
    """Find maximally correlated non-linear projections of X and Y (regularised kernel CCA).

    Kernel CCA (Lai & Fyfe 2000; Bach & Jordan 2002, JMLR 3, sec. 3; Hardoon, Szedmak &
    Shawe-Taylor 2004, Neural Computation 16, eq. 9) finds dual weights ``a``, ``b`` maximising
    the correlation of ``K_x a`` and ``K_y b`` under a ridge penalty. Both solvers here compute it
    as *linear* regularised CCA (see :class:`crossview.linear.CCA`) on explicit feature maps
    ``Phi`` with ``Phi Phi^T = K``, which is the same problem: CCA with covariance ridge ``r`` on
    ``Phi`` is Hardoon's regularised KCCA with ``(K^2 + r (n-1) K)`` in the constraints.

    * ``method="exact"``: ``Phi = U Lambda^{1/2}`` from the eigendecomposition of the centred
      kernel ``H K H`` (Scholkopf, Smola & Muller 1998, kernel PCA). New rows use
      ``Phi(new) = K(new, train) U Lambda^{-1/2}`` minus the training column means. Time
      ``O(n^3)``, memory about four ``n x n`` matrices (:func:`exact_memory_mb`).
    * ``method="nystrom"``: ``m`` landmark rows ``L`` drawn at random (the same rows in both
      views) and ``Phi = K(X, L) K(L, L)^{-1/2}`` (Williams & Seeger 2001, "Using the Nystrom
      method to speed up kernel machines", NIPS 13). Features are built and their moments
      accumulated in blocks of rows, so memory is ``O(m^2 + block * m)`` and time
      ``O(n m (d + m))``. With ``m = n`` it equals the exact solution.
    * ``method="auto"``: exact when there are at most ``n_landmarks`` training rows (Nystrom
      would then use every row, which is the exact solution, only more slowly) and
      :func:`exact_memory_mb` is at most ``max_memory_mb``; Nystrom otherwise. The choice is
      logged and kept in ``method_``.

    Parameters
    ----------
    n_components : int, default=2
        Number of canonical pairs to keep (at most ``n_samples - 1``, and at most the number of
        independent kernel features of either view).
    kernel : {"rbf", "poly", "linear"}, default="rbf"
        Kernel used in both views (see :func:`kernel_matrix`).
    gamma : float, pair of floats or None, default=None
        Kernel coefficient of "rbf" and "poly", one for both views or ``(gamma_x, gamma_y)``;
        ignored by "linear". None: for "rbf" ``2 / median squared distance`` between rows of
        each view (1,000 evenly spaced rows), i.e. twice the median heuristic; for "poly"
        ``1 / n_features`` of each view. See docs/benchmarks.md for how the default was chosen.
    degree : int, default=3
        Degree of the polynomial kernel (ignored by the other kernels).
    coef0 : float, default=1
        Constant of the polynomial kernel (``>= 0``, which keeps the kernel positive
        semi-definite; ignored by the other kernels).
    alpha : float, default=3e-5
        Ridge on each view's feature covariance, relative to its total variance: the ridge is
        ``alpha * trace(cov(Phi))`` (``trace(cov(Phi)) = trace(H K H) / (n-1)`` does not depend on
        the number of landmarks, so alpha means the same for every ``n_landmarks``). See
        docs/benchmarks.md for how the default was chosen.
    method : {"auto", "exact", "nystrom"}, default="auto"
        Solver: the exact kernel eigendecomposition, the Nystrom approximation, or the choice
        between them described above.
    n_landmarks : int, default=2000
        Landmark rows for the Nystrom method (capped at the number of training rows); also the
        most rows ``method="auto"`` solves exactly. Nystrom time grows as ``n m (m + d)``.
    max_memory_mb : float, default=2048
        Memory budget that ``method="auto"`` compares :func:`exact_memory_mb` against (the
        default allows exact fits up to about 8,000 rows); ``method="exact"`` refuses to exceed
        it.
    random_state : int, RandomState or None, default=None
        Seed for choosing the Nystrom landmarks (unused by the exact solver).
    verbose : bool, default=False
        Show a progress bar over blocks of rows while building Nystrom features.

    Attributes
    ----------
    method_ : str
        The solver used, "exact" or "nystrom".
    gamma_x_, gamma_y_ : float or None
        Kernel coefficients used (None for the linear kernel).
    x_basis_, y_basis_ : ndarray
        Rows kernels of new data are computed against (all training rows, or the landmarks).
    x_dual_coef_, y_dual_coef_ : ndarray of shape (n_basis, k)
        ``transform(X) = K(X, x_basis_) @ x_dual_coef_ - x_offset_``.
    x_offset_, y_offset_ : ndarray of shape (k,)
        Subtracted from the projected kernel rows so that the training variates have mean 0.
    canonical_correlations_ : ndarray of shape (k,)
        Regularised canonical correlations on the training data, decreasing.
    coef_xy_, coef_yx_ : ndarray of shape (k, n_features_y), (k, n_features_x)
        Least-squares maps from one view's canonical variates to the other view's raw features:
        ``predict(X) = mean_y_ + transform(X) @ coef_xy_``.
    mean_x_, mean_y_ : ndarray
        Column means of the training views (the intercepts of ``predict`` / ``predict_x``).
    reg_x_, reg_y_ : float
        Absolute ridges added to the feature covariances.
    n_features_in_, n_features_in_y_ : int
        Number of columns of X and of Y seen in ``fit``.

    Notes
    -----
    With ``kernel="linear"`` the exact solution is linear CCA with the same ridge: for views of
    equal width ``d``, ``KernelCCA(kernel="linear", alpha=a / d)`` gives the correlations of
    ``CCA(alpha=a)`` (whose ridge is relative to the *mean* variance, not the total).
    ``predict`` / ``predict_x`` translate through the shared space exactly as in
    :class:`crossview.linear.CCA`: least squares from the training variates of one view to the
    raw features of the other, computed from moments accumulated during the fit.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "kernel": [StrOptions({"rbf", "poly", "linear"})],
        # one gamma, or a pair (gamma_x, gamma_y) checked by _gammas
        "gamma": [Interval(Real, 0, None, closed="neither"), "array-like", None],
        "degree": [Interval(Integral, 1, None, closed="left")],
        "coef0": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "method": [StrOptions({"auto", "exact", "nystrom"})],
        "n_landmarks": [Interval(Integral, 1, None, closed="left")],
        "max_memory_mb": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_components=2,
        kernel="rbf",
        gamma=None,
        degree=3,
        coef0=1,
        alpha=3e-5,
        method="auto",
        n_landmarks=2000,
        max_memory_mb=2048,
        random_state=None,
        verbose=False,
    ):
        self.n_components = n_components
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.alpha = alpha
        self.method = method
        self.n_landmarks = n_landmarks
        self.max_memory_mb = max_memory_mb
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ parameters
    def _gammas(self, X, Y) -> tuple[float | None, float | None]:
        if self.kernel == "linear":
            return None, None
        g = self.gamma
        if g is None:
            if self.kernel == "rbf":
                return median_heuristic_gamma(X), median_heuristic_gamma(Y)
            return 1.0 / X.shape[1], 1.0 / Y.shape[1]
        pair = (g, g) if isinstance(g, Real) else tuple(np.ravel(g))
        if len(pair) != 2:
            raise CrossviewError(f"gamma must be a number or a pair (gamma_x, gamma_y); got {g!r}")
        out = []
        for v in pair:
            if (
                isinstance(v, bool)
                or not isinstance(v, (int, float, np.integer, np.floating))
                or not np.isfinite(v)
                or v <= 0
            ):
                raise CrossviewError(f"gamma must be positive finite number(s); got {g!r}")
            out.append(float(v))
        return out[0], out[1]

    def _kernel(self, A, B, gamma, B_sqnorm=None):
        return kernel_matrix(
            A, B, self.kernel, gamma, int(self.degree), float(self.coef0), B_sqnorm
        )

    # ------------------------------------------------------------------ fitting
    def fit(self, X, Y):
        """Fit kernel CCA on paired views X (n, dx) and Y (n, dy); returns self."""
        self._validate_params()
        X, Y = check_views(X, Y, min_samples=3)
        n = X.shape[0]
        # kernel features have at most n - 1 varying directions (they are centred)
        check_n_components(self.n_components, n - 1, n - 1, what="n_samples - 1")
        self.gamma_x_, self.gamma_y_ = self._gammas(X, Y)
        need = exact_memory_mb(n)
        method = self.method
        if method == "auto":
            exact_ok = n <= self.n_landmarks and need <= self.max_memory_mb
            method = "exact" if exact_ok else "nystrom"
            logger.info(
                "KernelCCA: %s solver for %d rows (n_landmarks=%d; exact needs about "
                "%.0f MB, budget %.0f MB)",
                method,
                n,
                self.n_landmarks,
                need,
                self.max_memory_mb,
            )
        elif method == "exact" and need > self.max_memory_mb:
            raise CrossviewError(
                f"exact kernel CCA on {n} rows needs about {need:.0f} MB, more than "
                f"max_memory_mb={self.max_memory_mb}; raise max_memory_mb or use "
                "method='nystrom' (or 'auto')"
            )
        self.method_ = method
        self.mean_x_ = X.mean(axis=0)
        self.mean_y_ = Y.mean(axis=0)
        if method == "exact":
            self._fit_exact(X, Y)
        else:
            self._fit_nystrom(X, Y)
        self.n_features_in_ = X.shape[1]
        self.n_features_in_y_ = Y.shape[1]
        return self

    def _check_rank(self, rx: int, ry: int) -> int:
        k = int(self.n_components)
        if k > min(rx, ry):
            raise CrossviewError(
                f"n_components={k} is more than the kernel features support: the {self.kernel} "
                f"kernel gives {rx} independent directions in X and {ry} in Y on these rows; "
                f"expected n_components <= {min(rx, ry)}"
            )
        return k

    def _fit_exact(self, X, Y) -> None:
        """Exact KCCA via the eigendecomposition of each centred training kernel."""
        n = X.shape[0]
        parts = {}
        for name, A, gamma in (("x", X, self.gamma_x_), ("y", Y, self.gamma_y_)):
            K = self._kernel(A, A, gamma)
            colmean = K.mean(axis=0)
            # centre in place: H K H = K - 1 colmean^T - colmean 1^T + mean(K)
            K -= colmean[None, :]
            K -= colmean[:, None]
            K += colmean.mean()
            V, lam = _psd_feature_map(K)
            del K
            parts[name] = (V, lam, colmean)
        (Vx, lx, cmx), (Vy, ly, cmy) = parts["x"], parts["y"]
        del parts
        k = self._check_rank(lx.size, ly.size)
        # centred training features F = V lam^{1/2}, so cov(F) = diag(lam) / (n - 1)
        sx, sy = np.sqrt(lx), np.sqrt(ly)
        Cxx_diag, Cyy_diag = lx / (n - 1), ly / (n - 1)
        Cxy = Vx.T @ Vy
        Cxy *= sx[:, None]
        Cxy *= sy[None, :] / (n - 1)
        self.reg_x_ = float(self.alpha) * float(Cxx_diag.sum())
        self.reg_y_ = float(self.alpha) * float(Cyy_diag.sum())
        Wx = 1.0 / np.sqrt(Cxx_diag + self.reg_x_)
        Wy = 1.0 / np.sqrt(Cyy_diag + self.reg_y_)
        Ax, Ay, corr = cca_from_covariances(Wx, Wy, Cxy, k, solver="eigh", overwrite_cxy=True)
        del Cxy
        Xc, Yc = X - self.mean_x_, Y - self.mean_y_
        self.coef_xy_ = least_squares_map(Ax, Cxx_diag, sx[:, None] * (Vx.T @ Yc) / (n - 1))
        self.coef_yx_ = least_squares_map(Ay, Cyy_diag, sy[:, None] * (Vy.T @ Xc) / (n - 1))
        self.canonical_correlations_ = corr
        # new rows: variates = (K(new, train) - colmean) V lam^{-1/2} A
        self.x_basis_, self.y_basis_ = X.copy(), Y.copy()
        self.x_dual_coef_ = Vx @ (Ax / sx[:, None])
        self.y_dual_coef_ = Vy @ (Ay / sy[:, None])
        self.x_offset_ = cmx @ self.x_dual_coef_
        self.y_offset_ = cmy @ self.y_dual_coef_
        self._orient()

    def _fit_nystrom(self, X, Y) -> None:
        """Nystrom KCCA: landmark features accumulated in blocks, then linear regularised CCA."""
        n = X.shape[0]
        m = min(int(self.n_landmarks), n)
        rng = check_random_state(self.random_state)
        idx = np.sort(rng.choice(n, size=m, replace=False))
        Lx, Ly = X[idx], Y[idx]
        maps = []
        for L, gamma in ((Lx, self.gamma_x_), (Ly, self.gamma_y_)):
            V, lam = _psd_feature_map(self._kernel(L, L, gamma))
            maps.append(V / np.sqrt(lam))  # K(L, L)^{-1/2} restricted to its range
        Mx, My = maps
        k = self._check_rank(Mx.shape[1], My.shape[1])
        sq_x = np.einsum("ij,ij->i", Lx, Lx)
        sq_y = np.einsum("ij,ij->i", Ly, Ly)
        mom = StreamingMoments((Mx.shape[1], My.shape[1], X.shape[1], Y.shape[1]), _NYSTROM_PAIRS)
        blocks = list(iter_blocks(n, _block_rows(m)))
        if self.verbose:
            from tqdm.auto import tqdm

            blocks = tqdm(blocks, desc="KernelCCA Nystrom features", unit="block")
        for sl in blocks:
            Fx = self._kernel(X[sl], Lx, self.gamma_x_, sq_x) @ Mx
            Fy = self._kernel(Y[sl], Ly, self.gamma_y_, sq_y) @ My
            mom.update((Fx, Fy, X[sl], Y[sl]))
        Cxx, Cyy, Cxy = mom.cov(0, 0), mom.cov(1, 1), mom.cov(0, 1)
        self.reg_x_ = float(self.alpha) * float(np.trace(Cxx))
        self.reg_y_ = float(self.alpha) * float(np.trace(Cyy))
        Ax, Ay, corr = regularized_cca(Cxx, Cyy, Cxy, k, self.reg_x_, self.reg_y_)
        self.coef_xy_ = least_squares_map(Ax, Cxx, mom.cov(0, 3))
        self.coef_yx_ = least_squares_map(Ay, Cyy, mom.cov(1, 2))
        self.canonical_correlations_ = corr
        self.x_basis_, self.y_basis_ = Lx, Ly
        self.x_dual_coef_ = Mx @ Ax
        self.y_dual_coef_ = My @ Ay
        self.x_offset_ = mom.means[0] @ Ax
        self.y_offset_ = mom.means[1] @ Ay
        self._orient()

    def _orient(self) -> None:
        """Fix component signs so each column's largest-magnitude x dual coefficient is positive.

        The dual coefficients are defined on kernel values, not on a particular feature basis,
        so exact and Nystrom fits (with all rows as landmarks) come out with the same signs.
        """
        idx = np.argmax(np.abs(self.x_dual_coef_), axis=0)
        signs = np.sign(self.x_dual_coef_[idx, np.arange(idx.size)])
        signs[signs == 0] = 1.0
        self.x_dual_coef_ *= signs
        self.y_dual_coef_ *= signs
        self.x_offset_ *= signs
        self.y_offset_ *= signs
        self.coef_xy_ *= signs[:, None]
        self.coef_yx_ *= signs[:, None]

    # ------------------------------------------------------------------ using
    def _project(self, A, basis, dual, offset, gamma):
        sq = np.einsum("ij,ij->i", basis, basis) if self.kernel == "rbf" else None
        out = np.empty((A.shape[0], dual.shape[1]))
        for sl in iter_blocks(A.shape[0], _block_rows(basis.shape[0])):
            out[sl] = self._kernel(A[sl], basis, gamma, sq) @ dual
        out -= offset
        return out

    def transform(self, X):
        """Return the kernel canonical variates of X, shape (n, n_components)."""
        X = self._check_x(X)
        return self._project(X, self.x_basis_, self.x_dual_coef_, self.x_offset_, self.gamma_x_)

    def transform_y(self, Y):
        """Return the kernel canonical variates of Y, shape (n, n_components)."""
        Y = self._check_y(Y)
        return self._project(Y, self.y_basis_, self.y_dual_coef_, self.y_offset_, self.gamma_y_)

    # ------------------------------------------------------------------ model files
    _ARRAYS = (
        "x_basis_",
        "y_basis_",
        "x_dual_coef_",
        "y_dual_coef_",
        "x_offset_",
        "y_offset_",
        "canonical_correlations_",
        "coef_xy_",
        "coef_yx_",
        "mean_x_",
        "mean_y_",
    )

    def _get_state(self):
        arrays = {k: getattr(self, k) for k in self._ARRAYS}
        extra = {
            "method": self.method_,
            "gamma_x": self.gamma_x_,
            "gamma_y": self.gamma_y_,
            "reg_x": self.reg_x_,
            "reg_y": self.reg_y_,
        }
        return arrays, extra

    def _set_state(self, arrays, extra):
        for k in self._ARRAYS:
            setattr(self, k, np.array(arrays[k], dtype=np.float64))
        self.method_ = str(extra["method"])
        self.gamma_x_ = None if extra["gamma_x"] is None else float(extra["gamma_x"])
        self.gamma_y_ = None if extra["gamma_y"] is None else float(extra["gamma_y"])
        self.reg_x_ = float(extra["reg_x"])
        self.reg_y_ = float(extra["reg_y"])
