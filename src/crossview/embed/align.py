"""Align two keyed embeddings through a dictionary of key pairs, and split it by source key.

A dictionary is a list of (source key, target key) pairs. It may be one-to-many (a word with
several translations, a lemma in several synsets): such pairs stay together, grouped by source
key, so that no source key of the test split is seen in training. The MUSE / VecMap convention
for files: one pair per line, two fields separated by whitespace (or a tab).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..datasets._text import open_text
from ..exceptions import CrossviewError
from ..fileio import write_text
from .vectors import Embedding


def read_dictionary(path: Path | str) -> list[tuple[str, str]]:
    """Read key pairs, one ``source target`` per line (``#`` comments and blank lines skipped).

    A ``.gz`` file is decompressed. Lines with other than two fields raise an error naming the
    file and line; repeated pairs are kept once, in first-seen order.
    """
    path = Path(path)
    if not path.is_file():
        raise CrossviewError(f"{path}: no such dictionary file")
    pairs: dict[tuple[str, str], None] = {}
    with open_text(path, path.suffix.lower() == ".gz") as f:
        for line_no, line in enumerate(f, start=1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            if len(fields) != 2:
                raise CrossviewError(
                    f"{path}, line {line_no}: {len(fields)} fields; expected 'source target'"
                )
            pairs[(fields[0], fields[1])] = None
    if not pairs:
        raise CrossviewError(f"{path} holds no key pairs; expected lines 'source target'")
    return list(pairs)


def write_dictionary(pairs, path: Path | str) -> Path:
    """Write key pairs as ``source<TAB>target`` lines, atomically."""
    return write_text(path, "".join(f"{s}\t{t}\n" for s, t in pairs))


@dataclass(frozen=True)
class Alignment:
    """Dictionary pairs found in both embeddings, as row indices, with coverage counts.

    ``source_rows[i]`` and ``target_rows[i]`` are the rows of pair ``i`` in the source and target
    embeddings. ``n_pairs`` counts the dictionary's pairs, ``n_source_keys`` its distinct source
    keys; the ``*_covered`` counts are those whose keys are in both embeddings.
    """

    source_rows: np.ndarray
    target_rows: np.ndarray
    n_pairs: int
    n_source_keys: int

    @property
    def n_covered(self) -> int:
        """Number of dictionary pairs whose two keys are both in the embeddings."""
        return int(self.source_rows.shape[0])

    @property
    def n_source_keys_covered(self) -> int:
        """Number of distinct source keys with at least one covered pair."""
        return int(np.unique(self.source_rows).shape[0])

    def coverage(self) -> dict[str, float]:
        """Pairs and source keys covered, as counts and fractions of the dictionary."""
        return {
            "pairs": self.n_pairs,
            "pairs_covered": self.n_covered,
            "pair_coverage": self.n_covered / max(self.n_pairs, 1),
            "source_keys": self.n_source_keys,
            "source_keys_covered": self.n_source_keys_covered,
            "source_key_coverage": self.n_source_keys_covered / max(self.n_source_keys, 1),
        }

    def subset(self, mask) -> Alignment:
        """The pairs selected by a boolean mask or index array (coverage counts kept)."""
        return Alignment(
            self.source_rows[mask], self.target_rows[mask], self.n_pairs, self.n_source_keys
        )

    def gold(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """Distinct source rows, and for each the array of its gold target rows."""
        order = np.argsort(self.source_rows, kind="stable")
        src, tgt = self.source_rows[order], self.target_rows[order]
        queries, starts = np.unique(src, return_index=True)
        return queries, np.split(tgt, starts[1:])


def align(source: Embedding, target: Embedding, pairs) -> Alignment:
    """Look the dictionary's keys up in both embeddings; pairs with a missing key are dropped."""
    pairs = list(pairs)
    if not pairs:
        raise CrossviewError("the dictionary is empty; expected (source key, target key) pairs")
    s_idx, t_idx = source.index(), target.index()
    rows = [(s_idx[s], t_idx[t]) for s, t in pairs if s in s_idx and t in t_idx]
    n_source = len({s for s, _ in pairs})
    if not rows:
        ex_s, ex_t = pairs[0]
        raise CrossviewError(
            f"none of the {len(pairs)} dictionary pairs has both keys in the embeddings (e.g. "
            f"{ex_s!r} in source: {ex_s in s_idx}, {ex_t!r} in target: {ex_t in t_idx}); check "
            "that the dictionary's columns are (source, target) and the keys' spelling"
        )
    arr = np.asarray(rows, dtype=np.int64)
    return Alignment(arr[:, 0], arr[:, 1], len(pairs), n_source)


def split_by_source(
    alignment: Alignment, fractions=(0.8, 0.1, 0.1), random_state=None
) -> tuple[Alignment, ...]:
    """Split the pairs into parts by source key (all pairs of a key in one part), seeded.

    ``fractions`` (summing to 1) give each part's share of the distinct source keys; e.g.
    (0.8, 0.1, 0.1) for train / validation / test. Every part gets at least one key.
    """
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.ndim != 1 or fr.size < 2 or np.any(fr <= 0) or abs(fr.sum() - 1) > 1e-6:
        raise CrossviewError(
            f"fractions must be two or more positive numbers summing to 1; got {fractions!r}"
        )
    keys = np.unique(alignment.source_rows)
    if keys.size < fr.size:
        raise CrossviewError(
            f"cannot split {keys.size} source keys into {fr.size} parts; expected at least one "
            "key per part"
        )
    keys = np.random.default_rng(random_state).permutation(keys)
    sizes = np.maximum(np.floor(fr * keys.size).astype(np.int64), 1)
    sizes[0] += keys.size - sizes.sum()  # rounding goes to the first (training) part
    part_of = np.repeat(np.arange(fr.size), sizes)
    lookup = dict(zip(keys.tolist(), part_of.tolist()))
    which = np.fromiter((lookup[r] for r in alignment.source_rows.tolist()), dtype=np.int64)
    return tuple(alignment.subset(which == i) for i in range(fr.size))
