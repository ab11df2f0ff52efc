"""Fuzzing the JSON Lines reader through open_table: every non-blank line is a row or a
counted bad row at its line number, and a row holds exactly what its object held.

Generated: nested objects (flattened to dotted names), arrays, NaN and ±Infinity tokens,
integers far beyond 64 bits (and beyond Python's 4,300-digit limit), unpaired surrogate
escapes, lines that are not JSON or not objects, blank lines, CRLF endings, a byte-order
mark, gzip, truncation, and bytes that are not UTF-8.
"""

from __future__ import annotations

import gzip
import json
import math
from typing import Any

import pytest
from fuzz_support import CANARY, fuzz_settings, missing, read, same_value
from hypothesis import given
from hypothesis import strategies as st

KEYS = st.text(alphabet="abcxyz._ é", min_size=1, max_size=4)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**40), 10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    st.just(CANARY),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3),
    max_leaves=8,
)
OBJECTS = st.dictionaries(KEYS, VALUES, max_size=5)
NOT_OBJECTS = st.one_of(SCALARS, st.lists(VALUES, max_size=3))
INVALID = st.one_of(
    st.sampled_from(
        ['{"a": 1', "{'a': 1}", "{a: 1}", "not json", '{"a": 1}}', '{"a": tru}', "{,}", "}"]
    ),
    st.just('{"a": ' + "9" * 5000 + "}"),  # an int past Python's digit limit
    st.just("[" * 100_000),  # nesting past the recursion limit
)
LINES = st.one_of(
    OBJECTS.map(lambda record: ("object", record)),
    NOT_OBJECTS.map(lambda value: ("value", value)),
    INVALID.map(lambda text: ("invalid", text)),
    st.sampled_from(["", "   ", "\t"]).map(lambda text: ("blank", text)),
)


def flattened(record: dict[str, Any]) -> dict[str, Any]:
    """The row an object should become: nested non-empty objects as dotted names."""
    row: dict[str, Any] = {}

    def walk(prefix: str, value: dict[str, Any]) -> None:
        for key, item in value.items():
            if isinstance(item, dict) and item:
                walk(f"{prefix}{key}.", item)
            else:
                row[f"{prefix}{key}"] = item

    walk("", record)
    return row


def same_json(read_value: Any, written: Any) -> bool:
    """Equal JSON values, NaN equal to NaN and numbers compared as the reader types them."""
    if isinstance(written, list):
        return (
            isinstance(read_value, list)
            and len(read_value) == len(written)
            and all(same_json(r, w) for r, w in zip(read_value, written, strict=True))
        )
    if isinstance(written, dict):
        return (
            isinstance(read_value, dict)
            and read_value.keys() == written.keys()
            and all(same_json(read_value[k], written[k]) for k in written)
        )
    if isinstance(written, float) and math.isnan(written):
        return missing(read_value)
    return same_value(read_value, written)


def to_text(kind: str, value: Any) -> str:
    if kind in ("invalid", "blank"):
        return str(value)
    return json.dumps(value)  # NaN and Infinity as JavaScript spells them


@fuzz_settings(150)
@given(
    lines=st.lists(LINES, max_size=25),
    chunk_rows=st.integers(1, 9),
    layout=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
)
def test_jsonl_every_line_is_a_row_or_a_counted_bad_row(
    lines: list[tuple[str, Any]], chunk_rows: int, layout: tuple[bool, bool, bool, bool]
) -> None:
    # GIVEN JSON Lines mixing objects, other JSON values, invalid lines and blank lines,
    # with CRLF or LF endings, maybe a byte-order mark, gzip, a final newline
    crlf, bom, compress, final_newline = layout
    ending = "\r\n" if crlf else "\n"
    text = ending.join(to_text(kind, value) for kind, value in lines)
    data = text.encode("utf-8") + (ending.encode() if final_newline else b"")
    data = b"\xef\xbb\xbf" + data if bom else data
    data = gzip.compress(data, mtime=0) if compress else data

    # WHEN read
    result = read(data, name="batch.jsonl", chunk_rows=chunk_rows)

    # THEN a file of nothing but blank lines is empty ...
    if all(kind == "blank" for kind, _ in lines):
        assert result.reason == "empty_file"
        return
    # ... and otherwise each object line is a row, each other non-blank line a bad row
    assert result.error is None, result.error
    assert result.report is not None
    bad_lines = [n for n, (kind, _) in enumerate(lines, 1) if kind in ("value", "invalid")]
    objects = [flattened(value) for kind, value in lines if kind == "object"]
    assert result.bad_rows == len(bad_lines)
    assert [sample.line for sample in result.report.samples] == bad_lines[:20]
    assert result.rows == len(objects)
    # AND each row holds exactly its object's values, missing where it had no such key
    start = 0
    for frame in result.frames:
        for offset, row in enumerate(frame.to_dict("records")):
            expected = objects[start + offset]
            assert set(expected) <= set(row)
            for column, value in row.items():
                if column in expected:
                    assert same_json(value, expected[column]), (column, value, expected[column])
                else:
                    assert missing(value), (column, value)
        start += len(frame)


