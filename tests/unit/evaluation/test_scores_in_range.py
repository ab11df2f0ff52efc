"""Scores outside [0, 1] are a data-quality violation, not a crash and not a quiet clip: the
built-in ``scores-in-range`` check fails on them with their count, share and column (never
a value), the estimate leaves their rows out and counts them, and every profile counts them
so that a window's count is the sum of its batches'."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.checks import effective_checks
from driftline.config import MonitorDefinition, load_monitor_definition
from driftline.errors import ConfigError, InvalidInputError
from driftline.evaluation import EvaluationResult, evaluate, profile_spec
from driftline.profile.dataset import DatasetProfile, Reference, build_reference, profile_frames
from driftline.profile.score_range import OutOfRangeScores

DEFINITION = """
model: credit
schema:
  task: binary_classification
  prediction: approved
  score: p_default
  label: defaulted
  features: {income: numeric}
  segments: [tier]
baseline: {path: baselines/credit/training.csv}
checks: %s
"""

#: Out-of-range scores distinctive enough that a detail quoting one would be caught.
BAD_SCORES = (1.4142, -0.7071, math.inf)


def definition(checks: str = "[]") -> MonitorDefinition:
    return load_monitor_definition(DEFINITION % checks)


def rows(count: int, *, seed: int) -> pd.DataFrame:
    """Calibrated scores in [0, 1] (a row scored ``s`` defaults with probability ``s``)."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(size=count)
    return pd.DataFrame(
        {
            "income": rng.normal(size=count),
            "tier": rng.choice(["prime", "subprime"], count),
            "p_default": score.astype(object),
            "approved": (score >= 0.5).astype(int),
            "defaulted": (rng.uniform(size=count) < score).astype(int),
        }
    )


