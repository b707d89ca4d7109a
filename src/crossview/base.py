"""The two-view estimator contract and the one input validator every method uses."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import InvalidParameterError, validate_parameter_constraints
from sklearn.utils.validation import check_is_fitted

from .exceptions import ConstantColumnWarning, CrossviewError

__all__ = [
    "ConstantColumnWarning",
    "CrossviewError",
    "TwoViewModel",
    "check_labels",
    "check_params",
    "check_view",
    "check_views",
    "count_constant_columns",
]


def check_params(constraints: dict, params: dict, caller: str) -> None:
    """Check ``params`` against scikit-learn parameter constraints, raising a one-line error.

    ``constraints`` maps a parameter name to a list of scikit-learn constraints (``Interval``,
    ``StrOptions``, a type, ``None``, ``"boolean"``, ...; see
    ``sklearn.utils._param_validation``). A value that meets none of them raises a
    :class:`CrossviewError` with scikit-learn's message, which names the parameter, what it
    accepts and what it got, e.g. "The 'epochs' parameter of CorrNet must be an int in the range
    [1, inf) or a str among {'auto'}. Got 1.5 instead."
    """
    try:
        validate_parameter_constraints(constraints, params, caller_name=caller)
    except InvalidParameterError as exc:
        raise CrossviewError(str(exc).replace("\n", " ")) from None


def _as_float_2d(A: Any, name: str, dtype) -> np.ndarray:
    """Convert one view to a 2-D float array or raise a ValueError that names the view."""
    if A is None:
        raise CrossviewError(f"view {name} is missing (got None); expected a 2-D numeric array")
    if hasattr(A, "toarray") and not isinstance(A, np.ndarray):  # scipy.sparse
        A = A.toarray()
    arr = np.asarray(A)
    if arr.dtype == object or arr.dtype.kind in "USVO":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise CrossviewError(
                f"view {name} holds non-numeric data (dtype {np.asarray(A).dtype}); "
                "expected numbers only"
            ) from None
    if arr.dtype.kind == "c":
        raise CrossviewError(f"view {name} is complex-valued; expected real numbers")
    if arr.dtype.kind not in "biuf":
        raise CrossviewError(f"view {name} has dtype {arr.dtype}; expected a numeric array")
    if arr.ndim == 1:
        raise CrossviewError(
            f"view {name} is 1-D with shape {arr.shape}; expected 2-D (n_samples, n_features) — "
            "use .reshape(-1, 1) for a single feature"
        )
    if arr.ndim != 2:
        raise CrossviewError(
            f"view {name} has {arr.ndim} dimensions (shape {arr.shape}); "
            "expected 2-D (n_samples, n_features)"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise CrossviewError(
            f"view {name} is empty (shape {arr.shape}); expected at least one row and one column"
        )
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    elif arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        rows = int(bad.any(axis=1).sum())
        n_nan = int(np.isnan(arr).sum())
        n_inf = int(bad.sum()) - n_nan
        raise CrossviewError(
            f"view {name} contains non-finite values: {n_nan} NaN and {n_inf} inf in {rows} of "
            f"{arr.shape[0]} rows; expected finite numbers (drop or impute those rows first)"
        )
    return arr


def check_view(
    A: Any,
    name: str = "X",
    *,
    n_features: int | None = None,
    dtype=np.float64,
    min_samples: int = 1,
) -> np.ndarray:
    """Validate one view: 2-D, numeric, finite, non-empty, and (when given) of the fitted width."""
    arr = _as_float_2d(A, name, dtype)
    if n_features is not None and arr.shape[1] != n_features:
        raise CrossviewError(
            f"view {name} has {arr.shape[1]} features (shape {arr.shape}); the model was fitted "
            f"with {n_features}"
        )
    if arr.shape[0] < min_samples:
        raise CrossviewError(
            f"view {name} has {arr.shape[0]} rows; this needs at least {min_samples}"
        )
    return arr


def check_views(
    X: Any, Y: Any, *, min_samples: int = 2, dtype=np.float64, warn_constant: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of views and return them as float arrays with the same number of rows.

    Raises ``ValueError`` (a :class:`CrossviewError`) for different row counts, NaN or inf (saying
    which view and how many rows), empty or 1-D input, non-numeric data, or fewer than
    ``min_samples`` rows. Warns (:class:`ConstantColumnWarning`) about constant columns.
    """
    Xa = _as_float_2d(X, "X", dtype)
    Ya = _as_float_2d(Y, "Y", dtype)
    if Xa.shape[0] != Ya.shape[0]:
        raise CrossviewError(
            f"views X and Y have different numbers of rows: X has {Xa.shape[0]} (shape "
            f"{Xa.shape}), Y has {Ya.shape[0]} (shape {Ya.shape}); "
            "expected one row per item in both"
        )
    if Xa.shape[0] < min_samples:
        raise CrossviewError(
            f"views have {Xa.shape[0]} rows; this method needs at least {min_samples}"
        )
    if warn_constant:
        for name, A in (("X", Xa), ("Y", Ya)):
            n_const = int(count_constant_columns(A))
            if n_const:
                warnings.warn(
                    f"view {name} has {n_const} constant column(s) of {A.shape[1]}; they carry no "
                    "information (regularisation keeps the methods stable)",
                    ConstantColumnWarning,
                    stacklevel=2,
                )
    return Xa, Ya


