"""Fuzzing the CSV reader through open_table: every record of a file is a row or a counted bad
row, values survive as written, and a file that cannot be read is rejected with a reason.

Files are written with the csv module (so that the oracle knows every record), then read
back. What is generated: numbers of every size (ints beyond int64, ``1e400``, 400 digits),
NaN and ±inf spelled several ways, text with delimiters, quotes, non-ASCII and the canary,
records shorter and longer than the header, repeated header names, other delimiters,
truncation, gzip, and bytes that are not UTF-8.
"""

from __future__ import annotations

import csv
import gzip
import io
import math

import pandas as pd
import pytest
from fuzz_support import CANARY, fuzz_settings, missing, read
from hypothesis import assume, given
from hypothesis import strategies as st

from driftline.io.tabular import MISSING_MARKERS

NA_TEXTS = MISSING_MARKERS
NAMES = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789é", min_size=1, max_size=6),
    min_size=1,
    max_size=5,
    unique=True,
)
NUMBER_TEXTS = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.integers(-(2**63), 2**63 - 1).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e400", "-1e400", "9" * 400, "inf", "-inf", "Infinity", "nan", "NaN"]),
)
WORDS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"),
    max_size=10,
)
CELLS = st.one_of(
    NUMBER_TEXTS,
    WORDS,
    st.sampled_from(["", "NA", "null", "True", "false", " 1 ", "1_000", "0x10", '"', CANARY]),
)
# Extra fields beyond the header are never missing values: pandas reads one missing trailing
# field on the first data row as a trailing delimiter (nothing is lost: the field holds no
# value), which is not what is tested here.
EXTRA_CELLS = CELLS.filter(lambda text: text not in NA_TEXTS)


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header and records of 1 to len(header) + 2 fields each."""
    names = draw(NAMES)
    records = []
    for _ in range(draw(st.integers(0, 25))):
        width = draw(st.integers(1, len(names) + 2))
        record = [draw(CELLS) for _ in range(min(width, len(names)))]
        record += [draw(EXTRA_CELLS) for _ in range(width - len(names))]
        records.append(record)
    return names, records


def write_csv(names: list[str], records: list[list[str]], *, terminator: str = "\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=terminator)
    writer.writerow(names)
    writer.writerows(records)
    return buffer.getvalue().encode("utf-8")


def is_blank(record: list[str]) -> bool:
    """A record of one field of only whitespace (quoted or not): pandas skips it like an empty
    line; it holds no data. (One empty field is written as ``""`` and is a row of missing
    values.)"""
    return len(record) == 1 and record[0] != "" and not record[0].strip(" \t\r\n")


def expected_value(text: str | None, dtype_kind: str) -> object:
    """What pandas makes of a cell's text in a column of the given kind (None: missing)."""
    if text is None or text in NA_TEXTS:
        return None
    if dtype_kind == "b":
        return text.strip().lower() == "true"
    if dtype_kind in "iuf":
        return float(text)
    return text


@fuzz_settings(150)
@given(file=csv_files(), chunk_rows=st.integers(1, 9), crlf=st.booleans(), bom=st.booleans())
def test_csv_every_record_is_a_row_or_a_counted_bad_row(
    file: tuple[list[str], list[list[str]]], chunk_rows: int, crlf: bool, bom: bool
) -> None:
    # GIVEN a CSV file whose records have any number of fields, any values
    names, records = file
    data = write_csv(names, records, terminator="\r\n" if crlf else "\n")
    data = b"\xef\xbb\xbf" + data if bom else data
    longer = [i for i, record in enumerate(records) if len(record) > len(names)]

    # WHEN it is read
    result = read(data, name="batch.csv", chunk_rows=chunk_rows)

    # THEN a first data row longer than the header rejects the file (pandas would drop or
    # misplace its extra field) ...
    data_records = [(i, r) for i, r in enumerate(records) if not is_blank(r)]
    if data_records and len(data_records[0][1]) > len(names):
        assert result.reason == "malformed_csv"
        return
    # ... and otherwise every record is a row or a bad row, counted at its line
    assert result.error is None, result.error
    assert result.report is not None
    assert result.bad_rows == len(longer)
    assert [s.line for s in result.report.samples] == [i + 2 for i in longer][:20]
    kept = [(i, r) for i, r in data_records if len(r) <= len(names)]
    assert result.rows == len(kept)
    if not kept:
        return
    # AND every value is what was written, as pandas types it (chunk by chunk: each chunk
    # infers its own column types)
    start = 0
    for frame in result.frames:
        assert list(frame.columns) == names
        chunk = kept[start : start + len(frame)]
        start += len(frame)
        check_values(frame, names, [record for _, record in chunk])


