"""Deep CorrNet: the loss terms, all 16 loss combinations, gradients, files, resume, learning."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch

import crossview
from crossview.deep.corrnet import CorrNet
from crossview.deep.losses import correlation_sum
from crossview.deep.trainer import NonFiniteLossError
from crossview.exceptions import CrossviewError

SMALL = dict(
    n_components=4,
    x_hidden=(8,),
    epochs=1,
    batch_size=16,
    verbose=False,
    device="cpu",
    random_state=0,
)


def _views(n=64, seed=0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3))
    X = np.tanh(z @ rng.normal(size=(3, 10))) + 0.1 * rng.normal(size=(n, 10))
    Y = np.tanh(z @ rng.normal(size=(3, 7))) + 0.1 * rng.normal(size=(n, 7))
    return X.astype(np.float32), Y.astype(np.float32)


def test_correlation_loss_matches_numpy():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(50, 6))
    b = 0.7 * a + rng.normal(size=(50, 6))
    b[:, 5] = 3.0  # a constant unit contributes 0, not NaN
    ref = sum(np.corrcoef(a[:, j], b[:, j])[0, 1] for j in range(5))
    got = correlation_sum(torch.tensor(a), torch.tensor(b)).item()
    assert got == pytest.approx(ref, abs=1e-6)


@pytest.mark.parametrize("switches", list(itertools.product([False, True], repeat=4)))
def test_all_16_loss_combinations_build_and_step(switches):
    X, Y = _views()
    names = dict(zip(("loss_self", "loss_from_x", "loss_from_y", "loss_corr"), switches))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = CorrNet(**SMALL, **names).fit(X, Y)
    expected = {"loss"} | {
        t for t, on in zip(("self_rec", "rec_from_x", "rec_from_y", "corr"), switches) if on
    }
    assert set(m.history_.terms) == expected
    assert m.loss_terms == ("+".join(f"L{i + 1}" for i, on in enumerate(switches) if on) or "none")
    assert m.transform(X).shape == (64, 4)


@pytest.mark.parametrize(
    "term, reached",
    [
        ("loss_corr", ("enc_x", "enc_y")),
        ("loss_self", ("enc_x", "enc_y")),
        ("loss_from_x", ("enc_x",)),
        ("loss_from_y", ("enc_y",)),
    ],
)
def test_gradients_reach_the_encoders(term, reached):
    """L1 and L4 train both encoders; L2 (from x alone) and L3 (from y alone) train one each:
    the other view's input is zero, so only its biases can get a gradient."""
    X, Y = _views()
    flags = {k: k == term for k in ("loss_self", "loss_from_x", "loss_from_y", "loss_corr")}
    module = CorrNet(**SMALL, **flags)._build_module(10, 7)
    out = module(torch.from_numpy(X), torch.from_numpy(Y))
    out["loss"].backward()
    for name in ("enc_x", "enc_y"):
        grad = getattr(module, name)[0].weight.grad
        assert (grad is not None and grad.abs().sum() > 0) == (name in reached)


def test_zero_view_code_equals_feeding_zeros():
    X, Y = _views()
    m = CorrNet(**SMALL, standardize_codes=False).fit(X, Y)
    full = m.transform_joint(X, np.zeros_like(Y))
    np.testing.assert_allclose(m.transform(X), full, rtol=1e-5, atol=1e-6)


def test_nan_guard_fires_on_a_poisoned_batch(monkeypatch):
    X, Y = _views()
    build = CorrNet._build_module

    def poisoned(self, n_x, n_y):
        module = build(self, n_x, n_y)
        calls = {"n": 0}

        def hook(mod, inputs, output):
            calls["n"] += 1
            return output * float("nan") if calls["n"] == 3 else output

        module.enc_y.register_forward_hook(hook)
        return module

    monkeypatch.setattr(CorrNet, "_build_module", poisoned)
    with pytest.raises(NonFiniteLossError, match="epoch 1, batch"):
        CorrNet(**dict(SMALL, epochs=2)).fit(X, Y)


