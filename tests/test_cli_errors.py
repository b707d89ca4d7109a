"""CLI: user errors are one line with exit code 2; warnings are one line each, never source code."""

from __future__ import annotations

import numpy as np
import pytest
from cli_helpers import user_error as _user_error

from crossview.cli import main


@pytest.fixture
def views(tmp_path, rng):
    X = rng.random((40, 4))
    X[:, 0] = 1.0  # a constant column: fitting warns about it
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", rng.random((40, 3)))
    return tmp_path


def test_warnings_are_one_line_after_success(views, capsys):
    assert (
        main(
            [
                "fit",
                "cca",
                "--x",
                str(views / "x.npy"),
                "--y",
                str(views / "y.npy"),
                "--out",
                str(views / "m"),
                "--quiet",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "crossview: warning: view X has 1 constant column(s) of 4; they carry no information "
        "(regularisation keeps the methods stable)"
    ]


def test_error_after_a_warning_is_still_one_line(views, capsys):
    line = _user_error(
        capsys,
        [
            "fit",
            "cca",
            "--x",
            str(views / "x.npy"),
            "--y",
            str(views / "y.npy"),
            "--out",
            str(views / "m"),
            "-p",
            "n_components=9",
        ],
    )
    assert "n_components=9 is out of range" in line


def test_output_under_a_file_is_one_line_before_fitting(views, capsys):
    (views / "taken").write_text("a file")
    line = _user_error(
        capsys,
        [
            "fit",
            "cca",
            "--x",
            str(views / "x.npy"),
            "--y",
            str(views / "y.npy"),
            "--out",
            str(views / "taken" / "model"),
        ],
    )
    assert "taken is a file, not a folder" in line
    assert "warning" not in line  # the check comes before reading and fitting
    assert (
        main(
            [
                "fit",
                "cca",
                "--x",
                str(views / "x.npy"),
                "--y",
                str(views / "y.npy"),
                "--out",
                str(views / "m"),
                "--quiet",
            ]
        )
        == 0
    )
    capsys.readouterr()
    line = _user_error(
        capsys,
        [
            "transform",
            str(views / "m"),
            "--x",
            str(views / "x.npy"),
            "--out",
            str(views / "taken" / "z.npy"),
        ],
    )
    assert "taken is a file, not a folder" in line
    line = _user_error(
        capsys,
        [
            "benchmark",
            "digits-halves",
            "--methods",
            "cca",
            "--quiet",
            "--out",
            str(views / "taken"),
        ],
    )
    assert "taken is a file, not a folder" in line


def test_evaluate_k_beyond_the_rows_is_an_error_not_a_silent_p_at_1(tmp_path, rng, capsys):
    Z = rng.random((8, 3))
    np.save(tmp_path / "z.npy", Z)
    argv = ["evaluate", "--x-codes", str(tmp_path / "z.npy"), "--y-codes", str(tmp_path / "z.npy")]
    assert "the codes have 8 rows" in _user_error(capsys, [*argv, "--k", "20"])
    assert main([*argv, "--json", "--k", "8"]) == 0
    assert '"8": 100.0' in capsys.readouterr().out
    assert main([*argv, "--json"]) == 0  # the default 1,5,10 keeps the cut-offs that fit
    out = capsys.readouterr().out
    assert '"5"' in out and '"10"' not in out


def test_benchmark_bad_eval_on_names_the_option_before_loading_data(capsys):
    line = _user_error(
        capsys,
        [
            "benchmark",
            "mnist-halves",
            "--eval-on",
            "train",
            "--data-dir",
            "/nonexistent",
            "--no-download",
        ],
    )
    assert line.startswith("crossview: error: Invalid value for '--eval-on'")
    assert "'train' is not one of 'test', 'val'" in line


@pytest.fixture(scope="module")
def dcca_model(tmp_path_factory):
    from crossview.deep.dcca import DCCA

    rng = np.random.default_rng(0)
    X, Y = rng.random((30, 4)), rng.random((30, 3))
    path = tmp_path_factory.mktemp("dcca")
    np.save(path / "x.npy", X)
    DCCA(
        n_components=2,
        x_hidden=(4,),
        epochs=1,
        batch_size=30,
        verbose=False,
        device="cpu",
        random_state=0,
    ).fit(X, Y).save(path / "model")
    return path


def test_translate_with_a_method_that_cannot_is_one_line(dcca_model, capsys):
    argv = [
        "translate",
        str(dcca_model / "model"),
        "--x",
        str(dcca_model / "x.npy"),
        "--out",
        str(dcca_model / "yhat.npy"),
    ]
    line = _user_error(capsys, argv)
    assert "DCCA cannot translate X into Y: it does not translate between views" in line
    assert not (dcca_model / "yhat.npy").exists()


@pytest.mark.parametrize(
    "param, message",
    [
        (
            "random_state=abc",
            "The 'random_state' parameter of CorrNet must be an instance of 'int' "
            "or None. Got 'abc' instead.",
        ),
        (
            "epochs=1.5",
            "The 'epochs' parameter of CorrNet must be an int in the range [1, inf) or a "
            "str among {'auto'}. Got 1.5 instead.",
        ),
        (
            "batch_size=20.5",
            "The 'batch_size' parameter of CorrNet must be an int in the range "
            "[1, inf). Got 20.5 instead.",
        ),
        (
            "patience=0",
            "The 'patience' parameter of CorrNet must be an int in the range [1, inf) or "
            "None. Got 0 instead.",
        ),
        (
            "lam=-1",
            "The 'lam' parameter of CorrNet must be a float in the range [0.0, inf). "
            "Got -1.0 instead.",
        ),
        ("optimizer=adagrad", "The 'optimizer' parameter of CorrNet must be a str among"),
        ("x_hidden=[16,8", "parameter x_hidden: expected a list such as [64, 32]"),
    ],
)
def test_bad_training_parameters_are_one_line(views, capsys, param, message):
    line = _user_error(
        capsys,
        [
            "fit",
            "corrnet",
            "--x",
            str(views / "x.npy"),
            "--y",
            str(views / "y.npy"),
            "--out",
            str(views / "m"),
            "-p",
            param,
        ],
    )
    assert message in line
    assert not (views / "m").exists()  # checked before anything is trained or written


def test_bad_linear_parameter_is_one_line(views, capsys):
    line = _user_error(
        capsys,
        [
            "fit",
            "cca",
            "--x",
            str(views / "x.npy"),
            "--y",
            str(views / "y.npy"),
            "--out",
            str(views / "m"),
            "-p",
            "alpha=-0.5",
        ],
    )
    assert line == (
        "crossview: error: The 'alpha' parameter of CCA must be a float in the range "
        "[0.0, inf). Got -0.5 instead."
    )


def test_json_lists_and_exponent_integers_are_read(views, capsys):
    import crossview

    assert (
        main(
            [
                "fit",
                "corrnet",
                "--x",
                str(views / "x.npy"),
                "--y",
                str(views / "y.npy"),
                "--out",
                str(views / "m"),
                "-p",
                "x_hidden=[6, 5]",
                "-p",
                "epochs=1e0",
                "-p",
                "n_components=2",
                "-p",
                "batch_size=20",
                "--quiet",
            ]
        )
        == 0
    )
    model = crossview.load(views / "m")
    assert model.x_hidden == (6, 5) and model.epochs == 1 and isinstance(model.epochs, int)


@pytest.mark.parametrize("text", ["(6, 5)", "6,5", "[6, 5]"])
def test_size_lists_in_any_usual_spelling(text):
    from crossview.cli._common import parse_params
    from crossview.deep.corrnet import CorrNet

    params = parse_params(CorrNet, [f"x_hidden={text}", "precision=bfloat16"])
    assert params == {"x_hidden": (6, 5), "precision": "bfloat16"}


def test_debug_shows_the_traceback_of_a_user_error(views, capsys):
    argv = [
        "--debug",
        "fit",
        "cca",
        "--x",
        str(views / "nope.npy"),
        "--y",
        str(views / "y.npy"),
        "--out",
        str(views / "m"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.strip().splitlines()[-1].startswith("crossview: error: ")
    assert main(argv[1:]) == 2  # --debug does not stick to the next call
    assert "Traceback" not in capsys.readouterr().err


def test_a_bug_is_not_dressed_up_as_a_user_error(views, monkeypatch):
    # only crossview's own errors and OS errors are the user's; anything else shows its traceback
    from crossview.linear import CCA

    def broken_fit(self, X, Y):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")

    monkeypatch.setattr(CCA, "fit", broken_fit)
    with pytest.raises(TypeError, match="unsupported operand"):
        main(
            [
                "fit",
                "cca",
                "--x",
                str(views / "x.npy"),
                "--y",
                str(views / "y.npy"),
                "--out",
                str(views / "m"),
                "--quiet",
            ]
        )


def test_translate_back_with_a_one_way_map_says_why_in_one_line(views, capsys):
    argv = ["fit", "mlpmap", "--x", str(views / "x.npy"), "--y", str(views / "y.npy")]
    argv += ["--out", str(views / "m"), "-p", "epochs=1", "-p", "batch_size=20", "--quiet"]
    assert main(argv) == 0
    capsys.readouterr()
    line = _user_error(
        capsys,
        [
            "translate",
            str(views / "m"),
            "--y",
            str(views / "y.npy"),
            "--out",
            str(views / "xhat.npy"),
        ],
    )
    assert "MLPMap cannot translate Y into X: " in line and "bidirectional=False" in line
    assert not (views / "xhat.npy").exists()
