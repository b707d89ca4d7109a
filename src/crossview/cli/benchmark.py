"""`crossview benchmark`: several methods, several seeds, one protocol; tables, figures, report.

``crossview benchmark mnist-halves`` and ``digits-halves`` run the built-in protocols;
``crossview benchmark --data-x X --data-y Y [--labels L]`` (or ``benchmark custom ...``) runs the
same protocol on a user's own paired views.
"""

from __future__ import annotations

import inspect
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from ..exceptions import CrossviewError
from . import app
from ._common import _coerce, check_writable_folder, read_array, read_labels

bench_app = typer.Typer(
    help="Benchmark methods with one protocol: tables, figures, report.", add_completion=False
)
app.add_typer(bench_app, name="benchmark")

# ---- options shared by every benchmark command ---------------------------------------------

_METHODS = typer.Option(
    None,
    "--methods",
    help="Methods, comma-separated or repeated "
    "(default: cca,kcca,dcca,dccae,mae,corrnet); CorrNet loss "
    "combinations as corrnet[L2+L3].",
)
_SEEDS = typer.Option(
    "1", "--seeds", help="N runs seeds 0..N-1; a comma list (0,3,7) runs those seeds."
)
_SET = typer.Option(
    None,
    "--set",
    help="METHOD.KEY=VALUE, e.g. corrnet.lam=0.02 (repeatable; "
    "corrnet[L2+L3].epochs=5 sets one variant).",
)
_ABLATION = typer.Option(
    False,
    "--ablation",
    help="Also run CorrNet's loss combinations L2+L3, L1+L2+L3, L2+L3+L4, L1+L2+L3+L4.",
)
_NO_RESUME = typer.Option(
    False, "--no-resume", help="Refit every run even if the folder holds it already."
)
_NO_FIGURES = typer.Option(False, "--no-figures", help="Skip the figures.")


class EvalSplit(str, Enum):
    """The splits a benchmark can score on (typer checks the choice and lists it in --help)."""

    test = "test"
    val = "val"


_EVAL_ON = typer.Option(
    EvalSplit.test, "--eval-on", help="Split to score on: test (report) or val (tuning)."
)
_QUIET = typer.Option(False, "--quiet", "-q", help="No progress bars.")


def parse_seeds(text: str) -> int | list[int]:
    """``"3"`` -> 3 (seeds 0, 1, 2); ``"0,5"`` -> [0, 5]."""
    parts = [p for p in str(text).replace(" ", "").split(",") if p]
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if not values or ("," not in str(text) and values[0] < 1) or min(values) < 0:
        raise CrossviewError(
            f"--seeds expects a count (e.g. 3) or a comma list of seeds (e.g. 0,1,2); got {text!r}"
        )
    return values if "," in str(text) else values[0]


def parse_settings(items: list[str] | None, protocol: str | None = None) -> dict[str, dict]:
    """Parse ``--set METHOD.KEY=VALUE`` items into ``{method: {key: value}}``.

    Values are converted to the type of the parameter's default in the method's class (or of
    the protocol's preset when the class default is None): ``corrnet.x_hidden=64,32`` gives a
    tuple, ``corrnet.lam=8`` a float.
    """
    from .. import registry
    from ..evaluation.protocols import PRESETS
    from ..evaluation.specs import MANAGED_PARAMS, accepted_params, parse_spec

    out: dict[str, dict] = {}
    for item in items or []:
        target, eq, value = item.partition("=")
        method, dot, key = target.strip().rpartition(".")
        key = key.strip().replace("-", "_")
        if not eq or not dot or not method or not key:
            raise CrossviewError(
                f"--set expects METHOD.KEY=VALUE (e.g. corrnet.lam=0.02); got {item!r}"
            )
        spec = parse_spec(method)
        known = accepted_params(spec.method)
        if key in MANAGED_PARAMS:
            raise CrossviewError(
                f"--set {item}: {key!r} is set by the benchmark "
                f"(use {'--seeds' if key == 'random_state' else '--quiet'})"
            )
        if key not in known:
            name = registry.get(spec.method).load().__name__
            raise CrossviewError(
                f"--set {item}: {name} has no parameter {key!r}; it has: {', '.join(sorted(known))}"
            )
        default = known[key]
        if default is None:
            default = PRESETS.get(protocol or "", {}).get(spec.method, {}).get(key)
        try:
            converted = _coerce(value, default)
        except CrossviewError as exc:
            raise CrossviewError(f"--set {item}: {exc}") from None
        out.setdefault(spec.key, {})[key] = converted
    return out


