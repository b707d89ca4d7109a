"""The label-linked benchmark's pieces on small data: splits, references, scoring, tables."""

from __future__ import annotations

import numpy as np
import pytest

from crossview.datasets.label_linked import LabelLinkedDataset
from crossview.evaluation import label_linked as ll
from crossview.exceptions import CrossviewError


def small_data(n=120, seed=0):
    """Paired test rows of two views; training rows of X and Y from different items."""
    rng = np.random.default_rng(seed)

    def items(m):
        lab = np.arange(m) % 3
        Z = 3 * np.eye(3)[lab] + 0.5 * rng.standard_normal((m, 3))
        return np.c_[Z, Z[:, :1]], np.c_[Z[:, ::-1]], lab

    X1, Y1, l1 = items(n)
    _, Y2, l2 = items(n)
    Xt, Yt, lt = items(60)
    return LabelLinkedDataset(
        "toy", X1, l1, Y2, l2, Xt, lt, Yt, lt, True, shapes=((2, 2), (1, 3)),
        X_paired=X1, Y_paired=Y1,
    )  # fmt: skip


def test_run_scores_every_output_both_ways_against_floor_and_ceiling(tmp_path):
    data = small_data()
    refs = ll.reference_rows(data, ("ridge",))
    rows, models = ll.run_label_linked(data, ["classmap"], seed=0)
    assert [r["method"] for r in rows] == ["classmap[soft]", "classmap[hard]", "classmap[sample]"]
    for r in rows + refs:
        for way in ("xy", "yx"):
            assert {f"label_match_{way}", f"energy_{way}", f"mse_{way}", f"p@1_{way}"} <= r.keys()
    assert refs[0]["method"].startswith("floor") and refs[1]["method"].startswith("ceiling")
    every = refs + rows
    ll.add_gap(every)
    assert every[1]["gap_xy"] == pytest.approx(100.0)  # the ceiling closes its own gap
    assert every[0]["gap_xy"] == pytest.approx(0.0)
    table = ll.markdown_table(every)
    assert "| classmap[hard] | 0 |" in table and "gap closed % X→Y" in table
    path = ll.plot_translations(data, models["classmap"], tmp_path / "f.png")
    assert path.stat().st_size > 1000
    csv = ll.write_rows_csv(tmp_path / "r.csv", every).read_text().splitlines()
    assert len(csv) == len(every) + 1 and csv[0].startswith("method,")
    (tmp_path / "figures").mkdir()
    path.rename(tmp_path / "figures" / "classmap-soft-pairs0.png")
    page = ll.write_html_report(tmp_path, "toy", "a toy", table, {"machine": {"cpu": "x"}})
    text = page.read_text()
    assert "<td>classmap[hard]</td>" in text and "figures/classmap-soft-pairs0.png" in text


def test_semi_paired_split_keeps_items_in_one_view_unless_paired():
    X = np.arange(100)[:, None].astype(float)
    Xp, Yp, Xo, Yo = ll.semi_paired_split(X, X + 1000, 0.1, seed=0)
    assert len(Xp) == 10 and np.array_equal(Yp, Xp + 1000)
    seen_x, seen_y = set(Xo[:, 0]), set(Yo[:, 0] - 1000)
    assert not seen_x & seen_y and not seen_x & set(Xp[:, 0])
    assert len(seen_x) + len(seen_y) + 10 == 100
    with pytest.raises(CrossviewError, match="between 0 and 1"):
        ll.semi_paired_split(X, X, 1.5)


def test_gap_needs_a_floor_above_the_ceiling():
    assert ll.gap_closed(0.05, 0.06, 0.04) == pytest.approx(50.0)
    with pytest.raises(CrossviewError, match="not above"):
        ll.gap_closed(0.05, 0.04, 0.06)


def test_benchmark_cli_rejects_bad_options_before_loading_data(capsys, tmp_path):
    from cli_helpers import user_error

    base = ["benchmark", "label-linked"]
    line = user_error(capsys, [*base, "--pairs", "ten", "--out", str(tmp_path)])
    assert "--pairs expects a comma list" in line
    line = user_error(capsys, [*base, "digits-mnist", "--pairs", "10", "--out", str(tmp_path)])
    assert "no true pairs" in line
    line = user_error(capsys, [*base, "--methods", "cca", "--out", str(tmp_path)])
    assert "is for paired data, not label-linked data" in line


def test_a_kept_run_is_reused_only_with_the_same_settings(tmp_path):
    path = tmp_path / "runs" / "r.json"
    rows = [{"method": "classmap[soft]", "mse_xy": 0.05}]
    ll.save_run(path, {"output": "soft", "sizes": (1, 2)}, rows)
    assert ll.load_run(path, {"output": "soft", "sizes": [1, 2]}) == rows
    assert ll.load_run(path, {"output": "hard", "sizes": (1, 2)}) is None
    assert ll.load_run(tmp_path / "missing.json", {}) is None
    path.write_text('[{"method": "old"}]')  # rows alone: a run with the defaults
    assert ll.load_run(path, {}) == [{"method": "old"}] and ll.load_run(path, {"a": 1}) is None
    path.write_text("{not json")
    assert ll.load_run(path, {}) is None
