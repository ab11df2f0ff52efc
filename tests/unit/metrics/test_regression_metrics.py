"""Every exact regression metric against scikit-learn, including its MAPE epsilon for zero
targets and its R² conventions for constant targets."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as sk

from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.metrics import (
    RegressionSums,
    mean_absolute_error,
    mean_absolute_percentage_error,
    r2_score,
    root_mean_squared_error,
)


@pytest.mark.parametrize(
    ("seed", "n", "location", "scale"),
    [(1, 2, 0.0, 1.0), (2, 50, 10.0, 3.0), (3, 5000, -200.0, 50.0), (4, 100_000, 1e6, 1.0)],
)
def test_regression_metrics_equal_sklearn(seed: int, n: int, location: float, scale: float) -> None:
    # GIVEN targets (one case with a mean a million times its spread) and noisy predictions
    rng = np.random.default_rng(seed)
    y_true = rng.normal(location, scale, n)
    y_pred = y_true + rng.normal(0.0, scale / 2, n)
    # THEN every metric equals scikit-learn's
    assert mean_absolute_error(y_true, y_pred) == pytest.approx(
        sk.mean_absolute_error(y_true, y_pred), rel=1e-12
    )
    assert root_mean_squared_error(y_true, y_pred) == pytest.approx(
        sk.root_mean_squared_error(y_true, y_pred), rel=1e-12
    )
    assert mean_absolute_percentage_error(y_true, y_pred) == pytest.approx(
        sk.mean_absolute_percentage_error(y_true, y_pred), rel=1e-12
    )
    assert r2_score(y_true, y_pred) == pytest.approx(sk.r2_score(y_true, y_pred), rel=1e-9)


def test_mape_divides_zero_targets_by_machine_epsilon_like_sklearn() -> None:
    y_true, y_pred = np.array([0.0, 1.0, -2.0, 0.0]), np.array([1e-20, 1.5, -1.0, 0.0])
    expected = sk.mean_absolute_percentage_error(y_true, y_pred)
    assert mean_absolute_percentage_error(y_true, y_pred) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "expected"),
    [
        ([5.0, 5.0, 5.0], [5.0, 5.0, 5.0], 1.0),  # constant target, perfect: 1.0
        ([5.0, 5.0, 5.0], [5.0, 6.0, 5.0], 0.0),  # constant target, imperfect: 0.0
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], 1.0),
        ([0.5, 0.5], [0.0, 1.0], 0.0),
    ],
)
def test_r2_constant_target_conventions_equal_sklearn(
    y_true: list[float], y_pred: list[float], expected: float
) -> None:
    assert sk.r2_score(y_true, y_pred) == expected
    assert r2_score(y_true, y_pred) == expected


def test_r2_of_a_constant_target_whose_mean_does_not_round_is_zero() -> None:
    # GIVEN a constant target whose float mean is not exactly the constant
    y_true, y_pred = [0.1] * 3, [0.2] * 3
    # THEN scikit-learn's SST is ~1e-34 instead of 0 and its R² explodes; ours keeps the
    # documented convention (0.0 for a constant target)
    assert sk.r2_score(y_true, y_pred) < -1e30
    assert r2_score(y_true, y_pred) == 0.0


def test_r2_needs_two_rows_and_empty_input_is_insufficient() -> None:
    with pytest.raises(InsufficientDataError, match="r2 needs at least 2 labelled rows; got 1"):
        r2_score([1.0], [2.0])
    with pytest.raises(InsufficientDataError, match="mae needs at least 1 labelled row; got 0"):
        mean_absolute_error([], [])


def test_bad_regression_input_says_what_was_received() -> None:
    with pytest.raises(InvalidInputError, match="y_true has 2, y_pred has 1 rows"):
        mean_absolute_error([1.0, 2.0], [1.0])
    with pytest.raises(InvalidInputError, match="y_pred has 1 missing or infinite values"):
        mean_absolute_error([1.0, 2.0], [1.0, np.inf])
    with pytest.raises(InvalidInputError, match="y_true must be numeric; got 1 values"):
        mean_absolute_error(["a", 2.0], [1.0, 2.0])


def test_merged_sums_keep_precision_when_the_mean_dwarfs_the_spread() -> None:
    # GIVEN a target around 1e9 with unit spread, split into 10 batches
    rng = np.random.default_rng(9)
    y_true = 1e9 + rng.normal(size=10_000)
    y_pred = y_true + rng.normal(scale=0.5, size=10_000)
    parts = [
        RegressionSums.from_arrays(t, p)
        for t, p in zip(np.array_split(y_true, 10), np.array_split(y_pred, 10), strict=True)
    ]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)
    # THEN R² from the merged sums still equals scikit-learn's on all rows
    assert merged.r2() == pytest.approx(sk.r2_score(y_true, y_pred), rel=1e-9)
