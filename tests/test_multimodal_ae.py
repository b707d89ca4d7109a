"""MultimodalAE: translation from either view alone, shared codes, model files, input errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from deep_synthetic import column_correlations, translatable
from sklearn.base import clone

from crossview.base import CrossviewError
from crossview.deep.multimodal_ae import MultimodalAE
from crossview.io import load_model


@pytest.fixture(scope="module")
def data():
    return translatable(n=2000, seed=0), translatable(n=500, seed=5)


@pytest.fixture(scope="module")
def fitted(data):
    (X, Y), _ = data
    return MultimodalAE(
        n_components=3,
        x_hidden=(64,),
        epochs=30,
        batch_size=100,
        learning_rate=3e-3,
        device="cpu",
        random_state=0,
    ).fit(X, Y)


def test_translates_from_one_view_better_than_the_mean(data, fitted):
    (X, Y), (Xt, Yt) = data
    assert fitted.history_.terms == ["loss", "rec_both", "rec_from_x", "rec_from_y"]
    mse_y = np.mean((fitted.predict(Xt) - Yt) ** 2)
    mse_x = np.mean((fitted.predict_x(Yt) - Xt) ** 2)
    assert mse_y < 0.25 * np.mean((Yt - Y.mean(axis=0)) ** 2)
    assert mse_x < 0.25 * np.mean((Xt - X.mean(axis=0)) ** 2)


def test_codes_of_either_view_agree(data, fitted):
    _, (Xt, Yt) = data
    Zx, Zy = fitted.transform(Xt), fitted.transform_y(Yt)
    assert Zx.shape == Zy.shape == (len(Xt), 3) and Zx.dtype == np.float32
    assert np.all(column_correlations(Zx, Zy) > 0.9)


def test_missing_view_contributes_nothing(data, fitted):
    _, (Xt, Yt) = data
    net = fitted.module_
    x = torch.from_numpy(Xt[:5])
    with torch.no_grad():
        z = torch.sigmoid(net.contrib_x(x) + net.code_bias)
    raw = fitted.set_params(standardize_codes=False).transform(Xt[:5])
    fitted.set_params(standardize_codes=True)
    assert np.allclose(raw, z.numpy())


def test_one_layer_model_equals_zero_input():
    """Without hidden layers, the code of X alone is a(W x + V 0 + b), as in the CorrNet paper."""
    X, Y = translatable(n=300, seed=1)
    m = MultimodalAE(
        n_components=4,
        x_hidden=(),
        view_activation=None,
        epochs=2,
        batch_size=100,
        device="cpu",
        random_state=0,
        standardize_codes=False,
    ).fit(X, Y)
    net = m.module_
    W, V = net.contrib_x.weight, net.contrib_y.weight
    with torch.no_grad():
        x = torch.from_numpy(X[:6])
        ref = torch.sigmoid(x @ W.T + torch.zeros(6, Y.shape[1]) @ V.T + net.code_bias)
    assert np.allclose(m.transform(X[:6]), ref.numpy(), atol=1e-6)


def test_bad_input_is_clear(data, fitted):
    (X, Y), (Xt, Yt) = data
    with pytest.raises(CrossviewError, match="view X has 19 features"):
        fitted.predict(Xt[:, :19])
    bad = Yt.copy()
    bad[0, 0] = np.inf
    with pytest.raises(CrossviewError, match="non-finite"):
        fitted.predict_x(bad)
    with pytest.raises(
        CrossviewError,
        match="'x_hidden' parameter of MultimodalAE must be an "
        "int .* or an array-like. Got 'wide' instead",
    ):
        MultimodalAE(x_hidden="wide", epochs=1, device="cpu").fit(X, Y)
    with pytest.raises(CrossviewError, match="x_hidden must hold positive sizes"):
        MultimodalAE(x_hidden=(8, -1), epochs=1, device="cpu").fit(X, Y)
    with pytest.raises(CrossviewError, match="'n_components' parameter of MultimodalAE"):
        MultimodalAE(n_components=2.0, epochs=1, device="cpu").fit(X, Y)
    with pytest.raises(CrossviewError, match="activation"):
        MultimodalAE(activation="swishy", epochs=1, device="cpu").fit(X, Y)


def test_no_hidden_layers_and_separate_y_widths(data):
    (X, Y), (Xt, _) = data
    m = clone(
        MultimodalAE(
            n_components=2,
            x_hidden=(),
            y_hidden=(8, 4),
            epochs=1,
            batch_size=500,
            output_activation="tanh",
            code_activation="tanh",
            device="cpu",
            random_state=0,
        )
    ).fit(X, Y)
    P = m.predict(Xt)
    assert P.shape == (len(Xt), Y.shape[1]) and np.all(np.abs(P) <= 1)


def test_sigmoid_view_branches_translate_and_round_trip(tmp_path, data):
    """view_activation='sigmoid': the code is a(sig(c_x(x)) + sig(c_y(y)) + b); X alone adds 0."""
    (X, Y), (Xt, Yt) = data
    m = MultimodalAE(
        n_components=3,
        x_hidden=(64,),
        view_activation="sigmoid",
        epochs=30,
        batch_size=100,
        learning_rate=3e-3,
        lr_schedule="cosine",
        device="cpu",
        random_state=0,
    ).fit(X, Y)
    net = m.module_
    x = torch.from_numpy(Xt[:5])
    with torch.no_grad():
        branch = net.contrib_x(x)
        z = torch.sigmoid(branch + net.code_bias)
    assert branch.min() >= 0 and branch.max() <= 1  # the sigmoid branch
    assert np.allclose(m.set_params(standardize_codes=False).transform(Xt[:5]), z.numpy())
    m.set_params(standardize_codes=True)
    assert np.mean((m.predict(Xt) - Yt) ** 2) < 0.25 * np.mean((Yt - Y.mean(axis=0)) ** 2)
    m.save(tmp_path / "mae")
    back = load_model(tmp_path / "mae")
    assert back.view_activation == "sigmoid"
    assert np.array_equal(back.predict_x(Yt), m.predict_x(Yt))
