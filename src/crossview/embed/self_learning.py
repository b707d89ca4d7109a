"""Self-learning: fit a map from a few seed pairs (or none) by re-inducing the dictionary.

Artetxe, Labaka & Agirre 2017 ("Learning bilingual word embeddings with (almost) no bilingual
data", ACL) alternate two steps: fit the map on the current dictionary, then induce a new
dictionary as the nearest neighbours of the mapped rows. Artetxe et al. 2018 ("A robust
self-learning method for fully unsupervised cross-lingual mappings", ACL, sec. 3.2) make it
robust with CSLS retrieval, dictionaries induced in both directions, a vocabulary cut-off, and
stochastic dictionary induction: each similarity is kept with probability ``p`` (the others
set to -inf) so the search escapes poor local optima; ``p`` doubles whenever the objective
stops improving, and the loop ends when ``p`` is 1 and it stops again.

With no seed pairs, ``init="gromov"`` starts from the Gromov-Wasserstein coupling of the two
spaces' cosine distance matrices on their first rows (Alvarez-Melis & Jaakkola 2018, "Gromov-
Wasserstein alignment of word embedding spaces"; POT's solver).
"""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from ..base import check_params, check_view
from ..evaluation.retrieval import _mean_topk_cosine
from ..exceptions import CrossviewError
from ..linear.procrustes import Procrustes

logger = logging.getLogger(__name__)


def _unit(A: np.ndarray) -> np.ndarray:
    A = np.asarray(A, dtype=np.float32)
    n = np.linalg.norm(A, axis=1, keepdims=True)
    return A / np.where(n == 0, 1.0, n)


def _csls_best(A, B, k: int, keep: float, gen, chunk: int = 2048):
    """CSLS-best matches between the rows of A and of B (Conneau et al. 2018, eq. 6), both ways.

    Each score is dropped with probability ``1 - keep`` (one mask, shared by both directions).
    Returns the best row of B for each row of A, the best row of A for each row of B, and the
    mean best score of each direction. torch does the chunked products (float32) and the
    seeded dropout masks.
    """
    import torch

    a, b = torch.from_numpy(A), torch.from_numpy(B)
    # CSLS's neighbourhood terms r_B(a) and r_A(b), by the retrieval module's chunked top-k
    r_a = torch.from_numpy(_mean_topk_cosine(A, B, k, None))
    r_b = torch.from_numpy(_mean_topk_cosine(B, A, k, None))
    fwd = torch.empty(a.shape[0], dtype=torch.int64)
    fwd_val = torch.empty(a.shape[0])
    bwd_val = torch.full((b.shape[0],), float("-inf"))
    bwd = torch.zeros(b.shape[0], dtype=torch.int64)
    for s in range(0, a.shape[0], chunk):
        S = 2 * (a[s : s + chunk] @ b.T) - r_a[s : s + chunk, None] - r_b[None, :]
        if keep < 1.0:
            S = S.masked_fill(torch.rand(S.shape, generator=gen) >= keep, float("-inf"))
        fwd_val[s : s + chunk], fwd[s : s + chunk] = S.max(dim=1)
        col_val, col_idx = S.max(dim=0)
        better = col_val > bwd_val
        bwd_val[better], bwd[better] = col_val[better], col_idx[better] + s

    def mean_finite(v):
        return float(torch.nan_to_num(v, neginf=0.0).mean())

    return fwd.numpy(), bwd.numpy(), mean_finite(fwd_val), mean_finite(bwd_val)


