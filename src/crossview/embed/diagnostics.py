"""Measure how isomorphic two embedding spaces are, from the paired rows of a dictionary.

A map from one embedding space onto another (Procrustes, ridge, an MLP) can only be as good as
the two spaces are alike. These measures take the rows ``X`` (n, dx) and ``Y`` (n, dy) of a
dictionary, row ``i`` of X translating to row ``i`` of Y, and tell a user why a map does or does
not work:

- :func:`relational_similarity`: correlation of the pairwise cosines within X and within Y
  (Vulic, Ruder & Sogaard 2020, "Are all good word vector spaces isomorphic?", sec. 3). Uses
  the dictionary's pairing; 1 = the same geometry up to a rotation and a scale.
- :func:`neighbor_overlap`: how many of each item's k nearest neighbours in X are also its k
  nearest neighbours in Y (and the Jaccard index of the two k-NN graphs' edge sets), under the
  dictionary's correspondence.
- :func:`eigenvector_similarity`: distance between the Laplacian spectra of the two k-NN
  graphs (Sogaard, Ruder & Vulic 2018, "On the limitations of unsupervised bilingual
  dictionary induction", sec. 4.3). Spectra ignore node labels, so it does *not* use the
  pairing: a shuffled dictionary scores the same as the true one.
- :func:`knn_graph_isomorphic`: exact isomorphism tests (VF2, Cordella et al. 2004) of the
  k-NN graphs of small samples of dictionary rows.
- :func:`linear_probe`: the precision of an orthogonal map fitted on half of the pairs at
  finding the other half's partners, the measure the verdict's expectation of precision rests
  on (the geometry measures above can sit low for spaces a map still aligns well).

:func:`isomorphism_report` runs them all on (X, Y) and on two controls, Y against a rotated copy
of itself (:func:`rotated_control`, perfectly isomorphic) and X against a shuffled dictionary
(:func:`shuffled_control`, no relation), and places the pair between the controls to give a
verdict. :func:`linear_verdict` says whether a linear map is enough, from the validation P@1 of
a linear and a non-linear map.

Every neighbour search is by cosine, through :func:`crossview.evaluation.retrieval.nearest`, so
every measure is invariant to scaling a view (and to scaling its rows).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from numbers import Integral, Real

import networkx as nx
import numpy as np
import scipy.sparse as sp
from networkx.algorithms.isomorphism import GraphMatcher
from scipy.sparse.csgraph import laplacian
from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, eigsh
from scipy.stats import rankdata
from sklearn.utils._param_validation import Interval
from threadpoolctl import threadpool_limits

from ..base import check_params, check_view
from ..evaluation.retrieval import nearest
from ..exceptions import CrossviewError

__all__ = [
    "EigenvectorSimilarity",
    "GraphIsomorphism",
    "IsomorphismReport",
    "LinearProbe",
    "LinearVerdict",
    "NeighborOverlap",
    "RelationalSimilarity",
    "SpaceComparison",
    "eigenvector_similarity",
    "isomorphism_report",
    "knn_graph_isomorphic",
    "linear_probe",
    "linear_verdict",
    "neighbor_overlap",
    "relational_similarity",
    "rotated_control",
    "shuffled_control",
]

#: graphs up to this many nodes get their full Laplacian spectrum (dense ``eigvalsh``)
_DENSE_MAX = 1000
#: eigenvalues computed by ``eigsh`` for larger graphs when ``n_eig`` is None
_SPARSE_N_EIG = 50
#: VF2 gives up on a pair of graphs after this many extensions of its partial mapping
_VF2_MAX_STEPS = 100_000
#: pairs whose cosines are computed at a time by relational_similarity
_PAIR_CHUNK = 16384
#: verdict thresholds on the position of the relational similarity between the controls
_NEAR, _LARGELY = 0.8, 0.4
#: verdict thresholds on the held-out orthogonal probe: P@1 for "works well", P@10 for "part"
#: (P@10 also at least 5 times chance)
_PROBE_GOOD, _PROBE_SOME = 0.5, 0.2
#: a measure is "above chance" when it beats the shuffled dictionaries' mean by this many sds
#: (with 10 shuffles and two measures, about 1 unrelated pair in 300 is called related)
_N_SD = 4.0

_POSITIVE = [Interval(Integral, 1, None, closed="left")]


# ---------------------------------------------------------------------------- helpers


def _check_pair(X, Y, min_rows: int, need: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate the two views of a dictionary: same number of rows, at least ``min_rows``."""
    Xa, Ya = check_view(X, "X"), check_view(Y, "Y")
    if Xa.shape[0] != Ya.shape[0]:
        raise CrossviewError(
            f"X has {Xa.shape[0]} rows and Y has {Ya.shape[0]}; the rows must be the pairs of a "
            "dictionary (row i of X translates to row i of Y)"
        )
    if Xa.shape[0] < min_rows:
        raise CrossviewError(f"X and Y have {Xa.shape[0]} rows; {need} needs at least {min_rows}")
    return Xa, Ya


def _unit(A: np.ndarray) -> np.ndarray:
    """L2-normalise rows in float64 (a zero row stays zero, so its cosines are 0)."""
    norms = np.linalg.norm(A, axis=1, keepdims=True)
    return A / np.where(norms == 0, 1.0, norms)


