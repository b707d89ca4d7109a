"""CorrNet epoch time and peak memory against rows: MNIST halves at 1x, 4x and 16x, trained
from disk (``DiskRows``) and from memory.

Writes, per scale ``s``, two .npy views of ``50,000 s`` rows: the MNIST training left and right
halves (392 float32 columns each), copy ``k`` of them with Gaussian pixel noise of sd 0.05 (no
two rows equal). Then each fit runs in a fresh process, so each peak resident memory is that
fit's alone: ``CorrNet(n_components=50, x_hidden=(500, 300), epochs=1)`` with its other
defaults, on

- ``disk``: ``DiskRows`` views, streamed one shuffle buffer (32,768 rows) at a time;
- ``memory``: the same files loaded whole with ``numpy.load``;
- ``parquet`` (with ``--modes ...,parquet``): the same rows written as Parquet files (one
  float32 column per feature, row groups of 4,096 rows), streamed by ``DiskRows``.

    python benchmarks/stream_epochs.py --data-dir ../shared/data --work /tmp/stream-epochs

Each line of output is one fit as JSON (epoch seconds, rows per second, peak RSS in MB);
the last lines are the medians over ``--repeats`` runs per mode and scale.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BASE_ROWS = 50_000


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM) in MB.

    Not ``getrusage``'s ``ru_maxrss``: Linux carries that over an ``exec`` from the parent's
    address space, so a child would report at least the parent's memory at its fork.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def write_views(data_dir, scale: int, work: Path) -> None:
    from crossview.datasets.mnist import load_mnist_halves

    train = load_mnist_halves(data_dir, verbose=False).train
    rows = BASE_ROWS * scale
    for name, base in (("x", train.X[:BASE_ROWS]), ("y", train.Y[:BASE_ROWS])):
        rng = np.random.default_rng(0)  # the same noise draws row by row in both views
        path = work / f"{name}{scale}.npy"
        with open(path, "wb") as f:
            header = {"descr": "<f4", "fortran_order": False, "shape": (rows, base.shape[1])}
            np.lib.format.write_array_header_1_0(f, header)
            for copy in range(scale):
                noise = 0 if copy == 0 else rng.normal(0, 0.05, size=base.shape)
                (base + noise).astype(np.float32).tofile(f)
    print(f"wrote {rows} x {train.X.shape[1]} per view to {work}", flush=True)


def write_parquet(scale: int, work: Path, row_group_size: int = 4096) -> None:
    """The .npy views of ``scale`` as Parquet files, one float32 column per feature."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crossview.datasets.npy_stream import DiskRows

    for name in ("x", "y"):
        rows = DiskRows(work / f"{name}{scale}.npy")
        schema = pa.schema([(f"p{j}", pa.float32()) for j in range(rows.shape[1])])
        part = work / f"{name}{scale}.parquet.part"  # renamed once whole
        with pq.ParquetWriter(part, schema) as writer:
            for chunk in rows.chunks(row_group_size):
                cols = {f"p{j}": chunk[:, j] for j in range(chunk.shape[1])}
                writer.write_table(pa.table(cols, schema=schema), row_group_size=row_group_size)
        part.replace(work / f"{name}{scale}.parquet")
    print(f"wrote x{scale}.parquet and y{scale}.parquet ({row_group_size} rows a row group)")


def run_fit(mode: str, scale: int, work: Path, epochs: int) -> dict:
    from crossview.datasets.npy_stream import DiskRows
    from crossview.deep.corrnet import CorrNet

    base_rss = peak_rss_mb()
    paths = [work / f"x{scale}.npy", work / f"y{scale}.npy"]
    t0 = time.perf_counter()
    if mode == "disk":
        X, Y = (DiskRows(p) for p in paths)
    elif mode == "parquet":
        X, Y = (DiskRows(p.with_suffix(".parquet")) for p in paths)
    else:
        X, Y = (np.load(p) for p in paths)
    model = CorrNet(n_components=50, x_hidden=(500, 300), epochs=epochs, random_state=0)
    model.set_params(verbose=False).fit(X, Y)
    hist = model.history_
    return {
        "mode": mode,
        "scale": scale,
        "rows": len(X),
        "epoch_s": round(hist.seconds / epochs, 1),
        "rows_per_s": round(hist.samples_per_second),
        "fit_s": round(time.perf_counter() - t0, 1),
        "import_rss_mb": round(base_rss),
        "peak_rss_mb": round(peak_rss_mb()),
        "train_loss": round(hist.train[-1]["loss"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--work", type=Path, default=Path("/tmp/stream-epochs"))
    parser.add_argument("--scales", default="1,4,16")
    parser.add_argument("--modes", default="disk,memory")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-write", action="store_true", help="reuse the views in --work")
    parser.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # the child process: one fit, its numbers as JSON on the last line
        mode, scale = args.child
        print(json.dumps(run_fit(mode, int(scale), args.work, args.epochs)))
        return
    scales = [int(s) for s in args.scales.split(",")]
    if not args.skip_write:
        args.work.mkdir(parents=True, exist_ok=True)
        for scale in scales:
            write_views(args.data_dir, scale, args.work)
    for scale in scales:  # Parquet copies of the .npy views, once
        if "parquet" in args.modes.split(",") and not (args.work / f"y{scale}.parquet").exists():
            write_parquet(scale, args.work)
    runs: dict[tuple[str, int], list[dict]] = {}
    for _ in range(args.repeats):
        for scale in scales:
            for mode in args.modes.split(","):
                cmd = [sys.executable, __file__, "--work", str(args.work)]
                cmd += ["--epochs", str(args.epochs), "--child", mode, str(scale)]
                res = subprocess.run(cmd, capture_output=True, text=True, check=True)
                row = json.loads(res.stdout.strip().splitlines()[-1])
                runs.setdefault((mode, scale), []).append(row)
                print(json.dumps(row), flush=True)
    for (mode, scale), rows in runs.items():
        med = {
            k: statistics.median(r[k] for r in rows)
            for k in ("epoch_s", "rows_per_s", "peak_rss_mb", "import_rss_mb")
        }
        print(json.dumps({"median_of": len(rows), "mode": mode, "scale": scale, **med}))


if __name__ == "__main__":
    main()
