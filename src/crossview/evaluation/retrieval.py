"""Cross-view retrieval by cosine similarity or CSLS, in chunks (never an n x n matrix).

CSLS, cross-domain similarity local scaling (Conneau et al. 2018, "Word translation without
parallel data", eq. 6): ``CSLS(x, y) = 2 cos(x, y) - r_Y(x) - r_X(y)``, where ``r_Y(x)`` is the
mean cosine of x to its ``csls_k`` nearest neighbours among the Y rows and ``r_X(y)`` the same
for y among the X rows. It penalises "hubs" that are near to everything.

The k-nearest-neighbour searches (``nearest`` and CSLS's neighbourhood terms) run on NumPy
(chunked products and ``argpartition``) or, when it is installed, on faiss's exact
inner-product index (``pip install faiss-cpu``; Johnson, Douze & Jegou 2019), which is faster
on large sets: ``backend="auto"`` (the default) takes faiss when it can be imported. Both are
exact and agree up to float32 rounding (and the order of exact ties).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from ..base import CrossviewError, check_view

METHODS = ("nn", "csls")
BACKENDS = ("auto", "numpy", "faiss")
#: similarity-matrix elements computed at a time (float32: 64 MiB)
_CHUNK_ELEMENTS = 1 << 24


def _unit_rows(A: np.ndarray) -> np.ndarray:
    """L2-normalise rows (float32); an all-zero row stays zero, so its cosines are 0."""
    A = np.asarray(A, dtype=np.float32)
    norms = np.linalg.norm(A, axis=1, keepdims=True)
    return A / np.where(norms == 0, 1.0, norms)


def _chunks(n_rows: int, n_cols: int, chunk_size: int | None) -> Iterator[slice]:
    if chunk_size is None:
        chunk_size = max(1, _CHUNK_ELEMENTS // max(n_cols, 1))
    elif int(chunk_size) < 1:
        raise CrossviewError(f"chunk_size must be >= 1; got {chunk_size}")
    step = int(chunk_size)
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def _faiss(backend: str):
    """The faiss module when ``backend`` asks for it (or "auto" and it is installed), else None."""
    if backend not in BACKENDS:
        raise CrossviewError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    if backend == "numpy":
        return None
    try:
        import faiss
    except ImportError:
        if backend == "faiss":
            raise CrossviewError(
                "backend='faiss' needs faiss (pip install faiss-cpu), or use backend='numpy'"
            ) from None
        return None
    return faiss


def _faiss_search(faiss, queries: np.ndarray, base: np.ndarray, k: int):
    """The k largest inner products of each query with the base rows: (values, indices)."""
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(np.ascontiguousarray(base, dtype=np.float32))
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


def _mean_topk_cosine(
    A: np.ndarray, B: np.ndarray, k: int, chunk_size, backend: str = "numpy"
) -> np.ndarray:
    """For each row of A, the mean cosine of its k nearest rows of B (inputs unit-normalised)."""
    k = min(k, B.shape[0])
    faiss = _faiss(backend)
    if faiss is not None:
        return _faiss_search(faiss, A, B, k)[0].mean(axis=1).astype(np.float32)
    out = np.empty(A.shape[0], dtype=np.float32)
    for sl in _chunks(A.shape[0], B.shape[0], chunk_size):
        S = A[sl] @ B.T
        out[sl] = np.partition(S, S.shape[1] - k, axis=1)[:, -k:].mean(axis=1)
    return out


def _prepare(
    Zq, Zbase, method: str, csls_k: int, chunk_size, names=("Zq", "Zbase"), backend="numpy"
):
    Q = check_view(Zq, names[0])
    B = check_view(Zbase, names[1])
    if Q.shape[1] != B.shape[1]:
        raise CrossviewError(
            f"{names[0]} has {Q.shape[1]} columns and {names[1]} {B.shape[1]}; retrieval compares "
            "rows in one shared space, so they need the same number"
        )
    if method not in METHODS:
        raise CrossviewError(f"unknown retrieval method {method!r}; expected one of {METHODS}")
    _faiss(backend)  # a clear error for an unknown backend, or faiss asked for and missing
    if chunk_size is not None and int(chunk_size) < 1:
        raise CrossviewError(f"chunk_size must be >= 1; got {chunk_size}")
    Q, B = _unit_rows(Q), _unit_rows(B)
    if method == "csls":
        if int(csls_k) < 1:
            raise CrossviewError(f"csls_k must be >= 1; got {csls_k}")
        r_base = _mean_topk_cosine(Q, B, int(csls_k), chunk_size, backend)  # r_Y(x) per query
        r_query = _mean_topk_cosine(B, Q, int(csls_k), chunk_size, backend)  # r_X(y) per base
    else:
        r_base = r_query = None
    return Q, B, r_base, r_query


def _scores(Q, B, sl: slice, r_base, r_query) -> np.ndarray:
    S = Q[sl] @ B.T
    if r_base is None:
        return S
    return 2.0 * S - r_base[sl, None] - r_query[None, :]


def nearest(
    Zq,
    Zbase,
    k: int = 1,
    method: str = "nn",
    csls_k: int = 10,
    chunk_size: int | None = None,
    backend: str = "auto",
) -> np.ndarray:
    """Return the indices of the ``k`` best rows of ``Zbase`` for each row of ``Zq``, best first.

    ``method="nn"`` ranks by cosine similarity, ``"csls"`` by CSLS (module docstring). Works in
    chunks of ``chunk_size`` query rows (default: about 16 million similarities at a time).
    ``backend``: "numpy", "faiss" or "auto" (faiss when installed; module docstring); ties
    are broken by the lower row with "numpy". Returns an int64 array of shape
    ``(n_queries, k)``.
    """
    faiss = _faiss(backend)
    Q, B, r_base, r_query = _prepare(
        Zq, Zbase, method, csls_k, chunk_size, backend="numpy" if faiss is None else "faiss"
    )
    k = int(k)
    if not 1 <= k <= B.shape[0]:
        raise CrossviewError(
            f"k must be between 1 and the number of base rows ({B.shape[0]}); got {k}"
        )
    if faiss is not None:
        if r_base is not None:  # CSLS ranks a query's candidates by 2 q.b - r_X(b): [q, 1].[2b, -r]
            Q = np.hstack([Q, np.ones((Q.shape[0], 1), dtype=np.float32)])
            B = np.hstack([2.0 * B, -r_query[:, None]]).astype(np.float32)
        return _faiss_search(faiss, Q, B, k)[1].astype(np.int64)
    out = np.empty((Q.shape[0], k), dtype=np.int64)
    for sl in _chunks(Q.shape[0], B.shape[0], chunk_size):
        S = _scores(Q, B, sl, r_base, r_query)
        top = (
            np.argpartition(-S, k - 1, axis=1)[:, :k]
            if k < S.shape[1]
            else np.tile(np.arange(S.shape[1]), (S.shape[0], 1))
        )
        order = np.argsort(-np.take_along_axis(S, top, axis=1), axis=1, kind="stable")
        out[sl] = np.take_along_axis(top, order, axis=1)
    return out


def _parse_k(k) -> tuple[int, ...]:
    ks = (k,) if isinstance(k, (int, np.integer)) else tuple(k)
    if not ks or any(int(v) < 1 for v in ks):
        raise CrossviewError(f"k must be positive integers; got {k!r}")
    return tuple(sorted({int(v) for v in ks}))


def retrieval_precision(
    Zx,
    Zy,
    k: int | Iterable[int] = (1, 5, 10),
    method: str = "nn",
    csls_k: int = 10,
    chunk_size: int | None = None,
    backend: str = "auto",
) -> dict[int, float]:
    """Precision at k of cross-view retrieval: does row i of Zx find row i of Zy in its top k?

    Every row of Zx is a query against all rows of Zy, ranked by cosine (``"nn"``) or CSLS
    (``"csls"``, Conneau et al. 2018, eq. 6). Returns ``{k: fraction of queries whose partner
    is among the k best}``. Ties count against the query (a partner tied with another row is
    ranked after it), so constant codes score near 0, not 1. Memory stays at ``chunk_size``
    rows times ``len(Zy)`` similarities. ``backend`` does CSLS's neighbourhood terms ("auto":
    faiss when installed, else NumPy; module docstring).
    """
    ks = _parse_k(k)
    Q, B, r_base, r_query = _prepare(
        Zx, Zy, method, csls_k, chunk_size, names=("Zx", "Zy"), backend=backend
    )
    if Q.shape[0] != B.shape[0]:
        raise CrossviewError(
            f"Zx has {Q.shape[0]} rows and Zy {B.shape[0]}; retrieval precision needs paired rows"
        )
    hits = np.zeros(len(ks), dtype=np.int64)
    for sl in _chunks(Q.shape[0], B.shape[0], chunk_size):
        S = _scores(Q, B, sl, r_base, r_query)
        rows = np.arange(S.shape[0])
        true = S[rows, rows + sl.start]
        rank = (S >= true[:, None]).sum(axis=1) - 1  # other rows at least as good as the partner
        hits += (rank[:, None] < np.asarray(ks)[None, :]).sum(axis=0)
    return {kk: float(h) / Q.shape[0] for kk, h in zip(ks, hits)}
