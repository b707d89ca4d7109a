"""WordNet 3.0: synsets, lemmas, glosses and pointers, read from its database files (wndb(5WN)).

The word -> graph benchmark maps skip-gram vectors of the glosses onto node2vec vectors of the
lexical graph (:meth:`WordNet.gloss_sentences`, :meth:`WordNet.graph`). :func:`load_wordnet`
looks for ``data.{noun,verb,adj,adv}`` and ``index.{noun,verb,adj,adv}`` in ``data_dir``, then
``$CROSSVIEW_DATA``, then the user cache folder (each folder itself or its ``wordnet/`` or
``dict/`` subfolder), checks that they are WordNet 3.0, and can download Princeton's archive.
:func:`read_wordnet` parses the files of one folder without checking which WordNet they are.

Data line format (wndb(5WN)): ``synset_offset lex_filenum ss_type w_cnt word lex_id [word lex_id
...] p_cnt [ptr...] [frames...] | gloss``; ``w_cnt`` and ``lex_id`` are hexadecimal; a pointer
is ``pointer_symbol synset_offset pos source/target`` where ``source/target`` is four hex digits,
``0000`` for a semantic pointer (synset to synset), else the word numbers (1-based) of a lexical
pointer (word to word); verb lines add ``f_cnt + f_num w_num ...`` after the pointers. Lines
starting with two spaces are the licence header.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import http.client
import logging
import os
import re
import shutil
import tarfile
import urllib.request
import zlib
from functools import cached_property
from pathlib import Path, PurePosixPath

import numpy as np
import scipy.sparse as sp

from ..exceptions import CrossviewError
from ..fileio import sha256_file
from .mnist import search_dirs

logger = logging.getLogger(__name__)

#: Princeton's official WordNet 3.0 archive (its ``WordNet-3.0/dict/`` holds the database files)
URL = "https://wordnetcode.princeton.edu/3.0/WordNet-3.0.tar.gz"

#: part of speech letter (as in synset ids) -> file suffix
POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
DATA_FILES = tuple(f"data.{name}" for name in POS_FILES.values())
INDEX_FILES = tuple(f"index.{name}" for name in POS_FILES.values())
EXC_FILES = tuple(f"{name}.exc" for name in POS_FILES.values())
REQUIRED_FILES = DATA_FILES + INDEX_FILES

#: synsets per part of speech in WordNet 3.0 (adjectives include the satellites, ss_type "s")
SYNSET_COUNTS = {"n": 82115, "v": 13767, "a": 18156, "r": 3621}

#: sha256 of the known copy (Debian wordnet-base 1:3.0-37); Princeton's files differ in bytes
SHA256 = {
    "adj.exc": "8824cc24bbedd797b9702316b27f07cd4c2b76b629539f0a1276f03926758016",
    "adv.exc": "e7291461b629abfe63301bbe1998cee09fd575ed7107abd7ea9763adb05bf0a8",
    "data.adj": "c89120dfc1f046ddff4a631bf9b7e9fa1a36b5e86565a23bf82dbe14f30b88a7",
    "data.adv": "444a63bf3955080ab7524f5079cfc07ff9bc682cb98bdb1db73b0fb9829f1139",
    "data.noun": "fea17d2f9656611334eac790e5d69e47645fa180c4aa481fb4cd9b3520754ca2",
    "data.verb": "adcf43e35b581e8036d8b5a52d63d9cd3d3b4870b2720d3c03c799df44777bc2",
    "index.adj": "c9865d7b4d1f805bdef82ccdcea5282436e23083e6f6f1b33e716327c4eda810",
    "index.adv": "6f5465ed5758fe9c8a2f7ec17b1300f3aa875756c70ff7cba162f7e71bcf88ea",
    "index.noun": "a490d99d93d017bf4822fe2f0ffa51fd73911ce271dc7535fade21f8814b5a04",
    "index.verb": "e2ac24816c3a8289dcb72aaa9cf8db81fdf25ec34d792bfc96ac5b7a20c8b4ae",
    "noun.exc": "2b5d675c380b39ecf595af9fa9d4e7feb1d58c643b0bff08c40ed5bfe41fab7a",
    "verb.exc": "dbbcf9a601b2d77e934e413b91d90e88ec7f933a8b77cfc00602a923b891b42c",
}

GRAPH_KINDS = ("lemma-synset", "synset")

_SUBFOLDERS = ("", "wordnet", "dict", "wordnet/dict", "WordNet-3.0/dict")
_SS_TYPES = {"n": ("n",), "v": ("v",), "a": ("a", "s"), "r": ("r",)}
_PTR_POS = {"n": "n", "v": "v", "a": "a", "s": "a", "r": "r"}  # satellites live in data.adj
_ADJ_MARKER = re.compile(r"\((?:a|p|ip)\)$")
_SINGLE_WORD = re.compile(r"^[a-z]+$")
_LOWER_TOKEN = re.compile(r"[a-z]+")
_ANY_CASE_TOKEN = re.compile(r"[A-Za-z]+")
_MAX_MEMBER = 256 << 20  # no file of WordNet is near this; guards against decompression bombs
_DATA_FORMAT = "offset lex_filenum ss_type w_cnt word lex_id ... p_cnt pointers ... | gloss"


class _BadLine(Exception):
    """A data or index line that does not follow wndb(5WN); caught and reported with its line."""


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class Pointers:
    """WordNet's pointers as parallel arrays, one entry per pointer in file order.

    ``source`` and ``target`` are rows of :attr:`WordNet.synsets` (int32); ``symbol`` is the
    pointer symbol (``"@"`` hypernym, ``"!"`` antonym, ``"+"`` derivation, ...; wnpointers);
    ``source_word`` and ``target_word`` are the 1-based word numbers within the two synsets of a
    lexical pointer, and 0 for a semantic pointer (synset to synset).
    """

    source: np.ndarray
    symbol: np.ndarray
    target: np.ndarray
    source_word: np.ndarray
    target_word: np.ndarray

    def __len__(self) -> int:
        """Return the number of pointers."""
        return int(self.source.shape[0])

    @property
    def lexical(self) -> np.ndarray:
        """Return a boolean mask of the lexical pointers (between words, not whole synsets)."""
        return self.source_word > 0

    def __repr__(self) -> str:
        """Describe the pointers by their counts."""
        return f"Pointers({len(self)} pointers, {int(self.lexical.sum())} lexical)"


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class WordNet:
    """WordNet's synsets with their lemmas, glosses and pointers, and the lemma index.

    Row ``i`` of every per-synset list describes synset ``synsets[i]``, an id made of the part of
    speech (``n``, ``v``, ``a``, ``r``; satellite adjectives use ``a`` as they live in
    ``data.adj``) and the 8-digit offset, e.g. ``"n:02084071"``; ``ss_types[i]`` keeps the
    synset type (``s`` for satellites). Synsets come in file order: nouns, verbs, adjectives,
    adverbs. ``lemmas[i]`` are the synset's words, lower-cased, multiword lemmas joined by
    underscores as in the files, adjective markers such as ``(p)`` removed; ``glosses[i]`` is
    the text after ``" | "`` (definition, then quoted examples). ``senses`` maps each lemma of
    the index files to its synset ids, nouns first, then verbs, adjectives and adverbs, each by
    sense number (most frequent first). ``lex_filenums[i]`` is the lexicographer file number
    (lexnames(5WN): 5 is noun.animal, ...); ``pointers`` are described in :class:`Pointers`;
    ``source`` is the folder the files were read from.
    """

    synsets: list[str]
    ss_types: list[str]
    lex_filenums: np.ndarray
    lemmas: list[tuple[str, ...]]
    glosses: list[str]
    pointers: Pointers
    senses: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    source: Path | None = None

    def __len__(self) -> int:
        """Return the number of synsets."""
        return len(self.synsets)

    def __repr__(self) -> str:
        """Describe the database by its counts and the folder it was read from."""
        where = f", from {self.source}" if self.source is not None else ""
        return f"WordNet({len(self)} synsets, {len(self.pointers)} pointers{where})"

    @cached_property
    def synset_rows(self) -> dict[str, int]:
        """Return the row of each synset id in :attr:`synsets`."""
        return {s: i for i, s in enumerate(self.synsets)}

    def synsets_of(self, lemma: str, pos: str | None = None) -> list[str]:
        """Return the synset ids of ``lemma`` from the index files, most frequent sense first.

        ``lemma`` is lower-cased and its spaces become underscores; ``pos`` (``n``, ``v``, ``a``
        or ``r``) keeps one part of speech. An unknown lemma gives an empty list.
        """
        if pos is not None and pos not in POS_FILES:
            raise CrossviewError(f"pos {pos!r} is unknown; expected one of n, v, a, r or None")
        found = self.senses.get(lemma.strip().lower().replace(" ", "_"), ())
        return [s for s in found if pos is None or s[0] == pos]

    def gloss_sentences(
        self, lowercase: bool = True, split_examples: bool = False
    ) -> list[list[str]]:
        """Return the glosses as token lists, one per gloss: runs of letters a-z, split on the rest.

        Punctuation, digits and apostrophes split tokens ("dog's" gives "dog", "s"). With
        ``lowercase`` the text is lower-cased first; otherwise tokens keep their case (runs of
        A-Z and a-z). With ``split_examples`` each gloss is cut at its double quotes, so the
        definition and each quoted example become separate sentences (a definition that quotes
        a word is cut there too). Pieces without any token are left out, so the list is not
        aligned with :attr:`synsets`.
        """
        pattern = _LOWER_TOKEN if lowercase else _ANY_CASE_TOKEN
        out: list[list[str]] = []
        for gloss in self.glosses:
            text = gloss.lower() if lowercase else gloss
            for piece in text.split('"') if split_examples else (text,):
                tokens = pattern.findall(piece)
                if tokens:
                    out.append(tokens)
        return out

    def single_word_lemmas(self) -> list[str]:
        """Return the distinct lemmas made of letters a-z only (no "_", "-", digits), sorted."""
        return sorted({w for words in self.lemmas for w in words if _SINGLE_WORD.match(w)})

    def counts(self) -> dict[str, int]:
        """Return the sizes that identify the database: synsets per part of speech, pointers,
        lexical pointers, distinct lemmas, single-word lemmas and a-z gloss tokens."""
        out = {f"synsets_{pos}": n for pos, n in self._synset_counts().items()}
        out["pointers"] = len(self.pointers)
        out["lexical_pointers"] = int(self.pointers.lexical.sum())
        out["lemmas"] = len({w for words in self.lemmas for w in words})
        out["single_word_lemmas"] = len(self.single_word_lemmas())
        out["gloss_tokens"] = sum(len(s) for s in self.gloss_sentences())
        return out

    def _synset_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(POS_FILES, 0)
        for s in self.synsets:
            counts[s[0]] += 1
        return counts

    def graph(self, kind: str = "lemma-synset") -> tuple[list[str], sp.csr_array]:
        """Return the node keys and the symmetric 0/1 adjacency (``csr_array``, float64) of a graph.

        ``kind="lemma-synset"``: nodes are the synsets (keyed by id, e.g. ``"n:02084071"``, in
        :attr:`synsets` order) followed by every distinct lemma (keyed by the plain lemma, e.g.
        ``"dog"``, sorted; one node for a lemma of several parts of speech). Edges: each lemma to
        the synsets it belongs to; each semantic pointer between its two synsets; each lexical
        pointer (antonymy, derivation, pertainymy, ...) between the two lemmas it joins.
        ``kind="synset"``: the synsets only, an edge for every pointer, lexical pointers joining
        the synsets of their two words. Edges are undirected and unweighted (1.0, however many
        pointers join a pair); self-loops (e.g. derivation between "dog" the noun and "dog" the
        verb) are dropped.
        """
        if kind not in GRAPH_KINDS:
            raise CrossviewError(
                f"graph kind {kind!r} is unknown; expected one of {', '.join(GRAPH_KINDS)}"
            )
        p = self.pointers
        n_syn = len(self.synsets)
        if kind == "synset":
            return list(self.synsets), _symmetric(p.source, p.target, n_syn)
        vocab = sorted({w for words in self.lemmas for w in words})
        clash = set(vocab) & set(self.synset_rows)
        if clash:
            raise CrossviewError(
                f"lemma {sorted(clash)[0]!r} is spelled like a synset id; graph keys would clash"
            )
        node = {w: n_syn + i for i, w in enumerate(vocab)}
        n_words = np.fromiter((len(ws) for ws in self.lemmas), np.int64, n_syn)
        first_word = np.concatenate([[0], np.cumsum(n_words)[:-1]])
        word_node = np.fromiter(
            (node[w] for ws in self.lemmas for w in ws), np.int64, int(n_words.sum())
        )
        member = np.repeat(np.arange(n_syn, dtype=np.int64), n_words)
        lex = p.lexical
        lex_rows = word_node[first_word[p.source[lex]] + p.source_word[lex] - 1]
        lex_cols = word_node[first_word[p.target[lex]] + p.target_word[lex] - 1]
        rows = np.concatenate([member, p.source[~lex], lex_rows])
        cols = np.concatenate([word_node, p.target[~lex], lex_cols])
        return list(self.synsets) + vocab, _symmetric(rows, cols, n_syn + len(vocab))


def _symmetric(rows: np.ndarray, cols: np.ndarray, n: int) -> sp.csr_array:
    """Return the symmetric 0/1 CSR adjacency of the undirected edges (rows[k], cols[k])."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    keep = rows != cols
    r = np.concatenate([rows[keep], cols[keep]])
    c = np.concatenate([cols[keep], rows[keep]])
    adj = sp.coo_array((np.ones(r.size), (r, c)), shape=(n, n)).tocsr()
    adj.sum_duplicates()
    adj.data[:] = 1.0
    return adj


