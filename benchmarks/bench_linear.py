"""Benchmark crossview's CCA and KernelCCA against scikit-learn (and cca-zoo) on MNIST halves.

Protocol (docs/protocols.md, CorrNet paper): X = left 14 columns, Y = right 14 columns of each
image, pixels in [0, 1]; fit on the first 50,000 training images; report on the 10,000 test
images; 50 components. For each method: fit time (median over ``--repeats`` for the fast
methods, one run for the slow ones), memory, and the benchmark runner's scores under its names
(:func:`crossview.evaluation.runner.score_model`; a peer's model is scored through a small
adapter): ``sum_corr`` of the 50 test correlations, ``canonical_sum_corr``, transfer accuracy
both ways (``transfer_x_to_y`` / ``transfer_y_to_x``, %: 5 contiguous folds, StandardScaler +
LinearSVC trained on one view's codes, tested on the other's), and cross-reconstruction MSE
(``mse_y_from_x`` / ``mse_x_from_y``) where the method predicts the other view.

Memory is reported two ways:

* ``peak_fit_mb``: peak of the allocations made during ``fit`` as traced by ``tracemalloc``
  (NumPy registers its buffers with it), in a separate untimed run. It is the model's own
  working memory; it excludes BLAS/LAPACK internal buffers and memory allocated before the fit
  (the data). Not measured for the slow peer fits unless ``--trace-slow``.
* ``rss_hwm_mb``: the process's resident-set high-water mark (``ru_maxrss``) right after the
  fit, as in docs/peers-mnist-halves.md. It includes imports and the data (about 900 MB) and
  everything run before in the same process, so only its growth is informative.

Run it alone on an idle machine with BLAS limited to the cores you mean to use, e.g.::

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 PYTHONPATH=src python benchmarks/bench_linear.py \\
        --data-dir ../shared/data --out results/bench_linear.json

Quick check of the script (a few minutes)::

    PYTHONPATH=src python benchmarks/bench_linear.py --n-train 5000 --sklearn-n 2000 \\
        --repeats 1 --no-zoo
"""

from __future__ import annotations

import argparse
import importlib.util
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

from crossview.datasets import load_mnist_halves
from crossview.evaluation.runner import score_model
from crossview.fileio import write_json
from crossview.kernel import KernelCCA
from crossview.kernel.kcca import median_heuristic_gamma
from crossview.linear import CCA, RidgeMap

REPO = Path(__file__).resolve().parents[1]

logger = logging.getLogger("bench_linear")
N_TRAIN = 50_000


# ---------------------------------------------------------------- data
def load_halves(data_dir: Path | None):
    """Return {"train"|"val"|"test": (X, Y, labels)} as float64 MNIST halves."""
    ds = load_mnist_halves(data_dir, download=False, verbose=False)
    return {
        s: (np.asarray(d.X, np.float64), np.asarray(d.Y, np.float64), np.asarray(d.labels))
        for s, d in ds.splits().items()
    }


def _rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


# ---------------------------------------------------------------- methods
class Method:
    """One benchmarked model: how to build and fit it, and (for a peer library's model) how to
    encode both views (``encode(model, X, Y) -> (Zx, Zy)``) and translate X into Y."""

    def __init__(
        self,
        name,
        library,
        make,
        fit,
        encode=None,
        translate=None,
        slow=False,
        n_train=None,
        params=None,
        codes=True,
    ):
        self.codes = codes  # False: no shared low-dimensional codes (skip sum-corr, transfer)
        self.name, self.library, self.make = name, library, make
        self.fit, self.encode, self.translate = fit, encode, translate
        self.slow, self.n_train, self.params = slow, n_train, params or {}

    def scorable(self, model, n_x: int, n_y: int):
        """``model`` as :func:`score_model` takes it: crossview's own as it is, a peer's through
        :class:`Peer` (or :class:`TranslatingPeer` when it translates)."""
        if self.library == "crossview":
            return model
        cls = Peer if self.translate is None else TranslatingPeer
        return cls(model, self.encode, self.translate, n_x, n_y)


class Peer:
    """A peer library's fitted model behind crossview's interface (``transform``,
    ``transform_y``), so that the runner's :func:`score_model` scores it as it scores ours.

    Each view is encoded alone: the view not asked for is fed as zeros of its training width
    (the peers' code of one view never depends on the other view).
    """

    def __init__(self, model, encode, translate, n_x: int, n_y: int):
        self.model, self.encode, self.translate, self.n_x, self.n_y = (
            model,
            encode,
            translate,
            n_x,
            n_y,
        )

    def transform(self, X):
        return self.encode(self.model, X, np.zeros((X.shape[0], self.n_y)))[0]

    def transform_y(self, Y):
        return self.encode(self.model, np.zeros((Y.shape[0], self.n_x)), Y)[1]


