"""The shared trainer: determinism, resume, early stopping, the NaN guard, history."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from crossview.deep.trainer import History, NonFiniteLossError, evaluate, train
from crossview.exceptions import CrossviewError


class ToyMap(nn.Module):
    """Linear regression y = x W with two named terms."""

    def __init__(self, d_in=5, d_out=3, poison_at=None):
        super().__init__()
        self.lin = nn.Linear(d_in, d_out)
        self.poison_at = poison_at
        self.calls = 0

    def forward(self, x, y):
        self.calls += 1
        mse = ((self.lin(x) - y) ** 2).mean()
        l1 = self.lin.weight.abs().mean()
        if self.poison_at is not None and self.calls >= self.poison_at:
            l1 = l1 * float("nan")
        return {"loss": mse + 1e-3 * l1, "mse": mse, "l1": l1}


def _data(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 5, generator=g)
    W = torch.randn(5, 3, generator=g)
    return X, X @ W + 0.01 * torch.randn(n, 3, generator=g)


def _fit(epochs=6, seed=1, **kw):
    torch.manual_seed(seed)
    m = ToyMap()
    h = train(
        m,
        _data(),
        epochs=epochs,
        batch_size=32,
        learning_rate=0.05,
        random_state=seed,
        verbose=False,
        device="cpu",
        **kw,
    )
    return m, h


def test_learns_and_records_every_term():
    m, h = _fit(epochs=30)
    assert h.terms == ["loss", "mse", "l1"]
    assert len(h.term("mse")) == 30
    assert h.term("mse")[-1] < 0.01 * h.term("mse")[0]
    assert h.samples_seen == 30 * 200 and h.samples_per_second > 0


def test_same_seed_same_weights():
    a, _ = _fit()
    b, _ = _fit()
    assert torch.equal(a.lin.weight, b.lin.weight)


def test_resume_matches_uninterrupted(tmp_path):
    full, h_full = _fit(epochs=6)
    part, _ = _fit(epochs=3, checkpoint_dir=tmp_path)
    torch.manual_seed(123)  # a different global state: resume must restore it
    resumed = ToyMap()
    h = train(
        resumed,
        _data(),
        epochs=6,
        batch_size=32,
        learning_rate=0.05,
        random_state=1,
        verbose=False,
        device="cpu",
        checkpoint_dir=tmp_path,
        resume=True,
    )
    assert torch.equal(resumed.lin.weight, full.lin.weight)
    assert len(h.train) == 6
    assert np.allclose(h.term("loss"), h_full.term("loss"))


def test_nan_guard_names_epoch_and_term():
    m = ToyMap(poison_at=9)  # 6 batches per epoch: call 9 is batch 3 of epoch 2
    with pytest.raises(NonFiniteLossError, match=r"epoch 2, batch 3: loss term\(s\) l1"):
        train(m, _data(), epochs=3, batch_size=32, verbose=False, device="cpu", random_state=0)


def test_early_stopping_restores_best():
    X, Y = _data()
    Xv, Yv = _data(seed=5)
    Yv = Yv + 10 * torch.randn_like(Yv)  # validation noise: val loss stops improving early
    torch.manual_seed(0)
    m = ToyMap()
    h = train(
        m,
        (X, Y),
        (Xv, Yv),
        epochs=200,
        batch_size=32,
        learning_rate=0.05,
        patience=3,
        random_state=0,
        verbose=False,
        device="cpu",
    )
    assert h.stopped_early and len(h.train) < 200
    best = h.best_epoch
    assert h.val[best]["loss"] == min(r["loss"] for r in h.val)


def test_history_round_trip():
    _, h = _fit(epochs=2)
    assert History.from_dict(h.to_dict()) == h


def test_bad_optimizer_is_clear():
    with pytest.raises(
        CrossviewError,
        match="'optimizer' parameter of train must be a str "
        "among .*'adamw'.* Got 'adagrad-ish' instead",
    ):
        train(ToyMap(), _data(), epochs=1, optimizer="adagrad-ish", verbose=False, device="cpu")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"epochs": 1.5},
            r"'epochs' parameter of train must be an int in the range \[1, inf\)\. "
            r"Got 1.5 instead",
        ),
        ({"epochs": "auto"}, "'epochs' parameter of train .* Got 'auto'"),  # estimators resolve it
        ({"batch_size": 0}, r"'batch_size' parameter of train must be an int in the range \[1, "),
        (
            {"patience": 0},
            r"'patience' parameter of train must be an int in the range \[1, inf\) "
            "or None. Got 0 instead",
        ),
        (
            {"random_state": "abc"},
            "'random_state' parameter of train must be an instance of 'int' "
            "or None. Got 'abc' instead",
        ),
        ({"learning_rate": 0.0}, r"'learning_rate' parameter of train .* \(0.0, inf\)"),
        ({"lr_schedule": "linear"}, "'lr_schedule' parameter of train .* Got 'linear'"),
        ({"checkpoint_dir": 3}, "'checkpoint_dir' parameter of train"),
    ],
)
def test_settings_are_checked_before_training(kwargs, message):
    m = ToyMap()
    settings = dict(epochs=2, batch_size=32, verbose=False, device="cpu") | kwargs
    with pytest.raises(CrossviewError, match=message):
        train(m, _data(), **settings)
    assert m.calls == 0


def test_checkpoint_dir_that_is_a_file_fails_before_the_first_epoch(tmp_path):
    (tmp_path / "taken").write_text("a file")
    m = ToyMap()
    with pytest.raises(ValueError, match="checkpoint_dir .*taken is a file; expected a folder"):
        train(
            m,
            _data(),
            epochs=2,
            batch_size=32,
            verbose=False,
            device="cpu",
            checkpoint_dir=tmp_path / "taken",
        )
    assert m.calls == 0


# ---- mixed precision -------------------------------------------------------------------------


def test_unknown_precision_is_clear():
    with pytest.raises(
        CrossviewError,
        match="'precision' parameter of train must be a str "
        "among .*'bfloat16'.* Got 'float16' instead",
    ):
        _fit(precision="float16")


def test_bfloat16_training_learns_and_keeps_float32_weights():
    m, h = _fit(epochs=30, precision="bfloat16")
    assert m.lin.weight.dtype == torch.float32
    assert h.term("mse")[-1] < 0.01 * h.term("mse")[0]


def test_losses_compute_in_float32_under_autocast():
    from crossview.deep.losses import canonical_correlations, correlation_sum, mse

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 8, generator=g), torch.randn(64, 8, generator=g)
    a16, b16 = a.bfloat16(), b.bfloat16()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = [mse(a16, b), correlation_sum(a16, b16), canonical_correlations(a16, b16)]
    want = [
        mse(a16.float(), b),
        correlation_sum(a16.float(), b16.float()),
        canonical_correlations(a16.float(), b16.float()),
    ]
    for g_, w in zip(got, want):
        assert g_.dtype == torch.float32
        torch.testing.assert_close(g_, w, rtol=1e-6, atol=1e-6)


class _ThreadProbe(ToyMap):
    """Records torch's thread count during each training step."""

    seen: list

    def forward(self, x, y):
        self.seen.append(torch.get_num_threads())
        return super().forward(x, y)


