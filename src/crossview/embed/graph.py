"""Graphs for node embeddings: a weighted adjacency (CSR) with a string key per node.

:func:`read_graph` turns an edge-list file, a SciPy sparse (or dense NumPy) adjacency, or a
networkx graph into one :class:`Graph`, always in the same canonical form, so the walks of
:mod:`crossview.embed.walks` never have to look at where a graph came from:

- ``adjacency`` is a ``scipy.sparse.csr_array`` of float64 weights, square, with sorted column
  indices, no duplicate entries and no stored zeros; row ``i`` holds the out-edges of node
  ``keys[i]``;
- an undirected graph is stored symmetric (each edge in both rows);
- duplicate edges (the same pair listed twice, a pair given in both directions of an undirected
  graph, a matrix whose ``A[i, j]`` and ``A[j, i]`` differ, parallel edges of a networkx
  multigraph) keep the **largest** weight. Summing would double every edge of a symmetric
  matrix read as undirected, and would make ``u v`` + ``v u`` a heavier edge than ``u v``;
- self-loops are kept (a walk may stay on a node for a step); an undirected self-loop is
  stored once, on the diagonal;
- weights must be finite and >= 0; edges of weight 0 are dropped (a walk can never take them),
  though their nodes stay in the graph.

Every problem with the input raises a one-line :class:`~crossview.exceptions.CrossviewError`;
an edge-list error names the file and the line. networkx is not imported here: a networkx
graph is recognised by its class and read through its own methods.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..datasets._text import open_text
from ..exceptions import CrossviewError
from ..fileio import atomic_write


@dataclass(frozen=True, eq=False)
class Graph:
    """A graph as a weighted adjacency (``csr_array``, float64) and one string key per node.

    Build one with :func:`read_graph`, which puts the adjacency in canonical form (sorted
    indices, no duplicates, symmetric when undirected). The dataclass is frozen, but the
    arrays inside the adjacency are not copied: treat them as read-only.
    """

    adjacency: sp.csr_array
    keys: list[str]
    directed: bool = False

    def __post_init__(self):
        shape = self.adjacency.shape
        if len(shape) != 2 or shape[0] != shape[1]:
            raise CrossviewError(f"graph adjacency must be square (n, n); got shape {shape}")
        if len(self.keys) != shape[0]:
            raise CrossviewError(
                f"graph has {len(self.keys)} keys for {shape[0]} nodes; expected one key per node"
            )

    @property
    def n_nodes(self) -> int:
        """Number of nodes (rows of the adjacency)."""
        return int(self.adjacency.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of edges: stored entries if directed, else pairs (a self-loop counts once)."""
        nnz = int(self.adjacency.nnz)
        if self.directed:
            return nnz
        loops = int(np.count_nonzero(self.adjacency.diagonal()))
        return (nnz - loops) // 2 + loops

    def index(self) -> dict[str, int]:
        """Map each node key to its row."""
        return {k: i for i, k in enumerate(self.keys)}