def _number(token: str, base: int, what: str) -> int:
    """Return ``int(token, base)``; a bad token raises _BadLine naming what it should be."""
    try:
        return int(token, base)
    except ValueError:
        kind = "hexadecimal" if base == 16 else "decimal"
        raise _BadLine(f"{what} {token!r} is not a {kind} number") from None


def _hex4(token: str) -> int:
    """Return a pointer's source/target field (4 hex digits) as a number, -1 when malformed."""
    if len(token) != 4:
        return -1
    try:
        return int(token, 16)
    except ValueError:
        return -1


class _PointerColumns:
    """The raw pointer fields of all data lines, collected as columns and checked at the end."""

    def __init__(self) -> None:
        self.symbol: list[str] = []
        self.offset: list[str] = []
        self.pos: list[str] = []
        self.words: list[str] = []
        self.per_synset: list[int] = []

    def add(self, fields: list[str]) -> None:
        self.symbol.extend(fields[0::4])
        self.offset.extend(fields[1::4])
        self.pos.extend(fields[2::4])
        self.words.extend(fields[3::4])
        self.per_synset.append(len(fields) // 4)


def _parse_data_line(line: str, pos: str, pointers: _PointerColumns) -> tuple:
    """Parse one data line; add its pointer fields to ``pointers``; return its synset fields.

    Pointer fields are checked later, all at once, by :func:`_resolve_pointers`.
    """
    head, sep, gloss = line.partition(" | ")
    if not sep:
        raise _BadLine("no ' | ' before the gloss")
    f = head.split()
    if len(f) < 6:
        raise _BadLine(f"{len(f)} fields before the gloss; expected at least 6")
    offset = f[0]
    if len(offset) != 8 or not offset.isdigit():
        raise _BadLine(f"synset offset {offset!r} is not an 8-digit number")
    lex_filenum = _number(f[1], 10, "lex_filenum")
    ss_type = f[2]
    if ss_type not in _SS_TYPES[pos]:
        raise _BadLine(
            f"synset type {ss_type!r} in data.{POS_FILES[pos]}; expected "
            f"{' or '.join(repr(t) for t in _SS_TYPES[pos])}"
        )
    w_cnt = _number(f[3], 16, "word count (w_cnt)")
    if w_cnt < 1:
        raise _BadLine("word count (w_cnt) is 0; a synset has at least one word")
    end = 4 + 2 * w_cnt
    if len(f) < end + 1:
        raise _BadLine(f"the line ends within its {w_cnt} words (w_cnt {f[3]!r}) or before p_cnt")
    words = f[4:end:2]
    if pos == "a":
        words = [_ADJ_MARKER.sub("", w) for w in words]
    p_cnt = _number(f[end], 10, "pointer count (p_cnt)")
    i = end + 1 + 4 * p_cnt
    if len(f) < i:
        raise _BadLine(f"the line ends within its {p_cnt} pointers (p_cnt {f[end]!r})")
    pointers.add(f[end + 1 : i])
    if pos == "v" and i < len(f):
        f_cnt = _number(f[i], 10, "frame count (f_cnt)")
        frames = f[i + 1 : i + 1 + 3 * f_cnt]
        if len(frames) != 3 * f_cnt:
            raise _BadLine(f"the line ends within its {f_cnt} verb frames")
        for plus, f_num, w_num in zip(frames[::3], frames[1::3], frames[2::3]):
            _number(f_num, 10, "frame number")
            if plus != "+" or _number(w_num, 16, "frame word number") > w_cnt:
                raise _BadLine(f"bad verb frame {plus} {f_num} {w_num}; expected '+ f_num w_num'")
        i += 1 + 3 * f_cnt
    if i != len(f):
        raise _BadLine(f"{len(f) - i} unexpected field(s) {' '.join(f[i : i + 3])!r} before ' | '")
    return pos + ":" + offset, ss_type, lex_filenum, tuple(map(str.lower, words)), gloss.strip()


def _lines(path: Path):
    """Yield (line number, line) of a WordNet file, skipping the licence header and blank lines."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line_no, line in enumerate(f, start=1):
                if line.startswith("  ") or not line.strip():
                    continue
                yield line_no, line.rstrip("\n")
    except OSError as exc:
        raise CrossviewError(f"cannot read {path} ({exc.strerror or exc})") from None


def read_wordnet(folder: Path | str, *, verbose: bool = False) -> WordNet:
    """Parse the WordNet database files in ``folder``, of any WordNet version or size.

    Needs ``data.{noun,verb,adj,adv}`` and ``index.{noun,verb,adj,adv}``. A line that does not
    follow wndb(5WN), a duplicate synset, or a pointer or index entry naming a synset (or word)
    that is not in the data files raises :class:`CrossviewError` naming the file and the line.
    Does not check that the files are WordNet 3.0 (:func:`load_wordnet` does).
    """
    folder = Path(folder).expanduser()
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise CrossviewError(
            f"{folder} lacks {', '.join(missing)}; expected WordNet's data.* and index.* files"
        )
    with _gc_paused():
        return _read_folder(folder, verbose)


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector: parsing makes millions of objects and no cycles, and
    the collector's repeated passes over them would take a third of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_folder(folder: Path, verbose: bool) -> WordNet:
    """Parse the data files, then the index files, of ``folder`` (see :func:`read_wordnet`)."""
    from tqdm.auto import tqdm

    synsets, ss_types, lex_filenums, lemmas, glosses = [], [], [], [], []
    origin: list[tuple[Path, int]] = []  # (file, line) of each synset, for messages
    columns = _PointerColumns()
    for pos, name in tqdm(
        list(POS_FILES.items()), desc="reading WordNet", disable=not verbose, leave=False
    ):
        path = folder / f"data.{name}"
        for line_no, line in _lines(path):
            try:
                sid, ss_type, lex, words, gloss = _parse_data_line(line, pos, columns)
            except _BadLine as exc:
                raise CrossviewError(
                    f"{path}, line {line_no}: {exc}; expected '{_DATA_FORMAT}' (wndb(5WN))"
                ) from None
            synsets.append(sid)
            ss_types.append(ss_type)
            lex_filenums.append(lex)
            lemmas.append(words)
            glosses.append(gloss)
            origin.append((path, line_no))
    rows: dict[str, int] = {}
    for i, sid in enumerate(synsets):
        if rows.setdefault(sid, i) != i:
            path, line_no = origin[i]
            first = origin[rows[sid]][1]
            raise CrossviewError(f"{path}, line {line_no}: synset {sid} repeats line {first}")
    return WordNet(
        synsets=synsets,
        ss_types=ss_types,
        lex_filenums=np.asarray(lex_filenums, dtype=np.int16),
        lemmas=lemmas,
        glosses=glosses,
        pointers=_resolve_pointers(columns, rows, lemmas, origin),
        senses=_read_index(folder, rows),
        source=folder,
    )


def _resolve_pointers(
    columns: _PointerColumns,
    rows: dict[str, int],
    lemmas: list[tuple[str, ...]],
    origin: list[tuple[Path, int]],
) -> Pointers:
    """Check the collected pointer fields and turn them into :class:`Pointers` (synset rows)."""
    n = len(columns.symbol)
    source = np.repeat(np.arange(len(lemmas), dtype=np.int64), columns.per_synset)
    n_words = np.fromiter((len(ws) for ws in lemmas), np.int64, len(lemmas))
    target = np.fromiter(
        (rows.get(_PTR_POS.get(p, "?") + ":" + o, -1) for p, o in zip(columns.pos, columns.offset)),
        np.int64,
        n,
    )
    st = np.fromiter(map(_hex4, columns.words), np.int64, n)
    sw, tw = st >> 8, st & 0xFF
    problems = [
        (st < 0, "source/target {w!r} is not 4 hexadecimal digits"),
        ((sw == 0) != (tw == 0), "source/target {w!r} is neither 0000 nor two word numbers"),
        (sw > n_words[source], "source/target {w!r}: the synset has no word {sw}"),
        (target < 0, "target {o} {p} is not a synset of the data files"),
        (tw > n_words[np.maximum(target, 0)], "target {o} {p} has no word {tw}"),
    ]
    for bad, message in problems:
        if bad.any():
            k = int(np.argmax(bad))
            path, line_no = origin[source[k]]
            detail = message.format(
                w=columns.words[k], sw=sw[k], tw=tw[k], o=columns.offset[k], p=columns.pos[k]
            )
            raise CrossviewError(f"{path}, line {line_no}: pointer {columns.symbol[k]!r} {detail}")
    return Pointers(
        source=source.astype(np.int32),
        symbol=np.asarray(columns.symbol, dtype="<U2"),
        target=target.astype(np.int32),
        source_word=sw.astype(np.int16),
        target_word=tw.astype(np.int16),
    )


def _read_index(folder: Path, rows: dict[str, int]) -> dict[str, tuple[str, ...]]:
    """Read the four index files: lemma -> synset ids (nouns, verbs, adjectives, adverbs)."""
    senses: dict[str, tuple[str, ...]] = {}
    for pos, name in POS_FILES.items():
        path = folder / f"index.{name}"
        prefix = pos + ":"
        for line_no, line in _lines(path):
            f = line.split()
            try:
                if len(f) < 6:
                    raise _BadLine(f"{len(f)} fields; expected at least 6")
                if f[1] != pos:
                    raise _BadLine(f"part of speech {f[1]!r}; expected {pos!r}")
                n_synsets = _number(f[2], 10, "synset_cnt")
                offsets = f[6 + _number(f[3], 10, "p_cnt") :]
                if len(offsets) != n_synsets:
                    raise _BadLine(f"{len(offsets)} synset offsets where synset_cnt is {n_synsets}")
                ids = tuple([prefix + o for o in offsets])
                for sid in ids:
                    if sid not in rows:
                        raise _BadLine(f"synset offset {sid[2:]!r} is not a synset of data.{name}")
            except _BadLine as exc:
                raise CrossviewError(
                    f"{path}, line {line_no}: {exc}; expected 'lemma pos synset_cnt p_cnt "
                    "[ptr_symbol...] sense_cnt tagsense_cnt synset_offset...' (wndb(5WN))"
                ) from None
            lemma = f[0].lower()
            senses[lemma] = senses[lemma] + ids if lemma in senses else ids
    return senses


def _check_wordnet30(wn: WordNet, where: object, note: str = "") -> None:
    """Raise unless ``wn`` has WordNet 3.0's synset counts per part of speech."""
    counts = wn._synset_counts()
    if counts != SYNSET_COUNTS:

        def show(c):
            return ", ".join(f"{pos} {c[pos]}" for pos in POS_FILES)

        raise CrossviewError(
            f"{where}: the files are not WordNet 3.0 (synsets {show(counts)}; WordNet 3.0 has "
            f"{show(SYNSET_COUNTS)}{note})"
        )


def _holds_wordnet(folder: Path) -> bool:
    """True when ``folder`` has the data and index files; raise when it has only some of them."""
    present = [name for name in REQUIRED_FILES if (folder / name).is_file()]
    if not any(name.startswith("data.") for name in present):
        return False
    if len(present) < len(REQUIRED_FILES):
        missing = [name for name in REQUIRED_FILES if name not in present]
        raise CrossviewError(
            f"{folder} holds WordNet files but lacks {', '.join(missing)}; expected all of "
            f"{', '.join(REQUIRED_FILES)}"
        )
    return True


def find_wordnet(data_dir: Path | str | None = None) -> Path | None:
    """Return the folder holding WordNet's data.* and index.* files, or None when none does.

    Searches ``data_dir``, ``$CROSSVIEW_DATA`` and the user cache folder, in that order, each
    as given and in its ``wordnet/``, ``dict/``, ``wordnet/dict/`` and ``WordNet-3.0/dict/``
    subfolders. A folder with only some of the files raises :class:`CrossviewError`.
    """
    for base in search_dirs(data_dir):
        for sub in _SUBFOLDERS:
            folder = base / sub if sub else base
            if _holds_wordnet(folder):
                return folder
    return None


def _where_to_put(dirs: list[Path]) -> str:
    return (
        f"put WordNet 3.0's {', '.join(REQUIRED_FILES)} (the dict/ folder of {URL}) in a "
        f"wordnet/ folder in one of: {', '.join(str(d) for d in dirs)}; "
        "or point $CROSSVIEW_DATA at a folder holding them"
    )


def load_wordnet(
    data_dir: Path | str | None = None, *, download: bool = True, verbose: bool = True
) -> WordNet:
    """Find (or download) WordNet 3.0, check it, and return it parsed.

    Looks in the folders of :func:`find_wordnet`. The files pass when their sha256 match the
    known copy (Debian's wordnet-base 3.0) or, failing that (Princeton's own files differ in
    bytes), when they hold WordNet 3.0's synset counts: 82,115 noun, 13,767 verb, 18,156
    adjective and 3,621 adverb synsets; otherwise :class:`CrossviewError`. When no folder has
    the files and ``download`` is true, downloads Princeton's archive into the ``wordnet/``
    subfolder of the first searched folder (:func:`download_wordnet`).
    """
    folder = find_wordnet(data_dir)
    if folder is None:
        dirs = search_dirs(data_dir)
        if not download:
            raise CrossviewError(
                f"WordNet not found (looked in {', '.join(str(d) for d in dirs)} and their "
                f"wordnet/ and dict/ subfolders) and download=False; {_where_to_put(dirs)}, "
                "or pass download=True"
            )
        return _download(dirs[0], URL, verbose)[1]
    logger.info("reading WordNet from %s", folder)
    wn = read_wordnet(folder, verbose=verbose)
    if all(sha256_file(folder / name) == SHA256[name] for name in REQUIRED_FILES):
        logger.info("%s: sha256 of the WordNet files match the known copy", folder)
    else:
        _check_wordnet30(wn, folder, "; their sha256 differ from the known copy too")
        logger.info("%s: sha256 differ from the known copy; WordNet 3.0's counts match", folder)
    return wn


def download_wordnet(dest: Path | str, *, url: str | None = None, verbose: bool = True) -> Path:
    """Download Princeton's WordNet 3.0 archive and extract its database files into dest/wordnet.

    Keeps only ``dict/`` members named ``data.*``, ``index.*`` or ``*.exc`` (regular files, under
    names this function chooses, so no member can write outside the folder) and the archive's
    top-level ``LICENSE``. The files are checked (WordNet 3.0's synset counts) in a staging
    folder beside ``dest/wordnet`` and only then moved there. ``url`` defaults to :data:`URL`.
    Returns the folder; when it already holds the files, downloads nothing.
    """
    dest = Path(dest).expanduser()
    final = dest / "wordnet"
    if _holds_wordnet(final):
        return final
    return _download(dest, URL if url is None else url, verbose)[0]


def _download(dest: Path, url: str, verbose: bool) -> tuple[Path, WordNet]:
    """Download, extract and check the archive at ``url``; return dest/wordnet and its content."""
    final = dest / "wordnet"
    staging = dest / f".wordnet-{os.getpid()}.part"
    try:
        dest.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "wordnet").mkdir(parents=True)
    except OSError as exc:
        raise CrossviewError(f"cannot create the data folder {dest} ({exc})") from None
    try:
        archive = staging / "WordNet-3.0.tar.gz"
        _fetch(url, archive, dest, verbose)
        _extract(archive, staging / "wordnet", url)
        wn = read_wordnet(staging / "wordnet")
        _check_wordnet30(wn, url, "; expected Princeton's WordNet-3.0.tar.gz")
        if not final.exists():  # one atomic rename of the whole folder
            os.replace(staging / "wordnet", final)
        else:  # an empty or unrelated folder: move the files, the data files last
            staged = sorted((staging / "wordnet").iterdir(), key=lambda p: p.name in DATA_FILES)
            for path in staged:
                os.replace(path, final / path.name)
    except OSError as exc:
        raise CrossviewError(f"cannot write WordNet into {final} ({exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("downloaded WordNet 3.0 into %s", final)
    return final, dataclasses.replace(wn, source=final)


def _fetch(url: str, path: Path, dest: Path, verbose: bool) -> None:
    """Stream ``url`` into ``path`` with a progress bar; network errors become CrossviewError."""
    from tqdm.auto import tqdm

    logger.info("downloading %s", url)
    try:
        with open(path, "wb") as out, urllib.request.urlopen(url, timeout=60) as resp:
            total = resp.headers.get("Content-Length") if hasattr(resp, "headers") else None
            with tqdm(
                total=int(total) if total else None,
                unit="B",
                unit_scale=True,
                desc="WordNet-3.0.tar.gz",
                disable=not verbose,
                leave=False,
            ) as bar:
                for block in iter(lambda: resp.read(1 << 16), b""):
                    out.write(block)
                    bar.update(len(block))
    except (OSError, ValueError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise CrossviewError(
            f"could not download WordNet from {url} ({reason}); {_where_to_put(search_dirs(dest))}"
        ) from None


def _wanted(member: tarfile.TarInfo) -> str | None:
    """Return the file name to extract ``member`` to, or None to skip it."""
    parts = PurePosixPath(member.name).parts
    if not member.isfile() or ".." in parts or member.name.startswith("/") or not parts:
        return None
    name = parts[-1]
    in_dict = len(parts) >= 2 and parts[-2] == "dict"
    if in_dict and (name in REQUIRED_FILES or name in EXC_FILES):
        return name
    if name == "LICENSE" and len(parts) <= 2:
        return name
    return None


def _extract(archive: Path, folder: Path, url: str) -> None:
    """Copy the wanted members of the .tar.gz ``archive`` into ``folder`` (fsynced)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = _wanted(member)
                if name is None or (folder / name).exists():
                    continue
                if member.size > _MAX_MEMBER:
                    raise CrossviewError(f"{url}: {member.name} is {member.size} bytes; too big")
                src = tar.extractfile(member)
                with open(folder / name, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                    out.flush()
                    os.fsync(out.fileno())
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise CrossviewError(f"{url} is not a readable .tar.gz archive ({exc})") from None
    except OSError as exc:  # a bad gzip stream, or a failed write
        raise CrossviewError(f"cannot extract {url} into {folder} ({exc})") from None
    missing = [name for name in REQUIRED_FILES if not (folder / name).is_file()]
    if missing:
        raise CrossviewError(
            f"{url}: the archive lacks dict/{', dict/'.join(missing)} (as regular files); "
            "expected Princeton's WordNet-3.0.tar.gz"
        )


__all__ = [
    "WordNet",
    "Pointers",
    "load_wordnet",
    "read_wordnet",
    "find_wordnet",
    "download_wordnet",
    "URL",
    "SYNSET_COUNTS",
    "SHA256",
]