def _knn(A: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest other rows of each row of ``A`` by cosine, shape (n, k), best first."""
    idx = nearest(A, A, k=k + 1, method="nn")
    is_self = idx == np.arange(A.shape[0])[:, None]
    # a row with exact duplicates may not rank itself first; then drop its worst neighbour
    is_self[~is_self.any(axis=1), -1] = True
    return idx[~is_self].reshape(A.shape[0], k)


def _adjacency(idx: np.ndarray) -> sp.csr_matrix:
    """The symmetric k-NN graph: i ~ j when j is among i's neighbours or i among j's."""
    n, k = idx.shape
    rows = np.repeat(np.arange(n), k)
    A = sp.csr_matrix((np.ones(n * k), (rows, idx.ravel())), shape=(n, n))
    return A.maximum(A.T).tocsr()


def _relabel(idx: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """The k-NN lists of ``A[perm]`` from those of ``A``: row a is row perm[a] of A."""
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size)
    return inv[idx[perm]]


def _n_edges(A: sp.csr_matrix) -> int:
    return A.nnz // 2


def _rng(random_state) -> np.random.Generator:
    return np.random.default_rng(random_state)


# ---------------------------------------------------------------- eigenvector similarity


@dataclass(frozen=True)
class EigenvectorSimilarity:
    """Eigenvector similarity of two k-NN graphs (Sogaard et al. 2018, sec. 4.3).

    ``score`` is the paper's sum over the ``k`` largest Laplacian eigenvalues of
    ``(lambda_x,i - lambda_y,i)**2``: 0 for isomorphic graphs, larger for less alike ones; it
    grows with the number of items and neighbours. ``normalized`` divides it by
    ``sum(lambda_x,i**2 + lambda_y,i**2)`` over the same eigenvalues, which puts it in [0, 1]
    (Laplacian eigenvalues are non-negative), comparable across sizes. ``k`` is the paper's
    smallest number of eigenvalues holding ``energy`` of the spectrum's sum in each graph (the
    smaller of the two), or ``n_eig`` when neither graph reaches it among the ``n_eig``
    eigenvalues computed; then ``truncated`` is True.
    """

    score: float
    normalized: float
    k: int
    n_eig: int
    truncated: bool


def _spectrum(A: sp.csr_matrix, n_eig: int | None) -> tuple[np.ndarray, float]:
    """The largest eigenvalues of the graph Laplacian ``D - A`` (descending) and their sum.

    Graphs of at most ``_DENSE_MAX`` nodes (or asked for nearly all eigenvalues) get the full
    spectrum from a dense ``eigvalsh``, cut to ``n_eig`` when given; larger ones get their
    ``n_eig`` (default ``_SPARSE_N_EIG``) largest eigenvalues from ``eigsh`` (Lanczos) on the
    sparse Laplacian. The sum of all eigenvalues is the trace, the sum of the degrees.
    """
    n = A.shape[0]
    L = laplacian(A.astype(np.float64)).tocsr()
    trace = float(L.diagonal().sum())
    m = _SPARSE_N_EIG if n_eig is None else int(n_eig)
    if n <= _DENSE_MAX or m >= n - 1:
        w = np.linalg.eigvalsh(L.toarray())[::-1]
        return (w if n_eig is None else w[:m]), trace
    # a fixed start vector keeps ARPACK deterministic without touching any global RNG
    v0 = np.random.default_rng(0).standard_normal(n)
    try:
        # ARPACK makes thousands of small BLAS calls; threaded BLAS only adds contention there
        # (ten times slower on a busy machine), so it runs on one thread
        with threadpool_limits(limits=1, user_api="blas"):
            w = eigsh(L, k=m, which="LA", v0=v0, return_eigenvectors=False)
    except (ArpackNoConvergence, ArpackError) as exc:
        raise CrossviewError(
            f"the {m} largest Laplacian eigenvalues of a {n}-node graph did not converge "
            f"({exc}); ask for fewer with n_eig"
        ) from None
    return np.sort(w)[::-1], trace


def _energy_k(w: np.ndarray, trace: float, energy: float) -> int | None:
    """Smallest k whose k largest eigenvalues hold ``energy`` of the trace; None if beyond w."""
    if trace <= 0:
        return 1
    reached = np.flatnonzero(np.cumsum(w) >= energy * trace)
    return int(reached[0]) + 1 if reached.size else None


def _evs(spec_x, spec_y, energy: float) -> EigenvectorSimilarity:
    (wx, tx), (wy, ty) = spec_x, spec_y
    m = min(wx.size, wy.size)
    ks = [k for k in (_energy_k(wx, tx, energy), _energy_k(wy, ty, energy)) if k is not None]
    k = min(ks) if ks else m
    a, b = wx[:k], wy[:k]
    score = float(np.sum((a - b) ** 2))
    denom = float(np.sum(a**2) + np.sum(b**2))
    return EigenvectorSimilarity(
        score=score,
        normalized=score / denom if denom > 0 else 0.0,
        k=int(k),
        n_eig=int(m),
        truncated=not ks,
    )


def eigenvector_similarity(
    X, Y, *, n_neighbors: int = 10, n_eig: int | None = None, energy: float = 0.9
) -> EigenvectorSimilarity:
    """Compare the Laplacian spectra of the k-NN graphs of X and Y (Sogaard et al. 2018, 4.3).

    Builds the symmetric ``n_neighbors``-NN graph (cosine; i ~ j when either is among the
    other's neighbours) of the rows of X and of Y, the unnormalised Laplacians ``L = D - A``
    and their *largest* eigenvalues, as the paper says. With ``k`` the smallest number such
    that the k largest eigenvalues hold ``energy`` (90%) of the sum of all eigenvalues, in each
    graph (the smaller k of the two), the score is
    ``sum_{i=1..k} (lambda_x,i - lambda_y,i)**2``: 0 for isomorphic graphs.

    Up to 1,000 rows the full spectrum is computed, so ``k`` follows the paper exactly; for
    more rows only the ``n_eig`` largest eigenvalues (default 50, by ``eigsh`` on the sparse
    Laplacian), so ``k`` is at most ``n_eig`` and the result says ``truncated`` when the 90%
    rule needs more (typical: k-NN graph spectra are flat, the rule keeps most eigenvalues).
    Compare scores at the same ``n_neighbors``, ``n_eig`` and number of rows, or use
    ``normalized``. The spectrum ignores node labels, so the dictionary's pairing is unused.
    """
    check_params(
        {
            "n_neighbors": _POSITIVE,
            "n_eig": [*_POSITIVE, None],
            "energy": [Interval(Real, 0, 1, closed="right")],
        },
        {"n_neighbors": n_neighbors, "n_eig": n_eig, "energy": energy},
        "eigenvector_similarity",
    )
    Xa, Ya = _check_pair(X, Y, n_neighbors + 1, f"n_neighbors={n_neighbors}")
    spec_x = _spectrum(_adjacency(_knn(Xa, n_neighbors)), n_eig)
    spec_y = _spectrum(_adjacency(_knn(Ya, n_neighbors)), n_eig)
    return _evs(spec_x, spec_y, energy)


# ---------------------------------------------------------------- relational similarity


@dataclass(frozen=True)
class RelationalSimilarity:
    """Correlation of the pairwise cosines within X and within Y over ``n_pairs`` pairs.

    ``pearson`` and ``spearman`` are 1 when the spaces have the same geometry (up to rotation
    and scale) and about 0 when unrelated; ``sampled`` says whether the pairs were a random
    sample rather than all ``i < j``.
    """

    pearson: float
    spearman: float
    n_pairs: int
    sampled: bool


def _pairs(n: int, n_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, bool]:
    """All pairs i < j when there are at most ``n_pairs``, else that many random pairs i != j."""
    if n * (n - 1) // 2 <= n_pairs:
        i, j = np.triu_indices(n, k=1)
        return i, j, False
    i = rng.integers(n, size=n_pairs)
    j = rng.integers(n - 1, size=n_pairs)
    j += j >= i  # uniform over the other n - 1 rows
    return i, j, True


def _pair_cosines(U: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``U[i] . U[j]`` for unit rows ``U``, in chunks, visiting the pairs in order of ``i``."""
    order = np.argsort(i, kind="stable")  # sequential reads of U[i]: about twice as fast
    i, j = i[order], j[order]
    out = np.empty(i.size)
    for s in range(0, i.size, _PAIR_CHUNK):
        e = s + _PAIR_CHUNK
        out[order[s:e]] = np.einsum("ij,ij->i", U[i[s:e]], U[j[s:e]])
    return out


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def _check_spread(c: np.ndarray, name: str) -> None:
    if np.ptp(c) <= 1e-12:
        raise CrossviewError(
            f"all pairwise cosines of {name} are equal ({c[0]:.3g}); its rows have no geometry "
            "to compare, so relational similarity is undefined"
        )


def _relational(cx: np.ndarray, cy: np.ndarray, sampled: bool) -> RelationalSimilarity:
    return RelationalSimilarity(
        pearson=_pearson(cx, cy),
        spearman=_pearson(rankdata(cx), rankdata(cy)),
        n_pairs=int(cx.size),
        sampled=sampled,
    )


def relational_similarity(
    X, Y, *, n_pairs: int = 100_000, random_state=None
) -> RelationalSimilarity:
    """Correlate cos(x_i, x_j) with cos(y_i, y_j) over pairs of dictionary rows (Vulic 2020).

    The relational similarity of Vulic, Ruder & Sogaard 2020 ("Are all good word vector spaces
    isomorphic?", sec. 3): the Pearson (and Spearman) correlation between the cosine of two
    rows of X and the cosine of the same two rows of Y, over all pairs ``i < j``, or over
    ``n_pairs`` pairs drawn at random (seeded by ``random_state``) when there are more. 1 = the
    spaces have the same geometry; about 0 = none in common. Needs at least 3 rows.
    """
    check_params({"n_pairs": _POSITIVE}, {"n_pairs": n_pairs}, "relational_similarity")
    Xa, Ya = _check_pair(X, Y, 3, "relational similarity")
    i, j, sampled = _pairs(Xa.shape[0], n_pairs, _rng(random_state))
    cx, cy = _pair_cosines(_unit(Xa), i, j), _pair_cosines(_unit(Ya), i, j)
    _check_spread(cx, "X")
    _check_spread(cy, "Y")
    return _relational(cx, cy, sampled)


# ---------------------------------------------------------------------- neighbour overlap


@dataclass(frozen=True)
class NeighborOverlap:
    """Agreement of the k-NN graphs of X and Y under the dictionary's correspondence.

    ``mean_overlap``: mean over items of the fraction of its ``n_neighbors`` nearest
    neighbours in X that are also among its nearest in Y (1 = the same neighbours).
    ``jaccard``: edges common to the two symmetric k-NN graphs over edges in either.
    ``chance_overlap`` and ``chance_jaccard``: their expected values when the correspondence
    is a random permutation (``k / (n - 1)``; ``|E_x| |E_y| / (n (n - 1) / 2)`` shared edges).
    """

    mean_overlap: float
    jaccard: float
    chance_overlap: float
    chance_jaccard: float
    n_neighbors: int


def _mean_overlap(ix: np.ndarray, iy: np.ndarray) -> float:
    """Mean fraction of shared neighbours per row (each row's indices are distinct)."""
    s = np.sort(np.concatenate([ix, iy], axis=1), axis=1)
    return float((s[:, 1:] == s[:, :-1]).sum(axis=1).mean() / ix.shape[1])


def _overlap(ix: np.ndarray, iy: np.ndarray, Ax, Ay) -> NeighborOverlap:
    n, k = ix.shape
    ex, ey = _n_edges(Ax), _n_edges(Ay)
    common = _n_edges(Ax.multiply(Ay).tocsr())
    expected = ex * ey / (n * (n - 1) / 2)
    return NeighborOverlap(
        mean_overlap=_mean_overlap(ix, iy),
        jaccard=common / (ex + ey - common),
        chance_overlap=k / (n - 1),
        chance_jaccard=expected / (ex + ey - expected),
        n_neighbors=k,
    )


def neighbor_overlap(X, Y, *, n_neighbors: int = 10) -> NeighborOverlap:
    """Measure how many nearest neighbours (cosine) X and Y share under the dictionary.

    Item ``i`` is row ``i`` of both views. Returns the mean fraction of each item's
    ``n_neighbors`` nearest neighbours in X that are among its nearest in Y, and the Jaccard
    index of the edge sets of the two symmetric k-NN graphs (the graded version of "is the
    identity correspondence an isomorphism?"), each with its chance level.
    """
    check_params({"n_neighbors": _POSITIVE}, {"n_neighbors": n_neighbors}, "neighbor_overlap")
    Xa, Ya = _check_pair(X, Y, n_neighbors + 1, f"n_neighbors={n_neighbors}")
    ix, iy = _knn(Xa, n_neighbors), _knn(Ya, n_neighbors)
    return _overlap(ix, iy, _adjacency(ix), _adjacency(iy))


# ----------------------------------------------------------------- exact isomorphism (VF2)


@dataclass(frozen=True)
class GraphIsomorphism:
    """Exact isomorphism tests of the k-NN graphs of ``n_subsets`` samples of ``n_items`` rows.

    ``fraction_isomorphic``: fraction of the decided samples whose two graphs are isomorphic
    under some correspondence (VF2); NaN when none was decided. ``fraction_identity``: fraction
    of all samples whose graphs are equal under the dictionary's own correspondence (i <-> i).
    ``n_undecided``: samples whose search ran past ``max_steps``.
    """

    fraction_isomorphic: float
    fraction_identity: float
    n_subsets: int
    n_undecided: int
    n_items: int
    n_neighbors: int


class _OutOfSteps(Exception):
    """Raised inside VF2 when the search has extended its partial mapping too many times."""


class _BudgetMatcher(GraphMatcher):
    """networkx's VF2 matcher that gives up after ``max_steps`` feasible extensions."""

    def __init__(self, G1, G2, max_steps: int):
        super().__init__(G1, G2)
        self._steps_left = max_steps

    def semantic_feasibility(self, G1_node, G2_node):
        self._steps_left -= 1
        if self._steps_left < 0:
            raise _OutOfSteps
        return True


def _small_graph(A: np.ndarray, k: int) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(A.shape[0]))
    idx = _knn(A, k)
    G.add_edges_from((i, int(j)) for i in range(A.shape[0]) for j in idx[i])
    return G


