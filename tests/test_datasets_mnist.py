"""MNIST halves: IDX files, search order, verification, download (local mirror only), real copy."""

import gzip
import hashlib
import urllib.error
import urllib.request

import numpy as np
import pytest

from crossview.base import CrossviewError
from crossview.datasets import load_mnist_halves, mnist, read_idx, write_idx
from crossview.datasets.mnist import IDX_FILES, TEST_COUNTS, TRAIN_COUNTS, download_mnist


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real cache, no $CROSSVIEW_DATA, and no network for any test in this file."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CROSSVIEW_DATA", raising=False)
    real_urlopen = urllib.request.urlopen

    def local_only(url, *a, **kw):
        if not str(url).startswith("file:"):
            raise urllib.error.URLError("network disabled in tests")
        return real_urlopen(url, *a, **kw)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)


@pytest.fixture(scope="module")
def fake_mnist():
    """Arrays shaped and labelled like MNIST (exact label counts), image i filled with i % 251."""

    def images(n):
        img = (np.arange(n, dtype=np.int64) % 251).astype(np.uint8)[:, None, None]
        img = np.broadcast_to(img, (n, 28, 28)).copy()
        img[:, :, 14:] //= 2  # the right half differs from the left
        return img

    return {
        "x_train": images(60000),
        "y_train": np.repeat(np.arange(10, dtype=np.uint8), TRAIN_COUNTS),
        "x_test": images(10000),
        "y_test": np.repeat(np.arange(10, dtype=np.uint8), TEST_COUNTS),
    }


def _write_idx_set(folder, arrays, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX_FILES.items():
        write_idx(folder / (stem + (".gz" if gz else "")), arrays[key])


def _md5s(folder):
    out = {}
    for stem in IDX_FILES.values():
        with gzip.open(folder / (stem + ".gz"), "rb") as f:
            out[stem] = hashlib.md5(f.read()).hexdigest()
    return out


# ---- IDX --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_idx_roundtrip(tmp_path, dtype, name):
    arr = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    write_idx(tmp_path / name, arr)
    back = read_idx(tmp_path / name)
    assert back.dtype == np.dtype(dtype) and back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back, arr)


def test_idx_known_bytes(tmp_path):
    (tmp_path / "l").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    assert read_idx(tmp_path / "l").tolist() == [7, 2, 1]


def test_idx_errors(tmp_path):
    (tmp_path / "bad").write_bytes(b"PK\x03\x04whatever")
    with pytest.raises(CrossviewError, match="bad.* is not an IDX file"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(CrossviewError, match=r"short has 2 data bytes; .* promises 5"):
        read_idx(tmp_path / "short")
    (tmp_path / "trunc.gz").write_bytes(
        gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))[:-6]
    )
    with pytest.raises(CrossviewError, match="trunc.gz is corrupt"):
        read_idx(tmp_path / "trunc.gz")
    with pytest.raises(CrossviewError, match="cannot write dtype"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.uint16))


# ---- finding and verifying ---------------------------------------------------------------------


