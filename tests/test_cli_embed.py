"""`crossview embed words`, `crossview map` and `crossview diagnose` on small files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crossview.cli import main
from crossview.embed.align import write_dictionary
from crossview.embed.vectors import Embedding, read_embedding, write_embedding


@pytest.fixture
def spaces(tmp_path):
    rng = np.random.default_rng(0)
    n, d = 300, 10
    centres = rng.normal(size=(30, d))
    X = centres[rng.integers(0, 30, n)] + 0.5 * rng.normal(size=(n, d))
    Y = X @ np.linalg.qr(rng.normal(size=(d, d)))[0] + 0.05 * rng.normal(size=(n, d))
    src = write_embedding(Embedding([f"w{i}" for i in range(n)], X), tmp_path / "src.vec")
    tgt = write_embedding(Embedding([f"n{i}" for i in range(n)], Y[:, :8]), tmp_path / "tgt.npy")
    dic = write_dictionary([(f"w{i}", f"n{i}") for i in range(n)], tmp_path / "dict.txt")
    return src, tgt, dic


def test_map_writes_table_scores_and_mapped_vectors(spaces, tmp_path, capsys):
    src, tgt, dic = spaces
    out = tmp_path / "run"
    args = ["map", "--source", str(src), "--target", str(tgt), "--dict", str(dic)]
    code = main([*args, "--method", "procrustes,ridge", "--out", str(out), "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    assert "| procrustes |" in text and "300 with both keys" in text
    res = json.loads((out / "results.json").read_text())
    assert res["splits"] == {"train": 240, "val": 30, "test": 30}
    assert {r["method"] for r in res["rows"]} == {"procrustes", "ridge"}
    assert all(r["test_csls_p@1"] > 0.8 for r in res["rows"])
    mapped = read_embedding(out / "mapped.vec")
    assert len(mapped) == 300 and mapped.dim == 8


def test_map_and_diagnose_errors_are_one_line(spaces, tmp_path, capsys):
    src, tgt, dic = spaces
    args = ["map", "--source", str(src), "--target", str(tgt), "--dict", str(dic)]
    assert main([*args, "--method", "bogus", "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown mapper 'bogus'" in err[0]
    (tmp_path / "bad.txt").write_text("w1 n1 extra\n")
    assert main(["diagnose", str(src), str(tgt), "--dict", str(tmp_path / "bad.txt")]) == 2
    assert "3 fields" in capsys.readouterr().err


def test_diagnose_prints_a_verdict(spaces, capsys):
    src, tgt, dic = spaces
    assert main(["diagnose", str(src), str(tgt), "--dict", str(dic), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert "verdict" in json.dumps(rep)


def test_embed_words_ppmi(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat eats fish\nthe dog eats meat\nthe car needs fuel\n" * 20)
    out = tmp_path / "w.vec"
    assert (
        main(
            [
                "embed",
                "words",
                str(corpus),
                "--out",
                str(out),
                "--method",
                "ppmi",
                "--dim",
                "3",
                "--min-count",
                "1",
                "-q",
            ]
        )
        == 0
    )
    emb = read_embedding(out)
    assert emb.dim == 3 and "cat" in emb.keys
    assert main(["embed", "words", str(corpus), "--out", str(tmp_path / "w.bin")]) == 2
