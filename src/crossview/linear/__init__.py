"""Linear two-view methods: regularised CCA, ridge maps and orthogonal (Procrustes) maps."""

from .cca import CCA
from .procrustes import Procrustes
from .ridge_map import RidgeMap

__all__ = ["CCA", "Procrustes", "RidgeMap"]
