"""The registry's values: artifact verification, the version lifecycle, the traffic split."""

from __future__ import annotations

import hashlib
import itertools

import pytest

from driftline.errors import DriftlineError
from driftline.model_store import (
    STATUSES,
    TRANSITIONS,
    ArtifactIntegrityError,
    InvalidTransitionError,
    Lineage,
    ModelVersion,
    RegistryError,
    TrafficSplit,
    sha256_of,
    verify_artifact,
)

AT = "2026-11-24T10:00:00Z"


def _version(status: str = "challenger", number: int = 3) -> ModelVersion:
    return ModelVersion(
        model="fraud",
        version=number,
        status=status,  # type: ignore[arg-type]
        artifact_key=f"models/fraud/run-{number}/model.joblib",
        sha256=sha256_of(b"model bytes"),
        estimator="gradient_boosting",
        params={"max_iter": 50},
        metrics={"holdout": {"metric": "auc", "challenger": 0.91, "champion": 0.87}},
        lineage=Lineage(
            execution=f"fraud-emergency_retrain-{number}",
            action="emergency_retrain",
            evaluation_id="fraud-labels-abc",
            triggered_by=("error-adwin",),
            segments=("region=west",),
            data_start="2026-11-22T10:00:00Z",
            data_end="2026-11-24T10:00:00Z",
            training_rows=1600,
            holdout_rows=400,
            parent=2,
            reason="emergency_retrain asked by error-adwin",
        ),
        created_at=AT,
    )


def test_verify_artifact_accepts_the_recorded_bytes() -> None:
    data = b"\x80\x04joblib"
    verify_artifact(data, hashlib.sha256(data).hexdigest())
    verify_artifact(data, hashlib.sha256(data).hexdigest().upper())


def test_a_tampered_artifact_is_refused_with_both_digests() -> None:
    # GIVEN the digest recorded for the original bytes
    recorded = sha256_of(b"original model")

    # WHEN other bytes are presented THEN they are refused, naming the key and both digests
    with pytest.raises(ArtifactIntegrityError) as caught:
        verify_artifact(b"original model + payload", recorded, key="models/fraud/v3/model.joblib")
    error = caught.value
    actual = sha256_of(b"original model + payload")
    assert str(error) == (
        f"refusing to load models/fraud/v3/model.joblib: its SHA-256 is {actual[:12]}..., the "
        f"registry recorded {recorded[:12]}... (tampered or corrupted)"
    )
    assert isinstance(error, DriftlineError)
    assert error.to_dict() == {
        "error": "ArtifactIntegrityError",
        "reason": "artifact_hash_mismatch",
        "message": str(error),
        "key": "models/fraud/v3/model.joblib",
        "expected": recorded,
        "actual": actual,
    }


@pytest.mark.parametrize("digest", ["", "abc", "z" * 64, sha256_of(b"x")[:63]])
def test_a_malformed_digest_is_refused(digest: str) -> None:
    with pytest.raises(ArtifactIntegrityError, match="is not a SHA-256 hex digest"):
        verify_artifact(b"x", digest)


@pytest.mark.parametrize(("start", "end"), list(itertools.product(STATUSES, STATUSES)))
def test_only_the_lifecycle_moves_are_allowed(start: str, end: str) -> None:
    version = _version(start)
    if end in TRANSITIONS[start]:  # type: ignore[index]
        moved = version.transition(end, at=AT, reason="because")  # type: ignore[arg-type]
        assert moved.status == end
        assert moved.history == ({"status": end, "at": AT, "reason": "because"},)
        assert version.status == start  # values: the original is unchanged
    else:
        with pytest.raises(InvalidTransitionError, match=f"cannot go from {start} to {end}"):
            version.transition(end, at=AT, reason="because")  # type: ignore[arg-type]


def test_the_lifecycle_is_challenger_then_champion_or_rolled_back_then_final() -> None:
    moves = {status: set(allowed) for status, allowed in TRANSITIONS.items()}
    assert moves == {
        "challenger": {"champion", "rolled_back"},
        "champion": {"retired"},
        "retired": set(),
        "rolled_back": set(),
    }


def test_a_version_round_trips_through_its_dict() -> None:
    version = _version().transition("champion", at=AT, reason="canary won")
    assert ModelVersion.from_dict(version.to_dict()) == version
    assert version.label == "v3"
    assert version.to_dict()["lineage"]["triggered_by"] == ["error-adwin"]


def test_a_version_refuses_an_unknown_status_or_number() -> None:
    with pytest.raises(ValueError, match="got 'serving'"):
        _version("serving")
    with pytest.raises(ValueError, match="version >= 1"):
        _version(number=0)
    with pytest.raises(ValueError, match="got 'serving'"):
        ModelVersion.from_dict({**_version().to_dict(), "status": "serving"})


def test_traffic_split_canary_promotion_and_rollback() -> None:
    # GIVEN v2 serving everything
    split = TrafficSplit("fraud", champion=2)
    assert split.weights() == {"champion": 1.0}

    # WHEN v3 gets a 10 % canary
    canary = split.with_canary(3, 0.1, at=AT, execution="run-3")
    assert canary.weights() == {"champion": 0.9, "challenger": 0.1}
    assert canary.with_canary(3, 0.1) == canary.with_canary(3, 0.1)  # same canary again

    # THEN promotion makes v3 the champion alone; rollback leaves v2 alone
    assert canary.promoted(at=AT).to_dict() == {
        "model": "fraud",
        "champion": 3,
        "challenger": None,
        "challenger_weight": 0.0,
        "weights": {"champion": 1.0},
        "updated_at": AT,
        "execution": "run-3",
    }
    assert canary.rolled_back() == TrafficSplit("fraud", 2, execution="run-3")
    assert TrafficSplit.from_dict(canary.to_dict()) == canary


def test_one_canary_at_a_time() -> None:
    canary = TrafficSplit("fraud", champion=2).with_canary(3, 0.1)
    with pytest.raises(RegistryError, match="v3 is already in a canary"):
        canary.with_canary(4, 0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"challenger": 3}, "a challenger needs a weight"),
        ({"challenger_weight": 0.2}, "a challenger needs a weight"),
        ({"champion": 3, "challenger": 3, "challenger_weight": 0.1}, "cannot be champion and"),
        ({"challenger": 3, "challenger_weight": 1.0}, r"in \[0, 1\)"),
    ],
)
def test_traffic_split_invariants(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrafficSplit("fraud", **kwargs)  # type: ignore[arg-type]


def test_promoting_without_a_challenger_is_refused() -> None:
    with pytest.raises(RegistryError, match="no challenger to promote"):
        TrafficSplit("fraud", champion=2).promoted()
