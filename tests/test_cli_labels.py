"""The CLI on label-linked data: fit with --x-labels / --y-labels / --pairs, then translate,
transform and info on the saved model; user errors are one line with exit code 2."""

from __future__ import annotations

import numpy as np
import pytest
from cli_helpers import user_error

from crossview.cli import main


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    lx, ly = np.arange(60) % 3, np.arange(45) % 3
    X = 4 * rng.standard_normal((3, 5))[lx] + rng.standard_normal((60, 5))
    Y = 4 * rng.standard_normal((3, 4))[ly] + rng.standard_normal((45, 4))
    names = np.array(["ant", "bee", "cat"])
    paths = {k: tmp_path / f"{k}.npy" for k in ("x", "y")}
    np.save(paths["x"], X)
    np.save(paths["y"], Y)
    paths["lx"] = tmp_path / "lx.txt"
    paths["lx"].write_text("\n".join(names[lx]) + "\n")
    paths["ly"] = tmp_path / "ly.txt"
    paths["ly"].write_text("\n".join(names[ly]) + "\n")
    paths["pairs"] = tmp_path / "pairs.csv"
    np.savetxt(paths["pairs"], np.c_[np.arange(6), np.arange(6)], delimiter=",", fmt="%d")
    return tmp_path, paths


def fit_args(paths, method, out, *extra):
    return [
        "fit", method, "--x", str(paths["x"]), "--x-labels", str(paths["lx"]),
        "--y", str(paths["y"]), "--y-labels", str(paths["ly"]), "--out", str(out), *extra,
    ]  # fmt: skip


def test_fit_translate_info_with_string_labels_and_pairs(files, capsys):
    tmp, paths = files
    assert main(fit_args(paths, "classmap", tmp / "m", "--pairs", str(paths["pairs"]))) == 0
    out = capsys.readouterr().out
    assert "60 + 45 rows linked by 3 classes and 6 pairs" in out
    assert (
        main(["translate", str(tmp / "m"), "--x", str(paths["x"]), "--out", str(tmp / "yh.npy")])
        == 0
    )
    assert np.load(tmp / "yh.npy").shape == (60, 4)
    assert (
        main(["translate", str(tmp / "m"), "--y", str(paths["y"]), "--out", str(tmp / "xh.npy")])
        == 0
    )
    assert np.load(tmp / "xh.npy").shape == (45, 5)
    capsys.readouterr()
    assert main(["info", str(tmp / "m")]) == 0
    info = capsys.readouterr().out
    assert "task label-linked" in info and "classes (3): ant, bee, cat" in info


def test_a_deep_label_linked_method_has_a_shared_space(files, capsys):
    tmp, paths = files
    args = fit_args(paths, "sharedhead", tmp / "s", "-q", "-p", "epochs=2", "-p", "batch_size=15")
    assert main(args) == 0
    z = tmp / "z.npy"
    assert main(["transform", str(tmp / "s"), "--y", str(paths["y"]), "--out", str(z)]) == 0
    assert np.load(z).shape == (45, 64)


def test_label_linked_user_errors_are_one_line(files, capsys):
    tmp, paths = files
    line = user_error(capsys, fit_args(paths, "cca", tmp / "c"))
    assert "cca is a paired method" in line and "classmap" in line
    args = ["fit", "classmap", "--x", str(paths["x"]), "--y", str(paths["y"]), "--out", str(tmp)]
    assert "give --x-labels and --y-labels" in user_error(capsys, args)
    (tmp / "short.txt").write_text("ant\nbee\n")
    bad = fit_args(paths, "classmap", tmp / "m")
    bad[bad.index("--x-labels") + 1] = str(tmp / "short.txt")
    assert "x_labels has 2 entries; expected 60" in user_error(capsys, bad)
    np.save(tmp / "p3.npy", np.zeros((2, 3), dtype=int))
    line = user_error(
        capsys, fit_args(paths, "classmap", tmp / "m", "--pairs", str(tmp / "p3.npy"))
    )
    assert "pairs has shape (2, 3)" in line
    assert main(fit_args(paths, "classmap", tmp / "m", "-q")) == 0
    line = user_error(
        capsys, ["transform", str(tmp / "m"), "--x", str(paths["x"]), "--out", str(tmp / "z.npy")]
    )
    assert "no shared space" in line and not (tmp / "z.npy").exists()
