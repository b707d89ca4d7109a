"""read_view / write_view: every supported format, and a clear one-line error for each bad file."""

import gzip

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from crossview.base import CrossviewError
from crossview.datasets import View, read_view, write_view


@pytest.fixture
def A(rng):
    return rng.normal(size=(6, 3))


def test_npy_roundtrip(tmp_path, A):
    np.save(tmp_path / "a.npy", A)
    view = read_view(tmp_path / "a.npy")
    assert isinstance(view, View) and view.vocab is None
    np.testing.assert_array_equal(view.data, A)


def test_npz_single_and_keyed(tmp_path, A):
    np.savez(tmp_path / "one.npz", codes=A)
    np.testing.assert_array_equal(read_view(tmp_path / "one.npz").data, A)
    np.savez(tmp_path / "two.npz", zx=A, zy=2 * A)
    np.testing.assert_array_equal(read_view(tmp_path / "two.npz", key="zy").data, 2 * A)
    with pytest.raises(CrossviewError, match=r"holds 2 arrays \(zx, zy\); choose one"):
        read_view(tmp_path / "two.npz")
    with pytest.raises(CrossviewError, match=r"no array 'nope'; it holds: zx, zy"):
        read_view(tmp_path / "two.npz", key="nope")
    with pytest.raises(CrossviewError, match="applies only to .npz"):
        np.save(tmp_path / "a.npy", A)
        read_view(tmp_path / "a.npy", key="zx")


def test_csv_plain_header_and_row_names(tmp_path):
    (tmp_path / "plain.csv").write_text("1,2,3\n4,5,6\n")
    v = read_view(tmp_path / "plain.csv")
    assert v.data.tolist() == [[1, 2, 3], [4, 5, 6]] and v.vocab is None
    (tmp_path / "head.csv").write_text("a,b,c\n1,2,3\n\n4,5,6\n")
    assert read_view(tmp_path / "head.csv").data.tolist() == [[1, 2, 3], [4, 5, 6]]
    (tmp_path / "names.csv").write_text("word,x,y\ncat,1,2\ndog,3,4\n")
    v = read_view(tmp_path / "names.csv")
    assert v.data.tolist() == [[1, 2], [3, 4]] and v.vocab == ["cat", "dog"]
    (tmp_path / "names_nohead.csv").write_text('cat,1,2\n"a, b",3,4\n')
    v = read_view(tmp_path / "names_nohead.csv")
    assert v.vocab == ["cat", "a, b"] and v.data.shape == (2, 2)


def test_csv_written_by_pandas_with_index(tmp_path, A):
    pd = pytest.importorskip("pandas")
    pd.DataFrame(A, index=[f"r{i}" for i in range(6)]).to_csv(tmp_path / "p.csv")
    v = read_view(tmp_path / "p.csv")
    np.testing.assert_allclose(v.data, A)
    assert v.vocab == [f"r{i}" for i in range(6)]
    pd.DataFrame(A).to_csv(tmp_path / "noindex.csv", index=False)
    np.testing.assert_allclose(read_view(tmp_path / "noindex.csv").data, A)


def test_numeric_words_among_row_names(tmp_path):
    (tmp_path / "n.csv").write_text("1990,1,2\n2000,3,4\nthe,5,6\n")
    v = read_view(tmp_path / "n.csv")
    assert v.vocab == ["1990", "2000", "the"] and v.data.shape == (3, 2)
    (tmp_path / "n.vec").write_text("1990 1 2\n2000 3 4\nthe 5 6\n")
    v = read_view(tmp_path / "n.vec")
    assert v.vocab == ["1990", "2000", "the"] and v.data.shape == (3, 2)


