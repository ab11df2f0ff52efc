"""No drift or quality decision on too little evidence: such a check is skip, with the
reason; a volume or absent-column check still decides on any number of rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftline.config import load_monitor_definition
from driftline.evaluation import evaluate, profile_spec
from driftline.profile.dataset import build_reference, profile_frames

DEFINITION = """
model: churn
schema:
  task: regression
  features: {tenure: numeric, plan: categorical}
baseline: {path: baselines/churn/reference.csv}
checks:
  - {name: tenure-drift, drift: tenure}
  - {name: plan-drift, drift: plan}
  - {name: inputs, drift: dataset}
  - {name: tenure-missing, quality: missing_share, feature: tenure, max: 0.05}
  - {name: volume, quality: volume_ratio, min: 0.5}
"""


def frame(rows: int, *, seed: int, shift: float = 0.0, missing: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.normal(24.0 + shift, 6.0, rows)
    tenure[rng.random(rows) < missing] = np.nan
    return pd.DataFrame({"tenure": tenure, "plan": rng.choice(["basic", "pro", "max"], rows)})


def decide(current: pd.DataFrame, text: str = DEFINITION) -> dict[str, dict[str, object]]:
    definition = load_monitor_definition(text)
    spec = profile_spec(definition)
    reference = build_reference(lambda: [frame(5000, seed=1)], spec, bins=10)
    profile = profile_frames([current], spec, reference.bins)
    result = evaluate(definition, reference, profile, evaluation_id="e").to_dict()
    return {check["name"]: check for check in result["checks"]}


def test_a_window_of_eight_rows_decides_no_drift_and_no_share_only_skips_saying_why() -> None:
    # GIVEN 8 rows, all shifted by 5 standard deviations and one of them missing
    checks = decide(frame(8, seed=2, shift=30.0).assign(tenure=[np.nan] + [60.0] * 7))
    # THEN drift and the missing share are skip, naming the count and the floor
    for name in ("tenure-drift", "plan-drift", "tenure-missing"):
        assert checks[name]["status"] == "skip", name
    assert "too few values to decide: 7 in the current data, drift.min_rows is 100" in str(
        checks["tenure-drift"]["detail"]
    )
    assert checks["tenure-missing"]["detail"] == (
        "too few rows to decide missing_share: 8, min_rows is 100"
    )
    assert checks["inputs"]["status"] == "skip"
    # AND the volume check, which needs no floor, fails: 8 rows against 5,000
    assert checks["volume"]["status"] == "fail"


def test_enough_rows_decide_and_every_alert_line_states_n() -> None:
    checks = decide(frame(2000, seed=3, shift=6.0, missing=0.2))
    assert checks["tenure-drift"]["status"] == "fail"
    assert "n = 1," in str(checks["tenure-drift"]["detail"])  # ~1,600 present values
    assert checks["tenure-missing"]["status"] == "fail"
    assert str(checks["tenure-missing"]["detail"]).endswith("(n = 2,000 rows)")
    assert checks["plan-drift"]["status"] == "pass"


def test_a_check_may_raise_or_lower_its_own_floor() -> None:
    text = DEFINITION.replace(
        "{name: tenure-missing, quality: missing_share, feature: tenure, max: 0.05}",
        "{name: tenure-missing, quality: missing_share, feature: tenure, max: 0.05, min_rows: 5}",
    ).replace("{name: plan-drift, drift: plan}", "{name: plan-drift, drift: plan, min_rows: 5000}")
    checks = decide(frame(300, seed=4, missing=0.3), text)
    assert checks["tenure-missing"]["status"] == "fail"
    assert checks["plan-drift"]["status"] == "skip"
    assert "min_rows is 5,000" in str(checks["plan-drift"]["detail"])


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (
            "{name: a, metric: mae, max: 1, min_rows: 50}",
            "checks[0].min_rows: applies to drift, quality and estimated metric checks",
        ),
        (
            "{name: a, quality: volume_ratio, min: 0.5, min_rows: 50}",
            "checks[0].min_rows: volume_ratio is not a share of rows",
        ),
        ("{name: a, drift: tenure, min_rows: 0}", "checks[0].min_rows"),
    ],
)
def test_a_floor_where_it_cannot_apply_is_refused_naming_the_key(check: str, message: str) -> None:
    from driftline.errors import ConfigError

    text = DEFINITION.split("checks:", maxsplit=1)[0] + f"checks:\n  - {check}\n"
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_monitor_definition(text.replace("task: regression", "task: regression\n  label: y"))


def test_a_quality_only_evaluation_may_leave_drift_out_and_decides_the_same() -> None:
    # GIVEN a definition with quality checks only (as a batch's quality checks are run)
    definition = load_monitor_definition(DEFINITION)
    quality = definition.model_copy(
        update={"checks": [c for c in definition.checks if c.quality is not None]}
    )
    spec = profile_spec(definition)
    reference = build_reference(lambda: [frame(5000, seed=1)], spec, bins=10)
    current = profile_frames([frame(500, seed=5, missing=0.2)], spec, reference.bins)
    # WHEN evaluated with and without drift figures
    full = evaluate(quality, reference, current, evaluation_id="e").to_dict()
    lean = evaluate(quality, reference, current, evaluation_id="e", drift_figures=False).to_dict()
    # THEN the checks and status are the same; only the drift figures are left out
    assert lean["checks"] == full["checks"] and lean["status"] == full["status"]
    assert lean["drift"]["features"] == {} and full["drift"]["features"]
    # AND a definition with drift checks cannot leave them out
    with pytest.raises(ValueError, match="without drift checks"):
        evaluate(definition, reference, current, evaluation_id="e", drift_figures=False)