def count_constant_columns(A: np.ndarray) -> int:
    """Count columns whose values are all equal (NaN-free input assumed)."""
    if A.shape[0] < 2:
        return 0
    return int(np.sum(np.ptp(A, axis=0) == 0))


def check_labels(labels: Any, n_samples: int, name: str = "labels") -> np.ndarray:
    """Validate a 1-D label vector with one entry per row."""
    lab = np.asarray(labels)
    if lab.ndim == 2 and 1 in lab.shape:
        lab = lab.ravel()
    if lab.ndim != 1:
        raise CrossviewError(f"{name} must be 1-D with one entry per row; got shape {lab.shape}")
    if lab.shape[0] != n_samples:
        raise CrossviewError(
            f"{name} has {lab.shape[0]} entries; expected {n_samples} (one per row of the views)"
        )
    if lab.dtype.kind == "f" and not np.all(np.isfinite(lab)):
        raise CrossviewError(f"{name} contains NaN or inf; expected class labels")
    return lab


class TwoViewModel(BaseEstimator):
    """Base of every paired two-view method: scikit-learn conventions plus safe model files.

    Subclasses implement ``fit(X, Y)``, ``transform(X)``, ``transform_y(Y)`` and, where the
    method can translate, ``predict(X)`` (X to Y) and ``predict_x(Y)`` (Y to X): a method that
    cannot translate has no ``predict`` (``hasattr(model, "predict")`` is the capability). For
    model files they implement ``_get_state() -> (arrays, extra)`` and
    ``_set_state(arrays, extra)``, where ``arrays`` is a dict of NumPy arrays (saved as
    safetensors) and ``extra`` a JSON-able dict.

    Each subclass declares what its parameters accept in ``_parameter_constraints``
    (scikit-learn's format) and calls :meth:`_validate_params` first thing in ``fit`` (and
    ``partial_fit``).
    """

    #: what each ``__init__`` parameter accepts, in scikit-learn's constraint format
    _parameter_constraints: dict = {}

    def _validate_params(self) -> None:
        """Check every parameter against ``_parameter_constraints`` (scikit-learn's validation).

        Raises a one-line :class:`CrossviewError` (not scikit-learn's ``InvalidParameterError``)
        naming the parameter, the values it accepts and the value it got.
        """
        check_params(self._parameter_constraints, self.get_params(deep=False), type(self).__name__)

    def transform_both(self, X, Y):
        """Return the codes ``(Zx, Zy)`` of each view computed from that view alone."""
        return self.transform(X), self.transform_y(Y)

    def fit_transform(self, X, Y=None, **fit_params):
        """Fit on both views, then return the code of X."""
        return self.fit(X, Y, **fit_params).transform(X)

    def score(self, X, Y) -> float:
        """Sum correlation of the codes of paired rows: higher is better (for ``GridSearchCV``).

        The sum over code dimensions of the Pearson correlation between ``transform(X)`` and
        ``transform_y(Y)`` (the protocol's sum correlation). It grows with ``n_components``,
        so compare it across other parameters, or search ``n_components`` with
        ``scoring=`` set to a per-dimension measure. Maps between spaces (``RidgeMap``,
        ``Procrustes``, ``MLPMap``) score their translations instead.
        """
        from .evaluation.metrics import sum_correlation

        Zx, Zy = self.transform(X), self.transform_y(Y)
        if Zx.shape[0] != Zy.shape[0]:
            raise CrossviewError(
                f"score needs paired rows: X has {Zx.shape[0]} rows, Y has {Zy.shape[0]}"
            )
        return float(sum_correlation(Zx, Zy))

    def _check_x(self, X):
        check_is_fitted(self)
        return check_view(X, "X", n_features=self.n_features_in_)

    def _check_y(self, Y):
        check_is_fitted(self)
        return check_view(Y, "Y", n_features=self.n_features_in_y_)

    def save(self, path) -> None:
        """Save the fitted model to folder ``path`` (safetensors weights + JSON config)."""
        from .io import save_model

        save_model(self, path)

    #: the dtype ``transform`` returns for input of that dtype (scikit-learn's transformer tag)
    _preserves_dtype = ("float64",)

    def __sklearn_tags__(self):
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        # every method has transform, so scikit-learn sees a transformer; sparse input is
        # accepted because check_views densifies it
        tags.transformer_tags = TransformerTags(preserves_dtype=list(self._preserves_dtype))
        tags.input_tags.sparse = True
        return tags
