"""Parsers for the text formats of `read_view`: CSV/TSV tables and word2vec/fastText vectors.

Both stream the file and convert rows to numbers in blocks, so a 200,000 x 300 embedding file
never exists as a list of Python strings all at once. Errors name the file and the line.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..exceptions import CrossviewError

#: cells read as missing values (NaN)
NA_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "-nan"})
_BLOCK = 4096  # rows converted to numbers at a time
_LOOK_AHEAD = 100  # rows read before deciding about a header and row names


def open_text(path: Path, gz: bool, errors: str = "strict"):
    """Open a UTF-8 text file (BOM tolerated), transparently gunzipping it when ``gz``."""
    if gz:
        return io.TextIOWrapper(
            gzip.open(path, "rb"), encoding="utf-8-sig", errors=errors, newline=""
        )
    return open(path, encoding="utf-8-sig", errors=errors, newline="")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _numeric_or_na(cell: str) -> bool:
    return cell.strip().lower() in NA_TOKENS or _is_number(cell)


def _is_int(cell: str) -> bool:
    try:
        int(cell)
    except ValueError:
        return False
    return True


def _column_numbers(first: list[str], second: list[str] | None) -> bool:
    """True when ``first`` is 0, 1, ..., d-1 above a row that is not all integers: the header
    pandas writes for a frame built from an array (``DataFrame(a).to_csv(index=False)``)."""
    if second is None or not all(_is_int(c) for c in first):
        return False
    start = int(first[0])
    return (
        start in (0, 1)
        and [int(c) for c in first] == list(range(start, start + len(first)))
        and not all(_is_int(c) for c in second)
    )


class _Blocks:
    """Accumulate rows of number strings and convert them block by block into one array."""

    def __init__(self, path: Path, width: int, dtype, first_column: int = 1):
        self.path, self.width, self.dtype = path, width, dtype
        self.first_column = first_column  # 1-based column of the first number, for messages
        self.rows: list[list[str]] = []
        self.lines: list[int] = []
        self.done: list[np.ndarray] = []

    def add(self, line_no: int, cells: list[str]) -> None:
        if len(cells) != self.width:
            raise CrossviewError(
                f"{self.path}, line {line_no}: {len(cells)} values where earlier lines have "
                f"{self.width} (ragged rows)"
            )
        self.rows.append(cells)
        self.lines.append(line_no)
        if len(self.rows) >= _BLOCK:
            self._flush()

    def _flush(self) -> None:
        if not self.rows:
            return
        try:
            block = np.array(self.rows, dtype=self.dtype)
        except ValueError:
            block = np.empty((len(self.rows), self.width), dtype=self.dtype)
            for r, (line_no, cells) in enumerate(zip(self.lines, self.rows)):
                for c, cell in enumerate(cells):
                    if cell.strip().lower() in NA_TOKENS:
                        block[r, c] = np.nan
                        continue
                    try:
                        block[r, c] = float(cell)
                    except ValueError:
                        raise CrossviewError(
                            f"{self.path}, line {line_no}, column {c + self.first_column}: "
                            f"{cell[:40]!r} is not a number"
                        ) from None
        self.done.append(block)
        self.rows, self.lines = [], []

    def result(self) -> np.ndarray:
        self._flush()
        if not self.done:
            return np.empty((0, self.width), dtype=self.dtype)
        return np.concatenate(self.done, axis=0)


def _guard(path: Path, it: Iterator):
    """Re-raise decoding and decompression errors while iterating as one-line errors."""
    try:
        yield from it
    except UnicodeDecodeError as exc:
        raise CrossviewError(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise CrossviewError(f"{path} is corrupt: cannot decompress it ({exc})") from None
    except csv.Error as exc:
        raise CrossviewError(f"{path} is not a valid delimited text file ({exc})") from None


def read_table(
    path: Path, delimiter: str, gz: bool, allow_1d: bool
) -> tuple[np.ndarray, list[str] | None]:
    """Read a CSV/TSV table of numbers (float64), skipping a header row, taking row names.

    The first row is a header, and is skipped, when it has a non-numeric cell (outside a row-name
    column), starts with an empty cell (as pandas writes above its index), or is exactly
    0, 1, ..., d-1 (or 1, ..., d) above a row of non-integers (pandas column numbers). The first
    column holds row names (returned as vocab) when one of the first rows after the first has a
    non-numeric cell there. Empty and NA cells become NaN. A single column of text is returned
    as 1-D string labels when ``allow_1d``.
    """
    with open_text(path, gz) as f:
        rows = (
            (n, [c.strip() for c in r])
            for n, r in _guard(path, _numbered(csv.reader(f, delimiter=delimiter)))
            if any(r)
        )
        try:
            first_line, first = next(rows)
        except StopIteration:
            raise CrossviewError(f"{path} is empty; expected rows of numbers") from None
        ahead = list(itertools.islice(rows, _LOOK_AHEAD))
        width = len(first)
        if ahead:
            names = any(cells and not _numeric_or_na(cells[0]) for _, cells in ahead)
        else:
            names = width > 1 and not _numeric_or_na(first[0])
        if width == 1 and names:  # one column of text: class labels, not row names
            if not allow_1d:
                raise CrossviewError(
                    f"{path} holds one column of text ({first[0][:40]!r}, ...); expected numbers"
                )
            labels = [first[0]]
            for line_no, cells in _chain(ahead, rows):
                if len(cells) != 1:
                    raise CrossviewError(f"{path}, line {line_no}: {len(cells)} fields; expected 1")
                labels.append(cells[0])
            return np.array(labels), None
        second = ahead[0][1][int(names) :] if ahead else None
        pandas_index = width > 1 and first[0] == "" and all(first[1:])
        header = (
            pandas_index
            or any(not _numeric_or_na(c) for c in first[int(names) :])
            or _column_numbers(first[int(names) :], second)
        )
        names = names or pandas_index
        if header and ahead and len(ahead[0][1]) != width:
            raise CrossviewError(
                f"{path}, line {ahead[0][0]}: {len(ahead[0][1])} fields but the header (line "
                f"{first_line}) has {width} (ragged rows)"
            )
        pending = ([] if header else [(first_line, first)]) + ahead
        if not pending:
            raise CrossviewError(f"{path} has a header row but no data rows")
        data_width = len(pending[0][1]) - int(names)
        if data_width < 1:
            raise CrossviewError(f"{path} has row names but no columns of numbers")
        blocks = _Blocks(path, data_width, np.float64, first_column=1 + int(names))
        vocab: list[str] | None = [] if names else None
        for line_no, cells in _chain(pending, rows):
            if names:
                if len(cells) != data_width + 1:
                    blocks.add(line_no, cells[1:])  # raises the ragged-row error
                vocab.append(cells[0])
                cells = cells[1:]
            blocks.add(line_no, cells)
        return blocks.result(), vocab


def _numbered(reader) -> Iterator[tuple[int, list[str]]]:
    for row in reader:
        yield reader.line_num, row


def _chain(first, rest):
    yield from first
    yield from rest


def read_word2vec(path: Path, gz: bool) -> tuple[np.ndarray, list[str] | None]:
    """Read word2vec / fastText text vectors: optional "n d" header, then "word v1 ... vd" lines.

    Returns float32 vectors (embedding files are large; their values have about 6 digits) and
    the words. Words with spaces (as in some GloVe files) are kept
    whole: the last d fields of a line are the vector. A first line of two integers is the
    header unless the next line is numbers only of another length. When the first lines are
    numbers only (as ``numpy.savetxt`` writes), the file is read as a plain float64 matrix and
    vocab is None. Invalid UTF-8 bytes in words are replaced by U+FFFD.
    """
    with open_text(path, gz, errors="replace") as f:
        lines = (
            (n, line.split()) for n, line in _guard(path, enumerate(f, start=1)) if line.strip()
        )
        try:
            first_line, first = next(lines)
        except StopIteration:
            raise CrossviewError(f"{path} is empty; expected word vectors") from None
        ahead = list(itertools.islice(lines, _LOOK_AHEAD))
        n_header = d = None
        if (
            len(first) == 2
            and all(t.isdigit() for t in first)
            and (
                not ahead
                or not all(_is_number(t) for t in ahead[0][1])
                or len(ahead[0][1]) == int(first[1]) + 1
            )
        ):
            n_header, d = int(first[0]), int(first[1])
            pending = ahead
        else:
            pending = [(first_line, first)] + ahead
        if not pending:
            raise CrossviewError(f"{path} has a header line but no vectors")
        if d is None and all(_is_number(t) for _, tokens in pending for t in tokens):
            blocks = _Blocks(path, len(pending[0][1]), np.float64)
            for line_no, tokens in _chain(pending, lines):
                blocks.add(line_no, tokens)
            return blocks.result(), None
        if d is None:
            d = len(pending[0][1]) - 1
        if d < 1:
            raise CrossviewError(f"{path}, line {pending[0][0]}: a word with no vector values")
        blocks = _Blocks(path, d, np.float32, first_column=2)
        words: list[str] = []
        for line_no, tokens in _chain(pending, lines):
            if len(tokens) < d + 1:
                raise CrossviewError(
                    f"{path}, line {line_no}: {len(tokens) - 1} vector values where the "
                    f"{'header says' if n_header is not None else 'first line has'} {d} "
                    "(ragged rows)"
                )
            words.append(" ".join(tokens[:-d]))
            blocks.add(line_no, tokens[-d:])
        data = blocks.result()
    if n_header is not None and n_header != len(words):
        warnings.warn(
            f"{path}: header says {n_header} words, the file has {len(words)}",
            UserWarning,
            stacklevel=3,
        )
    return data, words
