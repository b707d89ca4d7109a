"""Classify, then combine: translate a row through the class it probably belongs to.

``predict(X)`` classifies each row of X (P(c|x) from any scikit-learn classifier with
``predict_proba``; by default a regularised logistic regression) and combines per-class
statistics of Y:

- ``output="soft"``: sum_c P(c|x) mu_Y(c), the probability-weighted class centre (the least
  squared error a label-only method can expect, but class means look like no real row);
- ``output="hard"``: the winning class's representative, its mean or its medoid (a real row
  of Y);
- ``output="sample"``: a draw from the mixture sum_c P(c|x) N(mu_Y(c), Sigma_Y(c)) — the
  generative route f(y|x) = sum_c f(c|x) f(y|c) — with full, diagonal or Ledoit-Wolf shrunk
  covariances, seeded by ``random_state``.

``predict_x(Y)`` does the same from Y to X. Every statistic is computed in ``fit``, so
``output`` (and ``representative``) can be changed with ``set_params`` without refitting.

With known pairs, the within-class residuals are mapped too: a ridge regression (alpha by
leave-one-out, scikit-learn's ``RidgeCV``) from the paired rows' X residuals to their Y
residuals (each row minus its class mean), both projected on the leading principal axes of
their view's within-class residuals. Those axes are learned from *every* row of the view, so
the unpaired rows shape the map and the pairs only fit a small (k x k) matrix. The correction
is added to the "soft" output and to "hard" with ``representative="mean"``.
"""

from __future__ import annotations

import importlib
import logging
from numbers import Integral

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.base import clone
from sklearn.covariance import LedoitWolf
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..exceptions import CrossviewError
from .base import LabelLinkedModel, check_label_linked, labels_from_json, labels_to_json

log = logging.getLogger(__name__)

#: classifiers a model file can hold: their fitted state is arrays and numbers, rebuilt without
#: running code from the file (class -> module)
SAVABLE_CLASSIFIERS = {
    "LogisticRegression": "sklearn.linear_model",
    "LinearDiscriminantAnalysis": "sklearn.discriminant_analysis",
    "GaussianNB": "sklearn.naive_bayes",
}
#: medoids are searched among at most this many rows of a class (a seeded subsample)
MEDOID_ROWS = 2000
#: a row is unambiguous when this many nearest rows of its view share its class (medoids)
CLEAN_NEIGHBOURS = 10
_ALPHAS = np.logspace(-3, 5, 17)


def default_classifier() -> LogisticRegression:
    """The classifier used when none is given: L2-regularised multinomial logistic regression."""
    return LogisticRegression(C=1.0, max_iter=1000)


def _medoid(A: np.ndarray, rng: np.random.Generator) -> int:
    """Index (into ``A``) of the row with the least total Euclidean distance to the others."""
    idx = np.arange(A.shape[0])
    if len(idx) > MEDOID_ROWS:
        idx = np.sort(rng.choice(len(idx), MEDOID_ROWS, replace=False))
    S = A[idx]
    total = np.zeros(len(idx))
    for start in range(0, len(idx), 500):  # 500 x n distance blocks, not n x n at once
        total[start : start + 500] = cdist(S[start : start + 500], S).sum(axis=1)
    return int(idx[np.argmin(total)])


def _clean_medoids(T: np.ndarray, codes: np.ndarray, n_classes: int, rng) -> np.ndarray:
    """Per class, the medoid of its unambiguous rows: those whose 10 nearest other rows of the
    view all share their class (all the class's rows where none is unambiguous).

    A plain medoid can sit where classes overlap, so that it looks as much like another class
    as like its own; the medoid of the clean rows is a typical member that does not.
    """
    from sklearn.neighbors import NearestNeighbors

    k = int(min(CLEAN_NEIGHBOURS, T.shape[0] - 1))
    nn = NearestNeighbors(n_neighbors=k + 1).fit(T)
    out = []
    for c in range(n_classes):
        rows = np.flatnonzero(codes == c)
        if len(rows) > MEDOID_ROWS:
            rows = np.sort(rng.choice(rows, MEDOID_ROWS, replace=False))
        neigh = nn.kneighbors(T[rows], return_distance=False)[:, 1:]
        clean = rows[(codes[neigh] == c).all(axis=1)]
        pool = clean if len(clean) else rows
        out.append(T[pool[_medoid(T[pool], rng)]])
    return np.stack(out)


