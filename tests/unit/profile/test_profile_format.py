"""The stored profile format: version 2 round-trips, and version 1 (error slices as a mapping
of key to figures, as stored in users' buckets before) still loads to the same profile."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from driftline.errors import InvalidInputError
from driftline.profile.dataset import PROFILE_VERSION, DatasetProfile, Reference
from driftline.profile.performance import SliceCells

#: Written by the code of commit dcaba3f (profile version 1): a labelled batch of 120 rows,
#: one numeric and one categorical feature, a segment column and hour-of-day slices.
VERSION_1 = Path(__file__).parent / "data" / "labelled_profile_v1.json"


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
    # AND the rest of the document is unchanged but for the version and the slices' form
    assert new["version"] == PROFILE_VERSION == 2
    assert {k: v for k, v in new.items() if k not in ("version", "slices")} == {
        k: v for k, v in old.items() if k not in ("version", "slices")
    }


def test_a_version_2_profile_round_trips_exactly() -> None:
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
    # THEN the windows' slices are equal, in key order (sketches merge with random
    # compaction, so only the exact parts are compared)
    assert mixed.slices == same.slices
    assert mixed.to_dict()["slices"] == same.to_dict()["slices"]
    assert mixed.performance == same.performance
    assert mixed.slices is not None
    assert list(mixed.slices.cells) == sorted(mixed.slices.cells)


def test_a_reference_stored_by_version_1_still_loads() -> None:
    document = json.loads(VERSION_1.read_text(encoding="utf-8"))
    reference = Reference.from_dict({"bins": document["bins"], "profile": document["profile"]})
    assert reference.profile.rows == document["profile"]["rows"]


@pytest.mark.parametrize("version", [0, 3])
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