def test_write_read_roundtrip_of_awkward_first_rows(tmp_path):
    for first in ([0.0, 1.0, 2.0], [3.0, 2.0, 7.0]):
        A = np.array([first, [0.5, 0.25, 0.125]])
        for name in ("a.csv", "a.tsv", "a.txt"):
            write_view(tmp_path / name, A)
            np.testing.assert_array_equal(read_view(tmp_path / name).data, A)
    A = np.array([[5.0], [0.5]])  # "5 1"-like first lines must not become a word2vec header
    write_view(tmp_path / "b.txt", A)
    np.testing.assert_array_equal(read_view(tmp_path / "b.txt").data, A)


def test_integer_first_row_is_data_not_header(tmp_path):
    (tmp_path / "ints.csv").write_text("0,1,2\n3,4,5\n")
    assert read_view(tmp_path / "ints.csv").data.tolist() == [[0, 1, 2], [3, 4, 5]]


def test_csv_missing_cells_become_nan(tmp_path):
    (tmp_path / "na.csv").write_text("1,,3\nNA,5,nan\n")
    data = read_view(tmp_path / "na.csv").data
    assert np.isnan(data).sum() == 3 and data[1, 1] == 5


def test_tsv_and_gzip(tmp_path, A):
    write_view(tmp_path / "a.tsv", A)
    np.testing.assert_array_equal(read_view(tmp_path / "a.tsv").data, A)
    with gzip.open(tmp_path / "a.tsv.gz", "wt") as f:
        f.write((tmp_path / "a.tsv").read_text())
    np.testing.assert_array_equal(read_view(tmp_path / "a.tsv.gz").data, A)


def test_csv_with_vocab_roundtrip(tmp_path, A):
    words = [f"w{i}" for i in range(6)]
    write_view(tmp_path / "a.csv", A, vocab=words)
    v = read_view(tmp_path / "a.csv")
    np.testing.assert_array_equal(v.data, A)
    assert v.vocab == words


def test_word2vec_with_and_without_header(tmp_path):
    (tmp_path / "w.vec").write_text("3 2\nthe 0.1 0.2\nof -1 2e-3\n1990 5 6\n")
    v = read_view(tmp_path / "w.vec")
    assert v.vocab == ["the", "of", "1990"] and v.data.dtype == np.float32
    np.testing.assert_allclose(v.data, [[0.1, 0.2], [-1, 0.002], [5, 6]], rtol=1e-6)
    (tmp_path / "glove.txt").write_text("the 0.1 0.2 0.3\nnew york 1 2 3\n")
    v = read_view(tmp_path / "glove.txt")
    assert v.vocab == ["the", "new york"] and v.data.shape == (2, 3)


def test_word2vec_gzip_and_roundtrip(tmp_path, rng):
    E = rng.normal(size=(5, 4)).astype(np.float32)
    words = ["a", "b", "c", "d", "é"]
    write_view(tmp_path / "e.vec", E, vocab=words)
    assert (tmp_path / "e.vec").read_text().splitlines()[0] == "5 4"
    with gzip.open(tmp_path / "e.vec.gz", "wb") as f:
        f.write((tmp_path / "e.vec").read_bytes())
    for name in ("e.vec", "e.vec.gz"):
        v = read_view(tmp_path / name)
        np.testing.assert_array_equal(v.data, E)
        assert v.vocab == words


def test_word2vec_header_count_mismatch_warns(tmp_path):
    (tmp_path / "w.vec").write_text("10 2\na 1 2\nb 3 4\n")
    with pytest.warns(UserWarning, match="header says 10 words, the file has 2"):
        assert read_view(tmp_path / "w.vec").data.shape == (2, 2)


def test_txt_of_numbers_is_a_plain_matrix(tmp_path, A):
    np.savetxt(tmp_path / "m.txt", A)
    v = read_view(tmp_path / "m.txt")
    assert v.vocab is None
    np.testing.assert_allclose(v.data, A, rtol=1e-6)


