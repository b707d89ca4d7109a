"""The usual two-step baseline: classify each item, then cluster each predicted category.

An item classifier (any scikit-learn classifier; default logistic regression) gives every item
a category from its own features; then, within each set, the items of each predicted category
are clustered without supervision on PCA features of the items: average-linkage agglomerative
clustering cut at a distance threshold (tuned on held-out training sets by default), or
scikit-learn's HDBSCAN. Items never see their set, and the cluster ids of the training data are
used only to tune the threshold.
"""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist
from sklearn.base import clone
from sklearn.cluster import HDBSCAN
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from ..labels.class_conditional import (
    _build_classifier,
    _classifier_from_state,
    _classifier_state,
)
from .base import (
    SetArrays,
    SetClusteringModel,
    check_sets,
    first_appearance,
    labels_from_json,
    labels_to_json,
)

log = logging.getLogger(__name__)

#: the values of ``clusterer=``
CLUSTERERS = ("agglomerative", "hdbscan")
#: quantiles of the validation sets' within-category distances tried by ``threshold="auto"``
_QUANTILES = np.linspace(0.02, 0.98, 49)


def cluster_features(
    F: np.ndarray,
    categories: np.ndarray,
    clusterer: str,
    threshold: float,
    min_cluster_size: int = 2,
) -> np.ndarray:
    """Cluster one set's items (features ``F``) within each category; ids by first appearance."""
    out = np.empty(len(F), dtype=np.int64)
    offset = 0
    for c in np.unique(categories):
        idx = np.flatnonzero(categories == c)
        if len(idx) == 1:
            labels = np.zeros(1, dtype=np.int64)
        elif clusterer == "agglomerative":
            labels = fcluster(linkage(F[idx], "average"), t=threshold, criterion="distance") - 1
        else:
            size = min(int(min_cluster_size), len(idx))
            labels = HDBSCAN(
                min_cluster_size=max(2, size), allow_single_cluster=True, copy=True
            ).fit_predict(F[idx])
            noise = labels < 0  # HDBSCAN's noise points become clusters of their own
            labels[noise] = labels.max() + 1 + np.arange(noise.sum())
        out[idx] = labels + offset
        offset += int(labels.max()) + 1
    return first_appearance(out)


