"""The overall tests of an evaluation get ``drift.overall_share`` of α when segments are
tested too; the adjusted p-values are those of closed testing with weighted Bonferroni
tests, and the alert's detail line states the test's share."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from closed_testing import closed_testing
from driftline.config import load_monitor_definition
from driftline.evaluation import evaluate, profile_spec
from driftline.profile.dataset import build_reference, profile_frames
from driftline.stats.base import DriftResult

DEFINITION = """
model: churn
schema:
  task: regression
  features: {tenure: numeric, region: categorical}
  segments: [plan]
baseline: {path: baselines/churn/reference.csv}
drift: {overall_share: SHARE}
checks:
  - {name: tenure-drift, drift: tenure}
  - {name: region-drift, drift: region}
"""


def frame(rows: int, *, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tenure": rng.normal(24.0 + shift, 6.0, rows),
            "region": rng.choice(["north", "south", "east"], rows),
            "plan": rng.choice(["basic", "pro", "max"], rows),
        }
    )


def results(share: float, current: pd.DataFrame) -> tuple[list[DriftResult], str]:
    definition = load_monitor_definition(DEFINITION.replace("SHARE", str(share)))
    spec = profile_spec(definition)
    reference = build_reference(lambda: [frame(6000, seed=1)], spec, bins=10)
    profile = profile_frames([current], spec, reference.bins)
    evaluated = evaluate(definition, reference, profile, evaluation_id="e")
    report = evaluated.drift
    found = [drift.result for drift in report.features.values()]
    for segment in report.segments.values():
        found += [drift.result for drift in segment.features.values()]
    detail = next(check.detail for check in evaluated.checks if check.name == "tenure-drift")
    return [result for result in found if result is not None], detail


@pytest.mark.parametrize("share", [0.5, 0.8])
def test_overall_tests_get_their_share_and_the_adjustment_is_weighted_holm(share: float) -> None:
    # GIVEN a batch whose tenure moved a little, 2 features tested overall and in 3 segments
    decided, detail = results(share, frame(900, seed=2, shift=0.9))
    assert len(decided) == 8
    # THEN the 2 overall tests share `share` of alpha, the 6 segment tests the rest
    shares = [result.alpha_share for result in decided]
    assert shares == pytest.approx([share / 2] * 2 + [(1 - share) / 6] * 6)
    # AND the adjusted p-values are closed testing's with those weights
    raw = [result.p_value for result in decided]
    assert all(p is not None for p in raw)
    expected = closed_testing([float(p) for p in raw if p is not None], shares)
    assert [result.p_adjusted for result in decided] == pytest.approx(expected, rel=1e-9)
    # AND the detail line names the overall test's share
    assert f"holm over 8 tests, this one's share of alpha {share / 2:g}" in str(detail)


def test_a_larger_share_lets_a_smaller_overall_change_through() -> None:
    batch = frame(900, seed=2, shift=0.9)
    low = results(0.2, batch)[0][0]
    high = results(0.8, batch)[0][0]
    # THEN the same raw p is adjusted less when the overall tests hold more of alpha
    assert low.p_value == high.p_value
    assert high.p_adjusted is not None and low.p_adjusted is not None
    assert high.p_adjusted < low.p_adjusted
