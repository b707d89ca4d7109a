"""WordNet: the wndb parser on a hand-written fragment, errors, search order, the download path
(a local archive only) and the real shared copy (skipped when absent)."""

from __future__ import annotations

import io
import os
import re
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from crossview.datasets import wordnet
from crossview.datasets.wordnet import (
    SYNSET_COUNTS,
    download_wordnet,
    find_wordnet,
    load_wordnet,
    read_wordnet,
)
from crossview.exceptions import CrossviewError

REPO = Path(__file__).resolve().parents[1]
SHARED_WORDNET = Path(
    os.environ.get("CROSSVIEW_TEST_WORDNET", REPO.parent / "shared" / "data" / "wordnet")
)

HEADER = "  1 This software and database is provided under a licence.  \n  2   \n"
FRAGMENT = {
    "data.noun": HEADER
    + "00001000 03 n 01 Entity 0 002 ~ 00002000 n 0000 ~ 00003000 n 0000 | that which exists; "
    '"an entity"  \n'
    "00002000 05 n 02 dog 0 Domestic_Dog 0 003 @ 00001000 n 0000 + 00005000 v 0101 "
    '+ 00005000 v 0201 | a domesticated canid; "the dog barked"; "a dog\'s life"  \n'
    "00003000 10 n 0a a 0 b 0 c 0 d 0 e 0 f 0 g 0 h 0 i 0 j 0 002 @ 00001000 n 0000 "
    "+ 00005000 v 0a02 | ten letters, the last one: j  \n",
    "data.verb": HEADER
    + "00005000 38 v 02 dog 0 chase 1 002 + 00002000 n 0101 + 00003000 n 020a 02 + 08 00 "
    '+ 09 02 | go after with the intent to catch; "The dog chased the cat"  \n',
    "data.adj": HEADER
    + "00007000 00 a 01 hot 0 002 ! 00008000 a 0101 & 00009000 s 0000 | used of physical heat  \n"
    "00008000 00 a 01 cold 0 001 ! 00007000 a 0101 | having a low temperature  \n"
    '00009000 00 s 02 red-hot(a) 0 torrid(ip) 0 001 & 00007000 a 0000 | extremely hot; "a red-hot'
    ' iron"  \n',
    "data.adv": HEADER + "00010000 02 r 01 hotly 0 001 \\ 00007000 a 0101 | in a hot manner  \n",
    "index.noun": HEADER + "a n 1 1 @ 1 0 00003000  \n"
    "dog n 1 2 @ + 1 0 00002000  \n"
    "domestic_dog n 1 2 @ + 1 0 00002000  \n"
    "entity n 1 1 ~ 1 0 00001000  \n",
    "index.verb": HEADER + "chase v 1 1 + 1 0 00005000  \ndog v 1 1 + 1 0 00005000  \n",
    "index.adj": HEADER + "cold a 1 1 ! 1 0 00008000  \nhot a 1 2 ! & 1 0 00007000  \n"
    "red-hot a 1 1 & 1 0 00009000  \ntorrid a 1 1 & 1 0 00009000  \n",
    "index.adv": HEADER + "hotly r 1 1 \\ 1 0 00010000  \n",
    "noun.exc": "dogs dog\n",
}
FRAGMENT_COUNTS = {"n": 3, "v": 1, "a": 3, "r": 1}
SYNSETS = ["n:00001000", "n:00002000", "n:00003000", "v:00005000"] + [
    "a:00007000",
    "a:00008000",
    "a:00009000",
    "r:00010000",
]
LETTERS = tuple("abcdefghij")
POINTERS = [
    ("n:00001000", "~", "n:00002000", 0, 0),
    ("n:00001000", "~", "n:00003000", 0, 0),
    ("n:00002000", "@", "n:00001000", 0, 0),
    ("n:00002000", "+", "v:00005000", 1, 1),
    ("n:00002000", "+", "v:00005000", 2, 1),
    ("n:00003000", "@", "n:00001000", 0, 0),
    ("n:00003000", "+", "v:00005000", 10, 2),
    ("v:00005000", "+", "n:00002000", 1, 1),
    ("v:00005000", "+", "n:00003000", 2, 10),
    ("a:00007000", "!", "a:00008000", 1, 1),
    ("a:00007000", "&", "a:00009000", 0, 0),
    ("a:00008000", "!", "a:00007000", 1, 1),
    ("a:00009000", "&", "a:00007000", 0, 0),
    ("r:00010000", "\\", "a:00007000", 1, 1),
]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real cache, no $CROSSVIEW_DATA, and no network for any test in this file."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("CROSSVIEW_DATA", raising=False)
    real_urlopen = urllib.request.urlopen

    def local_only(url, *a, **kw):
        if not str(url).startswith("file:"):
            raise urllib.error.URLError("network disabled in tests")
        return real_urlopen(url, *a, **kw)

    monkeypatch.setattr(urllib.request, "urlopen", local_only)


