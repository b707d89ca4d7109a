"""The one training loop for every deep method: batches, devices, seeds, validation, early
stopping, checkpoints and resume, a NaN guard, a progress bar and a full loss history.

A model is any ``torch.nn.Module`` whose ``forward(*batch)`` returns a ``dict[str, Tensor]`` with
the total ``"loss"`` and each named term (e.g. ``"self_rec"``, ``"corr"``); the trainer knows
nothing else about it, except that a module with a ``start_epoch(epoch)`` method gets it called
before each epoch (e.g. to re-match training targets; what it changes must live in the module's
state, so that checkpoints and resume stay exact).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from tqdm.auto import tqdm

from ..base import check_params
from ..exceptions import CrossviewError, NonFiniteLossError
from ..fileio import atomic_write, write_json
from . import distributed

log = logging.getLogger(__name__)

CHECKPOINT_WEIGHTS = "checkpoint.safetensors"
CHECKPOINT_STATE = "checkpoint.json"


#: the values of ``train(optimizer=...)``
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
#: the values of ``train(precision=...)``
PRECISIONS = ("float32", "bfloat16")

#: what each setting of :func:`train` accepts (scikit-learn constraints, checked before
#: training); the deep estimators take theirs from here (``crossview.deep.estimator``)
TRAIN_CONSTRAINTS: dict = {
    "epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "optimizer": [StrOptions(set(OPTIMIZERS))],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "lr_schedule": [StrOptions({"constant", "cosine"})],
    "precision": [StrOptions(set(PRECISIONS))],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "patience": [Interval(Integral, 1, None, closed="left"), None],
    "min_delta": [Interval(Real, 0, None, closed="left")],
    "restore_best": ["boolean"],
    "device": [str, torch.device],
    "random_state": [Integral, None],
    "checkpoint_dir": [str, os.PathLike, None],
    "resume": ["boolean"],
    "verbose": ["verbose"],
    "desc": [str],
    "eval_batch_size": [Interval(Integral, 1, None, closed="left"), None],
    "shuffle_buffer": [Interval(Integral, 1, None, closed="left"), None],
}


#: ``epochs="auto"``: enough epochs for this many optimiser steps, within :data:`AUTO_EPOCHS`
AUTO_STEPS = 30_000
#: the fewest and the most epochs ``epochs="auto"`` chooses
AUTO_EPOCHS = (30, 1000)


def resolve_epochs(
    epochs, n_samples: int, batch_size: int, steps: int = AUTO_STEPS, bounds=AUTO_EPOCHS
) -> int:
    """The number of epochs to train: ``epochs`` itself, or for ``"auto"`` a step budget.

    ``"auto"`` trains for ``steps`` (default :data:`AUTO_STEPS`) optimiser steps
    (``n_samples / batch_size`` steps an epoch), but within ``bounds`` epochs (default
    :data:`AUTO_EPOCHS`, at least 30 and at most 1000): for
    30,000 steps, 30 epochs of 50,000 MNIST rows in batches of 50, about 1,400 epochs' worth
    (capped at 1000) of 1,078 digits rows. Small data
    needs many more epochs than large data for the same training (docs/benchmarks.md,
    "Defaults").
    """
    if isinstance(epochs, str) and epochs == "auto":
        per_epoch = max(1, round(n_samples / batch_size))
        lo, hi = bounds
        return int(min(hi, max(lo, math.ceil(steps / per_epoch))))
    return epochs


@dataclass
class History:
    """Every loss term, per epoch, on the training data and (if given) the validation data."""

    train: list[dict[str, float]] = field(default_factory=list)
    val: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0
    samples_seen: int = 0

    def term(self, name: str, split: str = "train") -> list[float]:
        """Return the values of one loss term over the epochs."""
        rows = self.train if split == "train" else self.val
        return [row[name] for row in rows if name in row]

    @property
    def terms(self) -> list[str]:
        """Names of the loss terms that were recorded."""
        return list(self.train[0]) if self.train else []

    @property
    def samples_per_second(self) -> float:
        """Training throughput: training rows processed per second of wall time."""
        return self.samples_seen / self.seconds if self.seconds > 0 else float("nan")

    def to_dict(self) -> dict:
        """Return a JSON-able dict."""
        return {
            "train": self.train,
            "val": self.val,
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
            "seconds": self.seconds,
            "samples_seen": self.samples_seen,
        }

    @classmethod
    def from_dict(cls, d: dict) -> History:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            train=list(d.get("train", [])),
            val=list(d.get("val", [])),
            best_epoch=d.get("best_epoch"),
            stopped_early=bool(d.get("stopped_early")),
            seconds=float(d.get("seconds", 0.0)),
            samples_seen=int(d.get("samples_seen", 0)),
        )


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"`` / ``"cpu"`` / ``"cuda"`` / ``"cuda:1"`` into a torch device that exists."""
    if isinstance(device, torch.device):
        return device
    name = str(device).lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise CrossviewError(
            f"device={device!r} was asked for but no CUDA GPU is available; "
            "use device='cpu' or 'auto'"
        )
    try:
        return torch.device(name)
    except RuntimeError:
        raise CrossviewError(
            f"unknown device {device!r}; expected 'auto', 'cpu' or 'cuda'"
        ) from None


