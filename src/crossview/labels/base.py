"""The label-linked estimator contract: two data sets that share only class labels.

``fit(X, x_labels, Y, y_labels, pairs=None)``: X is N x K, Y is M x K' (N != M and K != K'
allowed), no row of one paired with a row of the other; the labels link them. ``pairs`` is an
optional (k, 2) integer array of known links (row of X, row of Y). Then ``predict(X)`` -> Y-hat,
``predict_x(Y)`` -> X-hat, and ``transform`` / ``transform_y`` where the method has a shared
space, ``predict_proba`` where it has a classifier.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from ..base import check_labels, check_params, check_view
from ..exceptions import CrossviewError

__all__ = [
    "LabelLinkedArrays",
    "LabelLinkedModel",
    "check_label_linked",
    "check_pairs",
    "labels_from_json",
    "labels_to_json",
]


class LabelLinkedArrays:
    """Validated label-linked training data: both views, their labels as class indices, pairs.

    ``classes`` are the sorted class labels (the same in both views); ``x_codes`` / ``y_codes``
    index into them; ``pairs`` is a (k, 2) int64 array (k may be 0).
    """

    def __init__(self, X, x_codes, Y, y_codes, classes, pairs):
        self.X, self.x_codes, self.Y, self.y_codes = X, x_codes, Y, y_codes
        self.classes, self.pairs = classes, pairs

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def _check_class_labels(labels: Any, n: int, name: str) -> np.ndarray:
    lab = check_labels(labels, n, name)
    if lab.dtype == object:
        kinds = {type(v) for v in lab.tolist()}
        if not (kinds <= {str} or kinds <= {int, bool}):
            raise CrossviewError(
                f"{name} mixes value types ({', '.join(sorted(k.__name__ for k in kinds))}); "
                "expected all integers or all strings"
            )
        lab = lab.astype(str) if kinds <= {str} else lab.astype(np.int64)
    if lab.dtype.kind == "f":
        if not np.all(lab == np.round(lab)):
            raise CrossviewError(
                f"{name} holds non-integer numbers (e.g. {lab[lab != np.round(lab)][0]!r}); "
                "expected class labels: integers or strings"
            )
        lab = lab.astype(np.int64)
    if lab.dtype.kind not in "iubUS":
        raise CrossviewError(
            f"{name} has dtype {lab.dtype}; expected class labels: integers or strings"
        )
    return lab


def check_label_linked(
    X, x_labels, Y, y_labels, pairs=None, *, dtype=np.float64, min_per_view: int = 2
) -> LabelLinkedArrays:
    """Validate label-linked data and return it as a :class:`LabelLinkedArrays`.

    Raises a one-line :class:`CrossviewError` for a bad view (see
    :func:`crossview.base.check_view`), labels of the wrong length or type, labels of different
    kinds in the two views (integers in one, strings in the other), a view with one class, a
    class present in only one view, and pairs that are not a (k, 2) integer array of valid row
    indices linking rows of the same class.
    """
    Xa = check_view(X, "X", dtype=dtype, min_samples=min_per_view)
    Ya = check_view(Y, "Y", dtype=dtype, min_samples=min_per_view)
    lx = _check_class_labels(x_labels, Xa.shape[0], "x_labels")
    ly = _check_class_labels(y_labels, Ya.shape[0], "y_labels")
    if (lx.dtype.kind in "US") != (ly.dtype.kind in "US"):
        raise CrossviewError(
            f"x_labels are {'strings' if lx.dtype.kind in 'US' else 'integers'} and y_labels "
            f"{'strings' if ly.dtype.kind in 'US' else 'integers'}; expected the same kind of "
            "class labels in both views"
        )
    cx, cy = np.unique(lx), np.unique(ly)
    for name, c in (("X", cx), ("Y", cy)):
        if len(c) < 2:
            raise CrossviewError(
                f"view {name} has a single class ({c[0]!r}); expected at least 2 classes"
            )
    only_x, only_y = np.setdiff1d(cx, cy), np.setdiff1d(cy, cx)
    if len(only_x) or len(only_y):
        where = []
        if len(only_x):
            where.append(f"only in X: {_some(only_x)}")
        if len(only_y):
            where.append(f"only in Y: {_some(only_y)}")
        raise CrossviewError(
            f"classes must appear in both views; {'; '.join(where)} (drop those rows or add "
            "examples of them to the other view)"
        )
    x_codes = np.searchsorted(cx, lx).astype(np.int64)
    y_codes = np.searchsorted(cx, ly).astype(np.int64)
    P = check_pairs(pairs, Xa.shape[0], Ya.shape[0])
    bad = x_codes[P[:, 0]] != y_codes[P[:, 1]]
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        a, b = P[i]
        raise CrossviewError(
            f"pairs[{i}] links X row {a} (label {lx[a]!r}) to Y row {b} (label {ly[b]!r}); "
            f"expected linked rows to share their class ({int(bad.sum())} such pair(s))"
        )
    return LabelLinkedArrays(Xa, x_codes, Ya, y_codes, cx, P)


def _some(values, k: int = 5) -> str:
    shown = ", ".join(repr(v.item() if hasattr(v, "item") else v) for v in values[:k])
    return shown + (f" and {len(values) - k} more" if len(values) > k else "")


def check_pairs(pairs, n_x: int, n_y: int) -> np.ndarray:
    """Validate known links as a (k, 2) int64 array of (row of X, row of Y); None gives (0, 2)."""
    if pairs is None:
        return np.zeros((0, 2), dtype=np.int64)
    P = np.asarray(pairs)
    if P.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if P.ndim != 2 or P.shape[1] != 2:
        raise CrossviewError(
            f"pairs has shape {P.shape}; expected (k, 2): one (row of X, row of Y) per known link"
        )
    if P.dtype.kind == "f" and np.all(np.isfinite(P)) and np.all(P == np.round(P)):
        P = P.astype(np.int64)
    if P.dtype.kind not in "iu":
        raise CrossviewError(f"pairs has dtype {P.dtype}; expected integer row indices")
    P = P.astype(np.int64)
    for col, (view, n) in enumerate((("X", n_x), ("Y", n_y))):
        out = (P[:, col] < 0) | (P[:, col] >= n)
        if out.any():
            raise CrossviewError(
                f"pairs[:, {col}] holds row {int(P[out, col][0])}, outside view {view}'s "
                f"{n} rows; expected indices 0..{n - 1}"
            )
    return P


def labels_to_json(classes: np.ndarray) -> list:
    """Class labels as a JSON list (integers or strings) for a model file."""
    return [v.item() if hasattr(v, "item") else v for v in classes.tolist()]


def labels_from_json(values) -> np.ndarray:
    """Rebuild the class labels saved by :func:`labels_to_json`, with a clear error if corrupt."""
    if not isinstance(values, (list, tuple)) or not values:
        raise CrossviewError(f"the model file's class list is {values!r}; expected a list")
    kinds = {type(v) for v in values}
    if kinds <= {str}:
        return np.asarray(values, dtype=str)
    if kinds <= {int}:
        return np.asarray(values, dtype=np.int64)
    raise CrossviewError(f"the model file's class list mixes {kinds}; expected ints or strings")


class LabelLinkedModel(BaseEstimator):
    """Base of the label-linked methods: parameter checks, fitted widths, classes, model files.

    Subclasses implement ``fit(X, x_labels, Y, y_labels, pairs=None)`` (calling
    :meth:`_validate_params` and :func:`check_label_linked` first, then setting
    ``n_features_in_``, ``n_features_in_y_`` and ``classes_``), ``predict(X)`` and
    ``predict_x(Y)``, and ``_get_state`` / ``_set_state`` as the paired methods do
    (:class:`crossview.base.TwoViewModel`).
    """

    _parameter_constraints: dict = {}

    def _validate_params(self) -> None:
        """Check every parameter against ``_parameter_constraints``, with a one-line error."""
        check_params(self._parameter_constraints, self.get_params(deep=False), type(self).__name__)

    def _set_fitted_shape(self, data: LabelLinkedArrays) -> None:
        self.n_features_in_ = data.X.shape[1]
        self.n_features_in_y_ = data.Y.shape[1]
        self.classes_ = data.classes

    def _check_x(self, X, dtype=np.float64):
        check_is_fitted(self)
        return check_view(X, "X", n_features=self.n_features_in_, dtype=dtype)

    def _check_y(self, Y, dtype=np.float64):
        check_is_fitted(self)
        return check_view(Y, "Y", n_features=self.n_features_in_y_, dtype=dtype)

    def score(self, X, x_labels, Y, y_labels) -> float:
        """Label-match accuracy of the translations, the mean of both directions (higher is
        better).

        ``predict(X)`` is compared with the real rows ``Y``: the fraction of translated rows
        whose nearest real row of Y has the source row's label; then the same for
        ``predict_x(Y)`` against ``X`` (see
        :func:`crossview.evaluation.label_metrics.label_match_accuracy`).
        """
        from ..evaluation.label_metrics import label_match_accuracy

        data = check_label_linked(X, x_labels, Y, y_labels)
        xy = label_match_accuracy(self.predict(data.X), x_labels, data.Y, y_labels)
        yx = label_match_accuracy(self.predict_x(data.Y), y_labels, data.X, x_labels)
        return float((xy + yx) / 2)

    def save(self, path) -> None:
        """Save the fitted model to folder ``path`` (safetensors weights + JSON config)."""
        from ..io import save_model

        save_model(self, path)
