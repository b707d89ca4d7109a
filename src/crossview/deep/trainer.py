"""The one training loop for every deep method: batches, devices, seeds, validation, early
stopping, checkpoints and resume, a NaN guard, a progress bar and a full loss history.

A model is any ``torch.nn.Module`` whose ``forward(*batch)`` returns a ``dict[str, Tensor]`` with
the total ``"loss"`` and each named term (e.g. ``"self_rec"``, ``"corr"``); the trainer knows
nothing else about it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..base import CrossviewError

log = logging.getLogger(__name__)

CHECKPOINT_WEIGHTS = "checkpoint.safetensors"
CHECKPOINT_STATE = "checkpoint.json"


class NonFiniteLossError(CrossviewError):
    """Raised when a loss term becomes NaN or inf during training."""


def check_count(name: str, value, minimum: int | None = 1, optional: bool = False) -> None:
    """Raise a one-line error unless ``value`` is an integer (>= ``minimum``), or None if optional."""
    if value is None and optional:
        return
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
            or (minimum is not None and value < minimum)):
        expected = "an integer" + (f" >= {minimum}" if minimum is not None else "")
        raise CrossviewError(f"{name} must be {expected}{' or None' if optional else ''}, "
                             f"got {value!r}")


def check_train_counts(epochs, batch_size, patience, random_state) -> None:
    """Check the integer training settings: epochs, batch_size, patience and random_state."""
    check_count("epochs", epochs)
    check_count("batch_size", batch_size)
    check_count("patience", patience, optional=True)
    check_count("random_state", random_state, minimum=None, optional=True)


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
        return {"train": self.train, "val": self.val, "best_epoch": self.best_epoch,
                "stopped_early": self.stopped_early, "seconds": self.seconds,
                "samples_seen": self.samples_seen}

    @classmethod
    def from_dict(cls, d: dict) -> History:
        """Rebuild from :meth:`to_dict` output."""
        return cls(train=list(d.get("train", [])), val=list(d.get("val", [])),
                   best_epoch=d.get("best_epoch"), stopped_early=bool(d.get("stopped_early")),
                   seconds=float(d.get("seconds", 0.0)), samples_seen=int(d.get("samples_seen", 0)))


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"`` / ``"cpu"`` / ``"cuda"`` / ``"cuda:1"`` into a torch device, checking it exists."""
    if isinstance(device, torch.device):
        return device
    name = str(device).lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise CrossviewError(f"device={device!r} was asked for but no CUDA GPU is available; "
                             "use device='cpu' or 'auto'")
    try:
        return torch.device(name)
    except RuntimeError:
        raise CrossviewError(f"unknown device {device!r}; expected 'auto', 'cpu' or 'cuda'") from None


def configure_threads() -> int:
    """Set torch's intra-op threads sensibly for small CPUs and return the number used.

    Honours ``OMP_NUM_THREADS`` / ``CROSSVIEW_THREADS`` when set; otherwise uses every CPU core
    this process may run on (at most 16). Inter-op threads are set to 1 once: the models are
    small MLPs where extra inter-op pools only add contention.
    """
    env = os.environ.get("CROSSVIEW_THREADS") or os.environ.get("OMP_NUM_THREADS")
    if env and env.isdigit() and int(env) > 0:
        n = int(env)
    else:
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not on Linux
            n = os.cpu_count() or 1
        n = max(1, min(n, 16))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    if not getattr(configure_threads, "_interop_done", False):
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass  # already set, or parallel work has started: keep what is there
        configure_threads._interop_done = True
    return n


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
    raise CrossviewError(f"unknown optimizer {name!r}; expected 'adam', 'adamw', 'rmsprop' or 'sgd'")


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