def _vf2(Xa, Ya, n_items, n_neighbors, n_subsets, max_steps, rng) -> GraphIsomorphism:
    n_iso = n_identity = n_undecided = 0
    for _ in range(n_subsets):
        rows = np.sort(rng.choice(Xa.shape[0], size=n_items, replace=False))
        Gx, Gy = _small_graph(Xa[rows], n_neighbors), _small_graph(Ya[rows], n_neighbors)
        if {frozenset(e) for e in Gx.edges} == {frozenset(e) for e in Gy.edges}:
            n_identity += 1
            n_iso += 1
            continue
        try:
            n_iso += bool(_BudgetMatcher(Gx, Gy, max_steps).is_isomorphic())
        except _OutOfSteps:
            n_undecided += 1
    decided = n_subsets - n_undecided
    return GraphIsomorphism(
        fraction_isomorphic=n_iso / decided if decided else float("nan"),
        fraction_identity=n_identity / n_subsets,
        n_subsets=n_subsets,
        n_undecided=n_undecided,
        n_items=n_items,
        n_neighbors=n_neighbors,
    )


def knn_graph_isomorphic(
    X,
    Y,
    *,
    n_items: int = 10,
    n_neighbors: int = 3,
    n_subsets: int = 20,
    max_steps: int = _VF2_MAX_STEPS,
    random_state=None,
) -> GraphIsomorphism:
    """Test exactly whether the k-NN graphs of small samples of dictionary rows are isomorphic.

    For each of ``n_subsets`` random samples (seeded by ``random_state``) of ``n_items`` rows,
    builds the symmetric ``n_neighbors``-NN graph (cosine) of those rows of X and of Y and
    tests them with networkx's VF2 (Cordella et al. 2004, "A (sub)graph isomorphism algorithm
    for matching large graphs"). VF2 takes exponential time in the worst case, so keep the
    graphs small (the defaults: 10 nodes, 3 neighbours); a search that extends its partial
    mapping more than ``max_steps`` times is counted as undecided. Also reports how often the
    dictionary's own correspondence (i <-> i) makes the two graphs equal.
    """
    check_params(
        {
            "n_items": [Interval(Integral, 2, None, closed="left")],
            "n_neighbors": _POSITIVE,
            "n_subsets": _POSITIVE,
            "max_steps": _POSITIVE,
        },
        {
            "n_items": n_items,
            "n_neighbors": n_neighbors,
            "n_subsets": n_subsets,
            "max_steps": max_steps,
        },
        "knn_graph_isomorphic",
    )
    if n_neighbors >= n_items:
        raise CrossviewError(
            f"n_neighbors={n_neighbors} needs samples of more rows; got n_items={n_items}"
        )
    Xa, Ya = _check_pair(X, Y, n_items, f"n_items={n_items}")
    return _vf2(Xa, Ya, n_items, n_neighbors, n_subsets, max_steps, _rng(random_state))


