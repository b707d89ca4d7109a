"""Run the catalogue of bad inputs (tests/bad_inputs.py): through the Python API, each case ends
in a one-line CrossviewError naming the problem, a documented warning, or is accepted; through
the CLI, exit code 2 with one line on stderr, no traceback, and nothing written."""

from __future__ import annotations

import warnings

import pytest
from bad_inputs import api_cases, cli_cases, prepare

from crossview.cli import main
from crossview.exceptions import CrossviewError

API = api_cases()
CLI = cli_cases()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return prepare(tmp_path_factory.mktemp("bad-inputs"))


def test_the_catalogue_is_large_enough_and_ids_are_unique():
    assert len([c for c in API if c.outcome != "accepted"]) >= 40 and len(CLI) >= 40
    ids = [c.id for c in API + CLI]
    assert len(ids) == len(set(ids))


def test_docs_list_every_case():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "reliability.md").read_text()
    missing = [c.id for c in API + CLI if f"`{c.id}`" not in text]
    assert not missing, (
        f"docs/reliability.md lacks {missing}; run python scripts/reliability_doc.py"
    )


@pytest.mark.parametrize("case", API, ids=[c.id for c in API])
def test_api(case, files):
    if case.outcome == "error":
        from sklearn.exceptions import NotFittedError

        expected = {"CrossviewError": CrossviewError, "NotFittedError": NotFittedError}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(expected[case.exception]) as exc:
                case.run(files)
        msg = str(exc.value)
        assert "\n" not in msg.strip(), msg
        for word in case.expect:
            assert word in msg, (word, msg)
    elif case.outcome == "warning":
        with pytest.warns(Warning) as record:
            case.run(files)
        text = " ".join(str(w.message) for w in record)
        for word in case.expect:
            assert word in text, (word, text)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # accepted quietly: no warning either
            case.run(files)


@pytest.mark.parametrize("case", CLI, ids=[c.id for c in CLI])
def test_cli(case, files, capsys):
    argv = case.run(files)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (argv, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crossview: error: "), err
    assert "Traceback" not in out + err
    for word in case.expect:
        assert word in lines[0], (word, lines[0])
    if case.writes is not None:
        assert not files[case.writes].exists(), f"{case.id} wrote {files[case.writes]}"
