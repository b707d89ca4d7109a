"""The benchmark: digits halves end to end on a tiny budget, its files, resume, specs, the CLI."""

from __future__ import annotations

import csv
import inspect
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from crossview import registry
from crossview.base import CrossviewError
from crossview.cli import main
from crossview.datasets import load_digits_halves
from crossview.deep.corrnet import CorrNet
from crossview.evaluation import benchmark as bm
from crossview.evaluation import protocols, specs
from crossview.evaluation.outputs import ROW_COLUMNS
from crossview.evaluation.tables import METRIC_COLUMNS, PUBLISHED, Table, format_cell

ABLATION = [f"corrnet[{v}]" for v in CorrNet.ABLATION]
ABLATION_OPTS = {spec: {"epochs": 1} for spec in ABLATION}
OPTS = {"corrnet": {"epochs": 2}, **ABLATION_OPTS}
SEEDS = [0, 1]


@pytest.fixture(scope="module")
def digits():
    return load_digits_halves(random_state=0)


@pytest.fixture(scope="module")
def bench(digits, tmp_path_factory):
    """One tiny digits benchmark: CorrNet (2 epochs) and its four loss combinations (1 epoch)."""
    out = tmp_path_factory.mktemp("bench")
    result = bm.run_benchmark(
        digits,
        methods=["corrnet"],
        seeds=SEEDS,
        out_dir=out,
        method_params=OPTS,
        ablation=True,
        verbose=False,
    )
    return result


def _specs():
    return ["corrnet", *ABLATION]


def test_every_run_fitted_once_and_files_written(bench):
    assert sorted(bench.fitted) == sorted((s, k) for s in _specs() for k in SEEDS)
    assert bench.reused == []
    for name in ("results.json", "results.csv", "results.md", "report.html"):
        assert (bench.out_dir / name).is_file()
    assert len(list((bench.out_dir / "runs").glob("*.json"))) == len(_specs()) * len(SEEDS)


