"""`evaluate_codes`: every applicable metric for a pair of code matrices, in one dict."""

from __future__ import annotations

from collections.abc import Iterable

from ..base import check_labels, check_views
from .metrics import canonical_sum_correlation, sum_correlation, transfer_accuracy
from .retrieval import retrieval_precision


def evaluate_codes(Zx, Zy, labels=None, k: Iterable[int] = (1, 5, 10),
                   retrieval_method: str = "nn", folds: int = 5) -> dict:
    """Compute every metric that applies to codes ``Zx``, ``Zy`` (and ``labels`` if given).

    Returns a dict with ``n_samples``, ``n_components_x``, ``n_components_y``,
    ``canonical_sum_correlation``; when both codes have the same width also
    ``sum_correlation`` and ``retrieval_x_to_y`` / ``retrieval_y_to_x`` (``{k: precision}``);
    with labels also ``transfer_x_to_y`` / ``transfer_y_to_x`` (fractions in [0, 1]). Keys of
    metrics that do not apply are absent, never filled with placeholders. Retrieval cut-offs
    ``k`` larger than the number of rows are left out (P@1 is kept when none fits).
    """
    Zx, Zy = check_views(Zx, Zy, min_samples=2, warn_constant=False)
    out: dict = {"n_samples": int(Zx.shape[0]), "n_components_x": int(Zx.shape[1]),
                 "n_components_y": int(Zy.shape[1])}
    same = Zx.shape[1] == Zy.shape[1]
    if same:
        out["sum_correlation"] = sum_correlation(Zx, Zy)
    out["canonical_sum_correlation"] = canonical_sum_correlation(Zx, Zy)
    if labels is not None and same:
        labels = check_labels(labels, Zx.shape[0])
        transfer = transfer_accuracy(Zx, Zy, labels, folds=folds)
        out["transfer_x_to_y"] = transfer["x_to_y"]
        out["transfer_y_to_x"] = transfer["y_to_x"]
    if same:
        ks = tuple(kk for kk in k if int(kk) <= Zx.shape[0]) or (1,)
        out["retrieval_x_to_y"] = retrieval_precision(Zx, Zy, ks, method=retrieval_method)
        out["retrieval_y_to_x"] = retrieval_precision(Zy, Zx, ks, method=retrieval_method)
    return out