def _cov_factor(R: np.ndarray, kind: str) -> np.ndarray:
    """A factor L with L L^T = the class covariance of residuals ``R`` (rows minus the mean).

    "diag" returns the standard deviations (a vector); "full" and "ledoit-wolf" a square
    matrix from the eigendecomposition (so a singular covariance, e.g. of constant pixels, is
    fine).
    """
    if kind == "diag":
        return R.std(axis=0)
    if kind == "ledoit-wolf":
        C = LedoitWolf(assume_centered=True).fit(R).covariance_
    else:
        C = R.T @ R / max(R.shape[0] - 1, 1)
    w, V = np.linalg.eigh(C)
    return V * np.sqrt(np.clip(w, 0, None))


class _Direction:
    """The fitted statistics of one direction (source view -> target view)."""

    ARRAYS = ("means", "medoids", "lo", "hi", "factors", "src_means", "ax_src", "ax_tgt", "coef")

    def __init__(self):
        self.clf = None
        self.means = self.medoids = self.lo = self.hi = self.factors = None
        self.src_means = self.ax_src = self.ax_tgt = self.coef = None

    def fit(self, clf, S, s_codes, T, t_codes, n_classes, covariance, pairs, k, rng, name):
        log.info("%s: fitting %s on %d rows", name, type(clf).__name__, len(S))
        self.clf = clone(clf).fit(S, s_codes)
        log.info("%s: class statistics of %d rows", name, len(T))
        self.means = np.stack([T[t_codes == c].mean(axis=0) for c in range(n_classes)])
        self.medoids = _clean_medoids(T, t_codes, n_classes, rng)
        self.lo, self.hi = T.min(axis=0), T.max(axis=0)
        self.factors = np.stack(
            [_cov_factor(T[t_codes == c] - self.means[c], covariance) for c in range(n_classes)]
        )
        self.src_means = np.stack([S[s_codes == c].mean(axis=0) for c in range(n_classes)])
        self.ax_src = self.ax_tgt = self.coef = None
        if len(pairs):
            Rs, Rt = S - self.src_means[s_codes], T - self.means[t_codes]
            self.ax_src, self.ax_tgt = _axes(Rs, k), _axes(Rt, k)
            A = Rs[pairs[:, 0]] @ self.ax_src.T
            B = Rt[pairs[:, 1]] @ self.ax_tgt.T
            ridge = RidgeCV(alphas=_ALPHAS, fit_intercept=False).fit(A, B)
            self.coef = np.atleast_2d(ridge.coef_)  # (k_tgt, k_src)
        return self

    def proba(self, S):
        return self.clf.predict_proba(S)

    def translate(self, S, output, representative, clip, rng):
        P = self.proba(S)
        if output == "soft":
            out = P @ self.means
        elif output == "hard" and representative == "mean":
            out = self.means[P.argmax(axis=1)]
        elif output == "hard":
            return self.medoids[P.argmax(axis=1)].copy()
        else:
            # a class per row from P(c|x) (inverse CDF), then a Gaussian draw of that class
            cdf = np.cumsum(P / P.sum(axis=1, keepdims=True), axis=1)
            c = np.minimum((cdf < rng.random((len(P), 1))).sum(axis=1), P.shape[1] - 1)
            z = rng.standard_normal((S.shape[0], self.means.shape[1]))
            out = self.means[c]
            for k in np.unique(c):  # one class at a time: never an (n, d, d) array
                rows = c == k
                f = self.factors[k]
                out[rows] += z[rows] * f if f.ndim == 1 else z[rows] @ f.T
            return np.clip(out, self.lo, self.hi) if clip else out
        if self.coef is not None:
            Rs = S - P @ self.src_means
            out = out + (Rs @ self.ax_src.T) @ self.coef.T @ self.ax_tgt
        return out

    def state(self, prefix):
        arrays = {
            f"{prefix}.{n}": getattr(self, n) for n in self.ARRAYS if getattr(self, n) is not None
        }
        clf_arrays, clf_json = _classifier_state(self.clf)
        arrays.update({f"{prefix}.clf.{k}": v for k, v in clf_arrays.items()})
        return arrays, clf_json

    @classmethod
    def restore(cls, arrays, prefix, clf_json):
        d = cls()
        for n in cls.ARRAYS:
            if f"{prefix}.{n}" in arrays:
                setattr(d, n, np.asarray(arrays[f"{prefix}.{n}"]))
        for n in ("means", "medoids", "lo", "hi", "factors", "src_means"):
            if getattr(d, n) is None:
                raise KeyError(f"{prefix}.{n}")
        head = f"{prefix}.clf."
        d.clf = _classifier_from_state(
            {k[len(head) :]: v for k, v in arrays.items() if k.startswith(head)}, clf_json
        )
        return d


