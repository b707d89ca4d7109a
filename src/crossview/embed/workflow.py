"""The embedding-map workflow: align two keyed spaces, split by source key, fit, evaluate.

:func:`map_spaces` answers "I have two embeddings of the same items; which map from one to the
other works, and how well?" in one call: it aligns the spaces through the dictionary, splits
the pairs 80/10/10 by source key, normalises both spaces (unit length, centring, unit length,
as Artetxe et al. 2018 recommend), fits every requested mapper on the training pairs (with
self-learning from a few seed pairs when asked), and scores each on the validation and test
pairs against *all* target vectors (P@k with NN and CSLS, median rank, mean cosine).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from ..evaluation.translation import translation_scores
from ..exceptions import CrossviewError
from ..linear.procrustes import fit_normalization
from .align import Alignment, align, split_by_source
from .vectors import Embedding

logger = logging.getLogger(__name__)

_STEPS = ("unit", "center", "unit")
#: mappers that are linear in the (normalised) vectors; the rest are non-linear
LINEAR = ("procrustes", "ridge", "rcsls", "cca")


def make_mapper(
    name: str, dx: int, dy: int, random_state=None, verbose: bool = False, n_rows: int | None = None
):
    """A mapper by name with the settings this workflow uses (all the library's own defaults
    where they fit): "procrustes", "ridge", "rcsls", "cca", "mlp" (the tuned MLP: hidden
    width twice the larger dimension, ReLU, the in-batch contrastive loss over batches of
    1024, residual linear path, weight decay, 20 epochs), "mlp-naive" (one tanh hidden layer
    of 128, MAE loss, no residual path: the usual first attempt), "corrnet" (a common
    representation of both spaces, scored by its translation X -> Y). The settings and the
    runs that chose them are in docs/benchmarks.md (embedding maps). ``n_rows``: the number of
    training pairs, which caps the deep mappers' batch sizes (None: no cap)."""
    from ..deep.corrnet import CorrNet
    from ..deep.mlp_map import MLPMap
    from ..linear.cca import CCA
    from ..linear.procrustes import Procrustes
    from ..linear.rcsls import RCSLS
    from ..linear.ridge_map import RidgeMap

    width = 2 * max(dx, dy)

    def batch(size: int) -> int:
        return size if n_rows is None else max(2, min(size, int(n_rows)))

    makers = {
        "procrustes": lambda: Procrustes(),
        "ridge": lambda: RidgeMap(alphas=np.logspace(-3, 3, 13)),
        "rcsls": lambda: RCSLS(),
        "cca": lambda: CCA(n_components=min(dx, dy), alpha=1e-3),
        "mlp": lambda: MLPMap(
            hidden=(width,),
            loss="contrastive",
            temperature=0.1,
            residual=True,
            epochs=20,
            batch_size=batch(1024),
            weight_decay=1e-3,
            random_state=random_state,
            verbose=verbose,
        ),
        "mlp-naive": lambda: MLPMap(
            hidden=(128,),
            activation="tanh",
            loss="mae",
            residual=False,
            epochs=50,
            batch_size=batch(128),
            random_state=random_state,
            verbose=verbose,
        ),
        "corrnet": lambda: CorrNet(
            n_components=min(dx, dy),
            x_hidden=(width,),
            view_activation=None,
            lam=0.1,
            epochs=30,
            batch_size=batch(256),
            random_state=random_state,
            verbose=verbose,
        ),
    }
    if name not in makers:
        raise CrossviewError(f"unknown mapper {name!r}; expected one of {', '.join(makers)}")
    return makers[name]()


MAPPERS = ("procrustes", "ridge", "rcsls", "cca", "mlp", "mlp-naive", "corrnet")
#: mappers scored by their translation into the target space (``predict``) rather than by
#: their shared space (``transform`` / ``transform_y``)
TRANSLATE = ("corrnet",)


def normalize_space(vectors: np.ndarray) -> np.ndarray:
    """Unit length, centring, unit length over all rows of one space (float32)."""
    out, _ = fit_normalization(np.asarray(vectors, dtype=np.float64), _STEPS)
    return out.astype(np.float32)


@dataclass
class MapResult:
    """What :func:`map_spaces` found: coverage, split sizes, one row of scores per mapper."""

    coverage: dict
    split_sizes: dict
    rows: list[dict] = field(default_factory=list)
    models: dict = field(default_factory=dict)
    #: the normalised source and target spaces the models were fitted in
    normalized: tuple = ()
    #: the train / validation / test alignments
    splits: tuple = ()

    def best(self, split: str = "val", metric: str = "csls_p@1", among=None) -> str:
        """The mapper with the highest ``metric`` on ``split`` (restricted to ``among``)."""
        rows = [r for r in self.rows if among is None or r["method"] in among]
        if not rows:
            raise CrossviewError("no mapper results to choose from")
        return max(rows, key=lambda r: r[f"{split}_{metric}"])["method"]