def write_fragment(folder: Path, replace: dict | None = None, drop=()) -> Path:
    """Write the hand-written fragment into ``folder``; ``replace`` maps file -> (old, new)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in FRAGMENT.items():
        if name in drop:
            continue
        if replace and name in replace:
            old, new = replace[name]
            assert old in text
            text = text.replace(old, new)
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def fragment(tmp_path):
    return write_fragment(tmp_path / "frag")


@pytest.fixture
def fragment_counts(monkeypatch):
    """Make the fragment pass as WordNet 3.0 by its synset counts."""
    monkeypatch.setattr(wordnet, "SYNSET_COUNTS", FRAGMENT_COUNTS)


# --- the parser ---------------------------------------------------------------------------------


def test_fragment_synsets_lemmas_glosses(fragment):
    wn = read_wordnet(fragment)
    assert wn.synsets == SYNSETS
    assert wn.ss_types == ["n", "n", "n", "v", "a", "a", "s", "r"]
    assert wn.lex_filenums.tolist() == [3, 5, 10, 38, 0, 0, 0, 2]
    assert wn.lemmas == [
        ("entity",),
        ("dog", "domestic_dog"),
        LETTERS,  # w_cnt "0a" is hexadecimal: ten words
        ("dog", "chase"),
        ("hot",),
        ("cold",),
        ("red-hot", "torrid"),  # adjective markers (a) and (ip) removed
        ("hotly",),
    ]
    assert wn.glosses[0] == 'that which exists; "an entity"'
    assert wn.glosses[1] == 'a domesticated canid; "the dog barked"; "a dog\'s life"'
    assert wn.glosses[3] == 'go after with the intent to catch; "The dog chased the cat"'
    assert len(wn) == 8 and wn.source == fragment
    assert repr(wn) == f"WordNet(8 synsets, 14 pointers, from {fragment})"


def test_fragment_pointers(fragment):
    wn = read_wordnet(fragment)
    p = wn.pointers
    got = [
        (wn.synsets[s], str(sym), wn.synsets[t], int(sw), int(tw))
        for s, sym, t, sw, tw in zip(p.source, p.symbol, p.target, p.source_word, p.target_word)
    ]
    assert got == POINTERS
    assert len(p) == 14 and p.lexical.sum() == 8
    assert repr(p) == "Pointers(14 pointers, 8 lexical)"


def test_fragment_index_senses(fragment):
    wn = read_wordnet(fragment)
    assert wn.synsets_of("dog") == ["n:00002000", "v:00005000"]
    assert wn.synsets_of("Dog", pos="v") == ["v:00005000"]
    assert wn.synsets_of("domestic dog") == ["n:00002000"]
    assert wn.synsets_of("torrid") == ["a:00009000"]
    assert wn.synsets_of("unknown") == []
    with pytest.raises(CrossviewError, match=r"pos 's' is unknown; expected one of n, v, a, r"):
        wn.synsets_of("hot", pos="s")


def test_fragment_gloss_sentences(fragment):
    wn = read_wordnet(fragment)
    sentences = wn.gloss_sentences()
    assert len(sentences) == 8
    assert sentences[0] == ["that", "which", "exists", "an", "entity"]
    assert sentences[1] == "a domesticated canid the dog barked a dog s life".split()
    assert sentences[3] == "go after with the intent to catch the dog chased the cat".split()
    assert wn.gloss_sentences(lowercase=False)[3][-5:] == ["The", "dog", "chased", "the", "cat"]
    split = wn.gloss_sentences(split_examples=True)
    assert split[:5] == [
        ["that", "which", "exists"],
        ["an", "entity"],
        ["a", "domesticated", "canid"],
        ["the", "dog", "barked"],
        ["a", "dog", "s", "life"],
    ]
    assert all(re.fullmatch("[a-z]+", t) for s in split for t in s)


def test_fragment_single_word_lemmas_and_counts(fragment):
    wn = read_wordnet(fragment)
    expected = sorted(set(LETTERS) | {"entity", "dog", "chase", "hot", "cold", "torrid", "hotly"})
    assert wn.single_word_lemmas() == expected  # no domestic_dog, no red-hot
    counts = wn.counts()
    assert counts == {
        "synsets_n": 3,
        "synsets_v": 1,
        "synsets_a": 3,
        "synsets_r": 1,
        "pointers": 14,
        "lexical_pointers": 8,
        "lemmas": 19,
        "single_word_lemmas": 17,
        "gloss_tokens": sum(len(s) for s in wn.gloss_sentences()),
    }


def edges(keys, adj):
    """The undirected edges of ``adj`` as a set of frozensets of node keys."""
    coo = adj.tocoo()
    return {frozenset((keys[i], keys[j])) for i, j in zip(coo.row, coo.col)}


def test_fragment_lemma_synset_graph(fragment):
    wn = read_wordnet(fragment)
    keys, adj = wn.graph()
    vocab = sorted({w for ws in wn.lemmas for w in ws})
    assert keys == SYNSETS + vocab
    assert adj.shape == (len(keys), len(keys)) and adj.format == "csr"
    assert (adj != adj.T).nnz == 0 and set(adj.data.tolist()) == {1.0}
    assert adj.diagonal().sum() == 0  # the dog (n) -> dog (v) derivation is a self-loop
    n1, n2, n3, v5, a7, a8, a9, r10 = SYNSETS

    def e(a, b):
        return frozenset((a, b))

    membership = {e(s, w) for s, ws in zip(wn.synsets, wn.lemmas) for w in ws}
    semantic = {e(n1, n2), e(n1, n3), e(a7, a9)}
    lexical = {e("domestic_dog", "dog"), e("j", "chase"), e("hot", "cold"), e("hotly", "hot")}
    assert edges(keys, adj) == membership | semantic | lexical


def test_fragment_synset_graph(fragment):
    wn = read_wordnet(fragment)
    keys, adj = wn.graph(kind="synset")
    n1, n2, n3, v5, a7, a8, a9, r10 = SYNSETS
    assert keys == SYNSETS and (adj != adj.T).nnz == 0
    expected = [(n1, n2), (n1, n3), (n2, v5), (n3, v5), (a7, a8), (a7, a9), (r10, a7)]
    assert edges(keys, adj) == {frozenset(pair) for pair in expected}
    with pytest.raises(CrossviewError, match=r"graph kind 'words' is unknown; expected one of"):
        wn.graph(kind="words")


# --- errors -------------------------------------------------------------------------------------

CORRUPT = [
    ("data.verb", ("v 02 dog", "v zz dog"), 3, r"word count \(w_cnt\) 'zz' is not a hexadecimal"),
    ("data.verb", ("| go after", "go after"), 3, r"no ' \| ' before the gloss"),
    ("data.verb", ("00005000 38 v", "00005000 38 n"), 3, r"synset type 'n' in data.verb"),
    ("data.verb", ("+ 09 02 |", "+ 09 03 |"), 3, r"bad verb frame \+ 09 03"),
    ("data.noun", ("j 0 002 @", "j 0 003 @"), 5, r"ends within its 3 pointers"),
    ("data.adj", ("a 0101 | having", "a 0101 x | having"), 4, r"1 unexpected field\(s\) 'x'"),
    ("data.adv", ("\\ 00007000 a 0101", "\\ 00007999 a 0101"), 3, r"target 00007999 a is not a"),
    ("data.adv", ("\\ 00007000 a 0101", "\\ 00007000 a 0105"), 3, r"has no word 5"),
    ("data.adv", ("\\ 00007000 a 0101", "\\ 00007000 a 0100"), 3, r"neither 0000 nor two word"),
    ("data.adv", ("\\ 00007000 a 0101", "\\ 00007000 x 0101"), 3, r"target 00007000 x is not a"),
    ("data.adv", ("\\ 00007000 a 0101", "\\ 00007000 a 01g1"), 3, r"'01g1' is not 4 hexa"),
    ("data.adj", ("00008000 00 a", "00007000 00 a"), 4, r"synset a:00007000 repeats line 3"),
    ("index.noun", ("entity n 1 1 ~ 1 0 00001000", "entity n 1 1 ~ 1 0 00001001"), 6, r"00001001"),
    ("index.verb", ("chase v 1 1", "chase v 2 1"), 3, r"1 synset offsets where synset_cnt is 2"),
]


@pytest.mark.parametrize(("name", "change", "line", "message"), CORRUPT)
def test_corrupt_line_names_file_and_line(tmp_path, name, change, line, message):
    folder = write_fragment(tmp_path / "bad", replace={name: change})
    with pytest.raises(CrossviewError, match=message) as info:
        read_wordnet(folder)
    assert f"{folder / name}, line {line}: " in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_folder_says_where_it_looked(tmp_path):
    nowhere = tmp_path / "nowhere"
    with pytest.raises(CrossviewError, match="WordNet not found") as info:
        load_wordnet(nowhere, download=False)
    message = str(info.value)
    assert str(nowhere) in message and str(tmp_path / "cache" / "crossview") in message
    assert "download=True" in message and wordnet.URL in message and "\n" not in message


def test_folder_with_some_files_names_the_missing_ones(tmp_path):
    folder = write_fragment(tmp_path / "some", drop=("data.adv", "index.verb"))
    with pytest.raises(CrossviewError, match=r"holds WordNet files but lacks data.adv, index.verb"):
        load_wordnet(folder, download=False)
    with pytest.raises(CrossviewError, match=r"lacks data.adv, index.verb"):
        read_wordnet(folder)


def test_files_that_are_not_wordnet30_are_refused(fragment):
    with pytest.raises(CrossviewError, match=r"not WordNet 3.0 \(synsets n 3, v 1, a 3, r 1; "):
        load_wordnet(fragment, download=False)


# --- search order -------------------------------------------------------------------------------


@pytest.mark.parametrize("sub", ["", "wordnet", "dict", "WordNet-3.0/dict"])
def test_data_dir_and_its_subfolders(tmp_path, fragment_counts, sub):
    folder = write_fragment(tmp_path / "data" / sub)
    wn = load_wordnet(tmp_path / "data", download=False, verbose=False)
    assert wn.source == folder and wn.synsets == SYNSETS


def test_search_order_data_dir_then_env_then_cache(tmp_path, monkeypatch, fragment_counts):
    cache = write_fragment(tmp_path / "cache" / "crossview" / "wordnet")
    assert load_wordnet(download=False).source == cache
    env = write_fragment(tmp_path / "env" / "wordnet")
    monkeypatch.setenv("CROSSVIEW_DATA", str(tmp_path / "env"))
    assert load_wordnet(download=False).source == env
    given = write_fragment(tmp_path / "given")
    assert load_wordnet(given, download=False).source == given
    assert find_wordnet(tmp_path / "empty") == env


# --- download (a local archive through a file:// URL) -------------------------------------------


def make_archive(path: Path, files: dict[str, str], extra=()) -> str:
    """Write a .tar.gz laid out like WordNet-3.0.tar.gz; return its file:// URL."""
    with tarfile.open(path, "w:gz") as tar:

        def add(name, text):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        add("WordNet-3.0/LICENSE", "WordNet 3.0 Copyright 2006 by Princeton University.\n")
        add("WordNet-3.0/dict/lexnames", "00 adj.all 3\n")
        for name, text in files.items():
            add(f"WordNet-3.0/dict/{name}", text)
        for member in extra:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                add(*member)
    return path.as_uri()


