"""RCSLS: a linear map trained on the CSLS retrieval criterion itself (Joulin et al. 2018)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import CrossviewError, TwoViewModel, check_view, check_views
from .procrustes import (
    _STEPS,
    Procrustes,
    _unit_rows,
    apply_normalization,
    fit_normalization,
    normalization_steps,
)


def _knn(queries, base, rows, k: int, chunk: int = 4096):
    """For each query, the mean of ``rows[j]`` over the k base rows j with the largest dot
    products, and the sum of those dot products over all queries (a loss term).

    torch does the chunked products and the top-k (multithreaded, float32; NumPy's
    argpartition is several times slower here).
    """
    import torch

    q = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))
    b = torch.from_numpy(np.ascontiguousarray(base, dtype=np.float32))
    r = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))
    k = min(k, b.shape[0])
    means = torch.empty(q.shape[0], r.shape[1])
    total = 0.0
    for start in range(0, q.shape[0], chunk):
        vals, idx = torch.topk(q[start : start + chunk] @ b.T, k, dim=1)
        total += float(vals.sum(dtype=torch.float64))
        means[start : start + chunk] = r[idx].mean(dim=1)
    return means.numpy().astype(np.float64), total


class RCSLS(TwoViewModel):
    """Learn a linear map X -> Y that maximises the relaxed CSLS criterion (RCSLS).

    Joulin, Bojanowski, Mikolov, Jegou & Grave 2018, "Loss in translation: learning bilingual
    word mapping with a retrieval criterion" (EMNLP), eq. 4-5. With unit-length rows, the map W
    minimises, over the n training pairs,

        (1/n) sum_i [ -2 (x_i W) . y_i + (1/k) sum_{y in N_Y(x_i W)} (x_i W) . y
                                        + (1/k) sum_{x in N_X(y_i)} (x W) . y_i ],

    where ``N_Y(x_i W)`` are the k target rows nearest to the mapped query and ``N_X(y_i)`` the
    k mapped source rows nearest to the target: the CSLS score of the correct pair is pushed up
    against the hubs around it. The objective is piecewise linear in W; it is minimised by full
    gradient steps from the Procrustes solution, the neighbour sets recomputed each step (on
    random batches of pairs by default; full batches halve the step when the loss rises, as in
    the authors' code). With
    ``constraint="spectral"`` W is projected onto the spectral-norm unit ball (the convex hull of
    orthogonal maps, the paper's relaxation, sec. 3) after each step.

    The neighbours come from pools of candidates: by default the training rows; ``fit`` also
    takes ``X_pool`` / ``Y_pool`` (e.g. the whole source and target vocabularies, or their most
    frequent rows) for a harder, more faithful criterion.

    Parameters
    ----------
    normalize : sequence of {"unit", "center"}, str or None, default=("unit", "center", "unit")
        Normalisation applied to each view first (as :class:`Procrustes`).
    n_neighbors : int, default=10
        k of the CSLS neighbourhoods.
    max_iter : int, default=20
        Gradient steps.
    learning_rate : float, default=1.0
        First step size. With full batches it is halved whenever a step raises the loss; with
        minibatches step t uses ``learning_rate / sqrt(t + 1)``.
    constraint : {"spectral"} or None, default="spectral"
        Project W onto the spectral-norm unit ball after each step, or leave it free.
    tol : float, default=1e-6
        Stop when the step size falls below this.
    batch_size : int or None, default=2048
        Training pairs per step, drawn at random (None: all pairs, with the step-halving rule
        above). Minibatches keep a fit of 15,000 pairs to seconds.
    n_negatives : int or None, default=10000
        Candidates drawn at random (once) from each pool for the CSLS neighbourhoods; None:
        the whole pools.
    random_state : int or None, default=0
        Seed of the minibatches and of the candidate sample.

    Attributes
    ----------
    coef_xy_ : ndarray of shape (n_features_x, n_features_y)
        The map from normalised X into normalised Y's space.
    coef_yx_ : ndarray of shape (n_features_y, n_features_x)
        Its pseudo-inverse, for :meth:`predict_x`.
    loss_curve_ : list of float
        The RCSLS loss of each step (on its batch), from the Procrustes start on.
    n_iter_ : int
        Steps taken.
    x_centers_, y_centers_ : ndarray
        Means subtracted by the "center" steps.
    n_features_in_, n_features_in_y_ : int
        Number of columns of X and of Y seen in ``fit``.
    """

    _parameter_constraints: dict = {
        "normalize": ["array-like", StrOptions(set(_STEPS)), None],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "constraint": [StrOptions({"spectral"}), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "n_negatives": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        normalize=("unit", "center", "unit"),
        n_neighbors=10,
        max_iter=20,
        learning_rate=1.0,
        constraint="spectral",
        tol=1e-6,
        batch_size=2048,
        n_negatives=10000,
        random_state=0,
    ):
        self.normalize = normalize
        self.n_neighbors = n_neighbors
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.constraint = constraint
        self.tol = tol
        self.batch_size = batch_size
        self.n_negatives = n_negatives
        self.random_state = random_state

    def _loss_and_grad(self, X, Y, W, Xp, Yp):
        """RCSLS loss (eq. 5) and its (sub)gradient in W, for the current neighbour sets."""
        k, n = int(self.n_neighbors), X.shape[0]
        XW = X @ W
        y_nn, f_y = _knn(XW, Yp, Yp, k)  # targets nearest to each mapped query
        x_nn, f_x = _knn(Y, Xp @ W, Xp, k)  # sources whose images are nearest to each target
        loss = (-2.0 * np.einsum("ij,ij->", XW, Y) + f_y / k + f_x / k) / n
        grad = (-2.0 * X.T @ Y + X.T @ y_nn + x_nn.T @ Y) / n
        return loss, grad

    def fit(self, X, Y, X_pool=None, Y_pool=None):
        """Fit the map from paired rows of X (n, dx) and Y (n, dy); returns self.

        ``X_pool`` / ``Y_pool``: candidate rows for the CSLS neighbourhoods (default: X and Y).
        """
        self._validate_params()
        X, Y = check_views(X, Y, min_samples=2)
        steps = normalization_steps(self.normalize)
        Xn, self.x_centers_ = fit_normalization(X, steps)
        Yn, self.y_centers_ = fit_normalization(Y, steps)
        Xp = Xn if X_pool is None else self._pool(X_pool, "X_pool", X.shape[1], self.x_centers_)
        Yp = Yn if Y_pool is None else self._pool(Y_pool, "Y_pool", Y.shape[1], self.y_centers_)
        rng = np.random.default_rng(self.random_state)
        if self.n_negatives is not None:  # one fixed random sample of candidates per view
            Xp = Xp[rng.choice(Xp.shape[0], min(int(self.n_negatives), Xp.shape[0]), False)]
            Yp = Yp[rng.choice(Yp.shape[0], min(int(self.n_negatives), Yp.shape[0]), False)]
        # start from the orthogonal Procrustes map of the normalised rows
        W = Procrustes(normalize=None).fit(Xn, Yn).coef_xy_
        lr = float(self.learning_rate)
        n = Xn.shape[0]
        full = self.batch_size is None or int(self.batch_size) >= n
        self.loss_curve_, self.n_iter_ = [], 0
        if full:  # full gradient steps; a step that raises the loss is retaken at half size
            loss, grad = self._loss_and_grad(Xn, Yn, W, Xp, Yp)
            self.loss_curve_.append(float(loss))
            while self.n_iter_ < int(self.max_iter) and lr >= self.tol:
                W_new = self._project(W - lr * grad)
                loss_new, grad_new = self._loss_and_grad(Xn, Yn, W_new, Xp, Yp)
                self.n_iter_ += 1
                if loss_new > loss:
                    lr /= 2.0
                    continue
                W, loss, grad = W_new, loss_new, grad_new
                self.loss_curve_.append(float(loss))
        else:  # a random batch of pairs per step, the step size decaying as 1/sqrt(t)
            for t in range(int(self.max_iter)):
                b = rng.choice(n, int(self.batch_size), replace=False)
                loss, grad = self._loss_and_grad(Xn[b], Yn[b], W, Xp, Yp)
                self.loss_curve_.append(float(loss))
                W = self._project(W - lr / np.sqrt(t + 1) * grad)
                self.n_iter_ += 1
        self.coef_xy_ = np.ascontiguousarray(W)
        self.coef_yx_ = np.linalg.pinv(W)
        self.n_features_in_ = X.shape[1]
        self.n_features_in_y_ = Y.shape[1]
        return self

    def _project(self, W):
        """Project onto the spectral-norm unit ball (singular values clipped at 1), if asked."""
        if self.constraint != "spectral":
            return W
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        return (U * np.clip(s, 0.0, 1.0)) @ Vt

    def _pool(self, P, name, width, centers):
        P = check_view(P, name, n_features=width)
        return apply_normalization(P, normalization_steps(self.normalize), centers)

    def normalize_x(self, X):
        """Return X after the fitted normalisation (the input space of ``coef_xy_``)."""
        return apply_normalization(
            self._check_x(X), normalization_steps(self.normalize), self.x_centers_
        )

    def normalize_y(self, Y):
        """Return Y after the fitted normalisation (the space :meth:`predict` maps into)."""
        return apply_normalization(
            self._check_y(Y), normalization_steps(self.normalize), self.y_centers_
        )

    def predict(self, X):
        """Map X into Y's normalised space: ``normalize_x(X) @ coef_xy_``."""
        return self.normalize_x(X) @ self.coef_xy_

    def predict_x(self, Y):
        """Map Y back into X's normalised space with the pseudo-inverse of the map."""
        return self.normalize_y(Y) @ self.coef_yx_

    def transform(self, X):
        """The code of X: its image in Y's normalised space (same as :meth:`predict`)."""
        return self.predict(X)

    def transform_y(self, Y):
        """The code of Y: Y after the fitted normalisation."""
        return self.normalize_y(Y)

    def score(self, X, Y) -> float:
        """Mean cosine similarity of ``predict(X)`` and ``normalize_y(Y)`` over paired rows."""
        P, T = _unit_rows(self.predict(X)), _unit_rows(self.normalize_y(Y))
        if P.shape[0] != T.shape[0]:
            raise CrossviewError(
                f"score needs paired rows: X has {P.shape[0]} rows, Y has {T.shape[0]}"
            )
        return float(np.mean(np.einsum("ij,ij->i", P, T)))

    _ARRAYS = ("coef_xy_", "coef_yx_", "x_centers_", "y_centers_")

    def _get_state(self):
        return {k: getattr(self, k) for k in self._ARRAYS}, {
            "loss_curve": [float(v) for v in self.loss_curve_],
            "n_iter": int(self.n_iter_),
        }

    def _set_state(self, arrays, extra):
        for k in self._ARRAYS:
            setattr(self, k, np.array(arrays[k], dtype=np.float64))
        self.loss_curve_ = list(extra.get("loss_curve", []))
        self.n_iter_ = int(extra.get("n_iter", 0))