def test_crossview_threads_caps_training_threads_and_restores_them(monkeypatch):
    before = torch.get_num_threads()
    module = _ThreadProbe()
    module.seen = []
    monkeypatch.setenv("CROSSVIEW_THREADS", "1")
    train(module, _data(), epochs=1, batch_size=50, random_state=0, verbose=False)
    assert set(module.seen) == {1}
    assert torch.get_num_threads() == before
    monkeypatch.delenv("CROSSVIEW_THREADS")
    module.seen = []
    train(module, _data(), epochs=1, batch_size=50, random_state=0, verbose=False)
    assert set(module.seen) == {before}  # unset: the caller's setting is used as it is
    monkeypatch.setenv("CROSSVIEW_THREADS", "two")
    with pytest.raises(CrossviewError, match="CROSSVIEW_THREADS must be a positive integer"):
        train(module, _data(), epochs=1, batch_size=50, verbose=False)


# ---- several data sets (unpaired data) -------------------------------------------------------


class _Recorder(nn.Module):
    """Records the tensors of every call; the loss is the mean of the first tensor of the set
    with the most rows (``main``), so its epoch mean is that set's mean whatever the batches."""

    def __init__(self, main=0):
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))
        self.main = main
        self.seen: list[tuple[torch.Tensor, ...]] = []

    def forward(self, *tensors):
        self.seen.append(tuple(t.clone() for t in tensors))
        m = tensors[self.main].mean()
        return {"loss": (self.w * 0 + 1) * m, "m": m}


