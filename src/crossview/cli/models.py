"""CLI commands that fit, list, apply and inspect models: fit, methods, transform, translate."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Optional

import typer

from .. import registry
from ..exceptions import CrossviewError
from ..io import load_model, read_config
from . import app
from ._common import check_writable_folder, parse_params, read_array, read_labels, write_array


@app.command("methods")
def methods_cmd(
    name: Optional[str] = typer.Argument(None, help="Show the parameters of this method."),
):
    """List the registered methods, or one method's parameters and defaults."""
    if name is None:
        width = max(map(len, registry.names())) + 1
        for key in registry.names():
            info = registry.get(key)
            caps = ", ".join(
                c
                for c, on in (
                    (info.task, True),
                    ("translates", info.translates),
                    ("deep", info.deep),
                )
                if on
            )
            typer.echo(f"{key:<{width}} {info.summary}  [{caps}]")
        return
    cls = registry.get(name).load()
    typer.echo(f"{name}: {cls.__name__} — {(cls.__doc__ or '').strip().splitlines()[0]}")
    for key, p in inspect.signature(cls.__init__).parameters.items():
        if key != "self":
            typer.echo(f"  {key} = {p.default!r}")


def _fit_accepts(cls, name: str) -> bool:
    return name in inspect.signature(cls.fit).parameters


