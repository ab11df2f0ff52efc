"""Performance inside dataset profiles, overall and per segment, against scikit-learn.

A batch is profiled in chunks with :func:`profile_frames`, through the spec the monitor
definition gives (:func:`profile_spec`) and the bins of a reference built on a baseline; every
metric the profile reads, overall and in every ``column=value`` segment, must equal
scikit-learn on the *labelled* rows of that scope. AUC is checked against an exact rational
Mann-Whitney count as well: with scores rounded to 2 decimals every distinct score has a bin of
its own, so the binned AUC is the exact AUC, ties included.
"""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk
from scipy.stats import binomtest, rankdata

from driftline.config import MonitorDefinition, load_monitor_definition
from driftline.evaluation import evaluate, profile_spec
from driftline.metrics import PerformanceProfile
from driftline.profile.dataset import DatasetProfile, Reference, build_reference, profile_frames

REL = 1e-9

BINARY = load_monitor_definition(
    """
model: credit
schema:
  id: request_id
  timestamp: ts
  task: binary_classification
  prediction: predicted
  score: probability
  label: defaulted
  positive_class: 1
  features: {income: numeric, plan: categorical}
  segments: [region, tier]
baseline: {path: baselines/credit/training.csv}
checks:
  - {name: auc-gold, metric: auc, segment: {tier: gold}, min: 0.5}
  - {name: auc-bronze, metric: auc, segment: {tier: bronze}, min: 0.5}
  - {name: auc-eu, metric: auc, segment: {region: eu}, min: 0.5}
  - {name: accuracy-us, metric: accuracy, segment: {region: us}, min: 0.99, action: retrain}
"""
)

MULTICLASS = load_monitor_definition(
    """
model: intent
schema:
  id: request_id
  task: multiclass_classification
  prediction: predicted
  label: intent
  features: {length: numeric}
  segments: [channel]
baseline: {path: baselines/intent/training.csv}
"""
)

REGRESSION = load_monitor_definition(
    """
model: demand
schema:
  id: request_id
  timestamp: ts
  task: regression
  prediction: forecast
  label: sold
  features: {price: numeric}
  segments: [store]
baseline: {path: baselines/demand/training.csv}
"""
)


# -- data ----------------------------------------------------------------------------------


def binary_frame(rng: np.random.Generator, rows: int, *, decimals: int | None = 2) -> pd.DataFrame:
    """Credit decisions: ~20 % unlabelled; tier gold is all defaults, bronze none.

    Scores are rounded to ``decimals`` (ties) or left continuous (``None``); a few are 0.0 and
    1.0 exactly, where log loss clips.
    """
    region = rng.choice(["eu", "us", "apac"], rows)
    tier = rng.choice(["gold", "silver", "bronze"], rows, p=[0.1, 0.8, 0.1])
    label = (rng.random(rows) < 0.4).astype(np.float64)
    label[tier == "gold"] = 1.0
    label[tier == "bronze"] = 0.0
    score = np.clip(0.25 * label + rng.normal(0.35, 0.18, rows), 0.0, 1.0)
    score[:5], score[5:10] = 0.0, 1.0
    if decimals is not None:
        score = score.round(decimals)
    honest = (score >= 0.5).astype(np.int64)
    predicted = np.where(rng.random(rows) < 0.85, honest, 1 - honest)
    label[rng.random(rows) < 0.2] = np.nan
    return pd.DataFrame(
        {
            "request_id": np.arange(rows),
            "ts": 1_700_000_000 + rng.integers(0, 7 * 86_400, rows),
            "income": rng.normal(50_000, 12_000, rows),
            "plan": rng.choice(["basic", "plus", "pro"], rows),
            "region": region,
            "tier": tier,
            "defaulted": label,
            "predicted": predicted,
            "probability": score,
        }
    )


def chunks(frame: pd.DataFrame, rng: np.random.Generator, pieces: int = 7) -> list[pd.DataFrame]:
    """``frame`` cut at random places into ``pieces`` chunks (fewer for a tiny frame)."""
    pieces = min(pieces, len(frame))
    cuts = np.sort(rng.choice(np.arange(1, len(frame)), pieces - 1, replace=False))
    bounds = [0, *cuts.tolist(), len(frame)]
    return [frame.iloc[lo:hi] for lo, hi in itertools.pairwise(bounds)]


def profile_in_chunks(
    definition: MonitorDefinition, baseline: pd.DataFrame, current: pd.DataFrame, seed: int
) -> tuple[Reference, DatasetProfile]:
    spec = profile_spec(definition)
    reference = build_reference(lambda: [baseline], spec)
    rng = np.random.default_rng(seed)
    return reference, profile_frames(chunks(current, rng), spec, reference.bins)