def read_graph(
    source,
    *,
    directed: bool = False,
    weighted: bool | None = None,
    delimiter: str | None = None,
    comments: str | None = "#",
    keys: list[str] | None = None,
) -> Graph:
    """Read a graph from an edge-list file, a sparse or dense adjacency, or a networkx graph.

    ``source`` may be:

    - a path to an edge-list text file (optionally ``.gz``): one edge ``u v`` or ``u v weight``
      per line, fields split on whitespace or on ``delimiter``; node names are strings, keyed
      in order of first appearance; blank lines and lines starting with ``comments`` (after
      leading whitespace) are skipped. ``weighted=None`` takes the number of fields of the
      first edge line (2 or 3) for every line; ``True`` needs a weight on every line;
      ``False`` accepts 2 or 3 fields and gives every edge weight 1;
    - a SciPy sparse matrix/array or a 2-D NumPy array: ``A[i, j]`` is the weight of edge
      i -> j; keys are ``"0"`` ... ``"n-1"`` unless ``keys`` names the nodes;
      ``weighted=False`` gives every stored non-zero weight 1;
    - a networkx ``Graph`` / ``DiGraph`` (or multigraph): keys are ``str(node)`` in the graph's
      node order (isolated nodes included), weights the ``"weight"`` edge attribute (default
      1, or always 1 with ``weighted=False``);
    - a :class:`Graph`: returned as is, whatever the other arguments say.

    ``directed=False`` symmetrises (the larger weight wins where the two directions differ);
    see the module docstring for duplicates, self-loops and zero weights.
    """
    if isinstance(source, Graph):
        return source
    if weighted not in (None, True, False):
        raise CrossviewError(f"weighted must be None, True or False; got {weighted!r}")
    if keys is not None and not (sp.issparse(source) or isinstance(source, np.ndarray)):
        raise CrossviewError(
            "keys= names the nodes of a sparse or dense adjacency only; an edge list or a "
            "networkx graph carries its own node names"
        )
    if isinstance(source, str | os.PathLike):
        return _read_edgelist(Path(source), directed, weighted, delimiter, comments)
    if sp.issparse(source) or isinstance(source, np.ndarray):
        return _from_matrix(source, directed, weighted, keys)
    if _is_networkx(source):
        return _from_networkx(source, directed, weighted)
    raise CrossviewError(
        f"cannot read a graph from {type(source).__name__}; expected a path to an edge list, "
        "a SciPy sparse matrix, a NumPy array, a networkx graph or a crossview Graph"
    )


