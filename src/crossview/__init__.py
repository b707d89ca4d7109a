"""crossview: mappings and common representations between two views of data."""

from ._version import __version__
from .base import CrossviewError, TwoViewModel, check_views
from .io import load_model as load

__all__ = ["__version__", "CrossviewError", "TwoViewModel", "check_views", "load"]


def __getattr__(name):
    """Import estimator classes lazily (so `import crossview` does not import torch)."""
    from .registry import METHODS

    for info in METHODS.values():
        if info.target.endswith(":" + name):
            return info.load()
    raise AttributeError(f"module 'crossview' has no attribute {name!r}")
