"""Isomorphism diagnostics: a rotation is perfect, a shuffle is chance, noise ranks between."""

import json

import networkx as nx
import numpy as np
import pytest

from crossview.embed import diagnostics as D
from crossview.embed.diagnostics import (
    eigenvector_similarity,
    isomorphism_report,
    knn_graph_isomorphic,
    linear_probe,
    linear_verdict,
    neighbor_overlap,
    relational_similarity,
    rotated_control,
    shuffled_control,
)
from crossview.exceptions import CrossviewError

N, DIM = 200, 12


@pytest.fixture
def X(rng):
    """Anisotropic Gaussian rows: some structure for the k-NN graphs' spectra to lose."""
    return rng.normal(size=(N, DIM)) * np.geomspace(3.0, 0.2, DIM)


def noisy_rotation(X, sigma, seed=1):
    g = np.random.default_rng(seed)
    return rotated_control(X, g) + sigma * g.normal(size=X.shape)


def brute_knn(A, k):
    """Reference k-NN by cosine in float64, without crossview's search."""
    U = A / np.linalg.norm(A, axis=1, keepdims=True)
    S = U @ U.T
    np.fill_diagonal(S, -np.inf)
    return np.argsort(-S, axis=1)[:, :k]


def nx_graph(idx):
    G = nx.Graph()
    G.add_nodes_from(range(len(idx)))
    G.add_edges_from((i, int(j)) for i, row in enumerate(idx) for j in row)
    return G


# ---------------------------------------------------------------------------- controls


def test_controls_are_a_rotation_and_a_permutation(X):
    R = rotated_control(X, random_state=3)
    np.testing.assert_allclose(R @ R.T, X @ X.T, atol=1e-10)  # same Gram matrix
    assert not np.allclose(R, X)
    np.testing.assert_array_equal(R, rotated_control(X, random_state=3))
    S = shuffled_control(X, random_state=3)
    np.testing.assert_array_equal(np.sort(S, axis=0), np.sort(X, axis=0))
    assert (S[:, 0] != X[:, 0]).mean() > 0.9
    np.testing.assert_array_equal(S, shuffled_control(X, random_state=3))


# ------------------------------------------------------------------ rotated and shuffled


def test_rotated_copy_is_perfectly_isomorphic(X):
    R = rotated_control(X, random_state=0)
    rel = relational_similarity(X, R)
    assert rel.pearson == pytest.approx(1.0, abs=1e-6)
    assert rel.spearman == pytest.approx(1.0, abs=1e-6)
    assert rel.n_pairs == N * (N - 1) // 2 and not rel.sampled
    ov = neighbor_overlap(X, R)
    assert ov.mean_overlap == 1.0 and ov.jaccard == 1.0
    ev = eigenvector_similarity(X, R)
    assert ev.score == pytest.approx(0.0, abs=1e-8) and ev.normalized == pytest.approx(0, abs=1e-8)
    iso = knn_graph_isomorphic(X, R, n_subsets=10, random_state=0)
    assert iso.fraction_isomorphic == 1.0 and iso.fraction_identity == 1.0
    assert iso.n_undecided == 0


def test_shuffled_dictionary_is_at_chance(X):
    S = shuffled_control(X, random_state=0)
    rel = relational_similarity(X, S)
    assert abs(rel.pearson) < 0.05 and abs(rel.spearman) < 0.05
    ov = neighbor_overlap(X, S)
    assert abs(ov.mean_overlap - ov.chance_overlap) < 0.03
    assert abs(ov.jaccard - ov.chance_jaccard) < 0.03
    iso = knn_graph_isomorphic(X, S, n_subsets=10, random_state=0)
    assert iso.fraction_identity == 0.0
    # spectra ignore node labels: a shuffled dictionary scores as the true one (here, X itself)
    assert eigenvector_similarity(X, S).score == pytest.approx(0.0, abs=1e-8)