class _Checkpoint:
    """Write and read the per-epoch checkpoint (safetensors tensors + JSON state; no pickle)."""

    def __init__(self, folder):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():  # fail now, not after an epoch
            raise CrossviewError(f"checkpoint_dir {self.folder} is a file; expected a folder")

    def exists(self) -> bool:
        return (self.folder / CHECKPOINT_WEIGHTS).is_file() and (
            self.folder / CHECKPOINT_STATE).is_file()

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
        w_tmp = self.folder / (CHECKPOINT_WEIGHTS + ".tmp")
        s_tmp = self.folder / (CHECKPOINT_STATE + ".tmp")
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(w_tmp))
        s_tmp.write_text(json.dumps(meta))
        os.replace(w_tmp, self.folder / CHECKPOINT_WEIGHTS)
        os.replace(s_tmp, self.folder / CHECKPOINT_STATE)

    def load(self):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            tensors = load_file(str(self.folder / CHECKPOINT_WEIGHTS))
            meta = json.loads((self.folder / CHECKPOINT_STATE).read_text())
        except (SafetensorError, OSError, ValueError) as exc:
            raise CrossviewError(f"checkpoint in {self.folder} is corrupt ({exc}); delete it to "
                                 "start again") from None
        return tensors, meta


def _batches(n: int, batch_size: int, gen: torch.Generator, shuffle: bool):
    """Split row indices into near-equal batches (no tiny last batch to upset batch statistics)."""
    order = torch.randperm(n, generator=gen) if shuffle else torch.arange(n)
    n_batches = max(1, round(n / batch_size))
    return torch.tensor_split(order, n_batches)


def _check_finite(out: dict[str, torch.Tensor], epoch: int, batch: int) -> None:
    loss = out["loss"]
    if torch.isfinite(loss):
        return
    bad = [k for k, v in out.items() if k != "loss" and not torch.isfinite(v).all()]
    which = ", ".join(bad) if bad else "loss"
    raise NonFiniteLossError(
        f"training stopped at epoch {epoch + 1}, batch {batch + 1}: loss term(s) {which} became "
        f"{float(loss.detach())}; lower the learning rate, check the input scaling, or raise regularisation"
    )


def evaluate(module: torch.nn.Module, tensors: tuple[torch.Tensor, ...], batch_size: int,
             device: torch.device) -> dict[str, float]:
    """Return the mean of every loss term over ``tensors`` (no gradients, eval mode)."""
    module.eval()
    n = tensors[0].shape[0]
    sums: dict[str, float] = {}
    with torch.no_grad():
        for idx in torch.tensor_split(torch.arange(n), max(1, round(n / batch_size))):
            out = module(*(t[idx].to(device) for t in tensors))
            for k, v in out.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(idx)
    return {k: v / n for k, v in sums.items()}


