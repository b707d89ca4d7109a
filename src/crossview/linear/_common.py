"""Numerical pieces shared by the linear and kernel methods: streaming moments, whitening, CCA.

Everything here works on float64 NumPy arrays and is private to crossview; the estimators in
:mod:`crossview.linear` and :mod:`crossview.kernel` validate user input before calling it.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..base import CrossviewError, TwoViewModel, check_views


class SharedSpaceModel(TwoViewModel):
    """Base of CCA-type models that translate through their shared space.

    Subclasses set ``coef_xy_``, ``coef_yx_`` (least-squares maps from one view's canonical
    variates to the other view, fitted on the training data), ``mean_x_`` and ``mean_y_``.
    """

    def predict(self, X):
        """Translate X into Y through the shared space: ``mean_y_ + transform(X) @ coef_xy_``."""
        return self.transform(X) @ self.coef_xy_ + self.mean_y_

    def predict_x(self, Y):
        """Translate Y into X through the shared space: ``mean_x_ + transform_y(Y) @ coef_yx_``."""
        return self.transform_y(Y) @ self.coef_yx_ + self.mean_x_


# The largest number of rows centred and multiplied at once when accumulating moments.
BLOCK_ROWS = 8192
#: the moment blocks CCA needs of two views (0 = X, 1 = Y): both covariances and the cross one
CCA_PAIRS = ((0, 0), (1, 1), (0, 1))


class StreamingMoments:
    """Accumulate means and centred cross-products of column blocks over chunks of rows.

    Chunks are merged with the pairwise update of Chan, Golub & LeVeque (1979), "Updating
    formulae and a pairwise algorithm for computing sample variances", eq. 2.1 extended to
    cross-products: for chunks ``a`` and ``b`` with means ``m_a``, ``m_b`` and centred
    cross-products ``S_a``, ``S_b``, the merged cross-product is
    ``S = S_a + S_b + (n_a n_b / n) d_i d_j^T`` with ``d = m_b - m_a``. Every chunk is centred on
    its own mean before its products are taken, so the result does not lose precision when the
    data sit far from the origin (unlike accumulating raw sums of squares).

    ``sizes`` gives the width of each block; ``pairs`` lists the ``(i, j)`` block pairs whose
    cross-product ``B_i^T B_j`` is kept.
    """

    def __init__(self, sizes, pairs):
        self.sizes = tuple(int(s) for s in sizes)
        self.pairs = tuple((int(i), int(j)) for i, j in pairs)
        self.n = 0
        self.means = [np.zeros(s) for s in self.sizes]
        self.scatter = {p: np.zeros((self.sizes[p[0]], self.sizes[p[1]])) for p in self.pairs}

    def update(self, blocks) -> None:
        """Add one chunk of rows, given as one array per block (all with the same rows)."""
        b = blocks[0].shape[0]
        if b == 0:
            return
        chunk_means = [B.mean(axis=0) for B in blocks]
        centred = [B - m for B, m in zip(blocks, chunk_means)]
        n_old = self.n
        n_new = n_old + b
        deltas = [cm - m for cm, m in zip(chunk_means, self.means)]
        w = n_old * b / n_new
        for (i, j), S in self.scatter.items():
            # numpy calls BLAS syrk for A.T @ A with the same buffer, gemm otherwise
            S += centred[i].T @ centred[j]
            if n_old:
                S += w * np.outer(deltas[i], deltas[j])
        for k, d in enumerate(deltas):
            self.means[k] = self.means[k] + d * (b / n_new)
        self.n = n_new

    def merge(self, other: StreamingMoments) -> None:
        """Add the rows summarised by ``other`` (same sizes and pairs): Chan et al.'s pairwise
        update, so moments computed on separate chunks (e.g. Dask blocks) combine exactly."""
        if other.n == 0:
            return
        if self.n == 0:
            self.n, self.means = other.n, [m.copy() for m in other.means]
            self.scatter = {p: S.copy() for p, S in other.scatter.items()}
            return
        n = self.n + other.n
        deltas = [mb - ma for ma, mb in zip(self.means, other.means)]
        w = self.n * other.n / n
        for (i, j), S in self.scatter.items():
            S += other.scatter[(i, j)] + w * np.outer(deltas[i], deltas[j])
        self.means = [m + d * (other.n / n) for m, d in zip(self.means, deltas)]
        self.n = n

    def add_rows(self, arrays) -> None:
        """Add any number of rows (one array per block, same rows), in float64 chunks of at most
        :data:`BLOCK_ROWS` rows."""
        for sl in iter_blocks(arrays[0].shape[0]):
            self.update(tuple(np.asarray(A[sl], dtype=np.float64) for A in arrays))

    def cov(self, i: int, j: int) -> np.ndarray:
        """Return the sample covariance ``S_ij / (n - 1)`` of blocks ``i`` and ``j``."""
        if self.n < 2:
            raise CrossviewError(f"need at least 2 rows to estimate covariances; have {self.n}")
        return self.scatter[(i, j)] / (self.n - 1)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Return the state as named arrays (for model files)."""
        out = {f"{prefix}n": np.array([self.n], dtype=np.int64)}
        for k, m in enumerate(self.means):
            out[f"{prefix}mean{k}"] = m
        for (i, j), S in self.scatter.items():
            out[f"{prefix}scatter{i}{j}"] = S
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, sizes, pairs):
        """Rebuild an accumulator written by :meth:`to_arrays` (a ``ValueError`` if the arrays
        do not have the sizes given)."""
        for k, size in enumerate(sizes):
            got = np.shape(arrays[f"{prefix}mean{k}"])
            if got != (int(size),):
                raise ValueError(f"{prefix}mean{k} has shape {got}; expected ({int(size)},)")
        acc = cls(sizes, pairs)
        acc.n = int(arrays[f"{prefix}n"][0])
        acc.means = [
            np.array(arrays[f"{prefix}mean{k}"], dtype=np.float64) for k in range(len(acc.sizes))
        ]
        for i, j in acc.pairs:
            acc.scatter[(i, j)] = np.array(arrays[f"{prefix}scatter{i}{j}"], dtype=np.float64)
        return acc


