"""Set-clustering metrics: each computed per set, then averaged over the sets.

Cluster ids are compared only up to a permutation, within a set. Per set: the adjusted Rand
index and normalised mutual information (scikit-learn), clustering accuracy after the best
one-to-one matching of predicted to true clusters (Hungarian, ``linear_sum_assignment``), the
error in the number of clusters, pairwise precision / recall / F1 of "same cluster", and the
category accuracy of the items.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from ..base import check_labels
from ..clustering.base import check_set_ids

#: the columns :func:`score_sets` returns (and the benchmark tables show), in order
METRICS = (
    "ari",
    "nmi",
    "accuracy",
    "count_error",
    "pair_precision",
    "pair_recall",
    "pair_f1",
    "category_accuracy",
)


def adjusted_rand(true: np.ndarray, pred: np.ndarray) -> float:
    """Adjusted Rand index of one set's clustering (scikit-learn's; 1 for a single item)."""
    if len(true) < 2:
        return 1.0
    return float(adjusted_rand_score(true, pred))


def hungarian_accuracy(true: np.ndarray, pred: np.ndarray) -> float:
    """Fraction of items in a matched cluster, after the best one-to-one matching of
    predicted to true clusters (``scipy.optimize.linear_sum_assignment``)."""
    C = contingency_matrix(true, pred)
    r, c = linear_sum_assignment(-C)
    return float(C[r, c].sum() / len(true))


def pair_counts(true: np.ndarray, pred: np.ndarray) -> tuple[int, int, int]:
    """(pairs together in both, pairs together in pred, pairs together in truth), unordered."""
    C = contingency_matrix(true, pred)
    both = int((C * (C - 1)).sum() // 2)
    in_pred = int((C.sum(0) * (C.sum(0) - 1)).sum() // 2)
    in_true = int((C.sum(1) * (C.sum(1) - 1)).sum() // 2)
    return both, in_pred, in_true


def _ratio(a: float, b: float) -> float:
    return a / b if b else 1.0


def score_one_set(true_clusters, pred_clusters, true_categories=None, pred_categories=None):
    """Every metric of :data:`METRICS` for one set (category accuracy NaN without categories).

    Pairwise precision is 1 when no pair is predicted together, recall 1 when no pair is truly
    together (nothing to find).
    """
    t, p = np.asarray(true_clusters), np.asarray(pred_clusters)
    both, in_pred, in_true = pair_counts(t, p)
    prec, rec = _ratio(both, in_pred), _ratio(both, in_true)
    out = {
        "ari": adjusted_rand(t, p),
        "nmi": float(normalized_mutual_info_score(t, p)) if len(t) > 1 else 1.0,
        "accuracy": hungarian_accuracy(t, p),
        "count_error": float(abs(len(np.unique(p)) - len(np.unique(t)))),
        "pair_precision": prec,
        "pair_recall": rec,
        "pair_f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        "category_accuracy": float("nan"),
    }
    if true_categories is not None and pred_categories is not None:
        out["category_accuracy"] = float(
            np.mean(np.asarray(true_categories) == np.asarray(pred_categories))
        )
    return out


def score_sets_per_set(
    true_categories, true_clusters, pred_categories, pred_clusters, sets
) -> dict[str, np.ndarray]:
    """Every metric of :data:`METRICS` for every set: arrays in order of first appearance."""
    set_index, _ = check_set_ids(sets, len(np.asarray(sets)))
    n = len(set_index)
    tc = check_labels(true_clusters, n, "true clusters")
    pc = check_labels(pred_clusters, n, "predicted clusters")
    tk = None if true_categories is None else check_labels(true_categories, n, "true categories")
    pk = (
        None
        if pred_categories is None
        else check_labels(pred_categories, n, "predicted categories")
    )
    order = np.argsort(set_index, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(set_index))])
    rows = {m: [] for m in METRICS}
    for s in range(len(bounds) - 1):
        r = order[bounds[s] : bounds[s + 1]]
        one = score_one_set(
            tc[r], pc[r], None if tk is None else tk[r], None if pk is None else pk[r]
        )
        for m in METRICS:
            rows[m].append(one[m])
    return {m: np.asarray(v, dtype=np.float64) for m, v in rows.items()}


def score_sets(true_categories, true_clusters, pred_categories, pred_clusters, sets) -> dict:
    """The mean over sets of every metric of :data:`METRICS` (plus ``n_sets``).

    Category accuracy is the mean over *items* (not sets), like an ordinary classifier's.
    """
    per = score_sets_per_set(true_categories, true_clusters, pred_categories, pred_clusters, sets)
    out = {m: float(np.mean(v)) for m, v in per.items()}
    if true_categories is not None and pred_categories is not None:
        out["category_accuracy"] = float(
            np.mean(np.asarray(true_categories) == np.asarray(pred_categories))
        )
    out["n_sets"] = len(per["ari"])
    return out
