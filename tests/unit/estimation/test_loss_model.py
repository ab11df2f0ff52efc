"""A regression model's estimated MAE and RMSE: the additive loss model against a least
squares fit and a hand computation on the same rows, the estimate of merged profiles
against the estimate of their rows together, determinism of the stored model, estimated
checks at validation, and an end-to-end evaluation of a small frame."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.cli import main
from driftline.config import load_monitor_definition
from driftline.config.definition import MonitorDefinition
from driftline.errors import ConfigError, InvalidInputError
from driftline.estimation.loss_model import (
    SHRINKAGE,
    LossCells,
    LossModel,
    LossRows,
    RegressionColumns,
    fit_additive,
    term_codes,
)
from driftline.evaluation import evaluate, profile_spec
from driftline.profile.dataset import Reference, build_reference, profile_frames

DEFINITION = """
model: prices
schema:
  task: regression
  prediction: price_hat
  label: price
  features: {age: numeric, fuel: categorical}
  segments: [fuel]
baseline: {path: baselines/prices/training.csv}
checks:
  - {name: mae-est, metric: mae, estimated: true, max: 1.5}
  - {name: rmse-est, metric: rmse, estimated: true, max: 100, segment: {fuel: diesel}}
"""


def rows_of(n: int, seed: int, *, old: float = 0.5) -> pd.DataFrame:
    """Rows whose error grows with the prediction times the age (an interaction of the
    prediction's level and a feature, which the pairs of bins hold), and is larger for
    diesel cars; ``old`` is the share of cars above 10 years."""
    rng = np.random.default_rng(seed)
    age = np.where(rng.uniform(size=n) < old, rng.uniform(10, 20, n), rng.uniform(0, 10, n))
    fuel = rng.choice(["diesel", "gas", "electric"], size=n, p=[0.3, 0.5, 0.2])
    prediction = rng.uniform(1, 10, n)
    scale = 0.2 * prediction * (1 + age / 5) + 0.5 * (fuel == "diesel")
    price = prediction + rng.normal(scale=scale)
    return pd.DataFrame({"age": age, "fuel": fuel, "price_hat": prediction, "price": price})


@pytest.fixture(scope="module")
def definition() -> MonitorDefinition:
    return load_monitor_definition(DEFINITION)


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return rows_of(6_000, seed=1)


@pytest.fixture(scope="module")
def reference(definition: MonitorDefinition, baseline: pd.DataFrame) -> Reference:
    chunks = [baseline.iloc[i : i + 1_000] for i in range(0, len(baseline), 1_000)]
    return build_reference(lambda: chunks, profile_spec(definition))


def codes_by_hand(frame: pd.DataFrame, reference: Reference) -> np.ndarray:
    """Each row's bin of the prediction, age and fuel, with pandas alone: the histogram's
    bins on the baseline's edges (below the first edge is bin 0), the vocabulary's
    positions, then another category and a missing one."""
    bins = reference.bins
    columns = []
    for name in ("price_hat", "age"):
        edges = [-np.inf, *bins.edges[name], np.inf]
        cut = pd.cut(frame[name], edges, right=False, labels=False)
        columns.append(cut.fillna(len(bins.edges[name]) + 1).astype(int).to_numpy())
    vocabulary = list(bins.vocabularies["fuel"])
    position = frame["fuel"].map({category: i for i, category in enumerate(vocabulary)})
    columns.append(position.fillna(len(vocabulary)).astype(int).to_numpy())
    return np.stack(columns, axis=1)


def test_backfitting_without_shrinkage_is_the_least_squares_fit_of_the_bins() -> None:
    # GIVEN rows in bins of two columns, a target additive in them plus noise
    rng = np.random.default_rng(3)
    codes = np.stack([rng.integers(0, 5, 2_000), rng.integers(0, 4, 2_000)], axis=1)
    target = np.array([0.0, 1, 3, 2, 5])[codes[:, 0]] + np.array([1.0, 0, 2, 4])[codes[:, 1]]
    target += rng.normal(size=2_000)

    # WHEN it is fitted by backfitting with no shrinkage, and by least squares on one-hot
    fit = fit_additive(codes, (5, 4), target, sweeps=200, shrinkage=0.0)
    design = np.concatenate(
        [np.ones((2_000, 1)), np.eye(5)[codes[:, 0]], np.eye(4)[codes[:, 1]]], axis=1
    )
    coefficients = np.linalg.lstsq(design, target, rcond=None)[0]

    # THEN the fitted values agree, and the residual variance is least squares'
    np.testing.assert_allclose(fit.predict(codes), design @ coefficients, atol=1e-8)
    residual = target - design @ coefficients
    assert fit.residual_variance == pytest.approx(float(np.mean(residual**2)), rel=1e-9)


def test_a_single_column_fit_is_each_bins_mean_shrunk_towards_the_overall_mean() -> None:
    # GIVEN one column's bins and a target
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 6, (500, 1))
    target = rng.exponential(size=500) * (1 + codes[:, 0])

    # WHEN it is fitted
    fit = fit_additive(codes, (6,), target)

    # THEN each bin's value is (sum + shrinkage · mean) / (rows + shrinkage), centred: by hand
    frame = pd.DataFrame({"bin": codes[:, 0], "y": target})
    grouped = frame.groupby("bin")["y"].agg(["sum", "count"])
    effect = (grouped["sum"] - grouped["count"] * target.mean()) / (grouped["count"] + SHRINKAGE)
    effect -= float((grouped["count"] * effect).sum()) / 500
    np.testing.assert_allclose(np.array(fit.effects[0]), effect.to_numpy(), atol=1e-12)
    assert fit.intercept == pytest.approx(target.mean())


def test_the_estimate_is_the_mean_expected_loss_of_the_rows_computed_by_hand(
    definition: MonitorDefinition, reference: Reference
) -> None:
    # GIVEN a batch of new rows, more of them old cars, and the baseline's loss model
    batch = rows_of(3_000, seed=2, old=0.8)
    model = reference.loss_model
    assert model is not None and model.absolute is not None and model.squared is not None

    # WHEN the batch is profiled and estimated
    profile = profile_frames([batch], profile_spec(definition), reference.bins)
    assert profile.loss_cells is not None
    estimate = model.estimate(profile.loss_cells)

    # THEN MAE is the mean of each row's expected |e|, RMSE the root of the mean expected
    # e², each row's read off the stored effects at its bins found with pandas
    columns = model.columns
    terms = term_codes(codes_by_hand(batch, reference), columns)
    absolute = model.absolute.intercept + sum(
        np.asarray(effect)[terms[:, j]] for j, effect in enumerate(model.absolute.effects)
    )
    squared = model.squared.intercept + sum(
        np.asarray(effect)[terms[:, j]] for j, effect in enumerate(model.squared.effects)
    )
    assert estimate.rows == 3_000
    assert estimate.metrics["mae"] == pytest.approx(float(absolute.mean()), rel=1e-12)
    assert estimate.metrics["rmse"] == pytest.approx(math.sqrt(float(squared.mean())), rel=1e-12)
    # and it follows the change: old diesel cars err more, as the realised error says
    errors = batch["price"] - batch["price_hat"]
    realised = float(errors.abs().mean())
    baseline_mae = model.absolute.intercept
    assert realised > 1.1 * baseline_mae
    assert abs(estimate.metrics["mae"] - realised) < 0.25 * (realised - baseline_mae)


def test_the_estimate_of_merged_profiles_is_the_estimate_of_their_rows_together(
    definition: MonitorDefinition, reference: Reference
) -> None:
    # GIVEN three batches, profiled one by one and all together
    spec = profile_spec(definition)
    batches = [rows_of(700, seed=seed) for seed in (5, 6, 7)]
    merged = profile_frames(batches[:1], spec, reference.bins)
    for batch in batches[1:]:
        merged = merged.merge(profile_frames([batch], spec, reference.bins))
    together = profile_frames([pd.concat(batches, ignore_index=True)], spec, reference.bins)

    # THEN the cells are the same counts, and so the estimates, overall and per segment
    assert merged.loss_cells == together.loss_cells
    first = evaluate(definition, reference, merged, evaluation_id="a").to_dict()
    second = evaluate(definition, reference, together, evaluation_id="a").to_dict()
    assert first["performance"]["estimated"] == second["performance"]["estimated"]


def test_the_stored_loss_model_is_the_same_bytes_for_the_same_baseline_and_round_trips(
    definition: MonitorDefinition, baseline: pd.DataFrame, reference: Reference
) -> None:
    # GIVEN the same baseline profiled again
    again = build_reference(lambda: [baseline], profile_spec(definition))

    # THEN the stored loss model is the same to the byte, and reads back equal
    assert reference.loss_model is not None
    first = json.dumps(reference.loss_model.to_dict(), sort_keys=True)
    assert json.dumps(again.to_dict()["loss_model"], sort_keys=True) == first
    assert LossModel.from_dict(json.loads(first)) == reference.loss_model
    stored = Reference.from_dict(json.loads(json.dumps(reference.to_dict())))
    assert stored.loss_model == reference.loss_model
    # and the model error was measured (6,000 rows: 50 chunks of 120)
    assert reference.loss_model.model_error is not None
    assert set(reference.loss_model.model_error.terms) == {"mae", "rmse"}


def test_a_stored_loss_model_with_effects_of_the_wrong_length_is_refused_naming_the_key(
    reference: Reference,
) -> None:
    assert reference.loss_model is not None
    document: dict[str, Any] = reference.loss_model.to_dict()
    document["absolute"]["effects"][1] = [0.0]
    with pytest.raises(InvalidInputError, match=r"loss_model\.absolute\.effects\[1\]") as raised:
        LossModel.from_dict(document)
    assert raised.value.reason == "invalid_loss_model"


def test_loss_cells_round_trip_and_refuse_a_cell_outside_the_term(reference: Reference) -> None:
    assert reference.profile.loss_cells is not None
    document = reference.profile.loss_cells.to_dict()
    assert LossCells.from_dict(json.loads(json.dumps(document))) == reference.profile.loss_cells
    document["counts"][0] = {"999": 1}
    with pytest.raises(InvalidInputError, match=r"loss_cells\.counts\[0\]"):
        LossCells.from_dict(document)


def test_evaluate_reports_estimated_mae_and_rmse_and_decides_the_estimated_checks(
    definition: MonitorDefinition, reference: Reference
) -> None:
    # GIVEN an unlabelled batch whose errors are larger than the baseline's
    batch = rows_of(2_000, seed=8, old=0.9).drop(columns=["price"])
    batch.loc[:9, "price_hat"] = None  # ten rows without a prediction
    current = profile_frames([batch], profile_spec(definition), reference.bins)

    # WHEN it is evaluated
    result = evaluate(definition, reference, current, evaluation_id="e").to_dict()

    # THEN performance.estimated holds MAE and RMSE with their intervals, overall and per
    # segment, the rows left out, and what the intervals cover
    estimated = result["performance"]["estimated"]
    mae = estimated["overall"]["mae"]
    assert mae["method"] == "loss_model" and mae["lower"] < mae["value"] < mae["upper"]
    assert set(estimated["segments"]["fuel=diesel"]) == {"mae", "rmse"}
    assert estimated["rows"]["overall"] == 1_990
    assert estimated["left_out"]["overall"] == {"prediction_missing": 10}
    assert estimated["interval"]["covers"] == {
        "mae": "sampling_and_model_error",
        "rmse": "sampling_and_model_error",
    }
    # and the estimated checks are decided on the estimates, quoting the interval
    checks = {check["name"]: check for check in result["checks"]}
    assert checks["mae-est"]["status"] == "fail" and mae["value"] > 1.5
    assert "estimated mae" in checks["mae-est"]["detail"]
    assert "estimated from the loss model: 95% interval" in checks["mae-est"]["detail"]
    assert checks["mae-est"]["estimate"]["rows"] == 1_990
    assert checks["mae-est"]["estimate"]["method"] == "loss_model"
    assert checks["rmse-est"]["status"] == "pass"


def test_evaluate_reconciles_the_estimate_once_the_labels_are_in(
    definition: MonitorDefinition, reference: Reference
) -> None:
    # GIVEN a labelled batch of the baseline's kind
    batch = rows_of(2_000, seed=9)
    current = profile_frames([batch], profile_spec(definition), reference.bins)

    # WHEN it is evaluated
    result = evaluate(definition, reference, current, evaluation_id="r").to_dict()

    # THEN the realised MAE is the rows' own, next to the estimate
    reconciled = result["performance"]["reconciled"]["overall"]["mae"]
    errors = batch["price"] - batch["price_hat"]
    assert reconciled["realised"] == pytest.approx(float(errors.abs().mean()), rel=1e-9)
    assert reconciled["estimated"] == result["performance"]["estimated"]["overall"]["mae"]["value"]


def test_a_baseline_without_a_labelled_row_gives_the_reason(
    definition: MonitorDefinition, reference: Reference
) -> None:
    # GIVEN a baseline whose loss model had no labelled row to fit on
    empty = replace(reference, loss_model=LossModel.fitted((), np.empty((0, 0), int), np.empty(0)))

    # THEN the estimate says why there is none
    result = evaluate(definition, empty, reference.profile, evaluation_id="x").to_dict()
    assert result["performance"]["estimated"] == {
        "skip": "the baseline has no loss model: the baseline has no labelled row with a "
        "numeric prediction and label"
    }


def test_driftline_validate_refuses_an_estimated_mae_check_of_a_regression_model_without_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a regression model without a label column, with an estimated MAE check
    config = tmp_path / "prices.yaml"
    config.write_text(DEFINITION.replace("  label: price\n", ""), encoding="utf-8")

    # WHEN `driftline validate` reads it
    code = main(["validate", "--config", str(config)])

    # THEN it exits 2 naming the check and why
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert (
        "checks[0].estimated: check 'mae-est' cannot be estimated: schema.label is not set: "
        "the loss model is fitted on the baseline's labels" in err
    )


def test_an_estimated_check_of_a_classifier_metric_on_a_regression_model_is_refused() -> None:
    text = DEFINITION.replace(
        "metric: mae, estimated: true, max: 1.5", "metric: auc, estimated: true, min: 0.8"
    )
    with pytest.raises(ConfigError, match="auc is not estimated for regression"):
        load_monitor_definition(text)


def test_a_large_baseline_is_fitted_on_evenly_spaced_rows_of_the_file() -> None:
    # GIVEN a baseline of 10 rows, the last unlabelled, gathered in two chunks, and room for 3
    columns = RegressionColumns("p", (("a", "numeric"),), "y")
    frame = pd.DataFrame(
        {"p": np.arange(10.0), "a": np.arange(10.0), "y": [*np.arange(9.0) * 2, np.nan]}
    )
    rows = LossRows(columns, {"p": (5.0,), "a": (5.0,)}, {}, baseline_rows=10, max_rows=3)
    rows.add(frame.iloc[:6])
    rows.add(frame.iloc[6:])

    # WHEN the loss model is fitted
    model = rows.loss_model()

    # THEN every 4th row of the file (0, 4, 8) is fitted on, and the labelled rows counted
    assert (model.rows, model.fitted_rows) == (9, 3)
    assert model.absolute is not None
    assert model.absolute.intercept == pytest.approx(np.mean([0.0, 4.0, 8.0]))
