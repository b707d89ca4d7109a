"""node2vec random walks over a graph, vectorised over all walkers with NumPy.

node2vec (Grover & Leskovec 2016, "node2vec: Scalable feature learning for networks",
sec. 3.2) walks a graph with a second-order bias: a walker that came from ``t`` to ``v`` steps
to a neighbour ``x`` of ``v`` with unnormalised probability ``pi_vx = alpha_pq(t, x) * w_vx``,
where the search bias (sec. 3.2.2) ``alpha_pq(t, x)`` is ``1/p`` if ``x == t`` (return), ``1``
if ``x`` is a neighbour of ``t`` (``d_tx = 1``) and ``1/q`` otherwise (``d_tx = 2``, moving
outward). The first step from the start node is first-order (``pi_vx = w_vx``). DeepWalk
(Perozzi et al. 2014) is the case ``p = q = 1``: every step first-order, proportional to the
edge weights.

Instead of node2vec's precomputed alias table per edge pair (memory ~ the sum of squared
degrees), the second-order step uses rejection sampling, as KnightKing does (Yang et al. 2019,
"KnightKing: a fast distributed graph random walk engine", SOSP): propose ``x`` from the
first-order distribution of ``v`` and accept it with probability ``alpha_pq(t, x) / A``, ``A =
max(1/p, 1, 1/q)``; the walkers that were rejected propose again. The accepted node has
exactly node2vec's distribution. When the return is the one large bias (``1/p > max(1, 1/q)
= B``), it is folded out of the envelope as in KnightKing's outlier folding: a walker picks
the return to ``t`` with mass ``w_vt / p`` (always accepted) or a proposal ``x`` with mass
``W_v * B`` (``W_v`` the total weight out of ``v``), accepted with probability
``alpha_pq(t, x) / B`` if ``x != t`` and never if ``x == t``. This envelope, ``w_vt / p + W_v *
B``, is used for each walker where it is smaller than ``A * W_v``; either way the accepted
node is exact.

Every operation is on whole arrays of walkers. A first-order proposal is ``floor(u * degree)``
into the row when each row's weights are equal, else one ``searchsorted`` into per-row
cumulative weights (queries sorted first when there are many, which keeps the search in
cache). "Is ``x`` a neighbour of ``t``" looks the code ``t * n + x`` up in a hash table of the
codes ``row * n + col`` of the CSR entries, about one memory access a query. Python loops run
only over steps, rejection rounds and chunks of walkers.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from ..exceptions import CrossviewError
from .graph import Graph, read_graph

#: the value that pads a walk after it reaches a node with no out-edges
PAD = -1
_SORT_QUERIES = 16384  # batches larger than this are sorted before a binary search


def node2vec_walks(
    graph,
    *,
    n_walks: int = 10,
    walk_length: int = 80,
    p: float = 1.0,
    q: float = 1.0,
    random_state=None,
    verbose: bool = True,
    chunk_size: int = 100_000,
) -> np.ndarray:
    """Return node2vec's biased second-order random walks (Grover & Leskovec 2016, sec. 3.2.2).

    ``graph`` is anything :func:`~crossview.embed.graph.read_graph` reads (a Graph, an
    edge-list path, a sparse adjacency, a networkx graph). The result is an integer array of
    shape ``(n_walks * n_nodes, walk_length)`` (int32, or int64 for more than 2**31 - 1 nodes)
    of node indices into ``graph.keys``; column 0 is the start node, so a walk visits
    ``walk_length`` nodes. Walks come in ``n_walks`` rounds of ``n_nodes`` rows; each round
    starts one walk at every node, in a freshly shuffled order, so every node starts exactly
    ``n_walks`` walks.

    ``p`` is the return parameter and ``q`` the in-out parameter (weight ``1/p`` to step back
    to the previous node, ``1`` to one of its neighbours, ``1/q`` outward); ``p = q = 1`` is
    DeepWalk, taken by a faster first-order path. Steps are proportional to edge weights. A
    walk that reaches a node with no out-edges (an isolated node, or a sink of a directed
    graph) stops there: the rest of its row is ``-1`` (:data:`PAD`);
    :func:`walks_as_sentences` drops the padding.

    The same ``random_state`` (and ``chunk_size``, the number of walkers advanced together,
    which bounds the working memory) gives identical walks; the global NumPy random state is
    never touched. ``verbose`` shows a progress bar over the steps.
    """
    n_walks = _positive_int(n_walks, "n_walks")
    walk_length = _positive_int(walk_length, "walk_length")
    chunk_size = _positive_int(chunk_size, "chunk_size")
    p = _positive_float(p, "p")
    q = _positive_float(q, "q")
    g = read_graph(graph)
    walker = _Walker(_canonical(g), p, q, directed=g.directed)
    n = walker.n
    rng = np.random.default_rng(random_state)
    starts = np.concatenate([rng.permutation(n) for _ in range(n_walks)])
    dtype = np.int32 if n <= np.iinfo(np.int32).max else np.int64
    out = np.empty((starts.size, walk_length), dtype=dtype)
    chunks = range(0, starts.size, chunk_size)

    from tqdm.auto import tqdm

    with tqdm(
        total=len(chunks) * (walk_length - 1),
        desc="node2vec walks" if walker.second_order else "DeepWalk walks",
        unit="step",
        disable=not verbose,
    ) as bar:
        for c0 in chunks:
            block = walker.walk(starts[c0 : c0 + chunk_size], walk_length, rng, bar, dtype)
            out[c0 : c0 + block.shape[1]] = block.T
    return out


def walks_as_sentences(walks: np.ndarray, keys: list[str]) -> list[list[str]]:
    """Turn walks of node indices into lists of node keys (gensim's sentences), dropping -1.

    ``walks`` is the output of :func:`node2vec_walks` (any 2-D integer array of indices into
    ``keys``, ``-1`` for padding); ``keys`` the graph's node names (``Graph.keys``).
    """
    W = np.asarray(walks)
    if W.ndim != 2 or W.dtype.kind not in "iu":
        raise CrossviewError(
            f"walks must be a 2-D integer array (walks, steps); got {W.ndim}-D {W.dtype}"
        )
    keys = list(keys)
    if W.size and (W.min() < PAD or W.max() >= len(keys)):
        raise CrossviewError(
            f"walks hold node indices from {W.min()} to {W.max()}; expected -1 (padding) or "
            f"0 to {len(keys) - 1} (one per key)"
        )
    table = np.empty(len(keys), dtype=object)
    table[:] = keys
    valid = W >= 0
    sentences = table[np.where(valid, W, 0)].tolist() if keys else [[] for _ in range(len(W))]
    for i in np.flatnonzero(~valid.all(axis=1)):
        sentences[i] = table[W[i][valid[i]]].tolist()
    return sentences


class _Walker:
    """Advances arrays of walkers one step at a time over a canonical CSR adjacency."""

    def __init__(self, A: sp.csr_array, p: float, q: float, directed: bool):
        n = A.shape[0]
        self.n = n
        self.directed = directed
        self.indptr = A.indptr.astype(np.int64, copy=False)
        self.indices = A.indices.astype(np.int64, copy=False)
        self.data = np.asarray(A.data, dtype=np.float64)
        self.deg = np.diff(self.indptr)
        self.last = self.indptr[1:] - 1  # last entry of each row (for clipping proposals)
        row = np.repeat(np.arange(n, dtype=np.int64), self.deg)
        self.rowsum = np.bincount(row, weights=self.data, minlength=n)
        # Each row's weights equal (e.g. unweighted): propose with floor(u * degree).
        data = self.data
        self.uniform = bool(np.all(data == data[self.indptr[row]])) if data.size else True
        if not self.uniform:
            # Per-row cumulative probabilities in (0, 1], offset by the row number, so the
            # whole array is sorted and one searchsorted of (v + u) lands in row v.
            full = self.deg > 0
            cum = np.cumsum(data / self.rowsum[row])
            first = self.indptr[:-1][full]
            before = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
            cum -= np.repeat(before, self.deg[full])
            cum[self.last[full]] = 1.0
            self.key = row + cum
        self.second_order = not (p == 1.0 and q == 1.0)
        self.inv_p, self.inv_q = 1.0 / p, 1.0 / q
        self.low = min(1.0, self.inv_q)  # bias of x != t: 1 or 1/q, so low <= alpha <= bound
        self.bound = max(1.0, self.inv_q)
        self.amax = max(self.inv_p, self.bound)
        if self.second_order:
            self.edges = _EdgeSet(row * n + self.indices)

    def propose(self, v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """First-order proposals: the CSR position of an out-edge of each ``v`` (degree > 0)."""
        return self._propose(v, self.indptr[v], self._span(v), rng)

    def _span(self, v: np.ndarray) -> np.ndarray:
        """What :meth:`_propose` needs besides the row start: the degree, or the last entry."""
        return self.deg[v] if self.uniform else self.last[v]

    def _propose(self, v, start, span, rng: np.random.Generator) -> np.ndarray:
        u = rng.random(v.size)
        if self.uniform:
            return start + np.minimum((u * span).astype(np.int64), span - 1)
        target = v + u
        if target.size > _SORT_QUERIES:  # sorted queries walk the keys in order: fewer misses
            order = np.argsort(target)
            pos = np.empty(target.size, dtype=np.int64)
            pos[order] = np.searchsorted(self.key, target[order], side="right")
        else:
            pos = np.searchsorted(self.key, target, side="right")
        return np.clip(pos, start, span)

    def find(self, t: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The CSR position of each edge ``t -> x``, or -1 where there is none."""
        return self.edges.find(t * self.n + x)

    def second(
        self, v: np.ndarray, t: np.ndarray, w_in: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """node2vec steps from ``v`` having come from ``t``: the next nodes and edge weights.

        Rejection sampling, with the return folded out where that is the smaller envelope
        (module docstring). ``w_in`` is the weight of each edge ``t -> v`` just taken: the
        weight back, when undirected. Quantities are scaled by ``W_v``, so a uniform ``s`` on
        ``[-back mass, W_v * bound)`` picks the return when negative, else accepts a proposal
        ``x`` when ``s < W_v * alpha(t, x)``.
        """
        if self.directed:
            back = self.find(v, t)
            w_back = np.where(back >= 0, self.data[back], 0.0)
        else:
            w_back = w_in
        start, span, total = self.indptr[v], self._span(v), self.rowsum[v]
        fold = w_back * self.inv_p + total * self.bound < total * self.amax
        back_mass = np.where(fold, w_back * self.inv_p, 0.0)
        envelope = back_mass + total * np.where(fold, self.bound, self.amax)
        t_cut = np.where(fold, 0.0, total * self.inv_p)  # a proposal x == t: accepted below
        nxt = np.empty(v.size, dtype=np.int64)
        weight = np.empty(v.size)
        idx = np.arange(v.size)
        every = (v, t, start, span, total, back_mass, envelope, w_back, t_cut)
        state = every
        while idx.size:
            if idx.size < v.size:
                state = tuple(a[idx] for a in every)
            vi, ti, start_i, span_i, total_i, back_i, env_i, w_back_i, t_cut_i = state
            s = rng.random(idx.size) * env_i - back_i
            pos = self._propose(vi, start_i, span_i, rng)
            x = self.indices[pos]
            ret = s < 0
            to_t = x == ti
            ok = np.where(to_t, s < t_cut_i, s < total_i * self.low)
            unsure = np.flatnonzero(~ok & ~to_t & ~ret & (s < total_i * self.bound))
            if unsure.size:
                near = self.find(ti[unsure], x[unsure]) >= 0
                ok[unsure] = s[unsure] < total_i[unsure] * np.where(near, 1.0, self.inv_q)
            done = ret | ok
            hit = idx[done]
            nxt[hit] = np.where(ret, ti, x)[done]
            weight[hit] = np.where(ret, w_back_i, self.data[pos])[done]
            idx = idx[~done]
        return nxt, weight

    def walk(self, starts: np.ndarray, length: int, rng: np.random.Generator, bar, dtype):
        """Walks of ``length`` nodes from ``starts``, as a (length, walkers) array, -1 padded."""
        block = np.full((length, starts.size), PAD, dtype=dtype)
        block[0] = starts
        live = np.arange(starts.size)
        cur = starts.astype(np.int64)
        prev = cur
        w_prev = np.zeros(cur.size)
        for step in range(1, length):
            moving = self.deg[cur] > 0
            if not moving.all():
                live, cur, prev, w_prev = live[moving], cur[moving], prev[moving], w_prev[moving]
            if live.size:
                if step == 1 or not self.second_order:
                    pos = self.propose(cur, rng)
                    nxt, w_next = self.indices[pos], self.data[pos]
                else:
                    nxt, w_next = self.second(cur, prev, w_prev, rng)
                block[step, live] = nxt
                prev, cur, w_prev = cur, nxt, w_next
            bar.update(1)
        return block


class _EdgeSet:
    """A hash table of edge codes ``row * n + col`` to CSR positions (open addressing).

    Linear probing in a power-of-two table at most half full, Fibonacci hashing (Knuth, TAOCP
    vol. 3, sec. 6.4); built and queried with whole-array operations, one loop pass per probe.
    A lookup is about one random memory access, where a binary search over all edges is ~20.
    """

    _MUL = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio

    def __init__(self, codes: np.ndarray):
        bits = max(4, int(np.ceil(np.log2(2 * max(codes.size, 1)))))
        self.shift = np.uint64(64 - bits)
        self.mask = (1 << bits) - 1
        self.keys = np.full(1 << bits, -1, dtype=np.int64)
        self.pos = np.zeros(1 << bits, dtype=np.int64)
        slot = self._hash(codes)
        pending = np.arange(codes.size)
        while pending.size:
            free = self.keys[slot] == -1
            # several codes may want the same free slot: the first takes it, the rest retry
            won_slot, first = np.unique(slot[free], return_index=True)
            winners = np.flatnonzero(free)[first]
            self.keys[won_slot] = codes[pending[winners]]
            self.pos[won_slot] = pending[winners]
            placed = np.zeros(pending.size, dtype=bool)
            placed[winners] = True
            slot = np.where(free, slot, (slot + 1) & self.mask)[~placed]
            pending = pending[~placed]

    def _hash(self, codes: np.ndarray) -> np.ndarray:
        return ((codes.astype(np.uint64) * self._MUL) >> self.shift).astype(np.int64)

    def find(self, codes: np.ndarray) -> np.ndarray:
        """The CSR position of each code, or -1 where it is not an edge."""
        out = np.full(codes.size, -1, dtype=np.int64)
        slot = self._hash(codes)
        active = np.arange(codes.size)
        while active.size:
            seen = self.keys[slot]
            hit = seen == codes
            out[active[hit]] = self.pos[slot[hit]]
            go_on = (seen != -1) & ~hit
            active, slot, codes = active[go_on], (slot[go_on] + 1) & self.mask, codes[go_on]
        return out


def _canonical(g: Graph) -> sp.csr_array:
    """The adjacency as a csr_array with sorted indices and no duplicate entries."""
    A = g.adjacency
    if not isinstance(A, sp.csr_array):
        A = sp.csr_array(A)
    if not A.has_canonical_format:
        A = A.copy()
        A.sum_duplicates()
    if A.data.size and (not np.all(np.isfinite(A.data)) or A.data.min() < 0):
        raise CrossviewError("graph weights must be finite and >= 0; build it with read_graph")
    if A.data.size and np.any(A.data == 0):
        A = A.copy()
        A.eliminate_zeros()
    return A


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise CrossviewError(f"{name} must be an integer >= 1; got {value!r}")
    return int(value)


def _positive_float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise CrossviewError(f"{name} must be a number > 0; got {value!r}")
    value = float(value)
    if not (np.isfinite(value) and value > 0):
        raise CrossviewError(f"{name} must be a finite number > 0; got {value!r}")
    return value
