"""Every catalogued metric, read off a profile merged from several batches, against an
oracle on the raw rows (scikit-learn where it has the metric); and the catalogue's data
(directions, ranges, needs) against what each metric is."""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Callable
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk

import driftline.metrics
from driftline.errors import InsufficientDataError
from driftline.metrics import (
    METRICS,
    PerformanceProfile,
    compute_metric,
    get_metric,
    profile_performance,
)
from driftline.metrics.catalogue import CHECK_METRICS
from driftline.metrics.computation import FORMULAS

# -- data sets -------------------------------------------------------------------------------


def _binary() -> pd.DataFrame:
    """Imbalanced labels (10 % positive, 5 % unlabelled), tied scores, three groups."""
    rng = np.random.default_rng(101)
    n = 6000
    y = (rng.random(n) < 0.1).astype(float)
    p = np.round(1 / (1 + np.exp(-rng.normal(1.5 * y - 1.0, 1.0))), 2)
    group = rng.choice(["a", "b", "c"], p=[0.5, 0.3, 0.2], size=n)
    pred = ((p + 0.1 * (group == "a")) > 0.5).astype(int)
    y[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"y": y, "pred": pred, "p": p, "group": group})


def _multiclass() -> pd.DataFrame:
    rng = np.random.default_rng(102)
    n = 3000
    y = rng.choice(["cat", "dog", "eel", "fox"], p=[0.5, 0.3, 0.15, 0.05], size=n)
    pred = np.where(rng.random(n) < 0.6, y, rng.choice(["cat", "dog", "gnu"], size=n))
    return pd.DataFrame({"y": y, "pred": pred})


def _regression() -> pd.DataFrame:
    rng = np.random.default_rng(103)
    y = rng.gamma(2.0, 50.0, 4000)
    y[:40] = 0.0  # zero targets: MAPE's epsilon
    return pd.DataFrame({"y": y, "pred": y * rng.normal(1.0, 0.2, y.size) + 5})


def _ranking() -> pd.DataFrame:
    rng = np.random.default_rng(104)
    sizes = rng.integers(1, 15, 300)
    q = np.repeat(np.arange(300), sizes)
    y = rng.choice([0, 0, 0, 1, 2], size=q.size)
    s = np.round(rng.random(q.size) + 0.2 * y, 1)
    bought = (rng.random(q.size) < 0.03).astype(int)
    return pd.DataFrame({"q": q, "s": s, "y": y, "bought": bought})


DATA: dict[str, tuple[pd.DataFrame, dict[str, Any]]] = {
    "binary": (
        _binary(),
        {
            "task": "binary_classification",
            "label": "y",
            "prediction": "pred",
            "score": "p",
            "sensitive": "group",
            "positive_class": 1,
        },
    ),
    "multiclass": (
        _multiclass(),
        {"task": "multiclass_classification", "label": "y", "prediction": "pred"},
    ),
    "regression": (_regression(), {"task": "regression", "label": "y", "prediction": "pred"}),
    "ranking": (
        _ranking(),
        {
            "task": "ranking",
            "label": "y",
            "query": "q",
            "score": "s",
            "k": 5,
            "conversion": "bought",
        },
    ),
}


def merged_profile(name: str) -> PerformanceProfile:
    """The data set profiled in four batches (queries kept whole) and merged."""
    frame, options = DATA[name]
    if name == "ranking":
        batches = [part for _, part in frame.groupby(frame["q"] % 4)]
    else:
        cuts = np.linspace(0, len(frame), 5).astype(int)
        batches = [frame.iloc[a:b] for a, b in itertools.pairwise(cuts)]
    return reduce(
        PerformanceProfile.merge, (profile_performance(batch, **options) for batch in batches)
    )


def labelled(name: str) -> pd.DataFrame:
    frame, _ = DATA[name]
    return frame[frame["y"].notna()]


# -- oracles on raw rows ---------------------------------------------------------------------


def _ranking_oracle(metric: str) -> Callable[[pd.DataFrame], float]:
    def compute(frame: pd.DataFrame) -> float:
        values = []
        for _, group in frame.groupby("q"):
            items = sorted(zip(group["s"], group["y"], strict=True), key=lambda t: (-t[0], t[1]))
            relevant = sum(r > 0 for _, r in items)
            # precision@5 and recall@5 with ties averaged: expected hits in the top 5
            hits, taken = 0.0, 0
            for score in sorted({s for s, _ in items}, reverse=True):
                tied = [r for s, r in items if s == score]
                hits += max(0, min(len(tied), 5 - taken)) * sum(r > 0 for r in tied) / len(tied)
                taken += len(tied)
            if metric == "precision_at_k":
                values.append(hits / 5)
            elif relevant == 0:
                continue
            elif metric == "recall_at_k":
                values.append(hits / relevant)
            elif metric == "map_at_k":
                found, total = 0, 0.0
                for position, (_, r) in enumerate(items[:5], start=1):
                    if r > 0:
                        found += 1
                        total += found / position
                values.append(total / min(5, relevant))
            elif metric == "mrr":
                values.append(1 / next(i for i, (_, r) in enumerate(items, start=1) if r > 0))
            elif len(items) == 1:
                values.append(1.0)
            else:
                values.append(sk.ndcg_score([group["y"].to_numpy()], [group["s"].to_numpy()], k=5))
        return float(np.mean(values))

    return compute


