"""Evaluation: metrics on codes and reconstructions, and cross-view retrieval (arrays in, numbers out)."""

from .metrics import (
    canonical_correlations,
    canonical_sum_correlation,
    per_dimension_correlation,
    reconstruction_mse,
    sum_correlation,
    transfer_accuracy,
)
from .report import evaluate_codes
from .retrieval import nearest, retrieval_precision

__all__ = [
    "canonical_correlations",
    "canonical_sum_correlation",
    "evaluate_codes",
    "nearest",
    "per_dimension_correlation",
    "reconstruction_mse",
    "retrieval_precision",
    "sum_correlation",
    "transfer_accuracy",
]
