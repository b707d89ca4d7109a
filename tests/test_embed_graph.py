"""read_graph / write_edgelist and node2vec_walks: inputs, canonical form, exact walk statistics."""

from __future__ import annotations

import gzip

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from crossview.embed.graph import Graph, read_graph, write_edgelist
from crossview.embed.walks import PAD, node2vec_walks, walks_as_sentences
from crossview.exceptions import CrossviewError


def dense(g: Graph, order: list[str]) -> np.ndarray:
    """The adjacency of ``g`` as a dense array with rows and columns in the key order given."""
    idx = [g.index()[k] for k in order]
    return g.adjacency.toarray()[np.ix_(idx, idx)]


def write(tmp_path, text: str, name: str = "g.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- reading graphs --------------------------------------------------------------------------


def test_unweighted_edge_list_with_comments_and_blank_lines(tmp_path):
    path = write(
        tmp_path, "# a triangle and a tail\n\na b\n  # indented comment\nb c\nc a\n\nc d\n"
    )
    g = read_graph(path)
    assert g.keys == ["a", "b", "c", "d"]  # order of first appearance
    assert isinstance(g.adjacency, sp.csr_array) and g.adjacency.dtype == np.float64
    A = g.adjacency.toarray()
    expected = np.array([[0, 1, 1, 0], [1, 0, 1, 0], [1, 1, 0, 1], [0, 0, 1, 0]], float)
    np.testing.assert_array_equal(A, expected)
    assert not g.directed and g.n_nodes == 4 and g.n_edges == 4
    gd = read_graph(path, directed=True)
    assert gd.directed and gd.n_edges == 4
    directed = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1], [0, 0, 0, 0]], float)
    np.testing.assert_array_equal(gd.adjacency.toarray(), directed)


def test_weighted_edge_list_keeps_the_largest_duplicate_and_self_loops_once(tmp_path):
    path = write(tmp_path, "u v 2.5\nv w 1\nv u 4\nu v 0.5\nw w 3\nw x 0\n")
    g = read_graph(path)
    A = dense(g, ["u", "v", "w", "x"])
    np.testing.assert_array_equal(
        A, [[0, 4, 0, 0], [4, 0, 1, 0], [0, 1, 3, 0], [0, 0, 0, 0]]
    )  # u-v: max of 2.5, 4, 0.5; the zero-weight edge w-x is dropped but x stays a node
    assert g.n_edges == 3 and g.adjacency.nnz == 5
    assert g.adjacency.has_sorted_indices
    gd = read_graph(path, directed=True)
    assert gd.adjacency[0, 1] == 2.5 and gd.adjacency[1, 0] == 4
    # weighted=False: the third column is ignored
    np.testing.assert_array_equal(read_graph(path, weighted=False).adjacency.data, 1.0)


def test_edge_list_errors_name_the_file_and_line(tmp_path):
    path = write(tmp_path, "# header\na b\nb c d e\n")
    with pytest.raises(CrossviewError, match=r"g\.txt, line 3: found 4 fields; expected 2"):
        read_graph(path)
    path = write(tmp_path, "a b 1\nb c\n")
    with pytest.raises(CrossviewError, match=r"line 2: found 2 fields; expected 3 .*first edge"):
        read_graph(path)
    path = write(tmp_path, "a b\n\nb c\n")
    with pytest.raises(CrossviewError, match=r"line 1: found 2 fields; expected 3 fields"):
        read_graph(path, weighted=True)
    path = write(tmp_path, "a b 1\nb c heavy\n")
    with pytest.raises(CrossviewError, match=r"line 2: weight 'heavy' is not a number"):
        read_graph(path)
    for bad in ("-1", "nan", "inf"):
        path = write(tmp_path, f"a b 1\n# c\nb c {bad}\n")
        with pytest.raises(CrossviewError, match=rf"line 3: weight '{bad}'; expected a finite"):
            read_graph(path)
    with pytest.raises(CrossviewError, match="holds no edges"):
        read_graph(write(tmp_path, "# nothing\n\n"))
    with pytest.raises(CrossviewError, match="no such edge-list file"):
        read_graph(tmp_path / "missing.txt")


def test_delimiter_and_gzip(tmp_path):
    path = write(tmp_path, "new york\tboston\t2\nboston\tlos angeles\t1\n", "g.tsv")
    g = read_graph(path, delimiter="\t")
    assert g.keys == ["new york", "boston", "los angeles"]
    assert dense(g, g.keys)[0, 1] == 2
    gz = tmp_path / "g.txt.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write("a b 2\nb c 1\n")
    np.testing.assert_array_equal(
        dense(read_graph(gz), ["a", "b", "c"]), [[0, 2, 0], [2, 0, 1], [0, 1, 0]]
    )


