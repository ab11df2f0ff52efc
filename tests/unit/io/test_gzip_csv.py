"""GzipCsvWriter: chunks written as they come read back as their pd.concat would."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.io.gzip_csv import GzipCsvWriter

POOL = ("id", "score", "plan", "flag", "note")


def concatenated(chunks: list[pd.DataFrame]) -> bytes:
    """What profile_batch stored before it streamed: the chunks concatenated, then written."""
    rows = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    return gzip.compress(rows.to_csv(index=False).encode(), compresslevel=1, mtime=0)


def streamed(chunks: list[pd.DataFrame]) -> bytes:
    writer = GzipCsvWriter()
    for chunk in chunks:
        writer.write(chunk)
    return writer.finish()


def read_back(data: bytes) -> pd.DataFrame:
    """As the label join reads a rows file (driftline.aws.jobs.labels.read_rows)."""
    return pd.read_csv(io.BytesIO(data), compression="gzip")


def test_chunks_of_the_same_columns_give_the_bytes_of_the_concatenated_file() -> None:
    # GIVEN three chunks of a CSV file (same columns, same types)
    rng = np.random.default_rng(3)
    chunks = [
        pd.DataFrame(
            {
                "id": np.arange(start, start + 1000),
                "score": rng.random(1000).round(6),
                "plan": rng.choice(["basic", "pro, annual", 'say "hi"'], 1000),
            }
        )
        for start in (0, 1000, 2000)
    ]
    # WHEN written chunk by chunk
    data = streamed(chunks)
    # THEN the content is byte for byte the file the concatenated frame gives
    assert gzip.decompress(data) == gzip.decompress(concatenated(chunks))


def test_a_column_that_appears_later_is_added_to_the_header_and_missing_before() -> None:
    # GIVEN JSON Lines chunks whose columns differ (the label arrives in the second chunk,
    # the score is missing from it)
    chunks = [
        pd.DataFrame({"id": [1, 2], "score": [0.5, 0.25]}),
        pd.DataFrame({"id": [3], "label": ["yes"]}),
    ]
    # WHEN written chunk by chunk
    data = streamed(chunks)
    # THEN the header has every column in order of first appearance, and reading it gives
    # the concatenated frame
    assert gzip.decompress(data).splitlines()[0] == b"id,score,label"
    frame = read_back(data)
    pd.testing.assert_frame_equal(frame, read_back(concatenated(chunks)))
    assert frame["label"].isna().tolist() == [True, True, False]
    assert frame["score"].isna().tolist() == [False, False, True]


def test_no_chunk_gives_what_an_empty_frame_gave() -> None:
    assert gzip.decompress(streamed([])) == gzip.decompress(concatenated([])) == b"\n"


def test_a_row_missing_every_value_of_a_one_column_chunk_is_kept() -> None:
    # GIVEN a chunk of one column whose second row is missing (a blank line would drop it)
    chunks = [pd.DataFrame({"id": [1.0, np.nan, 3.0]}), pd.DataFrame({"id": [4.0], "x": [1]})]
    # WHEN written and read back THEN four rows, as concatenated
    frame = read_back(streamed(chunks))
    assert len(frame) == 4
    pd.testing.assert_frame_equal(frame, read_back(concatenated(chunks)))


def test_writing_after_finish_is_refused() -> None:
    writer = GzipCsvWriter()
    writer.finish()
    with pytest.raises(ValueError):
        writer.write(pd.DataFrame({"a": [1]}))


@st.composite
def chunked_files(draw: st.DrawFn) -> list[pd.DataFrame]:
    """Chunks of one file as a reader yields them: each with some of the file's columns in
    some order; a column holds numbers (integers in one chunk, floats with missing values in
    another), text with delimiters, quotes and missing values, or booleans."""
    kinds = {column: draw(st.sampled_from(["number", "text", "bool"])) for column in POOL}
    chunks = []
    for _ in range(draw(st.integers(0, 5))):
        columns = draw(st.lists(st.sampled_from(POOL), min_size=1, max_size=5, unique=True))
        rows = draw(st.integers(1, 6))
        data: dict[str, list[object]] = {}
        for column in columns:
            values: st.SearchStrategy[object]
            if kinds[column] == "number":
                values = draw(
                    st.sampled_from(
                        [
                            st.integers(-(2**62), 2**62),
                            st.one_of(st.none(), st.floats(-1e9, 1e9, allow_nan=False)),
                        ]
                    )
                )
            elif kinds[column] == "text":
                # a letter first: text that reads as a number or a missing value is not text
                values = st.one_of(
                    st.none(), st.from_regex(r'[a-z][a-z0-9 ,"]{0,6}', fullmatch=True)
                )
            else:
                values = st.booleans()
            data[column] = draw(st.lists(values, min_size=rows, max_size=rows))
        chunks.append(pd.DataFrame(data))
    return chunks


@settings(max_examples=200, deadline=None)
@given(chunks=chunked_files())
def test_any_chunks_of_a_file_read_back_as_their_concatenation(
    chunks: list[pd.DataFrame],
) -> None:
    # GIVEN chunks whose columns, order, types and missing values differ from one to the next
    # WHEN written chunk by chunk and read back as the label join reads it
    data = streamed(chunks)
    # THEN the frame is the one the concatenated file gives
    if not chunks:
        assert gzip.decompress(data) == b"\n"
        return
    pd.testing.assert_frame_equal(read_back(data), read_back(concatenated(chunks)))
