"""WordNet word -> graph benchmark (docs/benchmarks.md section 9): build the spaces, fit every
mapper, score against the pair pool and all lemma nodes, self-learning curves, diagnostics.

Target space: node2vec vectors (128-d) of WordNet's lemma-synset graph, kept for the single-word
lemma nodes. Sources: (a) skip-gram on the glosses (300-d); (b) the WordLlama 256-d token table
restricted to whole-word tokens that are WordNet lemmas; (c) control: skip-gram against PPMI +
SVD vectors of the same glosses. Pairs are split 80/10/10 by word. The built spaces are cached
in ``--out``/spaces, so a rerun only refits the maps::

    python benchmarks/wordnet_maps.py --data-dir ../shared/data --out docs/results/wordnet-maps \\
        --wordllama path/to/wordllama-0.4.0.post1-*.whl
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import zipfile
from pathlib import Path

import numpy as np

from crossview.datasets.wordnet import load_wordnet
from crossview.embed.nodes import node_vectors
from crossview.embed.self_learning import SelfLearningMap
from crossview.embed.vectors import Embedding, read_embedding, write_embedding
from crossview.embed.words import ppmi_vectors, skipgram_vectors
from crossview.embed.workflow import evaluate_mapper, make_mapper, map_spaces, results_table


def _timed(label, fn, timings):
    t0 = time.perf_counter()
    out = fn()
    timings[label] = round(time.perf_counter() - t0, 1)
    print(f"{label}: {timings[label]} s", flush=True)
    return out


def build_spaces(wn, folder: Path, wordllama: Path | None, timings: dict) -> dict:
    """The four spaces, built once and cached as .npy + keys."""
    folder.mkdir(parents=True, exist_ok=True)
    spaces = {}

    def cached(name, build):
        path = folder / f"{name}.npy"
        if path.exists():
            spaces[name] = read_embedding(path)
            return
        spaces[name] = _timed(f"build {name}", build, timings)
        write_embedding(spaces[name], path)

    sentences = wn.gloss_sentences()
    cached("skipgram", lambda: skipgram_vectors(sentences, dim=300, random_state=0, verbose=False))
    cached("ppmi", lambda: ppmi_vectors(sentences, dim=300, random_state=0))
    keys, adjacency = wn.graph()
    from crossview.embed.graph import Graph

    cached(
        "node2vec",
        lambda: node_vectors(
            Graph(adjacency, keys),
            dim=128,
            n_walks=4,
            walk_length=30,
            p=1.0,
            q=1.0,
            window=5,
            epochs=1,
            random_state=0,
            verbose=False,
        ),
    )
    if wordllama is not None:
        cached("wordllama", lambda: read_wordllama(wordllama, set(wn.single_word_lemmas())))
    return spaces


def read_wordllama(wheel: Path, words: set[str]) -> Embedding:
    """The WordLlama 256-d token table, whole-word tokens ("\u2581word") that are in ``words``
    (exactly, or else lowercased: "\u2581Paris" gives "paris" when there is no "\u2581paris")."""
    from safetensors.numpy import load

    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        w_name = next(n for n in names if n.endswith(".safetensors"))
        t_name = next(n for n in names if n.endswith("tokenizer_config.json"))
        table = next(iter(load(z.read(w_name)).values())).astype(np.float32)
        vocab = json.loads(z.read(t_name))["model"]["vocab"]
    found: dict[str, int] = {}
    whole = [(t[1:], i) for t, i in vocab.items() if t.startswith("\u2581") and i < table.shape[0]]
    for word, idx in whole:
        if word in words:
            found[word] = idx
    for word, idx in whole:
        if word.lower() in words and word.lower() not in found:
            found[word.lower()] = idx
    return Embedding(list(found), table[np.asarray(list(found.values()))])


def pool_scores(result, name, S, T, pool_rows):
    """Test scores against the pool of pair targets only (gold rows re-indexed into it)."""
    model = result.models[name]
    test = result.splits[2]
    where = {int(r): i for i, r in enumerate(pool_rows)}
    sub = type(test)(
        test.source_rows,
        np.asarray([where[int(r)] for r in test.target_rows]),
        test.n_pairs,
        test.n_source_keys,
    )
    return evaluate_mapper(model, S, T[pool_rows], sub, (1, 10, 100))


def run_pair(label, source, target, methods, out: Path, summary: dict):
    pairs = [(k, k) for k in source.keys if k in set(target.keys)]
    t0 = time.perf_counter()
    result = map_spaces(source, target, pairs, methods=methods, verbose=False)
    S, T = result.normalized
    pool = np.unique(np.concatenate([p.target_rows for p in result.splits]))
    rows = []
    for r in result.rows:
        ps = pool_scores(result, r["method"], S, T, pool)
        rows.append({**r, **{f"pool_test_{k}": v for k, v in ps.items()}})
    result.rows = rows
    table_all = results_table(result, "test")
    pool_result = type(result)(
        result.coverage,
        result.split_sizes,
        [
            {
                **r,
                **{
                    k.replace("pool_test", "test"): v
                    for k, v in r.items()
                    if k.startswith("pool_test")
                },
            }
            for r in rows
        ],
    )
    table_pool = results_table(pool_result, "test")
    print(f"\n## {label}: {len(pairs)} pairs, {len(T)} targets ({time.perf_counter() - t0:.0f} s)")
    print(
        "against all targets\n" + table_all + "\nagainst the pair pool\n" + table_pool, flush=True
    )
    summary[label] = {
        "pairs": len(pairs),
        "targets": len(T),
        "pool": int(pool.size),
        "splits": result.split_sizes,
        "rows": rows,
    }
    (out / f"{label}.md").write_text(
        f"all {len(T)} targets\n\n{table_all}\n\npool of {pool.size} pair targets\n\n{table_pool}\n"
    )
    return result


def self_learning_curve(label, result, seeds, summary):
    S, T = result.normalized
    train, _, test = result.splits
    rng = np.random.default_rng(0)
    curve = []
    for n in seeds:
        pick = rng.choice(train.n_covered, n, replace=False)
        seed = np.stack([train.source_rows[pick], train.target_rows[pick]], axis=1)
        t0 = time.perf_counter()
        m = SelfLearningMap(random_state=0, verbose=False).fit(S, T, seed)
        sc = evaluate_mapper(m, S, T, test, (1, 10))
        curve.append(
            {
                "seed_pairs": n,
                "test_csls_p@1": sc["csls_p@1"],
                "test_csls_p@10": sc["csls_p@10"],
                "rounds": m.n_iter_,
                "fit_s": round(time.perf_counter() - t0, 1),
            }
        )
        print(label, curve[-1], flush=True)
    full = make_mapper("procrustes", S.shape[1], T.shape[1]).fit(
        S[train.source_rows], T[train.target_rows]
    )
    sc = evaluate_mapper(full, S, T, test, (1, 10))
    summary[f"{label} self-learning"] = {"curve": curve, "full_csls_p@1": sc["csls_p@1"]}


def diagnostics(label, result, summary):
    from crossview.embed.diagnostics import isomorphism_report

    S, T = result.normalized
    train = result.splits[0]
    keep = np.random.default_rng(0).choice(train.n_covered, min(5000, train.n_covered), False)
    t0 = time.perf_counter()
    rep = isomorphism_report(S[train.source_rows[keep]], T[train.target_rows[keep]], random_state=0)
    print(
        f"\n### diagnostics {label} ({time.perf_counter() - t0:.0f} s)\n{rep.format()}", flush=True
    )
    summary[f"{label} diagnostics"] = rep.to_dict()
    from crossview.embed.diagnostics import linear_verdict
    from crossview.embed.workflow import LINEAR

    val = {r["method"]: r["val_csls_p@1"] for r in result.rows}
    lin = [v for m, v in val.items() if m in LINEAR]
    non = [v for m, v in val.items() if m not in LINEAR]
    if lin and non:
        v = linear_verdict(max(lin), max(non))
        print(v.verdict, flush=True)
        summary[f"{label} linear verdict"] = v.verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="docs/results/wordnet-maps")
    parser.add_argument("--wordllama", type=Path, default=None, help="the wordllama wheel")
    parser.add_argument("--methods", default="procrustes,ridge,rcsls,cca,mlp,mlp-naive,corrnet")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict = {}
    wn = _timed("load WordNet", lambda: load_wordnet(args.data_dir, verbose=False), timings)
    spaces = build_spaces(wn, out / "spaces", args.wordllama, timings)
    lemmas = set(wn.single_word_lemmas())
    target = spaces["node2vec"].subset([k for k in spaces["node2vec"].keys if k in lemmas])
    methods = args.methods.split(",")
    summary: dict = {"timings": timings}
    ra = run_pair("a-skipgram-node2vec", spaces["skipgram"], target, methods, out, summary)
    diagnostics("a", ra, summary)
    if "wordllama" in spaces:
        rb = run_pair("b-wordllama-node2vec", spaces["wordllama"], target, methods, out, summary)
        diagnostics("b", rb, summary)
        self_learning_curve("b", rb, (25, 100, 1000), summary)
    rc = run_pair("c-skipgram-ppmi", spaces["skipgram"], spaces["ppmi"], methods, out, summary)
    diagnostics("c", rc, summary)
    self_learning_curve("c", rc, (25, 100, 1000), summary)
    summary["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float) + "\n")
    print(f"\npeak RSS {summary['peak_rss_mb']:.0f} MB; wrote {out}/summary.json")


if __name__ == "__main__":
    main()