def scopes(frame: pd.DataFrame, segment_columns: list[str]) -> dict[str, pd.DataFrame]:
    """Scope name (``""`` overall, else ``column=value``) → its raw rows."""
    found = {"": frame}
    for column in segment_columns:
        for value, rows in frame.groupby(column):
            found[f"{column}={value}"] = rows
    return found


def performance_in(profile: DatasetProfile, scope: str) -> PerformanceProfile:
    chosen = profile if scope == "" else profile.segments[scope]
    assert chosen.performance is not None
    return chosen.performance


# -- oracles -------------------------------------------------------------------------------


def exact_auc(truth: np.ndarray, scores: np.ndarray) -> float:
    """AUC as the Mann-Whitney U over P N with midranks for ties, in exact rationals."""
    positives = int(truth.sum())
    negatives = truth.size - positives
    doubled_rank_sum = round(float(2 * rankdata(scores)[truth].sum()))
    u_doubled = doubled_rank_sum - positives * (positives + 1)
    return float(Fraction(u_doubled, 2 * positives * negatives))


def sklearn_binary(rows: pd.DataFrame) -> dict[str, float]:
    labelled = rows[rows["defaulted"].notna()]
    y = labelled["defaulted"].to_numpy().astype(np.int64)
    predicted = labelled["predicted"].to_numpy()
    p = labelled["probability"].to_numpy()
    expected = {
        "accuracy": sk.accuracy_score(y, predicted),
        "error_rate": sk.zero_one_loss(y, predicted),
        "precision": sk.precision_score(y, predicted, pos_label=1, zero_division=0),
        "recall": sk.recall_score(y, predicted, pos_label=1, zero_division=0),
        "f1": sk.f1_score(y, predicted, pos_label=1, zero_division=0),
        "f1_macro": sk.f1_score(y, predicted, average="macro", zero_division=0),
        "f1_micro": sk.f1_score(y, predicted, average="micro", zero_division=0),
        "precision_macro": sk.precision_score(y, predicted, average="macro", zero_division=0),
        "recall_macro": sk.recall_score(y, predicted, average="macro", zero_division=0),
        "log_loss": sk.log_loss(y, p, labels=[0, 1]),
        "brier": sk.brier_score_loss(y, p, pos_label=1),
        "positive_rate": float(np.mean(predicted == 1)),
    }
    if 0 < y.sum() < y.size:
        expected["auc"] = sk.roc_auc_score(y, p)
        expected["gini"] = 2 * expected["auc"] - 1
    return {name: float(value) for name, value in expected.items()}


def assert_metrics_match(
    measured: dict[str, float | str], expected: dict[str, float], scope: str
) -> None:
    for name, value in expected.items():
        got = measured[name]
        assert isinstance(got, float), (scope, name, got)
        assert math.isclose(got, value, rel_tol=REL, abs_tol=1e-12), (scope, name, got, value)


# -- binary --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def credit() -> tuple[pd.DataFrame, Reference, DatasetProfile]:
    rng = np.random.default_rng(20240611)
    baseline, current = binary_frame(rng, 4_000), binary_frame(rng, 6_000)
    reference, profile = profile_in_chunks(BINARY, baseline, current, seed=7)
    return current, reference, profile


def test_binary_profile_has_every_segment_of_the_data(
    credit: tuple[pd.DataFrame, Reference, DatasetProfile],
) -> None:
    current, _, profile = credit
    assert set(profile.segments) == set(scopes(current, ["region", "tier"])) - {""}


def test_binary_metrics_overall_and_per_segment_equal_sklearn_on_the_labelled_rows(
    credit: tuple[pd.DataFrame, Reference, DatasetProfile],
) -> None:
    # GIVEN a batch profiled in 7 chunks, with ~20 % of its rows unlabelled
    current, _, profile = credit
    for scope, rows in scopes(current, ["region", "tier"]).items():
        performance = performance_in(profile, scope)
        labelled = rows[rows["defaulted"].notna()]
        # THEN the profile counts every row and exactly the labelled ones
        assert (performance.rows, performance.labelled) == (len(rows), len(labelled)), scope
        # AND every metric equals scikit-learn on the labelled rows of the scope
        expected = sklearn_binary(rows)
        measured = performance.metrics()
        assert_metrics_match(measured, expected, scope)
        # no metric the profile offers is left unchecked (auc and gini: see the next tests)
        assert set(measured) == set(expected) | {"auc", "gini"}, scope
        if "auc" in expected:
            assert performance.scores is not None
            assert performance.scores.auc_error_bound > 0, "ties share bins: the bound is > 0"