def evaluate_mapper(
    model,
    S: np.ndarray,
    T: np.ndarray,
    part: Alignment,
    ks=(1, 10, 100),
    csls_pool=None,
    space: str = "shared",
) -> dict:
    """Scores of a fitted mapper on one split: P@k for NN and CSLS, median rank, mean cosine.

    Queries are the split's distinct source rows of ``S``; every row of ``T`` is a candidate;
    CSLS's hubness term for targets uses ``csls_pool`` mapped source rows (default all of S).
    ``space="shared"`` compares ``transform`` of the sources with ``transform_y`` of the
    targets; ``"target"`` compares ``predict`` of the sources with the targets themselves.
    """
    if space not in ("shared", "target"):
        raise CrossviewError(f"space must be 'shared' or 'target'; got {space!r}")
    rows, gold = part.gold()
    to_target = model.predict if space == "target" else model.transform
    Zq = to_target(S[rows])
    Zt = T if space == "target" else model.transform_y(T)
    pool = to_target(S if csls_pool is None else S[csls_pool])
    out = {}
    for method in ("nn", "csls"):
        sc = translation_scores(Zq, Zt, gold, k=ks, method=method, source_pool=pool)
        out.update({f"{method}_{k}": v for k, v in sc.items()})
    return out


def map_spaces(
    source: Embedding,
    target: Embedding,
    pairs,
    *,
    methods=("procrustes", "rcsls"),
    seed_pairs: int | None = None,
    fractions=(0.8, 0.1, 0.1),
    ks=(1, 10, 100),
    csls_pool: int = 200_000,
    random_state=0,
    verbose: bool = True,
) -> MapResult:
    """Fit and score mappers from ``source`` to ``target`` (module docs).

    ``pairs``: (source key, target key) pairs. ``seed_pairs``: fit each mapper by
    self-learning from that many random training pairs (and the whole spaces) instead of all
    training pairs. ``csls_pool``: the first rows of the source space that give CSLS's target
    hubness term. Returns a :class:`MapResult` whose rows hold ``{split}_{nn|csls}_{metric}``.
    """
    from .self_learning import SelfLearningMap

    methods = [methods] if isinstance(methods, str) else list(methods)
    unknown = [m for m in methods if m not in MAPPERS]
    if unknown or not methods:
        raise CrossviewError(
            f"unknown mapper {unknown[0] if unknown else '(none)'!r}; expected some of "
            f"{', '.join(MAPPERS)}"
        )
    al = align(source, target, pairs)
    train, val, test = split_by_source(al, fractions, random_state=random_state)
    result = MapResult(
        coverage=al.coverage(),
        split_sizes={"train": train.n_covered, "val": val.n_covered, "test": test.n_covered},
    )
    logger.info("aligned %d pairs; split %s", al.n_covered, result.split_sizes)
    S, T = normalize_space(source.vectors), normalize_space(target.vectors)
    pool = np.arange(min(int(csls_pool), S.shape[0]))
    X, Y = S[train.source_rows], T[train.target_rows]
    for name in methods:
        n_fit = train.n_covered if seed_pairs is None else int(seed_pairs)
        model = make_mapper(name, S.shape[1], T.shape[1], random_state, verbose, n_fit)
        t0 = time.perf_counter()
        if seed_pairs is None:
            model.fit(X, Y)
        else:
            if int(seed_pairs) < 2 or int(seed_pairs) > train.n_covered:
                raise CrossviewError(
                    f"seed_pairs={seed_pairs} must be between 2 and the {train.n_covered} "
                    "training pairs"
                )
            pick = np.random.default_rng(random_state).choice(
                train.n_covered, int(seed_pairs), replace=False
            )
            seeds = np.stack([train.source_rows[pick], train.target_rows[pick]], axis=1)
            model = SelfLearningMap(mapper=model, random_state=random_state, verbose=verbose)
            model.fit(S, T, seeds)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        row = {"method": name, "fit_s": fit_s}
        for split_name, part in (("val", val), ("test", test)):
            scores = evaluate_mapper(model, S, T, part, ks, pool, _space(name, seed_pairs))
            row.update({f"{split_name}_{k}": v for k, v in scores.items()})
        row["eval_s"] = (time.perf_counter() - t0) / 2
        result.rows.append(row)
        result.models[name] = model
        logger.info("%s: val CSLS P@1 %.3f", name, row["val_csls_p@1"])
    result.normalized = (S, T)
    result.splits = (train, val, test)
    return result


def _space(name: str, seed_pairs) -> str:
    """Where a mapper is scored: its translation (``TRANSLATE``, unless self-learning wraps
    it, which keeps the shared space) or its shared space."""
    return "target" if name in TRANSLATE and seed_pairs is None else "shared"


def mapped_vectors(model, source: Embedding) -> Embedding:
    """Every source key mapped into the target space (normalised like :func:`map_spaces`)."""
    S = normalize_space(source.vectors)
    if not hasattr(model, "predict"):
        Z = model.transform(S)  # shared space (e.g. CCA, self-learning)
    else:
        Z = model.predict(S)
    return Embedding(list(source.keys), np.asarray(Z, dtype=np.float32))


def results_table(result: MapResult, split: str = "test", ks=(1, 10, 100)) -> str:
    """A Markdown table of one split's scores, one row per mapper."""
    head = ["method"]
    for m in ("nn", "csls"):
        head += [f"{m.upper()} P@{k}" for k in ks] + [f"{m.upper()} median rank"]
    head += ["mean cos", "fit s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in result.rows:
        cells = [r["method"]]
        for m in ("nn", "csls"):
            cells += [f"{100 * r[f'{split}_{m}_p@{k}']:.1f}" for k in ks]
            cells.append(f"{r[f'{split}_{m}_median_rank']:.0f}")
        cells += [f"{r[f'{split}_nn_mean_cosine']:.3f}", f"{r['fit_s']:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
