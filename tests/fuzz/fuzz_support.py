"""What the fuzz tests share: how many examples to run, a guard against hangs, and reading a
file to the end while checking every reader's contract.

(A plain module rather than conftest.py so that the tests can import its names.)

Budget: the default run of ``tests/fuzz`` takes well under a minute. ``DRIFTLINE_FUZZ=long``
multiplies every test's examples by :data:`LONG_FACTOR` for a deeper search (minutes)::

    DRIFTLINE_FUZZ=long python -m pytest -q tests/fuzz -p no:randomly --hypothesis-show-statistics
"""

from __future__ import annotations

import faulthandler
import json
import math
import os
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings

from driftline.errors import DriftlineError
from driftline.io import CaptureColumns, ReadReport, TableSource, open_table
from driftline.io.report import MAX_SAMPLES

FUZZ_ENV = "DRIFTLINE_FUZZ"
LONG = os.environ.get(FUZZ_ENV, "").strip().lower() == "long"
LONG_FACTOR = 20
#: How long one example may take before it counts as a hang (readers of a few KB take ms).
EXAMPLE_SECONDS = 10.0
#: Reason codes are short snake_case words, never the base class's generic one.
REASON = re.compile(r"[a-z][a-z0-9_]{2,40}")
#: A value that must never appear in an error message, a rejected row's reason or a log.
CANARY = "CANARY-7f3a9c"


def fuzz_settings(examples: int) -> settings:
    """Hypothesis settings for ``examples`` examples (times LONG_FACTOR in a long run)."""
    return settings(
        max_examples=examples * (LONG_FACTOR if LONG else 1),
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
            HealthCheck.filter_too_much,
        ],
    )


class Hang(Exception):
    """The code under test ran past its time limit."""


@contextmanager
def no_hang(seconds: float, what: str) -> Iterator[None]:
    """Fail the block with :class:`Hang` after ``seconds``; kill the process after 4x.

    The alarm interrupts Python code; a loop stuck inside C code never returns to the
    interpreter, so a watchdog thread dumps every thread's traceback and exits instead
    (the run fails loudly rather than waiting forever).
    """

    def alarm(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"{what} took more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(seconds * 4, exit=True)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Read:
    """What reading one file to the end gave: frames and report, or the error."""

    name: str
    frames: list[pd.DataFrame] = field(default_factory=list)
    report: ReadReport | None = None
    format: str | None = None
    error: DriftlineError | None = None

    @property
    def rows(self) -> int:
        return sum(len(frame) for frame in self.frames)

    @property
    def bad_rows(self) -> int:
        return self.report.bad_rows if self.report is not None else 0

    @property
    def reason(self) -> str | None:
        return self.error.reason if self.error is not None else None

    def frame(self) -> pd.DataFrame:
        """Every row read, as one frame."""
        return pd.concat(self.frames) if self.frames else pd.DataFrame()


def read(
    source: TableSource,
    *,
    name: str,
    chunk_rows: int = 7,
    capture: CaptureColumns | None = None,
    format: Any = "auto",
    parquet_engine: Any = "auto",
    seconds: float = EXAMPLE_SECONDS,
) -> Read:
    """Open and read a file to the end under :func:`no_hang`, checking the reader contract.

    A :class:`~driftline.errors.DriftlineError` is returned (after checking that it carries
    a reason code and names the file); any other exception propagates and fails the test.
    """
    with no_hang(seconds, f"reading {name}"):
        try:
            reader = open_table(
                source,
                name=name,
                chunk_rows=chunk_rows,
                capture=capture,
                format=format,
                parquet_engine=parquet_engine,
            )
            frames = list(reader)
        except DriftlineError as error:
            check_error(error, name)
            return Read(name, error=error)
    check_report(frames, reader.report, chunk_rows)
    return Read(name, frames, reader.report, reader.format)


def check_error(error: DriftlineError, name: str) -> None:
    """A rejection is machine-readable: a specific reason code, the file named, JSON details."""
    assert REASON.fullmatch(error.reason), error.reason
    assert error.reason != DriftlineError.reason
    assert error.details.get("file") == name
    assert name in str(error)
    document = json.loads(json.dumps(error.to_dict()))
    assert document["reason"] == error.reason
    assert CANARY not in str(error) and CANARY not in json.dumps(error.to_dict())


def check_report(frames: list[pd.DataFrame], report: ReadReport, chunk_rows: int) -> None:
    """Frames and report agree: every row yielded is counted, every rejected row too."""
    assert all(1 <= len(frame) <= chunk_rows for frame in frames)
    assert sum(len(frame) for frame in frames) == report.rows
    position = 0
    for frame in frames:
        assert frame.index.tolist() == list(range(position, position + len(frame)))
        assert not frame.columns.duplicated().any(), list(frame.columns)
        position += len(frame)
    assert report.bad_rows >= 0
    assert len(report.samples) == min(report.bad_rows, MAX_SAMPLES)
    for sample in report.samples:
        assert sample.line is None or sample.line >= 1
        assert CANARY not in sample.reason
    json.dumps(report.to_dict())


def missing(value: Any) -> bool:
    """None, NaN, NaT and pandas' NA all mean "no value"."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def same_value(read_value: Any, written: Any) -> bool:
    """A value read back equals the one written, up to the reader's type inference.

    Numbers compare by value (a column of ints and floats is float64, so very large ints
    compare within float precision); missing values agree with each other.
    """
    if isinstance(read_value, np.generic):
        read_value = read_value.item()
    if missing(written) or missing(read_value):
        return missing(written) and missing(read_value)
    if isinstance(written, bool) or isinstance(read_value, bool):
        return bool(read_value) == bool(written) and type(read_value) is type(written)
    if isinstance(written, int | float) and isinstance(read_value, int | float):
        if isinstance(written, int) and isinstance(read_value, int):
            return read_value == written
        left, right = float(read_value), float(written)
        return left == right or math.isclose(left, right, rel_tol=1e-15)
    return bool(read_value == written)
