"""The one table of methods: name -> class and what the method can do.

Entries name their class by import path so that importing crossview stays cheap (torch is only
imported when a deep method is used). The CLI (`crossview fit NAME`, `crossview methods`), model
loading and the benchmark all look methods up here.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

from .base import CrossviewError


@dataclass(frozen=True)
class MethodInfo:
    """What the registry knows about one method."""

    name: str
    target: str  # "module:ClassName"
    summary: str
    paired: bool = True  # fit(X, Y) on paired rows
    translates: bool = False  # predict / predict_x exist
    deep: bool = False  # trained by the shared torch trainer

    def load(self) -> type:
        """Import and return the estimator class."""
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)


METHODS: dict[str, MethodInfo] = {
    m.name: m
    for m in [
        MethodInfo("cca", "crossview.linear.cca:CCA",
                   "regularised closed-form CCA (whitening + SVD)", translates=True),
        MethodInfo("ridge", "crossview.linear.ridge_map:RidgeMap",
                   "ridge / least-squares map X->Y and Y->X", translates=True),
        MethodInfo("procrustes", "crossview.linear.procrustes:Procrustes",
                   "orthogonal map between embedding spaces (Artetxe et al.)", translates=True),
        MethodInfo("kcca", "crossview.kernel.kcca:KernelCCA",
                   "kernel CCA, exact or Nystrom", translates=True),
        MethodInfo("corrnet", "crossview.deep.corrnet:CorrNet",
                   "Deep Correlational Neural Network (Chandar et al. 2016)", translates=True,
                   deep=True),
        MethodInfo("dcca", "crossview.deep.dcca:DCCA",
                   "deep CCA (Andrew et al. 2013)", deep=True),
        MethodInfo("dccae", "crossview.deep.dcca:DCCAE",
                   "deep canonically correlated autoencoders (Wang et al. 2015)", translates=True,
                   deep=True),
        MethodInfo("mae", "crossview.deep.multimodal_ae:MultimodalAE",
                   "multimodal autoencoder (Ngiam et al. 2011)", translates=True, deep=True),
        MethodInfo("mlpmap", "crossview.deep.mlp_map:MLPMap",
                   "neural map X->Y (and Y->X) between embedding spaces", translates=True,
                   deep=True),
    ]
}


def available() -> dict[str, MethodInfo]:
    """Return the registered methods whose module is present in this installation."""
    out = {}
    for name, info in METHODS.items():
        module = info.target.partition(":")[0]
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # find_spec imports the parent package, which may be absent
            found = False
        if found:
            out[name] = info
    return out


def get(name: str) -> MethodInfo:
    """Look a method up by name, with a clear error listing the known names."""
    key = name.lower()
    known = available()
    if key not in known:
        raise CrossviewError(
            f"unknown method {name!r}; available: {', '.join(sorted(known)) or 'none'}"
        )
    return known[key]


def name_of(estimator) -> str:
    """Return the registry name of an estimator instance or class."""
    cls = estimator if isinstance(estimator, type) else type(estimator)
    target = f"{cls.__module__}:{cls.__name__}"
    for name, info in METHODS.items():
        if info.target == target:
            return name
    raise CrossviewError(f"{cls.__name__} is not a registered crossview method")
