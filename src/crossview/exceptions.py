"""crossview's errors and warnings. Imported by every module; imports nothing of crossview."""

from __future__ import annotations


class CrossviewError(ValueError):
    """A user error: bad input, a bad file, an impossible request (the CLI prints one line)."""


class ConstantColumnWarning(UserWarning):
    """Warned when a view has columns with zero variance (they carry no information)."""


class NonFiniteLossError(CrossviewError):
    """Training produced NaN or inf; the message names the epoch, the batch and the loss term."""
