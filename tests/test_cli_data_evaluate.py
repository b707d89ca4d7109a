"""CLI: `crossview data info`, `data fetch-mnist`, `evaluate`, `--version`, and one-line errors."""

import json
import urllib.error
import urllib.request

import numpy as np
import pytest
from cli_helpers import user_error as _user_error

from crossview import __version__
from crossview.cli import main


def _ok(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.fixture
def codes(tmp_path, rng):
    labels = rng.integers(0, 3, size=150)
    Zx = np.eye(3)[labels] + 0.05 * rng.normal(size=(150, 3))
    Zy = Zx + 0.05 * rng.normal(size=(150, 3))
    np.save(tmp_path / "zx.npy", Zx)
    np.savetxt(tmp_path / "zy.csv", Zy, delimiter=",")
    np.savetxt(tmp_path / "labels.txt", labels, fmt="%d")
    return tmp_path


def test_version(capsys):
    assert _ok(capsys, ["--version"]).strip() == f"crossview {__version__}"


def test_evaluate_prints_a_table(capsys, codes):
    out = _ok(
        capsys,
        [
            "evaluate",
            "--x-codes",
            str(codes / "zx.npy"),
            "--y-codes",
            str(codes / "zy.csv"),
            "--labels",
            str(codes / "labels.txt"),
        ],
    )
    assert "sum correlation" in out and "canonical sum correlation" in out
    assert "transfer accuracy X -> Y   100.00 %" in out
    assert "retrieval Y -> X P@10" in out


def test_evaluate_json(capsys, codes):
    out = _ok(
        capsys,
        [
            "evaluate",
            "--x-codes",
            str(codes / "zx.npy"),
            "--y-codes",
            str(codes / "zy.csv"),
            "--k",
            "1,2",
            "--method",
            "csls",
            "--json",
        ],
    )
    res = json.loads(out)
    assert res["n_samples"] == 150 and set(res["retrieval_x_to_y"]) == {"1", "2"}
    assert {"sum_corr", "canonical_sum_corr"} <= set(res)  # the benchmark's metric names
    assert 0 <= res["retrieval_x_to_y"]["1"] <= 100 and res["retrieval_x_to_y"]["2"] > 1
    assert "transfer_x_to_y" not in res


def test_evaluate_errors(capsys, codes, tmp_path):
    zx, zy = str(codes / "zx.npy"), str(codes / "zy.csv")
    assert "no such file" in _user_error(
        capsys, ["evaluate", "--x-codes", str(tmp_path / "no.npy"), "--y-codes", zy]
    )
    np.save(tmp_path / "short.npy", np.zeros((10, 3)))
    assert "different numbers of rows" in _user_error(
        capsys, ["evaluate", "--x-codes", zx, "--y-codes", str(tmp_path / "short.npy")]
    )
    assert "--k expects" in _user_error(
        capsys, ["evaluate", "--x-codes", zx, "--y-codes", zy, "--k", "1,x"]
    )
    assert "unknown retrieval method" in _user_error(
        capsys, ["evaluate", "--x-codes", zx, "--y-codes", zy, "--method", "bogus"]
    )
    assert "Missing option" in _user_error(capsys, ["evaluate", "--x-codes", zx])
    (tmp_path / "nan.csv").write_text("1,2,3\n" * 149 + "nan,1,1\n")
    assert "NaN" in _user_error(
        capsys, ["evaluate", "--x-codes", zx, "--y-codes", str(tmp_path / "nan.csv")]
    )


def test_data_info(capsys, tmp_path):
    A = np.arange(12.0).reshape(4, 3)
    A[:, 2] = 1.0
    A[0, 0] = np.nan
    np.savez(tmp_path / "a.npz", codes=A, other=A)
    out = _ok(capsys, ["data", "info", str(tmp_path / "a.npz"), "--key", "codes"])
    assert "shape: (4, 3)" in out and "dtype: float64" in out
    assert "NaN: 1, inf: 0" in out and "constant columns: 1 of 3" in out
    (tmp_path / "w.vec").write_text("2 2\ncat 1 2\ndog 3 4\n")
    out = _ok(capsys, ["data", "info", str(tmp_path / "w.vec")])
    assert "vocabulary: 2 names" in out and "cat, dog" in out


def test_data_info_errors(capsys, tmp_path):
    np.savez(tmp_path / "a.npz", x=np.zeros((2, 2)), y=np.zeros((2, 2)))
    assert "choose one with key" in _user_error(capsys, ["data", "info", str(tmp_path / "a.npz")])
    (tmp_path / "a.doc").write_text("x")
    assert "unknown file type" in _user_error(capsys, ["data", "info", str(tmp_path / "a.doc")])
    (tmp_path / "r.csv").write_text("1,2\n3\n")
    assert "line 2" in _user_error(capsys, ["data", "info", str(tmp_path / "r.csv")])


def test_data_without_command_shows_help(capsys):
    assert main(["data"]) == 2
    out, err = capsys.readouterr()
    assert "info" in out + err and "fetch-mnist" in out + err and "error" not in err


def test_fetch_mnist_verifies_a_local_copy(capsys, mnist_dir):
    out = _ok(capsys, ["data", "fetch-mnist", "--data-dir", str(mnist_dir), "--quiet"])
    assert f"MNIST verified: {mnist_dir / 'mnist.npz'}" in out


def test_fetch_mnist_offline_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CROSSVIEW_DATA", raising=False)

    def offline(*a, **kw):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    msg = _user_error(capsys, ["data", "fetch-mnist", "--data-dir", str(tmp_path / "d"), "-q"])
    assert "could not download" in msg and "mnist.npz" in msg
