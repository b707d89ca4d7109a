"""Benchmark crossview's CCA and KernelCCA against scikit-learn (and cca-zoo) on MNIST halves.

Protocol (DESIGN.md, CorrNet paper): X = left 14 columns, Y = right 14 columns of each image,
pixels in [0, 1]; fit on the first 50,000 training images; report on the 10,000 test images;
50 components. For each method: fit time (median over ``--repeats`` for the fast methods, one
run for the slow ones), memory, test sum of the 50 correlations, transfer accuracy both ways
(5 contiguous folds, StandardScaler + LinearSVC trained on one view's codes, tested on the
other's), and cross-reconstruction MSE where the method predicts the other view.

Memory is reported two ways:

* ``peak_fit_mb``: peak of the allocations made during ``fit`` as traced by ``tracemalloc``
  (NumPy registers its buffers with it), in a separate untimed run. It is the model's own
  working memory; it excludes BLAS/LAPACK internal buffers and memory allocated before the fit
  (the data). Not measured for the slow peer fits unless ``--trace-slow``.
* ``rss_hwm_mb``: the process's resident-set high-water mark (``ru_maxrss``) right after the
  fit, as in docs/peers-mnist-halves.md. It includes imports and the data (about 900 MB) and
  everything run before in the same process, so only its growth is informative.

Run it alone on an idle machine with BLAS limited to the cores you mean to use, e.g.::

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 python benchmarks/bench_linear.py \\
        --data-dir ../shared/data --out results/bench_linear.json

Quick check of the script (a few minutes)::

    python benchmarks/bench_linear.py --n-train 5000 --sklearn-n 2000 --repeats 1 --no-zoo
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO / "src") not in sys.path:
    sys.path.insert(0, str(REPO / "src"))

from crossview.kernel import KernelCCA  # noqa: E402
from crossview.linear import CCA, RidgeMap  # noqa: E402

logger = logging.getLogger("bench_linear")
N_TRAIN = 50_000


# ---------------------------------------------------------------- data
def load_halves(data_dir: Path | None):
    """Return {"train"|"val"|"test": (X, Y, labels)} as float64 MNIST halves."""
    try:
        from crossview.datasets import load_mnist_halves
    except ImportError:
        load_mnist_halves = None
    if load_mnist_halves is not None:
        ds = load_mnist_halves(data_dir, download=False, verbose=False)
        return {s: (np.asarray(d.X, np.float64), np.asarray(d.Y, np.float64),
                    np.asarray(d.labels)) for s, d in ds.splits().items()}
    path = Path(data_dir or ".") / "mnist.npz"
    if not path.is_file():
        raise SystemExit(f"MNIST not found at {path}; pass --data-dir (folder with mnist.npz)")
    with np.load(path) as f:
        x_tr, y_tr, x_te, y_te = f["x_train"], f["y_train"], f["x_test"], f["y_test"]

    def halves(img):
        img = img.astype(np.float64) / 255.0
        n = img.shape[0]
        return (np.ascontiguousarray(img[:, :, :14].reshape(n, 392)),
                np.ascontiguousarray(img[:, :, 14:].reshape(n, 392)))

    out = {}
    for split, (img, lab) in {"train": (x_tr[:N_TRAIN], y_tr[:N_TRAIN]),
                              "val": (x_tr[N_TRAIN:], y_tr[N_TRAIN:]),
                              "test": (x_te, y_te)}.items():
        X, Y = halves(img)
        out[split] = (X, Y, lab.astype(np.int64))
    return out


# ---------------------------------------------------------------- metrics
def _metrics():
    """Return (sum_correlation, transfer_accuracy_percent, mse) functions."""
    try:
        from crossview.evaluation.metrics import sum_correlation, transfer_accuracy

        def transfer(Zx, Zy, labels):
            r = transfer_accuracy(Zx, Zy, labels)
            return 100 * r["x_to_y"], 100 * r["y_to_x"]

        return sum_correlation, transfer
    except ImportError:
        pass
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    from crossview.linear._common import column_correlations

    def sum_correlation(Zx, Zy):
        return float(np.sum(column_correlations(Zx, Zy)))

    def transfer(Zx, Zy, labels, folds=5):
        n = len(labels)
        parts = np.array_split(np.arange(n), folds)
        res = []
        for A, B in ((Zx, Zy), (Zy, Zx)):
            acc = []
            for test in parts:
                train = np.setdiff1d(np.arange(n), test)
                clf = make_pipeline(StandardScaler(), LinearSVC(dual="auto", max_iter=2000,
                                                                random_state=0))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    clf.fit(A[train], labels[train])
                acc.append(np.mean(clf.predict(B[test]) == labels[test]))
            res.append(100 * float(np.mean(acc)))
        return res[0], res[1]

    return sum_correlation, transfer


def _rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


# ---------------------------------------------------------------- methods
class Method:
    """One benchmarked model: how to build, fit, encode and translate with it."""

    def __init__(self, name, library, make, fit, encode, translate=None, slow=False,
                 n_train=None, params=None, codes=True):
        self.codes = codes  # False: no shared low-dimensional codes (skip sum-corr, transfer)
        self.name, self.library, self.make = name, library, make
        self.fit, self.encode, self.translate = fit, encode, translate
        self.slow, self.n_train, self.params = slow, n_train, params or {}


def crossview_methods(k):
    def fit(m, X, Y):
        return m.fit(X, Y)

    def encode(m, X, Y):
        return m.transform(X), m.transform_y(Y)

    def translate(m, X, Y):
        return m.predict(X), m.predict_x(Y)

    return [
        Method("CCA (defaults)", "crossview", lambda: CCA(n_components=k), fit, encode,
               translate, params=CCA(n_components=k).get_params()),
        Method("KernelCCA (defaults)", "crossview", lambda: KernelCCA(n_components=k,
                                                                      random_state=0),
               fit, encode, translate, slow=True,
               params=KernelCCA(n_components=k, random_state=0).get_params()),
        Method("RidgeMap (LOO alpha)", "crossview",
               lambda: RidgeMap(alphas=(0.1, 1, 10, 100, 1000)), fit, encode, translate,
               params={"alphas": [0.1, 1, 10, 100, 1000], "cv": "loo"}, codes=False),
    ]


def sklearn_method(k, n):
    from sklearn.cross_decomposition import CCA as SkCCA

    def fit(m, X, Y):
        return m.fit(X, Y)

    def encode(m, X, Y):
        return m.transform(X, Y)

    def translate(m, X, Y):
        return m.predict(X), None

    return Method(f"CCA (NIPALS) n={n}", f"scikit-learn", lambda: SkCCA(n_components=k,
                                                                         max_iter=500),
                  fit, encode, translate, slow=True, n_train=n,
                  params={"n_components": k, "scale": True, "max_iter": 500})


def zoo_methods(k, kcca_n, gammas):
    """cca-zoo's regularised CCA and KCCA, if importable (API differs across its versions)."""
    import inspect

    import cca_zoo  # noqa: F401
    from cca_zoo import linear as zl

    def dims_kw(cls):
        params = inspect.signature(cls).parameters
        return {"latent_dimensions": k} if "latent_dimensions" in params else {"n_components": k}

    def reg_model(cls, c):
        params = inspect.signature(cls).parameters
        kw = dims_kw(cls)
        if "shrinkage" in params:
            kw["shrinkage"] = [c, c]
        elif "c" in params:
            kw["c"] = [c, c]
        return cls(**kw)

    ridge_cls = getattr(zl, "RidgeCCA", None) or getattr(zl, "rCCA")

    def fit(m, X, Y):
        return m.fit([X, Y])

    def encode(m, X, Y):
        Zx, Zy = m.transform([X, Y])
        return Zx, Zy

    out = [Method(f"{ridge_cls.__name__} c=1e-5", "cca-zoo",
                  lambda: reg_model(ridge_cls, 1e-5), fit, encode,
                  params={"c": 1e-5, "note": "val-tuned in docs/peers-mnist-halves.md"})]
    try:
        from cca_zoo import nonparametric as znp

        def make_kcca():
            cls = znp.KCCA
            params = inspect.signature(cls).parameters
            kw = dims_kw(cls)
            kw["kernel"] = ["rbf", "rbf"] if "kernel" in params else None
            if "kernel_params" in params:
                kw["kernel_params"] = [{"gamma": gammas[0]}, {"gamma": gammas[1]}]
            elif "gamma" in params:
                kw["gamma"] = list(gammas)
            if "shrinkage" in params:
                kw["shrinkage"] = [1e-4, 1e-4]
            elif "c" in params:
                kw["c"] = [1e-4, 1e-4]
            return cls(**{a: b for a, b in kw.items() if b is not None})

        out.append(Method(f"KCCA (RBF) n={kcca_n}", "cca-zoo", make_kcca, fit, encode,
                          slow=True, n_train=kcca_n,
                          params={"gamma": list(gammas), "c": 1e-4}))
    except ImportError as exc:
        logger.warning("cca-zoo KCCA not available: %s", exc)
    return out


