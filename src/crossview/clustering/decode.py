"""Turn a set's pairwise "same cluster?" probabilities into clusters that never mix categories."""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform

from .base import first_appearance

#: the values of ``decode=``: average-linkage agglomerative clustering on 1 - P(same) cut at a
#: distance threshold, or connected components of the graph P(same) > 1 - threshold
DECODERS = ("average", "components")


def decode_clusters(
    P: np.ndarray, categories: np.ndarray, threshold: float = 0.5, method: str = "average"
) -> np.ndarray:
    """Cluster the items of one set from their pairwise probabilities of being together.

    ``P`` is the (n, n) matrix of P(same cluster), ``categories`` the (predicted) category of
    each item. Items of different categories are never put together: each category's items are
    clustered on their own, by average-linkage agglomerative clustering on the distance
    1 - P cut at ``threshold`` (``method="average"``; merges stop when the mean distance
    between two clusters exceeds it), or as the connected components of the graph with an edge
    where 1 - P < ``threshold`` (``method="components"``). The number of clusters follows from
    the threshold. Returns cluster ids numbered 0, 1, ... by first appearance.
    """
    n = len(categories)
    out = np.empty(n, dtype=np.int64)
    offset = 0
    for c in np.unique(categories):
        idx = np.flatnonzero(categories == c)
        if len(idx) == 1:
            labels = np.zeros(1, dtype=np.int64)
        else:
            D = 1.0 - P[np.ix_(idx, idx)].astype(np.float64)
            D = (D + D.T) / 2
            np.fill_diagonal(D, 0.0)
            np.clip(D, 0.0, 1.0, out=D)
            if method == "average":
                Z = linkage(squareform(D, checks=False), method="average")
                labels = fcluster(Z, t=threshold, criterion="distance") - 1
            else:
                adj = csr_matrix(D < threshold)
                labels = connected_components(adj, directed=False)[1]
        out[idx] = labels + offset
        offset += int(labels.max()) + 1
    return first_appearance(out)
