"""The CLI on set-clustering tables: `crossview cluster fit | predict | evaluate`, CSV and
Parquet tables, and one-line user errors with exit code 2."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from cli_helpers import user_error

from crossview.cli import main
from crossview.clustering.table import read_table, table_from_arrays, write_table
from crossview.datasets.instance_sets import make_context_sets

FIT = ["-p", "epochs=3", "-p", "device=cpu", "-p", "random_state=0", "-q"]


@pytest.fixture()
def table(tmp_path):
    t = make_context_sets(40, random_state=0)
    names = np.array(["ant", "bee", "cat", "dog"])
    path = tmp_path / "items.csv"
    write_table(path, table_from_arrays(t.X, t.sets, names[t.categories], t.clusters))
    return path, t


def test_fit_predict_evaluate_round_trip(table, tmp_path, capsys):
    path, t = table
    assert main(["cluster", "fit", "--data", str(path), "--out", str(tmp_path / "m"), *FIT]) == 0
    out = tmp_path / "pred.csv"
    assert (
        main(["cluster", "predict", str(tmp_path / "m"), "--data", str(path), "--out", str(out)])
        == 0
    )
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(t.X) and set(rows[0]) == {"set", "category", "cluster"}
    assert {r["category"] for r in rows} <= {"ant", "bee", "cat", "dog"}
    capsys.readouterr()
    code = main([
        "cluster", "evaluate", str(tmp_path / "m"), "--data", str(path),
        "--json", str(tmp_path / "scores.json"),
    ])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    assert "ari" in text and "category_accuracy" in text
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert scores["n_sets"] == 40 and -1 <= scores["ari"] <= 1


def test_parquet_tables_with_a_list_column_and_named_columns(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    t = make_context_sets(20, random_state=1)
    path = tmp_path / "items.parquet"
    pq.write_table(
        pa.table({"bag": t.sets, "kind": t.categories, "group": t.clusters,
                  "vec": [list(map(float, r)) for r in t.X]}),
        path,
    )  # fmt: skip
    got = read_table(path, "bag", "kind", "group", ["vec"])
    np.testing.assert_allclose(got["X"], t.X, rtol=1e-6)
    assert np.array_equal(got["categories"], t.categories)
    assert main([
        "cluster", "fit", "--data", str(path), "--set-col", "bag", "--category-col", "kind",
        "--cluster-col", "group", "--out", str(tmp_path / "m"), *FIT,
    ]) == 0  # fmt: skip


def test_feature_globs_pick_columns(table):
    path, t = table
    got = read_table(path, "set", "category", "cluster", ["f*"])
    assert got["features"] == ["f0", "f1"] and got["X"].shape == t.X.shape


def test_user_errors_are_one_line(table, tmp_path, capsys):
    path, t = table
    m = str(tmp_path / "m")
    assert "no column 'grp' (--set-col)" in user_error(
        capsys, ["cluster", "fit", "--data", str(path), "--set-col", "grp", "--out", m, "-q"]
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("set,category,cluster,f0\n0,a,0,1.5\n0,a,0\n")
    assert "line 3" in user_error(capsys, ["cluster", "fit", "--data", str(bad), "--out", m])
    words = tmp_path / "words.csv"
    words.write_text("set,category,cluster,f0\n0,a,0,x\n0,a,0,y\n")
    assert "not numeric" in user_error(capsys, ["cluster", "fit", "--data", str(words), "--out", m])
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("set,category,cluster,f0\n0,a,0,1\n0,b,0,2\n1,a,0,1\n1,b,1,2\n")
    assert "mix categories" in user_error(
        capsys, ["cluster", "fit", "--data", str(mixed), "--out", m]
    )
    assert "expected a .csv, .tsv or .parquet" in user_error(
        capsys, ["cluster", "fit", "--data", str(tmp_path / "x.json"), "--out", m]
    )
    assert "is missing" in user_error(
        capsys, ["cluster", "fit", "--data", str(tmp_path / "nope.csv"), "--out", m]
    )
    assert "for paired data, not clustering" in user_error(
        capsys, ["cluster", "fit", "--data", str(path), "--method", "cca", "--out", m]
    )
    assert main(["cluster", "fit", "--data", str(path), "--out", m, *FIT]) == 0
    other = tmp_path / "other.csv"
    write_table(other, table_from_arrays(np.c_[t.X, t.X], t.sets))
    assert "4 feature columns; the model was fitted on 2" in user_error(
        capsys, ["cluster", "predict", m, "--data", str(other), "--out", str(tmp_path / "p.csv")]
    )
    assert "use a .csv or .tsv" in user_error(
        capsys, ["cluster", "predict", m, "--data", str(path), "--out", str(tmp_path / "p.npy")]
    )
    assert not (tmp_path / "p.npy").exists()


def test_ids_keep_their_text_and_whole_numbers_only(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("set,category,cluster,f0\n007,a,0,1\n7,a,0,2\n-3,b,1,3\n")
    got = read_table(path, "set", "category", "cluster")
    assert list(got["sets"]) == ["007", "7", "-3"]  # "007" is not 7: all kept as text
    empty = tmp_path / "empty-id.csv"
    empty.write_text("set,category,cluster,f0\n1,a,0,1\n,a,0,2\n")
    with pytest.raises(Exception, match="empty values"):
        read_table(empty, "set", "category", "cluster")
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"set": [1.0, 2.7], "f0": [0.0, 1.0]}), tmp_path / "f.parquet")
    with pytest.raises(Exception, match="neither whole numbers nor text"):
        read_table(tmp_path / "f.parquet", "set")