def test_binary_auc_with_scores_rounded_to_2_decimals_is_the_exact_tied_auc(
    credit: tuple[pd.DataFrame, Reference, DatasetProfile],
) -> None:
    current, _, profile = credit
    checked = 0
    for scope, rows in scopes(current, ["region", "tier"]).items():
        labelled = rows[rows["defaulted"].notna()]
        truth = labelled["defaulted"].to_numpy() == 1
        if truth.all() or not truth.any():
            continue
        measured = performance_in(profile, scope).metrics()
        # AUC: the correctly rounded value of the exact rational, not merely close to it
        assert measured["auc"] == exact_auc(truth, labelled["probability"].to_numpy()), scope
        checked += 1
    assert checked == 5  # overall, three regions and silver; gold and bronze: one class


def test_binary_auc_with_continuous_scores_is_within_the_profiles_bound() -> None:
    rng = np.random.default_rng(99)
    baseline, current = (
        binary_frame(rng, 3_000, decimals=None),
        binary_frame(rng, 8_000, decimals=None),
    )
    _, profile = profile_in_chunks(BINARY, baseline, current, seed=3)
    for scope, rows in scopes(current, ["region"]).items():
        performance = performance_in(profile, scope)
        expected = sklearn_binary(rows)
        assert_metrics_match(
            performance.metrics(),
            {name: value for name, value in expected.items() if name not in ("auc", "gini")},
            scope,
        )
        assert performance.scores is not None
        bound = performance.scores.auc_error_bound
        auc = performance.metrics()["auc"]
        assert isinstance(auc, float)
        assert abs(auc - expected["auc"]) <= bound + 1e-15, (scope, auc, expected["auc"], bound)
        assert abs(auc - expected["auc"]) <= 1e-3, scope
        assert bound <= 1e-3, scope


def test_single_class_segment_reports_auc_undefined_naming_the_class(
    credit: tuple[pd.DataFrame, Reference, DatasetProfile],
) -> None:
    _, _, profile = credit
    gold = performance_in(profile, "tier=gold").metrics()
    bronze = performance_in(profile, "tier=bronze").metrics()
    assert gold["auc"] == gold["gini"] == "AUC needs both classes; only class 1 present"
    # the all-negative segment names the class the positive class is missing against
    assert isinstance(bronze["auc"], str)
    assert "only negatives present" in bronze["auc"] or "only class 0 present" in bronze["auc"]


def test_evaluate_skips_auc_of_a_single_class_segment_and_decides_the_others(
    credit: tuple[pd.DataFrame, Reference, DatasetProfile],
) -> None:
    # GIVEN auc checks on a segment with only defaults, one with none, a healthy one, and an
    # accuracy floor no segment can meet
    current, reference, profile = credit
    # WHEN the batch is evaluated
    result = evaluate(BINARY, reference, profile, evaluation_id="e-1")
    checks = {check.name: check for check in result.checks}
    # THEN the single-class segments skip with the class in the reason, not a crash
    assert checks["auc-gold"].status == "skip"
    assert checks["auc-gold"].segment == "tier=gold"
    assert "only class 1 present" in checks["auc-gold"].detail
    assert checks["auc-bronze"].status == "skip"
    assert "negatives" in checks["auc-bronze"].detail or "class 0" in checks["auc-bronze"].detail
    # AND the healthy segment passes with the exact AUC of its labelled rows
    eu = current[(current["region"] == "eu") & current["defaulted"].notna()]
    assert checks["auc-eu"].status == "pass"
    assert checks["auc-eu"].value == exact_auc(
        eu["defaulted"].to_numpy() == 1, eu["probability"].to_numpy()
    )
    # AND the floor fails with sklearn's accuracy, asking for a retrain
    us = current[(current["region"] == "us") & current["defaulted"].notna()]
    expected_accuracy = sk.accuracy_score(us["defaulted"].astype(int), us["predicted"])
    assert checks["accuracy-us"].status == "fail"
    assert math.isclose(checks["accuracy-us"].value or 0.0, expected_accuracy, rel_tol=REL)
    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert document["actions"] == [{"action": "retrain", "checks": ["accuracy-us"]}]
    # AND the failed metric check brings the worst slices, each big enough and worse than all
    # Errors here are random: no slice clears the multiple-comparison bound, and any that
    # is reported must be a real one.
    assert all(s["rows"] >= 30 and s["gap"] > 0 for s in document["worst_slices"])


