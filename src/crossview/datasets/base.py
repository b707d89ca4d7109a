"""Containers for two-view data: one split (`TwoViewData`), train/val/test (`TwoViewDataset`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..exceptions import CrossviewError


@dataclass(frozen=True, eq=False)
class TwoViewData:
    """Paired rows of two views, with optional class labels: one split of a data set.

    ``X`` and ``Y`` are float32 arrays of shape ``(n_samples, n_features)`` whose row ``i`` is
    the same item seen two ways; ``labels`` is an int64 vector of length ``n_samples`` (other
    label types, e.g. strings, are kept as given) or ``None`` when the data has no classes.
    """

    X: np.ndarray
    Y: np.ndarray
    labels: np.ndarray | None = None
    name: str = ""

    def __post_init__(self):
        X = np.asarray(self.X, dtype=np.float32)
        Y = np.asarray(self.Y, dtype=np.float32)
        for view, arr in (("X", X), ("Y", Y)):
            if arr.ndim != 2:
                raise CrossviewError(
                    f"{self.name or 'data'}: view {view} has shape {arr.shape}; expected 2-D"
                )
        if X.shape[0] != Y.shape[0]:
            raise CrossviewError(
                f"{self.name or 'data'}: X has {X.shape[0]} rows and Y has {Y.shape[0]}; "
                "expected one row per item in both"
            )
        labels = self.labels
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (X.shape[0],):
                raise CrossviewError(
                    f"{self.name or 'data'}: labels have shape {labels.shape}; expected "
                    f"({X.shape[0]},)"
                )
            if labels.dtype.kind in "biu" or (
                labels.dtype.kind == "f" and np.all(np.mod(labels, 1) == 0)
            ):
                labels = labels.astype(np.int64)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "Y", Y)
        object.__setattr__(self, "labels", labels)

    @property
    def n_samples(self) -> int:
        """Number of paired rows."""
        return int(self.X.shape[0])

    def __len__(self) -> int:
        return self.n_samples

    def __repr__(self) -> str:
        lab = "no labels" if self.labels is None else f"labels {self.labels.shape}"
        return f"TwoViewData({self.name!r}: X {self.X.shape}, Y {self.Y.shape}, {lab})"


@dataclass(frozen=True, eq=False)
class TwoViewDataset:
    """A two-view data set cut into ``train``, ``val`` (tuning) and ``test`` (reporting) splits."""

    name: str
    train: TwoViewData
    val: TwoViewData
    test: TwoViewData
    description: str = ""

    SPLITS: ClassVar[tuple[str, ...]] = ("train", "val", "test")

    def splits(self) -> dict[str, TwoViewData]:
        """Return the splits by name, in the order train, val, test."""
        return {s: getattr(self, s) for s in self.SPLITS}

    def __getitem__(self, split: str) -> TwoViewData:
        if split not in self.SPLITS:
            raise CrossviewError(
                f"unknown split {split!r}; expected one of {', '.join(self.SPLITS)}"
            )
        return getattr(self, split)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{s} {len(d)}" for s, d in self.splits().items())
        return (
            f"TwoViewDataset({self.name!r}: {sizes}; X {self.train.X.shape[1]} + "
            f"Y {self.train.Y.shape[1]} features)"
        )
