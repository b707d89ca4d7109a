"""Kernel two-view methods: regularised kernel CCA, exact or with the Nystrom approximation."""

from .kcca import KernelCCA

__all__ = ["KernelCCA"]
