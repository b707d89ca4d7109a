"""Supervised clustering of sets: a category for every item and clusters within each set,
learned from permutation-invariant cluster ids."""

from .base import SetArrays, SetClusteringModel, check_sets, pad_sets
from .decode import decode_clusters

__all__ = [
    "SetArrays",
    "SetClusteringModel",
    "SetClusterer",
    "check_sets",
    "decode_clusters",
    "pad_sets",
]


def __getattr__(name):  # the torch-based estimator is imported on first use
    if name == "SetClusterer":
        from .set_clusterer import SetClusterer

        return SetClusterer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