def _run(
    data,
    protocol: str,
    out: Path,
    methods,
    seeds,
    settings,
    ablation,
    no_resume,
    no_figures,
    eval_on,
    quiet,
    image_shape=None,
) -> None:
    from ..evaluation.benchmark import run_benchmark

    check_writable_folder(out, out)
    if methods:  # repeatable, and each may be a comma list: --methods cca,kcca --methods mae
        methods = [m for item in methods for m in item.split(",") if m.strip()]
    result = run_benchmark(
        data,
        methods=methods,
        seeds=parse_seeds(seeds),
        out_dir=out,
        method_params=parse_settings(settings, protocol),
        ablation=ablation,
        resume=not no_resume,
        verbose=not quiet,
        figures=not no_figures,
        protocol=protocol,
        image_shape=image_shape,
        eval_split=EvalSplit(eval_on).value,
    )
    typer.echo(result.markdown())
    typer.echo(
        f"\nfitted {len(result.fitted)} run(s), reused {len(result.reused)}; "
        f"results: {result.files['markdown']}; report: {result.files['html']}"
    )


def _default_out(protocol: str) -> Path:
    return Path("benchmark-results") / protocol


@bench_app.command("mnist-halves")
def mnist_cmd(
    methods: Optional[list[str]] = _METHODS,
    seeds: str = _SEEDS,
    out: Optional[Path] = typer.Option(
        None, "--out", help="Results folder (default benchmark-results/mnist-halves)."
    ),
    data_dir: Optional[Path] = typer.Option(
        None,
        "--data-dir",
        help="Folder with mnist.npz or the IDX files (default: $CROSSVIEW_DATA, cache).",
    ),
    download: bool = typer.Option(
        True, "--download/--no-download", help="Download MNIST if it is not found."
    ),
    settings: Optional[list[str]] = _SET,
    ablation: bool = _ABLATION,
    no_resume: bool = _NO_RESUME,
    no_figures: bool = _NO_FIGURES,
    eval_on: EvalSplit = _EVAL_ON,
    quiet: bool = _QUIET,
):
    """MNIST left/right halves with the CorrNet paper's protocol and published numbers."""
    from ..datasets import load_mnist_halves

    data = load_mnist_halves(data_dir, download=download, verbose=not quiet)
    _run(
        data,
        "mnist-halves",
        out or _default_out("mnist-halves"),
        methods,
        seeds,
        settings,
        ablation,
        no_resume,
        no_figures,
        eval_on,
        quiet,
    )


@bench_app.command("digits-halves")
def digits_cmd(
    methods: Optional[list[str]] = _METHODS,
    seeds: str = _SEEDS,
    out: Optional[Path] = typer.Option(
        None, "--out", help="Results folder (default benchmark-results/digits-halves)."
    ),
    settings: Optional[list[str]] = _SET,
    ablation: bool = _ABLATION,
    no_resume: bool = _NO_RESUME,
    no_figures: bool = _NO_FIGURES,
    eval_on: EvalSplit = _EVAL_ON,
    quiet: bool = _QUIET,
):
    """scikit-learn digits halves: the offline smoke test of the whole benchmark (a minute)."""
    from ..datasets import load_digits_halves

    _run(
        load_digits_halves(random_state=0),
        "digits-halves",
        out or _default_out("digits-halves"),
        methods,
        seeds,
        settings,
        ablation,
        no_resume,
        no_figures,
        eval_on,
        quiet,
    )