def _tpr_gap(frame: pd.DataFrame) -> float:
    rates = [sk.recall_score(part["y"], part["pred"]) for _, part in frame.groupby("group")]
    return max(rates) - min(rates)


def _impact(frame: pd.DataFrame) -> float:
    rates = (frame["pred"] == 1).groupby(frame["group"]).mean()
    return float(rates.min() / rates.max())


Oracle = Callable[[pd.DataFrame], float]

#: Metric name -> [(data set, oracle on its labelled rows)]. A registered metric missing
#: here fails test_every_registered_metric_has_an_oracle.
ORACLES: dict[str, list[tuple[str, Oracle]]] = {
    "accuracy": [
        ("binary", lambda f: sk.accuracy_score(f["y"], f["pred"])),
        ("multiclass", lambda f: sk.accuracy_score(f["y"], f["pred"])),
    ],
    "error_rate": [
        ("binary", lambda f: sk.zero_one_loss(f["y"], f["pred"])),
        ("multiclass", lambda f: sk.zero_one_loss(f["y"], f["pred"])),
    ],
    "precision": [("binary", lambda f: sk.precision_score(f["y"], f["pred"]))],
    "recall": [("binary", lambda f: sk.recall_score(f["y"], f["pred"]))],
    "f1": [("binary", lambda f: sk.f1_score(f["y"], f["pred"]))],
    "positive_rate": [("binary", lambda f: float((f["pred"] == 1).mean()))],
    **{
        f"{name}_{average}": [
            (
                "binary",
                lambda f, m=metric, a=average: m(f["y"], f["pred"], average=a, zero_division=0.0),
            ),
            (
                "multiclass",
                lambda f, m=metric, a=average: m(f["y"], f["pred"], average=a, zero_division=0.0),
            ),
        ]
        for name, metric in (
            ("precision", sk.precision_score),
            ("recall", sk.recall_score),
            ("f1", sk.f1_score),
        )
        for average in ("macro", "micro")
        if f"{name}_{average}" in CHECK_METRICS
    },
    "auc": [("binary", lambda f: sk.roc_auc_score(f["y"], f["p"]))],
    "gini": [("binary", lambda f: 2 * sk.roc_auc_score(f["y"], f["p"]) - 1)],
    "log_loss": [("binary", lambda f: sk.log_loss(f["y"], f["p"], labels=[0, 1]))],
    "brier": [("binary", lambda f: sk.brier_score_loss(f["y"], f["p"], pos_label=1))],
    "disparate_impact": [("binary", _impact)],
    "equal_opportunity_difference": [("binary", _tpr_gap)],
    "mae": [("regression", lambda f: sk.mean_absolute_error(f["y"], f["pred"]))],
    "rmse": [("regression", lambda f: sk.root_mean_squared_error(f["y"], f["pred"]))],
    "mape": [("regression", lambda f: sk.mean_absolute_percentage_error(f["y"], f["pred"]))],
    "r2": [("regression", lambda f: sk.r2_score(f["y"], f["pred"]))],
    "ctr": [("ranking", lambda f: float((f["y"] > 0).mean()))],
    "conversion_rate": [("ranking", lambda f: float(f["bought"].mean()))],
    **{
        name: [("ranking", _ranking_oracle(name))]
        for name in ("precision_at_k", "recall_at_k", "map_at_k", "ndcg_at_k", "mrr")
    },
}

CASES = [(name, data, oracle) for name, cases in ORACLES.items() for data, oracle in cases]