# ------------------------------------------------------------------------------- controls


def rotated_control(Y, random_state=None) -> np.ndarray:
    """Return ``Y`` times a random orthogonal matrix: a copy perfectly isomorphic to ``Y``.

    The rotation is Haar-distributed (QR of a Gaussian matrix with the signs of R's diagonal
    folded into Q; Mezzadri 2007, "How to generate random matrices from the classical compact
    groups", sec. 5), seeded by ``random_state``. Cosines, neighbours and graphs are unchanged.
    """
    Ya = check_view(Y, "Y")
    d = Ya.shape[1]
    Q, R = np.linalg.qr(_rng(random_state).standard_normal((d, d)))
    Q *= np.where(np.diag(R) < 0, -1.0, 1.0)
    return Ya @ Q


def shuffled_control(Y, random_state=None) -> np.ndarray:
    """Return the rows of ``Y`` in a random order: a dictionary that pairs unrelated rows."""
    Ya = check_view(Y, "Y")
    return Ya[_rng(random_state).permutation(Ya.shape[0])]


# ------------------------------------------------------------ a held-out orthogonal probe


@dataclass(frozen=True)
class LinearProbe:
    """How well an orthogonal map fitted on half of the pairs retrieves the other half.

    The isomorphism measures above look at each space's own geometry; two spaces can differ in
    their local neighbourhoods and still be mapped well (each item keeps its partner closest
    even when its neighbours move). This probe measures that directly: Procrustes with
    unit/center/unit normalisation is fitted on a random half of the paired rows, and each
    row of the other half looks for its partner among that half's ``n_candidates`` mapped
    rows by CSLS. ``p_at_1`` / ``p_at_10`` are the fractions found at rank 1 / within 10;
    chance is ``1 / n_candidates`` and ``10 / n_candidates``.
    """

    p_at_1: float
    p_at_10: float
    n_candidates: int


