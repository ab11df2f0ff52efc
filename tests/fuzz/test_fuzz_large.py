"""Enormous single lines and decompression bombs: read whole up to the bound, rejected past it,
never a hang, never gigabytes of memory.

A value of 16 MiB in every format comes back intact; a capture record longer than the head
the format is sniffed from is still recognised. Past :data:`MAX_LINE_BYTES` (64 MiB) a line
rejects the file as ``line_too_long``, and a CSV header longer than the 1 MiB head as well:
before that bound, a 190 KB gzip upload inflating to one 200 MB line took 1.7 GB and 7 s to
read (past profile_batch's 1,536 MB: the function was killed, retried, and the event went to
the dead-letter queue). The bombs run in a child process so that its peak memory is theirs.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fuzz_support import fuzz_settings, read
from hypothesis import given
from hypothesis import strategies as st

from driftline.errors import InvalidInputError
from driftline.io import CaptureColumns, open_table
from driftline.io.source import MAX_HEAD_BYTES, MAX_LINE_BYTES, LineTooLong, bounded_lines

MIB = 1024 * 1024
BIG = "v" * (16 * MIB)
CORE = Path(__file__).resolve().parents[2] / "layers" / "core"


def test_a_csv_value_of_16_mib_is_read_whole() -> None:
    data = f"id,text,n\n1,short,1\n2,{BIG},2\n3,short,3\n".encode()
    result = read(data, name="big.csv", chunk_rows=2)
    assert result.error is None and result.rows == 3
    assert len(result.frame()["text"].iloc[1]) == len(BIG)


def test_a_json_lines_string_of_16_mib_is_read_whole() -> None:
    data = (json.dumps({"n": 1}) + "\n" + json.dumps({"n": 2, "text": BIG}) + "\n").encode()
    result = read(data, name="big.jsonl")
    assert result.error is None and result.rows == 2
    assert len(result.frame()["text"].iloc[1]) == len(BIG)


def test_a_parquet_value_of_16_mib_is_read_whole() -> None:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"text": ["a", BIG, "c"]}), buffer)
    result = read(buffer.getvalue(), name="big.parquet")
    assert result.error is None and result.rows == 3
    assert len(result.frame()["text"].iloc[1]) == len(BIG)


def test_a_capture_record_longer_than_the_sniffed_head_is_still_capture() -> None:
    # GIVEN one request of 120,000 rows: its line (about 3 MiB) is longer than the 1 MiB head
    rows = 120_000
    csv_text = "".join(f"{i},{i % 7}\n" for i in range(rows))
    record = {
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                              "data": base64.b64encode(csv_text.encode()).decode(),
                              "encoding": "BASE64"},
            "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                               "data": json.dumps({"predictions": [0.5] * rows}),
                               "encoding": "JSON"},
        },
        "eventMetadata": {"eventId": "big"},
    }  # fmt: skip
    line = json.dumps(record) + "\n"
    assert len(line) > MAX_HEAD_BYTES
    # WHEN read by content alone THEN it is capture, every row with its own id
    columns = CaptureColumns(inputs=("x", "y"), outputs=("score",))
    result = read(line.encode(), name="upload", chunk_rows=50_000, capture=columns)
    assert result.format == "capture" and result.rows == rows
    frame = result.frame()
    assert frame["id"].iloc[-1] == f"big#{rows - 1}"
    assert frame["x"].iloc[-1] == rows - 1 and frame["y"].iloc[-1] == (rows - 1) % 7


def test_a_ground_truth_label_of_2_mib_is_kept() -> None:
    label = "L" * (2 * MIB)
    record = {"groundTruthData": {"data": label, "encoding": "CSV"},
              "eventMetadata": {"eventId": "e1"}}  # fmt: skip
    result = read((json.dumps(record) + "\n").encode(), name="truth.jsonl")
    assert result.format == "ground_truth" and result.rows == 1
    assert result.frame()["label"].iloc[0] == label


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [("long.csv", "id,text\n1,{long}\n", 2), ("long.jsonl", '{{"text": "{long}"}}\n', 1)],
)
def test_a_line_past_the_bound_rejects_the_file_naming_the_line(
    name: str, text: str, line: int
) -> None:
    # GIVEN a line of 5,000 bytes: fine under the default bound, too long under 4,096
    data = text.format(long="x" * 5000).encode()
    assert read(data, name=name).rows == 1
    # WHEN read with the smaller bound THEN the file is rejected, naming the line
    with pytest.raises(InvalidInputError) as raised:
        list(open_table(data, name=name, max_line_bytes=4096))
    assert raised.value.reason == "line_too_long"
    assert raised.value.details == {"file": name, "line": line, "limit_bytes": 4096}


BOMBS = textwrap.dedent(
    """
    import gzip, json, resource, sys, tempfile, time
    from pathlib import Path
    from driftline.errors import DriftlineError
    from driftline.io import open_table

    def bomb(path, head, body_byte, size, tail):
        with gzip.open(path, "wb", compresslevel=1) as out:
            out.write(head)
            block = body_byte * (1024 * 1024)
            for _ in range(size // len(block)):
                out.write(block)
            out.write(tail)

    results = {}
    with tempfile.TemporaryDirectory() as folder:
        size = int(sys.argv[1])
        cases = {
            "header.csv.gz": (b"", b"0", size, b""),
            "field.csv.gz": (b"id,text\\n1,", b"x", size, b"\\n"),
            "line.jsonl.gz": (b'{"text": "', b"x", size, b'"}\\n'),
        }
        for name, (head, byte, length, tail) in cases.items():
            path = Path(folder) / name
            bomb(path, head, byte, length, tail)
            started = time.process_time()  # CPU time: a busy machine does not slow it
            try:
                rows = sum(len(frame) for frame in open_table(path, name=name))
                outcome = f"rows {rows}"
            except DriftlineError as error:
                outcome = error.reason
            results[name] = {
                "outcome": outcome,
                "seconds": round(time.process_time() - started, 2),
                "compressed_bytes": path.stat().st_size,
            }
    results["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(results))
    """
)


def test_decompression_bombs_are_rejected_quickly_in_bounded_memory() -> None:
    # GIVEN gzip files of about 100 KB that inflate to one line of 96 MiB (a header, a CSV
    # value, a JSON Lines string), each past the 64 MiB bound
    size = 96 * MIB
    assert size > MAX_LINE_BYTES
    completed = subprocess.run(
        [sys.executable, "-c", BOMBS, str(size)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(CORE), "PATH": ""},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    # WHEN each is read (in a child process) THEN each is rejected in seconds of CPU ...
    for name in ("header.csv.gz", "field.csv.gz", "line.jsonl.gz"):
        assert results[name]["outcome"] == "line_too_long", (name, results[name])
        assert results[name]["seconds"] < 10, (name, results[name])
        assert results[name]["compressed_bytes"] < 2 * MIB
    # ... and the process never held anything like the 1.7 GB it took before the bound.
    # (Peak RSS measured 172 MiB alone and 699 MiB once in a full run on a busy machine, where
    # the kernel's memory management inflates resident pages: the bound leaves room for both.)
    assert results["peak_mib"] < 1024, results


class Trickle(io.RawIOBase):
    """A stream handing out its bytes in chunks of the given sizes (then the rest)."""

    def __init__(self, data: bytes, sizes: list[int]) -> None:
        self._data = data
        self._sizes = sizes
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = self._sizes.pop(0) if self._sizes else len(buffer)
        chunk = self._data[self._at : self._at + min(size, len(buffer))]
        buffer[: len(chunk)] = chunk
        self._at += len(chunk)
        return len(chunk)


@fuzz_settings(200)
@given(
    lengths=st.lists(st.integers(0, 60), min_size=1, max_size=20),
    limit=st.integers(1, 50),
    crlf=st.booleans(),
    sizes=st.lists(st.integers(1, 40), max_size=30),
)
def test_the_line_bound_raises_at_the_first_line_past_it(
    lengths: list[int], limit: int, crlf: bool, sizes: list[int]
) -> None:
    # GIVEN lines of any length, read in chunks of any size
    ending = b"\r\n" if crlf else b"\n"
    data = ending.join(b"x" * n for n in lengths)
    stream = bounded_lines(io.BufferedReader(Trickle(data, sizes), buffer_size=8), limit)
    too_long = [number for number, n in enumerate(lengths, 1) if n > limit]
    # WHEN read to the end THEN the bytes come through unchanged, or the first line past
    # the bound is named
    if not too_long:
        assert stream.read() == data
        return
    with pytest.raises(LineTooLong) as raised:
        stream.read()
    assert raised.value.line == too_long[0]


def test_a_csv_header_longer_than_the_head_is_rejected() -> None:
    header = ",".join(f"column_{i}" for i in range(MAX_HEAD_BYTES // 8)).encode()
    assert len(header) > MAX_HEAD_BYTES
    result = read(header + b"\n" + b"1\n", name="wide.csv")
    assert result.reason == "line_too_long"
    assert result.error is not None and result.error.details["line"] == 1
