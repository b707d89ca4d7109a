"""Linear methods beyond memory: moments merged across chunks, RidgeMap.partial_fit, and CCA /
RidgeMap fitted on Dask arrays (on a dask.distributed LocalCluster) equal the in-memory fits."""

from __future__ import annotations

import numpy as np
import pytest

from crossview.exceptions import CrossviewError
from crossview.io import load_model
from crossview.linear._common import CCA_PAIRS, StreamingMoments
from crossview.linear.cca import CCA
from crossview.linear.ridge_map import RidgeMap

RIDGES = [
    dict(alpha=3.0),
    dict(alpha=0.0),
    dict(alphas=[1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1e3], cv="gcv"),
]


@pytest.fixture(scope="module")
def views():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1200, 9)) + 4.0  # off the origin: centring matters
    Y = X[:, :5] @ rng.normal(size=(5, 7)) + 0.5 * rng.normal(size=(1200, 7))
    return X, Y


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_merged_moments_equal_one_pass(views):
    X, Y = views
    whole = StreamingMoments((9, 7), CCA_PAIRS)
    whole.add_rows((X, Y))
    merged = StreamingMoments((9, 7), CCA_PAIRS)
    for sl in (slice(0, 1), slice(1, 500), slice(500, 500), slice(500, 1200)):
        part = StreamingMoments((9, 7), CCA_PAIRS)
        part.add_rows((X[sl], Y[sl]))
        merged.merge(part)
    assert merged.n == whole.n == 1200
    for a, b in zip(merged.means, whole.means):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for p in CCA_PAIRS:
        np.testing.assert_allclose(merged.scatter[p], whole.scatter[p], rtol=1e-10)


@pytest.mark.parametrize("params", RIDGES)
def test_ridge_partial_fit_equals_fit(views, params, tmp_path):
    X, Y = views
    full = RidgeMap(**params).fit(X, Y)
    parts = RidgeMap(**params)
    for sl in np.array_split(np.arange(1200), 4)[:2]:
        parts.partial_fit(X[sl], Y[sl])
    # save half-way, load, go on: the same as one pass
    parts.save(tmp_path / "half")
    parts = load_model(tmp_path / "half")
    for sl in np.array_split(np.arange(1200), 4)[2:]:
        parts.partial_fit(X[sl], Y[sl])
    assert parts.n_samples_seen_ == 1200
    for name in ("coef_xy_", "coef_yx_", "mean_x_", "mean_y_"):
        np.testing.assert_allclose(getattr(parts, name), getattr(full, name), rtol=1e-8, atol=1e-10)
    assert (parts.alpha_xy_, parts.alpha_yx_) == (full.alpha_xy_, full.alpha_yx_)
    if "alphas" in params:
        np.testing.assert_allclose(parts.cv_errors_xy_, full.cv_errors_xy_, rtol=1e-8)
    np.testing.assert_allclose(parts.predict(X[:5]), full.predict(X[:5]), rtol=1e-8)


def test_ridge_streaming_needs_gcv_and_consistent_widths(views):
    X, Y = views
    with pytest.raises(CrossviewError, match="cv='gcv'"):
        RidgeMap(alphas=[0.1, 1.0]).partial_fit(X, Y)
    m = RidgeMap().partial_fit(X[:10], Y[:10])
    with pytest.raises(CrossviewError, match="earlier chunks had 9"):
        m.partial_fit(X[:10, :4], Y[:10])