def _probe(X: np.ndarray, Y: np.ndarray, rng: np.random.Generator) -> LinearProbe:
    from ..evaluation.retrieval import retrieval_precision
    from ..linear.procrustes import Procrustes

    order = rng.permutation(X.shape[0])
    half = X.shape[0] // 2
    fit, test = order[:half], order[half:]
    model = Procrustes().fit(X[fit], Y[fit])
    p = retrieval_precision(
        model.transform(X[test]), model.transform_y(Y[test]), k=(1, 10), method="csls"
    )
    return LinearProbe(p_at_1=p[1], p_at_10=p[10], n_candidates=int(test.size))


def linear_probe(X, Y, *, random_state=None) -> LinearProbe:
    """Fit an orthogonal map on half of the paired rows and retrieve the other half (LinearProbe).

    X (n, dx) and Y (n, dy): row i of X is paired with row i of Y; n >= 4.
    """
    Xa, Ya = _check_pair(X, Y, 4, "a probe")
    return _probe(Xa, Ya, _rng(random_state))


# ------------------------------------------------------------------------------ the report


@dataclass(frozen=True)
class SpaceComparison:
    """All the measures for one pair of spaces (see each measure's class)."""

    relational: RelationalSimilarity
    overlap: NeighborOverlap
    eigenvector: EigenvectorSimilarity
    isomorphism: GraphIsomorphism
    probe: LinearProbe


