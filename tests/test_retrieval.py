"""Retrieval by cosine and CSLS: planted permutations are found, chunking changes nothing."""

import numpy as np
import pytest

from crossview.base import CrossviewError
from crossview.evaluation import evaluate_codes, nearest, retrieval_precision


@pytest.fixture
def planted(rng):
    """Zy = a rotated, noisy copy of Zx, rows shuffled by a known permutation."""
    n, d = 300, 20
    Zx = rng.normal(size=(n, d))
    Q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    perm = rng.permutation(n)
    Zy_aligned = Zx @ Q + 0.1 * rng.normal(size=(n, d))
    return Zx, Zy_aligned, Q, perm


@pytest.mark.parametrize("method", ["nn", "csls"])
def test_nearest_finds_planted_permutation(planted, method):
    Zx, Zy, Q, perm = planted
    Zy_shuffled = np.empty_like(Zy)
    Zy_shuffled[perm] = Zy  # row i of Zx is at row perm[i]
    idx = nearest(Zx @ Q, Zy_shuffled, k=3, method=method)
    assert idx.shape == (300, 3)
    np.testing.assert_array_equal(idx[:, 0], perm)


@pytest.mark.parametrize("method", ["nn", "csls"])
def test_precision_of_aligned_and_unaligned_codes(planted, method):
    Zx, Zy, Q, _ = planted
    assert retrieval_precision(Zx @ Q, Zy, method=method) == {1: 1.0, 5: 1.0, 10: 1.0}
    unaligned = retrieval_precision(Zx, Zy, k=(1, 10), method=method)
    assert unaligned[1] < 0.1 and unaligned[10] < 0.2


@pytest.mark.parametrize("method", ["nn", "csls"])
def test_chunking_gives_the_same_answers(rng, method):
    Zx = rng.normal(size=(97, 8))
    Zy = Zx + 1.2 * rng.normal(size=(97, 8))
    full = retrieval_precision(Zx, Zy, k=(1, 3, 10), method=method, csls_k=5)
    assert 0 < full[1] < 1  # non-trivial
    for chunk in (1, 7, 50):
        assert (
            retrieval_precision(Zx, Zy, k=(1, 3, 10), method=method, csls_k=5, chunk_size=chunk)
            == full
        )
        np.testing.assert_array_equal(
            nearest(Zx, Zy, k=4, method=method, csls_k=5, chunk_size=chunk),
            nearest(Zx, Zy, k=4, method=method, csls_k=5),
        )


def test_csls_matches_the_formula(rng):
    Zx, Zy = rng.normal(size=(30, 4)), rng.normal(size=(40, 4))
    X = Zx / np.linalg.norm(Zx, axis=1, keepdims=True)
    Y = Zy / np.linalg.norm(Zy, axis=1, keepdims=True)
    cos = X @ Y.T
    k = 3
    r_y = np.sort(cos, axis=1)[:, -k:].mean(axis=1)  # r_Y(x)
    r_x = np.sort(cos, axis=0)[-k:, :].mean(axis=0)  # r_X(y)
    csls = 2 * cos - r_y[:, None] - r_x[None, :]
    expected = np.argsort(-csls, axis=1)[:, :5]
    np.testing.assert_array_equal(nearest(Zx, Zy, k=5, method="csls", csls_k=k), expected)


def test_csls_demotes_a_hub(rng):
    n, d = 200, 50
    c = np.zeros(d)
    c[0] = 4.0  # a direction every query shares
    Zx = c + rng.normal(size=(n, d))
    Zy = Zx + 3.0 * rng.normal(size=(n, d))  # partners, far apart
    Zy_hub = np.vstack([Zy, c])  # the hub: close to every query
    nn_hub = np.mean(nearest(Zx, Zy_hub, k=1, method="nn")[:, 0] == n)
    csls_hub = np.mean(nearest(Zx, Zy_hub, k=1, method="csls")[:, 0] == n)
    assert nn_hub > 0.5
    assert csls_hub < nn_hub / 2


def test_constant_codes_do_not_score(rng):
    Z = np.ones((50, 3))
    assert retrieval_precision(Z, Z, k=1)[1] == 0.0


def test_retrieval_input_errors(rng):
    Z = rng.normal(size=(10, 3))
    with pytest.raises(CrossviewError, match="paired rows"):
        retrieval_precision(Z, Z[:9])
    with pytest.raises(CrossviewError, match="same number"):
        retrieval_precision(Z, Z[:, :2])
    with pytest.raises(CrossviewError, match="unknown retrieval method"):
        retrieval_precision(Z, Z, method="cosine")
    with pytest.raises(CrossviewError, match="k must be"):
        retrieval_precision(Z, Z, k=0)
    with pytest.raises(CrossviewError, match="k must be between 1 and"):
        nearest(Z, Z, k=11)
    with pytest.raises(CrossviewError, match="chunk_size"):
        nearest(Z, Z, chunk_size=0)


def test_evaluate_codes_reports_everything(rng):
    labels = rng.integers(0, 3, size=120)
    Zx = np.eye(3)[labels] + 0.1 * rng.normal(size=(120, 3))
    Zy = Zx + 0.1 * rng.normal(size=(120, 3))
    res = evaluate_codes(Zx, Zy, labels)
    assert set(res) == {
        "n_samples",
        "n_components_x",
        "n_components_y",
        "sum_corr",
        "canonical_sum_corr",
        "transfer_x_to_y",
        "transfer_y_to_x",
        "retrieval_x_to_y",
        "retrieval_y_to_x",
    }
    assert res["transfer_x_to_y"] == 100.0 and set(res["retrieval_x_to_y"]) == {1, 5, 10}
    narrow = evaluate_codes(Zx, Zy[:, :2])
    assert set(narrow) == {"n_samples", "n_components_x", "n_components_y", "canonical_sum_corr"}


def test_faiss_backend_matches_numpy(rng):
    """faiss's exact index gives the same neighbours, CSLS terms and scores as NumPy."""
    pytest.importorskip("faiss")
    from crossview.evaluation.translation import translation_scores

    Zq, Zb = rng.normal(size=(60, 8)), rng.normal(size=(90, 8))
    for method in ("nn", "csls"):
        np.testing.assert_array_equal(
            nearest(Zq, Zb, k=5, method=method, backend="faiss"),
            nearest(Zq, Zb, k=5, method=method, backend="numpy"),
        )
    Zy = Zq + 0.5 * rng.normal(size=Zq.shape)
    for backend in ("faiss", "auto"):
        assert retrieval_precision(Zq, Zy, method="csls", backend=backend) == pytest.approx(
            retrieval_precision(Zq, Zy, method="csls", backend="numpy")
        )
    gold = list(rng.integers(0, 90, size=60))
    assert translation_scores(Zq, Zb, gold, backend="faiss") == pytest.approx(
        translation_scores(Zq, Zb, gold, backend="numpy")
    )


def test_backend_errors(rng, monkeypatch):
    Z = rng.normal(size=(10, 3))
    with pytest.raises(CrossviewError, match="unknown backend"):
        nearest(Z, Z, backend="annoy")
    import builtins

    real_import = builtins.__import__

    def no_faiss(name, *args, **kwargs):
        if name == "faiss":
            raise ImportError("no faiss here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_faiss)
    with pytest.raises(CrossviewError, match="pip install faiss-cpu"):
        nearest(Z, Z, backend="faiss")
    # "auto" falls back to NumPy without faiss
    assert nearest(Z, Z, k=1, backend="auto")[:, 0].tolist() == list(range(10))
