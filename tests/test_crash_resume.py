"""Crash-safe training: a fit killed with SIGKILL mid-epoch, or while it writes a checkpoint,
resumes losing at most one epoch and ends with the weights of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL")

EPOCHS, BATCHES = 5, 6  # 6 batches an epoch
SETUP = """
import numpy as np
from crossview.deep.corrnet import CorrNet

rng = np.random.default_rng(0)
Z = rng.standard_normal((240, 3))
X = np.tanh(Z @ rng.standard_normal((3, 8)))
Y = Z @ rng.standard_normal((3, 6))
params = dict(n_components=3, x_hidden=(16,), epochs=EPOCHS, batch_size=40, device="cpu",
              random_state=0, verbose=False)
"""


def _setup():
    scope = {"EPOCHS": EPOCHS}
    exec(SETUP, scope)
    return scope


CHILD = {
    # the 22nd forward pass is batch 4 of the 4th epoch (6 batches an epoch, no validation)
    "mid-epoch": """
import os, signal
calls = {"n": 0}
def bomb(module, args, out):
    calls["n"] += 1
    if calls["n"] == 3 * 6 + 4:
        os.kill(os.getpid(), signal.SIGKILL)
original = CorrNet._build_module
def build(self, n_x, n_y):
    net = original(self, n_x, n_y)
    net.register_forward_hook(bomb)
    return net
CorrNet._build_module = build
""",
    # killed inside the 3rd checkpoint write: the new file is written but not yet in place
    "checkpoint-write": """
import os, signal
real = os.replace
count = {"n": 0}
def replace(src, dst):
    if str(dst).endswith("checkpoint.safetensors"):
        count["n"] += 1
        if count["n"] == 3:
            os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst)
os.replace = replace
""",
}


@pytest.mark.parametrize("moment, last_saved", [("mid-epoch", 2), ("checkpoint-write", 1)])
def test_sigkill_then_resume_matches_an_uninterrupted_fit(moment, last_saved, tmp_path):
    ckpt = tmp_path / "ckpt"
    code = (
        f"EPOCHS = {EPOCHS}\n"
        + textwrap.dedent(SETUP)
        + textwrap.dedent(CHILD[moment])
        + f"CorrNet(checkpoint_dir={str(ckpt)!r}, **params).fit(X, Y)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    from safetensors import safe_open

    with safe_open(str(ckpt / "checkpoint.safetensors"), framework="pt") as f:
        saved = json.loads(f.metadata()["state"])
    assert saved["epoch"] == last_saved  # 0-based: at most one epoch lost
    if moment == "checkpoint-write":
        assert any(p.name.endswith(".part") for p in ckpt.iterdir())  # the half-written file

    s = _setup()
    CorrNet = s["CorrNet"]
    resumed = CorrNet(checkpoint_dir=str(ckpt), resume=True, **s["params"]).fit(s["X"], s["Y"])
    full = CorrNet(**s["params"]).fit(s["X"], s["Y"])
    assert len(resumed.history_.train) == EPOCHS
    for key, value in full.module_.state_dict().items():
        assert np.array_equal(resumed.module_.state_dict()[key].numpy(), value.numpy()), key
    assert not any(p.name.endswith(".part") for p in ckpt.iterdir())  # leftovers cleared


def test_a_killed_benchmark_refits_only_what_was_missing(tmp_path):
    out = tmp_path / "bench"
    cmd = [
        sys.executable, "-m", "crossview", "benchmark", "digits-halves", "--methods",
        "cca,kcca", "--seeds", "1", "--out", str(out), "--no-figures", "-q",
    ]  # fmt: skip
    # kill the run as soon as the first method's run file is in place
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runs = out / "runs"
    try:
        import time

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            done = [p for p in runs.glob("*.json")] if runs.is_dir() else []
            if done:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the benchmark ended before it could be killed"
    assert not (out / "results.md").exists()  # killed before it wrote its tables
    kept = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.json")}
    assert kept
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    for name, mtime in kept.items():  # kept runs were reused, not refitted
        assert (runs / name).stat().st_mtime_ns == mtime, name
    assert (out / "results.md").is_file() and len(list(runs.glob("*.json"))) >= 2
