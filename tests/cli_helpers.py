"""Helpers for CLI tests: run `crossview` in-process and check how it ended."""

from __future__ import annotations

from crossview.cli import main


def user_error(capsys, argv) -> str:
    """Run the CLI, assert it failed as a user error (exit 2, one stderr line), return the line."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crossview: error: "), err
    assert "Traceback" not in err + out
    return lines[0]