def check_values(frame: pd.DataFrame, names: list[str], records: list[list[str]]) -> None:
    for position, name in enumerate(names):
        column = frame[name]
        kind = column.dtype.kind
        for record, value in zip(records, column.tolist(), strict=True):
            text = record[position] if position < len(record) else None
            expected = expected_value(text, kind)
            if expected is None:
                assert missing(value), (name, text, value)
            elif isinstance(expected, float):
                assert value == expected or math.isclose(value, expected, rel_tol=1e-15), (
                    text,
                    value,
                )
            elif isinstance(value, bool):
                # a column of booleans with missing values is an object column of bools
                assert str(expected).strip().lower() == str(value).lower(), (name, text, value)
            elif isinstance(value, int):
                # pandas reads integers beyond 64 bits into an object column as Python ints
                assert kind == "O" and value == int(str(expected)), (name, text, value)
            else:
                assert value == expected, (name, text, value)


@fuzz_settings(60)
@given(
    names=NAMES,
    records=st.lists(st.lists(st.text(max_size=8), min_size=1, max_size=6), max_size=15),
)
def test_csv_quoted_line_breaks_keep_the_count(names: list[str], records: list[list[str]]) -> None:
    # GIVEN values holding \n, \r and quotes (quoted by the writer), any field counts
    records = [[cell.replace("\x00", "") for cell in record] for record in records]
    # (with "\r\n" as the terminator the writer quotes both \r and \n in values; with "\n"
    # it would leave a bare \r, a line break for every CSV reader)
    data = write_csv(names, records, terminator="\r\n")
    data_records = [r for r in records if not is_blank(r)]
    # A record of one empty field is written as "" and read as a row of missing values;
    # longer records must not end in a missing extra field (see EXTRA_CELLS).
    assume(
        all(
            len(r) <= len(names) or (r[-1] not in NA_TEXTS and r[-1].strip(" \t\r\n"))
            for r in data_records
        )
    )

    # WHEN read
    result = read(data, name="batch.csv")

    # THEN rows and bad rows add up to the records (one record spans several lines)
    if data_records and len(data_records[0]) > len(names):
        assert result.reason == "malformed_csv"
        return
    assert result.error is None, result.error
    assert result.bad_rows == sum(len(r) > len(names) for r in data_records)
    assert result.rows == sum(len(r) <= len(names) for r in data_records)


@fuzz_settings(50)
@given(names=NAMES, repeated=st.data(), rows=st.integers(0, 5))
def test_csv_with_a_repeated_header_name_is_rejected(
    names: list[str], repeated: st.DataObject, rows: int
) -> None:
    # GIVEN a header that names one column twice (pandas would rename the second "x.1")
    twice = repeated.draw(st.sampled_from(names))
    header = [*names, twice]
    records = [[str(i)] * len(header) for i in range(rows)]
    # WHEN read THEN the whole file is rejected, naming the column
    result = read(write_csv(header, records), name="batch.csv")
    assert result.reason == "malformed_csv"
    assert result.error is not None
    assert result.error.details["defect"] == "duplicate_columns"
    assert result.error.details["columns"] == [twice]


@fuzz_settings(60)
@given(
    names=st.lists(
        st.text(alphabet="abcxyz_", min_size=1, max_size=5), min_size=2, max_size=5, unique=True
    ),
    records=st.lists(st.lists(CELLS, min_size=1, max_size=5), min_size=1, max_size=10),
    delimiter=st.sampled_from([";", "\t", "|"]),
)
def test_csv_written_with_another_delimiter_is_rejected(
    names: list[str], records: list[list[str]], delimiter: str
) -> None:
    # GIVEN a file written with semicolons, tabs or pipes
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(names)
    writer.writerows(records)
    # WHEN read THEN it is rejected: its header is one column holding the other delimiter
    # (or, when a value holds a comma, its first row is longer than that one-column header)
    result = read(buffer.getvalue().encode(), name="batch.csv")
    assert result.reason == "malformed_csv", result.frames
    assert result.error is not None
    if not any("," in cell or '"' in cell for record in records for cell in record):
        assert result.error.details["defect"] == "wrong_delimiter"
        assert result.error.details["delimiter"] == delimiter


@fuzz_settings(80)
@given(file=csv_files(), cut=st.floats(0, 1), compress=st.booleans())
def test_csv_cut_short_reads_a_prefix_or_is_rejected(
    file: tuple[list[str], list[list[str]]], cut: float, compress: bool
) -> None:
    # GIVEN a CSV file (maybe gzip-compressed) cut short anywhere
    names, records = file
    whole = write_csv(names, [r[: len(names)] for r in records])
    data = gzip.compress(whole, mtime=0) if compress else whole
    length = int(len(data) * cut)
    truncated = data[:length]
    # WHEN read
    result = read(truncated, name="batch.csv.gz" if compress else "batch.csv")
    # THEN nothing is invented: at most the records written, or a reason
    if length == 0:
        assert result.reason == "empty_file"
    elif compress and 2 <= length < len(data):
        assert result.reason == "corrupt_compression"
    elif result.error is not None:
        assert result.reason in {"malformed_csv", "empty_file", "not_utf8"}
    else:
        assert result.rows + result.bad_rows <= len(records)