# ---------------------------------------------------------------- running
def run_method(meth: Method, data, repeats: int, trace_slow: bool, metrics):
    sum_corr, transfer = metrics
    Xtr, Ytr, _ = data["train"]
    n = meth.n_train or Xtr.shape[0]
    Xtr, Ytr = Xtr[:n], Ytr[:n]
    Xte, Yte, lab = data["test"]
    times = []
    model = None
    n_runs = 1 if meth.slow else max(1, repeats)
    for _ in range(n_runs):
        model = meth.make()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            meth.fit(model, Xtr, Ytr)
            times.append(time.perf_counter() - t0)
    rss = _rss_mb()
    peak = None
    if not meth.slow or trace_slow or meth.library == "crossview":
        m2 = meth.make()
        tracemalloc.start()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meth.fit(m2, Xtr, Ytr)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        del m2
    row = {
        "model": meth.name, "library": meth.library, "n_train": int(n),
        "fit_s": float(statistics.median(times)), "fit_s_all": [float(t) for t in times],
        "peak_fit_mb": None if peak is None else float(peak), "rss_hwm_mb": float(rss),
        "sum_corr": None, "n_codes": None, "transfer_l2r": None, "transfer_r2l": None,
    }
    if meth.codes:
        # RidgeMap's "codes" are 392 predicted pixels: not a 50-d shared space, and a LinearSVC
        # on them takes minutes, so it is scored by its translation error only
        Zx, Zy = meth.encode(model, Xte, Yte)
        row["sum_corr"] = float(sum_corr(Zx, Zy))
        row["n_codes"] = int(Zx.shape[1])
        row["transfer_l2r"], row["transfer_r2l"] = transfer(Zx, Zy, lab)
    row["mse_r_from_l"] = row["mse_l_from_r"] = None
    if meth.translate is not None:
        Yhat, Xhat = meth.translate(model, Xte, Yte)
        row["mse_r_from_l"] = float(np.mean((Yhat - Yte) ** 2))
        if Xhat is not None:
            row["mse_l_from_r"] = float(np.mean((Xhat - Xte) ** 2))
    row["params"] = {k: v for k, v in meth.params.items()
                     if isinstance(v, (int, float, str, bool, list, tuple, type(None)))}
    if isinstance(model, KernelCCA):
        row["params"].update(method_=model.method_, gamma_x_=model.gamma_x_,
                             gamma_y_=model.gamma_y_, n_basis=int(model.x_basis_.shape[0]))
    return row


