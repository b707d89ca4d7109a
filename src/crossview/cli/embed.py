"""CLI commands for embedding spaces: `crossview embed words | nodes`, `map`, `diagnose`."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from ..exceptions import CrossviewError
from . import app
from ._common import check_writable_folder

embed_app = typer.Typer(
    help="Build embeddings: word vectors from a text corpus, node vectors from a graph.",
    no_args_is_help=True,
)
app.add_typer(embed_app, name="embed")

_OUT = typer.Option(
    ...,
    "--out",
    help="Vectors to write: .txt / .vec (word2vec text), .npy (+ .keys.txt), .parquet.",
)
_DIM = typer.Option(None, "--dim", help="Dimensions (default 300 for words, 128 for nodes).")
_SEED = typer.Option(0, "--seed", help="Random seed.")
_QUIET = typer.Option(False, "--quiet", "-q", help="No progress output.")


def _quiet_logging(quiet: bool) -> None:
    if not quiet:
        logging.basicConfig(level=logging.INFO, format="%(message)s")


def _check_out(path: Path) -> None:
    check_writable_folder(path.parent, path)
    if path.suffix.lower() not in (".txt", ".vec", ".npy", ".parquet"):
        raise CrossviewError(
            f"cannot write {path}: use a .txt or .vec (word2vec text), .npy or .parquet name"
        )


@embed_app.command("words")
def words_cmd(
    corpus: Path = typer.Argument(..., help="Text file (optionally .gz), one sentence a line."),
    out: Path = _OUT,
    method: str = typer.Option(
        "skipgram", "--method", help="skipgram (gensim, the embed extra) or ppmi (PPMI + SVD)."
    ),
    dim: Optional[int] = _DIM,
    window: int = typer.Option(5, "--window", help="Context window (tokens each side)."),
    min_count: int = typer.Option(5, "--min-count", help="Ignore rarer tokens."),
    epochs: int = typer.Option(5, "--epochs", help="Skip-gram passes over the corpus."),
    seed: int = _SEED,
    quiet: bool = _QUIET,
):
    """Word vectors from a corpus: skip-gram with negative sampling, or PPMI + truncated SVD."""
    from ..embed.vectors import write_embedding
    from ..embed.words import ppmi_vectors, read_corpus, skipgram_vectors

    _check_out(out)
    sentences = read_corpus(corpus)
    if method == "skipgram":
        emb = skipgram_vectors(
            sentences,
            dim=dim or 300,
            window=window,
            min_count=min_count,
            epochs=epochs,
            random_state=seed,
            verbose=not quiet,
        )
    elif method == "ppmi":
        emb = ppmi_vectors(
            sentences, dim=dim or 300, window=window, min_count=min_count, random_state=seed
        )
    else:
        raise CrossviewError(f"unknown --method {method!r}; expected skipgram or ppmi")
    write_embedding(emb, out)
    if not quiet:
        typer.echo(f"wrote {len(emb)} word vectors of {emb.dim} dimensions to {out}")


@embed_app.command("nodes")
def nodes_cmd(
    graph: Path = typer.Argument(..., help="Edge list: 'u v' or 'u v weight' per line."),
    out: Path = _OUT,
    method: str = typer.Option("skipgram", "--method", help="skipgram or ppmi."),
    dim: Optional[int] = _DIM,
    walks: int = typer.Option(10, "--walks", help="Walks started at every node."),
    length: int = typer.Option(80, "--length", help="Steps per walk."),
    p: float = typer.Option(1.0, "--p", help="node2vec return parameter."),
    q: float = typer.Option(1.0, "--q", help="node2vec in-out parameter."),
    window: int = typer.Option(10, "--window", help="Context window on the walks."),
    epochs: int = typer.Option(1, "--epochs", help="Skip-gram passes over the walks."),
    directed: bool = typer.Option(False, "--directed", help="Read the edges as directed."),
    seed: int = _SEED,
    quiet: bool = _QUIET,
):
    """Node vectors from a graph: node2vec walks (DeepWalk at p = q = 1), then skip-gram/PPMI."""
    from ..embed.graph import read_graph
    from ..embed.nodes import node_vectors
    from ..embed.vectors import write_embedding

    _check_out(out)
    emb = node_vectors(
        read_graph(graph, directed=directed),
        method=method,
        dim=dim or 128,
        n_walks=walks,
        walk_length=length,
        p=p,
        q=q,
        window=window,
        epochs=epochs,
        random_state=seed,
        verbose=not quiet,
    )
    write_embedding(emb, out)
    if not quiet:
        typer.echo(f"wrote {len(emb)} node vectors of {emb.dim} dimensions to {out}")


def _methods(text: str) -> list[str]:
    return [m.strip() for m in text.split(",") if m.strip()]


@app.command("map")
def map_cmd(
    source: Path = typer.Option(..., "--source", help="Source vectors (keys + vectors)."),
    target: Path = typer.Option(..., "--target", help="Target vectors (keys + vectors)."),
    dictionary: Path = typer.Option(..., "--dict", help="Key pairs: 'source target' a line."),
    method: str = typer.Option(
        "procrustes,rcsls,ridge",
        "--method",
        help="Comma-separated mappers: procrustes, ridge, rcsls, cca, mlp, mlp-naive, corrnet.",
    ),
    seed_pairs: Optional[int] = typer.Option(
        None, "--seed-pairs", help="Self-learning from this many training pairs."
    ),
    out: Path = typer.Option(..., "--out", help="Folder for the table, scores and vectors."),
    diagnose: bool = typer.Option(True, "--diagnose/--no-diagnose", help="Run diagnostics."),
    seed: int = _SEED,
    quiet: bool = _QUIET,
):
    """Fit maps source -> target on a dictionary, score them, print the table and diagnostics.

    The pairs are split 80/10/10 by source key; scores are against all target vectors. The
    mapped vectors of every source key (best mapper on validation CSLS P@1) are written as
    word2vec text to OUT/mapped.vec.
    """
    from ..embed.align import read_dictionary
    from ..embed.vectors import read_embedding, write_embedding
    from ..embed.workflow import map_spaces, mapped_vectors, results_table
    from ..fileio import write_json, write_text

    check_writable_folder(out, out)
    src, tgt = read_embedding(source), read_embedding(target)
    pairs = read_dictionary(dictionary)
    _quiet_logging(quiet)
    result = map_spaces(
        src,
        tgt,
        pairs,
        methods=_methods(method),
        seed_pairs=seed_pairs,
        random_state=seed,
        verbose=not quiet,
    )
    out.mkdir(parents=True, exist_ok=True)
    cov = result.coverage
    lines = [
        f"dictionary: {cov['pairs']} pairs, {cov['pairs_covered']} with both keys "
        f"({100 * cov['pair_coverage']:.1f}%); split by source key {result.split_sizes}",
        "",
        "test (against all target vectors):",
        results_table(result, "test"),
    ]
    best = result.best()
    lines += ["", f"best on validation CSLS P@1: {best}"]
    report = {}
    if diagnose:
        lines += ["", *_diagnose_lines(result, seed, report)]
    text = "\n".join(lines)
    typer.echo(text)
    write_text(out / "results.md", text + "\n")
    write_json(
        out / "results.json",
        {
            "coverage": cov,
            "splits": result.split_sizes,
            "rows": result.rows,
            "best": best,
            **report,
        },
        indent=1,
    )
    write_embedding(mapped_vectors(result.models[best], src), out / "mapped.vec")
    if not quiet:
        typer.echo(f"wrote {out / 'results.md'}, {out / 'results.json'}, {out / 'mapped.vec'}")


def _diagnose_lines(result, seed: int, report: dict) -> list[str]:
    """The isomorphism report of the training pairs, and the linear-vs-non-linear verdict."""
    from ..embed.diagnostics import isomorphism_report, linear_verdict
    from ..embed.workflow import LINEAR

    S, T = result.normalized
    train = result.splits[0]
    rng = np.random.default_rng(seed)
    keep = rng.choice(train.n_covered, min(train.n_covered, 5000), replace=False)
    rep = isomorphism_report(
        S[train.source_rows[keep]], T[train.target_rows[keep]], random_state=seed
    )
    lines = ["diagnostics (training pairs):", rep.format()]
    report["isomorphism"] = rep.to_dict()
    methods = [r["method"] for r in result.rows]
    lin = [m for m in methods if m in LINEAR]
    non = [m for m in methods if m not in LINEAR]
    if lin and non:
        score = {r["method"]: r["val_csls_p@1"] for r in result.rows}
        v = linear_verdict(max(score[m] for m in lin), max(score[m] for m in non))
        lines += ["", str(v)]
        report["linear_verdict"] = v.verdict
    else:
        lines += [
            "",
            "(give both a linear and a non-linear --method, e.g. rcsls,mlp, to test "
            "whether a linear map is enough)",
        ]
    return lines


@app.command("diagnose")
def diagnose_cmd(
    source: Path = typer.Argument(..., help="Source vectors."),
    target: Path = typer.Argument(..., help="Target vectors."),
    dictionary: Path = typer.Option(..., "--dict", help="Key pairs: 'source target' a line."),
    max_pairs: int = typer.Option(5000, "--max-pairs", help="Pairs sampled for the measures."),
    seed: int = _SEED,
    as_json: bool = typer.Option(False, "--json", help="Print the numbers as JSON."),
):
    """How isomorphic are two spaces over a dictionary? Numbers, controls and a verdict."""
    from ..embed.align import align, read_dictionary
    from ..embed.diagnostics import isomorphism_report
    from ..embed.vectors import read_embedding
    from ..embed.workflow import normalize_space

    src, tgt = read_embedding(source), read_embedding(target)
    al = align(src, tgt, read_dictionary(dictionary))
    rng = np.random.default_rng(seed)
    keep = rng.choice(al.n_covered, min(al.n_covered, max_pairs), replace=False)
    S, T = normalize_space(src.vectors), normalize_space(tgt.vectors)
    rep = isomorphism_report(S[al.source_rows[keep]], T[al.target_rows[keep]], random_state=seed)
    if as_json:
        typer.echo(json.dumps(rep.to_dict(), indent=1))
    else:
        typer.echo(f"{al.n_covered} of {al.n_pairs} dictionary pairs found; {keep.size} used")
        typer.echo(rep.format())
