"""Evaluation: metrics on codes and reconstructions, cross-view retrieval, and their scores.

Score names are listed once, in :data:`.scores.SCORES`.
"""

from .label_metrics import (
    energy_distance,
    knn_label_accuracy,
    label_match_accuracy,
    partner_mse,
    partner_retrieval,
    per_class_energy_distance,
)
from .metrics import (
    canonical_correlations,
    canonical_sum_correlation,
    per_dimension_correlation,
    reconstruction_mse,
    sum_correlation,
    transfer_accuracy,
)
from .retrieval import nearest, retrieval_precision
from .scores import SCORES, evaluate_codes, score_codes

__all__ = [
    "SCORES",
    "canonical_correlations",
    "canonical_sum_correlation",
    "energy_distance",
    "evaluate_codes",
    "knn_label_accuracy",
    "label_match_accuracy",
    "nearest",
    "partner_mse",
    "partner_retrieval",
    "per_class_energy_distance",
    "per_dimension_correlation",
    "reconstruction_mse",
    "retrieval_precision",
    "score_codes",
    "sum_correlation",
    "transfer_accuracy",
]