def test_vf2_finds_an_isomorphism_that_is_not_the_identity(rng):
    A = rng.normal(size=(12, 5))
    iso = knn_graph_isomorphic(A, A[rng.permutation(12)], n_items=12, n_subsets=1)
    assert iso.fraction_isomorphic == 1.0 and iso.fraction_identity == 0.0


def test_vf2_step_budget_leaves_hard_cases_undecided(X):
    S = shuffled_control(X, random_state=0)
    iso = knn_graph_isomorphic(X, S, n_subsets=5, max_steps=1, random_state=0)
    # a pair rejected by the degree sequences is decided; the rest run out of steps
    assert iso.n_undecided > 0
    assert iso.n_subsets == 5


# ------------------------------------------------------------------------- graded noise


def test_noise_ranks_between_the_controls_monotonically(X):
    sigmas = [0.05, 0.2, 0.6, 2.0]
    rel = [relational_similarity(X, noisy_rotation(X, s)).pearson for s in sigmas]
    ovl = [neighbor_overlap(X, noisy_rotation(X, s)).mean_overlap for s in sigmas]
    # eigenvector similarity is coarser: spectra of alike graphs fluctuate, so at small noise
    # it need not rise step by step (0.1 against 1.0 fails for some seeds); wide steps only
    evs = [eigenvector_similarity(X, noisy_rotation(X, s)).score for s in (0.1, 4.0)]
    shuffled = shuffled_control(X, random_state=0)
    rel_shuffled = relational_similarity(X, shuffled).pearson
    ovl_shuffled = neighbor_overlap(X, shuffled).mean_overlap
    assert 1.0 > rel[0] and all(a > b for a, b in zip(rel, rel[1:])) and rel[-1] > rel_shuffled
    assert 1.0 > ovl[0] and all(a > b for a, b in zip(ovl, ovl[1:])) and ovl[-1] > ovl_shuffled
    assert 0.0 < evs[0] and all(a < b for a, b in zip(evs, evs[1:]))


def test_every_measure_ignores_the_scale_of_a_view(X):
    Y = noisy_rotation(X, 0.5)
    row_scales = np.random.default_rng(5).uniform(0.1, 10, size=(N, 1))
    for X2 in (7.5 * X, row_scales * X):
        a, b = relational_similarity(X, Y), relational_similarity(X2, Y)
        assert a.pearson == pytest.approx(b.pearson, abs=1e-12)
        assert a.spearman == pytest.approx(b.spearman, abs=1e-12)
        assert neighbor_overlap(X, Y) == neighbor_overlap(X2, Y)
        assert eigenvector_similarity(X, Y) == eigenvector_similarity(X2, Y)
        kw = dict(n_subsets=5, random_state=0)
        assert knn_graph_isomorphic(X, Y, **kw) == knn_graph_isomorphic(X2, Y, **kw)


# ------------------------------------------------------------------- the formulas, checked


def test_eigenvector_similarity_follows_the_paper(X):
    """Sogaard et al. 2018 sec. 4.3, recomputed with networkx from a brute-force k-NN."""
    Y = noisy_rotation(X, 0.5)
    spectra = []
    for A in (X, Y):
        w = np.sort(nx.laplacian_spectrum(nx_graph(brute_knn(A, 10))))[::-1]
        k = int(np.argmax(np.cumsum(w) >= 0.9 * w.sum())) + 1
        spectra.append((w, k))
    (wx, kx), (wy, ky) = spectra
    k = min(kx, ky)
    ev = eigenvector_similarity(X, Y, n_neighbors=10)
    assert ev.k == k and not ev.truncated
    assert ev.score == pytest.approx(np.sum((wx[:k] - wy[:k]) ** 2), rel=1e-9)
    assert ev.normalized == pytest.approx(ev.score / np.sum(wx[:k] ** 2 + wy[:k] ** 2))
    capped = eigenvector_similarity(X, Y, n_neighbors=10, n_eig=5)
    assert capped.truncated and capped.k == 5 and capped.n_eig == 5
    assert capped.score == pytest.approx(np.sum((wx[:5] - wy[:5]) ** 2), rel=1e-9)


