"""The set-clustering contract: items grouped in sets, a category per item, a cluster per set.

``fit(X, categories, clusters, sets)``: one row of ``X`` per item (a long table); ``sets`` gives
each item's set id (like scikit-learn's ``groups``), ``categories`` its category (integers or
strings, from a fixed list) and ``clusters`` its cluster id, which means something only within
its set and only up to a permutation (``[1, 1, 0, 0]`` and ``[0, 0, 1, 1]`` are the same
clustering). Then ``predict(X, sets)`` returns ``(categories, clusters)`` for new sets, the
cluster ids numbered by first appearance within each set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..base import check_labels, check_params, check_view
from ..exceptions import CrossviewError
from ..labels.base import _check_class_labels, labels_from_json, labels_to_json

__all__ = [
    "SetArrays",
    "SetClusteringModel",
    "check_set_ids",
    "check_sets",
    "first_appearance",
    "labels_from_json",
    "labels_to_json",
    "pad_sets",
]


@dataclass(eq=False)
class SetArrays:
    """Validated items of sets: features, set index, and (for training) category and cluster.

    ``set_index`` numbers the sets 0..n_sets-1 in order of first appearance; ``order`` sorts the
    rows by set (stable), ``starts`` / ``sizes`` locate each set in that order. ``codes`` index
    into ``classes``; ``clusters`` are renumbered 0..k-1 within each set (first appearance).
    """

    X: np.ndarray
    set_index: np.ndarray
    set_ids: np.ndarray  # the original id of each set, in set-index order
    order: np.ndarray
    starts: np.ndarray
    sizes: np.ndarray
    codes: np.ndarray | None = None
    classes: np.ndarray | None = None
    clusters: np.ndarray | None = None

    @property
    def n_sets(self) -> int:
        return len(self.sizes)

    def rows(self, s: int) -> np.ndarray:
        """The row indices (into ``X``) of set ``s``, in table order."""
        return self.order[self.starts[s] : self.starts[s] + self.sizes[s]]


def check_set_ids(sets, n: int, name: str = "sets") -> tuple[np.ndarray, np.ndarray]:
    """Validate set ids (one per row, integers or strings) and number the sets.

    Returns ``(set_index, set_ids)``: each row's set number (0.. in order of first appearance)
    and the original id of each set.
    """
    if sets is None:
        raise CrossviewError(f"{name} is missing; expected one set id per item (row of X)")
    ids = _check_class_labels(sets, n, name)
    uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(uniq))
    return rank[inverse.ravel()], uniq[np.argsort(first, kind="stable")]


def first_appearance(values: np.ndarray) -> np.ndarray:
    """Renumber ``values`` 0, 1, ... by first appearance: [5, 5, 2, 5, 9] -> [0, 0, 1, 0, 2]."""
    _, first, inverse = np.unique(values, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.ravel()]


def check_sets(
    X,
    sets,
    categories=None,
    clusters=None,
    *,
    n_features: int | None = None,
    dtype=np.float32,
    training: bool = True,
) -> SetArrays:
    """Validate a long table of set items and return it as :class:`SetArrays`.

    One-line :class:`CrossviewError` for: a bad feature matrix (see
    :func:`crossview.base.check_view`), set ids, categories or clusters of the wrong length or
    type, and, when ``training``: a set with a single item, a single category overall, and a
    cluster that mixes categories (a cluster holds items of one category only).
    """
    X = check_view(X, "X", n_features=n_features, dtype=dtype)
    n = X.shape[0]
    set_index, set_ids = check_set_ids(sets, n)
    order = np.argsort(set_index, kind="stable")
    sizes = np.bincount(set_index, minlength=len(set_ids))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    out = SetArrays(X, set_index, set_ids, order, starts, sizes)
    if not training:
        return out
    if categories is None or clusters is None:
        raise CrossviewError(
            "training needs categories and clusters: one category and one cluster id per item"
        )
    if (sizes < 2).any():
        bad = set_ids[sizes < 2]
        raise CrossviewError(
            f"{int((sizes < 2).sum())} set(s) have a single item (e.g. set {bad[0]!r}); "
            "expected at least 2 items per training set"
        )
    cats = _check_class_labels(categories, n, "categories")
    classes, codes = np.unique(cats, return_inverse=True)
    if len(classes) < 2:
        raise CrossviewError(
            f"categories hold a single category ({classes[0]!r}); expected at least 2"
        )
    clus = _check_class_labels(check_labels(clusters, n, "clusters"), n, "clusters")
    # one key per (set, cluster): mixed categories inside one key are an error
    _, clu_code = np.unique(clus, return_inverse=True)
    key = set_index * (int(clu_code.max()) + 1) + clu_code.ravel()
    key = np.unique(key, return_inverse=True)[1].ravel()
    lo = np.full(key.max() + 1, np.iinfo(np.int64).max)
    hi = np.full(key.max() + 1, -1)
    np.minimum.at(lo, key, codes)
    np.maximum.at(hi, key, codes)
    mixed = np.flatnonzero(lo != hi)
    if len(mixed):
        row = int(np.flatnonzero(key == mixed[0])[0])
        raise CrossviewError(
            f"{len(mixed)} cluster(s) mix categories (e.g. cluster {clus[row]!r} of set "
            f"{set_ids[set_index[row]]!r}); expected every cluster to hold one category"
        )
    out.codes, out.classes = codes.astype(np.int64), classes
    renum = np.empty(n, dtype=np.int64)
    for s in range(out.n_sets):
        r = out.rows(s)
        renum[r] = first_appearance(key[r])
    out.clusters = renum
    return out


def pad_sets(data: SetArrays, fill_codes: bool = True) -> dict[str, np.ndarray]:
    """The sets as padded arrays, one row per set, for a network that takes batches of sets.

    Returns ``X`` (n_sets, L, d) with zeros in padding (L = the largest set), ``mask``
    (n_sets, L) bool, and with training data ``codes`` / ``clusters`` (n_sets, L) int64 with -1
    in padding.
    """
    L = int(data.sizes.max())
    n_sets, d = data.n_sets, data.X.shape[1]
    pos = np.arange(len(data.order)) - np.repeat(data.starts, data.sizes)  # position in its set
    s_of = data.set_index[data.order]
    X = np.zeros((n_sets, L, d), dtype=data.X.dtype)
    X[s_of, pos] = data.X[data.order]
    mask = np.zeros((n_sets, L), dtype=bool)
    mask[s_of, pos] = True
    out = {"X": X, "mask": mask}
    if fill_codes and data.codes is not None:
        for name in ("codes", "clusters"):
            arr = np.full((n_sets, L), -1, dtype=np.int64)
            arr[s_of, pos] = getattr(data, name)[data.order]
            out[name] = arr
    return out


class SetClusteringModel(BaseEstimator):
    """Base of the set-clustering methods: parameter checks, classes, score, model files.

    Subclasses implement ``fit(X, categories, clusters, sets)`` and ``predict(X, sets)`` ->
    ``(categories, clusters)``, and ``_get_state`` / ``_set_state`` for model files.
    """

    _parameter_constraints: dict = {}

    def _validate_params(self) -> None:
        """Check every parameter against ``_parameter_constraints``, with a one-line error."""
        check_params(self._parameter_constraints, self.get_params(deep=False), type(self).__name__)

    def _check_predict(self, X, sets) -> SetArrays:
        check_is_fitted(self)
        return check_sets(X, sets, n_features=self.n_features_in_, training=False)

    def fit_predict(self, X, categories, clusters, sets):
        """Fit, then predict the training sets: ``(categories, clusters)``."""
        return self.fit(X, categories, clusters, sets).predict(X, sets)

    def score(self, X, categories, clusters, sets) -> float:
        """Mean adjusted Rand index of the predicted clusterings over the sets (higher is
        better; 1 for every set clustered exactly, about 0 for chance), see
        :func:`crossview.evaluation.clustering_metrics.score_sets`."""
        from ..evaluation.clustering_metrics import score_sets

        pred_cat, pred_clu = self.predict(X, sets)
        return score_sets(categories, clusters, pred_cat, pred_clu, sets)["ari"]

    def save(self, path) -> None:
        """Save the fitted model to folder ``path`` (safetensors weights + JSON config)."""
        from ..io import save_model

        save_model(self, path)
