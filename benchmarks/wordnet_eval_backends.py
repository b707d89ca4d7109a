"""Time CSLS scoring against all WordNet lemma nodes with the NumPy and the faiss backend.

Uses the spaces cached by ``benchmarks/wordnet_maps.py`` (run it first): the test queries of
(a), skip-gram -> node2vec, mapped by Procrustes, against all 77,503 lemma nodes, with the whole
source space as CSLS's pool. Median of ``--repeats`` runs per backend, in one process::

    python benchmarks/wordnet_eval_backends.py --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from crossview.datasets.wordnet import load_wordnet
from crossview.embed.align import align, split_by_source
from crossview.embed.vectors import read_embedding
from crossview.embed.workflow import make_mapper, normalize_space
from crossview.evaluation.translation import translation_scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--spaces", type=Path, default=Path("docs/results/wordnet-maps/spaces"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    lemmas = set(load_wordnet(args.data_dir, verbose=False).single_word_lemmas())
    nodes = read_embedding(args.spaces / "node2vec.npy")
    target = nodes.subset([k for k in nodes.keys if k in lemmas])
    source = read_embedding(args.spaces / "skipgram.npy")
    keys = set(target.keys)
    al = align(source, target, [(k, k) for k in source.keys if k in keys])
    train, _, test = split_by_source(al, (0.8, 0.1, 0.1), random_state=0)
    S, T = normalize_space(source.vectors), normalize_space(target.vectors)
    model = make_mapper("procrustes", S.shape[1], T.shape[1])
    model.fit(S[train.source_rows], T[train.target_rows])
    rows, gold = test.gold()
    Zq, Zt, pool = model.transform(S[rows]), model.transform_y(T), model.transform(S)
    print(f"{len(rows)} queries, {len(Zt)} targets, CSLS pool of {len(pool)}")
    for backend in ("numpy", "faiss"):
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            sc = translation_scores(
                Zq, Zt, gold, k=(1, 10, 100), method="csls", source_pool=pool, backend=backend
            )
            times.append(time.perf_counter() - t0)
        print(
            f"{backend}: median {np.median(times):.2f} s over {args.repeats} "
            f"(P@10 {sc['p@10']:.4f}, median rank {sc['median_rank']})"
        )


if __name__ == "__main__":
    main()
