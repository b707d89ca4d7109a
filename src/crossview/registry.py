"""The one table of methods: name -> class and task.

Entries name their class by import path so that importing crossview stays cheap (torch is only
imported when a deep method is used). The CLI (`crossview fit NAME`, `crossview methods`), model
loading, the benchmark and the contract test (tests/test_method_contract.py) all look methods
up here. What a method can do comes from its class: it translates if it has ``predict``
(scikit-learn's ``available_if`` hides it where a setting rules it out), and it is deep if it is
trained by the shared trainer. Adding a method is two edits: its module and one line below.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .exceptions import CrossviewError

#: what a method is fitted on: two views with paired rows; two data sets linked by class labels;
#: sets of items with per-set cluster ids
TASKS = ("paired", "label-linked", "clustering")


@dataclass(frozen=True)
class MethodInfo:
    """What the registry knows about one method: its name, class, one-line summary and task."""

    name: str
    target: str  # "module:ClassName"
    summary: str
    task: str = "paired"

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"method {self.name}: unknown task {self.task!r}; one of {TASKS}")

    def load(self) -> type:
        """Import and return the estimator class."""
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)

    @property
    def translates(self) -> bool:
        """Whether the class can translate between views (it has ``predict``; a clustering
        method's ``predict`` gives clusters, not translations)."""
        return self.task != "clustering" and hasattr(self.load(), "predict")

    @property
    def deep(self) -> bool:
        """Whether the class is trained by the shared torch trainer."""
        return hasattr(self.load(), "_build_module")


# fmt: off
# one line per method: name, class, summary (task "paired" unless given)
METHODS: dict[str, MethodInfo] = {m.name: m for m in [
    MethodInfo("cca", "crossview.linear.cca:CCA", "regularised closed-form CCA (whitening + SVD)"),
    MethodInfo("ridge", "crossview.linear.ridge_map:RidgeMap", "ridge / least-squares map X->Y and Y->X"),
    MethodInfo("procrustes", "crossview.linear.procrustes:Procrustes", "orthogonal map between embedding spaces (Artetxe et al.)"),
    MethodInfo("rcsls", "crossview.linear.rcsls:RCSLS", "linear map trained on the CSLS retrieval criterion (Joulin et al. 2018)"),
    MethodInfo("kcca", "crossview.kernel.kcca:KernelCCA", "kernel CCA, exact or Nystrom"),
    MethodInfo("corrnet", "crossview.deep.corrnet:CorrNet", "Deep Correlational Neural Network (Chandar et al. 2016)"),
    MethodInfo("dcca", "crossview.deep.dcca:DCCA", "deep CCA (Andrew et al. 2013)"),
    MethodInfo("dccae", "crossview.deep.dcca:DCCAE", "deep canonically correlated autoencoders (Wang et al. 2015)"),
    MethodInfo("mae", "crossview.deep.multimodal_ae:MultimodalAE", "multimodal autoencoder (Ngiam et al. 2011)"),
    MethodInfo("mlpmap", "crossview.deep.mlp_map:MLPMap", "neural map X->Y (and Y->X) between embedding spaces"),
    MethodInfo("classmap", "crossview.labels.class_conditional:ClassConditionalMap", "classify, then combine per-class statistics of the other view", "label-linked"),
    MethodInfo("sharedhead", "crossview.labels.shared_head:SharedHeadNet", "two classifiers sharing their last layers; ridge from the shared code", "label-linked"),
    MethodInfo("labelgroup", "crossview.labels.label_group:LabelGroupMap", "networks trained on same-label targets, matched by optimal assignment", "label-linked"),
    MethodInfo("setclusterer", "crossview.clustering.set_clusterer:SetClusterer", "one network: item categories and within-set clusters from pairwise P(same)", "clustering"),
    MethodInfo("classifycluster", "crossview.clustering.classify_cluster:ClassifyThenCluster", "baseline: classify items, then cluster each predicted category", "clustering"),
]}
# fmt: on


def get(name: str, task: str | None = None) -> MethodInfo:
    """Look a method up by name (and, if given, check its task), with a clear error."""
    key = str(name).lower()
    if key not in METHODS:
        raise CrossviewError(f"unknown method {name!r}; available: {', '.join(sorted(METHODS))}")
    info = METHODS[key]
    if task is not None and info.task != task:
        raise CrossviewError(
            f"method {info.name!r} is for {info.task} data, not {task} data; "
            f"{task} methods: {', '.join(names(task)) or 'none'}"
        )
    return info


def names(task: str | None = None) -> list[str]:
    """The registered method names (of one task, if given), in table order."""
    if task is not None and task not in TASKS:
        raise CrossviewError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}")
    return [n for n, info in METHODS.items() if task is None or info.task == task]


def name_of(estimator) -> str:
    """Return the registry name of an estimator instance or class."""
    cls = estimator if isinstance(estimator, type) else type(estimator)
    target = f"{cls.__module__}:{cls.__name__}"
    for name, info in METHODS.items():
        if info.target == target:
            return name
    raise CrossviewError(f"{cls.__name__} is not a registered crossview method")
