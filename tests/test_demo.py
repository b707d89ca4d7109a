"""`crossview demo`: the quick start runs offline and writes its table and figure."""

from __future__ import annotations

import json

from crossview.cli import main


def test_demo_runs_and_writes_outputs(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "| corrnet |" in printed and "| cca |" in printed
    png = out / "reconstructions.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((out / "metrics.json").read_text())
    corrnet, cca = metrics["corrnet"], metrics["cca"]
    # CorrNet's codes transfer far above chance (10 classes) and it translates better than
    # predicting the mean right half would
    assert corrnet["transfer_x_to_y"] > 50 and corrnet["transfer_y_to_x"] > 50
    assert corrnet["sum_corr"] > 8
    assert cca["sum_corr"] > 5
    assert corrnet["mse_y_from_x"] < 0.1