def test_sparse_dense_networkx_and_edge_list_give_the_same_graph(tmp_path):
    edges = [(0, 1, 2.0), (1, 2, 1.0), (2, 0, 3.0), (2, 3, 0.5)]
    path = write(tmp_path, "".join(f"{u} {v} {w}\n" for u, v, w in edges))
    rows, cols, w = zip(*edges)
    M = sp.coo_matrix((w, (rows, cols)), shape=(5, 5))  # node 4 isolated
    G = nx.Graph()
    G.add_nodes_from(range(5))
    G.add_weighted_edges_from(edges)
    order = ["0", "1", "2", "3"]
    from_file = read_graph(path)
    for directed in (False, True):
        graphs = [
            read_graph(M, directed=directed),
            read_graph(M.toarray(), directed=directed),
            read_graph(sp.csr_array(M), directed=directed),
        ]
        for g in graphs:
            assert g.keys == ["0", "1", "2", "3", "4"] and g.directed == directed
            assert isinstance(g.adjacency, sp.csr_array)
        for g in graphs[1:]:
            np.testing.assert_array_equal(g.adjacency.toarray(), graphs[0].adjacency.toarray())
        np.testing.assert_array_equal(
            dense(read_graph(path, directed=directed), order), dense(graphs[0], order)
        )
    gx = read_graph(G)
    assert gx.keys == ["0", "1", "2", "3", "4"]
    np.testing.assert_array_equal(gx.adjacency.toarray(), read_graph(M).adjacency.toarray())
    np.testing.assert_array_equal(dense(from_file, order), dense(gx, order))
    D = nx.DiGraph()
    D.add_weighted_edges_from(edges)
    np.testing.assert_array_equal(
        dense(read_graph(D, directed=True), order), dense(read_graph(M, directed=True), order)
    )
    # a DiGraph read as undirected is symmetrised like a matrix
    np.testing.assert_array_equal(dense(read_graph(D), order), dense(read_graph(M), order))


def test_networkx_keys_default_weights_and_multigraph_max():
    G = nx.MultiGraph()
    G.add_edge("x", ("t", 1))
    G.add_edge("x", ("t", 1), weight=5)
    G.add_edge(("t", 1), 7, weight=2)
    g = read_graph(G)
    assert g.keys == ["x", "('t', 1)", "7"]
    np.testing.assert_array_equal(g.adjacency.toarray(), [[0, 5, 0], [5, 0, 2], [0, 2, 0]])
    H = nx.Graph()
    H.add_edge(1, "1")
    with pytest.raises(CrossviewError, match="key '1' occurs more than once"):
        read_graph(H)
    H = nx.Graph()
    H.add_edge(0, 1, weight="heavy")
    with pytest.raises(CrossviewError, match="weight 'heavy' that is not a number"):
        read_graph(H)


def test_sparse_keys_and_bad_matrices():
    M = sp.csr_array(np.array([[0, 1.0], [1.0, 0]]))
    assert read_graph(M, keys=["left", "right"]).keys == ["left", "right"]
    with pytest.raises(CrossviewError, match="1 keys for 2 nodes"):
        read_graph(M, keys=["only"])
    with pytest.raises(CrossviewError, match="key 'a' occurs more than once"):
        read_graph(M, keys=["a", "a"])
    with pytest.raises(CrossviewError, match=r"shape \(2, 3\); expected a square"):
        read_graph(sp.csr_array(np.ones((2, 3))))
    with pytest.raises(CrossviewError, match="1 negative edge weights"):
        read_graph(np.array([[0, -1.0], [0, 0]]))
    with pytest.raises(CrossviewError, match="non-finite edge weights"):
        read_graph(np.array([[0, np.nan], [np.inf, 0]]))
    with pytest.raises(CrossviewError, match="keys= names the nodes of a sparse or dense"):
        read_graph(nx.path_graph(3), keys=["a", "b", "c"])
    with pytest.raises(CrossviewError, match="cannot read a graph from list"):
        read_graph([(0, 1)])
    with pytest.raises(CrossviewError, match="weighted must be None, True or False; got 'yes'"):
        read_graph(M, weighted="yes")
    with pytest.raises(CrossviewError, match="has no nodes"):
        read_graph(np.zeros((0, 0)))


