"""CCA on millions of paired rows streamed from disk, and the same through Dask: time and memory.

Writes two .npy views of ``--rows`` rows (MNIST left and right halves, 392 float32 columns
each, repeated with Gaussian pixel noise of sd 0.05 so no two rows are equal), then fits
``CCA(n_components=50)`` in a fresh process per mode, so each peak resident memory is that
mode's alone:

- ``stream``: ``partial_fit`` over chunks read by ``crossview.datasets.npy_stream.iter_npy_rows``;
- ``dask``: ``fit`` on ``npy_dask`` arrays, on a ``dask.distributed.LocalCluster`` (one worker
  process with 2 threads), the worker's peak memory reported too.

    python benchmarks/cca_scale.py --data-dir ../shared/data --rows 2000000 --work /tmp/cca-scale
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def write_views(data_dir, rows: int, work: Path, chunk: int = 60000) -> None:
    from crossview.datasets.mnist import load_mnist_halves

    work.mkdir(parents=True, exist_ok=True)
    train = load_mnist_halves(data_dir, verbose=False).train
    left, right = train.X, train.Y
    for name, base in (("x", left), ("y", right)):
        rng = np.random.default_rng(0)  # the same noise draws row by row in both views
        path = work / f"{name}.npy"
        with open(path, "wb") as f:
            header = {"descr": "<f4", "fortran_order": False, "shape": (rows, base.shape[1])}
            np.lib.format.write_array_header_1_0(f, header)
            done = 0
            while done < rows:
                take = min(chunk, rows - done, base.shape[0])
                block = base[:take] + rng.normal(0, 0.05, size=(take, base.shape[1]))
                block.astype(np.float32).tofile(f)
                done += take
    print(f"wrote {rows} x {left.shape[1]} per view to {work}", flush=True)


def run_mode(mode: str, work: Path, chunk_rows: int) -> dict:
    from crossview.datasets.npy_stream import iter_npy_rows, npy_dask
    from crossview.linear.cca import CCA

    t0 = time.perf_counter()
    out = {"mode": mode, "chunk_rows": chunk_rows}
    model = CCA(n_components=50)
    if mode == "stream":
        chunks = zip(
            iter_npy_rows(work / "x.npy", chunk_rows), iter_npy_rows(work / "y.npy", chunk_rows)
        )
        for cx, cy in chunks:
            model.partial_fit(cx, cy)
    else:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster:
            with Client(cluster) as client:
                model.fit(
                    npy_dask(work / "x.npy", chunk_rows), npy_dask(work / "y.npy", chunk_rows)
                )
                peaks = client.run(
                    lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                )
                out["worker_peak_rss_mb"] = round(max(peaks.values()))
    out["fit_s"] = round(time.perf_counter() - t0, 1)
    out["rows"] = int(model.n_samples_seen_)
    out["sum_corr"] = float(model.canonical_correlations_.sum())
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/cca-scale"))
    parser.add_argument("--chunk-rows", type=int, default=32768)
    parser.add_argument("--skip-write", action="store_true", help="reuse the views in --work")
    parser.add_argument("--mode", choices=("stream", "dask"), default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:  # the child process: one fit, its numbers as JSON on the last line
        print(json.dumps(run_mode(args.mode, args.work, args.chunk_rows)))
        return
    if not args.skip_write:
        t0 = time.perf_counter()
        write_views(args.data_dir, args.rows, args.work)
        print(f"writing took {time.perf_counter() - t0:.0f} s", flush=True)
    for mode in ("stream", "dask"):
        cmd = [sys.executable, __file__, "--work", str(args.work), "--mode", mode]
        cmd += ["--chunk-rows", str(args.chunk_rows)]
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        print(res.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