def env_threads() -> int | None:
    """The thread count asked for by ``CROSSVIEW_THREADS`` (a positive integer), else None."""
    env = os.environ.get("CROSSVIEW_THREADS", "").strip()
    if not env:
        return None
    if not env.isdigit() or int(env) < 1:
        raise CrossviewError(f"CROSSVIEW_THREADS must be a positive integer, got {env!r}")
    return int(env)


@contextlib.contextmanager
def thread_limit(n: int | None):
    """Run the block with at most ``n`` threads in torch and in BLAS / OpenMP, then restore.

    ``None`` changes nothing: training then uses whatever the caller set (torch's own default
    is one thread per core). The BLAS and OpenMP pools are scoped with threadpoolctl; torch's
    intra-op pool is its own, so it is set and restored here.
    """
    if n is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(before)


def _make_optimizer(name: str, params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    key = name.lower()
    if key == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if key == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if key == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=weight_decay)
    if key == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay, momentum=0.9)
    raise CrossviewError(
        f"unknown optimizer {name!r}; expected one of {', '.join(map(repr, OPTIMIZERS))}"
    )


def _flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer state into flat tensors (for safetensors) and JSON."""
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for pid, state in sd["state"].items():
        for key, value in state.items():
            if torch.is_tensor(value):
                tensors[f"optim.{pid}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{key}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {}
    for name, value in tensors.items():
        if name.startswith("optim."):
            _, pid, key = name.split(".", 2)
            state.setdefault(int(pid), {})[key] = value
    for name, value in meta.get("scalars", {}).items():
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = value
    return {"state": state, "param_groups": meta["param_groups"]}


def _state_to_cpu(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def _process_alive(pid_text: str) -> bool:
    """Whether the process with this id (the text of a number) is running."""
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return False  # this process is not writing while it loads
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Checkpoint:
    """Write and read the per-epoch checkpoint: one safetensors file holding the tensors and, in
    its metadata, the JSON training state, replaced atomically (no pickle). A crash at any
    moment leaves the previous checkpoint whole. ``checkpoint.json`` is a readable copy of the
    state, written after it; resume reads the state from the safetensors file."""

    def __init__(self, folder):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():  # fail now, not after an epoch
            raise CrossviewError(f"checkpoint_dir {self.folder} is a file; expected a folder")

    def exists(self) -> bool:
        return (self.folder / CHECKPOINT_WEIGHTS).is_file()

    def save(self, module, opt, gen, best_state, meta: dict) -> None:
        from safetensors.torch import save_file

        self.folder.mkdir(parents=True, exist_ok=True)
        tensors = {f"model.{k}": v for k, v in _state_to_cpu(module).items()}
        opt_tensors, opt_meta = _flatten_optimizer(opt)
        tensors.update(opt_tensors)
        if best_state is not None:
            tensors.update({f"best.{k}": v for k, v in best_state.items()})
        tensors["rng.torch"] = torch.get_rng_state()
        tensors["rng.shuffle"] = gen.get_state()
        meta = dict(meta, optimizer=opt_meta)
        state = json.dumps(meta)
        with atomic_write(self.folder / CHECKPOINT_WEIGHTS) as tmp:
            save_file(
                {k: v.contiguous() for k, v in tensors.items()}, str(tmp), metadata={"state": state}
            )
        write_json(self.folder / CHECKPOINT_STATE, meta)

    def load(self):
        from safetensors import SafetensorError, safe_open
        from safetensors.torch import load_file

        path = self.folder / CHECKPOINT_WEIGHTS
        for stale in self.folder.glob(f".{CHECKPOINT_WEIGHTS}.*.part"):  # a crashed write's
            if not _process_alive(stale.name.split(".")[-2]):
                stale.unlink(missing_ok=True)
        try:
            tensors = load_file(str(path))
            with safe_open(str(path), framework="pt") as f:
                state = (f.metadata() or {}).get("state")
            if state is None:  # a checkpoint written before the state moved into the file
                state = (self.folder / CHECKPOINT_STATE).read_text()
            meta = json.loads(state)
        except (SafetensorError, OSError, ValueError) as exc:
            raise CrossviewError(
                f"checkpoint in {self.folder} is corrupt ({exc}); delete it to start again"
            ) from None
        return tensors, meta


def _batches(n: int, batch_size: int, gen: torch.Generator, shuffle: bool):
    """Split row indices into near-equal batches (no tiny last batch to upset batch statistics)."""
    order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
    n_batches = max(1, round(n / batch_size))
    return torch.tensor_split(order, n_batches)


def _epoch_batches(
    sizes: list[int], batch_size: int, gen: torch.Generator
) -> list[list[torch.Tensor]]:
    """The shuffled row indices of one training epoch over data sets of ``sizes`` rows.

    Returns, per data set, a list of ``steps`` index tensors; step ``s`` uses batch ``s`` of
    every set. ``steps = max(1, round(n_max / batch_size))`` for the largest set's ``n_max``
    rows. The largest set (the first one with ``n_max`` rows) is split by :func:`_batches`, as
    a single data set is: every row once per epoch in near-equal batches. Every other set of
    ``n`` rows takes fresh permutations of its rows, one after another, cut to
    ``m = max(n, steps * min(batch_size, n))`` indices and split into ``steps`` near-equal
    batches: a small set is repeated within the epoch, and every row of every set is seen at
    least once. All permutations come from ``gen``, in set order, so an epoch depends only on
    the generator's state at its start (what a checkpoint stores).
    """
    n_max = max(sizes)
    steps = max(1, round(n_max / batch_size))
    largest = sizes.index(n_max)
    per_set = []
    for i, n in enumerate(sizes):
        if i == largest:
            per_set.append(list(_batches(n, batch_size, gen, shuffle=True)))
            continue
        m = max(n, steps * min(batch_size, n))
        perms = [torch.randperm(n, generator=gen) for _ in range(-(-m // n))]
        per_set.append(list(torch.tensor_split(torch.cat(perms)[:m], steps)))
    return per_set


def _eval_batches(sizes: list[int], chunks: int) -> list[list[torch.Tensor]]:
    """The row indices, per data set, of ``chunks`` evaluation steps (in order, no shuffling).

    The largest set is split into ``chunks`` near-equal runs of ``arange(n_max)``; a set of
    ``n`` rows splits ``arange(max(n, chunks)) % n`` (its rows in order, repeated if it has
    fewer rows than chunks). With ``chunks <= n_max``, as :func:`evaluate` ensures, the largest
    set's indices are ``arange(n_max)``.
    """
    return [list(torch.tensor_split(torch.arange(max(n, chunks)) % n, chunks)) for n in sizes]


def is_source(t) -> bool:
    """Whether ``t`` is a row source read from disk as needed (e.g.
    :class:`crossview.datasets.npy_stream.DiskRows`): not a tensor, with ``shape`` and
    ``read(start, stop)`` returning those rows as a NumPy array."""
    return not torch.is_tensor(t) and callable(getattr(t, "read", None)) and hasattr(t, "shape")


def _as_tensor(rows) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))


def _epoch_plan(n: int, gen: torch.Generator, buffer: int | None, blocks=None):
    """The row order of one epoch over ``n`` rows, as ``(order, buffers)``.

    ``buffer`` None or at least ``n``: ``order = randperm(n)`` and one buffer. Otherwise the
    rows are cut into blocks of ``max(1, buffer // 64)`` consecutive rows (or the given
    ``blocks``, ``(start, stop)`` ranges covering the rows in order: a source's row groups),
    the blocks are shuffled, each run of shuffled blocks holding ``buffer`` rows (with fixed
    blocks, ``buffer // block`` of them; with given blocks, until it holds at least
    ``buffer``) is one buffer, and the rows of each buffer are shuffled among themselves.
    ``buffers`` lists, per buffer, the ``(start, stop)`` row ranges of its blocks (in the order
    they are read) and the permutation of the read rows that gives the buffer's part of
    ``order``. Every draw comes from ``gen``, so the order depends only on its state (what a
    checkpoint stores).
    """
    if buffer is None or buffer >= n:
        perm = torch.randperm(n, generator=gen)
        return perm, [([(0, n)], perm)]
    if blocks is None:
        block = max(1, buffer // 64)
        per_buffer = max(1, buffer // block)
        shuffled = torch.randperm(-(-n // block), generator=gen).tolist()
        groups = [
            [(b * block, min(n, (b + 1) * block)) for b in shuffled[g : g + per_buffer]]
            for g in range(0, len(shuffled), per_buffer)
        ]
    else:
        ends = [b for _, b in blocks]
        if [a for a, _ in blocks] != [0, *ends[:-1]] or ends[-1] != n:
            raise ValueError(f"the blocks of a row source must cover rows 0 to {n} in order")
        groups, held = [[]], 0
        for b in torch.randperm(len(blocks), generator=gen).tolist():
            if held >= buffer:
                groups.append([])
                held = 0
            groups[-1].append(blocks[b])
            held += blocks[b][1] - blocks[b][0]
    order, buffers = [], []
    for ranges in groups:
        rows = torch.cat([torch.arange(a, b) for a, b in ranges])
        perm = torch.randperm(len(rows), generator=gen)
        order.append(rows[perm])
        buffers.append((ranges, perm))
    return torch.cat(order), buffers


class _EpochRows:
    """The rows of one data set at positions ``p0:p1`` of an epoch's order.

    Tensors are indexed directly; a row source (see :func:`is_source`) is read one buffer at a
    time, its blocks read from disk and put in the epoch's order, keeping only the buffers the
    current positions need (at most two while the steps go forward), so that a streamed set
    gives exactly the rows the same tensors would.
    """

    def __init__(self, tensors, plan, device):
        self.tensors, self.device = tensors, device
        self.order, self.buffers = plan
        self.ends = np.cumsum([len(perm) for _, perm in self.buffers])
        self.cache: dict[int, tuple[torch.Tensor, ...]] = {}

    def _buffer(self, k: int) -> tuple:
        if k not in self.cache:
            ranges, perm = self.buffers[k]
            self.cache[k] = tuple(
                _as_tensor(np.concatenate([t.read(a, b) for a, b in ranges]))[perm]
                if is_source(t)
                else None
                for t in self.tensors
            )
        return self.cache[k]

    def rows(self, p0: int, p1: int) -> tuple[torch.Tensor, ...]:
        idx = self.order[p0:p1]
        if not any(is_source(t) for t in self.tensors):
            return tuple(t[idx] for t in self.tensors)
        k0 = int(np.searchsorted(self.ends, p0, side="right"))
        k1 = int(np.searchsorted(self.ends, p1 - 1, side="right"))
        for k in [k for k in self.cache if k < k0]:
            del self.cache[k]
        out = []
        for i, t in enumerate(self.tensors):
            if not is_source(t):
                out.append(t[idx])
                continue
            parts = []
            for k in range(k0, k1 + 1):
                lo = int(self.ends[k - 1]) if k else 0
                a, b = max(p0, lo) - lo, min(p1, int(self.ends[k])) - lo
                parts.append(self._buffer(k)[i][a:b])
            # a fresh tensor, not a view into the buffer: its alignment (so the kernels'
            # rounding) is then the same as that of the rows indexed out of a tensor
            out.append((parts[0].clone() if len(parts) == 1 else torch.cat(parts)).to(self.device))
        return tuple(out)


def _data_sets(data, name: str) -> list[tuple[torch.Tensor, ...]]:
    """Check ``train_data`` / ``val_data`` and return it as a list of data sets.

    A tuple of tensors is one data set; a list holds several (each a tuple or list of tensors).
    Every set needs at least one tensor, and all its tensors the same number (> 0) of rows.
    """
    if isinstance(data, list):
        if not data:
            raise CrossviewError(f"{name} is an empty list; expected at least one data set")
        labelled = [(f"{name}[{i}]", s) for i, s in enumerate(data)]
    elif isinstance(data, tuple):
        labelled = [(name, data)]
    else:
        raise CrossviewError(
            f"{name} must be a tuple of tensors (one data set) or a list of such tuples "
            f"(several data sets), got {type(data).__name__}"
        )
    sets = []
    for label, tensors in labelled:
        if (
            not isinstance(tensors, (tuple, list))
            or not tensors
            or not all(torch.is_tensor(t) or is_source(t) for t in tensors)
        ):
            hint = " (for one data set pass a tuple)" if torch.is_tensor(tensors) else ""
            raise CrossviewError(
                f"{label} must be a non-empty tuple or list of tensors, got "
                f"{type(tensors).__name__}{hint}"
            )
        if len(labelled) > 1 and any(is_source(t) for t in tensors):
            raise CrossviewError(
                f"{label} holds rows read from disk; those train as the only data set "
                "(a tuple), not in a list of several"
            )
        rows = [len(t) if is_source(t) else t.shape[0] if t.dim() else 0 for t in tensors]
        if len(set(rows)) > 1:
            raise CrossviewError(
                f"{label} has tensors with different row counts "
                f"({', '.join(map(str, rows))}); a data set needs the same rows in each"
            )
        if rows[0] == 0:
            raise CrossviewError(f"{label} has no rows")
        sets.append(tuple(tensors))
    return sets


def _describe(data) -> str:
    """How a ``train_data`` / ``val_data`` argument is laid out, for error messages."""
    if isinstance(data, list):
        counts = ", ".join(str(len(s)) for s in data)
        return f"a list of {len(data)} data set(s) with {counts} tensor(s)"
    return f"a tuple of {len(data)} tensor(s)"


def _check_finite(out: dict[str, torch.Tensor], epoch: int, batch: int) -> None:
    loss = out["loss"]
    if torch.isfinite(loss):
        return
    bad = [k for k, v in out.items() if k != "loss" and not torch.isfinite(v).all()]
    which = ", ".join(bad) if bad else "loss"
    raise NonFiniteLossError(
        f"training stopped at epoch {epoch + 1}, batch {batch + 1}: loss term(s) {which} became "
        f"{float(loss.detach())}; lower the learning rate, check the input scaling, or raise "
        "regularisation"
    )


def _take(t, idx: torch.Tensor) -> torch.Tensor:
    """Rows ``idx`` of a tensor, or of a row source (a run of consecutive rows, read)."""
    if not is_source(t):
        return t[idx]
    start, stop = int(idx[0]), int(idx[-1]) + 1
    if stop - start != len(idx):  # pragma: no cover - sources only ever evaluate in order
        raise CrossviewError("rows read from disk are evaluated in order")
    return _as_tensor(t.read(start, stop))


def evaluate(
    module: torch.nn.Module,
    tensors: tuple[torch.Tensor, ...] | list[tuple[torch.Tensor, ...]],
    batch_size: int,
    device: torch.device,
) -> dict[str, float]:
    """Return the mean of every loss term over ``tensors`` (no gradients, eval mode).

    ``tensors`` is one data set (a tuple) or several (a list of tuples, see :func:`train`);
    the rows go in order, in ``k = max(1, round(n_max / batch_size))`` steps split by
    :func:`_eval_batches`, each step weighted by its rows of the largest set.
    """
    module.eval()
    sets = tensors if isinstance(tensors, list) else [tensors]
    sizes = [s[0].shape[0] for s in sets]
    n = max(sizes)
    largest = sizes.index(n)
    sums: dict[str, float] = {}
    with torch.no_grad():
        for idxs in zip(*_eval_batches(sizes, max(1, round(n / batch_size)))):
            out = module(*(_take(t, idx).to(device) for s, idx in zip(sets, idxs) for t in s))
            for k, v in out.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(idxs[largest])
    return {k: v / n for k, v in sums.items()}


def train(
    module: torch.nn.Module,
    train_data: tuple[torch.Tensor, ...] | list[tuple[torch.Tensor, ...]],
    val_data: tuple[torch.Tensor, ...] | list[tuple[torch.Tensor, ...]] | None = None,
    *,
    epochs: int = 50,
    batch_size: int = 100,
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    lr_schedule: str = "constant",
    precision: str = "float32",
    weight_decay: float = 0.0,
    patience: int | None = None,
    min_delta: float = 0.0,
    restore_best: bool = True,
    device: str | torch.device = "auto",
    random_state: int | None = None,
    checkpoint_dir=None,
    resume: bool = False,
    verbose: bool = True,
    desc: str = "train",
    eval_batch_size: int | None = None,
    shuffle_buffer: int | None = None,
) -> History:
    """Train ``module`` with minibatches and return the :class:`History` of every loss term.

    Each epoch: shuffle (seeded by ``random_state``), step on every batch, check every term is
    finite (else :class:`NonFiniteLossError` naming the epoch and the term), evaluate on
    ``val_data`` if given, keep the best weights (lowest validation ``"loss"``), stop after
    ``patience`` epochs without improvement, and write a checkpoint to ``checkpoint_dir`` if set.
    The rows are split into ``round(n / batch_size)`` batches of near-equal size (no tiny last
    batch). With ``CROSSVIEW_THREADS`` set, torch, BLAS and OpenMP use at most that many threads
    while training.

    Several data sets with different row counts (unpaired data, e.g. ``[(X_paired, Y_paired),
    (X_only,), (Y_only,)]``) train in one loop: each step calls ``module(*batch_of_set_0,
    *batch_of_set_1, ...)`` with one batch of every set, in the given order. An epoch has
    ``max(1, round(n_max / batch_size))`` steps for the largest set's ``n_max`` rows; the
    largest set (the first one with ``n_max`` rows) is split as a single data set would be
    (every row once), and every other set of ``n`` rows gives ``min(batch_size, n)`` rows a
    step or more, from fresh permutations one after another: a small set repeats within an
    epoch, and every row of every set is seen at least once an epoch (see
    :func:`_epoch_batches`). All permutations come from the one seeded generator at the start
    of each epoch, so resuming from a checkpoint stays exact. The history's terms are the
    means over the steps weighted by the largest set's rows in each, and
    ``History.samples_seen`` counts the rows of every set.

    Parameters
    ----------
    module : torch.nn.Module
        The network; ``module(*batch)`` returns a dict of named loss terms with the total
        ``"loss"``. It is moved to ``device`` and left there, in eval mode.
    train_data : tuple of torch.Tensor, or list of tuples of torch.Tensor
        One data set: a tuple of training tensors with the same number of rows, passed to
        ``module`` batch by batch. Several data sets: a (non-empty) list of such tuples, whose
        row counts may differ between the sets (see above).
    val_data : tuple of torch.Tensor, list of tuples of torch.Tensor, or None, default=None
        Validation tensors, evaluated after every epoch (in eval mode, without gradients) for
        early stopping and for choosing the best weights; None: no validation. With a list
        (which ``train_data`` being a list requires) it has as many sets as ``train_data``,
        with the same number of tensors each; its rows go in order, without shuffling, in
        ``k = max(1, round(n_max / eval_batch_size))`` steps: the largest set split
        into ``k`` near-equal runs, each smaller set's rows repeated in order as needed (see
        :func:`_eval_batches`), weighted like training.
    epochs : int, default=50
        Number of passes over ``train_data``.
    batch_size : int, default=100
        Rows per optimiser step.
    optimizer : {"adam", "adamw", "rmsprop", "sgd"}, default="adam"
        The torch optimiser ("sgd" with momentum 0.9).
    learning_rate : float, default=1e-3
        Step size of the optimiser (the starting value with ``lr_schedule="cosine"``).
    lr_schedule : {"constant", "cosine"}, default="constant"
        "cosine" anneals the learning rate from ``learning_rate`` towards 0 over ``epochs``
        (set per epoch from the epoch number, so resuming needs no scheduler state).
    precision : {"float32", "bfloat16"}, default="float32"
        "bfloat16" trains with mixed precision: the networks' forward and backward passes run
        under ``torch.autocast`` in bfloat16 while the weights, the optimizer and the losses
        (see :func:`crossview.deep.losses.full_precision`) stay float32; validation and
        inference stay float32. It pays off on CPUs with native bfloat16 (AVX512-BF16 or AMX)
        and on recent GPUs, and is slower on CPUs without it (see docs/benchmarks.md).
    weight_decay : float, default=0.0
        Weight decay of the optimiser (decoupled for "adamw", an L2 term otherwise).
    patience : int or None, default=None
        Stop after this many epochs in a row without the validation loss falling by more than
        ``min_delta``; ignored without ``val_data``. None: train for every epoch.
    min_delta : float, default=0.0
        The decrease of the loss (validation, else training) that counts as an improvement.
    restore_best : bool, default=True
        With ``val_data``, load the weights of the epoch with the lowest validation loss at the
        end (also after an early stop); otherwise the last epoch's weights are kept.
    device : str or torch.device, default="auto"
        Where to train: "auto" (a CUDA GPU if there is one, else the CPU), "cpu", "cuda" or
        "cuda:N".
    random_state : int or None, default=None
        Seed of the batch shuffling; None draws one from torch's global generator.
    checkpoint_dir : str, path-like or None, default=None
        Folder to write the model, optimizer, random states and history to after every epoch
        (safetensors + JSON, no pickle); None: no checkpoints.
    resume : bool, default=False
        With a checkpoint in ``checkpoint_dir``, continue where it stopped; the run then ends
        with the same weights as an uninterrupted run with the same seed (on CPU).
    verbose : bool, default=True
        Show a progress bar over the epochs, with the latest loss terms.
    desc : str, default="train"
        Label of the progress bar.
    eval_batch_size : int or None, default=None
        Rows per validation step; None: ``max(batch_size, 1000)``. A row that is large (e.g.
        a whole padded set of items) wants fewer.
    shuffle_buffer : int or None, default=None
        For one data set: shuffle blocks of rows, then the rows of this many at a time (see
        :func:`_epoch_plan`), instead of all rows at once; what streaming from disk needs, and
        the same order for tensors (as for sources without ``blocks``). None: the row
        sources' own ``shuffle_buffer`` if the set holds any, else one shuffle of all rows.
        Raised to the global batch if smaller. A source with ``blocks`` (Parquet row groups,
        see :class:`~crossview.datasets.npy_stream.DiskRows`) has those shuffled instead of
        fixed-size blocks.

    A data set's "tensors" may also be row sources read from disk as needed (e.g.
    :class:`crossview.datasets.npy_stream.DiskRows`, see :func:`is_source`): the set is then
    trained one buffer at a time and never loaded whole; with the same ``shuffle_buffer`` it
    gives the same batches, so the same weights, as its rows in memory (sources with
    ``blocks``, Parquet row groups, shuffle those instead and give another order). Such a set
    must be the only one (a tuple). Every rank of a distributed run reads whole buffers and
    keeps its shard of each batch.

    Returns
    -------
    History
        Every loss term per epoch (training, and validation if given), the best epoch, whether
        training stopped early, the wall time and the rows processed.

    Raises
    ------
    CrossviewError
        For bad settings, and for data that is not laid out as described: an empty list, a
        set that is not a tuple or list of tensors, a set whose tensors have different row
        counts or no rows, or a ``val_data`` laid out unlike a list ``train_data``.
    """
    # the keyword arguments, checked before anything is moved or trained
    check_params(
        TRAIN_CONSTRAINTS, {k: v for k, v in locals().items() if k in TRAIN_CONSTRAINTS}, "train"
    )
    eval_rows = max(batch_size, 1000) if eval_batch_size is None else eval_batch_size
    with thread_limit(env_threads()):
        train_sets = _data_sets(train_data, "train_data")
        val_sets = None
        if val_data is not None:
            val_sets = _data_sets(val_data, "val_data")
            several = isinstance(train_data, list) or isinstance(val_data, list)
            if several and [len(s) for s in val_sets] != [len(s) for s in train_sets]:
                raise CrossviewError(
                    f"val_data must be laid out like train_data, {_describe(train_data)}; "
                    f"got {_describe(val_data)}"
                )
        distributed.init_from_env()  # under torchrun: join the process group
        rank, world_size = distributed.world()
        dev = resolve_device(device)
        if world_size > 1 and dev.type == "cuda" and dev.index is None:
            dev = torch.device("cuda", torch.cuda.current_device())
        module.to(dev)

        def on_device(s):
            return tuple(t if is_source(t) else t.to(dev) for t in s)

        train_sets = [on_device(s) for s in train_sets]
        if val_sets is not None:
            val_data = [on_device(s) for s in val_sets]
        sizes = [len(s[0]) for s in train_sets]
        if shuffle_buffer is None:
            own = [t.shuffle_buffer for t in train_sets[0] if is_source(t)]
            shuffle_buffer = min(own) if own else None
        if shuffle_buffer is not None:
            shuffle_buffer = max(int(shuffle_buffer), batch_size * world_size)
        n = max(sizes)
        largest = sizes.index(n)
        gen = torch.Generator()
        # every rank shuffles alike: the seed, or rank 0's draw
        gen.manual_seed(
            int(random_state)
            if random_state is not None
            else distributed.broadcast_int(int(torch.randint(0, 2**31 - 1, (1,)).item()))
        )
        step_module = module
        if world_size > 1:  # gradients averaged over the ranks; rank 0's weights to start
            from torch.nn.parallel import DistributedDataParallel

            step_module = DistributedDataParallel(
                module,
                device_ids=[dev.index] if dev.type == "cuda" else None,
                find_unused_parameters=True,
            )
        opt = _make_optimizer(optimizer, module.parameters(), learning_rate, weight_decay)
        autocast = _autocast(precision, dev)

        history = History()
        best_state, best_score, bad_epochs, start_epoch = None, math.inf, 0, 0
        ckpt = _Checkpoint(checkpoint_dir) if checkpoint_dir is not None else None
        distributed.barrier()  # no rank reads a checkpoint another is still writing
        if ckpt is not None and resume and ckpt.exists():
            tensors, meta = ckpt.load()
            module.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
            opt.load_state_dict(_unflatten_optimizer(tensors, meta["optimizer"]))
            best = {k[5:]: v for k, v in tensors.items() if k.startswith("best.")}
            best_state = best or None
            torch.set_rng_state(tensors["rng.torch"])
            gen.set_state(tensors["rng.shuffle"])
            history = History.from_dict(meta["history"])
            best_score = meta["best_score"] if meta["best_score"] is not None else math.inf
            bad_epochs = meta["bad_epochs"]
            start_epoch = meta["epoch"] + 1
            log.info(
                "resuming from the checkpoint in %s after epoch %d", checkpoint_dir, start_epoch
            )
            if meta.get("finished"):
                start_epoch = epochs

        bar = tqdm(
            total=epochs,
            initial=start_epoch,
            desc=desc,
            disable=not verbose or rank != 0,
            unit="epoch",
            dynamic_ncols=True,
            leave=True,
        )
        t0 = time.perf_counter() - history.seconds
        try:
            for epoch in range(start_epoch, epochs):
                if hasattr(module, "start_epoch"):  # a model's own per-epoch step, if any
                    module.start_epoch(epoch)
                module.train()
                if lr_schedule == "cosine":
                    for group in opt.param_groups:
                        group["lr"] = learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
                sums: dict[str, float] = {}
                # the global batches of batch_size x world_size rows; each rank keeps its shard
                steps, seen = _epoch_steps(
                    train_sets, sizes, batch_size * world_size, gen, shuffle_buffer, dev
                )
                history.samples_seen += seen
                for b, (batch, rows) in enumerate(step(rank, world_size) for step in steps):
                    with autocast, distributed.sharded_batch(world_size > 1):
                        out = step_module(*batch)
                    # each term times its rows: summed over the ranks, the global batch's sums,
                    # so every rank logs the same means and stops alike
                    weighted = {k: float(v.detach()) * rows for k, v in out.items()}
                    if world_size > 1:
                        names = list(weighted)
                        total = distributed.all_reduce_sum(
                            torch.tensor(
                                [weighted[k] for k in names] + [float(rows)], dtype=torch.float64
                            )
                        )
                        weighted = {k: float(total[i]) for i, k in enumerate(names)}
                        _check_finite(
                            {k: total[i] / total[-1] for i, k in enumerate(names)}, epoch, b
                        )
                    else:
                        _check_finite(out, epoch, b)
                    opt.zero_grad(set_to_none=True)
                    out["loss"].backward()
                    opt.step()
                    for k, v in weighted.items():
                        sums[k] = sums.get(k, 0.0) + v
                row = {k: v / n for k, v in sums.items()}
                history.train.append(row)
                score = row["loss"]
                postfix = {k: f"{v:.4g}" for k, v in row.items()}
                if val_data is not None:
                    vrow = evaluate(module, val_data, eval_rows, dev)
                    history.val.append(vrow)
                    score = vrow["loss"]
                    postfix["val_loss"] = f"{score:.4g}"
                    if not math.isfinite(score):
                        raise NonFiniteLossError(
                            f"validation loss became {score} at epoch {epoch + 1}; lower the "
                            "learning rate or raise regularisation"
                        )
                if score < best_score - min_delta:
                    best_score, bad_epochs = score, 0
                    history.best_epoch = epoch
                    if val_data is not None and restore_best:
                        best_state = _state_to_cpu(module)
                else:
                    bad_epochs += 1
                history.seconds = time.perf_counter() - t0
                stop = patience is not None and val_data is not None and bad_epochs >= patience
                if ckpt is not None and rank == 0:
                    ckpt.save(
                        module,
                        opt,
                        gen,
                        best_state,
                        {
                            "epoch": epoch,
                            "history": history.to_dict(),
                            "best_score": best_score if math.isfinite(best_score) else None,
                            "bad_epochs": bad_epochs,
                            "finished": stop,
                        },
                    )
                bar.set_postfix(postfix, refresh=False)
                bar.update(1)
                if stop:
                    history.stopped_early = True
                    log.info(
                        "early stop after epoch %d (best %d)",
                        epoch + 1,
                        (history.best_epoch or 0) + 1,
                    )
                    break
        finally:
            bar.close()
        history.seconds = time.perf_counter() - t0
        if best_state is not None and restore_best:
            module.load_state_dict(best_state)
        module.eval()
        return history


def _epoch_steps(sets, sizes, global_batch, gen, shuffle_buffer, device):
    """One epoch's training steps, drawn from ``gen``, and the rows they visit in all.

    Returns ``(steps, seen)``: each step is a function ``(rank, world_size) -> (batch, rows)``
    giving the tensors passed to the module (this rank's shard of the global batch, every
    set in order) and the rows of the largest set in it.
    """
    if len(sets) == 1:  # one data set: near-equal runs of the epoch's order
        n = sizes[0]
        blocks = next((t.blocks for t in sets[0] if getattr(t, "blocks", None)), None)
        reader = _EpochRows(sets[0], _epoch_plan(n, gen, shuffle_buffer, blocks), device)
        spans = torch.tensor_split(torch.arange(n), max(1, round(n / global_batch)))

        def one(span):
            def step(rank, world_size):
                part = span.tensor_split(world_size)[rank] if world_size > 1 else span
                p0 = int(part[0]) if len(part) else int(span[0])
                return reader.rows(p0, p0 + len(part)), len(part)

            return step

        return [one(span) for span in spans], n
    largest = sizes.index(max(sizes))
    per_set = _epoch_batches(sizes, global_batch, gen)

    def several(idxs):
        def step(rank, world_size):
            if world_size > 1:
                shard = tuple(idx.tensor_split(world_size)[rank] for idx in idxs)
            else:
                shard = idxs
            return tuple(t[i] for s, i in zip(sets, shard) for t in s), len(shard[largest])

        return step

    seen = sum(len(idx) for batches in per_set for idx in batches)
    return [several(idxs) for idxs in zip(*per_set)], seen


def _autocast(precision: str, device: torch.device):
    """The context the training forward pass runs in: nothing, or bfloat16 autocast."""
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