def is_dask(A) -> bool:
    """Whether ``A`` is a Dask array (checked without importing Dask)."""
    return type(A).__module__.split(".")[0] == "dask" and hasattr(A, "to_delayed")


def _chunk_moments(sizes, pairs, *blocks) -> StreamingMoments:
    """The moments of one chunk of rows (one NumPy block per view); runs on a Dask worker."""
    acc = StreamingMoments(sizes, pairs)
    acc.add_rows(tuple(np.asarray(B, dtype=np.float64) for B in blocks))
    return acc


def check_dask_views(arrays, names=("X", "Y")) -> None:
    """2-D, numeric, and the same known number of rows, or a CrossviewError naming the view."""
    for name, A in zip(names, arrays):
        if A.ndim != 2:
            raise CrossviewError(f"view {name} must be 2-D (rows x features); got shape {A.shape}")
        if A.dtype.kind not in "biuf":
            raise CrossviewError(f"view {name} must be numeric; got dtype {A.dtype}")
    rows = [A.shape[0] for A in arrays]
    if any(r != r for r in rows) or len(set(rows)) != 1:  # NaN: rows unknown
        raise CrossviewError(
            "the views must have the same, known number of rows (paired rows); got shapes "
            + ", ".join(str(A.shape) for A in arrays)
        )


def as_dask_pair(X, Y):
    """Both views as Dask arrays (a NumPy view is wrapped, chunked like the other's rows)."""
    import dask.array as da

    def wrap(A, like):
        A = np.asarray(A)
        return da.from_array(A, chunks=(like.chunks[0], -1) if A.ndim == 2 else "auto")

    if not is_dask(X):
        X = wrap(X, Y)
    if not is_dask(Y):
        Y = wrap(Y, X)
    check_dask_views((X, Y))
    return X, Y


#: moments merged by one task of the reduction tree of :func:`dask_moments`
_MERGE_FAN_IN = 8


def _merge_all(*parts: StreamingMoments) -> StreamingMoments:
    """Merge moments in order into the first (a task of the reduction tree)."""
    acc = parts[0]
    for part in parts[1:]:
        acc.merge(part)
    return acc


def dask_moments(arrays, pairs, names=("X", "Y")) -> StreamingMoments:
    """Moments of paired Dask arrays, computed blockwise (on the connected ``dask.distributed``
    cluster if there is one, else Dask's default scheduler) and merged in order.

    Each view is rechunked to full rows (all columns in one block) on the first view's row
    chunks, so every task holds one chunk of rows of every view and returns only its
    ``d x d`` moments, which a tree of merges (8 at a time) reduces on the workers. The
    arrays must be 2-D, numeric and have the same number of rows; non-finite values are
    reported after the pass (the moments are then not finite).
    """
    import dask

    check_dask_views(arrays, names)
    rows = arrays[0].chunks[0]
    arrays = [A.rechunk({0: rows, 1: -1}) for A in arrays]
    sizes = tuple(int(A.shape[1]) for A in arrays)
    delayed = [A.to_delayed().ravel() for A in arrays]
    tasks = [dask.delayed(_chunk_moments)(sizes, pairs, *parts) for parts in zip(*delayed)]
    # a tree of merges on the workers, so only one set of moments ever comes back
    while len(tasks) > 1:
        step = _MERGE_FAN_IN
        tasks = [dask.delayed(_merge_all)(*tasks[i : i + step]) for i in range(0, len(tasks), step)]
    acc = StreamingMoments(sizes, pairs)
    if tasks:
        acc.merge(dask.compute(tasks[0])[0])
    finite = all(np.all(np.isfinite(m)) for m in acc.means) and all(
        np.all(np.isfinite(S)) for S in acc.scatter.values()
    )
    if not finite:
        raise CrossviewError("the views contain NaN or infinite values; expected finite numbers")
    return acc