def test_standardized_codes_have_training_mean_0_std_1_and_same_correlations():
    from crossview.evaluation import sum_correlation

    X, Y = _views()
    m = CorrNet(**dict(SMALL, epochs=3)).fit(X, Y)
    zx, zy = m.transform(X), m.transform_y(Y)
    np.testing.assert_allclose(zx.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(zx.std(0), 1, atol=1e-3)
    np.testing.assert_allclose(zy.std(0), 1, atol=1e-3)
    raw = m.set_params(standardize_codes=False)
    assert sum_correlation(zx, zy) == pytest.approx(
        sum_correlation(raw.transform(X), raw.transform_y(Y)), abs=1e-4
    )


def test_bad_input_is_clear():
    X, Y = _views()
    m = CorrNet(**SMALL).fit(X, Y)
    with pytest.raises(ValueError, match="has 7 features"):
        m.transform(Y)
    with pytest.raises(ValueError, match="different numbers of rows"):
        CorrNet(**SMALL).fit(X, Y[:10])
    with pytest.raises(ValueError, match="batch_size"):
        CorrNet(**dict(SMALL, batch_size=1000)).fit(X, Y)
    for bad in (dict(n_components=5.5), dict(n_components="abc"), dict(n_components=0)):
        with pytest.raises(
            CrossviewError,
            match=r"'n_components' parameter of CorrNet must be "
            r"an int in the range \[1, inf\)",
        ):
            CorrNet(**dict(SMALL, **bad)).fit(X, Y)
    for lam in (float("nan"), -1.0, "big"):
        with pytest.raises(
            CrossviewError,
            match=r"'lam' parameter of CorrNet must be a float "
            r"in the range \[0.0, inf\)",
        ):
            CorrNet(**dict(SMALL, lam=lam)).fit(X, Y)
    for bad in (
        dict(dropout=1.0),
        dict(loss_corr="yes"),
        dict(x_hidden=(8, 0)),
        dict(x_hidden=(8.5,)),
        dict(epochs="many"),
    ):
        with pytest.raises(CrossviewError, match=next(iter(bad))):
            CorrNet(**dict(SMALL, **bad)).fit(X, Y)
    with pytest.raises(ValueError, match="unknown activation"):
        CorrNet(**dict(SMALL, activation="swishy")).fit(X, Y)


def test_learns_on_digit_halves_far_above_a_random_network():
    from sklearn.datasets import load_digits

    from crossview.evaluation import sum_correlation, transfer_accuracy

    d = load_digits()
    img = (d.images / 16.0).astype(np.float32)
    X, Y = img[:, :, :4].reshape(-1, 32), img[:, :, 4:].reshape(-1, 32)
    tr, te = slice(0, 1300), slice(1300, None)
    params = dict(
        n_components=16,
        x_hidden=(64,),
        batch_size=50,
        verbose=False,
        device="cpu",
        random_state=0,
        lam=1.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trained = CorrNet(**params, epochs=40).fit(X[tr], Y[tr])
        random = CorrNet(**params, epochs=1, learning_rate=1e-12).fit(X[tr], Y[tr])
    scores = {}
    for name, m in (("trained", trained), ("random", random)):
        zx, zy = m.transform(X[te]), m.transform_y(Y[te])
        scores[name] = (sum_correlation(zx, zy), transfer_accuracy(zx, zy, d.target[te]))
    (c_t, acc_t), (c_r, acc_r) = scores["trained"], scores["random"]
    assert c_t > 12 and c_t > c_r + 4
    # 40 epochs reach about 0.65 both ways; the untrained network is at chance (about 0.1)
    for way in ("x_to_y", "y_to_x"):
        assert acc_t[way] > 0.5 and acc_t[way] > acc_r[way] + 0.3


# ---------------------------------------------------------------- semi-paired training
def _semi_paired(n_pairs=40, n_single=400, seed=0):
    from crossview.datasets import load_digits_halves

    d = load_digits_halves(random_state=seed)
    tr = d.train
    Xp, Yp = tr.X[:n_pairs], tr.Y[:n_pairs]
    rest = np.arange(n_pairs, len(tr.X))
    half = len(rest) // 2
    return Xp, Yp, tr.X[rest[:half]][:n_single], tr.Y[rest[half:]][:n_single], d.test


@pytest.mark.filterwarnings("ignore::crossview.exceptions.ConstantColumnWarning")
def test_single_view_rows_add_their_own_terms_and_round_trip(tmp_path):
    Xp, Yp, Xo, Yo, test = _semi_paired()
    kw = dict(n_components=8, x_hidden=(32,), epochs=3, batch_size=20, verbose=False)
    m = CorrNet(random_state=0, **kw).fit(Xp, Yp, X_only=Xo, Y_only=Yo)
    assert {"single_x", "single_y", "rec_from_x", "corr"} <= set(m.history_.terms)
    only_x = CorrNet(random_state=0, **kw).fit(Xp, Yp, X_only=Xo)
    assert "single_x" in only_x.history_.terms and "single_y" not in only_x.history_.terms
    m.save(tmp_path / "m")
    loaded = crossview.load(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(test.X), m.predict(test.X))
    # validation rows are scored with the same terms
    v = CorrNet(random_state=0, **kw).fit(Xp, Yp, test.X, test.Y, X_only=Xo, Y_only=Yo)
    assert "single_x" in v.history_.val[-1]
    with pytest.raises(CrossviewError, match="view X_only has 5 features"):
        CorrNet(**kw).fit(Xp, Yp, X_only=Xo[:, :5])


@pytest.mark.filterwarnings("ignore::crossview.exceptions.ConstantColumnWarning")
def test_single_view_rows_resume_to_the_same_weights(tmp_path):
    Xp, Yp, Xo, Yo, _ = _semi_paired()
    # pseudo-pairs matched from the first epoch: the resumed run re-matches them from the
    # restored weights
    kw = dict(n_components=4, x_hidden=(16,), batch_size=20, verbose=False, random_state=0)
    kw["pseudo_pair_start"] = 0.0
    full = CorrNet(epochs=3, **kw).fit(Xp, Yp, X_only=Xo, Y_only=Yo)
    CorrNet(epochs=1, checkpoint_dir=str(tmp_path), **kw).fit(Xp, Yp, X_only=Xo, Y_only=Yo)
    resumed = CorrNet(epochs=3, checkpoint_dir=str(tmp_path), resume=True, **kw)
    resumed.fit(Xp, Yp, X_only=Xo, Y_only=Yo)
    for key, value in full.module_.state_dict().items():
        assert torch.equal(resumed.module_.state_dict()[key], value), key


@pytest.mark.filterwarnings("ignore::crossview.exceptions.ConstantColumnWarning")
def test_single_view_rows_help_when_pairs_are_few():
    """40 pairs alone overfit; 400 more rows of each view alone regularise both directions."""
    Xp, Yp, Xo, Yo, test = _semi_paired()
    kw = dict(n_components=16, x_hidden=(64,), epochs=60, batch_size=20, verbose=False)
    alone = CorrNet(random_state=0, **kw).fit(Xp, Yp)
    semi = CorrNet(random_state=0, **kw).fit(Xp, Yp, X_only=Xo, Y_only=Yo)
    for fn, target, source in (("predict", test.Y, test.X), ("predict_x", test.X, test.Y)):
        err_alone = np.mean((getattr(alone, fn)(source) - target) ** 2)
        err_semi = np.mean((getattr(semi, fn)(source) - target) ** 2)
        assert err_semi < err_alone, (fn, err_semi, err_alone)


def test_nearest_both_ways_match_a_brute_force_search():
    from crossview.deep.corrnet import nearest_both_ways

    gen = torch.Generator().manual_seed(0)
    A, B = torch.randn(37, 5, generator=gen), torch.randn(23, 5, generator=gen)
    a_to_b, b_to_a = nearest_both_ways(A, B, chunk=8)  # several blocks of A
    d = torch.cdist(A, B)
    assert torch.equal(a_to_b, d.argmin(1)) and torch.equal(b_to_a, d.argmin(0))
    # a row of B that is a shifted copy of a row of A is that row's mutual neighbour
    B[4] = A[11] + 1e-3
    a_to_b, b_to_a = nearest_both_ways(A, B, chunk=8)
    assert a_to_b[11] == 4 and b_to_a[4] == 11


@pytest.mark.filterwarnings("ignore::crossview.exceptions.ConstantColumnWarning")
def test_pseudo_pairs_join_rows_of_the_same_class_and_train_after_their_start():
    from crossview.datasets import load_digits_halves

    d = load_digits_halves(random_state=0)
    tr = d.train
    half = len(tr.X) // 2
    kw = dict(n_components=16, x_hidden=(64,), epochs=10, batch_size=20, verbose=False)
    m = CorrNet(random_state=0, pseudo_pair_start=0.5, **kw)
    m.fit(tr.X[:200], tr.Y[:200], X_only=tr.X[200:half], Y_only=tr.Y[half:])
    pseudo = m.history_.term("pseudo")
    # the pseudo-pairs' paired loss (reconstruction minus lam x correlation), 0 before the start
    assert all(v == 0 for v in pseudo[:5]) and all(v != 0 for v in pseudo[5:])
    assert m.module_.single_rows == {} and m.module_.partners is None  # no rows kept
    # the matching, run on the trained network: nearest neighbours mostly share their class,
    # mutual ones (a subset) more often
    module = m.module_
    Xo, Yo = torch.from_numpy(tr.X[200:half]), torch.from_numpy(tr.Y[half:])
    module.single_views, module.single_rows = ("x", "y"), {"x": Xo, "y": Yo}
    lx, ly = tr.labels[200:half], tr.labels[half:]
    same = {}
    for match in ("nearest", "mutual"):
        module.pseudo_match = match
        module.start_epoch(module.pseudo_start)
        partner, matched = module.partners["x"]
        share = float(matched.float().mean())
        assert share == 1 if match == "nearest" else 0.1 < share < 1
        same[match] = np.mean(lx[matched.numpy()] == ly[partner[matched].numpy()])
    # 10 classes: about 0.1 by chance (0.08 with untrained weights)
    assert 0.5 < same["nearest"] < same["mutual"], same
    # pseudo_pair_weight=0: no pseudo-pairs, the single rows train on their own terms alone
    off = CorrNet(random_state=0, pseudo_pair_weight=0.0, **kw)
    off.fit(tr.X[:200], tr.Y[:200], X_only=tr.X[200:half], Y_only=tr.Y[half:])
    assert "pseudo" not in off.history_.terms and "single_x" in off.history_.terms