def write_edgelist(
    graph: Graph,
    path: Path | str,
    *,
    delimiter: str | None = None,
    weighted: bool | None = None,
) -> Path:
    """Write ``graph`` as an edge-list text file (atomically) that :func:`read_graph` reads back.

    One ``u v`` or ``u v weight`` line per edge (an undirected edge once, ``u`` the lower row),
    after a ``#`` comment line describing the graph. Fields are joined by ``delimiter`` (a
    space when ``None``; read back with the same ``delimiter``). ``weighted=None`` writes
    weights unless every weight is 1. Isolated nodes have no line, so they are not written.
    Weights are written with ``repr``, so they read back exactly.
    """
    if not isinstance(graph, Graph):
        raise CrossviewError(
            f"write_edgelist needs a crossview Graph; got {type(graph).__name__} "
            "(turn it into one with read_graph)"
        )
    sep = " " if delimiter is None else delimiter
    if not sep or sep in "\r\n":
        raise CrossviewError(
            f"delimiter {delimiter!r} cannot separate fields; use e.g. ' ' or '\\t'"
        )
    for k in graph.keys:
        bad = (not k) or (any(c.isspace() for c in k) if delimiter is None else sep in k)
        if bad or "\n" in k or "\r" in k:
            shown = "whitespace" if delimiter is None else f"the delimiter {sep!r}"
            raise CrossviewError(
                f"node key {k!r} is empty or holds {shown} or a line break; it cannot be written "
                "as an edge-list field (choose another delimiter)"
            )
        if k.lstrip().startswith("#"):
            raise CrossviewError(
                f"node key {k!r} starts with '#', which an edge-list reader takes for a comment"
            )
    A = sp.coo_array(graph.adjacency)
    rows, cols, w = A.row, A.col, np.asarray(A.data, dtype=np.float64)
    if not graph.directed:
        keep = rows <= cols
        rows, cols, w = rows[keep], cols[keep], w[keep]
    order = np.lexsort((cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    if weighted is None:
        weighted = bool(np.any(w != 1.0))
    kind = "directed" if graph.directed else "undirected"
    lines = [f"# crossview edge list: {graph.n_nodes} nodes, {len(w)} edges, {kind}"]
    keys = graph.keys
    if weighted:
        lines += [f"{keys[i]}{sep}{keys[j]}{sep}{x!r}" for i, j, x in zip(rows, cols, w.tolist())]
    else:
        lines += [f"{keys[i]}{sep}{keys[j]}" for i, j in zip(rows, cols)]
    path = Path(path)
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- building the canonical form ----------------------------------------------------------


def _check_keys(keys, n: int, where: str) -> list[str]:
    """Return ``keys`` as a list of unique strings, one per node, or raise naming the problem."""
    keys = list(keys)
    if len(keys) != n:
        raise CrossviewError(f"{where}: {len(keys)} keys for {n} nodes; expected one key per node")
    if not all(isinstance(k, str) for k in keys):
        bad = next(k for k in keys if not isinstance(k, str))
        raise CrossviewError(f"{where}: node key {bad!r} is not a string; expected strings")
    if len(set(keys)) != n:
        seen: set[str] = set()
        dup = next(k for k in keys if k in seen or seen.add(k))
        raise CrossviewError(
            f"{where}: node key {dup!r} occurs more than once; keys must be unique"
        )
    return keys


def _build(rows, cols, weights, keys: list[str], directed: bool, where: str) -> Graph:
    """The canonical :class:`Graph` of edges (rows -> cols, weights): see the module docstring."""
    n = len(keys)
    if n == 0:
        raise CrossviewError(f"{where} has no nodes; expected at least one")
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    w = np.asarray(weights, dtype=np.float64)
    if not np.all(np.isfinite(w)):
        raise CrossviewError(
            f"{where} has {np.count_nonzero(~np.isfinite(w))} non-finite edge weights (NaN or "
            "inf); expected finite weights >= 0"
        )
    if np.any(w < 0):
        raise CrossviewError(
            f"{where} has {np.count_nonzero(w < 0)} negative edge weights (smallest {w.min():g}); "
            "expected weights >= 0"
        )
    keep = w > 0
    rows, cols, w = rows[keep], cols[keep], w[keep]
    if not directed:
        rows, cols = np.concatenate([rows, cols]), np.concatenate([cols, rows])
        w = np.concatenate([w, w])
    code = rows * n + cols
    order = np.argsort(code, kind="stable")
    code, w = code[order], w[order]
    if code.size:
        starts = np.flatnonzero(np.concatenate([[True], code[1:] != code[:-1]]))
        w = np.maximum.reduceat(w, starts)
        code = code[starts]
    rows, cols = np.divmod(code, n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    A = sp.csr_array((w, cols, indptr), shape=(n, n))
    A.has_sorted_indices = True
    return Graph(A, keys, directed=directed)


def _from_matrix(M, directed: bool, weighted: bool | None, keys) -> Graph:
    """A graph from a sparse or dense adjacency: ``M[i, j]`` is the weight of edge i -> j."""
    where = "the adjacency matrix"
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise CrossviewError(f"{where} has shape {M.shape}; expected a square (n, n) matrix")
    if M.dtype.kind not in "biuf":
        raise CrossviewError(f"{where} holds dtype {M.dtype}; expected real numbers")
    n = M.shape[0]
    keys = [str(i) for i in range(n)] if keys is None else _check_keys(keys, n, where)
    A = sp.coo_array(M)
    w = np.asarray(A.data, dtype=np.float64)
    if weighted is False:
        w = np.where(w != 0, 1.0, 0.0)  # non-finite or negative entries still count as edges
    return _build(A.row, A.col, w, keys, directed, where)


def _is_networkx(obj) -> bool:
    """True for a networkx graph, checked without importing networkx."""
    from_networkx = any(c.__module__.split(".")[0] == "networkx" for c in type(obj).__mro__)
    return from_networkx and hasattr(obj, "is_directed") and hasattr(obj, "edges")


def _from_networkx(G, directed: bool, weighted: bool | None) -> Graph:
    """A graph from a networkx graph: keys ``str(node)``, weights the ``"weight"`` attribute."""
    where = f"the networkx {type(G).__name__}"
    nodes = list(G.nodes)
    keys = _check_keys([str(v) for v in nodes], len(nodes), where)
    index = {v: i for i, v in enumerate(nodes)}
    rows, cols, w = [], [], []
    for u, v, x in G.edges(data="weight", default=1.0):
        rows.append(index[u])
        cols.append(index[v])
        w.append(1.0 if weighted is False else x)
    try:
        weights = np.asarray(w, dtype=np.float64)
    except (TypeError, ValueError):
        bad = next(x for x in w if not _is_number(x))
        raise CrossviewError(
            f"{where} has an edge weight {bad!r} that is not a number; expected numbers >= 0"
        ) from None
    rows_a, cols_a = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    if directed and not G.is_directed():
        rows_a, cols_a = np.concatenate([rows_a, cols_a]), np.concatenate([cols_a, rows_a])
        weights = np.concatenate([weights, weights])
    return _build(rows_a, cols_a, weights, keys, directed, where)


def _is_number(x) -> bool:
    try:
        float(x)
    except (TypeError, ValueError):
        return False
    return True


# --- edge-list files ------------------------------------------------------------------------


def _read_edgelist(
    path: Path, directed: bool, weighted: bool | None, delimiter: str | None, comments
) -> Graph:
    """Parse an edge-list file; every problem is an error naming the file and the line."""
    if not path.exists():
        raise CrossviewError(f"{path}: no such edge-list file")
    if path.is_dir():
        raise CrossviewError(f"{path} is a folder; expected an edge-list file")
    if delimiter == "":
        raise CrossviewError("delimiter is empty; expected None (whitespace) or a string")
    index: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    weights: list[float] = []
    n_fields = 3 if weighted is True else None
    gz = path.suffix.lower() == ".gz"
    try:
        with open_text(path, gz) as f:
            for lineno, line in enumerate(f, start=1):
                text = line.strip()
                if not text or (comments and text.startswith(comments)):
                    continue
                fields = (
                    text.split()
                    if delimiter is None
                    else [c.strip() for c in text.split(delimiter)]
                )
                k = len(fields)
                if n_fields is None and weighted is None:
                    n_fields = k if k in (2, 3) else None
                ok = k in (2, 3) if weighted is False else k == n_fields
                if not ok:
                    raise CrossviewError(
                        f"{path}, line {lineno}: {_field_message(k, weighted, n_fields)}"
                    )
                u, v = fields[0], fields[1]
                if not u or not v:
                    raise CrossviewError(f"{path}, line {lineno}: empty node name")
                if k == 3 and weighted is not False:
                    try:
                        x = float(fields[2])
                    except ValueError:
                        raise CrossviewError(
                            f"{path}, line {lineno}: weight {fields[2]!r} is not a number"
                        ) from None
                    if not np.isfinite(x) or x < 0:
                        raise CrossviewError(
                            f"{path}, line {lineno}: weight {fields[2]!r}; expected a finite "
                            "number >= 0"
                        )
                else:
                    x = 1.0
                rows.append(index.setdefault(u, len(index)))
                cols.append(index.setdefault(v, len(index)))
                weights.append(x)
    except UnicodeDecodeError as exc:
        raise CrossviewError(
            f"{path} is not UTF-8 text ({exc.reason}); expected an edge list"
        ) from None
    except OSError as exc:
        if isinstance(exc, PermissionError):
            raise
        raise CrossviewError(f"{path} cannot be read ({exc.strerror or exc})") from None
    if not rows:
        raise CrossviewError(f"{path} holds no edges; expected lines 'u v' or 'u v weight'")
    return _build(rows, cols, weights, list(index), directed, str(path))


def _field_message(k: int, weighted: bool | None, n_fields: int | None) -> str:
    """What was wrong with a line of ``k`` fields, and what was expected."""
    if weighted is True:
        want = "3 fields (u v weight)"
    elif weighted is False or n_fields is None:
        want = "2 fields (u v) or 3 (u v weight)"
    elif n_fields == 2:
        want = "2 fields (u v), like the first edge line"
    else:
        want = "3 fields (u v weight), like the first edge line"
    return f"found {k} field{'s' if k != 1 else ''}; expected {want}"