def markdown(rows) -> str:
    def f(v, fmt):
        return "—" if v is None else format(v, fmt)

    lines = ["| model | library | train rows | fit s | peak fit MB | RSS MB | sum-corr | "
             "L->R % | R->L % | R-from-L MSE | L-from-R MSE |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['library']} | failed: {r['error'][:60]} |"
                         + " — |" * 8)
            continue
        lines.append(
            f"| {r['model']} | {r['library']} | {r['n_train']:,} | {f(r['fit_s'], '.2f')} | "
            f"{f(r['peak_fit_mb'], '.0f')} | {f(r['rss_hwm_mb'], '.0f')} | "
            f"{f(r['sum_corr'], '.2f')} | {f(r['transfer_l2r'], '.2f')} | "
            f"{f(r['transfer_r2l'], '.2f')} | {f(r['mse_r_from_l'], '.4f')} | "
            f"{f(r['mse_l_from_r'], '.4f')} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data",
                    help="folder with mnist.npz (Keras layout) or the MNIST IDX files")
    ap.add_argument("--repeats", type=int, default=3,
                    help="timed fits of each fast method (median reported)")
    ap.add_argument("--out", type=Path, default=None, help="write results as JSON here")
    ap.add_argument("--n-components", type=int, default=50)
    ap.add_argument("--n-train", type=int, default=N_TRAIN,
                    help="training rows for the crossview methods (protocol: 50,000)")
    ap.add_argument("--methods", default="cca,kcca,ridge",
                    help="crossview methods to run: comma list of cca, kcca, ridge")
    ap.add_argument("--sklearn-n", type=int, default=N_TRAIN,
                    help="training rows for scikit-learn's CCA (50,000 takes ~310 s)")
    ap.add_argument("--skip-sklearn-50k", action="store_true",
                    help="cap scikit-learn's CCA at 10,000 rows (~60 s) instead of --sklearn-n")
    ap.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn's CCA")
    ap.add_argument("--no-zoo", action="store_true", help="skip cca-zoo even if importable")
    ap.add_argument("--zoo-kcca-n", type=int, default=5000,
                    help="training rows for cca-zoo's KCCA (5,000 took 374 s and 9.4 GB)")
    ap.add_argument("--trace-slow", action="store_true",
                    help="also measure tracemalloc peak for the slow peer fits (one more fit)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    data = load_halves(args.data_dir)
    if args.n_train < data["train"][0].shape[0]:
        data["train"] = tuple(a[:args.n_train] for a in data["train"])
    k = args.n_components
    metrics = _metrics()
    wanted = {m.strip() for m in args.methods.split(",") if m.strip()}
    methods = [m for m, key in zip(crossview_methods(k), ("cca", "kcca", "ridge"))
               if key in wanted]
    if not args.no_sklearn:
        n_sk = min(args.sklearn_n, 10_000) if args.skip_sklearn_50k else args.sklearn_n
        methods.append(sklearn_method(k, min(n_sk, data["train"][0].shape[0])))
    if not args.no_zoo:
        try:
            from crossview.kernel.kcca import median_heuristic_gamma

            g = (median_heuristic_gamma(data["train"][0]),
                 median_heuristic_gamma(data["train"][1]))
            methods += zoo_methods(k, min(args.zoo_kcca_n, data["train"][0].shape[0]), g)
        except ImportError as exc:
            logger.info("cca-zoo not importable (%s); skipping it", exc)

    rows = []
    for meth in methods:
        logger.info("running %s (%s)", meth.name, meth.library)
        try:
            row = run_method(meth, data, args.repeats, args.trace_slow, metrics)
        except Exception as exc:  # a peer library failing is a result, not a crash
            logger.exception("%s failed", meth.name)
            row = {"model": meth.name, "library": meth.library,
                   "error": f"{type(exc).__name__}: {exc}"}
        rows.append(row)
        logger.info("%s", {k: v for k, v in row.items() if k not in ("params", "fit_s_all")})

    import scipy
    import sklearn

    result = {
        "benchmark": "mnist-halves", "protocol": "DESIGN.md (CorrNet): 50k train, 10k test, "
                                                 "50 components",
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpu_count": os.cpu_count(),
                    "threads": {v: os.environ.get(v) for v in
                                ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
                    "numpy": np.__version__, "scipy": scipy.__version__,
                    "sklearn": sklearn.__version__},
        "memory_note": "peak_fit_mb: tracemalloc peak during fit (NumPy allocations, no "
                       "BLAS workspace, excludes the data); rss_hwm_mb: process ru_maxrss "
                       "after fit (cumulative, includes imports and data)",
        "rows": rows,
    }
    table = markdown(rows)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        logger.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
