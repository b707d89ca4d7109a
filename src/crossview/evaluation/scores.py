"""The protocol's scores under one set of names: codes or a fitted model in, a flat dict out.

:data:`SCORES` is the one list of metric names, shared by :func:`score_model` (what the runner
and the benchmark record), :func:`evaluate_codes` (``crossview evaluate``), the result tables
and the scripts in ``benchmarks/``. Accuracies and precisions are percentages.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..base import check_views
from .metrics import (
    canonical_sum_correlation,
    reconstruction_mse,
    sum_correlation,
    transfer_accuracy,
)
from .retrieval import retrieval_precision

#: every score name -> what it measures
SCORES: dict[str, str] = {
    "sum_corr": "sum over code dimensions of the correlation of matching columns of the codes "
    "of X alone and of Y alone (Chandar et al. 2016, sec. 6.1)",
    "canonical_sum_corr": "sum of the canonical correlations of the two codes (the DCCA "
    "papers' total correlation)",
    "transfer_x_to_y": "accuracy (%) on Y's codes of a linear classifier trained on X's codes "
    "(5 contiguous folds; Chandar et al. 2016, sec. 6.2)",
    "transfer_y_to_x": "accuracy (%) on X's codes of a linear classifier trained on Y's codes",
    "retrieval_x_to_y": "{k: % of rows of X whose partner row of Y is among its k nearest}",
    "retrieval_y_to_x": "{k: % of rows of Y whose partner row of X is among its k nearest}",
    "mse_y_from_x": "mean squared error per element of predict(X) against Y",
    "mse_x_from_y": "mean squared error per element of predict_x(Y) against X",
    "n_samples": "rows scored",
    "n_components": "width of the codes",
    "n_components_x": "width of the codes of X",
    "n_components_y": "width of the codes of Y",
    "n_train": "training rows",
    "eval_split": "the split scored: test or val",
    "fit_seconds": "wall-clock seconds of fit",
    "peak_mb": "rise of the process's resident memory during fit (MB)",
    "epochs_run": "training epochs (deep methods)",
    "samples_per_second": "training rows per second of training (deep methods)",
    "seconds_per_epoch": "seconds per training epoch (deep methods)",
    "n_parameters": "trainable parameters (deep methods)",
}


def score_codes(Zx, Zy, labels=None, *, folds: int = 5) -> dict:
    """``sum_corr`` (codes of the same width), ``canonical_sum_corr`` and, with labels and codes
    of the same width, ``transfer_x_to_y`` / ``transfer_y_to_x`` in percent."""
    Zx, Zy = check_views(Zx, Zy, min_samples=2, warn_constant=False)
    same = Zx.shape[1] == Zy.shape[1]
    out = {}
    if same:
        out["sum_corr"] = float(sum_correlation(Zx, Zy))
    out["canonical_sum_corr"] = float(canonical_sum_correlation(Zx, Zy))
    if labels is not None and same:
        acc = transfer_accuracy(Zx, Zy, labels, folds=folds)
        out["transfer_x_to_y"] = 100.0 * float(acc["x_to_y"])
        out["transfer_y_to_x"] = 100.0 * float(acc["y_to_x"])
    return out


def score_model(model, X, Y, labels=None, *, transfer_folds: int = 5) -> dict:
    """Score a fitted two-view model on (X, Y, labels): every metric of the protocol it supports.

    The codes are scored by :func:`score_codes`; a model that has ``predict`` (``predict_x``)
    is also scored by its translation error of Y from X (X from Y).
    """
    Zx, Zy = model.transform(X), model.transform_y(Y)
    out = {**score_codes(Zx, Zy, labels, folds=transfer_folds), "n_components": int(Zx.shape[1])}
    if hasattr(model, "predict"):
        out["mse_y_from_x"] = float(reconstruction_mse(Y, model.predict(X)))
    if hasattr(model, "predict_x"):
        out["mse_x_from_y"] = float(reconstruction_mse(X, model.predict_x(Y)))
    return out


def evaluate_codes(
    Zx, Zy, labels=None, k: Iterable[int] = (1, 5, 10), retrieval_method: str = "nn", folds: int = 5
) -> dict:
    """Compute every metric that applies to codes ``Zx``, ``Zy`` (and ``labels`` if given).

    Returns ``n_samples``, ``n_components_x``, ``n_components_y`` and the scores of
    :func:`score_codes`; when both codes have the same width also ``retrieval_x_to_y`` /
    ``retrieval_y_to_x`` (``{k: precision in %}``). Keys of metrics that do not apply are
    absent, never filled with placeholders. Retrieval cut-offs ``k`` larger than the number of
    rows are left out (P@1 is kept when none fits).
    """
    Zx, Zy = check_views(Zx, Zy, min_samples=2, warn_constant=False)
    out: dict = {
        "n_samples": int(Zx.shape[0]),
        "n_components_x": int(Zx.shape[1]),
        "n_components_y": int(Zy.shape[1]),
        **score_codes(Zx, Zy, labels, folds=folds),
    }
    if Zx.shape[1] == Zy.shape[1]:
        ks = tuple(kk for kk in k if int(kk) <= Zx.shape[0]) or (1,)
        for name, (A, B) in (("retrieval_x_to_y", (Zx, Zy)), ("retrieval_y_to_x", (Zy, Zx))):
            precision = retrieval_precision(A, B, ks, method=retrieval_method)
            out[name] = {kk: 100.0 * p for kk, p in precision.items()}
    return out