@dataclass(frozen=True)
class IsomorphismReport:
    """How isomorphic X and Y are, next to a perfectly isomorphic and an unrelated control.

    ``pair`` compares X with Y; ``rotated`` compares Y with a rotated copy of itself (the best
    any pair can do); ``shuffled`` compares X with Y under a shuffled dictionary (what no
    relation looks like). ``relational_position`` and ``overlap_position`` place the pair's
    relational similarity (Pearson) and mean neighbour overlap between the controls:
    ``(pair - shuffled) / (rotated - shuffled)``, 0 = no better than a shuffled dictionary,
    1 = as good as a rotation. ``relational_null`` and ``overlap_null`` are the mean and the
    standard deviation of those measures over ``n_shuffles`` further shuffled dictionaries.

    The verdict names the structure (relational position >= 0.8: nearly isomorphic; >= 0.4:
    largely isomorphic; relational similarity or neighbour overlap more than 4 sds above its
    mean over the shuffled dictionaries: some shared structure) and sets the expectation of
    precision from the held-out orthogonal probe (:class:`LinearProbe`), in order:

    - probe P@1 >= 0.5: a linear map should work well;
    - probe P@10 >= 0.2 (and >= 5 times chance): a linear map finds part of the pairs,
      expect moderate precision;
    - some structure, or probe P@10 more than 4 binomial sds above chance: expect low
      precision from any map;
    - otherwise: no measurable relation, check the dictionary.
    """

    n_rows: int
    dims: tuple[int, int]
    pair: SpaceComparison
    rotated: SpaceComparison
    shuffled: SpaceComparison
    relational_position: float
    overlap_position: float
    relational_null: tuple[float, float]
    overlap_null: tuple[float, float]
    n_shuffles: int
    verdict: str

    def to_dict(self) -> dict:
        """Return the report as nested plain dicts, lists, numbers and strings (JSON-able)."""
        out = asdict(self)
        for name in ("dims", "relational_null", "overlap_null"):
            out[name] = list(out[name])
        return out

    def format(self) -> str:
        """Return the report as a plain-text table with the verdict underneath."""
        cols = (self.pair, self.rotated, self.shuffled)
        ov, iso, ev = self.pair.overlap, self.pair.isomorphism, self.pair.eigenvector
        k_eig = sorted({c.eigenvector.k for c in cols})
        k_text = "/".join(str(k) for k in k_eig)
        rows = [
            ("relational similarity (Pearson)", [c.relational.pearson for c in cols]),
            ("relational similarity (Spearman)", [c.relational.spearman for c in cols]),
            (f"neighbour overlap (k={ov.n_neighbors})", [c.overlap.mean_overlap for c in cols]),
            (f"  chance {ov.chance_overlap:.3f}", None),
            ("k-NN graph edge Jaccard", [c.overlap.jaccard for c in cols]),
            ("eigenvector similarity", [c.eigenvector.score for c in cols]),
            (f"  normalised (k={k_text})", [c.eigenvector.normalized for c in cols]),
            (
                f"VF2 isomorphic ({iso.n_items} items, k={iso.n_neighbors})",
                [c.isomorphism.fraction_isomorphic for c in cols],
            ),
            ("VF2 identity is an isomorphism", [c.isomorphism.fraction_identity for c in cols]),
            (
                f"held-out orthogonal map CSLS P@1 ({self.pair.probe.n_candidates} candidates)",
                [c.probe.p_at_1 for c in cols],
            ),
            ("held-out orthogonal map CSLS P@10", [c.probe.p_at_10 for c in cols]),
        ]
        width = 52
        head = ["X vs Y", "Y vs rotated Y", "X vs shuffled Y"]
        lines = [
            f"isomorphism of X ({self.n_rows} x {self.dims[0]}) and Y ({self.n_rows} x "
            f"{self.dims[1]}), cosine nearest neighbours",
            f"{'measure':<{width}}" + "".join(f"{h:>17}" for h in head),
        ]
        for name, values in rows:
            if values is None:
                lines.append(name)
                continue
            cells = "".join(f"{_fmt(v):>17}" for v in values)
            lines.append(f"{name:<{width}}{cells}")
        lines.append(
            f"position between the controls: relational {self.relational_position:.2f}, "
            f"neighbour overlap {self.overlap_position:.2f} "
            f"(shuffled dictionaries: {_fmt(self.relational_null[0])} +- "
            f"{_fmt(self.relational_null[1])} / {_fmt(self.overlap_null[0])} +- "
            f"{_fmt(self.overlap_null[1])} over {self.n_shuffles})"
        )
        if ev.truncated:
            lines.append(
                f"eigenvector similarity uses the {ev.n_eig} largest eigenvalues (fewer than "
                "the 90% rule asks for)"
            )
        lines.append(f"verdict: {self.verdict}")
        return "\n".join(lines)


def _fmt(v: float) -> str:
    """A table cell: 3 decimals, or 3 significant digits for values too small or large."""
    if v != v:  # NaN
        return "n/a"
    if v != 0 and (abs(v) < 0.001 or abs(v) >= 1000):
        return f"{v:.3g}"
    return _decimals(v, 3)


def _decimals(v: float, digits: int) -> str:
    text = f"{v:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _two_decimals(v: float) -> str:
    return _decimals(v, 2)


def _position(value: float, low: float, high: float) -> float:
    span = high - low
    return (value - low) / span if span > 1e-12 else float("nan")