def gromov_seed_pairs(X, Y, n_rows: int = 2000) -> np.ndarray:
    """Seed pairs from the Gromov-Wasserstein coupling of the first ``n_rows`` rows of X and Y.

    Both spaces' cosine distance matrices are compared by POT's ``gromov_wasserstein`` (uniform
    weights, squared loss); each row of X is paired with the row of Y it sends most mass to,
    and only mutual best matches are kept. Needs POT (``pip install pot``).
    """
    try:
        import ot
    except ModuleNotFoundError:
        raise CrossviewError(
            "init='gromov' needs POT, the Python Optimal Transport library (pip install pot)"
        ) from None
    A = _unit(X[:n_rows]).astype(np.float64)
    B = _unit(Y[:n_rows]).astype(np.float64)
    Ca, Cb = 1.0 - A @ A.T, 1.0 - B @ B.T
    p, q = ot.unif(A.shape[0]), ot.unif(B.shape[0])
    T = ot.gromov.gromov_wasserstein(Ca, Cb, p, q, loss_fun="square_loss")
    fwd, bwd = T.argmax(axis=1), T.argmax(axis=0)
    mutual = np.flatnonzero(bwd[fwd] == np.arange(A.shape[0]))
    return np.stack([mutual, fwd[mutual]], axis=1).astype(np.int64)