def _indexed(n, offset):
    """A one-set data set whose rows are their own index, plus ``offset``, in two tensors."""
    idx = torch.arange(n)
    return (idx + offset, (idx + offset).float())


def test_several_sets_call_the_module_with_one_batch_of_each_in_order():
    small, large, mid = _indexed(7, 1000), _indexed(100, 2000), _indexed(30, 3000)
    module = _Recorder(main=3)  # the float tensor of the largest set, the second one
    h = train(
        module,
        [small, large, mid],
        epochs=2,
        batch_size=20,
        random_state=0,
        verbose=False,
        device="cpu",
    )
    steps = 5  # round(100 / 20), from the largest set
    assert len(module.seen) == 2 * steps
    for epoch in range(2):
        calls = module.seen[epoch * steps : (epoch + 1) * steps]
        for k, (offset, n) in enumerate([(1000, 7), (2000, 100), (3000, 30)]):
            rows = []
            for call in calls:
                assert len(call) == 6  # two tensors of each of the three sets
                idx, x = call[2 * k], call[2 * k + 1]
                assert torch.equal(x, idx.float())  # the tensors of a set stay aligned
                assert abs(len(idx) - min(20, n)) <= 1
                rows.append(idx - offset)
            rows = torch.cat(rows)
            assert rows.min() >= 0 and rows.max() < n  # each argument from its own set
            assert set(rows.tolist()) == set(range(n))  # every row at least once an epoch
            if n == 100:
                assert sorted(rows.tolist()) == list(range(n))  # the largest: exactly once
    assert h.samples_seen == 2 * (7 * steps + 100 + 20 * steps)
    # weighted by the largest set's rows: the epoch mean of its batch means is its mean
    assert np.allclose(h.term("m"), [2049.5, 2049.5])


def test_one_set_as_a_tuple_or_a_one_element_list_trains_the_same():
    X, Y = _data()
    Xv, Yv = _data(seed=5)
    runs = []
    for train_data, val_data in [((X, Y), (Xv, Yv)), ([(X, Y)], [(Xv, Yv)])]:
        torch.manual_seed(1)
        m = ToyMap()
        h = train(
            m,
            train_data,
            val_data,
            epochs=4,
            batch_size=32,
            learning_rate=0.05,
            random_state=1,
            verbose=False,
            device="cpu",
        )
        runs.append((m, h))
    (a, ha), (b, hb) = runs
    assert torch.equal(a.lin.weight, b.lin.weight) and torch.equal(a.lin.bias, b.lin.bias)
    assert ha.train == hb.train and ha.val == hb.val
    assert ha.samples_seen == hb.samples_seen == 4 * 200
    assert ha.best_epoch == hb.best_epoch


