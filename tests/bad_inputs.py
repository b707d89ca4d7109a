"""The catalogue of bad inputs: every case, what it feeds crossview, and the words its one-line
message must hold. ``tests/test_bad_inputs.py`` runs each case; ``scripts/reliability_doc.py``
writes docs/reliability.md from the same list with the messages crossview actually gives.

An API case is ``run(f)`` calling the library with the prepared files ``f``; a CLI case returns
the ``crossview`` arguments. ``outcome`` is "error" (a :class:`CrossviewError`; exit code 2 in
the CLI, one line on stderr, no traceback) or "warning" (a documented warning; the call
succeeds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Case:
    id: str
    what: str
    run: Callable
    expect: tuple[str, ...]
    outcome: str = "error"
    writes: str | None = None  # a path (key of f) the case must leave absent
    exception: str = "CrossviewError"  # the class raised (API), when not CrossviewError


# ---------------------------------------------------------------- data the cases use
N = 60


def views(seed=0, n=N):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, 2))
    X = np.c_[Z, rng.standard_normal((n, 3))]
    Y = np.c_[Z + 0.1 * rng.standard_normal((n, 2)), rng.standard_normal((n, 2))]
    return X, Y


def linked(seed=0):
    rng = np.random.default_rng(seed)
    lx, ly = np.arange(50) % 3, np.arange(40) % 3
    X = 3 * rng.standard_normal((3, 5))[lx] + rng.standard_normal((50, 5))
    Y = 3 * rng.standard_normal((3, 4))[ly] + rng.standard_normal((40, 4))
    return X, lx, Y, ly


def sets_table(seed=0, n_sets=12):
    from crossview.datasets.instance_sets import make_context_sets

    return make_context_sets(n_sets, random_state=seed)


def prepare(folder: Path) -> dict:
    """Write every file the cases read into ``folder``; return their paths by name."""
    from crossview.clustering.table import table_from_arrays, write_table
    from crossview.linear import CCA, RidgeMap

    folder = Path(folder)
    X, Y = views()
    LX, llx, LY, lly = linked()
    f = {"dir": folder}
    for name, arr in (
        ("x", X),
        ("y", Y),
        ("y_short", Y[:-5]),
        ("x_nan", np.where(X > 2, np.nan, X)),
    ):
        f[name] = folder / f"{name}.npy"
        np.save(f[name], arr)
    f["x_csv"] = folder / "x.csv"
    np.savetxt(f["x_csv"], X, delimiter=",")
    f["empty_csv"] = folder / "empty.csv"
    f["empty_csv"].write_text("")
    f["latin1_csv"] = folder / "latin1.csv"
    f["latin1_csv"].write_bytes("1,2\n3,\xe9\n".encode("latin-1"))
    f["truncated_npy"] = folder / "truncated.npy"
    f["truncated_npy"].write_bytes(f["x"].read_bytes()[:100])
    f["text_npy"] = folder / "text.npy"
    f["text_npy"].write_text("not an array")
    f["json"] = folder / "x.json"
    f["json"].write_text("[[1, 2], [3, 4]]")
    f["a_dir"] = folder / "a_dir.npy"
    f["a_dir"].mkdir()
    f["missing"] = folder / "missing.npy"
    f["shards_mixed"] = folder / "shards_mixed"
    f["shards_mixed"].mkdir()
    np.save(f["shards_mixed"] / "a.npy", X[:30])
    np.save(f["shards_mixed"] / "b.npy", X[30:, :-1])
    f["a_file"] = folder / "a_file"
    f["a_file"].write_text("I am a file")
    lx = np.arange(N) % 3
    f["labels"] = folder / "labels.txt"
    f["labels"].write_text("\n".join(map(str, lx)) + "\n")
    f["labels_short"] = folder / "labels_short.txt"
    f["labels_short"].write_text("\n".join(map(str, lx[:-3])) + "\n")
    f["empty_labels"] = folder / "empty_labels.txt"
    f["empty_labels"].write_text("")
    for name, arr in (("lx_view", LX), ("ly_view", LY)):
        f[name] = folder / f"{name}.npy"
        np.save(f[name], arr)
    for name, lab in (("llx", llx), ("lly", lly), ("lly_one", np.zeros_like(lly))):
        f[name] = folder / f"{name}.txt"
        f[name].write_text("\n".join(map(str, lab)) + "\n")
    f["pairs_bad"] = folder / "pairs.csv"
    np.savetxt(f["pairs_bad"], [[0, 1, 2]], delimiter=",", fmt="%d")
    f["cca"] = folder / "cca-model"
    CCA(n_components=2).fit(X, Y).save(f["cca"])
    f["ridge"] = folder / "ridge-model"
    RidgeMap().fit(X, Y).save(f["ridge"])
    from crossview.labels import ClassConditionalMap

    f["classmap"] = folder / "classmap-model"
    ClassConditionalMap().fit(LX, llx, LY, lly).save(f["classmap"])
    f["codes_a"] = folder / "codes_a.npy"
    np.save(f["codes_a"], X[:, :2])
    f["codes_b"] = folder / "codes_b.npy"
    np.save(f["codes_b"], Y[:-5, :2])
    f["broken_model"] = folder / "broken-model"
    f["broken_model"].mkdir()
    (f["broken_model"] / "config.json").write_text("{not json")
    t = sets_table()
    f["table"] = folder / "items.csv"
    write_table(f["table"], table_from_arrays(t.X, t.sets, t.categories, t.clusters))
    f["ragged"] = folder / "ragged.csv"
    f["ragged"].write_text("set,category,cluster,f0\n0,a,0,1.5\n0,a,0\n")
    f["words"] = folder / "words.csv"
    f["words"].write_text("set,category,cluster,f0\n0,a,0,x\n0,a,0,y\n")
    f["mixed"] = folder / "mixed.csv"
    f["mixed"].write_text("set,category,cluster,f0\n0,a,0,1\n0,b,0,2\n1,a,0,1\n1,b,1,2\n")
    f["lonely"] = folder / "lonely.csv"
    f["lonely"].write_text("set,category,cluster,f0\n0,a,0,1\n0,b,1,2\n1,a,0,1\n")
    f["header_only"] = folder / "header.csv"
    f["header_only"].write_text("set,category,cluster,f0\n")
    from crossview.embed.vectors import Embedding, write_embedding

    rng = np.random.default_rng(0)
    f["emb_src"] = write_embedding(
        Embedding([f"w{i}" for i in range(40)], rng.normal(size=(40, 4))), folder / "src.vec"
    )
    f["emb_tgt"] = write_embedding(
        Embedding([f"n{i}" for i in range(40)], rng.normal(size=(40, 3))), folder / "tgt.vec"
    )
    f["emb_nokeys"] = folder / "nokeys.npy"
    np.save(f["emb_nokeys"], rng.normal(size=(40, 3)))
    f["dict"] = folder / "dict.txt"
    f["dict"].write_text("".join(f"w{i} n{i}\n" for i in range(40)))
    f["dict_bad"] = folder / "dict-bad.txt"
    f["dict_bad"].write_text("w1 n1\nw2\n")
    f["dict_disjoint"] = folder / "dict-disjoint.txt"
    f["dict_disjoint"].write_text("x1 y1\nx2 y2\n")
    f["edges_bad"] = folder / "graph.edges"
    f["edges_bad"].write_text("a b\nb c 1.0 extra\n")
    f["corpus"] = folder / "corpus.txt"
    f["corpus"].write_text("the cat eats fish\n" * 3)
    f["out"] = folder / "out-model"
    f["out_npy"] = folder / "out.npy"
    f["out_txt"] = folder / "out.txt"
    return f


def _fit(cls, *args, **params):
    return lambda f: cls(**params).fit(*args)


# ---------------------------------------------------------------- API cases
def api_cases() -> list[Case]:
    from crossview import load, registry
    from crossview.clustering.classify_cluster import ClassifyThenCluster
    from crossview.evaluation import evaluate_codes, retrieval_precision
    from crossview.labels import ClassConditionalMap
    from crossview.linear import CCA, Procrustes, RidgeMap

    X, Y = views()
    LX, lx, LY, ly = linked()
    t = sets_table()
    cca = CCA(n_components=2).fit(X, Y)
    cases = [
        Case("api-1d", "a 1-D view", _fit(CCA, X[:, 0], Y), ("view X is 1-D", "reshape(-1, 1)")),
        Case("api-3d", "a 3-D view", _fit(CCA, X.reshape(N, 5, 1), Y), ("3 dimensions",)),
        Case(
            "api-rows",
            "views with different numbers of rows",
            _fit(CCA, X, Y[:-1]),
            ("different numbers of rows",),
        ),
        Case("api-empty", "an empty view (0 rows)", _fit(CCA, X[:0], Y[:0]), ("view X is empty",)),
        Case(
            "api-no-columns", "a view with 0 columns", _fit(CCA, X[:, :0], Y), ("view X is empty",)
        ),
        Case("api-one-row", "a single row", _fit(CCA, X[:1], Y[:1]), ("1 rows", "at least 2")),
        Case(
            "api-nan",
            "NaN in a view",
            _fit(CCA, np.where(X > 2, np.nan, X), Y),
            ("non-finite", "NaN"),
        ),
        Case(
            "api-inf", "inf in a view", _fit(CCA, X, np.where(Y > 2, np.inf, Y)), ("view Y", "inf")
        ),
        Case(
            "api-object",
            "object dtype with text",
            _fit(CCA, np.array([["a"] * 5] * N, dtype=object), Y),
            ("non-numeric",),
        ),
        Case(
            "api-strings",
            "a string array",
            _fit(CCA, X.astype(str).astype("U3").astype(object) + "x", Y),
            ("non-numeric",),
        ),
        Case("api-complex", "a complex view", _fit(CCA, X + 1j, Y), ("complex-valued",)),
        Case("api-none", "None for a view", _fit(CCA, None, Y), ("view X is missing",)),
        Case(
            "api-constant",
            "a constant column",
            _fit(CCA, np.c_[X, np.ones(N)], Y),
            ("constant",),
            "warning",
        ),
        Case(
            "api-ncomp-too-big",
            "n_components larger than a view",
            _fit(CCA, X, Y, n_components=9),
            ("n_components",),
        ),
        Case(
            "api-ncomp-zero", "n_components=0", _fit(CCA, X, Y, n_components=0), ("n_components",)
        ),
        Case(
            "api-param-type",
            "a parameter of the wrong type",
            _fit(CCA, X, Y, n_components="two"),
            ("n_components",),
        ),
        Case(
            "api-alpha-negative",
            "a negative regularisation",
            _fit(CCA, X, Y, alpha=-1.0),
            ("alpha",),
        ),
        Case(
            "api-predict-width",
            "transform with the wrong number of features",
            lambda f: cca.transform(X[:, :3]),
            ("3 features", "fitted with 5"),
        ),
        Case(
            "api-predict-y-width",
            "transform_y with the wrong number of features",
            lambda f: cca.transform_y(X),
            ("view Y", "fitted with 4"),
        ),
        Case(
            "api-not-fitted",
            "transform before fit",
            lambda f: CCA().transform(X),
            ("not fitted",),
            exception="NotFittedError",
        ),
        Case(
            "api-unknown-method",
            "an unknown method name",
            lambda f: registry.get("corrnett"),
            ("unknown method 'corrnett'",),
        ),
        Case(
            "api-wrong-task",
            "a method of another task",
            lambda f: registry.get("cca", task="clustering"),
            ("for paired data",),
        ),
        Case(
            "api-ridge-alpha",
            "ridge with alpha=0 given as a string",
            _fit(RidgeMap, X, Y, alpha="x"),
            ("alpha",),
        ),
        Case(
            "api-procrustes-step",
            "an unknown normalisation step",
            _fit(Procrustes, X, Y, normalize=("unit", "bogus")),
            ("bogus",),
        ),
        Case(
            "api-retrieval-rows",
            "retrieval with different numbers of queries and targets",
            lambda f: retrieval_precision(X, X[:-1]),
            ("rows",),
        ),
        Case(
            "api-evaluate-labels",
            "labels of the wrong length",
            lambda f: evaluate_codes(X[:, :2], Y[:, :2], labels=np.arange(N - 1)),
            ("labels", "entries"),
        ),
        Case(
            "api-load-missing",
            "loading a folder that does not exist",
            lambda f: load(f["dir"] / "nope"),
            ("does not exist",),
        ),
        Case(
            "api-load-file",
            "loading a file as a model folder",
            lambda f: load(f["a_file"]),
            ("not a model folder",),
        ),
        Case(
            "api-load-corrupt",
            "a model config that is not JSON",
            lambda f: load(f["broken_model"]),
            ("not valid JSON",),
        ),
        Case(
            "api-ll-labels-length",
            "label-linked: labels of the wrong length",
            _fit(ClassConditionalMap, LX, lx[:-1], LY, ly),
            ("x_labels", "entries"),
        ),
        Case(
            "api-ll-one-class",
            "label-linked: a view with one class",
            _fit(ClassConditionalMap, LX, lx, LY, np.zeros_like(ly)),
            ("single class",),
        ),
        Case(
            "api-ll-class-one-view",
            "label-linked: a class in one view only",
            _fit(ClassConditionalMap, LX, np.where(lx == 2, 3, lx), LY, ly),
            ("only in X: 3",),
        ),
        Case(
            "api-ll-kinds",
            "label-linked: integer labels in one view, strings in the other",
            _fit(ClassConditionalMap, LX, lx, LY, ly.astype(str)),
            ("same kind",),
        ),
        Case(
            "api-ll-float-labels",
            "label-linked: non-integer numbers as labels",
            _fit(ClassConditionalMap, LX, lx + 0.5, LY, ly),
            ("non-integer",),
        ),
        Case(
            "api-ll-pairs-shape",
            "label-linked: pairs not (k, 2)",
            lambda f: ClassConditionalMap().fit(LX, lx, LY, ly, pairs=np.array([[0, 1, 2]])),
            ("(k, 2)",),
        ),
        Case(
            "api-ll-pairs-range",
            "label-linked: a pair index outside a view",
            lambda f: ClassConditionalMap().fit(LX, lx, LY, ly, pairs=np.array([[0, 999]])),
            ("outside view Y",),
        ),
        Case(
            "api-ll-pairs-class",
            "label-linked: a pair linking rows of different classes",
            lambda f: ClassConditionalMap().fit(LX, lx, LY, ly, pairs=np.array([[0, 1]])),
            ("share their class",),
        ),
        Case(
            "api-cl-mixed",
            "clustering: a cluster that mixes categories",
            _fit(
                ClassifyThenCluster,
                t.X,
                np.where(np.arange(len(t.X)) == 0, (t.categories[0] + 1) % 4, t.categories),
                t.clusters,
                t.sets,
            ),
            ("mix categories",),
        ),
        Case(
            "api-cl-lonely",
            "clustering: a set with one item",
            _fit(
                ClassifyThenCluster,
                t.X,
                t.categories,
                t.clusters,
                np.where(np.arange(len(t.X)) == len(t.X) - 1, 999, t.sets),
            ),
            ("single item",),
        ),
        Case(
            "api-cl-no-sets",
            "clustering: no set ids",
            _fit(ClassifyThenCluster, t.X, t.categories, t.clusters, None),
            ("sets is missing",),
        ),
        Case(
            "api-cl-one-category",
            "clustering: a single category",
            _fit(ClassifyThenCluster, t.X, np.zeros_like(t.categories), t.clusters, t.sets),
            ("single category",),
        ),
        Case(
            "api-cl-sets-length",
            "clustering: set ids of the wrong length",
            _fit(ClassifyThenCluster, t.X, t.categories, t.clusters, t.sets[:-2]),
            ("sets", "entries"),
        ),
        Case(
            "api-sparse-ok",
            "a SciPy sparse view (accepted: densified)",
            lambda f: CCA(n_components=2).fit(sp.csr_matrix(X), Y),
            (),
            "accepted",
        ),
        Case(
            "api-int-ok",
            "an integer view (accepted: converted to float)",
            lambda f: CCA(n_components=2).fit((X * 10).astype(int), Y),
            (),
            "accepted",
        ),
        Case(
            "api-bool-ok",
            "a boolean view (accepted: converted to float)",
            lambda f: CCA(n_components=2).fit(X > 0, Y),
            (),
            "accepted",
        ),
        Case(
            "api-float16-ok",
            "a float16 view (accepted: converted to float64)",
            lambda f: CCA(n_components=2).fit(X.astype(np.float16), Y),
            (),
            "accepted",
        ),
        Case(
            "api-huge-ok",
            "values of 1e30 (accepted by CCA: scale-free)",
            lambda f: CCA(n_components=2).fit(X * 1e30, Y),
            (),
            "accepted",
        ),
        Case(
            "api-duplicate-ok",
            "duplicate columns (accepted: rank-deficient, regularised)",
            lambda f: CCA(n_components=2).fit(np.c_[X, X], Y),
            (),
            "accepted",
        ),
        *_embedding_api_cases(),
    ]
    return cases


def _embedding_api_cases() -> list[Case]:
    from crossview.embed.align import align, split_by_source
    from crossview.embed.self_learning import SelfLearningMap
    from crossview.embed.vectors import Embedding, read_embedding
    from crossview.evaluation.translation import translation_scores
    from crossview.linear.rcsls import RCSLS

    X, Y = views()
    e = Embedding(["a", "b"], np.zeros((2, 2)))
    return [
        Case(
            "api-embed-duplicate-keys",
            "an embedding with a key twice",
            lambda f: Embedding(["a", "a"], np.zeros((2, 2))),
            ("'a'", "more than once"),
        ),
        Case(
            "api-embed-npy-no-keys",
            "a .npy embedding without its .keys.txt",
            lambda f: read_embedding(f["emb_nokeys"]),
            ("nokeys.keys.txt",),
        ),
        Case(
            "api-align-disjoint",
            "a dictionary none of whose keys are in the embeddings",
            lambda f: align(e, e, [("x", "y")]),
            ("none of the 1 dictionary pairs",),
        ),
        Case(
            "api-split-too-few",
            "splitting a dictionary of 2 source keys into 3 parts",
            lambda f: split_by_source(align(e, e, [("a", "a"), ("b", "b")])),
            ("cannot split 2 source keys into 3 parts",),
        ),
        Case(
            "api-translation-gold-range",
            "a gold target row beyond the targets",
            lambda f: translation_scores(X[:2, :2], Y[:5, :2], [0, 7]),
            ("within 0..4",),
        ),
        Case(
            "api-self-learning-no-seeds",
            "self-learning without seed pairs and without init='gromov'",
            lambda f: SelfLearningMap(verbose=False).fit(X, Y),
            ("no seed_pairs", "init='gromov'"),
        ),
        Case(
            "api-self-learning-seed-range",
            "a seed pair whose row is beyond the view",
            lambda f: SelfLearningMap(verbose=False).fit(X, Y, np.array([[0, 0], [1, N]])),
            ("out of range",),
        ),
        Case(
            "api-rcsls-neighbors",
            "RCSLS with n_neighbors=0",
            _fit(RCSLS, X, Y, n_neighbors=0),
            ("n_neighbors",),
        ),
    ]


# ---------------------------------------------------------------- CLI cases
def cmd(*tokens: str) -> Callable:
    """A CLI case's arguments: ``"@name"`` is the path ``f[name]``, ``"@name/sub"`` a path
    inside it; any other token is passed as it is."""

    def argv(f: dict) -> list[str]:
        out = []
        for t in tokens:
            if t.startswith("@"):
                key, _, sub = t[1:].partition("/")
                out.append(str(f[key] / sub if sub else f[key]))
            else:
                out.append(t)
        return out

    return argv


def cli_cases() -> list[Case]:
    def fit(*extra, x="x", y="y"):
        return cmd("fit", "cca", "--x", f"@{x}", "--y", f"@{y}", "--out", "@out", "-q", *extra)

    def stream(method, *extra, x="x", y="y"):
        return cmd("fit", method, "--x", f"@{x}", "--y", f"@{y}", "--out", "@out", "-q", *extra)

    def cluster_fit(table, *extra):
        return cmd("cluster", "fit", "--data", f"@{table}", "--out", "@out", "-q", *extra)

    return [
        Case(
            "cli-stream-format",
            "--stream with a .csv view",
            stream("cca", "--stream", x="x_csv"),
            ("--stream reads .npy or .parquet files",),
            writes="out",
        ),
        Case(
            "cli-stream-method",
            "--stream with a method that loads its views whole (kcca)",
            stream("kcca", "--stream"),
            ("--stream needs a method with partial_fit", "kcca"),
            writes="out",
        ),
        Case(
            "cli-stream-shards",
            "a folder of .npy shards with different numbers of columns (streamed)",
            stream("corrnet", "-p", "epochs=1", x="shards_mixed"),
            ("differ in columns", "a.npy: 5", "b.npy: 4"),
            writes="out",
        ),
        Case(
            "cli-stream-nan",
            "NaN in a view streamed from disk by a deep method",
            stream("corrnet", "--stream", "-p", "epochs=1", x="x_nan"),
            ("x_nan.npy", "NaN or inf in row"),
            writes="out",
        ),
        Case(
            "cli-unknown-method",
            "fit with an unknown method",
            cmd("fit", "ccaa", "--x", "@x", "--y", "@y", "--out", "@out"),
            ("unknown method 'ccaa'",),
            writes="out",
        ),
        Case(
            "cli-missing-file",
            "a view file that does not exist",
            fit(x="missing"),
            ("missing.npy", "no such file"),
            writes="out",
        ),
        Case(
            "cli-rows",
            "views with different numbers of rows",
            fit(y="y_short"),
            ("different numbers of rows",),
            writes="out",
        ),
        Case("cli-nan", "NaN in a view file", fit(x="x_nan"), ("non-finite",), writes="out"),
        Case(
            "cli-json",
            "a view in an unsupported format (.json)",
            fit(x="json"),
            (".json",),
            writes="out",
        ),
        Case(
            "cli-truncated-npy",
            "a truncated .npy file",
            fit(x="truncated_npy"),
            ("truncated.npy",),
            writes="out",
        ),
        Case(
            "cli-text-npy", "a text file named .npy", fit(x="text_npy"), ("text.npy",), writes="out"
        ),
        Case(
            "cli-empty-csv", "an empty .csv file", fit(x="empty_csv"), ("empty.csv",), writes="out"
        ),
        Case(
            "cli-latin1-csv",
            "a .csv file that is not UTF-8 / not numbers",
            fit(x="latin1_csv"),
            ("latin1.csv",),
            writes="out",
        ),
        Case(
            "cli-dir-as-file",
            "a folder where a view file is expected",
            fit(x="a_dir"),
            ("a_dir",),
            writes="out",
        ),
        Case(
            "cli-out-under-file",
            "an output folder under a file",
            cmd("fit", "cca", "--x", "@x", "--y", "@y", "--out", "@a_file/m"),
            ("is a file, not a folder",),
        ),
        Case(
            "cli-unknown-param",
            "-p with an unknown parameter",
            fit("-p", "n_componentz=2"),
            ("no parameter 'n_componentz'",),
            writes="out",
        ),
        Case(
            "cli-bad-param-value",
            "-p with a value of the wrong type",
            fit("-p", "n_components=two"),
            ("n_components",),
            writes="out",
        ),
        Case(
            "cli-param-not-kv",
            "-p without KEY=VALUE",
            fit("-p", "n_components"),
            ("KEY=VALUE",),
            writes="out",
        ),
        Case(
            "cli-ncomp-too-big",
            "n_components larger than a view",
            fit("-p", "n_components=9"),
            ("n_components",),
            writes="out",
        ),
        Case(
            "cli-xval-alone",
            "--x-val without --y-val",
            fit("--x-val", "@x"),
            ("--x-val",),
            writes="out",
        ),
        Case(
            "cli-paired-with-labels",
            "a paired method given labels",
            cmd("fit", "cca", "--x", "@x", "--y", "@y", "--x-labels", "@labels", "--out", "@out"),
            ("paired method",),
            writes="out",
        ),
        Case(
            "cli-ll-no-labels",
            "a label-linked method without labels",
            cmd("fit", "classmap", "--x", "@lx_view", "--y", "@ly_view", "--out", "@out"),
            ("--x-labels and --y-labels",),
            writes="out",
        ),
        Case(
            "cli-ll-labels-length",
            "label-linked labels of the wrong length",
            cmd(
                "fit",
                "classmap",
                "--x",
                "@x",
                "--x-labels",
                "@labels_short",
                "--y",
                "@y",
                "--y-labels",
                "@labels",
                "--out",
                "@out",
            ),
            ("x_labels",),
            writes="out",
        ),
        Case(
            "cli-ll-one-class",
            "label-linked: a view with one class",
            cmd(
                "fit",
                "classmap",
                "--x",
                "@lx_view",
                "--x-labels",
                "@llx",
                "--y",
                "@ly_view",
                "--y-labels",
                "@lly_one",
                "--out",
                "@out",
            ),
            ("single class",),
            writes="out",
        ),
        Case(
            "cli-ll-empty-labels",
            "an empty labels file",
            cmd(
                "fit",
                "classmap",
                "--x",
                "@lx_view",
                "--x-labels",
                "@empty_labels",
                "--y",
                "@ly_view",
                "--y-labels",
                "@lly",
                "--out",
                "@out",
            ),
            ("empty",),
            writes="out",
        ),
        Case(
            "cli-ll-bad-pairs",
            "label-linked pairs that are not (k, 2)",
            cmd(
                "fit",
                "classmap",
                "--x",
                "@lx_view",
                "--x-labels",
                "@llx",
                "--y",
                "@ly_view",
                "--y-labels",
                "@lly",
                "--pairs",
                "@pairs_bad",
                "--out",
                "@out",
            ),
            ("pairs",),
            writes="out",
        ),
        Case(
            "cli-transform-width",
            "transform with a view of the wrong width",
            cmd("transform", "@cca", "--x", "@y", "--out", "@out_npy"),
            ("features",),
            writes="out_npy",
        ),
        Case(
            "cli-transform-both",
            "transform given both --x and --y",
            cmd("transform", "@cca", "--x", "@x", "--y", "@y", "--out", "@out_npy"),
            ("exactly one of --x or --y",),
            writes="out_npy",
        ),
        Case(
            "cli-transform-no-space",
            "transform with a model that has no shared space",
            cmd("transform", "@classmap", "--x", "@lx_view", "--out", "@out_npy"),
            ("no shared space",),
            writes="out_npy",
        ),
        Case(
            "cli-translate-out-format",
            "an output file of an unknown format",
            cmd("translate", "@ridge", "--x", "@x", "--out", "@out_txt"),
            (".npy, .csv or .tsv",),
            writes="out_txt",
        ),
        Case(
            "cli-model-missing",
            "a model folder that does not exist",
            cmd("info", "@dir/nope"),
            ("does not exist",),
        ),
        Case(
            "cli-model-is-file",
            "a file given as the model folder",
            cmd("info", "@a_file"),
            ("not a model folder",),
        ),
        Case(
            "cli-model-corrupt",
            "a model with a corrupt config",
            cmd("info", "@broken_model"),
            ("not valid JSON",),
        ),
        Case(
            "cli-data-info-missing",
            "data info on a missing file",
            cmd("data", "info", "@dir/none.npy"),
            ("none.npy",),
        ),
        Case(
            "cli-evaluate-rows",
            "evaluate codes with different numbers of rows",
            cmd("evaluate", "--x-codes", "@codes_a", "--y-codes", "@codes_b"),
            ("rows",),
        ),
        Case(
            "cli-benchmark-method",
            "benchmark with an unknown method",
            cmd("benchmark", "digits-halves", "--methods", "nope", "--out", "@dir/b", "-q"),
            ("nope",),
        ),
        Case(
            "cli-benchmark-seeds",
            "benchmark with unreadable seeds",
            cmd("benchmark", "digits-halves", "--seeds", "a,b", "--out", "@dir/b", "-q"),
            ("--seeds",),
        ),
        Case(
            "cli-benchmark-set",
            "benchmark --set without METHOD.KEY=VALUE",
            cmd("benchmark", "digits-halves", "--set", "lam=2", "--out", "@dir/b", "-q"),
            ("METHOD.KEY=VALUE",),
        ),
        Case(
            "cli-benchmark-set-param",
            "benchmark --set with an unknown parameter",
            cmd("benchmark", "digits-halves", "--set", "cca.nope=1", "--out", "@dir/b", "-q"),
            ("no parameter 'nope'",),
        ),
        Case(
            "cli-benchmark-ll-pairs",
            "label-linked benchmark with unreadable --pairs",
            cmd("benchmark", "label-linked", "--pairs", "ten", "--out", "@dir/b", "-q"),
            ("--pairs",),
        ),
        Case(
            "cli-cluster-missing-col",
            "cluster fit: a column the table does not have",
            cluster_fit("table", "--set-col", "grp"),
            ("no column 'grp'",),
            writes="out",
        ),
        Case(
            "cli-cluster-ragged",
            "cluster fit: a line with too few fields",
            cluster_fit("ragged"),
            ("line 3",),
            writes="out",
        ),
        Case(
            "cli-cluster-words",
            "cluster fit: a feature column that is not numeric",
            cluster_fit("words"),
            ("not numeric",),
            writes="out",
        ),
        Case(
            "cli-cluster-mixed",
            "cluster fit: a cluster that mixes categories",
            cluster_fit("mixed"),
            ("mix categories",),
            writes="out",
        ),
        Case(
            "cli-cluster-lonely",
            "cluster fit: a set with one item",
            cluster_fit("lonely"),
            ("single item",),
            writes="out",
        ),
        Case(
            "cli-cluster-header-only",
            "cluster fit: a table with no rows",
            cluster_fit("header_only"),
            ("no rows",),
            writes="out",
        ),
        Case(
            "cli-cluster-empty",
            "cluster fit: an empty table",
            cluster_fit("empty_csv"),
            ("empty",),
            writes="out",
        ),
        Case(
            "cli-cluster-format",
            "cluster fit: a table in an unsupported format",
            cluster_fit("json"),
            (".csv, .tsv or .parquet",),
            writes="out",
        ),
        Case(
            "cli-cluster-paired-method",
            "cluster fit with a paired method",
            cluster_fit("table", "--method", "cca"),
            ("not clustering",),
            writes="out",
        ),
        Case(
            "cli-cluster-features",
            "cluster fit: a --features pattern that matches nothing",
            cluster_fit("table", "--features", "px*"),
            ("px*",),
            writes="out",
        ),
        Case(
            "cli-cluster-not-clustering-model",
            "cluster predict with a paired model",
            cmd("cluster", "predict", "@cca", "--data", "@table", "--out", "@dir/p.csv"),
            ("not a set-clustering model",),
        ),
        Case(
            "cli-map-unknown-mapper",
            "map with an unknown mapper",
            cmd(
                "map",
                "--source",
                "@emb_src",
                "--target",
                "@emb_tgt",
                "--dict",
                "@dict",
                "--method",
                "procrustes,bogus",
                "--out",
                "@out",
                "-q",
            ),
            ("unknown mapper 'bogus'",),
            writes="out",
        ),
        Case(
            "cli-map-disjoint-dict",
            "map with a dictionary whose keys are in neither embedding",
            cmd(
                "map",
                "--source",
                "@emb_src",
                "--target",
                "@emb_tgt",
                "--dict",
                "@dict_disjoint",
                "--out",
                "@out",
                "-q",
            ),
            ("none of the 2 dictionary pairs",),
            writes="out",
        ),
        Case(
            "cli-map-npy-no-keys",
            "map with a .npy target that has no keys file",
            cmd(
                "map",
                "--source",
                "@emb_src",
                "--target",
                "@emb_nokeys",
                "--dict",
                "@dict",
                "--out",
                "@out",
                "-q",
            ),
            ("keys.txt",),
            writes="out",
        ),
        Case(
            "cli-diagnose-bad-dict",
            "diagnose with a dictionary line of one field",
            cmd("diagnose", "@emb_src", "@emb_tgt", "--dict", "@dict_bad"),
            ("dict-bad.txt", "line 2"),
        ),
        Case(
            "cli-embed-words-suffix",
            "embed words with an output name of unknown type",
            cmd("embed", "words", "@corpus", "--out", "@dir/v.bin", "--method", "ppmi"),
            ("v.bin",),
        ),
        Case(
            "cli-embed-nodes-bad-line",
            "embed nodes with an edge line of four fields",
            cmd("embed", "nodes", "@edges_bad", "--out", "@out_txt", "-q"),
            ("graph.edges", "line 2"),
            writes="out_txt",
        ),
        Case(
            "cli-demo-out-file",
            "demo with --out under a file",
            cmd("demo", "--out", "@a_file/d", "--quiet"),
            ("is a file",),
        ),
    ]
