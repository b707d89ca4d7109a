"""`python -m crossview` runs the command line."""

from .cli import run

run()