class _PairedAndUnpaired(nn.Module):
    """A map fitted on known pairs (x, y), with a dropout and a term on unpaired x rows."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(5, 3)
        self.drop = nn.Dropout(0.1)

    def forward(self, x, y, x_only):
        mse = ((self.lin(self.drop(x)) - y) ** 2).mean()
        spread = self.lin(x_only).pow(2).mean()
        return {"loss": mse + 1e-3 * spread, "mse": mse, "spread": spread}


def _unpaired_data():
    X, Y = _data(n=40)
    X_only, _ = _data(n=150, seed=2)
    Xv, Yv = _data(n=30, seed=3)
    Xv_only, _ = _data(n=60, seed=4)
    return [(X, Y), (X_only,)], [(Xv, Yv), (Xv_only,)]


def _fit_unpaired(epochs, **kw):
    train_data, val_data = _unpaired_data()
    m = _PairedAndUnpaired()
    h = train(
        m,
        train_data,
        val_data,
        epochs=epochs,
        batch_size=16,
        learning_rate=0.05,
        random_state=7,
        verbose=False,
        device="cpu",
        **kw,
    )
    return m, h


def test_several_sets_resume_matches_uninterrupted(tmp_path):
    torch.manual_seed(0)
    full, h_full = _fit_unpaired(epochs=4)
    torch.manual_seed(0)
    _fit_unpaired(epochs=2, checkpoint_dir=tmp_path)
    torch.manual_seed(123)  # a different global state (dropout): resume must restore it
    resumed, h = _fit_unpaired(epochs=4, checkpoint_dir=tmp_path, resume=True)
    assert torch.equal(resumed.lin.weight, full.lin.weight)
    assert len(h.train) == 4 and len(h.val) == 4
    assert np.allclose(h.term("loss"), h_full.term("loss"))
    assert np.allclose(h.term("loss", "val"), h_full.term("loss", "val"))
    assert h.samples_seen == h_full.samples_seen == 4 * (150 + 9 * 16)  # 9 steps of 16 pairs


def test_several_sets_validation_records_every_term():
    m, h = _fit_unpaired(epochs=3, restore_best=False)
    assert len(h.val) == 3 and list(h.val[0]) == ["loss", "mse", "spread"]
    assert all(np.isfinite(v) for row in h.val for v in row.values())
    _, val_data = _unpaired_data()
    assert h.val[-1] == pytest.approx(evaluate(m, val_data, 1000, torch.device("cpu")))


def test_several_sets_validation_goes_in_order_and_repeats_small_sets():
    module = _Recorder(main=1)
    val = [_indexed(10, 0), _indexed(3, 100)]
    out = evaluate(module, val, batch_size=2, device=torch.device("cpu"))  # 5 chunks
    assert [c[0].tolist() for c in module.seen] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert [c[2].tolist() for c in module.seen] == [[100], [101], [102], [100], [101]]
    assert out["m"] == pytest.approx(4.5)  # weighted by the rows of the largest set


@pytest.mark.parametrize(
    "train_data, val_data, message",
    [
        ([], None, r"train_data is an empty list; expected at least one data set"),
        (
            [(torch.zeros(10, 5), torch.zeros(9, 3)), (torch.zeros(4, 5),)],
            None,
            r"train_data\[0\] has tensors with different row counts \(10, 9\)",
        ),
        (
            [(torch.zeros(10, 5),), (torch.zeros(0, 5),)],
            None,
            r"train_data\[1\] has no rows",
        ),
        (
            [torch.zeros(10, 5), torch.zeros(10, 3)],
            None,
            r"train_data\[0\] must be a non-empty tuple or list of tensors, got Tensor "
            r"\(for one data set pass a tuple\)",
        ),
        (
            [(torch.zeros(10, 5), torch.zeros(10, 3)), (torch.zeros(4, 5),)],
            [(torch.zeros(6, 5), torch.zeros(6, 3))],
            r"val_data must be laid out like train_data, a list of 2 data set\(s\) with 2, 1 "
            r"tensor\(s\); got a list of 1 data set\(s\) with 2 tensor\(s\)",
        ),
        (
            [(torch.zeros(10, 5), torch.zeros(10, 3)), (torch.zeros(4, 5),)],
            (torch.zeros(6, 5), torch.zeros(6, 3)),
            r"val_data must be laid out like train_data, a list of 2 .*; got a tuple of 2",
        ),
        (
            [(torch.zeros(10, 5),), (torch.zeros(4, 5),)],
            [(torch.zeros(6, 5),), (torch.zeros(3, 5), torch.zeros(2, 5))],
            r"val_data\[1\] has tensors with different row counts \(3, 2\)",
        ),
    ],
)
def test_bad_data_sets_are_clear(train_data, val_data, message):
    module = _Recorder()
    with pytest.raises(CrossviewError, match=message):
        train(module, train_data, val_data, epochs=1, verbose=False, device="cpu")
    assert module.seen == []
