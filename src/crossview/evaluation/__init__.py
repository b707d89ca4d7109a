"""Evaluation: metrics on codes and reconstructions, cross-view retrieval, and their scores.

Score names are listed once, in :data:`.scores.SCORES`.
"""

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
    "evaluate_codes",
    "nearest",
    "per_dimension_correlation",
    "reconstruction_mse",
    "retrieval_precision",
    "score_codes",
    "sum_correlation",
    "transfer_accuracy",
]
