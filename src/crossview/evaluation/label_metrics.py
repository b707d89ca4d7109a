"""Metrics for label-linked translation: arrays in, numbers out (never models).

When the two views share only class labels (no paired rows), a translation
``Y_hat = model.predict(X)`` is judged by how well its rows land among the real rows of view Y
of the same class. Where the true partners are known (a benchmark built from paired data),
the translation can also be compared row by row.

- :func:`label_match_accuracy` — label transfer by the nearest-neighbour rule (Cover & Hart
  1967, "Nearest neighbor pattern classification"): does the nearest real row of a translated
  row carry the source row's label?
- :func:`knn_label_accuracy` — the same with the k-nearest-neighbour rule (majority of k
  real rows; Cover & Hart 1967), scikit-learn's ``KNeighborsClassifier``.
- :func:`energy_distance` — the energy distance of two samples (Székely & Rizzo 2013, "Energy
  statistics: a class of statistics based on distances"), as a V-statistic.
- :func:`per_class_energy_distance` — :func:`energy_distance` within each class shared by the
  two label sets, and their mean.
- :func:`partner_mse` — mean squared error to the true partner rows.
- :func:`partner_retrieval` — precision at k of finding the true partner among the real rows
  (as Conneau et al. 2018, "Word translation without parallel data", report it for word
  translation), by Euclidean distance or cosine similarity.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np

from ..base import CrossviewError, check_labels, check_view
from .retrieval import _parse_k, nearest, retrieval_precision

METRICS = ("euclidean", "cosine")
#: distances computed at a time by :func:`energy_distance` (float64: 32 MiB)
_CHUNK_ELEMENTS = 1 << 22
#: working memory (MiB) of one chunk of distances in :func:`partner_retrieval`
_WORKING_MEMORY_MIB = 64


def _same_width(A: np.ndarray, B: np.ndarray, names: tuple[str, str]) -> None:
    if A.shape[1] != B.shape[1]:
        raise CrossviewError(
            f"{names[0]} has shape {A.shape} and {names[1]} has shape {B.shape}; expected the "
            f"same number of columns ({names[1]} has {B.shape[1]}): rows are compared in one space"
        )


def _labelled(Y_hat, source_labels, Y_real, real_labels):
    """Validate translated rows, real rows of the other view and their labels."""
    Y_hat = check_view(Y_hat, "Y_hat")
    Y_real = check_view(Y_real, "Y_real")
    _same_width(Y_hat, Y_real, ("Y_hat", "Y_real"))
    source_labels = check_labels(source_labels, Y_hat.shape[0], "source_labels")
    real_labels = check_labels(real_labels, Y_real.shape[0], "real_labels")
    numeric = [lab.dtype.kind in "biuf" for lab in (source_labels, real_labels)]
    text = [lab.dtype.kind in "US" for lab in (source_labels, real_labels)]
    if (numeric[0] and text[1]) or (text[0] and numeric[1]):
        raise CrossviewError(
            f"source_labels have dtype {source_labels.dtype} and real_labels {real_labels.dtype}; "
            "expected labels of one kind (both numbers or both strings) so that they can match"
        )
    return Y_hat, source_labels, Y_real, real_labels


def _check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise CrossviewError(f"unknown metric {metric!r}; expected one of {METRICS}")
    return metric


def label_match_accuracy(
    Y_hat, source_labels, Y_real, real_labels, *, metric: str = "euclidean"
) -> float:
    """Fraction of translated rows whose nearest real row has the source row's label.

    Each row of ``Y_hat`` (the translation of a row of X labelled ``source_labels[i]``) is
    matched to its nearest row of ``Y_real`` (real rows of view Y, labelled ``real_labels``) by
    Euclidean distance (``metric="euclidean"``, scikit-learn's ``NearestNeighbors``) or by
    cosine similarity (``"cosine"``, :func:`.retrieval.nearest`); the score is the fraction of
    rows where that neighbour's label equals the source label. Labels may be numbers or strings.
    A row tied between several nearest real rows takes one of them.
    """
    _check_metric(metric)
    Y_hat, source_labels, Y_real, real_labels = _labelled(Y_hat, source_labels, Y_real, real_labels)
    if metric == "cosine":
        idx = nearest(Y_hat, Y_real, k=1, method="nn")[:, 0]
    else:
        from sklearn.neighbors import NearestNeighbors

        nn = NearestNeighbors(n_neighbors=1).fit(Y_real)
        idx = nn.kneighbors(Y_hat, return_distance=False)[:, 0]
    return float(np.mean(real_labels[idx] == source_labels))


def knn_label_accuracy(Y_hat, source_labels, Y_real, real_labels, *, n_neighbors: int = 5) -> float:
    """Accuracy on the translated rows of a k-NN classifier fitted on the real rows.

    A scikit-learn ``KNeighborsClassifier`` (Euclidean, uniform weights, majority vote) is
    fitted on ``Y_real`` with ``real_labels`` and predicts a label for each row of ``Y_hat``;
    the score is the fraction of predictions equal to ``source_labels``. ``n_neighbors`` must be
    between 1 and the number of real rows.
    """
    from sklearn.neighbors import KNeighborsClassifier

    Y_hat, source_labels, Y_real, real_labels = _labelled(Y_hat, source_labels, Y_real, real_labels)
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, (int, np.integer)):
        raise CrossviewError(f"n_neighbors must be an integer; got {n_neighbors!r}")
    if not 1 <= n_neighbors <= Y_real.shape[0]:
        raise CrossviewError(
            f"n_neighbors must be between 1 and the number of rows of Y_real (shape "
            f"{Y_real.shape}); got {n_neighbors}"
        )
    clf = KNeighborsClassifier(n_neighbors=int(n_neighbors)).fit(Y_real, real_labels)
    return float(np.mean(clf.predict(Y_hat) == source_labels))


def _subsample(A: np.ndarray, max_rows: int | None, random_state) -> np.ndarray:
    """At most ``max_rows`` rows of A, drawn without replacement by a fresh seeded generator."""
    if max_rows is None or A.shape[0] <= max_rows:
        return A
    rows = np.random.default_rng(random_state).choice(A.shape[0], size=max_rows, replace=False)
    return A[np.sort(rows)]


def _mean_distance(A: np.ndarray, B: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs (a in A, b in B), a chunk of rows of A at a time.

    SciPy's ``cdist`` computes one block of distances; summing block by block keeps the memory
    at about ``_CHUNK_ELEMENTS`` distances however many rows there are.
    """
    from scipy.spatial.distance import cdist

    step = max(1, _CHUNK_ELEMENTS // B.shape[0])
    total = 0.0
    for start in range(0, A.shape[0], step):
        total += float(cdist(A[start : start + step], B, "euclidean").sum())
    return total / (A.shape[0] * B.shape[0])


def _check_max_rows(max_rows) -> None:
    if max_rows is None:
        return
    if isinstance(max_rows, bool) or not isinstance(max_rows, (int, np.integer)) or max_rows < 1:
        raise CrossviewError(f"max_rows must be a positive integer or None; got {max_rows!r}")


def energy_distance(A, B, *, max_rows: int | None = 2000, random_state=0) -> float:
    """Energy distance between two samples of rows: ``2 E|a-b| - E|a-a'| - E|b-b'|``.

    Székely & Rizzo (2013), with Euclidean norms and the V-statistic: each expectation
    is the mean over all pairs, the pairs of a row with itself included. So the value is >= 0,
    exactly 0 for two identical samples, and 0 only when the two samples hold the same rows in
    the same proportions (it is the squared distance between the samples' characteristic
    functions, weighted). Not ``scipy.stats.energy_distance``, which is the square root of this
    for 1-D samples only.

    A sample with more than ``max_rows`` rows is replaced by a random subsample of ``max_rows``
    rows (without replacement); each sample is drawn by its own generator seeded with
    ``random_state``, so the result is reproducible and two equal samples get the same rows.
    ``max_rows=None`` uses every row. Distances are computed in blocks of rows (SciPy's
    ``cdist``), never as one full matrix.
    """
    A = check_view(A, "A")
    B = check_view(B, "B")
    _same_width(A, B, ("A", "B"))
    _check_max_rows(max_rows)
    A = _subsample(A, max_rows, random_state)
    B = _subsample(B, max_rows, random_state)
    value = 2.0 * _mean_distance(A, B) - _mean_distance(A, A) - _mean_distance(B, B)
    # the V-statistic is never negative; rounding can leave a tiny negative remainder
    return max(0.0, value)


def _python_scalar(value):
    return value.item() if isinstance(value, np.generic) else value


def per_class_energy_distance(
    Y_hat, source_labels, Y_real, real_labels, *, max_rows: int | None = 2000, random_state=0
) -> dict:
    """Energy distance, class by class, between translated rows and real rows of that class.

    For each class present in both ``source_labels`` and ``real_labels`` (sorted), the rows of
    ``Y_hat`` with that source label are compared with the rows of ``Y_real`` with that real
    label by :func:`energy_distance` (``max_rows`` and ``random_state`` are passed on). Classes
    found in only one of the two label sets are skipped with a ``UserWarning`` naming them.

    Returns ``{"mean": float, "per_class": {label: float}}``: "mean" is the unweighted mean over
    the classes compared, and the keys of "per_class" are the labels as given, NumPy scalars
    turned into Python ones (``int``, ``str``, ...).
    """
    Y_hat, source_labels, Y_real, real_labels = _labelled(Y_hat, source_labels, Y_real, real_labels)
    _check_max_rows(max_rows)
    source_classes = np.unique(source_labels)
    real_classes = np.unique(real_labels)
    shared = np.intersect1d(source_classes, real_classes)
    only_source = np.setdiff1d(source_classes, real_classes)
    only_real = np.setdiff1d(real_classes, source_classes)
    if shared.size == 0:
        raise CrossviewError(
            f"source_labels ({source_classes.size} classes) and real_labels "
            f"({real_classes.size} classes) have no class in common; expected at least one"
        )
    if only_source.size or only_real.size:
        warnings.warn(
            f"classes skipped: {[_python_scalar(c) for c in only_source]} only in "
            f"source_labels, {[_python_scalar(c) for c in only_real]} only in real_labels",
            UserWarning,
            stacklevel=2,
        )
    per_class = {
        _python_scalar(c): energy_distance(
            Y_hat[source_labels == c],
            Y_real[real_labels == c],
            max_rows=max_rows,
            random_state=random_state,
        )
        for c in shared
    }
    return {"mean": float(np.mean(list(per_class.values()))), "per_class": per_class}


def _partners(Y_hat, Y_true) -> tuple[np.ndarray, np.ndarray]:
    Y_hat = check_view(Y_hat, "Y_hat")
    Y_true = check_view(Y_true, "Y_true")
    if Y_hat.shape != Y_true.shape:
        raise CrossviewError(
            f"Y_hat has shape {Y_hat.shape} but Y_true has {Y_true.shape}; expected the same "
            "shape (row i of Y_true is the true partner of row i of Y_hat)"
        )
    return Y_hat, Y_true


def partner_mse(Y_hat, Y_true) -> float:
    """Mean squared error between translated rows and their true partners, over all entries."""
    Y_hat, Y_true = _partners(Y_hat, Y_true)
    return float(np.mean((Y_hat - Y_true) ** 2))


def partner_retrieval(
    Y_hat, Y_true, k: int | Iterable[int] = (1, 10), *, metric: str = "euclidean"
) -> dict[str, float]:
    """Precision at k of finding each translated row's true partner among the rows of Y_true.

    Row i of ``Y_hat`` is a query against every row of ``Y_true``; it scores at k when row i of
    ``Y_true`` is among its k nearest. ``metric="euclidean"`` ranks by Euclidean distance,
    ``"cosine"`` by cosine similarity (that is :func:`.retrieval.retrieval_precision` with
    ``method="nn"``, used as is). Ties count against the query, as in
    :func:`.retrieval.retrieval_precision`: a partner tied with another row is ranked after it.
    Returns ``{"p@1": ..., "p@10": ...}``, one key per k.
    """
    _check_metric(metric)
    ks = _parse_k(k)
    Y_hat, Y_true = _partners(Y_hat, Y_true)
    if metric == "cosine":
        found = retrieval_precision(Y_hat, Y_true, k=ks, method="nn")
        return {f"p@{kk}": found[kk] for kk in ks}

    from sklearn.metrics import pairwise_distances_chunked

    # NearestNeighbors would return the k nearest rows but break ties in an arbitrary order;
    # the rank of the true partner among ties needs every distance to it, so each chunk of
    # distances (scikit-learn's "euclidean" takes the |a|^2 - 2ab + |b|^2 expansion, a matrix
    # product; "sqeuclidean" would go to SciPy's far slower cdist) is reduced to the partner's
    # rank at once and only those ranks are kept.
    def partner_rank(D: np.ndarray, start: int) -> np.ndarray:
        rows = np.arange(D.shape[0])
        true = D[rows, rows + start]
        return (D <= true[:, None]).sum(axis=1) - 1  # rows at least as near as the partner

    rank = np.concatenate(
        list(
            pairwise_distances_chunked(
                Y_hat,
                Y_true,
                reduce_func=partner_rank,
                metric="euclidean",
                working_memory=_WORKING_MEMORY_MIB,
            )
        )
    )
    return {f"p@{kk}": float(np.mean(rank < kk)) for kk in ks}