def _axes(R: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` leading principal axes (rows) of residuals ``R`` (already centred per class)."""
    k = max(1, min(k, min(R.shape)))
    _, _, Vt = np.linalg.svd(R, full_matrices=False)
    return Vt[:k]


def _classifier_state(clf) -> tuple[dict, dict]:
    """Split a fitted (or unfitted) classifier into arrays and JSON, if its class is savable."""
    name = type(clf).__name__
    if not type(clf).__module__.startswith(SAVABLE_CLASSIFIERS.get(name, "?")):
        raise CrossviewError(
            f"a {name} classifier cannot be written to a safe model file; savable classifiers: "
            f"{', '.join(SAVABLE_CLASSIFIERS)} (their fitted state is plain arrays)"
        )
    arrays, scalars = {}, {}
    for key, value in vars(clf).items():
        if not key.endswith("_") or key.startswith("_"):
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            arrays[key] = value
        elif isinstance(value, (bool, int, float, str, np.integer, np.floating)):
            scalars[key] = value.item() if hasattr(value, "item") else value
    params = {
        k: v
        for k, v in clf.get_params(deep=False).items()
        if v is None or isinstance(v, (bool, int, float, str))
    }
    return arrays, {"class": name, "params": params, "scalars": scalars}


def _build_classifier(spec: dict):
    """An unfitted classifier from ``{"class", "params"}`` (whitelisted classes only)."""
    if not isinstance(spec, dict) or spec.get("class") not in SAVABLE_CLASSIFIERS:
        got = spec.get("class") if isinstance(spec, dict) else spec
        raise CrossviewError(
            f"the model file names classifier {got!r}; expected one of "
            f"{', '.join(SAVABLE_CLASSIFIERS)}"
        )
    name = spec["class"]
    cls = getattr(importlib.import_module(SAVABLE_CLASSIFIERS[name]), name)
    try:
        return cls(**dict(spec.get("params") or {}))
    except TypeError as exc:
        raise CrossviewError(f"the model file's {name} parameters do not fit ({exc})") from None


def _classifier_from_state(arrays: dict, spec: dict):
    """Rebuild a fitted classifier saved by :func:`_classifier_state`."""
    clf = _build_classifier(spec)
    if "classes_" not in arrays:
        raise CrossviewError(f"the model file's {spec['class']} classifier has no fitted classes")
    for key, value in (spec.get("scalars") or {}).items():
        setattr(clf, str(key), value)
    for key, value in arrays.items():
        setattr(clf, key, np.asarray(value))
    return clf


class ClassConditionalMap(LabelLinkedModel):
    """Translate between label-linked views by classifying, then combining per-class statistics.

    Parameters
    ----------
    classifier : scikit-learn classifier or None, default=None
        Gives P(c|x) for rows of X (it needs ``predict_proba``); cloned and fitted on X. None:
        ``LogisticRegression(C=1.0, max_iter=1000)``. Model files can hold the classifiers in
        :data:`SAVABLE_CLASSIFIERS`; ``save`` refuses any other with a clear error.
    y_classifier : scikit-learn classifier or None, default=None
        The same for rows of Y (used by ``predict_x``); None: a clone of ``classifier``.
    output : {"soft", "hard", "sample"}, default="soft"
        What a translation is: the probability-weighted class mean ("soft", the lowest squared
        error), the most probable class's representative ("hard"), or a draw from the class
        mixture ("sample"). "soft" minimises the squared error to the true partner;
        "hard" medoids and "sample" look like real rows (their nearest real rows carry the
        right label; docs/benchmarks.md, "Label-linked").
    representative : {"medoid", "mean"}, default="medoid"
        The class representative of ``output="hard"``: a real row of the other view (the
        medoid of the class's unambiguous rows, those whose 10 nearest rows share the class;
        searched among up to 2,000 rows of the class) or the class mean.
    covariance : {"ledoit-wolf", "full", "diag"}, default="ledoit-wolf"
        The per-class Gaussian of ``output="sample"``: Ledoit-Wolf shrunk, empirical or
        diagonal covariance.
    clip : bool, default=True
        Clip samples to the range each feature had in the training data.
    pair_components : int or "auto", default="auto"
        With known pairs: the number of principal axes of each view's within-class residuals
        the residual map works in; "auto": a quarter of the pairs, between 1 and 64.
    random_state : int or None, default=None
        Seeds the medoid subsample and the samples of ``output="sample"`` (each ``predict``
        call then draws the same samples).

    Attributes
    ----------
    classes_ : ndarray
        The class labels (sorted), shared by both views.
    n_features_in_, n_features_in_y_ : int
        Widths of X and Y.
    """

    #: the outputs a benchmark scores from one fit (``set_params(output=...)`` needs no refit)
    OUTPUTS = ("soft", "hard", "sample")

    _parameter_constraints: dict = {
        "classifier": [HasMethods(["fit", "predict_proba"]), None],
        "y_classifier": [HasMethods(["fit", "predict_proba"]), None],
        "output": [StrOptions({"soft", "hard", "sample"})],
        "representative": [StrOptions({"medoid", "mean"})],
        "covariance": [StrOptions({"ledoit-wolf", "full", "diag"})],
        "clip": ["boolean"],
        "pair_components": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        classifier=None,
        y_classifier=None,
        output="soft",
        representative="medoid",
        covariance="ledoit-wolf",
        clip=True,
        pair_components="auto",
        random_state=None,
    ):
        self.classifier = classifier
        self.y_classifier = y_classifier
        self.output = output
        self.representative = representative
        self.covariance = covariance
        self.clip = clip
        self.pair_components = pair_components
        self.random_state = random_state

    def _k(self, n_pairs: int) -> int:
        if self.pair_components == "auto":
            return int(np.clip(n_pairs // 4, 1, 64))
        return int(self.pair_components)

    def fit(self, X, x_labels, Y, y_labels, pairs=None):
        """Fit a classifier on each view and the per-class statistics of the other view."""
        self._validate_params()
        data = check_label_linked(X, x_labels, Y, y_labels, pairs)
        self._set_fitted_shape(data)
        clf_x = self.classifier if self.classifier is not None else default_classifier()
        clf_y = self.y_classifier if self.y_classifier is not None else clf_x
        rng = np.random.default_rng(self.random_state)
        k, C = self._k(len(data.pairs)), data.n_classes
        common = {"n_classes": C, "covariance": self.covariance, "k": k, "rng": rng}
        self.x_to_y_ = _Direction().fit(
            clf_x,
            data.X,
            data.x_codes,
            data.Y,
            data.y_codes,
            pairs=data.pairs,
            name="X -> Y",
            **common,
        )
        self.y_to_x_ = _Direction().fit(
            clf_y,
            data.Y,
            data.y_codes,
            data.X,
            data.x_codes,
            pairs=data.pairs[:, ::-1],
            name="Y -> X",
            **common,
        )
        self.n_pairs_ = len(data.pairs)
        return self

    def _rng(self):
        return np.random.default_rng(self.random_state)

    def predict(self, X) -> np.ndarray:
        """Translate rows of X into rows of Y (what ``output`` says)."""
        check_is_fitted(self, "x_to_y_")
        X = self._check_x(X)
        return self.x_to_y_.translate(X, self.output, self.representative, self.clip, self._rng())

    def predict_x(self, Y) -> np.ndarray:
        """Translate rows of Y into rows of X."""
        check_is_fitted(self, "y_to_x_")
        Y = self._check_y(Y)
        return self.y_to_x_.translate(Y, self.output, self.representative, self.clip, self._rng())

    def predict_proba(self, X) -> np.ndarray:
        """P(class | row of X), one column per entry of ``classes_``."""
        check_is_fitted(self, "x_to_y_")
        return self.x_to_y_.proba(self._check_x(X))

    def predict_proba_y(self, Y) -> np.ndarray:
        """P(class | row of Y), one column per entry of ``classes_``."""
        check_is_fitted(self, "y_to_x_")
        return self.y_to_x_.proba(self._check_y(Y))

    def predict_label(self, X) -> np.ndarray:
        """The most probable class of each row of X."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def predict_label_y(self, Y) -> np.ndarray:
        """The most probable class of each row of Y."""
        return self.classes_[self.predict_proba_y(Y).argmax(axis=1)]

    # ---- model files -----------------------------------------------------------------------
    def _json_params(self) -> dict:
        """Parameters for the model file: the classifiers as {class, params}."""
        out = self.get_params(deep=False)
        for key in ("classifier", "y_classifier"):
            if out[key] is not None:
                spec = _classifier_state(out[key])[1]
                out[key] = {"class": spec["class"], "params": spec["params"]}
        return out

    @classmethod
    def _params_from_json(cls, params: dict) -> dict:
        out = dict(params)
        for key in ("classifier", "y_classifier"):
            if isinstance(out.get(key), dict):
                out[key] = _build_classifier(out[key])
        return out

    def _get_state(self):
        a1, c1 = self.x_to_y_.state("x_to_y")
        a2, c2 = self.y_to_x_.state("y_to_x")
        extra = {
            "classes": labels_to_json(self.classes_),
            "classifier_x": c1,
            "classifier_y": c2,
            "n_pairs": int(self.n_pairs_),
        }
        return a1 | a2, extra

    def _set_state(self, arrays, extra):
        self.classes_ = labels_from_json(extra.get("classes"))
        self.x_to_y_ = _Direction.restore(arrays, "x_to_y", extra.get("classifier_x"))
        self.y_to_x_ = _Direction.restore(arrays, "y_to_x", extra.get("classifier_y"))
        self.n_pairs_ = int(extra.get("n_pairs", 0))
