"""Data-parallel training on ``torch.distributed``: ranks, shards and whole-batch statistics.

The shared trainer (:func:`crossview.deep.trainer.train`) uses this module when a process group
is initialised, e.g. under ``torchrun --nproc-per-node N``: every rank draws the same global
batch of ``batch_size x world_size`` rows (the rows a single process would draw with that batch
size), keeps its shard of it, and ``DistributedDataParallel`` averages the gradients.

Losses that are statistics of the whole minibatch (CorrNet's correlation, DCCA's covariances)
call :func:`gather_rows` on the codes they correlate: while the trainer takes a sharded step it
all-gathers the rows of every rank, with gradients, so the statistic is the one of the global
batch. Every rank then computes the same loss; the gather's backward gives each shard the sum
of every rank's (equal) gradient of its rows, and DDP's average over ranks gives exactly the
gradient of one process on the global batch (:class:`_AllGather`). Per-row terms
(reconstruction errors) stay local means, which DDP's average turns into the global mean when
the shards are equal (a global batch divisible by the number of ranks).
"""

from __future__ import annotations

import contextlib
import contextvars
import os

import torch
import torch.distributed as dist

_SHARDED = contextvars.ContextVar("crossview_sharded_batch", default=False)


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of the initialised process group, else ``(0, 1)``."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    """Whether this process writes files, logs and progress (rank 0, or no process group)."""
    return world()[0] == 0


def init_from_env() -> bool:
    """Join the process group ``torchrun`` describes (``WORLD_SIZE`` > 1 in the environment).

    NCCL when CUDA is available (each rank on GPU ``LOCAL_RANK``), gloo on CPUs. Returns True
    when a process group is initialised after the call; a no-op outside ``torchrun``.
    """
    if not dist.is_available():
        return False
    if dist.is_initialized():
        return True
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")
    return True


@contextlib.contextmanager
def sharded_batch(active: bool = True):
    """Within the block, :func:`gather_rows` gathers every rank's rows (the trainer's steps)."""
    token = _SHARDED.set(bool(active))
    try:
        yield
    finally:
        _SHARDED.reset(token)


def gather_rows(t: torch.Tensor) -> torch.Tensor:
    """The rows of ``t`` from every rank, in rank order, with gradients (module docs).

    Outside a sharded training step (one process, validation, inference) it returns ``t``.
    Shards may differ in length by a few rows: they are padded to the longest for the gather
    and cut back after it.
    """
    rank, size = world()
    if size == 1 or not _SHARDED.get():
        return t
    n = torch.tensor([t.shape[0]], device=t.device)
    sizes = [torch.zeros_like(n) for _ in range(size)]
    dist.all_gather(sizes, n)
    sizes = [int(s) for s in sizes]
    longest = max(sizes)
    padded = t
    if t.shape[0] < longest:
        pad = t.new_zeros((longest - t.shape[0], *t.shape[1:]))
        padded = torch.cat([t, pad], dim=0)
    parts = _AllGather.apply(padded)
    return torch.cat([p[:s] for p, s in zip(parts, sizes)], dim=0)


class _AllGather(torch.autograd.Function):
    """All-gather with a gradient, and no communication in the backward pass.

    The gradient of a shard is the sum over ranks of each rank's gradient of its rows. The
    statistics gathered here feed a loss that every rank computes identically from the same
    gathered rows, so those gradients are equal and the sum is ``world_size`` times this
    rank's own: the backward returns that, and DDP's average over ranks then gives the exact
    gradient. Keeping collectives out of the backward pass means none can interleave with
    DDP's gradient all-reduces, which run asynchronously in the same pass. (torch's own
    differentiable ``torch.distributed.nn.functional.all_gather`` is deprecated, and all-reduces
    in its backward.)"""

    @staticmethod
    def forward(ctx, t):
        parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, t.contiguous())
        return torch.stack(parts)

    @staticmethod
    def backward(ctx, grad):
        return grad[dist.get_rank()] * dist.get_world_size()


def _comm_device() -> torch.device:
    """Where collectives' tensors live: the current GPU under NCCL, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    """Sum a float64 tensor over the ranks (a CPU copy; unchanged with one process)."""
    out = values.detach().to("cpu", torch.float64).clone()
    if world()[1] > 1:
        t = out.to(_comm_device())
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        out = t.cpu()
    return out


def broadcast_int(value: int) -> int:
    """Rank 0's ``value`` on every rank."""
    if world()[1] == 1:
        return int(value)
    t = torch.tensor([int(value)], dtype=torch.int64, device=_comm_device())
    dist.broadcast(t, src=0)
    return int(t.item())


def barrier() -> None:
    """Wait for every rank (a no-op with one process)."""
    if world()[1] > 1:
        dist.barrier()
