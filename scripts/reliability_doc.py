"""Write docs/reliability.md: every bad-input case of tests/bad_inputs.py with the message
crossview gives it. Usage: python scripts/reliability_doc.py"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from bad_inputs import api_cases, cli_cases, prepare  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from crossview.cli import main  # noqa: E402
from crossview.exceptions import CrossviewError  # noqa: E402

HEAD = """# Reliability: bad inputs and what they get

Every case below is run by `tests/test_bad_inputs.py` (the list lives in `tests/bad_inputs.py`;
`python scripts/reliability_doc.py` rewrites this page from it). Through the Python API a bad
input raises `crossview.exceptions.CrossviewError` (a `ValueError`) with a one-line message
naming what was wrong and what was expected, or gives a documented warning; through the CLI it
prints that line as `crossview: error: ...` on stderr and exits with code 2, with no traceback
(`crossview --debug ...` adds it) and without writing its output. Inputs marked *accepted*
are converted and fitted without a word.

Model files: the JSON config records the SHA-256 of the weights and loading checks it, so a
damaged weights file is an error, never a silently different model; loading never unpickles or
runs code from a file. `tests/test_model_fuzz.py` feeds over 1,000 damaged model files per run
(flipped bytes, truncations, forged headers, wrong shapes, random JSON edits, a pickle renamed
as the weights) and checks that each ends in a one-line error or a model that works.
"""


def _api_message(case, f) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            case.run(f)
        except (CrossviewError, NotFittedError) as exc:
            return f"{type(exc).__name__}: {exc}"
    if caught:
        return "warning: " + str(caught[0].message)
    return "accepted"


def _cli_message(case, f) -> str:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(case.run(f))
    line = err.getvalue().strip().splitlines()[-1] if err.getvalue().strip() else ""
    return f"exit {code}: {line}"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main_doc() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        f = prepare(Path(tmp))
        out = [HEAD, "## Python API\n", "| case | input | message |", "|---|---|---|"]
        for c in api_cases():
            msg = _api_message(c, f).replace(tmp, "…")
            out.append(f"| `{c.id}` | {_escape(c.what)} | {_escape(msg)} |")
        out += ["", "## Command line\n", "| case | input | message |", "|---|---|---|"]
        for c in cli_cases():
            msg = _cli_message(c, f).replace(tmp, "…")
            out.append(f"| `{c.id}` | {_escape(c.what)} | {_escape(msg)} |")
    (ROOT / "docs" / "reliability.md").write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"wrote {ROOT / 'docs' / 'reliability.md'}")


if __name__ == "__main__":
    main_doc()