def with_bad_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with :data:`BAD_SCORES` in the first three and a missing score in the 4th."""
    frame = frame.copy()
    for row, value in enumerate(BAD_SCORES):
        frame.loc[row, "p_default"] = value
    frame.loc[3, "p_default"] = np.nan
    return frame


def baseline(model: MonitorDefinition) -> Reference:
    return build_reference(lambda: [rows(3_000, seed=1)], profile_spec(model))


def evaluated(model: MonitorDefinition, frame: pd.DataFrame) -> EvaluationResult:
    reference = baseline(model)
    current = profile_frames([frame], profile_spec(model), reference.bins)
    return evaluate(model, reference, current, evaluation_id="e")


def check_of(result: EvaluationResult, name: str = "scores-in-range") -> dict[str, Any]:
    checks = {check["name"]: check for check in result.to_dict()["checks"]}
    found: dict[str, Any] = checks[name]
    return found


# -- the built-in check ----------------------------------------------------------------------


def test_three_scores_outside_the_unit_interval_fail_the_check_with_their_count() -> None:
    # GIVEN a batch of 2,000 rows, 3 scored 1.4142, -0.7071 and inf, and one without a score
    model = definition()
    # WHEN it is evaluated
    result = evaluated(model, with_bad_scores(rows(2_000, seed=2)))
    check = check_of(result)
    # THEN the built-in check fails on the 3 rows (the missing score is not out of range:
    # it is the score column's missing share), stating their count, share and column
    assert (check["status"], check["value"], check["threshold"]) == ("fail", 3.0, 0.0)
    assert check["action"] == "notify"
    assert check["detail"] == (
        "out_of_range_scores is 3, above the maximum 0 (3 of 2,000 rows, 0.15%, have a "
        "score outside [0, 1] or infinite; by column: p_default 3)"
    )
    # AND the result says so: a warning, and the counts under data_quality._dataset
    assert result.status == "warning"
    assert result.to_dict()["actions"] == [{"action": "notify", "checks": ["scores-in-range"]}]
    assert result.to_dict()["data_quality"]["_dataset"]["out_of_range_scores"] == {
        "rows": 3,
        "share": 0.0015,
        "columns": {"p_default": 3},
    }


def test_the_check_detail_quotes_no_score() -> None:
    # GIVEN a batch with distinctive out-of-range scores
    result = evaluated(definition(), with_bad_scores(rows(2_000, seed=2)))
    # WHEN its check and data-quality block are written as JSON
    written = json.dumps([check_of(result), result.to_dict()["data_quality"]["_dataset"]])
    # THEN no score appears in them, in any spelling
    for quoted in ("1.414", "0.707", "Infinity", "inf,", "inf)", "inf "):
        assert quoted not in written, quoted


def test_a_batch_of_scores_in_the_unit_interval_passes_the_check() -> None:
    # GIVEN a batch whose scores all lie in [0, 1], 0 and 1 included
    frame = rows(2_000, seed=3)
    frame.loc[0, "p_default"], frame.loc[1, "p_default"] = 0.0, 1.0
    # WHEN it is evaluated
    check = check_of(evaluated(definition(), frame))
    # THEN the built-in check passes, naming the column it looked at
    assert (check["status"], check["value"]) == ("pass", 0.0)
    assert check["detail"] == (
        "out_of_range_scores is 0, within bounds (no score outside [0, 1] in 2,000 rows; "
        "columns: p_default)"
    )


def test_a_segment_check_counts_the_segment_rows_only() -> None:
    # GIVEN a check of the prime tier's out-of-range scores, and 3 bad scores all in it
    model = definition(
        "[{name: prime-scores, quality: out_of_range_scores, segment: {tier: prime}, max: 0}]"
    )
    frame = rows(2_000, seed=4)
    frame.loc[:2, "tier"] = "prime"
    # WHEN evaluated
    result = evaluated(model, with_bad_scores(frame))
    check = check_of(result, "prime-scores")
    # THEN it fails on the segment's 3 rows, of the segment's rows
    prime = int((frame["tier"] == "prime").sum())
    assert (check["status"], check["value"], check["segment"]) == ("fail", 3.0, "tier=prime")
    assert f"(3 of {prime:,} rows, " in check["detail"]


def test_a_window_merging_a_profile_without_the_counts_skips_the_check() -> None:
    # GIVEN a window of a batch profiled now and one stored before scores were counted
    model = definition()
    reference = baseline(model)
    spec = profile_spec(model)
    new = profile_frames([with_bad_scores(rows(500, seed=5))], spec, reference.bins)
    stored = new.to_dict()
    del stored["out_of_range_scores"]
    for body in stored["segments"].values():
        del body["out_of_range_scores"]
    old = DatasetProfile.from_dict(stored)
    # WHEN the window is evaluated
    result = evaluate(model, reference, new.merge(old), evaluation_id="e")
    check = check_of(result)
    # THEN the check is skip, saying why, rather than a pass on part of the rows
    assert check["status"] == "skip"
    assert "the window merges profiles written before they were counted" in check["detail"]
    assert result.to_dict()["data_quality"]["_dataset"]["out_of_range_scores"] is None


# -- the estimate ----------------------------------------------------------------------------


def test_the_estimate_leaves_out_of_range_rows_out_and_counts_them() -> None:
    # GIVEN a batch with 3 scores outside [0, 1] and one missing
    clean = rows(2_000, seed=6)
    bad = with_bad_scores(clean)
    model = definition()
    # WHEN it is evaluated, and so is the batch without those 4 rows
    estimated = evaluated(model, bad).to_dict()["performance"]["estimated"]
    without = evaluated(model, clean.iloc[4:]).to_dict()["performance"]["estimated"]
    # THEN the estimate is made on the other rows only, exactly as if the 4 were not there
    # (not on the scores clipped to 0 and 1, as if they were probabilities) ...
    assert estimated["rows"]["overall"] == without["rows"]["overall"] == 1_996
    for metric, figures in estimated["overall"].items():
        assert figures["value"] == pytest.approx(without["overall"][metric]["value"], abs=1e-12)
    # ... and the rows left out are counted by why
    assert estimated["left_out"]["overall"] == {
        "score_missing": 1,
        "score_out_of_range": 3,
        "prediction_missing": 0,
    }


# -- the profile -----------------------------------------------------------------------------


def test_merging_two_batches_adds_their_counts() -> None:
    # GIVEN two batches with 3 and 2 out-of-range scores
    model = definition()
    spec = profile_spec(model)
    bins = baseline(model).bins
    first = with_bad_scores(rows(400, seed=7))
    second = rows(300, seed=8)
    second.loc[10, "p_default"], second.loc[20, "p_default"] = -math.inf, 7.0
    # WHEN each is profiled and the two are merged
    window = profile_frames([first], spec, bins).merge(profile_frames([second], spec, bins))
    # THEN the window counts 5, overall and per segment as the rows of both profiled at once
    assert window.out_of_range_scores == OutOfRangeScores(5, {"p_default": 5})
    together = profile_frames([pd.concat([first, second], ignore_index=True)], spec, bins)
    assert window.out_of_range_scores == together.out_of_range_scores
    for key, segment in together.segments.items():
        assert window.segments[key].out_of_range_scores == segment.out_of_range_scores


def test_the_counts_round_trip_through_the_stored_profile() -> None:
    model = definition()
    spec = profile_spec(model)
    profile = profile_frames([with_bad_scores(rows(400, seed=9))], spec, baseline(model).bins)
    document = json.loads(json.dumps(profile.to_dict()))
    assert document["out_of_range_scores"] == {"rows": 3, "columns": {"p_default": 3}}
    assert DatasetProfile.from_dict(document).to_dict() == profile.to_dict()


@pytest.mark.parametrize(
    ("stored", "message"),
    [
        ([3], "out_of_range_scores must be a mapping; got list"),
        ({"rows": 3}, "out_of_range_scores.columns must be a mapping; got nothing"),
        ({"rows": -1, "columns": {}}, "out_of_range_scores.rows must be a count"),
        ({"rows": 1, "columns": {"p": True}}, "out_of_range_scores.columns.p must be a count"),
        ({"rows": 5, "columns": {"p": 2, "q": 2}}, "must lie between the largest column count"),
    ],
)
def test_malformed_stored_counts_are_refused_naming_the_key(stored: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        OutOfRangeScores.from_dict(stored)
    assert caught.value.reason == "invalid_out_of_range_scores"


# -- which models, and replacing the check ---------------------------------------------------


MULTICLASS = """
model: cards
schema:
  task: multiclass_classification
  prediction: card
  class_scores: {a: p_a, b: p_b}
  features: {income: numeric}
