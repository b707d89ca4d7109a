"""Model files: safetensors + JSON round trips, and clear errors for corrupt or foreign files."""

from __future__ import annotations

import json

import numpy as np
import pytest

import crossview
from crossview.cli import main
from crossview.deep.corrnet import CorrNet


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    rng = np.random.default_rng(0)
    X, Y = rng.random((60, 6)).astype(np.float32), rng.random((60, 5)).astype(np.float32)
    model = CorrNet(
        n_components=3,
        x_hidden=(4,),
        epochs=1,
        batch_size=20,
        verbose=False,
        device="cpu",
        random_state=0,
    ).fit(X, Y)
    path = tmp_path_factory.mktemp("m") / "model"
    model.save(path)
    return path, model, X, Y


def _copy(saved, tmp_path):
    import shutil

    dst = tmp_path / "copy"
    shutil.copytree(saved[0], dst)
    return dst


def test_files_are_json_and_safetensors(saved):
    path = saved[0]
    config = json.loads((path / "config.json").read_text())
    assert config["method"] == "corrnet" and config["format_version"] == 1
    assert config["n_features_in"] == 6 and config["n_features_in_y"] == 5
    assert config["crossview_version"] == crossview.__version__
    raw = (path / "model.safetensors").read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    assert json.loads(raw[8 : 8 + header_len])  # a safetensors header, not a pickle


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda p: (p / "config.json").write_text("{not json"), "not valid JSON"),
        (lambda p: (p / "model.safetensors").write_bytes(b"\x80\x04garbage"), "corrupt"),
        (lambda p: (p / "model.safetensors").unlink(), "no model.safetensors"),
        (lambda p: (p / "config.json").unlink(), "no config.json"),
        (
            lambda p: (p / "config.json").write_text(json.dumps({"format": "other"})),
            "not a crossview model config",
        ),
    ],
)
def test_damaged_files_give_clear_errors(saved, tmp_path, damage, message):
    path = _copy(saved, tmp_path)
    damage(path)
    with pytest.raises(ValueError, match=message):
        crossview.load(path)


def test_newer_format_and_mismatched_weights(saved, tmp_path):
    path = _copy(saved, tmp_path)
    cfg = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps(dict(cfg, format_version=99)))
    with pytest.raises(ValueError, match="format version 99"):
        crossview.load(path)
    cfg["params"]["n_components"] = 7  # weights hold 3 components
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="weights do not match"):
        crossview.load(path)


def test_not_a_folder_and_missing(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="not a model folder"):
        crossview.load(tmp_path / "file.txt")
    with pytest.raises(ValueError, match="does not exist"):
        crossview.load(tmp_path / "nope")