def test_loads_idx_files_plain_and_gz_with_protocol_split(tmp_path, fake_mnist):
    _write_idx_set(tmp_path / "d", fake_mnist, gz=False)
    # mix: one file gzipped, the others plain
    stem = IDX_FILES["y_test"]
    (tmp_path / "d" / stem).unlink()
    write_idx(tmp_path / "d" / (stem + ".gz"), fake_mnist["y_test"])
    data = load_mnist_halves(tmp_path / "d", download=False, verbose=False)
    assert (len(data.train), len(data.val), len(data.test)) == (50000, 10000, 10000)
    # train = images 0..49999, val = 50000..59999 (value = index % 251)
    assert data.train.X[123, 0] == pytest.approx((123 % 251) / 255)
    assert data.val.X[0, 0] == pytest.approx((50000 % 251) / 255)
    assert data.val.Y[0, 0] == pytest.approx((50000 % 251) // 2 / 255)
    np.testing.assert_array_equal(data.test.labels, fake_mnist["y_test"])
    assert data.train.labels.dtype == np.int64 and data.train.X.dtype == np.float32


def test_search_order_data_dir_then_env_then_cache(tmp_path, monkeypatch, fake_mnist):
    (tmp_path / "cache" / "crossview").mkdir(parents=True)
    np.savez(tmp_path / "cache" / "crossview" / "mnist.npz", **fake_mnist)
    assert mnist.fetch_mnist(download=False) == tmp_path / "cache" / "crossview" / "mnist.npz"
    _write_idx_set(tmp_path / "env", fake_mnist)
    monkeypatch.setenv("CROSSVIEW_DATA", str(tmp_path / "env"))
    assert mnist.fetch_mnist(download=False) == tmp_path / "env"
    (tmp_path / "mine").mkdir()
    np.savez(tmp_path / "mine" / "mnist.npz", **fake_mnist)
    assert mnist.fetch_mnist(tmp_path / "mine", download=False) == tmp_path / "mine" / "mnist.npz"
    # an empty data_dir falls through to the next places
    assert mnist.fetch_mnist(tmp_path / "empty", download=False) == tmp_path / "env"


def _relabel_zeros(a):
    a["y_test"] = np.where(a["y_test"] == 0, 1, a["y_test"]).astype(np.uint8)


@pytest.mark.parametrize(
    "change, message",
    [
        (_relabel_zeros, r"y_test label counts \[0, 2115, "),
        (lambda a: a.update(x_test=a["x_test"][:, :27]), r"shape \(10000, 27, 28\)"),
        (lambda a: a.update(x_test=a["x_test"].astype(np.int16)), "dtype int16"),
        (lambda a: a.pop("y_train"), "missing array"),
    ],
)
def test_npz_that_fails_verification_names_file(tmp_path, fake_mnist, change, message):
    arrays = dict(fake_mnist)
    change(arrays)
    np.savez(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(CrossviewError, match=message) as info:
        load_mnist_halves(tmp_path, download=False)
    assert str(tmp_path / "mnist.npz") in str(info.value)


def test_corrupt_npz_and_idx(tmp_path, fake_mnist):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "mnist.npz").write_bytes(b"garbage")
    with pytest.raises(CrossviewError, match="mnist.npz is not a readable .npz") as info:
        load_mnist_halves(tmp_path / "a", download=False)
    assert "pickle" not in str(info.value)  # never advise unpickling a file
    _write_idx_set(tmp_path / "b", fake_mnist)
    labels = tmp_path / "b" / (IDX_FILES["y_train"] + ".gz")
    write_idx(labels, np.zeros(60000, dtype=np.uint8))
    with pytest.raises(CrossviewError, match="train-labels-idx1-ubyte.gz: y_train label counts"):
        load_mnist_halves(tmp_path / "b", download=False)


def test_missing_without_download_says_where_to_put_it(tmp_path):
    with pytest.raises(CrossviewError) as info:
        load_mnist_halves(tmp_path / "nothing", download=False)
    msg = str(info.value)
    assert "mnist.npz" in msg and "train-images-idx3-ubyte" in msg
    assert str(tmp_path / "nothing") in msg and str(tmp_path / "cache" / "crossview") in msg
    assert "\n" not in msg


# ---- downloading (local mirrors only) ------------------------------------------------------------


def test_download_verifies_and_writes_atomically(tmp_path, monkeypatch, fake_mnist):
    _write_idx_set(tmp_path / "mirror", fake_mnist)
    monkeypatch.setattr(mnist, "MD5", _md5s(tmp_path / "mirror"))
    monkeypatch.setattr(
        mnist, "MIRRORS", [(tmp_path / "gone").as_uri() + "/", (tmp_path / "mirror").as_uri() + "/"]
    )
    data = load_mnist_halves(tmp_path / "dl", verbose=False)
    assert len(data.test) == 10000
    assert sorted(p.name for p in (tmp_path / "dl").iterdir()) == sorted(
        s + ".gz" for s in IDX_FILES.values()
    )
    # the second call reads the files without downloading
    monkeypatch.setattr(mnist, "MIRRORS", [])
    assert mnist.fetch_mnist(tmp_path / "dl", verbose=False) == tmp_path / "dl"


def test_download_into_cache_by_default(tmp_path, monkeypatch, fake_mnist):
    _write_idx_set(tmp_path / "mirror", fake_mnist)
    monkeypatch.setattr(mnist, "MD5", _md5s(tmp_path / "mirror"))
    monkeypatch.setattr(mnist, "MIRRORS", [(tmp_path / "mirror").as_uri()])
    assert mnist.fetch_mnist(verbose=False) == tmp_path / "cache" / "crossview"


def test_checksum_mismatch_is_an_error_and_writes_nothing(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    write_idx(mirror / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28), dtype=np.uint8))
    with pytest.raises(CrossviewError, match="checksum mismatch") as info:
        download_mnist(tmp_path / "dl", mirrors=[mirror.as_uri()], verbose=False)
    assert "6bbc9ace898e44ae57da46a324031adb" in str(info.value)  # the official md5
    assert list((tmp_path / "dl").iterdir()) == []


