"""Node vectors from a graph: node2vec walks, then skip-gram or PPMI + truncated SVD on them.

node2vec (Grover & Leskovec 2016) treats random walks as sentences and trains skip-gram on
them; DeepWalk (Perozzi et al. 2014) is the case p = q = 1. The PPMI route factorises the
walks' window co-occurrences instead (the matrix skip-gram factorises implicitly; Qiu et al.
2018, "Network embedding as matrix factorization", for DeepWalk). Nodes that no walk visits
(isolated nodes) get no vector and are left out of the result.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import CrossviewError
from .graph import read_graph
from .vectors import Embedding
from .walks import node2vec_walks, walks_as_sentences
from .words import cooccurrence, ppmi, skipgram_vectors, svd_vectors

METHODS = ("skipgram", "ppmi")


def node_vectors(
    graph,
    *,
    method: str = "skipgram",
    dim: int = 128,
    n_walks: int = 10,
    walk_length: int = 80,
    p: float = 1.0,
    q: float = 1.0,
    window: int = 10,
    epochs: int = 1,
    negative: int = 5,
    workers: int | None = None,
    random_state=None,
    verbose: bool = True,
) -> Embedding:
    """Embed the nodes of ``graph`` (a path to an edge list, a SciPy sparse adjacency, a
    networkx graph or a :class:`~crossview.embed.graph.Graph`) from node2vec walks.

    ``n_walks`` walks of ``walk_length`` steps start at every node, biased by the return
    parameter ``p`` and the in-out parameter ``q``; ``method="skipgram"`` trains gensim's
    skip-gram (``window``, ``negative``, ``epochs``; needs the ``embed`` extra), ``"ppmi"``
    factorises the walks' PPMI matrix (no extra library). Keys are the graph's node names.
    """
    if method not in METHODS:
        raise CrossviewError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    g = read_graph(graph)
    walks = node2vec_walks(
        g,
        n_walks=n_walks,
        walk_length=walk_length,
        p=p,
        q=q,
        random_state=random_state,
        verbose=verbose,
    )
    if method == "skipgram":
        return skipgram_vectors(
            walks_as_sentences(walks, g.keys),
            dim=dim,
            window=window,
            min_count=1,
            negative=negative,
            epochs=epochs,
            workers=workers,
            random_state=random_state,
            verbose=verbose,
        )
    n = len(g.keys)
    ids = np.concatenate([walks, np.full((walks.shape[0], 1), -1, dtype=walks.dtype)], axis=1)
    counts = cooccurrence(ids.ravel(), n, window)
    seen = np.flatnonzero(np.diff(counts.indptr) > 0)
    counts = counts[seen][:, seen]
    vectors = svd_vectors(ppmi(counts), dim, random_state=random_state)
    return Embedding([g.keys[i] for i in seen], vectors)
