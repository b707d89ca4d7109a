"""Word-translation style evaluation of a map between embedding spaces (arrays in, numbers out).

Each query (a source key mapped into the target space) is ranked against *all* target vectors by
cosine (``"nn"``) or CSLS (``"csls"``, Conneau et al. 2018, eq. 6); a query is a hit at k when
any of its gold targets is among the k best (the MUSE protocol for one-to-many dictionaries).
The rank of a query is the 1-based position of its best-ranked gold target; ties count against
it. Memory stays at ``chunk_size`` queries times the number of targets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..base import check_view
from ..exceptions import CrossviewError
from .retrieval import _chunks, _faiss, _mean_topk_cosine, _unit_rows


def translation_scores(
    mapped,
    targets,
    gold: Sequence,
    *,
    k=(1, 5, 10),
    method: str = "csls",
    csls_k: int = 10,
    source_pool=None,
    chunk_size: int | None = None,
    backend: str = "auto",
) -> dict[str, float]:
    """Return P@k, median and mean reciprocal rank and the mean gold cosine of mapped queries.

    ``mapped`` (q, d): the queries in the target space; ``targets`` (N, d): every target vector;
    ``gold``: for each query, the target row(s) that are correct (an int or a sequence of ints).
    ``source_pool`` (m, d): the mapped source vectors whose neighbourhoods give CSLS's hubness
    term of each target, ``r_S(y)`` (default: the queries; MUSE uses the whole mapped source
    vocabulary). Keys: ``p@K`` for each K, ``median_rank``, ``mrr`` and ``mean_cosine`` (the
    cosine of each query to its nearest gold target, averaged). ``backend`` does CSLS's
    neighbourhood terms: "numpy", "faiss" or "auto" (faiss when installed), see
    :mod:`crossview.evaluation.retrieval`.
    """
    Q = _unit_rows(check_view(mapped, "mapped"))
    T = _unit_rows(check_view(targets, "targets"))
    if Q.shape[1] != T.shape[1]:
        raise CrossviewError(
            f"mapped queries have {Q.shape[1]} columns and targets {T.shape[1]}; the queries "
            "must be mapped into the target space first"
        )
    if len(gold) != Q.shape[0]:
        raise CrossviewError(
            f"{len(gold)} gold entries for {Q.shape[0]} queries; expected one each"
        )
    gold = [np.atleast_1d(np.asarray(g, dtype=np.int64)) for g in gold]
    if any(g.size == 0 or g.min() < 0 or g.max() >= T.shape[0] for g in gold):
        raise CrossviewError(f"gold target rows must be non-empty and within 0..{T.shape[0] - 1}")
    ks = sorted({int(v) for v in np.atleast_1d(k)})
    if not ks or ks[0] < 1:
        raise CrossviewError(f"k must be positive integers; got {k!r}")
    _faiss(backend)  # a clear error for an unknown backend, or faiss asked for and missing
    if method not in ("nn", "csls"):
        raise CrossviewError(f"unknown retrieval method {method!r}; expected 'nn' or 'csls'")
    if method == "csls":
        P = Q if source_pool is None else _unit_rows(check_view(source_pool, "source_pool"))
        if P.shape[1] != T.shape[1]:
            raise CrossviewError("source_pool must be in the target space, like mapped")
        r_t = _mean_topk_cosine(Q, T, int(csls_k), chunk_size, backend)  # r_T(x) per query
        r_s = _mean_topk_cosine(T, P, int(csls_k), chunk_size, backend)  # r_S(y) per target

    sizes = np.fromiter((g.size for g in gold), dtype=np.int64, count=len(gold))
    flat_t = np.concatenate(gold)
    flat_q = np.repeat(np.arange(len(gold)), sizes)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    ranks = np.empty(Q.shape[0], dtype=np.int64)
    cosines = np.empty(Q.shape[0], dtype=np.float64)
    for sl in _chunks(Q.shape[0], T.shape[0], chunk_size):
        C = Q[sl] @ T.T
        S = 2.0 * C - r_t[sl, None] - r_s[None, :] if method == "csls" else C
        lo, hi = offsets[sl.start], offsets[sl.stop]
        gq, gt = flat_q[lo:hi] - sl.start, flat_t[lo:hi]
        best = np.full(S.shape[0], -np.inf, dtype=S.dtype)
        np.maximum.at(best, gq, S[gq, gt])
        best_cos = np.full(S.shape[0], -np.inf)
        np.maximum.at(best_cos, gq, C[gq, gt])
        gold_at_best = np.zeros(S.shape[0], dtype=np.int64)
        np.add.at(gold_at_best, gq, S[gq, gt] == best[gq])
        # 1 + targets strictly better + non-gold targets tied with the best gold (ties count
        # against the query, so constant vectors score near 0)
        ranks[sl] = 1 + (S >= best[:, None]).sum(axis=1) - gold_at_best
        cosines[sl] = best_cos
    out = {f"p@{kk}": float(np.mean(ranks <= kk)) for kk in ks}
    out["median_rank"] = float(np.median(ranks))
    out["mrr"] = float(np.mean(1.0 / ranks))
    out["mean_cosine"] = float(np.mean(cosines))
    return out