def test_parquet_numeric_names_and_list_column(tmp_path, A):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    words = [f"w{i}" for i in range(6)]
    table = pa.table({"word": words, **{f"c{j}": A[:, j] for j in range(3)}})
    pq.write_table(table, tmp_path / "t.parquet")
    v = read_view(tmp_path / "t.parquet")
    np.testing.assert_array_equal(v.data, A)
    assert v.vocab == words
    pq.write_table(pa.table({"emb": [list(r) for r in A]}), tmp_path / "l.parquet")
    np.testing.assert_array_equal(read_view(tmp_path / "l.parquet").data, A)
    pq.write_table(pa.table({"x": A[:, 0], "s": words}), tmp_path / "bad.parquet")
    with pytest.raises(CrossviewError, match="column 's' holds text"):
        read_view(tmp_path / "bad.parquet")


def test_parquet_from_pandas_with_string_index(tmp_path, A):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    df = pd.DataFrame(A, columns=["a", "b", "c"], index=pd.Index(list("uvwxyz"), name="w"))
    df.to_parquet(tmp_path / "p.parquet")
    v = read_view(tmp_path / "p.parquet")
    np.testing.assert_array_equal(v.data, A)
    assert v.vocab == list("uvwxyz")


def test_labels_allow_1d(tmp_path):
    np.save(tmp_path / "l.npy", np.array([0, 1, 1]))
    assert read_view(tmp_path / "l.npy", allow_1d=True).data.tolist() == [0, 1, 1]
    with pytest.raises(CrossviewError, match=r"1-D array of shape \(3,\); expected 2-D"):
        read_view(tmp_path / "l.npy")
    (tmp_path / "l.csv").write_text("cat\ndog\ncat\n")
    assert read_view(tmp_path / "l.csv", allow_1d=True).data.tolist() == ["cat", "dog", "cat"]
    with pytest.raises(CrossviewError, match="one column of text"):
        read_view(tmp_path / "l.csv")


# ---- errors: each one line, naming the file -------------------------------------------------


