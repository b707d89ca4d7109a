"""The `crossview` command line: thin commands over the library and one error handler."""

from __future__ import annotations

import sys
import traceback
import warnings

import typer

from .._version import __version__
from ..exceptions import CrossviewError

# click's exit / abort / usage errors: typer >= 0.2x vendors click (typer's own classes), older
# releases raise the click package's; catch whichever exist
_Abort, _Exit, _UsageProblem = (), (), ()
if hasattr(typer, "TyperException"):
    _Abort, _Exit, _UsageProblem = (typer.Abort,), (typer.Exit,), (typer.TyperException,)
try:
    import click.exceptions as _click_exc

    _Abort += (_click_exc.Abort,)
    _Exit += (_click_exc.Exit,)
    _UsageProblem += (_click_exc.ClickException,)
except ModuleNotFoundError:
    pass


app = typer.Typer(
    name="crossview",
    help="Learn mappings and common representations between two views of data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

#: errors that are the user's to fix: one line on stderr, exit code 2, no traceback (unless
#: ``--debug``). Anything else is a bug in crossview and shows its traceback.
USER_ERRORS = (CrossviewError, OSError)

#: set by ``crossview --debug``: show the traceback of user errors too
_DEBUG = {"on": False}


def _version_callback(value: bool):
    if value:
        typer.echo(f"crossview {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the version and exit.",
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show the full traceback of errors, user errors included."
    ),
):
    """Learn mappings and common representations between two views of data."""
    _DEBUG["on"] = debug


def _register():
    from . import cluster, data, embed, models  # noqa: F401  (commands register themselves on `app`)

    for optional in ("evaluate", "demo", "benchmark"):
        try:
            __import__(f"{__name__}.{optional}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{optional}":
                raise


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors print one line and return exit code 2.

    Warnings raised while a command runs (e.g. constant columns in a view) are printed after it
    succeeds, one line each (``crossview: warning: ...``); when the command fails with a user
    error only the error line is printed.
    """
    _register()
    with warnings.catch_warnings(record=True) as caught:
        try:
            code = _run_app(argv)
        except BaseException:
            _echo_warnings(caught)
            raise
    if code != 2:
        _echo_warnings(caught)
    return code


def _echo_warnings(caught) -> None:
    seen = set()
    for w in caught:
        text = str(w.message).strip()
        line = text.splitlines()[0] if text else w.category.__name__
        if line not in seen:
            seen.add(line)
            typer.echo(f"crossview: warning: {line}", err=True)


def _run_app(argv: list[str] | None) -> int:
    _DEBUG["on"] = False
    try:
        result = app(args=argv, prog_name="crossview", standalone_mode=False)
    except _Exit as exc:
        return exc.exit_code
    except _Abort:
        typer.echo("crossview: aborted", err=True)
        return 130
    except _UsageProblem as exc:
        message = (exc.format_message() if hasattr(exc, "format_message") else str(exc)).strip()
        if message:  # empty when a group was called without a command: help is already shown
            typer.echo(f"crossview: error: {message.splitlines()[0]}", err=True)
        return 2
    except USER_ERRORS as exc:
        if _DEBUG["on"]:
            traceback.print_exc()
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, OSError) and exc.filename:
            msg = f"{exc.strerror}: {exc.filename}"
        typer.echo(f"crossview: error: {msg}", err=True)
        return 2
    # newer typer returns the code of an explicit Exit (e.g. --version) instead of raising it
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