def test_result_json_reports_segment_metrics_coverage_and_wilson_intervals(
    credit: tuple[pd.DataFrame, Reference, DatasetProfile],
) -> None:
    current, reference, profile = credit
    result = evaluate(BINARY, reference, profile, evaluation_id="e-2")
    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    performance = document["performance"]
    for scope, rows in scopes(current, ["region", "tier"]).items():
        if scope == "":
            metrics, labels = performance["overall"], performance["labels"]["overall"]
            intervals = performance["intervals"]["overall"]
        else:
            metrics = performance["segments"][scope]
            labels = performance["labels"]["segments"][scope]
            intervals = performance["intervals"]["segments"][scope]
        labelled = rows[rows["defaulted"].notna()]
        expected = sklearn_binary(rows)
        assert_metrics_match(metrics, expected, scope)
        assert labels == {
            "rows": len(rows),
            "labelled": len(labelled),
            "coverage": len(labelled) / len(rows),
        }
        assert metrics["label_coverage"] == len(labelled) / len(rows)
        correct = int((labelled["defaulted"].astype(int) == labelled["predicted"]).sum())
        for name, (k, n) in {
            "accuracy": (correct, len(labelled)),
            "error_rate": (len(labelled) - correct, len(labelled)),
            "label_coverage": (len(labelled), len(rows)),
        }.items():
            oracle = binomtest(k, n).proportion_ci(method="wilson")
            low, high = intervals[name]
            assert math.isclose(low, oracle.low, rel_tol=1e-9, abs_tol=1e-12), (scope, name)
            assert math.isclose(high, oracle.high, rel_tol=1e-9, abs_tol=1e-12), (scope, name)
    # metrics that are undefined on a scope are reported with their reason
    assert performance["undefined"]["segments"]["tier=gold"]["auc"].endswith("class 1 present")
    assert "auc" not in performance["segments"]["tier=gold"]


def test_segment_error_slices_count_the_labelled_rows_and_their_errors(
    credit: tuple[pd.DataFrame, Reference, DatasetProfile],
) -> None:
    current, _, profile = credit
    assert profile.slices is not None and profile.slices.metric == "error_rate"
    labelled = current[current["defaulted"].notna()]
    wrong = labelled["defaulted"].astype(int) != labelled["predicted"]
    assert profile.slices.total[:2] == (len(labelled), float(wrong.sum()))
    for column in ("region", "tier"):
        for value, rows in labelled.groupby(column):
            n, errors, squares = profile.slices.cells[f"{column}={value}"]
            assert (n, errors, squares) == (len(rows), float(wrong[rows.index].sum()), errors)


# -- multiclass ----------------------------------------------------------------------------