def test_symmetrising_a_matrix_keeps_the_larger_direction():
    M = np.array([[0, 2.0, 0], [3.0, 0, 1.0], [0, 0, 4.0]])
    g = read_graph(M)
    np.testing.assert_array_equal(g.adjacency.toarray(), [[0, 3, 0], [3, 0, 1], [0, 1, 4]])
    assert g.n_edges == 3  # 0-1, 1-2 and the self-loop at 2
    np.testing.assert_array_equal(read_graph(M, directed=True).adjacency.toarray(), M)


def test_a_graph_is_returned_as_is():
    g = read_graph(np.array([[0, 1.0], [0, 0]]), directed=True)
    assert read_graph(g) is g
    assert read_graph(g, directed=False) is g


def test_write_edgelist_round_trips(tmp_path):
    rng = np.random.default_rng(3)
    M = sp.random_array((30, 30), density=0.15, random_state=rng) * 10
    M = M.tocsr()
    M.setdiag(0)
    keys = [f"n{i}" for i in range(30)]
    for directed in (False, True):
        g = read_graph(M, directed=directed, keys=keys)
        out = write_edgelist(g, tmp_path / f"e{directed}.txt")
        back = read_graph(out, directed=directed)
        assert out.read_text().startswith("# crossview edge list")
        present = [k for k in keys if k in back.index()]
        assert len(present) == sum(
            g.adjacency[[i]].nnz + g.adjacency[:, [i]].nnz > 0 for i in range(30)
        )
        np.testing.assert_array_equal(dense(back, present), dense(g, present))  # exact weights
    unweighted = read_graph(nx.path_graph(4))
    text = write_edgelist(unweighted, tmp_path / "u.txt").read_text().splitlines()
    assert text[1:] == ["0 1", "1 2", "2 3"]


def test_write_edgelist_refuses_unwritable_keys_and_leaves_no_file(tmp_path):
    g = read_graph(np.array([[0, 1.0], [1.0, 0]]), keys=["new york", "boston"])
    with pytest.raises(CrossviewError, match="node key 'new york' .* whitespace"):
        write_edgelist(g, tmp_path / "bad.txt")
    assert list(tmp_path.iterdir()) == []
    path = write_edgelist(g, tmp_path / "ok.tsv", delimiter="\t")
    assert read_graph(path, delimiter="\t").keys == ["new york", "boston"]


# --- walks -----------------------------------------------------------------------------------


def random_graph(n=40, m=120, seed=0, weighted=True, directed=False) -> Graph:
    rng = np.random.default_rng(seed)
    r, c = rng.integers(0, n, m), rng.integers(0, n, m)
    w = rng.uniform(0.2, 3.0, m) if weighted else np.ones(m)
    return read_graph(sp.coo_array((w, (r, c)), shape=(n, n)), directed=directed)


def steps_are_edges(g: Graph, W: np.ndarray) -> bool:
    """Every consecutive pair of a walk (before the padding) is an edge of ``g``."""
    a, b = W[:, :-1].ravel(), W[:, 1:].ravel()
    keep = b >= 0
    return bool(np.all(g.adjacency[a[keep], b[keep]] > 0))


@pytest.mark.parametrize("p,q", [(1.0, 1.0), (0.25, 4.0), (4.0, 0.25), (0.5, 1.0)])
@pytest.mark.parametrize("directed", [False, True])
def test_walks_step_along_edges_and_start_everywhere(p, q, directed):
    g = random_graph(directed=directed)
    n_walks, length = 3, 12
    W = node2vec_walks(
        g, n_walks=n_walks, walk_length=length, p=p, q=q, random_state=1, verbose=False
    )
    n = g.n_nodes
    assert W.shape == (n_walks * n, length) and W.dtype == np.int32
    assert steps_are_edges(g, W)
    for r in range(n_walks):  # each round starts one walk at every node, in a shuffled order
        np.testing.assert_array_equal(np.sort(W[r * n : (r + 1) * n, 0]), np.arange(n))
    np.testing.assert_array_equal(np.bincount(W[:, 0], minlength=n), n_walks)
    assert not np.array_equal(W[:n, 0], np.arange(n))
    # padding is a suffix, and only after a node without out-edges
    pad = W == PAD
    assert np.all(pad[:, :-1] <= pad[:, 1:])
    deg = np.diff(g.adjacency.indptr)
    rows, cols = np.nonzero(pad[:, 1:] & ~pad[:, :-1])
    assert np.all(deg[W[rows, cols]] == 0)


