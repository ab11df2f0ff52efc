"""The class prior estimated from the predictions, through driftline's own profiles and
evaluations: ``performance.estimated.label_shift`` is the core's estimate on the baseline's
confusion counts and the window's predicted classes, whatever batches the window merges, and
on data with a known prior shift it finds the prior, and the accuracy, that the labels held
back give.
"""

from __future__ import annotations

import json
from functools import reduce
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.config import load_monitor_definition
from driftline.estimation.label_shift import BINARY_CLASSES, estimate_prior
from driftline.evaluation import evaluate, profile_spec
from driftline.profile.dataset import DatasetProfile, Reference, build_reference, profile_frames

DEFINITION = """
model: churn
schema:
  id: customer_id
  task: binary_classification
  prediction: churn_predicted
  score: churn_score
  label: churned
  positive_class: 1
  features: {tenure: numeric, plan: categorical}
  segments: [plan]
baseline: {path: baselines/churn/reference.csv}
"""
BASELINE_PRIOR = 0.2


def rows(count: int, *, prior: float, seed: int) -> pd.DataFrame:
    """Rows of a model whose feature is N(0.75, 1) for a churner and N(−0.75, 1) for the
    others in every period (a change of the prior is all that can change), scored with the
    probability of churning at the baseline's prior and predicted at 0.5."""
    rng = np.random.default_rng(seed)
    churned = (rng.uniform(size=count) < prior).astype(int)
    feature = rng.normal(np.where(churned == 1, 0.75, -0.75), 1.0)
    score = 1 / (1 + np.exp(-(1.5 * feature + np.log(BASELINE_PRIOR / (1 - BASELINE_PRIOR)))))
    return pd.DataFrame(
        {
            "customer_id": np.arange(count),
            "tenure": feature.round(3),
            "plan": rng.choice(["basic", "pro"], count),
            "churn_score": score,
            "churn_predicted": (score >= 0.5).astype(int),
            "churned": churned,
        }
    )


def setting() -> tuple[Any, Reference, pd.DataFrame]:
    definition = load_monitor_definition(DEFINITION)
    baseline = rows(20_000, prior=BASELINE_PRIOR, seed=1)
    spec = profile_spec(definition)
    chunks = [baseline.iloc[i : i + 5_000] for i in range(0, len(baseline), 5_000)]
    return definition, build_reference(lambda: chunks, spec), baseline


def oracle(baseline: pd.DataFrame, current: pd.DataFrame) -> dict[str, Any]:
    """The core's estimate on the rows themselves: the baseline's rows counted by
    (predicted, true) class and the current rows by predicted class."""
    counts = pd.crosstab(baseline["churn_predicted"], baseline["churned"]).to_numpy()
    predicted = current["churn_predicted"].value_counts().reindex([0, 1]).to_numpy()
    estimate = estimate_prior(counts, predicted, class_names=BINARY_CLASSES)
    lower, upper = estimate.interval(1)
    assert estimate.accuracy is not None
    accuracy_lower, accuracy_upper = estimate.accuracy_interval()
    return {
        "method": "bbse",
        "prior": estimate.share(1),
        "lower": lower,
        "upper": upper,
        "baseline_prior": estimate.baseline_prior[1],
        "shifted": estimate.shifted(1),
        "consistent": estimate.consistent(1),
        "accuracy_at_prior": {
            "value": estimate.accuracy,
            "lower": accuracy_lower,
            "upper": accuracy_upper,
        },
        "rates": {
            "true_positive_rate": estimate.rates[1][1],
            "false_positive_rate": estimate.rates[1][0],
        },
        "rows": {"baseline": len(baseline), "current": len(current)},
    }


def standard_error(section: dict[str, Any]) -> float:
    """An estimate's standard error read off its 95 % interval (not clipped here)."""
    assert section["lower"] > 0.0 and section["upper"] < 1.0
    return float(section["upper"] - section["lower"]) / (2 * 1.959963984540054)


def stored(profile: DatasetProfile) -> DatasetProfile:
    """The profile as the profiling function stores it and the evaluate function reads it."""
    return DatasetProfile.from_dict(json.loads(json.dumps(profile.to_dict())))