def intent_frame(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """Intents a/b/c with ~20 % unlabelled; in channel store, c is never predicted."""
    channel = rng.choice(["web", "app", "store"], rows)
    truth = rng.choice(["a", "b", "c"], rows, p=[0.5, 0.3, 0.2])
    guess = np.where(rng.random(rows) < 0.7, truth, rng.choice(["a", "b", "c"], rows))
    guess = np.where((channel == "store") & (guess == "c"), "a", guess)
    label = pd.Series(truth, dtype=object)
    label[rng.random(rows) < 0.2] = None
    return pd.DataFrame(
        {
            "request_id": np.arange(rows),
            "length": rng.integers(1, 200, rows),
            "channel": channel,
            "intent": label,
            "predicted": guess,
        }
    )


def test_multiclass_metrics_per_segment_equal_sklearn_on_the_labelled_rows() -> None:
    rng = np.random.default_rng(11)
    baseline, current = intent_frame(rng, 2_000), intent_frame(rng, 5_000)
    _, profile = profile_in_chunks(MULTICLASS, baseline, current, seed=5)
    for scope, rows in scopes(current, ["channel"]).items():
        performance = performance_in(profile, scope)
        labelled = rows[rows["intent"].notna()]
        y, guess = labelled["intent"].astype(str), labelled["predicted"].astype(str)
        assert (performance.rows, performance.labelled) == (len(rows), len(labelled)), scope
        expected = {
            "accuracy": sk.accuracy_score(y, guess),
            "error_rate": sk.zero_one_loss(y, guess),
            "f1_macro": sk.f1_score(y, guess, average="macro", zero_division=0),
            "f1_micro": sk.f1_score(y, guess, average="micro", zero_division=0),
            "precision_macro": sk.precision_score(y, guess, average="macro", zero_division=0),
            "recall_macro": sk.recall_score(y, guess, average="macro", zero_division=0),
        }
        measured = performance.metrics()
        assert_metrics_match(measured, {k: float(v) for k, v in expected.items()}, scope)
        # every metric offered is checked; binary-only ones are not offered for multiclass
        assert set(measured) == set(expected), scope


# -- regression ----------------------------------------------------------------------------


def demand_frame(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """Units sold per store, ~20 % not yet known; some true zeros (MAPE's epsilon)."""
    price = rng.uniform(1, 20, rows)
    store = rng.choice(["north", "south", "east", "west"], rows)
    sold = np.maximum(0.0, 40 - 1.5 * price + rng.normal(0, 4, rows)).round(1)
    sold[rng.random(rows) < 0.03] = 0.0
    forecast = 40 - 1.5 * price + np.where(store == "west", 6.0, 0.0)
    sold[rng.random(rows) < 0.2] = np.nan
    return pd.DataFrame(
        {
            "request_id": np.arange(rows),
            "ts": 1_700_000_000 + rng.integers(0, 86_400, rows),
            "price": price,
            "store": store,
            "sold": sold,
            "forecast": forecast,
        }
    )


def test_regression_metrics_per_segment_equal_sklearn_on_the_labelled_rows() -> None:
    rng = np.random.default_rng(5)
    baseline, current = demand_frame(rng, 2_000), demand_frame(rng, 6_000)
    _, profile = profile_in_chunks(REGRESSION, baseline, current, seed=9)
    for scope, rows in scopes(current, ["store"]).items():
        performance = performance_in(profile, scope)
        labelled = rows[rows["sold"].notna()]
        y, forecast = labelled["sold"].to_numpy(), labelled["forecast"].to_numpy()
        assert (y == 0).any(), f"{scope}: a zero target exercises MAPE's epsilon"
        assert (performance.rows, performance.labelled) == (len(rows), len(labelled)), scope
        # driftline's MAPE is scikit-learn's: |y - ŷ| / max(|y|, eps), as a fraction
        expected = {
            "mae": sk.mean_absolute_error(y, forecast),
            "rmse": sk.root_mean_squared_error(y, forecast),
            "mape": sk.mean_absolute_percentage_error(y, forecast),
            "r2": sk.r2_score(y, forecast),
        }
        measured = performance.metrics()
        assert_metrics_match(measured, {k: float(v) for k, v in expected.items()}, scope)
        assert set(measured) == set(expected), scope


def test_r2_of_targets_whose_spread_underflows_is_sklearns_not_a_crash() -> None:
    # targets differ, but their squared deviations underflow to 0.0: no division by zero
    rows = pd.DataFrame(
        {"price": [1.0, 2.0], "store": ["north"] * 2, "sold": [0.0, 1e-170], "forecast": [0.0, 1.0]}
    )
    _, profile = profile_in_chunks(REGRESSION, demand_frame(np.random.default_rng(0), 50), rows, 0)
    expected = sk.r2_score(rows["sold"], rows["forecast"])
    assert performance_in(profile, "store=north").metrics()["r2"] == expected == 0.0


def test_regression_slices_measure_mean_absolute_error() -> None:
    rng = np.random.default_rng(6)
    baseline, current = demand_frame(rng, 2_000), demand_frame(rng, 4_000)
    _, profile = profile_in_chunks(REGRESSION, baseline, current, seed=1)
    assert profile.slices is not None and profile.slices.metric == "mae"
    labelled = current[current["sold"].notna()]
    error = (labelled["sold"] - labelled["forecast"]).abs()
    for store, rows in labelled.groupby("store"):
        n, total, squares = profile.slices.cells[f"store={store}"]
        assert n == len(rows)
        assert math.isclose(total, float(error[rows.index].sum()), rel_tol=REL)
        assert math.isclose(squares, float((error[rows.index] ** 2).sum()), rel_tol=REL)
    worst = profile.slices.worst()
    # the west stores are forecast 6 units too high: the worst slice is about them
    assert worst[0].slice.startswith("store=west"), worst[0]
    assert all(item.rows >= 30 and item.gap > 0 for item in worst)


def assert_json_round_trip(profile: DatasetProfile) -> Any:
    """A profile read back from JSON reads the same metrics; returns the profile read back."""
    again = DatasetProfile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert again.performance is not None and profile.performance is not None
    assert again.performance.metrics() == profile.performance.metrics()
    return again


def test_binary_profile_with_performance_survives_json(
    credit: tuple[pd.DataFrame, Reference, DatasetProfile],
) -> None:
    _, _, profile = credit
    again = assert_json_round_trip(profile)
    for key, segment in profile.segments.items():
        assert segment.performance is not None
        assert again.segments[key].performance.metrics() == segment.performance.metrics()
    assert again.slices == profile.slices