def _parse_fractions(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(p) for p in text.replace(" ", "").split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise CrossviewError(
            f"--split expects three fractions train,val,test (e.g. 0.6,0.2,0.2); got {text!r}"
        )
    return parts


def _parse_shape(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        h, w = (int(p) for p in text.lower().replace("x", ",").split(","))
    except ValueError:
        raise CrossviewError(
            f"--image-shape expects HEIGHT,WIDTH of one view (e.g. 28,14); got {text!r}"
        ) from None
    if h < 1 or w < 1:
        raise CrossviewError(f"--image-shape must be positive; got {text!r}")
    return h, w


def load_custom(
    data_x: Path,
    data_y: Path,
    labels: Path | None,
    split: str | None,
    val: tuple,
    test: tuple,
    split_seed: int = 0,
):
    """Read a user's views: split them (seeded shuffle) or take the given val and test files."""
    from ..datasets.base import TwoViewData, TwoViewDataset
    from ..datasets.split import split_views

    X, Y = read_array(data_x), read_array(data_y)
    lab = read_labels(labels) if labels is not None else None
    val_x, val_y, val_labels = val
    test_x, test_y, test_labels = test
    given = [p for p in (val_x, val_y, test_x, test_y) if p is not None]
    if not given:
        return split_views(
            X,
            Y,
            lab,
            _parse_fractions(split or "0.6,0.2,0.2"),
            random_state=split_seed,
            name="custom",
        )
    if split is not None:
        raise CrossviewError("give either --split or the --val-*/--test-* files, not both")
    if len(given) != 4:
        raise CrossviewError(
            "with explicit splits give all of --val-x, --val-y, --test-x, --test-y"
        )
    if (lab is None) != (val_labels is None) or (lab is None) != (test_labels is None):
        raise CrossviewError(
            "give labels for every split (--labels, --val-labels, --test-labels) or for none"
        )

    def part(x, y, lb, name):
        return TwoViewData(
            read_array(x),
            read_array(y),
            read_labels(lb) if lb is not None else None,
            name=f"custom/{name}",
        )

    return TwoViewDataset(
        "custom",
        part(data_x, data_y, labels, "train"),
        part(val_x, val_y, val_labels, "val"),
        part(test_x, test_y, test_labels, "test"),
        description=f"user views {data_x.name} / {data_y.name}",
    )


def _custom(
    data_x,
    data_y,
    labels,
    split,
    split_seed,
    val,
    test,
    image_shape,
    out,
    methods,
    seeds,
    settings,
    ablation,
    no_resume,
    no_figures,
    eval_on,
    quiet,
):
    if data_x is None or data_y is None:
        raise CrossviewError("the custom benchmark needs both --data-x and --data-y")
    data = load_custom(data_x, data_y, labels, split, val, test, split_seed)
    _run(
        data,
        "custom",
        out or _default_out("custom"),
        methods,
        seeds,
        settings,
        ablation,
        no_resume,
        no_figures,
        eval_on,
        quiet,
        image_shape=_parse_shape(image_shape),
    )


_DATA_X = typer.Option(None, "--data-x", help="View X of your data (rows = items).")
_DATA_Y = typer.Option(None, "--data-y", help="View Y, row i paired with row i of X.")
_LABELS = typer.Option(
    None, "--labels", help="Class labels, one per row (for transfer accuracy and the code maps)."
)
_SPLIT = typer.Option(
    None, "--split", help="train,val,test fractions of a seeded shuffle (default 0.6,0.2,0.2)."
)
_SPLIT_SEED = typer.Option(0, "--split-seed", help="Seed of the shuffle before splitting.")
_VAL_X = typer.Option(None, "--val-x", help="Validation rows of X (instead of --split).")
_VAL_Y = typer.Option(None, "--val-y", help="Validation rows of Y.")
_VAL_LABELS = typer.Option(None, "--val-labels", help="Validation labels.")
_TEST_X = typer.Option(None, "--test-x", help="Test rows of X (instead of --split).")
_TEST_Y = typer.Option(None, "--test-y", help="Test rows of Y.")
_TEST_LABELS = typer.Option(None, "--test-labels", help="Test labels.")
_IMAGE_SHAPE = typer.Option(
    None, "--image-shape", help="HEIGHT,WIDTH of one view as an image, for reconstruction figures."
)
_OUT_CUSTOM = typer.Option(None, "--out", help="Results folder (default benchmark-results/custom).")


@bench_app.command("custom")
def custom_cmd(
    data_x: Path = typer.Option(..., "--data-x", help="View X of your data (rows = items)."),
    data_y: Path = typer.Option(..., "--data-y", help="View Y, row i paired with row i of X."),
    labels: Optional[Path] = _LABELS,
    split: Optional[str] = _SPLIT,
    split_seed: int = _SPLIT_SEED,
    val_x: Optional[Path] = _VAL_X,
    val_y: Optional[Path] = _VAL_Y,
    val_labels: Optional[Path] = _VAL_LABELS,
    test_x: Optional[Path] = _TEST_X,
    test_y: Optional[Path] = _TEST_Y,
    test_labels: Optional[Path] = _TEST_LABELS,
    image_shape: Optional[str] = _IMAGE_SHAPE,
    out: Optional[Path] = _OUT_CUSTOM,
    methods: Optional[list[str]] = _METHODS,
    seeds: str = _SEEDS,
    settings: Optional[list[str]] = _SET,
    ablation: bool = _ABLATION,
    no_resume: bool = _NO_RESUME,
    no_figures: bool = _NO_FIGURES,
    eval_on: EvalSplit = _EVAL_ON,
    quiet: bool = _QUIET,
):
    """Your own paired views (same as `crossview benchmark --data-x X --data-y Y`)."""
    _custom(
        data_x,
        data_y,
        labels,
        split,
        split_seed,
        (val_x, val_y, val_labels),
        (test_x, test_y, test_labels),
        image_shape,
        out,
        methods,
        seeds,
        settings,
        ablation,
        no_resume,
        no_figures,
        eval_on,
        quiet,
    )


@bench_app.callback(invoke_without_command=True)
def benchmark_root(
    ctx: typer.Context,
    data_x: Optional[Path] = _DATA_X,
    data_y: Optional[Path] = _DATA_Y,
    labels: Optional[Path] = _LABELS,
    split: Optional[str] = _SPLIT,
    split_seed: int = _SPLIT_SEED,
    val_x: Optional[Path] = _VAL_X,
    val_y: Optional[Path] = _VAL_Y,
    val_labels: Optional[Path] = _VAL_LABELS,
    test_x: Optional[Path] = _TEST_X,
    test_y: Optional[Path] = _TEST_Y,
    test_labels: Optional[Path] = _TEST_LABELS,
    image_shape: Optional[str] = _IMAGE_SHAPE,
    out: Optional[Path] = _OUT_CUSTOM,
    methods: Optional[list[str]] = _METHODS,
    seeds: str = _SEEDS,
    settings: Optional[list[str]] = _SET,
    ablation: bool = _ABLATION,
    no_resume: bool = _NO_RESUME,
    no_figures: bool = _NO_FIGURES,
    eval_on: EvalSplit = _EVAL_ON,
    quiet: bool = _QUIET,
):
    """Benchmark methods with one protocol: tables, figures and an HTML report.

    With --data-x and --data-y (and no command) it runs the protocol on your own paired views.
    """
    defaults = {
        p.name: p.default
        for p in inspect.signature(benchmark_root).parameters.values()
        if p.name != "ctx"
    }
    given = [
        name
        for name, value in ctx.params.items()
        if name in defaults and _norm(value) != _norm(_default_value(defaults[name]))
    ]
    if ctx.invoked_subcommand is not None:
        if given:
            raise CrossviewError(
                f"put options after the command: crossview benchmark {ctx.invoked_subcommand} "
                f"--{given[0].replace('_', '-')} ..."
            )
        return
    if not given:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    _custom(
        data_x,
        data_y,
        labels,
        split,
        split_seed,
        (val_x, val_y, val_labels),
        (test_x, test_y, test_labels),
        image_shape,
        out,
        methods,
        seeds,
        settings,
        ablation,
        no_resume,
        no_figures,
        eval_on,
        quiet,
    )


def _norm(value):
    return None if isinstance(value, (list, tuple)) and not value else value


def _default_value(info):
    """The default behind a typer Option object (its ``.default``)."""
    value = getattr(info, "default", info)
    return None if value is ... else value


class LinkedProtocol(str, Enum):
    """The label-linked protocols (docs/protocols.md)."""

    mnist = "mnist-unpaired"
    digits = "digits-mnist"
    semi = "semi-paired"


@bench_app.command("label-linked")
def label_linked_cmd(
    protocol: LinkedProtocol = typer.Argument(
        LinkedProtocol.mnist,
        help="mnist-unpaired (A), digits-mnist (B) or semi-paired (C: CorrNet on MNIST halves).",
    ),
    methods: Optional[list[str]] = typer.Option(
        None, "--methods", help="Label-linked methods, comma-separated (default: all of them)."
    ),
    pairs: str = typer.Option(
        "0", "--pairs", help="Known pairs to add (mnist-unpaired), a comma list: 0,10,100,1000."
    ),
    ceiling: str = typer.Option(
        "ridge", "--ceiling", help="Paired methods fitted on the true pairs (mnist-unpaired)."
    ),
    fractions: str = typer.Option(
        "0.01,0.1", "--fractions", help="Shares of paired rows (semi-paired), a comma list."
    ),
    seeds: str = _SEEDS,
    out: Optional[Path] = typer.Option(None, "--out", help="Results folder."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder with mnist.npz."),
    download: bool = typer.Option(True, "--download/--no-download", help="Download MNIST."),
    settings: Optional[list[str]] = _SET,
    no_resume: bool = _NO_RESUME,
    no_figures: bool = _NO_FIGURES,
    quiet: bool = _QUIET,
):
    """Label-linked mapping: two data sets that share only class labels (and a few pairs)."""
    from ..evaluation.label_linked import run_protocol

    name = LinkedProtocol(protocol).value
    out = out or _default_out(f"label-linked-{name}")
    check_writable_folder(out, out)
    seed_list = parse_seeds(seeds)
    table = run_protocol(
        name,
        out,
        methods=[m for item in methods or [] for m in item.split(",") if m.strip()],
        pairs=_counts(pairs, "--pairs", int, "0,100"),
        ceiling=tuple(c for c in ceiling.split(",") if c.strip()),
        fractions=_counts(fractions, "--fractions", float, "0.01,0.1"),
        seeds=list(range(seed_list)) if isinstance(seed_list, int) else seed_list,
        method_params=parse_settings(settings),
        data_dir=data_dir,
        download=download,
        figures=not no_figures,
        resume=not no_resume,
        verbose=not quiet,
    )
    typer.echo(table)
    typer.echo(f"\nresults: {out / 'results.md'}; report: {out / 'report.html'}")


def _counts(text: str, option: str, kind, example: str) -> list:
    """A comma list of numbers for ``option``, with a one-line error."""
    try:
        return [kind(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise CrossviewError(
            f"{option} expects a comma list of numbers, e.g. {example}; got {text!r}"
        ) from None


class SetProtocol(str, Enum):
    """The set-clustering protocols (docs/protocols.md)."""

    mnist = "mnist-instance-sets"
    context = "context-sets"


@bench_app.command("set-clustering")
def set_clustering_cmd(
    protocol: SetProtocol = typer.Argument(
        SetProtocol.mnist,
        help="mnist-instance-sets (transformed MNIST instances) or context-sets (synthetic).",
    ),
    variants: Optional[list[str]] = typer.Option(
        None,
        "--variants",
        help="Rows to run, by name, repeatable (default: every row of the protocol).",
    ),
    seeds: str = _SEEDS,
    out: Optional[Path] = typer.Option(None, "--out", help="Results folder."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder with mnist.npz."),
    download: bool = typer.Option(True, "--download/--no-download", help="Download MNIST."),
    settings: Optional[list[str]] = _SET,
    no_resume: bool = _NO_RESUME,
    no_figures: bool = _NO_FIGURES,
    quiet: bool = _QUIET,
):
    """Set clustering: every method and baseline, ARI / NMI / Hungarian accuracy / count error /
    category accuracy, fit time and prediction speed."""
    from ..evaluation.set_clustering import run_protocol

    name = SetProtocol(protocol).value
    out = out or _default_out(f"set-clustering-{name}")
    check_writable_folder(out, out)
    seed_list = parse_seeds(seeds)
    table = run_protocol(
        name,
        out,
        variants=variants or None,
        seeds=list(range(seed_list)) if isinstance(seed_list, int) else seed_list,
        method_params=parse_settings(settings),
        data_dir=data_dir,
        download=download,
        figures=not no_figures,
        resume=not no_resume,
        verbose=not quiet,
    )
    typer.echo(table)
    typer.echo(f"\nresults: {out / 'results.md'}; report: {out / 'report.html'}")