def evil_members():
    link = tarfile.TarInfo("WordNet-3.0/dict/verb.exc")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return [("../evil.txt", "x"), ("WordNet-3.0/dict/../../adj.exc", "x"), link]


def test_download_extracts_only_the_database_files(tmp_path, monkeypatch, fragment_counts):
    url = make_archive(tmp_path / "wn.tar.gz", FRAGMENT, extra=evil_members())
    monkeypatch.setattr(wordnet, "URL", url)
    wn = load_wordnet(verbose=False)
    final = tmp_path / "cache" / "crossview" / "wordnet"
    assert wn.source == final and wn.synsets == SYNSETS and wn.lemmas[2] == LETTERS
    assert sorted(p.name for p in final.iterdir()) == sorted([*FRAGMENT, "LICENSE"])
    assert not (final / "verb.exc").is_symlink() and not (final / "adj.exc").exists()
    assert not list(tmp_path.rglob("evil.txt"))
    assert [p.name for p in final.parent.iterdir()] == ["wordnet"]  # no staging folder left
    monkeypatch.setattr(wordnet, "URL", "https://example.invalid/never.tar.gz")
    assert load_wordnet(verbose=False).source == final  # found; nothing downloaded
    assert download_wordnet(final.parent, url="https://example.invalid/x") == final


