"""A feature whose missing share jumps drifts in an evaluation, and the check's detail states
both shares against the minimum change; a steady missing share does not page."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from driftline.config import load_monitor_definition
from driftline.evaluation import evaluate, profile_spec
from driftline.profile.dataset import build_reference, profile_frames

DEFINITION = """
model: churn
schema:
  task: regression
  features: {tenure: numeric, region: categorical}
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: tenure-drift, drift: tenure}
  - {name: region-drift, drift: region}
"""


def frame(rows: int, *, seed: int, tenure_missing: float, region_missing: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.normal(24.0, 6.0, rows)
    tenure[rng.random(rows) < tenure_missing] = np.nan
    region = rng.choice(["north", "south", "east"], rows).astype(object)
    region[rng.random(rows) < region_missing] = None
    return pd.DataFrame({"tenure": tenure, "region": region})


def checks_of(current: pd.DataFrame) -> dict[str, tuple[str, str]]:
    definition = load_monitor_definition(DEFINITION)
    spec = profile_spec(definition)
    reference = build_reference(
        lambda: [frame(20_000, seed=1, tenure_missing=0.01, region_missing=0.0)], spec, bins=10
    )
    profile = profile_frames([current], spec, reference.bins)
    evaluated = evaluate(definition, reference, profile, evaluation_id="e")
    return {check.name: (check.status, str(check.detail)) for check in evaluated.checks}


def test_a_jump_of_the_missing_share_fails_the_check_and_says_so() -> None:
    # GIVEN a batch whose tenure is missing in a fifth of the rows (1 % in the baseline; the
    # drawn shares are 1.1 % and 22.6 %)
    # and whose region is missing in 10 % (9.0 % drawn; never in the baseline)
    checks = checks_of(frame(1000, seed=2, tenure_missing=0.2, region_missing=0.1))
    # THEN both checks fail, each naming the two shares and the change that drifts
    status, detail = checks["tenure-drift"]
    assert status == "fail"
    assert (
        "effect (ks) 0.02636 >= 0.02 (values alone: adjusted p 0.8038 >= 0.01) or missing 1.1 % -> "
        "22.6 % (change 0.2155 >= 0.02, adjusted p 0 < 0.01)"
    ) in detail
    status, detail = checks["region-drift"]
    assert status == "fail"
    assert "0.003618 < 0.02 (values alone: adjusted p" in detail
    assert "or missing 0.0 % -> 9.0 % (change 0.09 >= 0.02, adjusted p" in detail


def test_a_steady_missing_share_does_not_fail() -> None:
    checks = checks_of(frame(1000, seed=3, tenure_missing=0.01, region_missing=0.0))
    assert checks["tenure-drift"][0] == "pass"
    assert checks["region-drift"][0] == "pass"
    # the steady share is stated, below the change that drifts
    assert "missing 1.1 % -> 1.0 % (change 0.00055 < 0.02, adjusted p" in checks["tenure-drift"][1]


def test_a_feature_missing_in_every_row_drifts_on_its_missing_share() -> None:
    # GIVEN a batch that carries the tenure column with no value in any row
    current = frame(1000, seed=4, tenure_missing=1.0, region_missing=0.0)
    definition = load_monitor_definition(DEFINITION)
    spec = profile_spec(definition)
    reference = build_reference(
        lambda: [frame(20_000, seed=1, tenure_missing=0.01, region_missing=0.0)], spec, bins=10
    )
    evaluated = evaluate(
        definition, reference, profile_frames([current], spec, reference.bins), evaluation_id="e"
    )
    # THEN its drift check fails on the missing share (no values to compare), in valid JSON
    check = next(check for check in evaluated.checks if check.name == "tenure-drift")
    assert check.status == "fail"
    assert str(check.detail).startswith(
        "tenure: drifted: no values present to compare, missing 1.1 % -> 100.0 % (change 0.9895 "
        ">= 0.02, adjusted p 0 < 0.01) and adjusted p 0 < 0.01"
    )
    body = json.loads(json.dumps(evaluated.to_dict(), allow_nan=False))
    tenure = body["drift"]["features"]["tenure"]
    assert tenure["drifted"] is True and tenure["effect"] is None
    assert tenure["missing_share"]["current"] == 1.0


def test_too_few_rows_of_a_missing_feature_are_skipped() -> None:
    checks = checks_of(frame(60, seed=5, tenure_missing=1.0, region_missing=0.0))
    assert checks["tenure-drift"] == (
        "skip",
        "drift of tenure skipped: too few rows to decide: 60 in the current data, "
        "drift.min_rows is 100",
    )


def test_rows_of_a_batch_without_the_column_are_no_change_of_its_missing_share() -> None:
    # GIVEN a window of two batches, the first without the tenure column at all
    without = frame(1000, seed=6, tenure_missing=0.0, region_missing=0.0).drop(columns="tenure")
    with_it = frame(1000, seed=7, tenure_missing=0.01, region_missing=0.0)
    definition = load_monitor_definition(DEFINITION)
    spec = profile_spec(definition)
    reference = build_reference(
        lambda: [frame(20_000, seed=1, tenure_missing=0.01, region_missing=0.0)], spec, bins=10
    )
    current = profile_frames([without], spec, reference.bins).merge(
        profile_frames([with_it], spec, reference.bins)
    )
    assert current.absent_columns == {"tenure"}
    evaluated = evaluate(definition, reference, current, evaluation_id="e")
    checks = {check.name: check for check in evaluated.checks}
    # THEN the built-in schema-columns check reports the absence (one failure), and tenure's
    # drift compares its values alone: half the window missing is not a drift of its own
    assert checks["schema-columns"].status == "fail"
    assert checks["tenure-drift"].status == "pass"
    assert "missing" not in str(checks["tenure-drift"].detail)


def test_the_labels_missing_share_is_their_coverage_not_a_drift() -> None:
    # GIVEN a model whose batch carries the label column filled for a third of its rows
    # (the others not labelled yet), and a prediction missing in a fifth
    definition = load_monitor_definition(
        DEFINITION.replace("task: regression", "task: regression\n  prediction: p\n  label: y")
    )
    spec = profile_spec(definition)

    def labelled(rows: int, seed: int, unlabelled: float, unpredicted: float) -> pd.DataFrame:
        data = frame(rows, seed=seed, tenure_missing=0.0, region_missing=0.0)
        rng = np.random.default_rng(seed)
        data["y"] = rng.normal(0.0, 1.0, rows)
        data["p"] = rng.normal(0.0, 1.0, rows)
        data.loc[rng.random(rows) < unlabelled, "y"] = np.nan
        data.loc[rng.random(rows) < unpredicted, "p"] = np.nan
        return data

    reference = build_reference(lambda: [labelled(20_000, 1, 0.0, 0.0)], spec, bins=10)
    current = profile_frames([labelled(2000, 2, 2 / 3, 0.2)], spec, reference.bins)
    outputs = evaluate(definition, reference, current, evaluation_id="e").drift.outputs
    # THEN the label is compared on the labels present, with no missing share
    label = outputs["y"].result
    assert label is not None and label.missing_shares is None and not label.drifted
    # AND a prediction that goes missing drifts as a feature does
    prediction = outputs["p"].result
    assert prediction is not None and prediction.drifted
    assert prediction.missing_shares is not None and prediction.missing_shares[0] == 0.0