class SelfLearningMap(BaseEstimator):
    """Fit any linear mapper from a seed dictionary by self-learning (module docs).

    ``fit(X, Y, seed_pairs)`` takes the two whole spaces (rows unpaired) and a (k, 2) array of
    known (row of X, row of Y) pairs. Each round fits ``mapper`` on the seed pairs plus the
    dictionary induced in the last round, maps the first ``vocabulary_size`` rows of both spaces
    into the shared space (``transform`` / ``transform_y``), and induces a new dictionary: the
    CSLS-best target of each source row and the best source of each target row (``directions=
    "both"``, their union) under stochastic dropout.

    Parameters
    ----------
    mapper : estimator or None, default=None
        The map fitted each round, any crossview paired estimator with ``transform`` and
        ``transform_y``; None: ``Procrustes()`` (orthogonal, with unit/center/unit
        normalisation).
    vocabulary_size : int, default=10000
        Rows of each space (the first ones, e.g. the most frequent words) among which the
        dictionary is induced.
    csls_k : int, default=10
        Neighbourhood size of CSLS.
    directions : {"both", "forward"}, default="both"
        Induce pairs source -> target only, or in both directions.
    keep_prob : float, default=0.1
        First probability of keeping each similarity in stochastic dictionary induction (1:
        deterministic).
    patience : int, default=3
        Rounds without an objective gain above ``tol`` before ``keep_prob`` doubles (and, at
        1, before stopping).
    max_iter : int, default=100
        Upper bound on rounds.
    tol : float, default=1e-5
        Smallest objective gain that counts as progress.
    init : {"seed", "gromov"}, default="seed"
        Start from ``seed_pairs``, or (when none are given) from Gromov-Wasserstein seed pairs.
    init_rows : int, default=2000
        Rows of each space used by ``init="gromov"``.
    random_state : int or None, default=None
        Seed of the dropout masks.
    verbose : bool, default=True
        Show a progress bar over the rounds.

    Attributes
    ----------
    mapper_ : estimator
        The mapper fitted on the final dictionary.
    pairs_ : ndarray of shape (n_pairs, 2)
        The final dictionary (seed pairs included).
    history_ : list of dict
        Per round: ``objective`` (mean best CSLS score of the induced pairs), ``keep_prob``
        and ``n_pairs``.
    n_iter_ : int
        Rounds run.
    """

    _parameter_constraints: dict = {
        "mapper": [None, HasMethods(["fit", "transform", "transform_y"])],
        "vocabulary_size": [Interval(Integral, 2, None, closed="left")],
        "csls_k": [Interval(Integral, 1, None, closed="left")],
        "directions": [StrOptions({"both", "forward"})],
        "keep_prob": [Interval(Real, 0, 1, closed="right")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions({"seed", "gromov"})],
        "init_rows": [Interval(Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["boolean"],
    }

    def __init__(
        self,
        mapper=None,
        vocabulary_size=10000,
        csls_k=10,
        directions="both",
        keep_prob=0.1,
        patience=3,
        max_iter=100,
        tol=1e-5,
        init="seed",
        init_rows=2000,
        random_state=None,
        verbose=True,
    ):
        self.mapper = mapper
        self.vocabulary_size = vocabulary_size
        self.csls_k = csls_k
        self.directions = directions
        self.keep_prob = keep_prob
        self.patience = patience
        self.max_iter = max_iter
        self.tol = tol
        self.init = init
        self.init_rows = init_rows
        self.random_state = random_state
        self.verbose = verbose

    def _check_pairs(self, pairs, n_x, n_y) -> np.ndarray:
        P = np.asarray(pairs)
        if P.ndim != 2 or P.shape[1] != 2 or P.dtype.kind not in "iu":
            raise CrossviewError(
                f"seed_pairs must be a (k, 2) integer array of (row of X, row of Y); got shape "
                f"{P.shape} dtype {P.dtype}"
            )
        if P.shape[0] < 2:
            raise CrossviewError(f"seed_pairs has {P.shape[0]} pairs; expected at least 2")
        if P.min() < 0 or P[:, 0].max() >= n_x or P[:, 1].max() >= n_y:
            raise CrossviewError(f"seed_pairs rows out of range: X has {n_x} rows and Y has {n_y}")
        return P.astype(np.int64)

    def fit(self, X, Y, seed_pairs=None):
        """Fit from the two spaces X (n, dx), Y (m, dy) and seed pairs (k, 2); returns self."""
        check_params(self._parameter_constraints, self.get_params(deep=False), "SelfLearningMap")
        X = check_view(X, "X")
        Y = check_view(Y, "Y")
        if seed_pairs is None:
            if self.init != "gromov":
                raise CrossviewError(
                    "no seed_pairs given; pass some (row of X, row of Y) pairs or use "
                    "init='gromov' for a start without any"
                )
            seed = gromov_seed_pairs(X, Y, int(self.init_rows))
            logger.info("Gromov-Wasserstein start: %d mutual seed pairs", seed.shape[0])
            if seed.shape[0] < 2:
                raise CrossviewError("the Gromov-Wasserstein start found fewer than 2 pairs")
        else:
            seed = self._check_pairs(seed_pairs, X.shape[0], Y.shape[0])
        import torch

        gen = torch.Generator().manual_seed(
            int(np.random.default_rng(self.random_state).integers(2**62))
        )
        base = Procrustes() if self.mapper is None else self.mapper
        vx, vy = (
            min(int(self.vocabulary_size), X.shape[0]),
            min(int(self.vocabulary_size), Y.shape[0]),
        )
        keep, best, stall = float(self.keep_prob), -np.inf, 0
        pairs = seed
        self.history_ = []
        bar = tqdm(total=int(self.max_iter), desc="self-learning", disable=not self.verbose)
        self.n_iter_ = 0
        for _ in range(int(self.max_iter)):
            self.n_iter_ += 1
            mapper = clone(base).fit(X[pairs[:, 0]], Y[pairs[:, 1]])
            A = _unit(mapper.transform(X[:vx]))
            B = _unit(mapper.transform_y(Y[:vy]))
            fwd, bwd, obj_f, obj_b = _csls_best(A, B, int(self.csls_k), keep, gen)
            induced = [np.stack([np.arange(vx), fwd], axis=1)]
            objective = obj_f
            if self.directions == "both":
                induced.append(np.stack([bwd, np.arange(vy)], axis=1))
                objective = (obj_f + obj_b) / 2
            pairs = np.unique(np.concatenate([seed, *induced]), axis=0)
            self.history_.append(
                {"objective": float(objective), "keep_prob": keep, "n_pairs": int(len(pairs))}
            )
            bar.update(1)
            bar.set_postfix(objective=f"{objective:.4f}", keep=keep)
            if objective - best > self.tol:
                best, stall = objective, 0
            else:
                stall += 1
                if stall >= int(self.patience):
                    if keep >= 1.0:
                        break
                    keep, stall = min(1.0, 2 * keep), 0
        bar.close()
        self.pairs_ = pairs
        self.mapper_ = clone(base).fit(X[pairs[:, 0]], Y[pairs[:, 1]])
        self.n_features_in_ = X.shape[1]
        self.n_features_in_y_ = Y.shape[1]
        return self

    def transform(self, X):
        """Map X into the shared space of the fitted mapper."""
        check_is_fitted(self)
        return self.mapper_.transform(X)

    def transform_y(self, Y):
        """Map Y into the shared space of the fitted mapper."""
        check_is_fitted(self)
        return self.mapper_.transform_y(Y)