def test_download_into_an_existing_empty_folder(tmp_path, fragment_counts):
    url = make_archive(tmp_path / "wn.tar.gz", FRAGMENT)
    (tmp_path / "dest" / "wordnet").mkdir(parents=True)
    folder = download_wordnet(tmp_path / "dest", url=url, verbose=False)
    assert folder == tmp_path / "dest" / "wordnet"
    wn = read_wordnet(folder)
    assert wn.synsets == SYNSETS and len(wn.pointers) == len(POINTERS)


def test_downloaded_archive_with_wrong_counts_is_refused_and_removed(tmp_path):
    url = make_archive(tmp_path / "wn.tar.gz", FRAGMENT)
    with pytest.raises(CrossviewError, match=r"not WordNet 3.0.*expected Princeton's WordNet-3"):
        download_wordnet(tmp_path / "dest", url=url, verbose=False)
    assert list((tmp_path / "dest").iterdir()) == []


def test_downloaded_archive_lacking_files(tmp_path):
    files = {k: v for k, v in FRAGMENT.items() if k != "data.adv"}
    link = tarfile.TarInfo("WordNet-3.0/dict/data.adv")
    link.type, link.linkname = tarfile.SYMTYPE, "../../data.adv"
    url = make_archive(tmp_path / "wn.tar.gz", files, extra=[link])
    with pytest.raises(CrossviewError, match=r"archive lacks dict/data.adv \(as regular files\)"):
        download_wordnet(tmp_path / "dest", url=url, verbose=False)