def test_download_small_files_with_injected_checksums(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    small = {
        key: np.arange(6, dtype=np.uint8).reshape((6,) if key.startswith("y") else (1, 2, 3))
        for key in IDX_FILES
    }
    _write_idx_set(mirror, small)
    paths = download_mnist(
        tmp_path / "dl", mirrors=[mirror.as_uri() + "/"], checksums=_md5s(mirror), verbose=False
    )
    assert set(paths) == set(IDX_FILES)
    np.testing.assert_array_equal(read_idx(paths["y_test"]), np.arange(6))


def test_offline_gives_one_line_with_where_to_put_files(tmp_path):
    with pytest.raises(CrossviewError) as info:
        load_mnist_halves(tmp_path / "d", verbose=False)
    msg = str(info.value)
    assert "\n" not in msg
    assert "could not download" in msg and "network disabled" in msg
    assert "mnist.npz" in msg and str(tmp_path / "d") in msg


def test_not_gzip_from_mirror(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "train-images-idx3-ubyte.gz").write_bytes(b"<html>not found</html>")
    with pytest.raises(CrossviewError, match="not valid gzip data"):
        download_mnist(tmp_path / "dl", mirrors=[mirror.as_uri()], verbose=False)


# ---- the real data -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(mnist_dir):
    return load_mnist_halves(mnist_dir, download=False, verbose=False)


def test_real_mnist_halves(real, mnist_dir):
    for split, n in (("train", 50000), ("val", 10000), ("test", 10000)):
        d = real[split]
        assert d.X.shape == (n, 392) and d.Y.shape == (n, 392)
        assert d.X.dtype == np.float32 and d.labels.dtype == np.int64
        assert d.X.min() >= 0 and d.X.max() <= 1 and d.Y.max() == 1
    train_counts = np.bincount(np.concatenate([real.train.labels, real.val.labels]))
    assert tuple(train_counts) == TRAIN_COUNTS
    assert tuple(np.bincount(real.test.labels)) == TEST_COUNTS
    assert real.train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert real.test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_real_halves_reassemble_the_images(real, mnist_dir):
    with np.load(mnist_dir / "mnist.npz") as z:
        x_train, x_test = z["x_train"], z["x_test"]
    for d, images in ((real.val, x_train[50000:]), (real.test, x_test)):
        whole = np.concatenate([d.X.reshape(-1, 28, 14), d.Y.reshape(-1, 28, 14)], axis=2)
        np.testing.assert_array_equal(np.rint(whole * 255).astype(np.uint8), images)
    assert int(x_train.sum(dtype=np.int64)) == 1_567_298_545