def test_results_json_and_csv_hold_one_row_per_method_and_seed(bench):
    doc = json.loads((bench.out_dir / "results.json").read_text())
    assert {"python", "numpy", "torch", "cpu_count", "platform"} <= set(doc["machine"])
    assert doc["protocol"]["name"] == "digits-halves"
    assert doc["protocol"]["image_shape"] == [8, 4]
    pairs = sorted((r["method"], r["seed"]) for r in doc["rows"])
    assert pairs == sorted((s, k) for s in _specs() for k in SEEDS)
    with open(bench.out_dir / "results.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[: len(ROW_COLUMNS)] == list(ROW_COLUMNS)
    assert len(rows) == len(doc["rows"])
    for row, ref in zip(rows, doc["rows"]):
        assert row["method"] == ref["method"] and int(row["seed"]) == ref["seed"]
        assert float(row["sum_corr"]) == pytest.approx(ref["sum_corr"])
        assert 0 <= float(row["transfer_x_to_y"]) <= 100
        assert float(row["mse_y_from_x"]) > 0 and float(row["fit_seconds"]) > 0
        params = json.loads(row["params"])
        assert params["random_state"] == ref["seed"]
        assert params["epochs"] == (2 if row["method"] == "corrnet" else 1)
    by = {(r["method"], int(r["seed"])): json.loads(r["params"]) for r in rows}
    assert by[("corrnet[L2+L3]", 0)]["loss_corr"] is False
    assert by[("corrnet[L2+L3]", 0)]["loss_self"] is False
    assert by[("corrnet[L1+L2+L3+L4]", 0)]["loss_corr"] is True


def _md_tables(text: str) -> dict[str, list[list[str]]]:
    """Markdown pipe tables by the ### title above them."""
    tables, title = {}, None
    for line in text.splitlines():
        if line.startswith("### "):
            title = line[4:]
            tables[title] = []
        elif line.startswith("|") and title and not line.startswith("|---"):
            tables[title].append([c.strip() for c in line.strip("|").split("|")])
    return tables


def _first_number(cell: str) -> float:
    return float(re.match(r"-?\d+(\.\d+)?", cell).group())


def test_markdown_tables_hold_the_numbers_of_the_json(bench):
    doc = json.loads((bench.out_dir / "results.json").read_text())
    tables = _md_tables((bench.out_dir / "results.md").read_text())
    main_t = next(t for k, t in tables.items() if k.startswith("Methods"))
    abl_t = next(t for k, t in tables.items() if k.startswith("CorrNet loss"))
    header = main_t[0]
    corr = next(r for r in main_t[1:] if r[0] == "corrnet")
    stats = doc["summary"]["corrnet"]["metrics"]
    for key, (title, fmt) in METRIC_COLUMNS.items():
        cell = corr[header.index(title)]
        mean, _, std = cell.partition(" ± ")
        assert mean == fmt.format(stats[key]["mean"]), key
        if std:
            assert std == fmt.format(stats[key]["std"]), key
        vals = [r[key] for r in doc["rows"] if r["method"] == "corrnet"]
        assert stats[key]["mean"] == pytest.approx(sum(vals) / len(vals))
    assert corr[-1] == "2"
    # no published rows outside the MNIST protocol
    assert not any("published" in r[0] for r in main_t)
    assert [r[0] for r in abl_t[1:]] == ["L2+L3", "L1+L2+L3", "L2+L3+L4", "L1+L2+L3+L4"]
    for row in abl_t[1:]:
        s = doc["summary"][f"corrnet[{row[0]}]"]["metrics"]
        assert _first_number(row[1]) == pytest.approx(round(s["sum_corr"]["mean"], 2))
        assert _first_number(row[2]) == pytest.approx(round(s["transfer_x_to_y"]["mean"], 2))
        assert _first_number(row[3]) == pytest.approx(round(s["transfer_y_to_x"]["mean"], 2))


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.tables = [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        elif tag == "table":
            self.tables += 1


def test_html_references_every_png_and_each_reference_exists(bench):
    parser = _Refs()
    parser.feed((bench.out_dir / "report.html").read_text())
    pngs = {p.relative_to(bench.out_dir).as_posix() for p in bench.out_dir.rglob("*.png")}
    assert set(parser.images) == pngs
    assert all((bench.out_dir / src).is_file() for src in parser.images)
    assert parser.tables >= 3  # methods, loss combinations, machine
    names = {Path(p).name for p in pngs}
    assert {
        "corrnet-right-from-left.png",
        "corrnet-left-from-right.png",
        "corrnet-training.png",
        "corrnet-codes.png",
        "dimension-correlations.png",
        "corrnet-L2-L3-training.png",
    } <= names


def test_second_run_reuses_every_run_without_fitting(bench, digits, monkeypatch):
    def no_fit(*a, **k):
        raise AssertionError("run_method called on resume")

    monkeypatch.setattr(bm, "run_method", no_fit)
    before = json.loads((bench.out_dir / "results.json").read_text())["rows"]
    again = bm.run_benchmark(
        digits,
        methods=["corrnet"],
        seeds=SEEDS,
        out_dir=bench.out_dir,
        method_params=OPTS,
        ablation=True,
        verbose=False,
    )
    assert again.fitted == [] and len(again.reused) == len(_specs()) * len(SEEDS)
    assert json.loads((bench.out_dir / "results.json").read_text())["rows"] == before
    assert (bench.out_dir / "figures" / "corrnet-codes.png").is_file()


def test_changed_params_or_no_resume_refit(bench, digits, monkeypatch, tmp_path):
    calls = []
    real = bm.run_method

    def counting(method, data, **kw):
        calls.append((method, kw["seed"], kw["params"].get("epochs")))
        return real(method, data, **kw)

    monkeypatch.setattr(bm, "run_method", counting)
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(bench.out_dir, out)
    res = bm.run_benchmark(
        digits,
        methods=["corrnet"],
        seeds=[0],
        out_dir=out,
        method_params={"corrnet": {"epochs": 1}},
        verbose=False,
        figures=False,
    )
    assert calls == [("corrnet", 0, 1)] and res.fitted == [("corrnet", 0)]
    res = bm.run_benchmark(
        digits,
        methods=["corrnet"],
        seeds=[0],
        out_dir=out,
        method_params={"corrnet": {"epochs": 1}},
        verbose=False,
        figures=False,
        resume=False,
    )
    assert len(calls) == 2 and res.reused == []


#: the variant with CorrNet's default loss terms: the same fit as plain "corrnet"
DEFAULT_TWIN = f"corrnet[{CorrNet().loss_terms}]"


def test_identical_specs_share_one_fit(digits, tmp_path):
    res = bm.run_benchmark(
        digits,
        methods=["corrnet", DEFAULT_TWIN],
        seeds=[0],
        out_dir=tmp_path,
        method_params={"corrnet": {"epochs": 1}},
        verbose=False,
        figures=False,
    )
    assert res.fitted == [("corrnet", 0)] and res.reused == [(DEFAULT_TWIN, 0)]
    a, b = res.rows
    assert a["sum_corr"] == b["sum_corr"] and b["method"] == DEFAULT_TWIN


# ---- specs, options, presets -----------------------------------------------------------------


def test_parse_spec_names_and_corrnet_combinations():
    assert specs.parse_spec("corrnet") == specs.MethodSpec("corrnet", "corrnet")
    spec = specs.parse_spec(" CorrNet[l3+L2] ")
    assert spec.key == "corrnet[L2+L3]" and spec.variant == "L2+L3"
    assert spec.fixed == {
        "loss_self": False,
        "loss_from_x": True,
        "loss_from_y": True,
        "loss_corr": False,
    }
    assert spec.slug == "corrnet-L2-L3"
    for bad in ("corrnet[L5]", "corrnet[]", "corrnet[L2+L2]", "corrnet[L2", "", "a b"):
        with pytest.raises(CrossviewError):
            specs.parse_spec(bad)
    with pytest.raises(CrossviewError, match="unknown method"):
        specs.parse_spec("nosuchmethod")


def test_variants_are_declared_by_the_class():
    assert CorrNet.variant_params("l4+L2") == {
        "loss_self": False,
        "loss_from_x": True,
        "loss_from_y": False,
        "loss_corr": True,
    }
    assert CorrNet.variant_name("L4+l1") == "L1+L4"
    assert specs.ablation_specs() == ABLATION
    assert specs.methods_with_variants() == ["corrnet"]
    with pytest.raises(CrossviewError, match="loss combination 'L2\\+L5'"):
        CorrNet.variant_params("L2+L5")
    with pytest.raises(
        CrossviewError, match="'cca' has no variants; methods with variants: corrnet"
    ):
        specs.parse_spec("cca[L2]")


def test_only_paired_methods_are_benchmarked(monkeypatch):
    fake = registry.MethodInfo(
        "grouped", "crossview.linear.cca:CCA", "a clustering method", task="clustering"
    )
    monkeypatch.setitem(registry.METHODS, "grouped", fake)
    with pytest.raises(CrossviewError, match="'grouped' is for clustering data, not paired"):
        specs.parse_spec("grouped")
    assert "grouped" not in protocols.default_methods()


def test_bad_options_fail_before_any_fit(digits, tmp_path, monkeypatch):
    monkeypatch.setattr(bm, "run_method", lambda *a, **k: pytest.fail("fitted"))
    for params, match in (
        ({"corrnet": {"nope": 1}}, "no parameter 'nope'"),
        ({"corrnet": {"random_state": 1}}, "seeds"),
        ({"nosuch": {}}, "unknown method"),
    ):
        with pytest.raises(CrossviewError, match=match):
            bm.run_benchmark(
                digits, methods=["corrnet"], out_dir=tmp_path, method_params=params, verbose=False
            )
    for kw, match in (
        ({"seeds": 0}, "at least 1"),
        ({"seeds": [1, 1]}, "distinct"),
        ({"eval_split": "train"}, "eval_split"),
        ({"image_shape": (5, 5)}, "25 pixels"),
    ):
        with pytest.raises(CrossviewError, match=match):
            bm.run_benchmark(digits, methods=["corrnet"], out_dir=tmp_path, verbose=False, **kw)


def test_presets_name_real_parameters_of_available_methods():
    assert bm.PRESETS is protocols.PRESETS  # still importable from the entry point
    for proto, presets in protocols.PRESETS.items():
        for method, params in presets.items():
            assert method in registry.METHODS, (proto, method)
            sig = inspect.signature(registry.get(method).load().__init__).parameters
            assert set(params) <= set(sig), (proto, method, set(params) - set(sig))
    assert protocols.MNIST_PRESETS["corrnet"]["x_hidden"] == (500, 300)
    assert set(protocols.default_methods()) <= set(protocols.DEFAULT_METHODS)
    assert "corrnet" in protocols.default_methods()


def test_published_numbers_only_for_mnist():
    summary = {
        "corrnet": {
            "method": "corrnet",
            "variant": None,
            "n_seeds": 1,
            "metrics": {"sum_corr": {"mean": 40.0, "std": 0.0, "n": 1}},
        }
    }
    from crossview.evaluation.tables import methods_table

    md = methods_table(summary, "mnist-halves").to_markdown()
    assert "45.63" in md and "49.13" in md and "80.46" in md and "[2]" in md
    assert "45.63" not in methods_table(summary, "digits-halves").to_markdown()
    assert all(p.source for ps in PUBLISHED["mnist-halves"].values() for p in ps)


def test_format_cell_and_table_rendering():
    assert format_cell({"mean": 1.234, "std": 0.5, "n": 3}, "{:.2f}") == "1.23 ± 0.50"
    assert format_cell({"mean": 1.234, "std": 0.0, "n": 1}, "{:.2f}") == "1.23"
    assert format_cell(None, "{:.2f}") == "—"
    t = Table("T", ["a", "b"], [["x|y", "<b>"]])
    assert "x\\|y" in t.to_markdown() and "&lt;b&gt;" in t.to_html()


# ---- CLI ---------------------------------------------------------------------------------------


def test_cli_digits_quiet_returns_0(tmp_path, capsys):
    out = tmp_path / "cli"
    code = main(
        [
            "benchmark",
            "digits-halves",
            "--quiet",
            "--out",
            str(out),
            "--methods",
            "corrnet",
            "--set",
            "corrnet.epochs=1",
            "--set",
            "corrnet.x_hidden=16",
            "--no-figures",
        ]
    )
    stdout, err = capsys.readouterr()
    assert code == 0, err
    assert "| corrnet |" in stdout and "report.html" in stdout
    row = json.loads((out / "results.json").read_text())["rows"][0]
    assert json.loads(row["params"])["x_hidden"] == [16]


def test_cli_custom_views_via_group_options(tmp_path, capsys, digits):
    import numpy as np

    d = digits.train
    np.save(tmp_path / "x.npy", d.X[:300])
    np.save(tmp_path / "y.npy", d.Y[:300])
    np.savetxt(tmp_path / "l.txt", d.labels[:300], fmt="%d")
    out = tmp_path / "custom"
    code = main(
        [
            "benchmark",
            "--data-x",
            str(tmp_path / "x.npy"),
            "--data-y",
            str(tmp_path / "y.npy"),
            "--labels",
            str(tmp_path / "l.txt"),
            "--out",
            str(out),
            "--set",
            "corrnet.epochs=1",
            "--set",
            "dcca.epochs=2",
            "--set",
            "dccae.epochs=2",
            "--set",
            "mae.epochs=2",
            "--quiet",
            "--no-figures",
            "--split",
            "0.5,0.25,0.25",
        ]
    )
    _, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads((out / "results.json").read_text())
    assert doc["protocol"]["name"] == "custom"
    assert doc["data"]["sizes"]["train"] == [150, 32, 32]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--set", "corrnet.lam"], "METHOD.KEY=VALUE"),
        (["--set", "lam=2"], "METHOD.KEY=VALUE"),
        (["--set", "corrnet.nope=2"], "no parameter 'nope'"),
        (["--set", "corrnet.lam=many"], "expected a number"),
        (["--set", "corrnet.random_state=1"], "--seeds"),
        (["--methods", "corrnet,nosuch"], "unknown method 'nosuch'"),
        (["--methods", "corrnet[L9]"], "loss combination"),
        (["--seeds", "two"], "--seeds"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    code = main(["benchmark", "digits-halves", "--quiet", "--out", str(tmp_path), *argv])
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crossview: error: ") and message in lines[0]
    assert not list(tmp_path.glob("runs/*.json"))


def test_cli_custom_errors(tmp_path, capsys):
    code = main(
        [
            "benchmark",
            "--data-x",
            str(tmp_path / "missing.npy"),
            "--data-y",
            str(tmp_path / "missing2.npy"),
        ]
    )
    assert code == 2 and "missing.npy" in capsys.readouterr().err
    code = main(["benchmark", "--seeds", "2", "digits-halves"])
    assert code == 2 and "after the command" in capsys.readouterr().err


def test_parse_settings_types():
    from crossview.cli.benchmark import parse_seeds, parse_settings

    got = parse_settings(
        [
            "corrnet.lam=8",
            "corrnet.x_hidden=64,32",
            "corrnet.loss_corr=no",
            "corrnet[L2+L3].epochs=3",
            "corrnet.view_activation=sigmoid",
        ]
    )
    assert got == {
        "corrnet": {
            "lam": 8.0,
            "x_hidden": (64, 32),
            "loss_corr": False,
            "view_activation": "sigmoid",
        },
        "corrnet[L2+L3]": {"epochs": 3},
    }
    assert isinstance(got["corrnet"]["lam"], float)
    assert parse_seeds("3") == 3 and parse_seeds("0,4") == [0, 4]
    with pytest.raises(CrossviewError):
        parse_seeds("0")


def test_mnist_protocol_shows_published_numbers(mnist_dir, tmp_path, monkeypatch):
    """MNIST halves from the shared copy (loading only; the fit is replaced by fixed scores)."""
    from crossview.datasets import load_mnist_halves
    from crossview.evaluation.runner import MethodResult

    data = load_mnist_halves(mnist_dir, download=False, verbose=False)
    scores = {
        "sum_corr": 44.0,
        "canonical_sum_corr": 45.0,
        "transfer_x_to_y": 80.0,
        "transfer_y_to_x": 81.0,
        "fit_seconds": 1.0,
    }

    def fake(method, data, params=None, seed=0, **kw):
        assert params["x_hidden"] == (500, 300) and params["n_components"] == 50
        return MethodResult(method, seed, dict(params, random_state=seed), dict(scores))

    monkeypatch.setattr(bm, "run_method", fake)
    res = bm.run_benchmark(data, methods="corrnet", out_dir=tmp_path, verbose=False, figures=False)
    assert res.protocol.name == "mnist-halves" and res.protocol.image_shape == (28, 14)
    md = (tmp_path / "results.md").read_text()
    assert "| corrnet | 44.00 |" in md
    assert "↳ published: CorrNet-500-300-50 [1] | 45.63 |" in md
    assert "80.46" in md and "88.79" in md and "Chandar" in md
    html = (tmp_path / "report.html").read_text()
    assert 'class="published"' in html and "45.63" in html


def test_a_variant_twin_does_not_give_a_plain_method_too_few_figures(digits, tmp_path):
    res = bm.run_benchmark(
        digits,
        methods=[DEFAULT_TWIN, "corrnet"],
        seeds=[0],
        out_dir=tmp_path,
        method_params={"corrnet": {"epochs": 1}},
        verbose=False,
    )
    assert res.fitted == [(DEFAULT_TWIN, 0), ("corrnet", 0)]
    assert (tmp_path / "figures" / "corrnet-right-from-left.png").is_file()


# ---- figures ---------------------------------------------------------------------------------


class _OneWayModel:
    """Translates X into Y only (``predict`` but no ``predict_x``), like a one-way map."""

    def transform(self, X):
        return X[:, :2]

    def transform_y(self, Y):
        return Y[:, :2]

    def predict(self, X):
        return X


def test_figures_follow_what_the_model_can_do(digits, tmp_path):
    from crossview.evaluation.benchmark_figures import model_figures

    paths = model_figures(
        _OneWayModel(), "one-way", "one-way", digits.test, tmp_path, image_shape=(8, 4)
    )
    assert sorted(p.name for p in paths) == ["one-way-codes.png", "one-way-right-from-left.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    assert not list(tmp_path.glob(".*.part"))  # written atomically, nothing left behind


def test_drawing_leaves_matplotlib_alone(tmp_path):
    """Importing and using the plots picks no backend and never loads pyplot."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, matplotlib\n"
        "def use(*a, **k): raise AssertionError('matplotlib.use called')\n"
        "matplotlib.use = use\n"
        "from crossview.evaluation import plots\n"
        f"plots.plot_dimension_correlations({{'a': np.ones(3)}}, {str(tmp_path / 'd.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "d.png").is_file()


def test_batch_size_is_capped_at_the_training_rows_also_when_it_is_the_class_default():
    import numpy as np

    from crossview.datasets.base import TwoViewData, TwoViewDataset

    rng = np.random.default_rng(0)
    parts = {
        s: TwoViewData(rng.random((n, 4)), rng.random((n, 3)), name=s)
        for s, n in (("train", 30), ("val", 10), ("test", 10))
    }
    data = TwoViewDataset("tiny", **parts)
    custom = protocols.get_protocol("custom")
    params = specs.resolve_params(specs.parse_spec("corrnet"), custom, {}, data)
    assert "batch_size" not in custom.presets["corrnet"] and params["batch_size"] == 30
    assert params["n_components"] == 3  # capped at the narrower view