def test_cli_transform_translate_and_corrupt_model(saved, tmp_path, capsys):
    path, model, X, Y = saved
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", Y)
    assert (
        main(
            [
                "transform",
                str(path),
                "--x",
                str(tmp_path / "x.npy"),
                "--out",
                str(tmp_path / "zx.npy"),
            ]
        )
        == 0
    )
    assert np.array_equal(np.load(tmp_path / "zx.npy"), model.transform(X))
    assert (
        main(
            [
                "translate",
                str(path),
                "--y",
                str(tmp_path / "y.npy"),
                "--out",
                str(tmp_path / "xh.csv"),
            ]
        )
        == 0
    )
    np.testing.assert_allclose(
        np.loadtxt(tmp_path / "xh.csv", delimiter=","), model.predict_x(Y), rtol=1e-6, atol=1e-7
    )
    bad = _copy(saved, tmp_path)
    (bad / "model.safetensors").write_bytes(b"junk")
    capsys.readouterr()
    assert (
        main(
            [
                "transform",
                str(bad),
                "--x",
                str(tmp_path / "x.npy"),
                "--out",
                str(tmp_path / "z2.npy"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "corrupt" in err and "Traceback" not in err


def test_cli_fit_generic_method_with_params(tmp_path, capsys):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "x.npy", rng.random((40, 4)))
    np.savetxt(tmp_path / "y.csv", rng.random((40, 3)), delimiter=",")
    code = main(
        [
            "fit",
            "corrnet",
            "--x",
            str(tmp_path / "x.npy"),
            "--y",
            str(tmp_path / "y.csv"),
            "--out",
            str(tmp_path / "m"),
            "-p",
            "n_components=2",
            "-p",
            "x_hidden=5,3",
            "-p",
            "epochs=2",
            "-p",
            "batch_size=10",
            "-p",
            "loss_corr=false",
            "--quiet",
        ]
    )
    assert code == 0
    m = crossview.load(tmp_path / "m")
    assert m.x_hidden == (5, 3) and m.loss_corr is False and m.n_components == 2
    for args, message in [
        (["-p", "no_such=1"], "has no parameter 'no_such'"),
        (["-p", "epochs=many"], "The 'epochs' parameter of CorrNet must be"),
        (["-p", "epochs"], "is not KEY=VALUE"),
    ]:
        capsys.readouterr()
        assert (
            main(
                [
                    "fit",
                    "corrnet",
                    "--x",
                    str(tmp_path / "x.npy"),
                    "--y",
                    str(tmp_path / "y.csv"),
                    "--out",
                    str(tmp_path / "m2"),
                    *args,
                ]
            )
            == 2
        )
        assert message in capsys.readouterr().err
    assert main(["fit", "nosuch", "--x", "a", "--y", "b", "--out", "c"]) == 2
    assert "unknown method" in capsys.readouterr().err


@pytest.mark.parametrize(
    "field, value",
    [
        ("params", 5),
        ("method", 5),
        ("n_features_in", "abc"),
        ("n_features_in", 0),
        ("n_features_in_y", -1),
        ("extra", 3),
    ],
)
def test_config_fields_of_the_wrong_type_are_one_line_errors(saved, tmp_path, capsys, field, value):
    path = _copy(saved, tmp_path)
    cfg = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps(dict(cfg, **{field: value})))
    with pytest.raises(ValueError, match=f"field '{field}' is"):
        crossview.load(path)
    np.save(tmp_path / "x.npy", saved[2])
    for argv in (
        ["info", str(path)],
        ["transform", str(path), "--x", str(tmp_path / "x.npy"), "--out", str(tmp_path / "z.npy")],
    ):
        capsys.readouterr()
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert err.count("\n") == 1 and f"field '{field}' is" in err and "Traceback" not in err


def test_cli_fit_takes_single_view_rows_for_corrnet(tmp_path, capsys):
    rng = np.random.default_rng(2)
    for name, shape in [("x", (40, 4)), ("y", (40, 3)), ("xo", (25, 4)), ("yo", (30, 3))]:
        np.save(tmp_path / f"{name}.npy", rng.random(shape))
    np.save(tmp_path / "xo_wide.npy", rng.random((25, 5)))
    base = ["fit", "corrnet", "--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.npy")]
    small = ["-p", "n_components=2", "-p", "x_hidden=5", "-p", "epochs=2", "-p", "batch_size=10"]
    singles = ["--x-only", str(tmp_path / "xo.npy"), "--y-only", str(tmp_path / "yo.npy")]
    assert main([*base, *singles, "--out", str(tmp_path / "m"), *small]) == 0
    assert "40 rows + 25 rows of X alone + 30 rows of Y alone" in capsys.readouterr().out
    m = crossview.load(tmp_path / "m")
    assert "single_x" in m.history_.terms and "pseudo" in m.history_.terms
    # a method that does not train on single-view rows, and rows of the wrong width
    cca = ["fit", "cca", "--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.npy")]
    wide = ["--x-only", str(tmp_path / "xo_wide.npy")]
    for args, message in [
        ([*cca, *singles, "--out", str(tmp_path / "c")], "does not train on single-view rows"),
        ([*base, *wide, "--out", str(tmp_path / "w"), *small], "X_only"),
    ]:
        assert main(args) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "c").exists() and not (tmp_path / "w").exists()
