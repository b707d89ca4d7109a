"""Deep training from rows on disk (DiskRows): the same batches, weights and outputs as the same
rows in memory, shuffle buffers, shards, clear errors, and `crossview fit --stream`."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from cli_helpers import user_error

from crossview.cli import main
from crossview.datasets.npy_stream import DiskRows
from crossview.deep.corrnet import CorrNet
from crossview.deep.dcca import DCCA, DCCAE
from crossview.deep.mlp_map import MLPMap
from crossview.deep.multimodal_ae import MultimodalAE
from crossview.deep.trainer import _epoch_plan, train
from crossview.exceptions import CrossviewError
from crossview.io import load_model


@pytest.fixture(scope="module")
def views():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 3))
    X = (z @ rng.normal(size=(3, 12)) + 0.1 * rng.normal(size=(300, 12))).astype(np.float32)
    Y = (z @ rng.normal(size=(3, 9)) + 0.1 * rng.normal(size=(300, 9))).astype(np.float32)
    return X, Y


@pytest.fixture
def on_disk(views, tmp_path):
    """X as a folder of three shards, Y as one file."""
    X, Y = views
    (tmp_path / "xs").mkdir()
    for name, (a, b) in zip("abc", [(0, 70), (70, 71), (71, 300)]):
        np.save(tmp_path / "xs" / f"{name}.npy", X[a:b])
    np.save(tmp_path / "y.npy", Y)
    return tmp_path / "xs", tmp_path / "y.npy"


def test_npy_rows_reads_ranges_across_shards(views, on_disk):
    X, _ = views
    rows = DiskRows(on_disk[0])
    assert rows.shape == X.shape and len(rows) == 300 and rows.dtype == np.float32
    for a, b in [(0, 300), (65, 75), (70, 71), (71, 72), (299, 400), (5, 5)]:
        np.testing.assert_array_equal(rows.read(a, b), X[a:b])
    np.testing.assert_array_equal(rows[10:80], X[10:80])
    np.testing.assert_array_equal(np.concatenate(list(rows.chunks(64))), X)
    with pytest.raises(CrossviewError, match=r"rows\[a:b\]"):
        rows[[1, 2]]


def test_npy_rows_errors(tmp_path):
    with pytest.raises(CrossviewError, match="does not exist"):
        DiskRows(tmp_path / "missing.npy")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CrossviewError, match="no .npy or .parquet shards"):
        DiskRows(tmp_path / "empty")
    (tmp_path / "mixed").mkdir()
    np.save(tmp_path / "mixed" / "a.npy", np.ones((3, 4), np.float32))
    np.save(tmp_path / "mixed" / "b.npy", np.ones((3, 5), np.float32))
    with pytest.raises(CrossviewError, match="differ in columns"):
        DiskRows(tmp_path / "mixed")
    with pytest.raises(CrossviewError, match="shuffle_buffer must be >= 1"):
        DiskRows(tmp_path / "mixed" / "a.npy", shuffle_buffer=0)


def _write_parquet(path, rows, row_group_size, names=None):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    names = names or [f"f{j}" for j in range(rows.shape[1])]
    table = pa.table({name: rows[:, j] for j, name in enumerate(names)})
    pq.write_table(table, path, row_group_size=row_group_size)


def test_parquet_rows_read_by_row_group(views, tmp_path):
    X, _ = views
    (tmp_path / "px").mkdir()
    _write_parquet(tmp_path / "px" / "a.parquet", X[:100], 32)
    _write_parquet(tmp_path / "px" / "b.parquet", X[100:], 50)
    rows = DiskRows(tmp_path / "px")
    assert rows.shape == X.shape and rows.dtype == np.float32  # float32 columns stay float32
    for a, b in [(0, 300), (30, 34), (99, 101), (150, 151), (290, 400)]:
        np.testing.assert_array_equal(rows.read(a, b), X[a:b])
    np.testing.assert_array_equal(np.concatenate(list(rows.chunks(64))), X)
    # its row groups are its blocks, numbered across the shards
    starts = [0, 32, 64, 96, 100, 150, 200, 250, 300]
    assert rows.blocks == list(zip(starts[:-1], starts[1:]))
    assert DiskRows(tmp_path / "px" / "b.parquet").blocks[0] == (0, 50)
    _write_parquet(tmp_path / "wide.parquet", X.astype(np.float64), 64)
    assert DiskRows(tmp_path / "wide.parquet").dtype == np.float64
    assert len(rows._groups) <= 2  # the last two decoded row groups, whatever the shards
    with pytest.raises(ValueError, match="read-only"):
        rows.read(0, 10)[0, 0] = 1.0  # a slice of a cached row group
    _write_parquet(tmp_path / "px" / "c.parquet", X[:0], 8)  # an empty shard adds no rows
    np.testing.assert_array_equal(DiskRows(tmp_path / "px").read(0, 300), X)
    with pytest.raises(CrossviewError, match="holds no rows"):
        DiskRows(tmp_path / "px" / "c.parquet")
    with pytest.warns(UserWarning, match="row groups of up to 50 rows"):
        DiskRows(tmp_path / "px", shuffle_buffer=40)
    with pytest.raises(ValueError, match="cover rows 0 to 10"):
        _epoch_plan(10, torch.Generator(), 4, [(0, 5), (6, 10)])
    np.save(tmp_path / "px" / "d.npy", X[:3])
    with pytest.raises(CrossviewError, match="both .npy and .parquet"):
        DiskRows(tmp_path / "px")
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"w": ["a", "b"], "s": ["x", "y"]}), tmp_path / "text.parquet")
    with pytest.raises(CrossviewError, match="column 's' holds text"):
        DiskRows(tmp_path / "text.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(CrossviewError, match="not a readable Parquet file"):
        DiskRows(tmp_path / "bad.parquet")
    (tmp_path / "x.csv").write_text("1,2\n")
    with pytest.raises(CrossviewError, match="neither a .npy nor a .parquet"):
        DiskRows(tmp_path / "x.csv")


def test_training_from_parquet_shuffles_its_row_groups(views, on_disk, tmp_path):
    X, Y = views
    # row groups of buffer // 64 rows are the blocks a .npy source is cut into: the same order
    _write_parquet(tmp_path / "x.parquet", X, 2)
    _write_parquet(tmp_path / "y.parquet", Y, 2)
    parquet = tuple(DiskRows(tmp_path / f"{v}.parquet", shuffle_buffer=128) for v in "xy")
    npy = (DiskRows(on_disk[0], shuffle_buffer=128), DiskRows(on_disk[1], shuffle_buffer=128))
    from_parquet, _ = _train(parquet)
    from_npy, _ = _train(npy)
    for k, v in from_npy.items():
        torch.testing.assert_close(from_parquet[k], v, rtol=0, atol=0)
    # larger row groups: buffers of whole row groups, every row once an epoch
    groups = [(0, 100), (100, 130), (130, 160), (160, 300)]
    order, buffers = _epoch_plan(300, torch.Generator().manual_seed(0), 64, groups)
    assert sorted(order.tolist()) == list(range(300))
    assert all(set(ranges) <= set(groups) for ranges, _ in buffers)
    assert all(sum(b - a for a, b in ranges) >= 64 for ranges, _ in buffers[:-1])
    _write_parquet(tmp_path / "x40.parquet", X, 40)
    model = CorrNet(n_components=2, x_hidden=(8,), epochs=2, batch_size=32, random_state=0)
    model.set_params(verbose=False).fit(DiskRows(tmp_path / "x40.parquet"), DiskRows(on_disk[1]))
    assert np.isfinite(model.transform(X)).all()


def test_epoch_plan_shuffles_blocks_then_rows_within_buffers():
    gen = torch.Generator().manual_seed(0)
    whole, buffers = _epoch_plan(10, gen, None)
    assert torch.equal(whole, torch.randperm(10, generator=torch.Generator().manual_seed(0)))
    assert buffers[0][0] == [(0, 10)]
    order, buffers = _epoch_plan(1000, torch.Generator().manual_seed(1), 128)
    assert sorted(order.tolist()) == list(range(1000))  # every row once
    assert len(buffers) == 8 and all(b - a == 2 for ranges, _ in buffers for a, b in ranges[:-1])
    start = 0
    for ranges, perm in buffers:  # a buffer's stretch of the order holds its blocks' rows
        rows = {r for a, b in ranges for r in range(a, b)}
        assert set(order[start : start + len(perm)].tolist()) == rows
        start += len(perm)
    again, _ = _epoch_plan(1000, torch.Generator().manual_seed(1), 128)
    assert torch.equal(order, again)


def _train(data, **kwargs):
    torch.manual_seed(0)
    module = CorrNet(n_components=3, x_hidden=(8,), batch_size=16)._build_module(12, 9)
    hist = train(
        module, data, epochs=3, batch_size=16, random_state=5, device="cpu", verbose=False, **kwargs
    )
    return module.state_dict(), hist


def test_training_from_disk_equals_training_in_memory_with_the_same_buffer(views, on_disk):
    X, Y = (torch.from_numpy(a) for a in views)
    disk = (DiskRows(on_disk[0], shuffle_buffer=40), DiskRows(on_disk[1], shuffle_buffer=40))
    streamed, hist = _train(disk)
    in_memory, hist_memory = _train((X, Y), shuffle_buffer=40)
    for k, v in in_memory.items():
        torch.testing.assert_close(streamed[k], v, rtol=0, atol=0)
    assert hist.train == hist_memory.train and hist.samples_seen == 3 * 300
    # the buffer changes the order: a whole shuffle trains to other weights
    whole, _ = _train((X, Y))
    assert not torch.equal(whole["enc_x.0.weight"], in_memory["enc_x.0.weight"])
    # validation rows may be on disk too
    _, with_val = _train(disk, val_data=(DiskRows(on_disk[0]), DiskRows(on_disk[1])))
    _, with_val_memory = _train((X, Y), val_data=(X, Y), shuffle_buffer=40)
    for row, row_memory in zip(with_val.val, with_val_memory.val):
        assert row == pytest.approx(row_memory, rel=1e-6)


def test_streamed_training_resumes_exactly(views, on_disk, tmp_path):
    disk = (DiskRows(on_disk[0], shuffle_buffer=40), DiskRows(on_disk[1], shuffle_buffer=40))
    whole, _ = _train(disk)
    ckpt = tmp_path / "ckpt"
    torch.manual_seed(0)
    module = CorrNet(n_components=3, x_hidden=(8,), batch_size=16)._build_module(12, 9)
    common = dict(batch_size=16, random_state=5, device="cpu", verbose=False)
    train(module, disk, epochs=1, checkpoint_dir=ckpt, **common)
    train(module, disk, epochs=3, checkpoint_dir=ckpt, resume=True, **common)
    for k, v in whole.items():
        torch.testing.assert_close(module.state_dict()[k], v, rtol=0, atol=0)


def test_rows_on_disk_train_only_as_the_one_data_set(views, on_disk):
    X, _ = (torch.from_numpy(a) for a in views)
    with pytest.raises(CrossviewError, match="only data set"):
        _train([(DiskRows(on_disk[0]), DiskRows(on_disk[1])), (X,)])


METHODS = [
    (CorrNet, {"n_components": 3, "x_hidden": (8,)}),
    (DCCA, {"n_components": 3, "x_hidden": (8,)}),
    (DCCAE, {"n_components": 3, "x_hidden": (8,)}),
    (MultimodalAE, {"n_components": 3, "x_hidden": (8,)}),
    (MLPMap, {"hidden": (8,)}),
]


@pytest.mark.parametrize("cls, params", METHODS, ids=[c.__name__ for c, _ in METHODS])
def test_estimators_fit_from_disk_like_from_memory(views, on_disk, cls, params):
    """With a shuffle buffer of all rows a fit from disk is the fit in memory, bit for bit."""
    X, Y = views
    kwargs = dict(params, epochs=2, batch_size=32, random_state=0, verbose=False)
    memory = cls(**kwargs).fit(X, Y)
    disk = cls(**kwargs).fit(DiskRows(on_disk[0]), DiskRows(on_disk[1]))
    out = "transform" if hasattr(memory, "transform") else "predict"
    np.testing.assert_array_equal(getattr(disk, out)(X), getattr(memory, out)(X))
    assert disk.n_features_in_ == 12 and disk.history_.train == memory.history_.train


def test_estimator_errors_for_rows_on_disk(views, on_disk, tmp_path):
    X, Y = views
    x, y = DiskRows(on_disk[0]), DiskRows(on_disk[1])
    model = CorrNet(n_components=2, x_hidden=(4,), epochs=1, batch_size=32, verbose=False)
    with pytest.raises(CrossviewError, match="both views as DiskRows"):
        model.fit(x, Y)
    with pytest.raises(CrossviewError, match="X_only"):
        model.fit(x, y, X_only=X)
    np.save(tmp_path / "short.npy", Y[:-1])
    with pytest.raises(CrossviewError, match="different numbers of rows"):
        model.fit(x, DiskRows(tmp_path / "short.npy"))
    bad = Y.copy()
    bad[123, 4] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(CrossviewError, match="NaN or inf in row 123"):
        model.fit(x, DiskRows(tmp_path / "nan.npy"))
    with pytest.raises(CrossviewError, match="X_val has 9 features"):
        model.fit(x, y, X_val=Y, Y_val=Y)
    with pytest.raises(CrossviewError, match="larger than the 300"):
        CorrNet(batch_size=400, verbose=False).fit(x, y)


def test_cli_fit_streams_deep_methods(views, on_disk, tmp_path, capsys, monkeypatch):
    X, Y = views
    args = ["--x", str(on_disk[0]), "--y", str(on_disk[1])]
    params = ["-p", "n_components=2", "-p", "x_hidden=8", "-p", "epochs=2", "-p", "batch_size=32"]
    params += ["-p", "random_state=0"]
    # a folder of shards streams by default
    assert main(["fit", "corrnet", *args, *params, "--out", str(tmp_path / "s")]) == 0
    assert "streamed from disk" in capsys.readouterr().out
    np.save(tmp_path / "x.npy", X)
    whole = ["--x", str(tmp_path / "x.npy"), "--y", str(on_disk[1])]
    assert main(["fit", "corrnet", *whole, *params, "--out", str(tmp_path / "m"), "-q"]) == 0
    np.testing.assert_array_equal(
        load_model(tmp_path / "s").transform(X), load_model(tmp_path / "m").transform(X)
    )
    # files above the size threshold stream; validation files may come along
    import crossview.cli.models as models

    monkeypatch.setattr(models, "STREAM_BYTES", 1000)
    val = ["--x-val", str(tmp_path / "x.npy"), "--y-val", str(on_disk[1])]
    assert main(["fit", "dcca", *whole, *val, *params, "--out", str(tmp_path / "d")]) == 0
    assert "streamed from disk" in capsys.readouterr().out
    # Parquet views too, for the deep methods and for partial_fit
    for v, rows in zip("xy", views):
        _write_parquet(tmp_path / f"{v}.parquet", rows, 64)
    pq_args = ["--x", str(tmp_path / "x.parquet"), "--y", str(tmp_path / "y.parquet"), "--stream"]
    assert main(["fit", "corrnet", *pq_args, *params, "--out", str(tmp_path / "p")]) == 0
    assert "streamed from disk" in capsys.readouterr().out
    assert (
        main(["fit", "cca", *pq_args, "-p", "n_components=2", "--out", str(tmp_path / "c"), "-q"])
        == 0
    )
    from crossview.linear import CCA

    ref = CCA(n_components=2).fit(X.astype(np.float64), Y.astype(np.float64))
    np.testing.assert_allclose(load_model(tmp_path / "c").transform(X), ref.transform(X), atol=1e-8)
    line = user_error(capsys, ["fit", "kcca", *whole, "--out", str(tmp_path / "k"), "--stream"])
    assert "deep paired method" in line
