"""The stored profile format: version 4 round-trips; version 1 (error slices as a mapping
of key to figures), version 2 (numeric columns as KLL sketches) and version 3 (no score
cells), as stored in users' buckets before, still load to the same figures; a profile
without the counts of scores outside [0, 1] loads without them."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from driftline.errors import InvalidInputError
from driftline.profile.dataset import PROFILE_VERSION, DatasetProfile, Reference
from driftline.profile.kll_format import kll_rank_error, kll_to_sketch
from driftline.profile.numeric import NumericProfile
from driftline.profile.performance import SliceCells
from driftline.profile.score_range import OutOfRangeScores

#: Written by the code of commit dcaba3f (profile version 1): a labelled batch of 120 rows,
#: one numeric and one categorical feature, a segment column and hour-of-day slices.
VERSION_1 = Path(__file__).parent / "data" / "labelled_profile_v1.json"
#: Written by the code of commit 127f4f4 (profile version 2): a reference of 6,000 rows,
#: "small" (300 integers 0-6, the rest missing: a KLL sketch that never compacted) and
#: "large" (6,000 lognormal values: a KLL sketch, k = 1000, that compacted), in 2 chunks.
VERSION_2 = Path(__file__).parent / "data" / "reference_v2_kll.json"


def without_numeric_values(document: dict[str, Any]) -> dict[str, Any]:
    """The document with each numeric column's sample (version 2: ``sketch``) left out,
    overall and per segment."""
    columns = {
        name: {k: v for k, v in column.items() if k not in ("sketch", "values")}
        for name, column in document["columns"].items()
    }
    segments = {
        key: without_numeric_values(body) for key, body in document.get("segments", {}).items()
    }
    return {**document, "columns": columns, "segments": segments}


def stored_v1() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(VERSION_1.read_text(encoding="utf-8"))["profile"]
    return document


def test_a_version_1_profile_loads_to_the_same_profile() -> None:
    # GIVEN a profile stored by version 1 WHEN it is loaded and written again
    old = stored_v1()
    assert old["version"] == 1
    profile = DatasetProfile.from_dict(old)
    new = profile.to_dict()
    # THEN every figure is the same: the slices cell by cell, in the same order
    assert profile.slices is not None
    expected = {
        key: (int(n), float(s), float(q)) for key, (n, s, q) in old["slices"]["cells"].items()
    }
    assert list(profile.slices.cells.items()) == list(expected.items())
    assert list(profile.slices.total) == old["slices"]["total"]
    # AND the rest of the document is unchanged but for the version, the slices' form and
    # the numeric columns' samples (compared in the version 2 test)
    assert new["version"] == PROFILE_VERSION == 4
    kept = ("version", "slices")
    assert {k: v for k, v in without_numeric_values(new).items() if k not in kept} == {
        k: v for k, v in without_numeric_values(old).items() if k not in kept
    }
    for name, column in old["columns"].items():
        if column["kind"] == "numeric":
            stored = kll_to_sketch(base64.b64decode(column["sketch"])).sample()
            sample = profile.columns[name].sample()
            assert sample.values.tolist() == stored.values.tolist()
            assert sample.weights.tolist() == stored.weights.tolist()


def test_a_version_2_reference_loads_with_its_kll_sketches_read() -> None:
    # GIVEN a reference stored by version 2 (numeric columns as KLL sketches)
    document = json.loads(VERSION_2.read_text(encoding="utf-8"))
    assert document["profile"]["version"] == 2
    # WHEN it is loaded
    reference = Reference.from_dict(document)
    small, large = (reference.profile.columns[name] for name in ("small", "large"))
    assert isinstance(small, NumericProfile) and isinstance(large, NumericProfile)
    # THEN the sketch that never compacted is an exact sample of its 300 values
    assert small.exact and small.rank_error() == 0.0
    assert small.sample().values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert small.sample().weights.sum() == small.n == 300
    # AND the compacted one is inexact, stands for its 6,000 values and carries KLL's bound
    assert not large.exact
    assert large.sample().weights.sum() == large.n == 6000
    assert large.rank_error() == pytest.approx(kll_rank_error(1000))
    # AND every other figure is as stored
    old = document["profile"]
    new = reference.profile.to_dict()
    assert without_numeric_values(new) == {**without_numeric_values(old), "version": 4}
    # AND it round-trips in version 4 and merges with a profile of version 4
    again = DatasetProfile.from_dict(json.loads(json.dumps(new)))
    assert again.to_dict() == new
    merged = again.merge(reference.profile)
    assert merged.columns["large"].n == 12_000


def test_a_version_4_profile_round_trips_exactly() -> None:
    # GIVEN a profile written in the current form
    document = DatasetProfile.from_dict(stored_v1()).to_dict()
    # WHEN it goes through JSON and is loaded
    loaded = DatasetProfile.from_dict(json.loads(json.dumps(document)))
    # THEN it writes the same document, the slices as keys and one little-endian array
    assert loaded.to_dict() == document
    slices = document["slices"]
    assert set(slices) == {"metric", "total", "keys", "figures"}
    assert len(base64.b64decode(slices["figures"])) == 24 * len(slices["keys"])


def test_profiles_of_both_versions_merge_to_the_same_window() -> None:
    # GIVEN the same batch loaded from version 1 and from version 2
    old = DatasetProfile.from_dict(stored_v1())
    new = DatasetProfile.from_dict(old.to_dict())
    # WHEN each is merged with the other and with itself
    mixed, same = old.merge(new), old.merge(old)
    # THEN the windows are equal, slices in key order
    assert mixed.to_dict() == same.to_dict()
    assert mixed.slices == same.slices
    assert mixed.to_dict()["slices"] == same.to_dict()["slices"]
    assert mixed.performance == same.performance
    assert mixed.slices is not None
    assert list(mixed.slices.cells) == sorted(mixed.slices.cells)


def test_a_reference_stored_by_version_1_still_loads() -> None:
    document = json.loads(VERSION_1.read_text(encoding="utf-8"))
    reference = Reference.from_dict({"bins": document["bins"], "profile": document["profile"]})
    assert reference.profile.rows == document["profile"]["rows"]


@pytest.mark.parametrize("version", [0, 5])
def test_a_profile_of_an_unknown_version_is_refused(version: int) -> None:
    with pytest.raises(InvalidInputError, match=f"profile version {version} is not supported"):
        DatasetProfile.from_dict({**stored_v1(), "version": version})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"keys": ["a", "a"]}, "unique text"),
        ({"keys": ["a", 1]}, "unique text"),
        ({"keys": ["a"], "figures": base64.b64encode(bytes(16)).decode()}, "24 bytes"),
    ],
)
def test_malformed_slice_cells_are_refused(change: dict[str, Any], message: str) -> None:
    document = {"keys": ["a", "b"], "figures": base64.b64encode(bytes(48)).decode(), **change}
    with pytest.raises(ValueError, match=message):
        SliceCells.from_dict(document)


def test_a_profile_stored_before_scores_outside_the_unit_interval_were_counted_loads() -> None:
    # GIVEN a profile stored without out_of_range_scores (every one written before they were)
    old = stored_v1()
    assert "out_of_range_scores" not in old
    # WHEN it is loaded and written again
    profile = DatasetProfile.from_dict(old)
    # THEN it has no counts (None: not counted, never 0) and writes none
    assert profile.out_of_range_scores is None
    assert "out_of_range_scores" not in profile.to_dict()
    # AND a window merging it with a profile that has counts has none either
    counted = replace(profile, out_of_range_scores=OutOfRangeScores(2, {"score": 2}))
    assert counted.merge(profile).out_of_range_scores is None
    assert counted.merge(counted).out_of_range_scores == OutOfRangeScores(4, {"score": 4})