def test_seeds_give_identical_walks_and_leave_the_global_state_alone():
    g = random_graph()
    state = np.random.get_state()[1].copy()
    a = node2vec_walks(g, n_walks=2, walk_length=10, p=0.5, q=2, random_state=7, verbose=False)
    b = node2vec_walks(g, n_walks=2, walk_length=10, p=0.5, q=2, random_state=7, verbose=False)
    c = node2vec_walks(g, n_walks=2, walk_length=10, p=0.5, q=2, random_state=8, verbose=False)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    small = node2vec_walks(
        g, n_walks=2, walk_length=10, p=0.5, q=2, random_state=7, verbose=False, chunk_size=7
    )
    assert steps_are_edges(g, small) and small.shape == a.shape


def triples(W: np.ndarray, t: int, v: int, n: int) -> np.ndarray:
    """Counts of the node after each visit of ``t -> v`` in the walks."""
    a, b, c = W[:, :-2].ravel(), W[:, 1:-1].ravel(), W[:, 2:].ravel()
    return np.bincount(c[(a == t) & (b == v) & (c >= 0)], minlength=n)


def exact_node2vec(A: np.ndarray, t: int, v: int, p: float, q: float) -> np.ndarray:
    """node2vec's P(x | t, v) (Grover & Leskovec 2016, sec. 3.2.2) from a dense adjacency."""
    alpha = np.where(A[t] > 0, 1.0, 1.0 / q)
    alpha[t] = 1.0 / p
    pi = A[v] * alpha
    return pi / pi.sum()


def test_return_frequency_matches_node2vec_exactly():
    # t = 0 -> v = 1; from v: back to t (1/p), to 2, a neighbour of t (1), or to 3 (1/q)
    g = read_graph(np.array([[0, 1, 0, 0], [0, 0, 2, 3], [1, 0, 0, 0], [0, 0, 0, 0.0]]))
    A = g.adjacency.toarray()
    p, q = 0.25, 4.0
    W = node2vec_walks(g, n_walks=5000, walk_length=100, p=p, q=q, random_state=0, verbose=False)
    counts = triples(W, 0, 1, 4)
    n = counts.sum()
    assert n > 80_000
    exact = exact_node2vec(A, 0, 1, p, q)
    np.testing.assert_allclose(exact, [16 / 27, 0, 8 / 27, 3 / 27])
    np.testing.assert_allclose(counts / n, exact, atol=0.008)
    assert abs(counts[0] / n - exact[0]) < 5 * np.sqrt(exact[0] * (1 - exact[0]) / n)


@pytest.mark.parametrize("p,q", [(0.25, 4.0), (4.0, 0.25), (0.5, 1.0), (1.0, 2.0)])
@pytest.mark.parametrize("directed", [False, True])
def test_second_order_transitions_match_node2vec_everywhere(p, q, directed):
    rng = np.random.default_rng(5)
    n = 7
    A = np.where(rng.random((n, n)) < 0.5, rng.uniform(0.3, 3.0, (n, n)), 0.0)
    np.fill_diagonal(A, 0)
    A[2, 4] = A[4, 2] = 5.0  # a heavy edge: the return is the outlier from either end
    g = read_graph(A, directed=directed)
    A = g.adjacency.toarray()
    W = node2vec_walks(g, n_walks=400, walk_length=60, p=p, q=q, random_state=2, verbose=False)
    checked = 0
    for t, v in zip(*np.nonzero(A)):
        counts = triples(W, t, v, n)
        if counts.sum() < 2000 or not A[v].any():
            continue
        exact = exact_node2vec(A, t, v, p, q)
        sd = np.sqrt(exact * (1 - exact) / counts.sum())
        assert np.all(np.abs(counts / counts.sum() - exact) < 5 * sd + 1e-9), (t, v)
        checked += 1
    assert checked >= 10


def test_directed_return_uses_the_weight_of_the_edge_back():
    # 0 -> 1 weight 1, 1 -> 0 weight 4, 1 -> 2 weight 1; 2 -> 0 closes the loop
    A = np.array([[0, 1, 0], [4, 0, 1], [1, 0, 0.0]])
    g = read_graph(A, directed=True)
    W = node2vec_walks(g, n_walks=3000, walk_length=20, p=0.5, q=2.0, random_state=0, verbose=False)
    counts = triples(W, 0, 1, 3)
    exact = exact_node2vec(A, 0, 1, 0.5, 2.0)  # return 4 * 2 = 8, outward 1 * 0.5
    np.testing.assert_allclose(exact, [8 / 8.5, 0, 0.5 / 8.5])
    np.testing.assert_allclose(counts / counts.sum(), exact, atol=0.01)