def test_a_window_with_more_churners_finds_the_prior_and_the_accuracy_the_labels_give() -> None:
    # GIVEN a baseline with 20 % churners and an unlabelled window of 20,000 rows with 45 %,
    # the per-class behaviour of the model unchanged
    definition, reference, baseline = setting()
    labelled = rows(20_000, prior=0.45, seed=2)
    current = labelled.drop(columns="churned")
    profile = stored(profile_frames([current], profile_spec(definition), reference.bins))
    # WHEN evaluated
    result = evaluate(definition, reference, profile, evaluation_id="shifted").to_dict()
    estimated = result["performance"]["estimated"]
    section = estimated["label_shift"]
    # THEN the section is the core's estimate on the same rows
    assert section == oracle(baseline, current)
    # AND the prior the rows were drawn with is within three standard errors (half the
    # interval / 1.96) of the estimate, far from the baseline's (one draw: the interval's
    # 95 % coverage is tested over 1,000 draws in tests/unit/estimation)
    assert abs(section["prior"] - 0.45) <= 3 * standard_error(section)
    assert section["baseline_prior"] == pytest.approx(BASELINE_PRIOR, abs=0.01)
    assert section["shifted"] and section["consistent"]
    # AND so is the accuracy the held-back labels give of the accuracy at that prior
    realised = float((labelled["churn_predicted"] == labelled["churned"]).mean())
    at_prior = section["accuracy_at_prior"]
    assert abs(at_prior["value"] - realised) <= 3 * standard_error(at_prior)
    # AND (why the section is there) the estimate from the scores, which assumes the chance
    # of churning at a given score unchanged, misses both: the shift breaks that assumption
    assert estimated["expected_positive_share"]["overall"] < section["lower"]
    assert not (
        estimated["overall"]["accuracy"]["lower"]
        <= realised
        <= estimated["overall"]["accuracy"]["upper"]
    )


def test_a_window_with_the_baselines_prior_is_not_called_shifted() -> None:
    # GIVEN an unlabelled window drawn with the baseline's own prior
    definition, reference, baseline = setting()
    current = rows(5_000, prior=BASELINE_PRIOR, seed=3).drop(columns="churned")
    profile = profile_frames([current], profile_spec(definition), reference.bins)
    # WHEN evaluated THEN the baseline's prior lies in the interval
    section = evaluate(definition, reference, profile, evaluation_id="steady").to_dict()[
        "performance"
    ]["estimated"]["label_shift"]
    assert section == oracle(baseline, current)
    assert section["lower"] <= section["baseline_prior"] <= section["upper"]
    assert not section["shifted"] and section["consistent"]


def test_the_section_of_a_window_of_batches_is_the_section_of_all_its_rows() -> None:
    # GIVEN hourly batches of different sizes and priors, each profiled and stored alone
    definition, reference, baseline = setting()
    spec = profile_spec(definition)
    batches = [
        rows(size, prior=prior, seed=10 + i).drop(columns="churned")
        for i, (size, prior) in enumerate([(700, 0.2), (2_500, 0.3), (40, 0.5), (1_300, 0.4)])
    ]
    profiles = [stored(profile_frames([batch], spec, reference.bins)) for batch in batches]
    # WHEN the window merges them in two orders
    sections = [
        evaluate(
            definition, reference, reduce(DatasetProfile.merge, order), evaluation_id="w"
        ).to_dict()["performance"]["estimated"]["label_shift"]
        for order in (profiles, profiles[::-1])
    ]
    # THEN both are the estimate on all the rows together, to the bit
    everything = pd.concat(batches, ignore_index=True)
    assert sections[0] == sections[1] == oracle(baseline, everything)


def test_a_baseline_without_labelled_positives_gives_a_skip_reason() -> None:
    # GIVEN a baseline whose labelled rows are all of the negative class
    definition = load_monitor_definition(DEFINITION)
    spec = profile_spec(definition)
    data = rows(2_000, prior=BASELINE_PRIOR, seed=4).assign(churned=0)
    reference = build_reference(lambda: [data], spec)
    current = profile_frames([rows(500, prior=0.3, seed=5)], spec, reference.bins)
    # WHEN evaluated THEN the estimate from the scores stands, and the section says why it
    # has no prior
    estimated = evaluate(definition, reference, current, evaluation_id="x").to_dict()[
        "performance"
    ]["estimated"]
    assert "overall" in estimated
    assert estimated["label_shift"] == {
        "skip": "the baseline has no labelled row of the positive class"
    }


@pytest.mark.parametrize("change", [{"score": None}, {"prediction": None}])
def test_a_model_without_an_estimate_has_no_section(change: dict[str, Any]) -> None:
    # GIVEN a binary classifier without a score, or without a prediction column
    raw = load_monitor_definition(DEFINITION).model_dump(mode="json", by_alias=True)
    raw["schema"].update(change)
    definition = load_monitor_definition(json.dumps(raw))
    spec = profile_spec(definition)
    reference = build_reference(lambda: [rows(2_000, prior=0.2, seed=6)], spec)
    current = profile_frames([rows(500, prior=0.2, seed=7)], spec, reference.bins)
    # THEN the estimated section is the skip reason alone
    estimated = evaluate(definition, reference, current, evaluation_id="x").to_dict()[
        "performance"
    ]["estimated"]
    assert set(estimated) == {"skip"}