def add_paired_chunk(est, X, Y, on_first=None) -> None:
    """The shared part of ``partial_fit``: validate a chunk of paired rows, start the moments
    (and the feature counts) on the first chunk, check the widths on later ones, add the rows.

    ``on_first(n_features_x, n_features_y)`` runs before the first chunk is taken (e.g. to
    check ``n_components``). The first chunk needs at least 2 rows.
    """
    first = getattr(est, "_moments", None) is None
    X, Y = check_views(X, Y, min_samples=2 if first else 1, warn_constant=False)
    if first:
        if on_first is not None:
            on_first(X.shape[1], Y.shape[1])
        est._moments = StreamingMoments((X.shape[1], Y.shape[1]), CCA_PAIRS)
        est.n_features_in_, est.n_features_in_y_ = X.shape[1], Y.shape[1]
    else:
        for name, A, d in (("X", X, est.n_features_in_), ("Y", Y, est.n_features_in_y_)):
            if A.shape[1] != d:
                raise CrossviewError(
                    f"partial_fit: view {name} has {A.shape[1]} features (shape {A.shape}); "
                    f"earlier chunks had {d}"
                )
    est._moments.add_rows((X, Y))


def iter_blocks(n: int, block_rows: int = BLOCK_ROWS):
    """Yield slices that cover ``range(n)`` in consecutive blocks of at most ``block_rows``."""
    for start in range(0, n, block_rows):
        yield slice(start, min(n, start + block_rows))


def psd_power(C: np.ndarray, power: float, ridge: float = 0.0, rtol: float | None = None):
    """Return ``(C + ridge I)^power`` of a symmetric PSD matrix via one eigendecomposition.

    Eigenvalues at or below ``rtol * max eigenvalue`` (default ``d * eps``) are treated as zero:
    for a negative power the result is then the Moore-Penrose pseudo-inverse power, so a
    singular covariance (constant columns, fewer rows than columns) never produces inf.
    """
    d = C.shape[0]
    evals, evecs = scipy.linalg.eigh(C, check_finite=False)
    evals = evals + ridge
    top = evals[-1] if evals.size else 0.0
    if rtol is None:
        rtol = d * np.finfo(np.float64).eps
    keep = evals > max(top, 0.0) * rtol
    if not np.any(keep):
        return np.zeros_like(C)
    V = evecs[:, keep]
    return (V * evals[keep] ** power) @ V.T


def fix_signs(x_weights: np.ndarray, y_weights: np.ndarray) -> None:
    """Flip component signs in place so that each x weight's largest-magnitude entry is positive."""
    if x_weights.size == 0:
        return
    idx = np.argmax(np.abs(x_weights), axis=0)
    signs = np.sign(x_weights[idx, np.arange(x_weights.shape[1])])
    signs[signs == 0] = 1.0
    x_weights *= signs
    y_weights *= signs