class TranslatingPeer(Peer):
    """A :class:`Peer` that also translates X into Y (``predict``)."""

    def predict(self, X):
        return self.translate(self.model, X)


def crossview_methods(k):
    def fit(m, X, Y):
        return m.fit(X, Y)

    return [
        Method(
            "CCA (defaults)",
            "crossview",
            lambda: CCA(n_components=k),
            fit,
            params=CCA(n_components=k).get_params(),
        ),
        Method(
            "KernelCCA (defaults)",
            "crossview",
            lambda: KernelCCA(n_components=k, random_state=0),
            fit,
            slow=True,
            params=KernelCCA(n_components=k, random_state=0).get_params(),
        ),
        Method(
            "RidgeMap (LOO alpha)",
            "crossview",
            lambda: RidgeMap(alphas=(0.1, 1, 10, 100, 1000)),
            fit,
            params={"alphas": [0.1, 1, 10, 100, 1000], "cv": "loo"},
            codes=False,
        ),
    ]


def sklearn_method(k, n):
    from sklearn.cross_decomposition import CCA as SkCCA

    def fit(m, X, Y):
        return m.fit(X, Y)

    def encode(m, X, Y):
        return m.transform(X, Y)

    def translate(m, X):
        return m.predict(X)

    return Method(
        f"CCA (NIPALS) n={n}",
        "scikit-learn",
        lambda: SkCCA(n_components=k, max_iter=500),
        fit,
        encode,
        translate,
        slow=True,
        n_train=n,
        params={"n_components": k, "scale": True, "max_iter": 500},
    )


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

    ridge_cls = getattr(zl, "RidgeCCA", None) or zl.rCCA

    def fit(m, X, Y):
        return m.fit([X, Y])

    def encode(m, X, Y):
        Zx, Zy = m.transform([X, Y])
        return Zx, Zy

    out = [
        Method(
            f"{ridge_cls.__name__} c=1e-5",
            "cca-zoo",
            lambda: reg_model(ridge_cls, 1e-5),
            fit,
            encode,
            params={"c": 1e-5, "note": "val-tuned in docs/peers-mnist-halves.md"},
        )
    ]
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

        out.append(
            Method(
                f"KCCA (RBF) n={kcca_n}",
                "cca-zoo",
                make_kcca,
                fit,
                encode,
                slow=True,
                n_train=kcca_n,
                params={"gamma": list(gammas), "c": 1e-4},
            )
        )
    except ImportError as exc:
        logger.warning("cca-zoo KCCA not available: %s", exc)
    return out


# ---------------------------------------------------------------- running
def bench_one(meth: Method, data, repeats: int, trace_slow: bool):
    """Fit ``meth`` (timed ``repeats`` times, traced once) and score it on the test split."""
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
        "model": meth.name,
        "library": meth.library,
        "n_train": int(n),
        "fit_seconds": float(statistics.median(times)),
        "fit_seconds_all": [float(t) for t in times],
        "peak_fit_mb": None if peak is None else float(peak),
        "rss_hwm_mb": float(rss),
    }
    scores = score_model(
        meth.scorable(model, Xtr.shape[1], Ytr.shape[1]), Xte, Yte, lab if meth.codes else None
    )
    if not meth.codes:
        # RidgeMap's "codes" are 392 predicted pixels: not a 50-d shared space, and a LinearSVC
        # on them takes minutes, so it is scored by its translation error only
        scores = {k: v for k, v in scores.items() if k.startswith("mse_")}
    row.update(scores)
    row["params"] = {
        k: v
        for k, v in meth.params.items()
        if isinstance(v, (int, float, str, bool, list, tuple, type(None)))
    }
    if isinstance(model, KernelCCA):
        row["params"].update(
            method_=model.method_,
            gamma_x_=model.gamma_x_,
            gamma_y_=model.gamma_y_,
            n_basis=int(model.x_basis_.shape[0]),
        )
    return row


#: the table's columns: score name (or the script's own), title, format
COLUMNS = [
    ("fit_seconds", "fit s", ".2f"),
    ("peak_fit_mb", "peak fit MB", ".0f"),
    ("rss_hwm_mb", "RSS MB", ".0f"),
    ("sum_corr", "sum corr", ".2f"),
    ("transfer_x_to_y", "transfer X→Y %", ".2f"),
    ("transfer_y_to_x", "transfer Y→X %", ".2f"),
    ("mse_y_from_x", "MSE Y from X", ".4f"),
    ("mse_x_from_y", "MSE X from Y", ".4f"),
]