@pytest.mark.parametrize(
    ("name", "data", "oracle"), CASES, ids=[f"{name}-{data}" for name, data, _ in CASES]
)
def test_metric_from_merged_profiles_equals_oracle_on_raw_rows(
    name: str, data: str, oracle: Oracle
) -> None:
    # GIVEN a data set profiled in four batches whose profiles are merged
    profile = merged_profile(data)
    # WHEN the metric is read off the merged profile
    value = compute_metric(profile, name)
    # THEN it equals the oracle on all labelled rows (AUC: within the profile's bound)
    expected = oracle(labelled(data))
    if name in ("auc", "gini"):
        assert profile.scores is not None
        bound = profile.scores.auc_error_bound * (2 if name == "gini" else 1)
        assert abs(value - expected) <= bound + 1e-12
        # scores rounded to 2 decimals tie exactly, which the exact AUC counts half as well
        assert abs(value - expected) <= 1e-3
    else:
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_every_registered_metric_has_an_oracle() -> None:
    assert set(METRICS) == set(ORACLES)
    tasks = {"binary": "binary_classification", "multiclass": "multiclass_classification"}
    for name, spec in METRICS.items():
        tested = {tasks.get(data, data) for data, _ in ORACLES[name]}
        assert tested == set(spec.tasks), f"{name}: oracles for {tested}, applies to {spec.tasks}"


def test_metrics_needing_a_score_are_those_the_config_asks_a_score_for() -> None:
    # config.py requires schema.score for the metrics whose needs list it: exactly those
    # read off the score histograms
    assert {name for name, spec in METRICS.items() if spec.needs_score} == {
        "auc",
        "gini",
        "log_loss",
        "brier",
    }
    for name, spec in CHECK_METRICS.items():
        assert spec.needs_score == ("score" in spec.needs), name
        assert spec.needs_sensitive == ("sensitive" in spec.needs), name
        assert ("query" in spec.needs) == (spec.part == "ranking"), name


def test_direction_matches_sklearn_naming_and_config_ranges() -> None:
    for name, spec in METRICS.items():
        low, _ = spec.value_range
        if spec.higher_is_better is False:
            assert low == 0.0, f"{name}: a loss or error is 0 at best"
        if name in ("r2", "auc", "accuracy"):
            assert spec.higher_is_better is True
    assert METRICS["positive_rate"].higher_is_better is None


def test_profile_metrics_lists_every_metric_of_its_task() -> None:
    for data, task in (
        ("binary", "binary_classification"),
        ("multiclass", "multiclass_classification"),
        ("regression", "regression"),
        ("ranking", "ranking"),
    ):
        metrics = merged_profile(data).metrics()
        expected = {name for name, spec in METRICS.items() if task in spec.tasks}
        assert set(metrics) == expected
        assert all(isinstance(value, float) for value in metrics.values()), metrics


def test_compute_metric_errors_are_readable() -> None:
    profile = merged_profile("regression")
    with pytest.raises(ValueError, match=r"unknown performance metric 'auroc'; allowed: accuracy"):
        compute_metric(profile, "auroc")
    with pytest.raises(
        InsufficientDataError, match="auc applies to binary_classification, not"
    ) as e:
        compute_metric(profile, "auc")
    assert e.value.reason == "metric_not_applicable"
    with pytest.raises(ValueError, match="unknown performance metric"):
        get_metric("label_coverage")


def test_zero_division_nan_makes_an_undefined_precision_insufficient_data() -> None:
    # GIVEN a window with no predicted positives
    frame = pd.DataFrame({"y": [0, 1, 0], "pred": [0, 0, 0]})
    profile = profile_performance(frame, task="binary_classification", label="y", prediction="pred")
    # THEN precision follows sklearn's default (0.0), or is undefined with zero_division=nan
    assert compute_metric(profile, "precision") == 0.0
    with pytest.raises(InsufficientDataError, match="precision is undefined") as caught:
        compute_metric(profile, "precision", zero_division=math.nan)
    assert caught.value.reason == "zero_division"
    assert compute_metric(profile, "precision", zero_division=1.0) == 1.0


def test_every_catalogued_metric_has_one_formula_in_the_catalogue_order() -> None:
    # GIVEN the catalogue and the computation
    # THEN every metric read off a profile has one formula, and no formula is left over
    assert list(FORMULAS) == list(METRICS)


def _driftline_imports(path: Path) -> set[str]:
    """The driftline modules a source file imports, at any level (TYPE_CHECKING too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "driftline"}


def test_the_catalogue_is_the_bottom_of_the_metrics_and_the_profile_sits_on_top() -> None:
    # GIVEN the sources of the catalogue, the computation and the profile
    folder = Path(driftline.metrics.__file__).parent
    imports = {
        name: _driftline_imports(folder / f"{name}.py")
        for name in ("catalogue", "computation", "profile")
    }
    # THEN the catalogue imports nothing of driftline, the computation never the profile,
    # and the profile imports both: no cycle, not even one hidden behind TYPE_CHECKING
    assert imports["catalogue"] == set()
    assert "driftline.metrics.profile" not in imports["computation"]
    assert {"driftline.metrics.catalogue", "driftline.metrics.computation"} <= imports["profile"]