def cca_from_covariances(
    Wx, Wy, Cxy: np.ndarray, n_components: int, solver: str = "svd", overwrite_cxy: bool = False
):
    """Solve CCA given whitening matrices and the cross-covariance.

    ``Wx`` and ``Wy`` are ``(Cxx + rx I)^{-1/2}`` and ``(Cyy + ry I)^{-1/2}``, either as square
    matrices or, when the covariance is diagonal, as 1-D vectors of the diagonal. With
    ``T = Wx Cxy Wy = U S V^T``, the canonical weights are ``Wx U`` and ``Wy V`` and the
    (regularised) canonical correlations the singular values ``S`` — Hotelling (1936); the
    whitening form is eq. (2.4)-(2.6) of Uurtio et al. (2017), "A Tutorial on Canonical
    Correlation Methods", ACM Computing Surveys 50(6). Components come out in decreasing order of
    correlation with deterministic signs (see :func:`fix_signs`).

    ``solver="svd"`` takes one full SVD of ``T``. ``solver="eigh"`` computes only the top
    ``n_components`` eigenvectors of ``T T^T`` (then ``V = T^T U / S``); it needs two matrices
    of the size of ``T`` instead of about eight for LAPACK's ``gesdd``, which matters for exact
    kernel CCA where ``T`` is n x n. The top singular values are all that is needed, and they are
    large, so squaring ``T`` costs no useful accuracy. ``overwrite_cxy=True`` lets diagonal
    whitening scale ``Cxy`` in place instead of copying it.
    """
    if Wx.ndim == 1:
        T = Cxy if overwrite_cxy else Cxy.copy()
        T *= Wx[:, None]
    else:
        T = Wx @ Cxy
    if Wy.ndim == 1:
        T *= Wy[None, :]
    else:
        T = T @ Wy
    k = n_components
    if solver == "svd":
        U, s, Vt = scipy.linalg.svd(
            T, full_matrices=False, check_finite=False, overwrite_a=True, lapack_driver="gesdd"
        )
        Uk, Vk, s = U[:, :k], Vt[:k].T, s[:k]
    else:
        r = T.shape[0]
        TT = T @ T.T
        evals, Uk = scipy.linalg.eigh(
            TT.T, overwrite_a=True, check_finite=False, driver="evr", subset_by_index=(r - k, r - 1)
        )
        del TT
        Uk = Uk[:, ::-1]
        s = np.sqrt(np.clip(evals[::-1], 0.0, None))
        Vk = T.T @ Uk
        nz = s > 0
        Vk[:, nz] /= s[nz]
        if not np.all(nz):  # zero singular values: any unit vectors orthogonal to the rest
            Vk[:, ~nz] = 0.0
    x_w = (Wx[:, None] * Uk) if Wx.ndim == 1 else Wx @ Uk
    y_w = (Wy[:, None] * Vk) if Wy.ndim == 1 else Wy @ Vk
    x_w = np.ascontiguousarray(x_w)
    y_w = np.ascontiguousarray(y_w)
    fix_signs(x_w, y_w)
    return x_w, y_w, np.clip(s, 0.0, 1.0)


def regularized_cca(
    Cxx: np.ndarray,
    Cyy: np.ndarray,
    Cxy: np.ndarray,
    n_components: int,
    ridge_x: float,
    ridge_y: float,
):
    """Solve ridge-regularised CCA from covariances; return ``(x_weights, y_weights, corr)``.

    Each view is whitened with ``(C + ridge I)^{-1/2}`` (:func:`psd_power`: a pseudo-inverse
    power on directions without variance, so it never produces inf), then
    :func:`cca_from_covariances` takes the SVD of the whitened cross-covariance. The ridges are
    absolute (callers scale them to their data).
    """
    Wx = psd_power(Cxx, -0.5, ridge=ridge_x)
    Wy = psd_power(Cyy, -0.5, ridge=ridge_y)
    return cca_from_covariances(Wx, Wy, Cxy, n_components)


def least_squares_map(weights: np.ndarray, C_self: np.ndarray, C_target: np.ndarray):
    """Return ``B`` minimising ``||T_c - Z B||^2`` where ``Z = F_c @ weights`` are variates.

    With ``C_self = cov(F)`` (a matrix, or a 1-D vector when it is diagonal) and
    ``C_target = cov(F, T)``, the normal equations give ``B = (W^T C_self W)^+ W^T C_target``
    (k x d_target); the pseudo-inverse makes components with zero training variance contribute
    nothing instead of failing.
    """
    if C_self.ndim == 1:
        G = weights.T @ (C_self[:, None] * weights)
    else:
        G = weights.T @ C_self @ weights
    G = (G + G.T) / 2
    return scipy.linalg.pinvh(G) @ (weights.T @ C_target)


def column_correlations(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Return the Pearson correlation of each column of ``A`` with the same column of ``B``.

    A column with zero variance in either array gets correlation 0.
    """
    Ac = A - A.mean(axis=0)
    Bc = B - B.mean(axis=0)
    num = np.einsum("ij,ij->j", Ac, Bc)
    den = np.sqrt(np.einsum("ij,ij->j", Ac, Ac) * np.einsum("ij,ij->j", Bc, Bc))
    out = np.zeros(A.shape[1])
    ok = den > 0
    out[ok] = num[ok] / den[ok]
    return out


def check_n_components(
    n_components: int, dx: int, dy: int, what: str = "min(n_features_x, n_features_y)"
) -> int:
    """Check that ``n_components`` (an int >= 1, see the constraints) fits in both views."""
    limit = min(dx, dy)
    if n_components > limit:
        raise CrossviewError(
            f"n_components={n_components} is out of range: X has {dx} and Y has {dy} features, "
            f"so at most {what} = {limit} components exist; expected 1 <= n_components <= {limit}"
        )
    return int(n_components)