baseline: {path: baselines/cards/training.csv}
"""


def test_a_multiclass_row_counts_once_and_in_each_of_its_columns() -> None:
    # GIVEN a multiclass model and a batch: row 0 out of range in both class scores, row 1
    # in one, row 2 a missing score
    model = load_monitor_definition(MULTICLASS)
    frame = pd.DataFrame(
        {
            "income": [1.0, 2.0, 3.0, 4.0],
            "card": ["a", "b", "a", "b"],
            "p_a": [1.5, 0.4, None, 0.2],
            "p_b": [-0.5, 1.2, 0.3, 0.8],
        }
    )
    # WHEN it is profiled
    profile = profile_frames([frame], profile_spec(model), None)
    # THEN 2 rows are counted, and each column's own
    assert profile.out_of_range_scores == OutOfRangeScores(2, {"p_a": 1, "p_b": 2})
    assert [check.name for check in effective_checks(model)][-1] == "scores-in-range"


@pytest.mark.parametrize(
    "schema",
    [
        "{task: regression, prediction: y_hat, features: {a: numeric}}",
        "{task: ranking, score: s, query: q, label: y, features: {a: numeric}}",
        "{task: binary_classification, prediction: y_hat, features: {a: numeric}}",
    ],
    ids=["regression", "ranking", "binary-without-score"],
)
def test_a_model_without_probabilities_has_no_scores_check(schema: str) -> None:
    model = load_monitor_definition(f"{{model: m, schema: {schema}, baseline: {{path: b.csv}}}}")
    assert [check.name for check in effective_checks(model)] == ["schema-columns"]
    # ... and may not write one
    with pytest.raises(ConfigError, match=r"checks\[0\].quality: out_of_range_scores counts"):
        load_monitor_definition(
            f"{{model: m, schema: {schema}, baseline: {{path: b.csv}}, checks: "
            "[{name: s, quality: out_of_range_scores, max: 0}]}"
        )


def test_a_check_named_scores_in_range_replaces_the_built_in_one() -> None:
    # GIVEN a definition tolerating up to 5 such rows, and retraining beyond
    model = definition(
        "[{name: scores-in-range, quality: out_of_range_scores, max: 5, action: retrain}]"
    )
    # WHEN its checks are listed THEN the built-in one is replaced, not added twice
    assert [(c.name, c.max, c.action) for c in effective_checks(model)] == [
        ("scores-in-range", 5.0, "retrain"),
        ("schema-columns", 0.0, "notify"),
    ]
    # AND a batch with 3 such rows passes it
    assert check_of(evaluated(model, with_bad_scores(rows(2_000, seed=2))))["status"] == "pass"


def test_a_check_named_scores_in_range_of_another_measure_is_refused() -> None:
    # It would silently switch the built-in check off
    with pytest.raises(ConfigError) as caught:
        definition("[{name: scores-in-range, quality: missing_share, feature: income, max: 0.1}]")
    assert (
        "checks[0].name: scores-in-range is the built-in check of scores outside [0, 1]; a "
        "check of that name replaces it and must have quality: out_of_range_scores"
    ) in str(caught.value)