@fuzz_settings(60)
@given(
    file=csv_files(),
    position=st.floats(0, 1),
    damage=st.sampled_from(
        [b"\xff", b"\xc3\x28", b"\xe9t\xe9", b"\xa0\xa1", b"\xed\xa0\x80", b"\xf8\x88\x80\x80"]
    ),
    compress=st.booleans(),
)
def test_csv_with_bytes_that_are_not_utf8_is_rejected(
    file: tuple[list[str], list[list[str]]], position: float, damage: bytes, compress: bool
) -> None:
    # GIVEN a CSV file with an invalid UTF-8 sequence anywhere (Latin-1 text, a lone
    # continuation byte, an encoded surrogate, an over-long form)
    names, records = file
    whole = write_csv(names, [r[: len(names)] for r in records])
    at = int(len(whole) * position)
    data = whole[:at] + damage + whole[at:]
    # WHEN read (by name, so no sniffing stops it early)
    result = read(gzip.compress(data) if compress else data, name="batch.csv")
    # THEN the whole file is rejected as not UTF-8
    assert result.reason == "not_utf8"


@pytest.mark.parametrize(
    ("encoding", "text"),
    [("utf-16", "plan,age\nbasic,31\n"), ("cp1252", "plan,age\ncafé,31\n"), ("latin-1", "ä,b\n")],
)
def test_csv_in_another_encoding_is_rejected_as_not_utf8(encoding: str, text: str) -> None:
    for name in ("batch.csv", "upload"):
        assert read(text.encode(encoding), name=name).reason == "not_utf8"


@pytest.mark.parametrize(
    ("data", "reason", "rows"),
    [
        (b"", "empty_file", None),
        (b"\n\n\r\n", "empty_file", None),
        (gzip.compress(b""), "empty_file", None),
        (b"plan,age\n", None, 0),
        (b"plan,age", None, 0),
        (b"\xef\xbb\xbfplan,age\r\n", None, 0),
        (gzip.compress(b"plan,age\n"), None, 0),
        (b"plan,age\n\n\n", None, 0),
    ],
    ids=["empty", "blank-lines", "gzip-of-nothing", "header", "header-no-newline", "bom-crlf",
         "gzip-header", "header-then-blank"],
)  # fmt: skip
def test_csv_empty_and_header_only_files(data: bytes, reason: str | None, rows: int) -> None:
    # GIVEN an empty or header-only file WHEN read THEN rejected as empty, or zero rows
    result = read(data, name="batch.csv")
    assert result.reason == reason
    if reason is None:
        assert (result.rows, result.bad_rows) == (rows, 0)


def test_regression_csv_repeated_and_wrong_delimiter_headers() -> None:
    # Before the fix pandas renamed a repeated "plan" to "plan.1" (its values never
    # profiled) and read a semicolon file as one column (every feature "missing").
    repeated = read(b"plan,age,plan\nbasic,31,pro\n", name="b.csv")
    assert (repeated.reason, repeated.error and repeated.error.details["defect"]) == (
        "malformed_csv",
        "duplicate_columns",
    )
    semicolons = read(b"plan;age\nbasic;31\n", name="b.csv")
    assert semicolons.error is not None
    assert semicolons.error.details == {
        "file": "b.csv",
        "defect": "wrong_delimiter",
        "delimiter": ";",
    }
    # Two empty header names are not a repeated name (pandas calls them "Unnamed: 0", ...)
    unnamed = read(b",,plan\n1,2,basic\n", name="b.csv")
    assert unnamed.error is None and unnamed.rows == 1


def test_regression_a_huge_repeated_column_name_gives_a_short_error() -> None:
    # The error travels into the quarantine reason and an SNS message (256 KB at most):
    # a name of 500,000 characters given twice must not make it 1 MB long.
    name = "n" * 500_000
    result = read(f"{name},{name}\n1,2\n".encode(), name="wide.csv")
    assert result.error is not None and result.reason == "malformed_csv"
    assert len(str(result.error)) < 1_000
    (shown,) = result.error.details["columns"]
    assert len(shown) == 58 and shown.startswith("n" * 40) and "..." in shown


def test_missing_markers_are_pandas_defaults() -> None:
    # The reader restores pandas' own missing-value markers; keep the two lists equal.
    from pandas._libs import parsers

    assert set(parsers.STR_NA_VALUES) == MISSING_MARKERS