def _one_line_error(path, **kw) -> str:
    with pytest.raises(CrossviewError) as info:
        read_view(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    return msg


def test_missing_file_and_folder(tmp_path):
    assert "no such file" in _one_line_error(tmp_path / "nope.npy")
    (tmp_path / "dir.npy").mkdir()
    assert "is a folder" in _one_line_error(tmp_path / "dir.npy")


def test_unknown_suffix_lists_supported(tmp_path):
    (tmp_path / "a.xlsx").write_text("x")
    msg = _one_line_error(tmp_path / "a.xlsx")
    assert "unknown file type (.xlsx)" in msg and ".npy" in msg and ".parquet" in msg
    (tmp_path / "a.npy.gz").write_text("x")
    assert "unknown file type (.npy.gz)" in _one_line_error(tmp_path / "a.npy.gz")


def test_corrupt_binary_files(tmp_path):
    (tmp_path / "a.npy").write_text("this is not numpy")
    assert "not a valid .npy file" in _one_line_error(tmp_path / "a.npy")
    np.save(tmp_path / "t.npy", np.arange(100.0).reshape(10, 10))
    (tmp_path / "t.npy").write_bytes((tmp_path / "t.npy").read_bytes()[:200])
    assert "not a valid .npy file" in _one_line_error(tmp_path / "t.npy")
    (tmp_path / "a.npz").write_text("nope")
    assert "not a valid .npz" in _one_line_error(tmp_path / "a.npz")
    (tmp_path / "a.parquet").write_text("nope")
    assert "not a readable Parquet" in _one_line_error(tmp_path / "a.parquet")
    (tmp_path / "a.csv.gz").write_text("not gzip")
    assert "corrupt" in _one_line_error(tmp_path / "a.csv.gz")


def test_pickled_objects_are_refused(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert "never unpickles" in _one_line_error(tmp_path / "o.npy", allow_1d=True)


def test_ragged_rows_name_the_line(tmp_path):
    (tmp_path / "r.csv").write_text("1,2,3\n4,5,6\n7,8\n")
    assert "line 3: 2 values where earlier lines have 3" in _one_line_error(tmp_path / "r.csv")
    (tmp_path / "r.vec").write_text("2 3\na 1 2 3\nb 1 2\n")
    assert "line 3" in _one_line_error(tmp_path / "r.vec")
    (tmp_path / "r.txt").write_text("1 2 3\n4 5\n")
    assert "line 2" in _one_line_error(tmp_path / "r.txt")


def test_non_numeric_cell_names_line_and_column(tmp_path):
    (tmp_path / "n.csv").write_text("1,2\n3,4\n5,abc\n")
    assert "line 3, column 2: 'abc' is not a number" in _one_line_error(tmp_path / "n.csv")
    (tmp_path / "n.vec").write_text("a 1 2\nb 3 x\n")
    assert "line 2, column 3: 'x' is not a number" in _one_line_error(tmp_path / "n.vec")


def test_empty_files(tmp_path):
    for name in ("e.csv", "e.tsv", "e.txt"):
        (tmp_path / name).write_text("\n\n")
        assert "empty" in _one_line_error(tmp_path / name)
    (tmp_path / "h.csv").write_text("a,b\n")
    assert "header row but no data" in _one_line_error(tmp_path / "h.csv")
    np.save(tmp_path / "e.npy", np.empty((0, 3)))
    assert "no data" in _one_line_error(tmp_path / "e.npy")


def test_non_utf8_csv(tmp_path):
    (tmp_path / "b.csv").write_bytes(b"1,2\n\xff\xfe,3\n")
    assert "not UTF-8" in _one_line_error(tmp_path / "b.csv")


def test_write_view_errors(tmp_path, A):
    with pytest.raises(CrossviewError, match="cannot write row names"):
        write_view(tmp_path / "a.npy", A, vocab=list("abcdef"))
    with pytest.raises(CrossviewError, match="need vocab"):
        write_view(tmp_path / "a.vec", A)
    with pytest.raises(CrossviewError, match="row 2 has an empty name"):
        write_view(tmp_path / "a.csv", A, vocab=["a", ""] + list("cdef"))
    with pytest.raises(CrossviewError, match="contains whitespace"):
        write_view(tmp_path / "a.txt", A, vocab=["a b"] + list("bcdef"))
    assert not (tmp_path / "a.txt").exists() and not list(tmp_path.glob("*.part"))
    with pytest.raises(CrossviewError, match="expected a 2-D numeric array"):
        write_view(tmp_path / "a.csv", np.arange(3))


# ---- property: what write_view writes, read_view reads back ------------------------------------

_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
_words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Z", "C")),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), suffix=st.sampled_from([".csv", ".tsv", ".txt"]))
def test_roundtrip_property(tmp_path, data, suffix):
    n, d = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 4))
    A = data.draw(arrays(np.float64, (n, d), elements=_floats | st.integers(-3, 3).map(float)))
    vocab = data.draw(st.none() | st.lists(_words, min_size=n, max_size=n))
    if vocab is not None and suffix != ".txt" and any(_is_numberish(w) for w in vocab):
        vocab = ["w" + w for w in vocab]  # numeric names only are indistinguishable from data
    if vocab is not None and suffix == ".txt" and all(_is_numberish(w) for w in vocab):
        vocab = ["w" + w for w in vocab]
    if vocab is not None and suffix == ".txt":
        A = np.clip(A, -1e38, 1e38)  # word2vec vectors are read as float32
    path = tmp_path / ("p" + suffix)
    write_view(path, A, vocab=vocab)
    v = read_view(path)
    if vocab is not None and suffix == ".txt":
        np.testing.assert_array_equal(v.data, A.astype(np.float32))
    else:
        np.testing.assert_array_equal(v.data, A)
    assert v.vocab == vocab


def _is_numberish(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return word.strip().lower() in {"", "na", "n/a", "nan", "null", "none", "-nan"}
    return True
