"""Fairness metrics against pandas ``groupby`` and scikit-learn's ``recall_score`` per group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk

from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.metrics import (
    GroupCounts,
    disparate_impact,
    equal_opportunity_difference,
    group_positive_rates,
    group_true_positive_rates,
)


def fairness_frame(seed: int, n: int) -> pd.DataFrame:
    """Three groups with different base rates and model behaviour, a few missing groups."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], p=[0.6, 0.3, 0.1], size=n).astype(object)
    base = pd.Series(group).map({"a": 0.3, "b": 0.2, "c": 0.5}).to_numpy()
    y_true = (rng.random(n) < base).astype(int)
    hit = pd.Series(group).map({"a": 0.8, "b": 0.6, "c": 0.7}).to_numpy()
    y_pred = np.where(y_true == 1, rng.random(n) < hit, rng.random(n) < 0.1).astype(int)
    group[rng.random(n) < 0.02] = None
    return pd.DataFrame({"group": group, "y_true": y_true, "y_pred": y_pred})


@pytest.mark.parametrize(("seed", "n"), [(1, 60), (2, 2000), (3, 50_000)])
@pytest.mark.parametrize("positive", [1, 0])
def test_fairness_metrics_equal_groupby_and_sklearn(seed: int, n: int, positive: int) -> None:
    # GIVEN predictions for three groups (rows without a group are left out, as groupby does)
    frame = fairness_frame(seed, n)
    predicted = frame["y_pred"] == positive
    expected_rates = predicted.groupby(frame["group"]).mean().to_dict()
    expected_tpr = {
        name: sk.recall_score(part["y_true"], part["y_pred"], pos_label=positive)
        for name, part in frame.groupby("group")
        if (part["y_true"] == positive).any()
    }
    args = (frame["y_pred"], frame["group"])
    # THEN the per-group rates and both summaries equal the oracles
    assert group_positive_rates(*args, positive_class=positive) == pytest.approx(expected_rates)
    tpr = group_true_positive_rates(
        frame["y_true"], frame["y_pred"], frame["group"], positive_class=positive
    )
    assert tpr == pytest.approx(expected_tpr)
    assert disparate_impact(*args, positive_class=positive) == pytest.approx(
        min(expected_rates.values()) / max(expected_rates.values())
    )
    eod = equal_opportunity_difference(
        frame["y_true"], frame["y_pred"], frame["group"], positive_class=positive
    )
    assert eod == pytest.approx(max(expected_tpr.values()) - min(expected_tpr.values()))


def test_group_without_actual_positives_is_left_out_of_equal_opportunity() -> None:
    y_true = [1, 1, 0, 0, 1, 0]
    y_pred = [1, 0, 1, 0, 1, 1]
    groups = ["a", "a", "b", "b", "c", "c"]
    assert group_true_positive_rates(y_true, y_pred, groups) == {"a": 0.5, "c": 1.0}
    assert equal_opportunity_difference(y_true, y_pred, groups) == 0.5


def test_fairness_undefined_cases_raise_insufficient_data_with_reason() -> None:
    with pytest.raises(InsufficientDataError, match=r"needs at least two groups; got 1$"):
        disparate_impact([1, 0], ["a", "a"])
    with pytest.raises(InsufficientDataError, match="none of the 2 groups has a positive"):
        disparate_impact([0, 0], ["a", "b"])
    with pytest.raises(InsufficientDataError, match="two groups with actual positives; got 1"):
        equal_opportunity_difference([1, 0], [1, 1], ["a", "b"])


def test_bad_fairness_input_says_what_was_received() -> None:
    with pytest.raises(InvalidInputError, match="groups has 3, y_pred has 2 rows"):
        disparate_impact([1, 0], ["a", "b", "c"])
    with pytest.raises(
        InvalidInputError, match=r"positive_class 1 is not one of the 2 classes \(2 text\)"
    ):
        disparate_impact(["yes", "no"], ["a", "b"])


def test_group_counts_round_trip_and_merge_exactly() -> None:
    frame = fairness_frame(4, 500)
    halves = [frame.iloc[:250], frame.iloc[250:]]
    parts = [
        GroupCounts.from_labels(h["y_true"], h["y_pred"], h["group"], positive_class=1)
        for h in halves
    ]
    whole = GroupCounts.from_labels(
        frame["y_true"], frame["y_pred"], frame["group"], positive_class=1
    )
    assert parts[0].merge(parts[1]) == whole == parts[1].merge(parts[0])
    assert GroupCounts.from_dict(whole.to_dict()) == whole