def test_download_of_something_else(tmp_path):
    (tmp_path / "page.html").write_text("<html>not found</html>")
    url = (tmp_path / "page.html").as_uri()
    with pytest.raises(CrossviewError, match=r"page.html is not a readable .tar.gz archive"):
        download_wordnet(tmp_path / "dest", url=url, verbose=False)


def test_download_without_network(tmp_path):
    with pytest.raises(CrossviewError, match="could not download WordNet from") as info:
        load_wordnet(tmp_path / "data", verbose=False)
    assert "network disabled" in str(info.value) and str(tmp_path / "data") in str(info.value)


# --- the real shared copy -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    """WordNet 3.0 from the shared copy, found through $CROSSVIEW_DATA; skipped when absent."""
    if not (SHARED_WORDNET / "data.noun").is_file():
        pytest.skip(f"WordNet not found at {SHARED_WORDNET} (set CROSSVIEW_TEST_WORDNET)")
    env = SHARED_WORDNET.parent if SHARED_WORDNET.name in ("wordnet", "dict") else SHARED_WORDNET
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CROSSVIEW_DATA", str(env))
        mp.setenv("XDG_CACHE_HOME", str(SHARED_WORDNET / "no-cache-here"))
        return load_wordnet(download=False, verbose=False)


def test_real_counts(real):
    counts = real.counts()
    assert {pos: counts[f"synsets_{pos}"] for pos in "nvar"} == SYNSET_COUNTS
    assert 370_000 < counts["pointers"] < 385_000  # about 378,000
    assert 75_000 < counts["single_word_lemmas"] < 79_000  # about 77,000
    assert 1_400_000 < counts["gloss_tokens"] < 1_550_000  # about 1.47 million
    assert real.ss_types.count("s") > 10_000 and {s[0] for s in real.synsets} == set("nvar")
    assert not any(w.endswith(")") for ws in real.lemmas for w in ws)  # markers stripped


def test_real_dog(real):
    row = real.synset_rows["n:02084071"]
    assert real.lemmas[row] == ("dog", "domestic_dog", "canis_familiaris")
    assert real.glosses[row].startswith("a member of the genus Canis")
    assert real.synsets_of("dog")[0] == "n:02084071"


def test_real_graphs(real):
    keys, adj = real.graph()
    where = {k: i for i, k in enumerate(keys)}
    assert len(where) == len(keys) == len(real) + len({w for ws in real.lemmas for w in ws})
    assert (adj != adj.T).nnz == 0 and adj.diagonal().sum() == 0
    assert np.all(adj.data == 1.0)
    assert adj[where["dog"], where["n:02084071"]] == 1.0
    assert adj[where["hot"], where["cold"]] == 1.0  # antonymy, a lexical pointer
    assert adj[where["n:02084071"], where["n:02083346"]] == 1.0  # hypernym: canine
    s_keys, s_adj = real.graph(kind="synset")
    assert s_keys == real.synsets and (s_adj != s_adj.T).nnz == 0
    assert s_adj[real.synset_rows["n:02084071"], real.synset_rows["n:02083346"]] == 1.0