def _verdict(
    pair: SpaceComparison,
    rotated: SpaceComparison,
    shuffled: SpaceComparison,
    p_rel: float,
    rel_null: tuple[float, float],
    ovl_null: tuple[float, float],
) -> str:
    r = (pair.relational.pearson, rotated.relational.pearson, shuffled.relational.pearson)
    o = (pair.overlap.mean_overlap, rotated.overlap.mean_overlap, shuffled.overlap.mean_overlap)
    pr = pair.probe
    f = _two_decimals
    numbers = (
        f"relational similarity {f(r[0])} against {f(r[1])} for a rotated copy and "
        f"{f(r[2])} for a shuffled dictionary; neighbour overlap {f(o[0])} against "
        f"{f(o[1])} and {f(o[2])}; an orthogonal map fitted on half of the pairs finds "
        f"{100 * pr.p_at_1:.0f}% of the other half's partners first and {100 * pr.p_at_10:.0f}% "
        f"in the top 10 among {pr.n_candidates}"
    )
    if p_rel >= _NEAR:
        structure = "the spaces are nearly isomorphic"
    elif p_rel >= _LARGELY:
        structure = "the spaces are largely isomorphic"
    elif r[0] > rel_null[0] + _N_SD * rel_null[1] or o[0] > ovl_null[0] + _N_SD * ovl_null[1]:
        structure = "the spaces share some structure"
    else:
        structure = None
    chance = min(1.0, 10.0 / pr.n_candidates)
    probe_above = pr.p_at_10 > chance + _N_SD * np.sqrt(chance * (1 - chance) / pr.n_candidates)
    if pr.p_at_1 >= _PROBE_GOOD:
        return (
            f"{structure or 'the spaces differ in their geometry'}, and a linear map aligns "
            f"them ({numbers}): a linear map should work well; compare it with a non-linear "
            "one with linear_verdict"
        )
    if pr.p_at_10 >= max(_PROBE_SOME, 5 * chance):
        return (
            f"{structure or 'the spaces differ in their geometry'}, and a linear map finds "
            f"part of the pairs ({numbers}): expect moderate precision; try RCSLS and a "
            "non-linear map and compare them with linear_verdict"
        )
    if structure is not None or probe_above:
        return (
            f"{structure or 'the spaces share a little structure'}, but a linear map finds few "
            f"pairs ({numbers}): expect low precision from any map; more pairs, better "
            "embeddings or a non-linear map may help"
        )
    return (
        f"no measurable relation ({numbers}): check that the dictionary pairs are right "
        "(row i of X must translate to row i of Y)"
    )


def isomorphism_report(
    X,
    Y,
    *,
    n_neighbors: int = 10,
    n_eig: int | None = None,
    n_pairs: int = 100_000,
    n_shuffles: int = 10,
    vf2_items: int = 10,
    vf2_neighbors: int = 3,
    vf2_subsets: int = 20,
    random_state=None,
) -> IsomorphismReport:
    """Measure how isomorphic X and Y are against a rotated and a shuffled control, with a verdict.

    Runs :func:`relational_similarity` (``n_pairs``), :func:`neighbor_overlap` and
    :func:`eigenvector_similarity` (``n_neighbors``, ``n_eig``) and
    :func:`knn_graph_isomorphic` (``vf2_items``, ``vf2_neighbors``, ``vf2_subsets``) on
    (X, Y), on (Y, :func:`rotated_control` of Y) and on (X, :func:`shuffled_control` of Y),
    with the same pair sample and row samples for all three. ``n_shuffles`` further shuffled
    dictionaries give the spread of relational similarity and neighbour overlap under no
    relation, which decides whether the pair beats chance. The thresholds of the verdict are in
    :class:`IsomorphismReport`. Seeded by ``random_state``.
    """
    check_params(
        {
            "n_neighbors": _POSITIVE,
            "n_eig": [*_POSITIVE, None],
            "n_pairs": _POSITIVE,
            "n_shuffles": [Interval(Integral, 2, None, closed="left")],
            "vf2_items": [Interval(Integral, 2, None, closed="left")],
            "vf2_neighbors": _POSITIVE,
            "vf2_subsets": _POSITIVE,
        },
        {
            "n_neighbors": n_neighbors,
            "n_eig": n_eig,
            "n_pairs": n_pairs,
            "n_shuffles": n_shuffles,
            "vf2_items": vf2_items,
            "vf2_neighbors": vf2_neighbors,
            "vf2_subsets": vf2_subsets,
        },
        "isomorphism_report",
    )
    if vf2_neighbors >= vf2_items:
        raise CrossviewError(
            f"vf2_neighbors={vf2_neighbors} needs samples of more rows; got vf2_items={vf2_items}"
        )
    Xa, Ya = _check_pair(
        X,
        Y,
        max(n_neighbors + 1, vf2_items, 3),
        f"n_neighbors={n_neighbors}, vf2_items={vf2_items}",
    )
    n = Xa.shape[0]
    rot_rng, shuf_rng, pair_rng, vf2_rng, null_rng, probe_rng = _rng(random_state).spawn(6)
    probe_seed = int(probe_rng.integers(2**63))  # the same halves for every comparison
    vf2_seed = int(vf2_rng.integers(2**63))  # the same row samples for every comparison
    views = {"X": Xa, "Y": Ya, "rotated": rotated_control(Ya, rot_rng)}
    perm = shuf_rng.permutation(n)
    views["shuffled"] = Ya[perm]

    i, j, sampled = _pairs(n, n_pairs, pair_rng)
    units = {name: _unit(V) for name, V in views.items()}
    cos = {name: _pair_cosines(U, i, j) for name, U in units.items()}
    for name in ("X", "Y"):
        _check_spread(cos[name], name)
    knn = {name: _knn(views[name], n_neighbors) for name in ("X", "Y", "rotated")}
    # row a of Y[perm] is row perm[a] of Y: its neighbours are Y's, relabelled (no new search)
    knn["shuffled"] = _relabel(knn["Y"], perm)
    adj = {name: _adjacency(idx) for name, idx in knn.items()}
    spectra = {name: _spectrum(adj[name], n_eig) for name in ("X", "Y")}
    # a relabelled graph's Laplacian is P L P^T, with the same eigenvalues; an unchanged graph
    # (the rotation usually keeps every neighbour) has the same spectrum too
    spectra["shuffled"] = spectra["Y"]
    same = (adj["rotated"] != adj["Y"]).nnz == 0
    spectra["rotated"] = spectra["Y"] if same else _spectrum(adj["rotated"], n_eig)

    def compare(a: str, b: str) -> SpaceComparison:
        return SpaceComparison(
            relational=_relational(cos[a], cos[b], sampled),
            overlap=_overlap(knn[a], knn[b], adj[a], adj[b]),
            eigenvector=_evs(spectra[a], spectra[b], 0.9),
            isomorphism=_vf2(
                views[a],
                views[b],
                vf2_items,
                vf2_neighbors,
                vf2_subsets,
                _VF2_MAX_STEPS,
                _rng(vf2_seed),
            ),
            probe=_probe(views[a], views[b], _rng(probe_seed)),
        )

    pair, rotated, shuffled = compare("X", "Y"), compare("Y", "rotated"), compare("X", "shuffled")

    # the spread under no relation: X against Y under further random dictionaries (float32
    # cosines are plenty for a standard deviation and twice as fast)
    null_rel, null_ovl = [], []
    U32 = units["Y"].astype(np.float32)
    for _ in range(n_shuffles):
        p = null_rng.permutation(n)
        null_rel.append(_pearson(cos["X"], _pair_cosines(U32, p[i], p[j])))
        null_ovl.append(_mean_overlap(knn["X"], _relabel(knn["Y"], p)))
    rel_null = (float(np.mean(null_rel)), float(np.std(null_rel, ddof=1)))
    ovl_null = (float(np.mean(null_ovl)), float(np.std(null_ovl, ddof=1)))

    p_rel = _position(
        pair.relational.pearson, shuffled.relational.pearson, rotated.relational.pearson
    )
    p_ovl = _position(
        pair.overlap.mean_overlap, shuffled.overlap.mean_overlap, rotated.overlap.mean_overlap
    )
    return IsomorphismReport(
        n_rows=n,
        dims=(Xa.shape[1], Ya.shape[1]),
        pair=pair,
        rotated=rotated,
        shuffled=shuffled,
        relational_position=p_rel,
        overlap_position=p_ovl,
        relational_null=rel_null,
        overlap_null=ovl_null,
        n_shuffles=n_shuffles,
        verdict=_verdict(pair, rotated, shuffled, p_rel, rel_null, ovl_null),
    )