def test_sparse_spectrum_matches_the_dense_one(rng, monkeypatch):
    monkeypatch.setattr(D, "_DENSE_MAX", 50)  # larger graphs take eigsh on the sparse Laplacian
    A = rng.normal(size=(150, 6))
    adj = D._adjacency(D._knn(A, 5))
    w, trace = D._spectrum(adj, 8)
    L = nx.laplacian_matrix(nx.from_scipy_sparse_array(adj)).toarray().astype(float)
    dense = np.sort(np.linalg.eigvalsh(L))[::-1]
    np.testing.assert_allclose(w, dense[:8], rtol=1e-8)
    assert trace == pytest.approx(dense.sum())
    ev = eigenvector_similarity(A, rotated_control(A, 0), n_neighbors=5, n_eig=8)
    assert ev.truncated and ev.k == 8 and ev.score == pytest.approx(0.0, abs=1e-8)
    ev = eigenvector_similarity(A, A + rng.normal(size=A.shape), n_neighbors=5, n_eig=8)
    assert ev.score > 0


def test_relational_similarity_formula_and_sampling(X):
    Y = noisy_rotation(X, 0.5)
    i, j = np.triu_indices(N, k=1)

    def cosines(A):
        U = A / np.linalg.norm(A, axis=1, keepdims=True)
        return (U @ U.T)[i, j]

    full = relational_similarity(X, Y)
    assert full.pearson == pytest.approx(np.corrcoef(cosines(X), cosines(Y))[0, 1], abs=1e-12)
    sampled = relational_similarity(X, Y, n_pairs=4000, random_state=1)
    assert sampled.sampled and sampled.n_pairs == 4000
    assert sampled.pearson == pytest.approx(full.pearson, abs=0.05)
    assert sampled == relational_similarity(X, Y, n_pairs=4000, random_state=1)


def test_neighbor_overlap_formula(X):
    Y = noisy_rotation(X, 0.5)
    ix, iy = brute_knn(X, 5), brute_knn(Y, 5)
    shared = np.mean([len(set(a) & set(b)) / 5 for a, b in zip(ix, iy)])
    ex = {frozenset(e) for e in nx_graph(ix).edges}
    ey = {frozenset(e) for e in nx_graph(iy).edges}
    ov = neighbor_overlap(X, Y, n_neighbors=5)
    assert ov.mean_overlap == pytest.approx(shared)
    assert ov.jaccard == pytest.approx(len(ex & ey) / len(ex | ey))
    assert ov.chance_overlap == pytest.approx(5 / (N - 1))


# -------------------------------------------------------------------------------- report


def test_report_verdict_tells_the_three_cases_apart(X):
    kw = dict(vf2_subsets=5, random_state=0)
    near = isomorphism_report(X, noisy_rotation(X, 0.05), **kw)
    some = isomorphism_report(X, noisy_rotation(X, 4.0), **kw)
    none = isomorphism_report(X, shuffled_control(X, random_state=9), **kw)
    assert near.verdict.startswith("the spaces are nearly isomorphic")
    assert "a linear map should work well" in near.verdict
    assert some.verdict.startswith("the spaces share some structure")
    assert "expect low precision" in some.verdict
    assert none.verdict.startswith("no measurable relation")
    assert "dictionary pairs" in none.verdict
    for rep in (near, some, none):
        assert rep.rotated.relational.pearson == pytest.approx(1.0, abs=1e-6)
        assert rep.rotated.overlap.mean_overlap == 1.0
        assert rep.rotated.eigenvector.score == pytest.approx(0.0, abs=1e-8)
        assert rep.rotated.isomorphism.fraction_isomorphic == 1.0
        assert abs(rep.shuffled.relational.pearson) < 0.05
        assert rep.rotated.probe.p_at_1 == 1.0  # an orthogonal map recovers a rotation
        assert rep.shuffled.probe.p_at_10 < 0.2
    assert near.pair.probe.p_at_1 > 0.9 and none.pair.probe.p_at_10 < 0.2
    assert near.relational_position > some.relational_position > none.relational_position
    assert some.relational_position > 0 and abs(none.relational_position) < 0.05


