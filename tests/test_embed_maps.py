"""Keyed embedding files, dictionary alignment and splits, translation scores, RCSLS,
self-learning, word vectors and the residual MLP map: known answers on small data."""

from __future__ import annotations

import numpy as np
import pytest

from crossview.deep.mlp_map import MLPMap
from crossview.embed.align import align, read_dictionary, split_by_source, write_dictionary
from crossview.embed.self_learning import SelfLearningMap
from crossview.embed.vectors import Embedding, read_embedding, write_embedding
from crossview.embed.words import cooccurrence, encode, ppmi, ppmi_vectors, tokenize
from crossview.evaluation.translation import translation_scores
from crossview.exceptions import CrossviewError
from crossview.linear.procrustes import Procrustes
from crossview.linear.rcsls import RCSLS


def _rotated(n=400, d=12, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, d))
    X = centres[rng.integers(0, 40, n)] + 0.5 * rng.normal(size=(n, d))
    Q = np.linalg.qr(rng.normal(size=(d, d)))[0]
    return X, X @ Q + noise * rng.normal(size=(n, d))


# ---------------------------------------------------------------------------- files
@pytest.mark.parametrize("suffix", [".txt", ".vec", ".npy", ".parquet"])
def test_embedding_round_trip(tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    emb = Embedding(["a", "b", "cé"], np.arange(6, dtype=np.float32).reshape(3, 2) / 7)
    path = write_embedding(emb, tmp_path / f"e{suffix}")
    back = read_embedding(path)
    assert back.keys == emb.keys
    np.testing.assert_array_equal(back.vectors, emb.vectors)


def test_embedding_errors(tmp_path):
    with pytest.raises(CrossviewError, match="more than once"):
        Embedding(["a", "a"], np.zeros((2, 2)))
    np.save(tmp_path / "v.npy", np.zeros((2, 2)))
    with pytest.raises(CrossviewError, match="keys.txt"):
        read_embedding(tmp_path / "v.npy")
    (tmp_path / "v.keys.txt").write_text("a\n")
    with pytest.raises(CrossviewError, match="1 keys for the 2 rows"):
        read_embedding(tmp_path / "v.npy")
    with pytest.raises(CrossviewError, match="whitespace"):
        write_embedding(Embedding(["a b"], np.zeros((1, 2))), tmp_path / "w.txt")


# ---------------------------------------------------------------------------- alignment
def test_dictionary_alignment_coverage_and_split(tmp_path):
    src = Embedding([f"s{i}" for i in range(50)], np.zeros((50, 2)))
    tgt = Embedding([f"t{i}" for i in range(60)], np.zeros((60, 2)))
    pairs = [(f"s{i}", f"t{i}") for i in range(50)] + [(f"s{i}", f"t{i + 10}") for i in range(20)]
    pairs += [("missing", "t1"), ("s1", "missing")]
    path = write_dictionary(pairs, tmp_path / "d.txt")
    assert read_dictionary(path) == pairs
    al = align(src, tgt, pairs)
    cov = al.coverage()
    assert (cov["pairs"], cov["pairs_covered"]) == (72, 70)
    assert (cov["source_keys"], cov["source_keys_covered"]) == (51, 50)
    train, val, test = split_by_source(al, (0.8, 0.1, 0.1), random_state=0)
    assert train.n_covered + val.n_covered + test.n_covered == 70
    keys = [set(part.source_rows.tolist()) for part in (train, val, test)]
    assert not (keys[0] & keys[2]) and not (keys[0] & keys[1]) and not (keys[1] & keys[2])
    assert [len(k) for k in keys] == [40, 5, 5]
    queries, gold = al.gold()
    assert gold[list(queries).index(3)].tolist() == [3, 13]
    again = split_by_source(al, (0.8, 0.1, 0.1), random_state=0)
    np.testing.assert_array_equal(again[2].source_rows, test.source_rows)


def test_dictionary_errors(tmp_path):
    (tmp_path / "bad.txt").write_text("a b\nc d e\n")
    with pytest.raises(CrossviewError, match="line 2: 3 fields"):
        read_dictionary(tmp_path / "bad.txt")
    src = Embedding(["a"], np.zeros((1, 2)))
    with pytest.raises(CrossviewError, match="none of the 1 dictionary pairs"):
        align(src, src, [("x", "a")])
    al = align(src, src, [("a", "a")])
    with pytest.raises(CrossviewError, match="cannot split 1 source keys"):
        split_by_source(al)


# ---------------------------------------------------------------------------- scoring
def test_translation_scores_known_answers():
    T = np.eye(4)
    mapped = np.array([[1.0, 0.1, 0, 0], [0, 0, 1.0, 0.9], [0, 0, 0.5, 1.0]])
    gold = [0, [3], [1, 3]]  # query 1's gold is second best; query 2's second gold is first
    out = translation_scores(mapped, T, gold, k=(1, 2), method="nn")
    assert out["p@1"] == pytest.approx(2 / 3)
    assert out["p@2"] == 1.0
    assert out["median_rank"] == 1.0
    assert out["mrr"] == pytest.approx((1 + 0.5 + 1) / 3)
    # a constant query ties every target: ranked last, not first
    flat = translation_scores(np.ones((1, 4)), T, [0], k=1, method="nn")
    assert flat["p@1"] == 0.0 and flat["median_rank"] == 4
    with pytest.raises(CrossviewError, match="within 0..3"):
        translation_scores(mapped, T, [0, 1, 9])


def test_csls_pool_changes_hub_penalty():
    X, Y = _rotated()
    m = Procrustes().fit(X[:300], Y[:300])
    q, T = m.predict(X[300:]), m.normalize_y(Y)
    a = translation_scores(q, T, np.arange(300, 400), method="csls")
    b = translation_scores(q, T, np.arange(300, 400), method="csls", source_pool=m.predict(X))
    assert a["p@1"] > 0.9 and b["p@1"] > 0.9


# ---------------------------------------------------------------------------- RCSLS
def test_rcsls_lowers_its_loss_and_beats_procrustes_on_a_skewed_linear_relation():
    # Y = X A with A far from orthogonal: Procrustes' constraint is wrong, RCSLS relaxes it
    rng = np.random.default_rng(1)
    X, _ = _rotated(n=600, seed=1)
    Y = X @ (rng.normal(size=(12, 12)) * np.linspace(0.3, 2, 12)) + 0.3 * rng.normal(size=(600, 12))
    m = RCSLS().fit(X[:500], Y[:500])
    assert m.loss_curve_[-1] < m.loss_curve_[0]
    assert np.all(np.diff(m.loss_curve_) <= 1e-12)  # only accepted (improving) steps
    assert np.linalg.svd(m.coef_xy_, compute_uv=False).max() <= 1 + 1e-9
    p_rcsls = translation_scores(m.predict(X[500:]), m.normalize_y(Y), np.arange(500, 600))
    pro = Procrustes().fit(X[:500], Y[:500])
    p_pro = translation_scores(pro.predict(X[500:]), pro.normalize_y(Y), np.arange(500, 600))
    assert p_rcsls["p@1"] > p_pro["p@1"]


def test_rcsls_with_zero_steps_is_procrustes():
    X, Y = _rotated()
    r = RCSLS(max_iter=0).fit(X, Y)
    p = Procrustes().fit(X, Y)
    np.testing.assert_allclose(r.predict(X), p.predict(X), atol=1e-10)


# ---------------------------------------------------------------------------- self-learning
def test_self_learning_recovers_a_rotation_from_few_seeds():
    X, Y = _rotated(n=600, noise=0.05)
    perm = np.random.default_rng(1).permutation(600)
    Yp, where = Y[perm], np.argsort(perm)  # X row i is Yp row where[i]
    seed = np.stack([np.arange(25), where[:25]], axis=1)  # 25 pairs for 12 dimensions
    m = SelfLearningMap(random_state=0, verbose=False).fit(X, Yp, seed)
    out = translation_scores(m.transform(X), m.transform_y(Yp), where, k=1)
    assert out["p@1"] > 0.95
    assert m.history_[-1]["keep_prob"] == 1.0
    with pytest.raises(CrossviewError, match="no seed_pairs"):
        SelfLearningMap().fit(X, Yp)
    with pytest.raises(CrossviewError, match="out of range"):
        SelfLearningMap().fit(X, Yp, np.array([[0, 0], [0, 600]]))


# ---------------------------------------------------------------------------- word vectors
def test_cooccurrence_counts_and_ppmi():
    ids = np.array([0, 1, 2, -1, 0, 1])
    C = cooccurrence(ids, 3, window=2).toarray()
    # (0,1) twice at distance 1, (1,2) once at distance 1, (0,2) once at distance 2
    np.testing.assert_allclose(C, [[0, 2, 0.5], [2, 0, 1], [0.5, 1, 0]])
    P = ppmi(C).toarray()
    assert np.all(P >= 0) and P[0, 0] == 0


def test_ppmi_vectors_group_words_that_share_contexts():
    sentences = [
        ["cat", "eats", "fish"],
        ["dog", "eats", "meat"],
        ["car", "needs", "fuel"],
        ["bus", "needs", "oil"],
    ] * 30
    emb = ppmi_vectors(sentences, dim=4, window=1, min_count=1, random_state=0)
    V = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    i = emb.index()
    assert V[i["cat"]] @ V[i["dog"]] > V[i["cat"]] @ V[i["car"]]
    assert tokenize("Hello, World-2!") == ["hello", "world"]
    assert encode([["a", "zz"]], ["a"]).tolist() == [0, -1, -1]


# ---------------------------------------------------------------------------- MLP map
def test_residual_mlp_map_starts_at_the_least_squares_map():
    X, Y = _rotated(n=200)
    lin = np.linalg.lstsq(np.c_[X, np.ones(200)], Y, rcond=None)[0]
    m = MLPMap(
        hidden=(32,), epochs=1, learning_rate=1e-12, device="cpu", random_state=0, verbose=False
    ).fit(X, Y)
    np.testing.assert_allclose(m.predict(X), np.c_[X, np.ones(200)] @ lin, atol=1e-3)


def test_skipgram_vectors_are_seeded_with_one_worker():
    pytest.importorskip("gensim")
    from crossview.embed.words import skipgram_vectors

    sentences = [["cat", "eats", "fish"], ["dog", "eats", "meat"], ["car", "needs", "fuel"]] * 20
    kw = dict(dim=8, window=2, min_count=1, epochs=2, workers=1, random_state=3, verbose=False)
    a, b = skipgram_vectors(sentences, **kw), skipgram_vectors(sentences, **kw)
    assert a.keys == b.keys and set(a.keys) == {w for s in sentences for w in s}
    np.testing.assert_array_equal(a.vectors, b.vectors)
    with pytest.raises(CrossviewError, match="occurs 50 or more times"):
        skipgram_vectors(sentences, min_count=50, verbose=False)


@pytest.mark.parametrize("method", ["ppmi", "skipgram"])
def test_node_vectors_keep_the_two_karate_factions_apart(method):
    if method == "skipgram":
        pytest.importorskip("gensim")
    import networkx as nx

    from crossview.embed.nodes import node_vectors

    G = nx.karate_club_graph()
    emb = node_vectors(
        G,
        method=method,
        dim=8,
        n_walks=20,
        walk_length=20,
        window=3,
        epochs=3,
        workers=1,
        random_state=0,
        verbose=False,
    )
    assert sorted(emb.keys, key=int) == [str(v) for v in G.nodes]
    V = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    club = np.array([G.nodes[int(k)]["club"] == "Mr. Hi" for k in emb.keys])
    S = V @ V.T
    same = S[club[:, None] == club[None, :]].mean()
    other = S[club[:, None] != club[None, :]].mean()
    assert same > other + 0.1


def test_map_spaces_scores_every_mapper_and_finds_a_rotation():
    """Every workflow mapper fits and is scored; on a rotated copy the linear maps are exact."""
    from crossview.embed.workflow import MAPPERS, map_spaces, mapped_vectors

    X, Y = _rotated(n=300, noise=0.01)
    keys = [f"w{i}" for i in range(300)]
    src, tgt = Embedding(keys, X), Embedding(keys, Y)
    result = map_spaces(src, tgt, [(k, k) for k in keys], methods=MAPPERS, verbose=False)
    rows = {r["method"]: r for r in result.rows}
    assert list(rows) == list(MAPPERS)
    for name in ("procrustes", "rcsls", "ridge", "cca"):
        assert rows[name]["test_csls_p@1"] > 0.95, name
    for r in rows.values():
        assert 0.0 <= r["test_nn_p@1"] <= r["test_nn_p@10"] <= 1.0
    # CorrNet is scored by its translation into the target space, which mapped_vectors writes
    out = mapped_vectors(result.models["corrnet"], src)
    assert out.vectors.shape == Y.shape and out.keys == keys
    assert result.best("val", among=("procrustes", "rcsls")) in ("procrustes", "rcsls")