def train(
    module: torch.nn.Module,
    train_data: tuple[torch.Tensor, ...],
    val_data: tuple[torch.Tensor, ...] | None = None,
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
) -> History:
    """Train ``module`` with minibatches and return the :class:`History` of every loss term.

    Each epoch: shuffle (seeded by ``random_state``), step on every batch, check every term is
    finite (else :class:`NonFiniteLossError` naming the epoch and the term), evaluate on
    ``val_data`` if given, keep the best weights (lowest validation ``"loss"``), stop after
    ``patience`` epochs without improvement, and write a checkpoint to ``checkpoint_dir`` if set.
    ``lr_schedule="cosine"`` anneals the learning rate from ``learning_rate`` towards 0 over
    ``epochs`` (set per epoch from the epoch number, so resuming needs no scheduler state).
    ``precision="bfloat16"`` trains with mixed precision: the networks' forward and backward
    passes run under ``torch.autocast`` in bfloat16 while the weights, the optimizer and the
    losses (see :func:`crossview.deep.losses.full_precision`) stay float32; validation and
    inference stay float32. It is about twice as fast on CPUs with native bfloat16 (AVX512-BF16
    or AMX) and on recent GPUs, and slower on CPUs without it.
    With ``resume=True`` and a checkpoint present, training continues where it stopped and ends
    with the same weights as an uninterrupted run with the same seed (on CPU).
    """
    check_train_counts(epochs, batch_size, patience, random_state)
    import time

    configure_threads()
    dev = resolve_device(device)
    module.to(dev)
    train_data = tuple(t.to(dev) for t in train_data)
    if val_data is not None:
        val_data = tuple(t.to(dev) for t in val_data)
    n = train_data[0].shape[0]
    gen = torch.Generator()
    gen.manual_seed(int(random_state) if random_state is not None else
                    int(torch.randint(0, 2**31 - 1, (1,)).item()))
    opt = _make_optimizer(optimizer, module.parameters(), learning_rate, weight_decay)
    if lr_schedule not in ("constant", "cosine"):
        raise CrossviewError(f"unknown lr_schedule {lr_schedule!r}; expected 'constant' or 'cosine'")
    autocast = _autocast(precision, dev)

    history = History()
    best_state, best_score, bad_epochs, start_epoch = None, math.inf, 0, 0
    ckpt = _Checkpoint(checkpoint_dir) if checkpoint_dir is not None else None
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
        log.info("resuming from the checkpoint in %s after epoch %d", checkpoint_dir, start_epoch)
        if meta.get("finished"):
            start_epoch = epochs

    bar = tqdm(total=epochs, initial=start_epoch, desc=desc, disable=not verbose,
               unit="epoch", dynamic_ncols=True, leave=True)
    t0 = time.perf_counter() - history.seconds
    try:
        for epoch in range(start_epoch, epochs):
            module.train()
            if lr_schedule == "cosine":
                for group in opt.param_groups:
                    group["lr"] = learning_rate * 0.5 * (1 + math.cos(math.pi * epoch / epochs))
            sums: dict[str, float] = {}
            for b, idx in enumerate(_batches(n, batch_size, gen, shuffle=True)):
                batch = tuple(t[idx] for t in train_data)
                with autocast:
                    out = module(*batch)
                _check_finite(out, epoch, b)
                opt.zero_grad(set_to_none=True)
                out["loss"].backward()
                opt.step()
                for k, v in out.items():
                    sums[k] = sums.get(k, 0.0) + float(v.detach()) * len(idx)
            row = {k: v / n for k, v in sums.items()}
            history.train.append(row)
            history.samples_seen += n
            score = row["loss"]
            postfix = {k: f"{v:.4g}" for k, v in row.items()}
            if val_data is not None:
                vrow = evaluate(module, val_data, max(batch_size, 1000), dev)
                history.val.append(vrow)
                score = vrow["loss"]
                postfix["val_loss"] = f"{score:.4g}"
                if not math.isfinite(score):
                    raise NonFiniteLossError(
                        f"validation loss became {score} at epoch {epoch + 1}; lower the "
                        "learning rate or raise regularisation")
            if score < best_score - min_delta:
                best_score, bad_epochs = score, 0
                history.best_epoch = epoch
                if val_data is not None and restore_best:
                    best_state = _state_to_cpu(module)
            else:
                bad_epochs += 1
            history.seconds = time.perf_counter() - t0
            stop = patience is not None and val_data is not None and bad_epochs >= patience
            if ckpt is not None:
                ckpt.save(module, opt, gen, best_state, {
                    "epoch": epoch, "history": history.to_dict(),
                    "best_score": best_score if math.isfinite(best_score) else None,
                    "bad_epochs": bad_epochs, "finished": stop})
            bar.set_postfix(postfix, refresh=False)
            bar.update(1)
            if stop:
                history.stopped_early = True
                log.info("early stop after epoch %d (best %d)", epoch + 1,
                         (history.best_epoch or 0) + 1)
                break
    finally:
        bar.close()
    history.seconds = time.perf_counter() - t0
    if best_state is not None and restore_best:
        module.load_state_dict(best_state)
    module.eval()
    return history


#: the values of ``train(precision=...)``
PRECISIONS = ("float32", "bfloat16")


def _autocast(precision: str, device: torch.device):
    """The context the training forward pass runs in: nothing, or bfloat16 autocast."""
    if precision not in PRECISIONS:
        raise CrossviewError(f"unknown precision {precision!r}; expected one of "
                             f"{', '.join(map(repr, PRECISIONS))}")
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def seed_everything(random_state: int | None) -> None:
    """Seed torch and NumPy's global generators (weight initialisation uses torch's)."""
    if random_state is None:
        return
    torch.manual_seed(int(random_state))
    np.random.seed(int(random_state) % (2**32))
