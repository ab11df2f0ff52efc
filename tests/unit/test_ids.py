"""Ids made from content keep the values already stored: the S3 jobs' NUL-joined parts and
the alerts' JSON-framed parts, each cut to the length its caller keeps."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftline.alerts import alert_fingerprint, dedup_key, execution_name
from driftline.ids import digest

KEY = "models/churn/inference/2026/01/01/batch.csv"
ETAG = '"9b2cf535f27731c974343645a3985328"'


def test_nul_framing_gives_the_ids_the_s3_jobs_stored() -> None:
    # GIVEN an upload's key and ETag
    # WHEN they are digested with the defaults (NUL-joined, 24 hex digits)
    # THEN the ids are those the jobs have written since the first release
    assert digest(KEY, ETAG) == "93df223e2afa9cd1c1196bc2"
    assert digest(KEY) == "20d919bfab550964cfe3af31"


def test_json_framing_gives_the_ids_the_alerts_sent() -> None:
    # GIVEN the parts of an alert fingerprint, an execution name and a dedup key
    # THEN the alerts' ids are unchanged (paging tools group on them)
    assert alert_fingerprint("churn", "accuracy-floor", "firing", None) == "022d0675d381490a"
    assert execution_name("churn", "retrain", "5c1f0e9a7d3b2a41").endswith("-ac4c9b7f9a2e")
    expected_key = "fraud:3b070c0c02c9764dd069da3c3e795349:firing"
    assert dedup_key("fraud", "é–" * 70, "firing") == expected_key
    assert digest("fraud", "é–\x00", "x", framing="json", length=32) == (
        "d618c73eeab0c0fb8eba4fcf8f3477de"
    )


@given(st.lists(st.text(), max_size=5), st.integers(1, 64))
def test_each_framing_hashes_the_bytes_it_documents(parts: list[str], length: int) -> None:
    # GIVEN any texts WHEN digested with either framing
    # THEN the id is the SHA-256 of the NUL-joined texts or of their JSON array, cut short
    nul = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:length]
    framed = hashlib.sha256(json.dumps(tuple(parts)).encode("utf-8")).hexdigest()[:length]
    assert digest(*parts, length=length) == nul
    assert digest(*parts, framing="json", length=length) == framed


def test_json_framing_tells_apart_parts_that_nul_joining_cannot() -> None:
    # GIVEN two part lists that differ only in where a NUL falls
    # THEN NUL joining (for keys and ETags, which hold none) gives one id, JSON two
    assert digest("a", "b") == digest("a\x00b")
    assert digest("a", "b", framing="json") != digest("a\x00b", framing="json")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"length": 0}, "length: expected 1 to 64 hex digits, got 0"),
        ({"length": 65}, "length: expected 1 to 64 hex digits, got 65"),
        ({"framing": "csv"}, "framing: expected 'nul' or 'json', got 'csv'"),
    ],
)
def test_a_length_or_framing_out_of_range_is_refused_saying_what_is_allowed(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        digest("x", **kwargs)  # type: ignore[arg-type]