@app.command("fit")
def fit_cmd(
    method: str = typer.Argument(..., help="Method name (see `crossview methods`)."),
    x: Path = typer.Option(
        ..., "--x", help="View X: .npy, .npz, .csv, .tsv, .parquet, word2vec .txt/.vec."
    ),
    y: Path = typer.Option(
        ..., "--y", help="View Y: one row per row of X (paired methods), or any rows."
    ),
    out: Path = typer.Option(..., "--out", help="Folder to write the model into."),
    x_labels: Optional[Path] = typer.Option(
        None, "--x-labels", help="Class labels of X's rows (label-linked methods)."
    ),
    y_labels: Optional[Path] = typer.Option(
        None, "--y-labels", help="Class labels of Y's rows (label-linked methods)."
    ),
    pairs: Optional[Path] = typer.Option(
        None, "--pairs", help="Known links, a (k, 2) array of (row of X, row of Y) (label-linked)."
    ),
    x_only: Optional[Path] = typer.Option(
        None,
        "--x-only",
        help="Extra rows of X with no partner in Y (semi-paired training: corrnet).",
    ),
    y_only: Optional[Path] = typer.Option(
        None,
        "--y-only",
        help="Extra rows of Y with no partner in X (semi-paired training: corrnet).",
    ),
    x_val: Optional[Path] = typer.Option(
        None, "--x-val", help="Validation rows of X (deep methods)."
    ),
    y_val: Optional[Path] = typer.Option(
        None, "--y-val", help="Validation rows of Y (deep methods)."
    ),
    param: Optional[list[str]] = typer.Option(
        None,
        "--param",
        "-p",
        help="Method parameter KEY=VALUE, repeatable (e.g. -p n_components=50).",
    ),
    stream: Optional[bool] = typer.Option(
        None,
        "--stream/--no-stream",
        help="Stream .npy / .parquet views (or folders of shards) from disk: chunk by chunk into "
        "partial_fit (cca, ridge), or one shuffle buffer at a time (deep methods); default: "
        "for folders, and when the two views together exceed 1 GB.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
):
    """Fit METHOD and save it to --out: on paired views X and Y, or (label-linked methods) on
    two data sets linked by --x-labels and --y-labels."""
    check_writable_folder(out, out)  # fail before a long fit, not after it
    info = registry.get(method)
    linked = info.task == "label-linked"
    if not linked and info.task != "paired":
        registry.get(method, task="paired")  # says which task it is for
    if not linked and (x_labels or y_labels or pairs):
        raise CrossviewError(
            f"{method} is a paired method: drop --x-labels/--y-labels/--pairs, or use a "
            f"label-linked method ({', '.join(registry.names('label-linked'))})"
        )
    if linked and (x_labels is None or y_labels is None):
        raise CrossviewError(f"{method} is label-linked: give --x-labels and --y-labels")
    cls = info.load()
    params = parse_params(cls, param)
    if "verbose" in inspect.signature(cls.__init__).parameters:
        params.setdefault("verbose", not quiet)
    singles = {k: v for k, v in (("X_only", x_only), ("Y_only", y_only)) if v is not None}
    if singles and (linked or not _fit_accepts(cls, "X_only")):
        with_singles = [
            n for n in registry.names("paired") if _fit_accepts(registry.get(n).load(), "X_only")
        ]
        raise CrossviewError(
            f"{method} does not train on single-view rows; drop --x-only/--y-only, or use "
            f"{', '.join(with_singles)}"
        )
    kind = _streams(cls, method, x, y, stream, x_val is not None or linked)
    if singles and kind == "disk":
        if stream:
            raise CrossviewError("--stream does not take --x-only/--y-only: drop one of them")
        kind = None  # single-view rows are read whole, and so are the pairs
    if kind == "partial_fit":
        _fit_streaming(cls(**params), x, y, out, method, quiet)
        return
    if kind == "disk":  # a deep method trains from the files, one shuffle buffer at a time
        from ..datasets.npy_stream import DiskRows

        X, Y = DiskRows(x), DiskRows(y)
    else:
        X, Y = read_array(x), read_array(y)
    fit_kwargs = {}
    if (x_val is None) != (y_val is None):
        raise CrossviewError("give both --x-val and --y-val, or neither")
    if x_val is not None:
        if not _fit_accepts(cls, "X_val"):
            raise CrossviewError(f"{method} does not use validation data; drop --x-val/--y-val")
        fit_kwargs = {"X_val": read_array(x_val), "Y_val": read_array(y_val)}
    fit_kwargs.update({k: read_array(v) for k, v in singles.items()})
    from ..deep.distributed import init_from_env, is_main

    init_from_env()  # under torchrun: every rank trains its shard, rank 0 writes the model
    main = is_main()
    quiet = quiet or not main
    if not quiet:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    if linked:
        lx, ly = read_labels(x_labels), read_labels(y_labels)
        P = read_array(pairs) if pairs is not None else None
        model = cls(**params).fit(X, lx, Y, ly, pairs=P)
        what = f"{X.shape[0]} + {Y.shape[0]} rows linked by {len(model.classes_)} classes" + (
            f" and {len(P)} pairs" if P is not None else ""
        )
    else:
        model = cls(**params).fit(X, Y, **fit_kwargs)
        what = f"{X.shape[0]} rows" + (" streamed from disk" if kind == "disk" else "")
        for key, view in (("X_only", "X"), ("Y_only", "Y")):
            if key in fit_kwargs:
                what += f" + {fit_kwargs[key].shape[0]} rows of {view} alone"
    if not main:
        return
    model.save(out)
    if not quiet:
        typer.echo(
            f"fitted {method} on {what} ({X.shape[1]} + {Y.shape[1]} features); saved to {out}"
        )


#: above this many bytes of .npy views, `crossview fit` streams them (methods with partial_fit
#: read them chunk by chunk, deep methods train from them one shuffle buffer at a time)
STREAM_BYTES = 1 << 30


def _disk_bytes(path: Path) -> int:
    """Bytes of a view on disk once read: a .npy file's size; a Parquet file's or a folder's
    rows x columns x item size (Parquet is compressed)."""
    if path.is_dir() or path.suffix == ".parquet":
        from ..datasets.npy_stream import DiskRows

        return DiskRows(path).nbytes
    return path.stat().st_size


def _streams(cls, method: str, x: Path, y: Path, stream: Optional[bool], extra: bool):
    """How `fit` reads the views: None (whole, into memory), "partial_fit" (chunk by chunk
    into partial_fit) or "disk" (a deep method training from the files); streaming is asked
    for, or chosen for .npy / .parquet files (or folders of shards) above :data:`STREAM_BYTES`.
    ``extra``: validation files are given (deep methods take them) or the method is
    label-linked (which never streams)."""
    from ..deep.estimator import DeepTwoViewModel

    kind = (
        "partial_fit"
        if hasattr(cls, "partial_fit")
        else "disk"
        if isinstance(cls, type) and issubclass(cls, DeepTwoViewModel)
        else None
    )
    npy = all(p.suffix in (".npy", ".parquet") or p.is_dir() for p in (x, y))
    if kind == "partial_fit" and extra:
        kind = None if stream is None else kind
    if stream is None:
        if kind is None or not npy:
            return None
        if x.is_dir() or y.is_dir():
            return kind
        try:
            return kind if _disk_bytes(x) + _disk_bytes(y) > STREAM_BYTES else None
        except OSError:
            return None
    if not stream:
        return None
    if kind is None:
        raise CrossviewError(
            f"--stream needs a method with partial_fit (cca, ridge) or a deep paired method "
            f"(corrnet, dcca, ...); {method} loads its views whole"
        )
    if not npy:
        raise CrossviewError(
            "--stream reads .npy or .parquet files or folders of their shards; "
            "convert the views to one of those first"
        )
    if kind == "partial_fit" and extra:
        raise CrossviewError("--stream with cca / ridge takes --x and --y only (no other files)")
    return kind


def _fit_streaming(model, x: Path, y: Path, out: Path, method: str, quiet: bool) -> None:
    """partial_fit over matching chunks of the two views on disk, with progress, then save."""
    from tqdm.auto import tqdm

    from ..datasets.npy_stream import CHUNK_ROWS, DiskRows

    X, Y = DiskRows(x), DiskRows(y)
    nx, ny = len(X), len(Y)
    if nx != ny:
        raise CrossviewError(f"--x has {nx} rows and --y {ny}; paired views need the same rows")
    chunks = zip(X.chunks(), Y.chunks())
    total = -(-nx // CHUNK_ROWS)
    for cx, cy in tqdm(chunks, total=total, desc=f"{method} (streaming)", disable=quiet):
        model.partial_fit(cx, cy)
    model.save(out)
    if not quiet:
        typer.echo(f"fitted {method} on {nx} rows streamed from {x} and {y}; saved to {out}")


def _one_view(x: Optional[Path], y: Optional[Path]):
    if (x is None) == (y is None):
        raise CrossviewError("give exactly one of --x or --y")
    return ("x", x) if x is not None else ("y", y)


@app.command("transform")
def transform_cmd(
    model_dir: Path = typer.Argument(..., help="Model folder written by `crossview fit`."),
    x: Optional[Path] = typer.Option(None, "--x", help="Rows of view X to encode."),
    y: Optional[Path] = typer.Option(None, "--y", help="Rows of view Y to encode."),
    out: Path = typer.Option(..., "--out", help="Output codes (.npy, .csv or .tsv)."),
):
    """Encode rows of one view into the shared space."""
    which, path = _one_view(x, y)
    model = load_model(model_dir)
    name = "transform" if which == "x" else "transform_y"
    if not hasattr(model, name):
        raise CrossviewError(
            f"{type(model).__name__} has no shared space to encode into; "
            "use `crossview translate` to map rows into the other view"
        )
    A = read_array(path)
    Z = getattr(model, name)(A)
    write_array(out, Z)
    typer.echo(f"wrote codes of shape {Z.shape} to {out}")


@app.command("translate")
def translate_cmd(
    model_dir: Path = typer.Argument(..., help="Model folder written by `crossview fit`."),
    x: Optional[Path] = typer.Option(None, "--x", help="Rows of view X to translate into Y."),
    y: Optional[Path] = typer.Option(None, "--y", help="Rows of view Y to translate into X."),
    out: Path = typer.Option(..., "--out", help="Output (.npy, .csv or .tsv)."),
):
    """Translate rows of one view into the other view (X -> Y with --x, Y -> X with --y)."""
    which, path = _one_view(x, y)
    model = load_model(model_dir)
    name = "predict" if which == "x" else "predict_x"
    try:
        translate = getattr(model, name)
    except AttributeError as exc:  # the capability is the method (scikit-learn's available_if)
        # available_if raises "has no attribute" from the method's own reason, when it has one
        cause = exc.__cause__ if isinstance(exc.__cause__, AttributeError) else None
        reason = str(cause) if cause else "it does not translate between views"
        raise CrossviewError(
            f"{type(model).__name__} cannot translate "
            f"{'X into Y' if which == 'x' else 'Y into X'}: {reason}"
        ) from None
    out_arr = translate(read_array(path))
    write_array(out, out_arr)
    typer.echo(f"wrote {out_arr.shape} to {out}")


@app.command("info")
def info_cmd(model_dir: Path = typer.Argument(..., help="Model folder.")):
    """Show what a saved model is: method, parameters, feature sizes, versions."""
    cfg = read_config(model_dir)
    info = registry.get(cfg["method"])
    typer.echo(f"method: {cfg['method']} ({cfg.get('class')}), task {info.task}")
    if cfg.get("n_features_in_y"):
        typer.echo(f"features: X {cfg['n_features_in']}, Y {cfg.get('n_features_in_y')}")
    else:
        typer.echo(f"features: {cfg['n_features_in']}")
    typer.echo(
        f"crossview version: {cfg.get('crossview_version')}, "
        f"format version: {cfg.get('format_version')}"
    )
    classes = (cfg.get("extra") or {}).get("classes")
    if isinstance(classes, list):
        shown = ", ".join(map(str, classes[:20])) + (" ..." if len(classes) > 20 else "")
        typer.echo(f"classes ({len(classes)}): {shown}")
    for k, v in cfg["params"].items():
        typer.echo(f"  {k} = {v!r}")
