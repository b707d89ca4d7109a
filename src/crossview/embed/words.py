"""Word vectors from a text corpus: skip-gram (gensim) or PPMI + truncated SVD (no extra library).

Both are the "general embedding recipe": a word-context similarity, then a low-rank
factorisation. Skip-gram with negative sampling (Mikolov et al. 2013) implicitly factorises
the word-context PMI matrix shifted by log(negative) (Levy & Goldberg 2014, "Neural word
embedding as implicit matrix factorization", sec. 3); the PPMI route builds that matrix
explicitly from window co-occurrence counts and factorises it with a truncated SVD (Levy,
Goldberg & Dagan 2015, "Improving distributional similarity with lessons learned from word
embeddings": context distribution smoothing 0.75, eigenvalue weighting 0.5).

A corpus is an iterable of sentences, each a list of tokens; the same functions serve random
walks over a graph (:mod:`crossview.embed.nodes`), whose "tokens" are node indices.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..datasets._text import open_text
from ..exceptions import CrossviewError
from .vectors import Embedding

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"[a-z]+")


def tokenize(text: str) -> list[str]:
    """Lower-case ``text`` and return its runs of letters a-z (everything else separates)."""
    return _TOKEN.findall(text.lower())


def read_corpus(path: Path | str) -> list[list[str]]:
    """Read a text file (optionally ``.gz``) as one tokenised sentence per non-empty line."""
    path = Path(path)
    if not path.is_file():
        raise CrossviewError(f"{path}: no such corpus file")
    with open_text(path, path.suffix.lower() == ".gz", errors="replace") as f:
        sentences = [toks for line in f if (toks := tokenize(line))]
    if not sentences:
        raise CrossviewError(f"{path} holds no words (letters a-z); expected a text corpus")
    return sentences


def build_vocabulary(sentences: Iterable[list[str]], min_count: int = 5) -> list[str]:
    """Tokens seen at least ``min_count`` times, most frequent first (ties alphabetical)."""
    counts = Counter(tok for s in sentences for tok in s)
    vocab = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    if not vocab:
        raise CrossviewError(
            f"no token occurs {min_count} or more times; lower min_count or use a larger corpus"
        )
    return vocab


def encode(sentences: Iterable[list[str]], vocab: list[str]) -> np.ndarray:
    """One flat int64 array of token ids with -1 between sentences (and for unknown tokens)."""
    index = {t: i for i, t in enumerate(vocab)}
    out: list[int] = []
    for s in sentences:
        out.extend(index.get(t, -1) for t in s)
        out.append(-1)
    return np.asarray(out, dtype=np.int64)


def cooccurrence(ids: np.ndarray, n_tokens: int, window: int = 5) -> sp.csr_array:
    """Symmetric window co-occurrence counts of a flat id array (-1 separates sentences).

    Pairs up to ``window`` positions apart within a sentence are counted, weighted by
    ``1 / distance`` (word2vec's dynamic window in expectation, Levy et al. 2015, sec. 3.2).
    Unknown tokens (-1) also break the window, as sentence ends do. Vectorised over positions:
    one pass per offset, never a Python loop per token.
    """
    if window < 1:
        raise CrossviewError(f"window must be >= 1; got {window}")
    ids = np.asarray(ids, dtype=np.int64)
    # segment number of each position: a -1 starts a new segment
    seg = np.cumsum(ids < 0)
    rows, cols, vals = [], [], []
    for off in range(1, window + 1):
        a, b = ids[:-off], ids[off:]
        ok = (a >= 0) & (b >= 0) & (seg[:-off] == seg[off:])
        rows.append(a[ok])
        cols.append(b[ok])
        vals.append(np.full(int(ok.sum()), 1.0 / off))
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    M = sp.coo_array((v, (r, c)), shape=(n_tokens, n_tokens)).tocsr()
    return (M + M.T).tocsr()


def ppmi(counts: sp.csr_array, shift: float = 1.0, alpha: float = 0.75) -> sp.csr_array:
    """Positive (shifted) PMI of a co-occurrence matrix, kept sparse.

    ``PPMI(w, c) = max(log(#(w,c) |D| / (#(w) #_alpha(c))) - log(shift), 0)`` with the context
    counts raised to ``alpha`` (context distribution smoothing; Levy et al. 2015, eq. 3) and
    ``shift`` the SGNS-equivalent number of negative samples (Levy & Goldberg 2014, eq. 9).
    """
    C = sp.csr_array(counts, dtype=np.float64)
    C.eliminate_zeros()
    w = np.asarray(C.sum(axis=1)).ravel()
    c = np.asarray(C.sum(axis=0)).ravel() ** alpha
    c_total = c.sum()
    coo = C.tocoo()
    # P(w,c) / (P(w) P_alpha(c)) = #(w,c) sum_c #(c)^alpha / (#(w) #(c)^alpha)
    pmi = np.log(coo.data * c_total / (w[coo.row] * c[coo.col])) - np.log(shift)
    keep = pmi > 0
    out = sp.coo_array((pmi[keep], (coo.row[keep], coo.col[keep])), shape=C.shape)
    return out.tocsr()


def svd_vectors(M: sp.csr_array, dim: int, eig_weight: float = 0.5, random_state=None):
    """Rows of ``U_d S_d^eig_weight`` from a seeded randomised truncated SVD of M."""
    from sklearn.utils.extmath import randomized_svd

    k = min(dim, min(M.shape) - 1)
    if k < 1:
        raise CrossviewError(f"cannot factorise a {M.shape} matrix into {dim} dimensions")
    U, s, _ = randomized_svd(M, k, n_iter=5, random_state=random_state)
    return (U * s**eig_weight).astype(np.float32)


def ppmi_vectors(
    sentences: Iterable[list[str]],
    *,
    dim: int = 300,
    window: int = 5,
    min_count: int = 5,
    shift: float = 1.0,
    alpha: float = 0.75,
    eig_weight: float = 0.5,
    random_state=None,
) -> Embedding:
    """Word vectors from PPMI + truncated SVD of window co-occurrences (module docs)."""
    sentences = list(sentences)
    vocab = build_vocabulary(sentences, min_count)
    counts = cooccurrence(encode(sentences, vocab), len(vocab), window)
    logger.info("PPMI+SVD: %d words, %d co-occurring pairs", len(vocab), counts.nnz)
    vectors = svd_vectors(ppmi(counts, shift, alpha), dim, eig_weight, random_state)
    return Embedding(vocab, vectors)


def skipgram_vectors(
    sentences: Iterable[list[str]],
    *,
    dim: int = 300,
    window: int = 5,
    min_count: int = 5,
    negative: int = 5,
    epochs: int = 5,
    sample: float = 1e-3,
    workers: int | None = None,
    random_state=None,
    verbose: bool = True,
) -> Embedding:
    """Skip-gram with negative sampling through gensim's ``Word2Vec`` (``sg=1``).

    Needs gensim (``pip install 'crossview[embed]'``). ``random_state`` seeds gensim; runs are
    bit-identical only with ``workers=1`` (gensim's threads race otherwise); ``workers=None``
    uses every core. Rows follow gensim's vocabulary order (most frequent first).
    """
    try:
        from gensim.models import Word2Vec
    except ModuleNotFoundError:
        raise CrossviewError(
            "skip-gram vectors need gensim: pip install 'crossview[embed]' (or use the "
            "dependency-free PPMI + SVD route, method='ppmi')"
        ) from None
    sentences = [list(map(str, s)) for s in sentences]
    seed = int(np.random.default_rng(random_state).integers(2**31 - 1))
    model = Word2Vec(
        vector_size=int(dim),
        window=int(window),
        min_count=int(min_count),
        sg=1,
        negative=int(negative),
        sample=float(sample),
        workers=int(workers or os.cpu_count() or 1),
        seed=seed,
    )
    model.build_vocab(sentences)
    if not model.wv.index_to_key:
        raise CrossviewError(
            f"no token occurs {min_count} or more times; lower min_count or use a larger corpus"
        )
    from tqdm.auto import tqdm

    bar = tqdm(total=int(epochs), desc="skip-gram epochs", disable=not verbose)
    for _ in range(int(epochs)):  # one epoch per call so the bar moves; the lr decays linearly
        model.train(
            sentences,
            total_examples=model.corpus_count,
            epochs=1,
            start_alpha=model.alpha - (model.alpha - model.min_alpha) * bar.n / epochs,
            end_alpha=model.alpha - (model.alpha - model.min_alpha) * (bar.n + 1) / epochs,
        )
        bar.update(1)
    bar.close()
    return Embedding(list(model.wv.index_to_key), np.asarray(model.wv.vectors, dtype=np.float32))
