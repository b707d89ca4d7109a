"""Fit one registered method on a two-view dataset and score it with the standard protocol.

This is the one place where models and metrics meet: the benchmark scripts and the
`crossview benchmark` command call :func:`run_method` (or, for a model built elsewhere,
:func:`score_model`) and only arrange its rows. Metric names are those of :data:`.scores.SCORES`.
Only methods of the "paired" task are run here.
"""

from __future__ import annotations

import inspect
import os
import threading
import time
import warnings
from dataclasses import dataclass, field

from .. import registry
from ..exceptions import ConstantColumnWarning
from .scores import score_model

__all__ = ["MethodResult", "PeakMemory", "run_method", "score_model"]


@dataclass
class MethodResult:
    """Scores and costs of one fitted method on one seed; ``model`` is kept for figures."""

    method: str
    seed: int
    params: dict
    metrics: dict = field(default_factory=dict)
    model: object | None = None

    def row(self) -> dict:
        """A flat JSON-able row: method, seed, every metric and the parameters (as JSON text)."""
        import json

        return {
            "method": self.method,
            "seed": self.seed,
            **self.metrics,
            "params": json.dumps(self.params, sort_keys=True, default=str),
        }


class PeakMemory:
    """Sample the process's resident memory in a thread; ``peak_mb`` is the rise over the start.

    Counts NumPy and PyTorch allocations alike (tracemalloc sees neither torch's nor BLAS's).
    Sampled every 20 ms, so a spike shorter than that can be missed.
    """

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()

    @staticmethod
    def _rss_mb() -> float:
        try:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError, AttributeError):  # not Linux
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def _watch(self):
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, self._rss_mb() - self.start_mb)

    def __enter__(self):
        self.start_mb = self._rss_mb()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss_mb() - self.start_mb)


def run_method(
    method: str,
    data,
    *,
    params: dict | None = None,
    seed: int = 0,
    eval_split: str = "test",
    verbose: bool = False,
    keep_model: bool = False,
    checkpoint_dir=None,
) -> MethodResult:
    """Fit ``method`` (a paired method's registry name) on ``data.train``; score it on
    ``data.<eval_split>`` with :func:`~.scores.score_model`.

    Deep methods watch ``data.val`` for early stopping. Returns the metrics plus fit seconds,
    peak memory rise (MB), training throughput (deep methods) and the number of parameters.
    """
    cls = registry.get(method, task="paired").load()
    accepted = inspect.signature(cls.__init__).parameters
    params = dict(params or {})
    if "random_state" in accepted:
        params["random_state"] = seed
    if "verbose" in accepted:
        params.setdefault("verbose", verbose)
    if checkpoint_dir is not None and "checkpoint_dir" in accepted:
        params.setdefault("checkpoint_dir", str(checkpoint_dir))
    model = cls(**params)
    fit_kwargs = {}
    if "X_val" in inspect.signature(cls.fit).parameters and data.val is not None:
        fit_kwargs = {"X_val": data.val.X, "Y_val": data.val.Y}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantColumnWarning)
        with PeakMemory() as mem:
            t0 = time.perf_counter()
            model.fit(data.train.X, data.train.Y, **fit_kwargs)
            fit_seconds = time.perf_counter() - t0
    split = getattr(data, eval_split)
    metrics = score_model(model, split.X, split.Y, split.labels)
    metrics.update(
        fit_seconds=fit_seconds,
        peak_mb=mem.peak_mb,
        eval_split=eval_split,
        n_train=int(data.train.X.shape[0]),
    )
    history = getattr(model, "history_", None)
    if history is not None:
        metrics["epochs_run"] = len(history.train)
        metrics["samples_per_second"] = float(history.samples_per_second)
        metrics["seconds_per_epoch"] = float(history.seconds / max(1, len(history.train)))
    module = getattr(model, "module_", None)
    if module is not None:
        from ..deep.nets import count_parameters

        metrics["n_parameters"] = int(count_parameters(module))
    return MethodResult(
        method=method,
        seed=seed,
        params=params,
        metrics=metrics,
        model=model if keep_model else None,
    )