def test_report_is_seeded_and_prints(X):
    X, Y = X[:100], noisy_rotation(X[:100], 0.6)
    rep = isomorphism_report(X, Y, vf2_subsets=5, random_state=4)
    assert rep == isomorphism_report(X, Y, vf2_subsets=5, random_state=4)
    d = rep.to_dict()
    assert json.loads(json.dumps(d))["pair"]["relational"]["pearson"] == rep.pair.relational.pearson
    assert d["verdict"] == rep.verdict and d["dims"] == [DIM, DIM]
    text = rep.format()
    pieces = ["X vs Y", "Y vs rotated Y", "X vs shuffled Y", "relational similarity"]
    pieces += ["neighbour overlap", "eigenvector similarity", "VF2", "held-out orthogonal map"]
    pieces += [rep.verdict]
    for piece in pieces:
        assert piece in text
    assert f"{rep.pair.relational.pearson:.3f}" in text


# ------------------------------------------------------------------------ linear verdict


@pytest.mark.parametrize(
    "lin, non, enough, reason",
    [
        (0.40, 0.41, True, "2 points absolute"),
        (0.50, 0.53, True, "10% relative"),
        (0.30, 0.40, False, "worth it"),
        (0.60, 0.55, True, "2 points absolute"),
        (0.00, 0.05, False, "worth it"),
        (0.40, 0.42, True, "2 points absolute"),  # exactly 2 points is not more
        (0.50, 0.55, True, "10% relative"),  # exactly 10%
    ],
)
def test_linear_verdict(lin, non, enough, reason):
    v = linear_verdict(lin, non)
    assert v.linear_enough is enough
    assert reason in v.verdict and str(v) == v.verdict
    assert v.absolute_gain == pytest.approx(non - lin)


# ---------------------------------------------------------------------------- bad input


def test_bad_input_raises_one_line_errors(X):
    calls = [
        lambda A, B: eigenvector_similarity(A, B),
        lambda A, B: relational_similarity(A, B),
        lambda A, B: neighbor_overlap(A, B),
        lambda A, B: knn_graph_isomorphic(A, B),
        lambda A, B: isomorphism_report(A, B),
    ]
    for f in calls:
        with pytest.raises(CrossviewError, match="X has 200 rows and Y has 150"):
            f(X, X[:150])
    small = X[:8]
    for f in calls[:1] + calls[2:]:
        with pytest.raises(CrossviewError, match="needs at least"):
            f(small, small)
    with pytest.raises(CrossviewError, match="at least 3"):
        relational_similarity(X[:2], X[:2])
    with pytest.raises(CrossviewError, match="n_neighbors"):
        neighbor_overlap(X, X, n_neighbors=0)
    with pytest.raises(CrossviewError, match="n_items"):
        knn_graph_isomorphic(X, X, n_items=4, n_neighbors=4)
    with pytest.raises(CrossviewError, match="non-finite"):
        relational_similarity(np.full((5, 2), np.nan), X[:5])
    with pytest.raises(CrossviewError, match="cosines of Y are equal"):
        relational_similarity(X[:5], np.ones((5, 3)))
    with pytest.raises(CrossviewError, match=r"fraction in \[0, 1\]"):
        linear_verdict(45.0, 50.0)


def test_linear_probe_finds_a_rotation_and_not_a_shuffle(X):
    """Known answers: a rotated copy is recovered exactly; a shuffled dictionary is at chance."""
    rot = linear_probe(X, rotated_control(X, random_state=1), random_state=0)
    assert rot.p_at_1 == 1.0 and rot.p_at_10 == 1.0
    assert rot.n_candidates == X.shape[0] - X.shape[0] // 2
    shuf = linear_probe(X, shuffled_control(X, random_state=2), random_state=0)
    assert shuf.p_at_10 < 0.2
    assert linear_probe(X, X, random_state=3) == linear_probe(X, X, random_state=3)
    with pytest.raises(CrossviewError, match="rows"):
        linear_probe(X[:3], X[:3])