@fuzz_settings(60)
@given(
    lines=st.lists(
        st.one_of(
            OBJECTS.map(json.dumps),
            st.sampled_from(['{"a": "\\ud800"}', '{"\\udfff": 1}', '{"a": ["\\udbff"]}']),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_jsonl_unpaired_surrogates_are_rows_or_counted_bad_rows(lines: list[str]) -> None:
    # GIVEN objects, some spelling an unpaired surrogate (valid JSON, not valid Unicode)
    data = ("\n".join(lines) + "\n").encode()
    # WHEN read THEN each line is a row or a bad row, never an error
    result = read(data, name="batch.jsonl", chunk_rows=4)
    assert result.error is None
    assert result.rows + result.bad_rows == len(lines)


@fuzz_settings(60)
@given(lines=st.lists(OBJECTS, min_size=1, max_size=10), cut=st.floats(0, 1))
def test_jsonl_cut_short_loses_at_most_the_last_line(
    lines: list[dict[str, Any]], cut: float
) -> None:
    # GIVEN JSON Lines cut short anywhere
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    truncated = data[: int(len(data) * cut)]
    # WHEN read
    result = read(truncated, name="batch.jsonl")
    # THEN complete lines are rows and a cut line is one bad row (or nothing, or the file
    # is empty); a cut inside a multi-byte character of the last line is not UTF-8
    if not truncated.strip():
        assert result.reason == "empty_file"
        return
    if result.reason == "not_utf8":
        assert truncated.decode("utf-8", errors="ignore") != truncated.decode(
            "utf-8", errors="replace"
        )
        return
    complete = truncated.count(b"\n")
    assert result.error is None
    assert result.rows >= complete
    assert result.rows + result.bad_rows <= complete + 1


@fuzz_settings(40)
@given(
    lines=st.lists(OBJECTS, min_size=1, max_size=8),
    line=st.integers(0, 7),
    damage=st.sampled_from([b"\xff", b"\xc3\x28", b"\xe9", b"\xed\xa0\x80"]),
)
def test_jsonl_line_that_is_not_utf8_rejects_the_file_naming_the_line(
    lines: list[dict[str, Any]], line: int, damage: bytes
) -> None:
    # GIVEN one line holding bytes that are not UTF-8 inside a string value
    encoded = [json.dumps(record).encode() for record in lines]
    target = line % len(encoded)
    encoded[target] = b'{"text": "' + damage + b'"}'
    # WHEN read THEN the file is rejected as not UTF-8, the line in the details
    result = read(b"\n".join(encoded) + b"\n", name="batch.jsonl")
    assert result.reason == "not_utf8"
    assert result.error is not None
    if target > 0:  # a damaged first line is caught while sniffing, before line numbers
        assert result.error.details["line"] == target + 1


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b'[{"a": 1}, {"a": 2}]', "batch.json", "unknown_format"),
        (b'[{"a": 1}]\n', "upload", "unknown_format"),
        (b"\n \n\t\n", "batch.jsonl", "empty_file"),
        ('{"a": "é"}\n'.encode("utf-16"), "batch.jsonl", "not_utf8"),
        ('{"a": "é"}\n'.encode("utf-16"), "upload", "not_utf8"),
    ],
    ids=["array-document", "array-unnamed", "blank", "utf16-named", "utf16-unnamed"],
)
def test_jsonl_files_that_are_not_json_lines_are_rejected(
    data: bytes, name: str, reason: str
) -> None:
    assert read(data, name=name).reason == reason