def test_cca_on_dask_equals_in_memory(views, client):
    import dask.array as da

    X, Y = views
    full = CCA(n_components=4, alpha=1e-3).fit(X, Y)
    dx = da.from_array(X, chunks=(250, 5))  # row chunks not aligned with Y's, split columns
    dy = da.from_array(Y, chunks=(400, 7))
    lazy = CCA(n_components=4, alpha=1e-3).fit(dx, dy)
    assert lazy.n_samples_seen_ == 1200
    for name in ("x_weights_", "y_weights_", "canonical_correlations_", "coef_xy_"):
        np.testing.assert_allclose(getattr(lazy, name), getattr(full, name), rtol=1e-8, atol=1e-10)
    # one Dask view and one NumPy view work too
    mixed = CCA(n_components=4, alpha=1e-3).fit(dx, Y)
    np.testing.assert_allclose(mixed.transform(X), full.transform(X), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("params", RIDGES)
def test_ridge_on_dask_equals_in_memory(views, client, params):
    import dask.array as da

    X, Y = views
    full = RidgeMap(**params).fit(X, Y)
    lazy = RidgeMap(**params).fit(da.from_array(X, chunks=300), da.from_array(Y, chunks=300))
    np.testing.assert_allclose(lazy.coef_xy_, full.coef_xy_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(lazy.coef_yx_, full.coef_yx_, rtol=1e-8, atol=1e-10)
    assert lazy.alpha_xy_ == full.alpha_xy_


def test_dask_bad_input_is_named(views):
    da = pytest.importorskip("dask.array")
    X, Y = views
    with pytest.raises(CrossviewError, match="same, known number of rows"):
        CCA().fit(da.from_array(X), da.from_array(Y[:-1]))
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(CrossviewError, match="NaN or infinite"):
        RidgeMap().fit(da.from_array(bad, chunks=200), da.from_array(Y, chunks=200))
    with pytest.raises(CrossviewError, match="2-D"):
        CCA().fit(da.from_array(X[:, 0]), da.from_array(Y))
    with pytest.raises(CrossviewError, match="cv='gcv'"):
        RidgeMap(alphas=[1.0]).fit(da.from_array(X), da.from_array(Y))


def test_npy_rows_stream_from_disk_and_fit_like_memory(views, tmp_path):
    from crossview.datasets.npy_stream import iter_npy_rows, npy_info, read_npy_rows

    X, Y = views
    np.save(tmp_path / "x.npy", X.astype(np.float32))
    np.save(tmp_path / "y.npy", Y.astype(np.float32))
    info = npy_info(tmp_path / "x.npy")
    assert info.shape == (1200, 9) and info.dtype == np.float32
    chunks = list(iter_npy_rows(tmp_path / "x.npy", chunk_rows=500))
    assert [len(c) for c in chunks] == [500, 500, 200]
    np.testing.assert_array_equal(np.vstack(chunks), X.astype(np.float32))
    np.testing.assert_array_equal(
        read_npy_rows(tmp_path / "y.npy", 7, 9), Y[7:9].astype(np.float32)
    )
    model = CCA(n_components=3)
    for cx, cy in zip(
        iter_npy_rows(tmp_path / "x.npy", 300), iter_npy_rows(tmp_path / "y.npy", 300)
    ):
        model.partial_fit(cx, cy)
    full = CCA(n_components=3).fit(X.astype(np.float32), Y.astype(np.float32))
    np.testing.assert_allclose(model.x_weights_, full.x_weights_, rtol=1e-8, atol=1e-10)


def test_npy_dask_reads_chunks(views, tmp_path, client):
    from crossview.datasets.npy_stream import npy_dask

    X, Y = views
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", Y)
    dx, dy = npy_dask(tmp_path / "x.npy", 256), npy_dask(tmp_path / "y.npy", 256)
    assert dx.shape == X.shape and dx.chunks[0][0] == 256
    lazy = RidgeMap(alpha=2.0).fit(dx, dy)
    np.testing.assert_allclose(lazy.coef_xy_, RidgeMap(alpha=2.0).fit(X, Y).coef_xy_, rtol=1e-8)


def test_npy_stream_errors(tmp_path):
    from crossview.datasets.npy_stream import iter_npy_rows, npy_info

    np.save(tmp_path / "one.npy", np.arange(5.0))
    with pytest.raises(CrossviewError, match="expected 2-D"):
        npy_info(tmp_path / "one.npy")
    np.save(tmp_path / "f.npy", np.asfortranarray(np.ones((3, 2))))
    with pytest.raises(CrossviewError, match="Fortran order"):
        npy_info(tmp_path / "f.npy")
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(CrossviewError, match="not a .npy file"):
        npy_info(tmp_path / "bad.npy")
    with pytest.raises(CrossviewError, match="cannot read"):
        npy_info(tmp_path / "missing.npy")
    np.save(tmp_path / "t.npy", np.ones((10, 4)))
    raw = (tmp_path / "t.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(raw[:-40])
    with pytest.raises(CrossviewError, match="truncated"):
        list(iter_npy_rows(tmp_path / "t.npy", 4))


def test_cli_fit_streams_npy_views(views, tmp_path, capsys):
    """`crossview fit cca --stream` reads the views chunk by chunk and equals the in-memory fit."""
    from cli_helpers import user_error

    from crossview.cli import main

    X, Y = views
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", Y)
    args = ["--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.npy")]
    assert main(["fit", "cca", *args, "--out", str(tmp_path / "s"), "--stream", "-q"]) == 0
    assert main(["fit", "cca", *args, "--out", str(tmp_path / "m"), "--no-stream", "-q"]) == 0
    streamed, whole = load_model(tmp_path / "s"), load_model(tmp_path / "m")
    np.testing.assert_allclose(streamed.transform(X), whole.transform(X), rtol=1e-8, atol=1e-10)
    assert main(["fit", "ridge", *args, "--out", str(tmp_path / "r"), "--stream", "-q"]) == 0
    np.testing.assert_allclose(
        load_model(tmp_path / "r").predict(X), RidgeMap().fit(X, Y).predict(X), rtol=1e-8
    )
    capsys.readouterr()
    line = user_error(
        capsys, ["fit", "procrustes", *args, "--out", str(tmp_path / "p"), "--stream"]
    )
    assert "partial_fit" in line
    np.savetxt(tmp_path / "x.csv", X, delimiter=",")
    csv = ["--x", str(tmp_path / "x.csv"), "--y", str(tmp_path / "y.npy")]
    assert ".npy" in user_error(
        capsys, ["fit", "cca", *csv, "--out", str(tmp_path / "c"), "--stream"]
    )
    np.save(tmp_path / "short.npy", Y[:-1])
    short = ["--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "short.npy")]
    line = user_error(capsys, ["fit", "cca", *short, "--out", str(tmp_path / "q"), "--stream"])
    assert "same rows" in line
