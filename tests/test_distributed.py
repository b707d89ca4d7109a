"""Data-parallel training: two gloo processes with batches of b rows each against one process
with batches of 2b rows give the same losses, gradients and weights (CorrNet, DCCA)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from crossview.datasets.npy_stream import DiskRows
from crossview.deep.corrnet import CorrNet
from crossview.deep.dcca import DCCA
from crossview.deep.distributed import gather_rows, sharded_batch, world
from crossview.deep.trainer import train

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed unavailable")

B = 16  # rows per process and step


def _data():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(128, 3))
    X = z @ rng.normal(size=(3, 10)) + 0.1 * rng.normal(size=(128, 10))
    Y = z @ rng.normal(size=(3, 8)) + 0.1 * rng.normal(size=(128, 8))
    return torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.float32)


def _module(method: str):
    torch.manual_seed(0)
    if method == "corrnet":
        return CorrNet(n_components=4, x_hidden=(12,), batch_size=B)._build_module(10, 8)
    return DCCA(n_components=3, x_hidden=(12,), batch_size=B)._build_module(10, 8)


def _fit(method: str, batch_size: int, epochs: int, rows: int, files=None, **kwargs):
    """Train on the first ``rows`` rows, or on the .npy ``files`` (read from disk) if given."""
    X, Y = (t[:rows] for t in _data())
    if files is not None:
        X, Y = (DiskRows(f, shuffle_buffer=40) for f in files)
    module = _module(method)
    hist = train(
        module,
        (X, Y),
        epochs=epochs,
        batch_size=batch_size,
        optimizer="sgd",
        learning_rate=0.05,
        random_state=3,
        device="cpu",
        verbose=False,
        **kwargs,
    )
    weights = {k: v.detach().clone() for k, v in module.state_dict().items()}
    return weights, [row["loss"] for row in hist.train]


def _worker(rank, world_size, init, out, method, epochs, rows, kwargs=None):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world_size)
    try:
        weights, losses = _fit(method, B, epochs, rows, **(kwargs or {}))
        if rank == 0:
            torch.save(weights, out + ".pt")
            with open(out + ".json", "w") as f:
                json.dump(losses, f)
    finally:
        dist.barrier()
        dist.destroy_process_group()
    # leave without C++ static destructors: gloo's threads now and then abort the interpreter's
    # exit ("terminate called without an active exception") after the work is done and saved
    os._exit(0)


def _two_ranks(tmp_path, method: str, epochs: int, rows: int, **kwargs):
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = str(tmp_path / method)
    init = f"file://{tmp_path / 'rendezvous'}"
    mp.spawn(_worker, args=(2, init, out, method, epochs, rows, kwargs), nprocs=2, join=True)
    with open(out + ".json") as f:
        losses = json.load(f)
    return torch.load(out + ".pt"), losses


@pytest.mark.parametrize("method", ["corrnet", "dcca"])
def test_two_ranks_match_one_process_with_the_doubled_batch(tmp_path, method):
    # one step on one global batch of 2 x 16 rows: the same loss and the same gradient (SGD's
    # update is the learning rate times it), to 1e-6
    dist_weights, dist_losses = _two_ranks(tmp_path / "step", method, 1, 2 * B)
    weights, losses = _fit(method, 2 * B, 1, 2 * B)
    np.testing.assert_allclose(dist_losses, losses, rtol=1e-6, atol=1e-6)
    start = _module(method).state_dict()
    for k, v in weights.items():
        grad_1, grad_2 = (start[k] - v) / 0.05, (start[k] - dist_weights[k]) / 0.05
        torch.testing.assert_close(grad_2, grad_1, rtol=1e-6, atol=1e-6)
    # a short fit (3 epochs of 4 steps): the same losses and weights, to float32 rounding
    dist_weights, dist_losses = _two_ranks(tmp_path / "fit", method, 3, 128)
    weights, losses = _fit(method, 2 * B, 3, 128)
    np.testing.assert_allclose(dist_losses, losses, rtol=1e-6, atol=1e-6)
    for k, v in weights.items():
        torch.testing.assert_close(dist_weights[k], v, rtol=1e-4, atol=1e-5)


def test_gather_rows_is_the_identity_without_a_process_group():
    t = torch.arange(6.0).reshape(3, 2)
    assert world() == (0, 1)
    with sharded_batch():
        assert gather_rows(t) is t


def test_resume_in_distributed_mode(tmp_path):
    """Two ranks stopped after 1 epoch and resumed to 3 end with the weights of 3 in one go."""
    ckpt = tmp_path / "ckpt"
    whole, _ = _two_ranks(tmp_path / "whole", "corrnet", 3, 64)
    _two_ranks(tmp_path / "first", "corrnet", 1, 64, checkpoint_dir=str(ckpt))
    assert any(ckpt.iterdir())  # rank 0 wrote it
    resumed, _ = _two_ranks(
        tmp_path / "rest", "corrnet", 3, 64, checkpoint_dir=str(ckpt), resume=True
    )
    for k, v in whole.items():
        torch.testing.assert_close(resumed[k], v, rtol=0, atol=0)


def test_two_ranks_streaming_from_disk_match_one_process_in_memory(tmp_path):
    """Each rank reads the shuffle buffers from disk and keeps its shard of every batch."""
    files = [str(tmp_path / "x.npy"), str(tmp_path / "y.npy")]
    for f, t in zip(files, _data()):
        np.save(f, t.numpy())
    dist_weights, dist_losses = _two_ranks(tmp_path / "run", "corrnet", 2, 128, files=files)
    weights, losses = _fit("corrnet", 2 * B, 2, 128, shuffle_buffer=40)
    np.testing.assert_allclose(dist_losses, losses, rtol=1e-6, atol=1e-6)
    for k, v in weights.items():
        torch.testing.assert_close(dist_weights[k], v, rtol=1e-4, atol=1e-5)