def markdown(rows) -> str:
    def f(v, fmt):
        return "—" if v is None else format(v, fmt)

    lines = [
        "| model | library | train rows | " + " | ".join(c[1] for c in COLUMNS) + " |",
        "|---|---|---|" + "---|" * len(COLUMNS),
    ]
    for r in rows:
        if "error" in r:
            lines.append(
                f"| {r['model']} | {r['library']} | failed: {r['error'][:60]} |"
                + " — |" * len(COLUMNS)
            )
            continue
        lines.append(
            f"| {r['model']} | {r['library']} | {r['n_train']:,} | "
            + " | ".join(f(r.get(key), fmt) for key, _, fmt in COLUMNS)
            + " |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=REPO.parent / "shared" / "data",
        help="folder with mnist.npz (Keras layout) or the MNIST IDX files",
    )
    ap.add_argument(
        "--repeats", type=int, default=3, help="timed fits of each fast method (median reported)"
    )
    ap.add_argument("--out", type=Path, default=None, help="write results as JSON here")
    ap.add_argument("--n-components", type=int, default=50)
    ap.add_argument(
        "--n-train",
        type=int,
        default=N_TRAIN,
        help="training rows for the crossview methods (protocol: 50,000)",
    )
    ap.add_argument(
        "--methods",
        default="cca,kcca,ridge",
        help="crossview methods to run: comma list of cca, kcca, ridge",
    )
    ap.add_argument(
        "--sklearn-n",
        type=int,
        default=N_TRAIN,
        help="training rows for scikit-learn's CCA (50,000 takes ~310 s)",
    )
    ap.add_argument(
        "--skip-sklearn-50k",
        action="store_true",
        help="cap scikit-learn's CCA at 10,000 rows (~60 s) instead of --sklearn-n",
    )
    ap.add_argument("--no-sklearn", action="store_true", help="skip scikit-learn's CCA")
    ap.add_argument("--no-zoo", action="store_true", help="skip cca-zoo even if importable")
    ap.add_argument(
        "--zoo-kcca-n",
        type=int,
        default=5000,
        help="training rows for cca-zoo's KCCA (5,000 took 374 s and 9.4 GB)",
    )
    ap.add_argument(
        "--trace-slow",
        action="store_true",
        help="also measure tracemalloc peak for the slow peer fits (one more fit)",
    )
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    data = load_halves(args.data_dir)
    if args.n_train < data["train"][0].shape[0]:
        data["train"] = tuple(a[: args.n_train] for a in data["train"])
    k = args.n_components
    wanted = {m.strip() for m in args.methods.split(",") if m.strip()}
    methods = [m for m, key in zip(crossview_methods(k), ("cca", "kcca", "ridge")) if key in wanted]
    if not args.no_sklearn:
        n_sk = min(args.sklearn_n, 10_000) if args.skip_sklearn_50k else args.sklearn_n
        methods.append(sklearn_method(k, min(n_sk, data["train"][0].shape[0])))
    if not args.no_zoo and importlib.util.find_spec("cca_zoo") is None:
        logger.info("cca-zoo is not installed; skipping it")
    elif not args.no_zoo:
        g = (median_heuristic_gamma(data["train"][0]), median_heuristic_gamma(data["train"][1]))
        methods += zoo_methods(k, min(args.zoo_kcca_n, data["train"][0].shape[0]), g)

    rows = []
    for meth in methods:
        logger.info("running %s (%s)", meth.name, meth.library)
        try:
            row = bench_one(meth, data, args.repeats, args.trace_slow)
        except Exception as exc:  # a peer library failing is a result, not a crash
            logger.exception("%s failed", meth.name)
            row = {
                "model": meth.name,
                "library": meth.library,
                "error": f"{type(exc).__name__}: {exc}",
            }
        rows.append(row)
        logger.info("%s", {k: v for k, v in row.items() if k not in ("params", "fit_seconds_all")})

    import scipy
    import sklearn

    result = {
        "benchmark": "mnist-halves",
        "protocol": "docs/protocols.md (CorrNet): 50k train, 10k test, 50 components",
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "threads": {
                v: os.environ.get(v)
                for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
            },
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "sklearn": sklearn.__version__,
        },
        "memory_note": "peak_fit_mb: tracemalloc peak during fit (NumPy allocations, no "
        "BLAS workspace, excludes the data); rss_hwm_mb: process ru_maxrss "
        "after fit (cumulative, includes imports and data)",
        "rows": rows,
    }
    table = markdown(rows)
    print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_json(args.out, result, indent=2)
        logger.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