# ------------------------------------------------------------------- linear or non-linear?


@dataclass(frozen=True)
class LinearVerdict:
    """Whether a linear map is enough, from the validation P@1 of a linear and a non-linear map.

    ``absolute_gain`` is ``nonlinear_p1 - linear_p1``; ``relative_gain`` that gain over
    ``linear_p1`` (inf when the linear map finds nothing and the non-linear one something).
    """

    linear_enough: bool
    absolute_gain: float
    relative_gain: float
    verdict: str

    def __str__(self) -> str:
        return self.verdict


def linear_verdict(
    linear_p1: float,
    nonlinear_p1: float,
    *,
    min_gain: float = 0.02,
    min_relative_gain: float = 0.10,
) -> LinearVerdict:
    """Say whether a linear map is enough, from the validation P@1 of a linear and a non-linear map.

    P@1 values are fractions in [0, 1], as :func:`crossview.evaluation.retrieval_precision`
    returns them. The non-linear map is worth its cost only when it beats the linear one by more
    than ``min_gain`` (2 points) absolute *and* more than ``min_relative_gain`` (10%) of the
    linear P@1; otherwise the linear map is enough, and the verdict says which test it failed.
    Compare on the validation split, never the test split.
    """
    for name, v in (("linear_p1", linear_p1), ("nonlinear_p1", nonlinear_p1)):
        if not isinstance(v, Real) or not 0.0 <= float(v) <= 1.0:
            raise CrossviewError(
                f"{name} must be a fraction in [0, 1] (as retrieval_precision returns); got {v!r}"
            )
    for name, v in (("min_gain", min_gain), ("min_relative_gain", min_relative_gain)):
        if not isinstance(v, Real) or not float(v) >= 0.0:
            raise CrossviewError(f"{name} must be a number >= 0; got {v!r}")
    lin, non = float(linear_p1), float(nonlinear_p1)
    gain = non - lin
    rel = gain / lin if lin > 0 else (float("inf") if gain > 0 else 0.0)
    rel_text = f"{rel * 100:+.0f}% relative" if np.isfinite(rel) else "up from 0"
    numbers = f"P@1 {lin:.3f} linear, {non:.3f} non-linear: {gain * 100:+.1f} points, {rel_text}"
    tiny = 1e-12  # 0.42 - 0.40 is 0.020000000000000018: exactly 2 points is not more
    if gain <= min_gain + tiny:
        verdict = (
            f"a linear map is enough ({numbers}): the non-linear map is not better by more "
            f"than {min_gain * 100:.0f} points absolute"
        )
        enough = True
    elif rel <= min_relative_gain + tiny:
        verdict = (
            f"a linear map is enough ({numbers}): the non-linear map is not better by more "
            f"than {min_relative_gain * 100:.0f}% relative"
        )
        enough = True
    else:
        verdict = (
            f"the non-linear map is worth it ({numbers}): better by more than "
            f"{min_gain * 100:.0f} points absolute and {min_relative_gain * 100:.0f}% relative"
        )
        enough = False
    return LinearVerdict(
        linear_enough=enough, absolute_gain=gain, relative_gain=rel, verdict=verdict
    )
