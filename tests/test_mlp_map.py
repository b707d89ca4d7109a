"""MLPMap: learning a planted non-linear map with each loss, both directions, files, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from crossview.base import CrossviewError
from crossview.deep.losses import cosine_distance, info_nce, mae
from crossview.deep.mlp_map import MLPMap
from crossview.io import load_model


def planted_map(n, seed):
    """Y = tanh(2 X A) B with fixed A, B: a non-linear map a linear one fits poorly."""
    maps = np.random.default_rng(1)
    A = maps.normal(size=(10, 16)) / np.sqrt(10)
    B = maps.normal(size=(16, 8)) / np.sqrt(16)
    X = np.random.default_rng(seed).normal(size=(n, 10))
    return X.astype(np.float32), (np.tanh(2 * X @ A) @ B).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    return planted_map(1500, 0), planted_map(500, 5)


def _linear_error(X, Y, Xt, Yt):
    Xa, Xta = np.c_[X, np.ones(len(X))], np.c_[Xt, np.ones(len(Xt))]
    W = np.linalg.lstsq(Xa, Y, rcond=None)[0]
    return np.mean((Xta @ W - Yt) ** 2)


def _cosines(P, T):
    return (P * T).sum(1) / np.linalg.norm(P, axis=1) / np.linalg.norm(T, axis=1)


def test_losses_match_definitions():
    rng = np.random.default_rng(0)
    P, T = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    assert float(mae(torch.tensor(P), torch.tensor(T))) == pytest.approx(
        np.abs(P - T).sum(1).mean()
    )
    assert float(cosine_distance(torch.tensor(P), torch.tensor(T))) == pytest.approx(
        np.mean(1 - _cosines(P, T))
    )


def test_info_nce_matches_its_definition():
    rng = np.random.default_rng(1)
    P, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    Pu = P / np.linalg.norm(P, axis=1, keepdims=True)
    Tu = T / np.linalg.norm(T, axis=1, keepdims=True)
    logits = Pu @ Tu.T / 0.2
    want = np.mean(np.log(np.exp(logits).sum(1)) - np.diag(logits))
    got = info_nce(torch.tensor(P), torch.tensor(T), temperature=0.2)
    assert float(got) == pytest.approx(want)
    # scale-free: only directions matter; and a perfect, well-separated match costs ~0
    assert float(info_nce(torch.tensor(3 * P), torch.tensor(T), 0.2)) == pytest.approx(want)
    eye = torch.eye(4, dtype=torch.float64)
    assert float(info_nce(eye, eye, temperature=0.01)) < 1e-30


def test_contrastive_map_retrieves_the_right_targets(data):
    """Trained on the in-batch contrastive loss, each held-out row finds its own target."""
    from crossview.evaluation import retrieval_precision

    (X, Y), (Xt, Yt) = data
    m = MLPMap(
        hidden=(64,),
        loss="contrastive",
        temperature=0.1,
        epochs=30,
        batch_size=256,
        learning_rate=3e-3,
        device="cpu",
        random_state=0,
        verbose=False,
    ).fit(X, Y)
    p = retrieval_precision(m.predict(Xt[:200]), Yt[:200], k=(1, 10))
    assert p[1] > 0.5 and p[10] > 0.95
    with pytest.raises(Exception, match="temperature"):
        MLPMap(loss="contrastive", temperature=0.0).fit(X, Y)


@pytest.mark.parametrize("loss", ["mse", "mae", "cosine"])
def test_learns_planted_map_with_each_loss(data, loss):
    (X, Y), (Xt, Yt) = data
    m = MLPMap(
        hidden=(64,),
        loss=loss,
        epochs=40,
        batch_size=64,
        learning_rate=3e-3,
        device="cpu",
        random_state=0,
    ).fit(X, Y)
    P = m.predict(Xt)
    assert P.shape == Yt.shape and P.dtype == np.float32
    assert m.history_.terms == ["loss", "x_to_y"]
    if loss == "cosine":  # only directions are learned
        assert np.mean(_cosines(P, Yt)) > 0.93
    else:
        err = np.mean((P - Yt) ** 2)
        assert err < 0.12 * np.mean((Yt - Y.mean(0)) ** 2)
        assert err < 0.7 * _linear_error(X, Y, Xt, Yt)


def test_bidirectional_and_transform(tmp_path, data):
    (X, Y), (Xt, Yt) = data
    m = MLPMap(
        hidden=(32,),
        bidirectional=True,
        output_activation="tanh",
        epochs=3,
        batch_size=100,
        device="cpu",
        random_state=0,
    ).fit(Y, X / 5)  # targets in (-1, 1)
    assert m.history_.terms == ["loss", "x_to_y", "y_to_x"]
    assert m.predict_x(X[:7] / 5).shape == (7, Y.shape[1])
    assert np.all(np.abs(m.predict(Yt)) < 1)
    assert np.array_equal(m.transform(Yt), m.predict(Yt))
    assert np.array_equal(m.transform_y(Xt), Xt.astype(np.float32))
    m.save(tmp_path / "map")
    back = load_model(tmp_path / "map")
    assert np.array_equal(back.predict(Yt), m.predict(Yt))
    assert np.array_equal(back.predict_x(Xt), m.predict_x(Xt))


def test_one_way_map_has_no_predict_x(data, tmp_path):
    (X, Y), (Xt, Yt) = data
    m = MLPMap(hidden=(8,), epochs=1, device="cpu", random_state=0).fit(X, Y)
    m.save(tmp_path / "one")
    back = load_model(tmp_path / "one")
    assert np.array_equal(back.predict(Xt), m.predict(Xt))
    for model in (m, back):
        # the capability is the method itself (scikit-learn's available_if), with the reason
        assert not hasattr(model, "predict_x")
        with pytest.raises(AttributeError, match="predict_x") as exc:
            model.predict_x(Yt)
        assert "bidirectional=False" in str(exc.value.__cause__)


def test_bad_input_is_clear(data):
    (X, Y), (Xt, Yt) = data
    m = MLPMap(hidden=(), epochs=1, device="cpu", random_state=0).fit(X, Y)
    with pytest.raises(CrossviewError, match="view X has 9 features"):
        m.predict(Xt[:, :9])
    bad = Xt.copy()
    bad[1, 1] = np.nan
    with pytest.raises(CrossviewError, match="NaN"):
        m.transform(bad)
    with pytest.raises(CrossviewError, match="view Y has 5 features"):
        m.transform_y(Yt[:, :5])
    with pytest.raises(
        CrossviewError,
        match="'loss' parameter of MLPMap must be a str among .*'cosine'.* Got 'huber' instead",
    ):
        MLPMap(loss="huber", epochs=1, device="cpu").fit(X, Y)
    with pytest.raises(CrossviewError, match="'bidirectional' parameter of MLPMap"):
        MLPMap(bidirectional="both", epochs=1, device="cpu").fit(X, Y)
    with pytest.raises(CrossviewError, match="batch_size"):
        MLPMap(batch_size=10_000, epochs=1, device="cpu").fit(X, Y)