class ClassifyThenCluster(SetClusteringModel):
    """Classify the items, then cluster each predicted category of each set without supervision.

    Parameters
    ----------
    classifier : scikit-learn classifier or None, default=None
        The item classifier; None: ``LogisticRegression(C=1.0, max_iter=1000)``. A model file
        can hold a LogisticRegression, LinearDiscriminantAnalysis or GaussianNB.
    n_components : int or None, default=50
        PCA components of the clustering features (fitted on the training items); None: the raw
        features.
    clusterer : {"agglomerative", "hdbscan"}, default="agglomerative"
        Average-linkage agglomerative clustering with a distance threshold, or HDBSCAN.
    threshold : float > 0 or "auto", default="auto"
        The agglomerative distance cut; "auto" tries quantiles of the within-category distances
        of the validation sets and keeps the best mean adjusted Rand index (``threshold_``).
    min_cluster_size : int, default=2
        HDBSCAN's smallest cluster.
    validation_fraction : float in (0, 1), default=0.1
        Fraction of the training sets held out to tune the threshold (the classifier and PCA
        are fitted on the others); with too few sets to hold one out, the threshold is tuned
        on the training sets themselves.
    random_state : int or None, default=None
        Seeds the validation split and PCA.
    """

    _parameter_constraints: dict = {
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "clusterer": [StrOptions(set(CLUSTERERS))],
        "threshold": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "min_cluster_size": [Interval(Integral, 2, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        classifier=None,
        n_components=50,
        clusterer="agglomerative",
        threshold="auto",
        min_cluster_size=2,
        validation_fraction=0.1,
        random_state=None,
    ):
        self.classifier = classifier
        self.n_components = n_components
        self.clusterer = clusterer
        self.threshold = threshold
        self.min_cluster_size = min_cluster_size
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, X, categories, clusters, sets):
        """Fit the classifier and the PCA on the items of the training sets, and tune the
        threshold on the held-out sets."""
        self._validate_params()
        data = check_sets(X, sets, categories, clusters, dtype=np.float64)
        self.n_features_in_ = data.X.shape[1]
        self.classes_ = data.classes
        tune = self.clusterer == "agglomerative" and self.threshold == "auto"
        perm = np.random.default_rng(self.random_state).permutation(data.n_sets)
        n_val = int(round(self.validation_fraction * data.n_sets)) if tune else 0
        n_val = min(n_val, data.n_sets - 1) if data.n_sets > 1 else 0
        val, train = perm[:n_val], perm[n_val:]
        rows = np.concatenate([data.rows(s) for s in train])
        log.info("ClassifyThenCluster: fitting the item classifier and PCA on %d items", len(rows))
        self._fit_items(data, rows)
        self.threshold_ = float("nan")
        if self.clusterer == "agglomerative":
            if tune:
                log.info("ClassifyThenCluster: tuning the threshold on %d held-out sets", len(val))
            self.threshold_ = self._tune(data, val) if tune else float(self.threshold)
        return self

    def _fit_items(self, data: SetArrays, rows: np.ndarray) -> None:
        clf = (
            LogisticRegression(C=1.0, max_iter=1000) if self.classifier is None else self.classifier
        )
        self.classifier_ = clone(clf).fit(data.X[rows], data.codes[rows])
        k = self.n_components
        if k is None:
            self.components_ = np.eye(data.X.shape[1])
            self.mean_ = np.zeros(data.X.shape[1])
        else:
            k = min(int(k), len(rows), data.X.shape[1])
            pca = PCA(k, random_state=self.random_state).fit(data.X[rows])
            self.components_, self.mean_ = pca.components_.T, pca.mean_

    def _tune(self, data: SetArrays, val: np.ndarray) -> float:
        """The threshold with the best mean ARI on the held-out sets ``val``."""
        from ..evaluation.clustering_metrics import adjusted_rand

        if len(val) == 0:
            val = np.arange(data.n_sets)
        per_set = []
        for s in val:
            r = data.rows(s)
            per_set.append((self._codes(data.X[r]), self._features(data.X[r]), data.clusters[r]))
        dists = np.concatenate(
            [pdist(F[codes == c]) for codes, F, _ in per_set for c in np.unique(codes)]
        )
        if not len(dists):
            return 1.0
        best, best_ari = float(np.median(dists)), -np.inf
        for th in np.quantile(dists, _QUANTILES):
            ari = np.mean(
                [
                    adjusted_rand(t, cluster_features(F, c, "agglomerative", th))
                    for c, F, t in per_set
                ]
            )
            if ari > best_ari + 1e-12:
                best, best_ari = float(th), ari
        return best

    def _proba(self, X) -> np.ndarray:
        """P(category) with one column per entry of ``classes_`` (0 for a category the
        classifier never saw, e.g. one that only the held-out sets hold)."""
        raw = np.asarray(self.classifier_.predict_proba(X))
        out = np.zeros((len(X), len(self.classes_)))
        out[:, np.asarray(self.classifier_.classes_, dtype=np.int64)] = raw
        return out

    def _codes(self, X):
        return self._proba(X).argmax(axis=1)

    def _features(self, X):
        return (X - self.mean_) @ self.components_

    def predict_proba(self, X, sets) -> np.ndarray:
        """The classifier's P(category | item), one column per ``classes_`` entry."""
        data = self._check_predict(X, sets)
        return self._proba(data.X)

    def predict(self, X, sets):
        """``(categories, clusters)`` for every item: classify, then cluster within category."""
        data = self._check_predict(X, sets)
        codes = self._codes(data.X)
        F = self._features(data.X)
        clus = np.empty(len(data.X), dtype=np.int64)
        for s in range(data.n_sets):
            r = data.rows(s)
            clus[r] = cluster_features(
                F[r], codes[r], self.clusterer, self.threshold_, self.min_cluster_size
            )
        return self.classes_[codes], clus

    # ---- model files -----------------------------------------------------------------------
    def _json_params(self) -> dict:
        out = self.get_params(deep=False)
        if out["classifier"] is not None:
            spec = _classifier_state(out["classifier"])[1]
            out["classifier"] = {"class": spec["class"], "params": spec["params"]}
        return out

    @classmethod
    def _params_from_json(cls, params: dict) -> dict:
        out = dict(params)
        if isinstance(out.get("classifier"), dict):
            out["classifier"] = _build_classifier(out["classifier"])
        return out

    def _get_state(self):
        arrays, spec = _classifier_state(self.classifier_)
        arrays = {f"classifier.{k}": v for k, v in arrays.items()}
        arrays |= {"components": self.components_, "mean": self.mean_}
        extra = {
            "classes": labels_to_json(self.classes_),
            "classifier": spec,
            "threshold": None if np.isnan(self.threshold_) else float(self.threshold_),
        }
        return arrays, extra

    def _set_state(self, arrays, extra):
        self.classes_ = labels_from_json(extra.get("classes"))
        clf = {k[11:]: v for k, v in arrays.items() if k.startswith("classifier.")}
        self.classifier_ = _classifier_from_state(clf, extra.get("classifier"))
        self.components_ = np.asarray(arrays["components"])
        self.mean_ = np.asarray(arrays["mean"])
        th = extra.get("threshold")
        self.threshold_ = float("nan") if th is None else float(th)