def test_deepwalk_steps_are_proportional_to_weights():
    # a star: from the centre, steps go to the leaves in proportion 1 : 2 : 3 : 4
    w = np.array([1.0, 2.0, 3.0, 4.0])
    A = np.zeros((5, 5))
    A[0, 1:] = A[1:, 0] = w
    g = read_graph(A)
    W = node2vec_walks(g, n_walks=5000, walk_length=21, random_state=0, verbose=False)
    leaves = W[:, 1::2][W[:, 0] == 0]  # from the centre: odd positions are leaves
    freq = np.bincount(leaves.ravel(), minlength=5)[1:] / leaves.size
    np.testing.assert_allclose(freq, w / w.sum(), atol=0.005)
    assert np.all(W[W[:, 0] == 0][:, 2::2] == 0)  # and every leaf steps back to the centre


def test_deepwalk_on_rows_with_very_different_weights():
    A = np.zeros((4, 4))
    A[0, 1], A[0, 2], A[0, 3] = 1e-9, 1.0, 1e9
    A[1, 2] = A[2, 3] = 1.0
    g = read_graph(A + A.T)
    W = node2vec_walks(g, n_walks=2000, walk_length=4, random_state=0, verbose=False)
    assert steps_are_edges(g, W)
    first = W[W[:, 0] == 0, 1]
    assert np.mean(first == 3) > 0.99


def test_dead_ends_are_padded_and_dropped_from_sentences():
    # directed path 0 -> 1 -> 2; node 3 isolated
    g = read_graph(
        np.array([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0.0]]), directed=True
    )
    for p, q in [(1.0, 1.0), (0.5, 2.0)]:
        W = node2vec_walks(g, n_walks=2, walk_length=5, p=p, q=q, random_state=0, verbose=False)
        by_start = {int(w[0]): w.tolist() for w in W}
        assert by_start == {
            0: [0, 1, 2, -1, -1],
            1: [1, 2, -1, -1, -1],
            2: [2, -1, -1, -1, -1],
            3: [3, -1, -1, -1, -1],
        }
    sentences = walks_as_sentences(W, ["a", "b", "c", "d"])
    assert sorted(sentences) == sorted([["a", "b", "c"], ["b", "c"], ["c"], ["d"]] * 2)


def test_walks_as_sentences_maps_keys_and_checks_indices():
    W = np.array([[0, 2, 1], [1, -1, -1]], dtype=np.int32)
    assert walks_as_sentences(W, ["x", "y", "z"]) == [["x", "z", "y"], ["y"]]
    with pytest.raises(CrossviewError, match="from -1 to 3; expected -1 .* 0 to 2"):
        walks_as_sentences(np.array([[0, 3], [-1, -1]]), ["x", "y", "z"])
    with pytest.raises(CrossviewError, match="2-D integer array"):
        walks_as_sentences(np.array([0.0, 1.0]), ["x", "y"])


def test_walks_accept_any_graph_source(tmp_path):
    path = write(tmp_path, "a b\nb c\nc a\n")
    W = node2vec_walks(path, n_walks=1, walk_length=4, random_state=0, verbose=False)
    assert W.shape == (3, 4) and steps_are_edges(read_graph(path), W)
    W = node2vec_walks(nx.cycle_graph(5), n_walks=2, walk_length=3, q=2, verbose=False)
    assert W.shape == (10, 3)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"p": 0}, "p must be a finite number > 0; got 0.0"),
        ({"q": -1.0}, "q must be a finite number > 0"),
        ({"p": float("nan")}, "p must be a finite number > 0"),
        ({"q": "2"}, "q must be a number > 0; got '2'"),
        ({"n_walks": 0}, "n_walks must be an integer >= 1; got 0"),
        ({"walk_length": 2.5}, "walk_length must be an integer >= 1; got 2.5"),
        ({"n_walks": True}, "n_walks must be an integer >= 1"),
        ({"chunk_size": 0}, "chunk_size must be an integer >= 1"),
    ],
)
def test_bad_walk_parameters(kwargs, message):
    with pytest.raises(CrossviewError, match=message):
        node2vec_walks(random_graph(), verbose=False, **kwargs)


def test_walk_length_one_and_progress_bar(capsys):
    g = random_graph()
    W = node2vec_walks(g, n_walks=2, walk_length=1, random_state=0, verbose=False)
    assert W.shape == (2 * g.n_nodes, 1)
    node2vec_walks(g, n_walks=1, walk_length=3, p=2, random_state=0, verbose=True)
    assert "node2vec walks" in capsys.readouterr().err
    node2vec_walks(g, n_walks=1, walk_length=3, random_state=0, verbose=False)
    assert capsys.readouterr().err == ""
