"""The current class prior estimated from the predictions (BBSE), its delta-method interval
and when it is skipped: against an independent solution of the same system, a numerical
derivative of the estimator, and simulations with a known prior."""

from __future__ import annotations

import json
import random
from functools import reduce

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.stats import binom, multinomial, norm

from driftline.estimation.label_shift import (
    BINARY_CLASSES,
    MAX_CONDITION,
    MIN_CLASS_ROWS,
    MIN_CURRENT_ROWS,
    ClassLabelShift,
    LabelShift,
    PriorEstimate,
    Z,
    estimate_prior,
)
from driftline.estimation.multiclass import ClassScoreCells
from driftline.estimation.score_cells import ScoreCells
from driftline.metrics.confusion import ConfusionCounts

# ---------------------------------------------------------------------------------------
# Independent implementations


def oracle_prior(counts: NDArray[np.float64], current: NDArray[np.float64]) -> NDArray[np.float64]:
    """Lipton et al.'s form: the joint matrix C[i, j] = P(ŷ = i, y = j), q = C w solved by
    least squares, the prior w ⊙ p."""
    joint = counts / counts.sum()
    baseline_prior = joint.sum(axis=0)
    weights = scipy.linalg.lstsq(joint, current / current.sum())[0]
    return np.asarray(weights * baseline_prior)


def numerical_covariance(
    counts: NDArray[np.float64], current: NDArray[np.float64], function: str
) -> NDArray[np.float64]:
    """The delta-method covariance with the derivatives taken numerically (central
    differences of the estimator as a function of the shares and of every rate) and the
    covariances from scipy's multinomial."""
    class_rows = counts.sum(axis=0)
    rates = counts / class_rows
    shares = current / current.sum()

    def estimator(q: NDArray[np.float64], m: NDArray[np.float64]) -> NDArray[np.float64]:
        prior = np.linalg.inv(m) @ q
        return prior if function == "prior" else np.atleast_1d(np.diag(m) @ prior)

    step = 1e-6
    k = shares.size
    jacobian_q = np.column_stack(
        [
            (estimator(shares + step * e, rates) - estimator(shares - step * e, rates)) / (2 * step)
            for e in np.eye(k)
        ]
    )
    total = jacobian_q @ (multinomial(int(current.sum()), shares).cov() / current.sum() ** 2)
    total = total @ jacobian_q.T
    for j in range(k):
        columns = []
        for e in np.eye(k):
            up, down = rates.copy(), rates.copy()
            up[:, j] += step * e
            down[:, j] -= step * e
            columns.append((estimator(shares, up) - estimator(shares, down)) / (2 * step))
        jacobian = np.column_stack(columns)
        rows = int(class_rows[j])
        total += jacobian @ (multinomial(rows, rates[:, j]).cov() / rows**2) @ jacobian.T
    return np.asarray(total)


def counts_of(truth: NDArray[np.int64], predicted: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """counts[i, j]: rows predicted i and truly j."""
    return np.bincount(predicted * k + truth, minlength=k * k).reshape(k, k)


BASELINE_3 = np.array([[400, 60, 30], [50, 250, 40], [50, 90, 330]], dtype=np.float64)
CURRENT_3 = np.array([300, 420, 480], dtype=np.float64)


# ---------------------------------------------------------------------------------------
# The estimate and its interval


def test_the_prior_of_three_classes_is_the_solution_of_the_joint_form_of_the_system() -> None:
    # GIVEN a baseline's confusion counts of three classes and the current predicted counts
    # WHEN the prior is estimated
    estimate = estimate_prior(BASELINE_3, CURRENT_3)
    # THEN it is the prior Lipton et al.'s q = C w gives, solved another way
    assert estimate.skipped is None
    np.testing.assert_allclose(estimate.prior, oracle_prior(BASELINE_3, CURRENT_3), atol=1e-12)
    assert sum(estimate.prior) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(estimate.baseline_prior, BASELINE_3.sum(axis=0) / 1300)
    # AND the accuracy at that prior is Σ_j π_j P(ŷ = j | y = j)
    rates = BASELINE_3 / BASELINE_3.sum(axis=0)
    assert estimate.accuracy == pytest.approx(float(np.diag(rates) @ estimate.prior), abs=1e-12)


def test_the_covariance_is_the_delta_method_with_numerical_derivatives() -> None:
    # GIVEN three classes WHEN estimated THEN the covariance of the prior and the variance of
    # the accuracy are those of numerically differentiated estimators and scipy's
    # multinomial covariances (the derivation in the module's description, checked)
    estimate = estimate_prior(BASELINE_3, CURRENT_3)
    np.testing.assert_allclose(
        estimate.covariance, numerical_covariance(BASELINE_3, CURRENT_3, "prior"), rtol=1e-5
    )
    expected = numerical_covariance(BASELINE_3, CURRENT_3, "accuracy")[0, 0]
    assert estimate.accuracy_variance == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    ("baseline", "current"),
    [
        ([[720, 30], [80, 170]], [600, 400]),
        ([[4_000, 900], [1_000, 2_100]], [700, 300]),
        ([[95, 10], [5, 40]], [20, 180]),  # the estimate lies above 1
    ],
)
def test_two_classes_follow_the_adjusted_count_and_its_variance(
    baseline: list[list[int]], current: list[int]
) -> None:
    # GIVEN a binary baseline: true-positive rate T, false-positive rate F
    (tn, fn), (fp, tp) = baseline
    negatives, positives = tn + fp, fn + tp
    t, f = tp / positives, fp / negatives
    m = sum(current)
    q = current[1] / m
    # WHEN estimated
    estimate = estimate_prior(baseline, current)
    # THEN the positive share is Forman's adjusted count (q − F) / (T − F)
    prior = (q - f) / (t - f)
    assert estimate.prior[1] == pytest.approx(prior, abs=1e-12)
    # AND its variance the closed form of the module's description
    variance = (
        q * (1 - q) / m
        + prior**2 * t * (1 - t) / positives
        + (1 - prior) ** 2 * f * (1 - f) / negatives
    ) / (t - f) ** 2
    assert estimate.covariance[1][1] == pytest.approx(variance, rel=1e-9)
    # AND the share and its interval are clipped to [0, 1]
    half = Z * np.sqrt(variance)
    lower, upper = estimate.interval(1)
    assert lower == pytest.approx(min(1.0, max(0.0, prior - half)), abs=1e-12)
    assert upper == pytest.approx(min(1.0, prior + half), abs=1e-12)
    assert estimate.share(1) == pytest.approx(min(1.0, prior), abs=1e-12)
    # AND the accuracy is π T + (1 − π)(1 − F)
    assert estimate.accuracy == pytest.approx(prior * t + (1 - prior) * (1 - f), abs=1e-12)


def test_predictions_no_prior_can_give_are_not_consistent() -> None:
    # GIVEN a baseline whose positives are predicted positive 80 % of the time, negatives
    # 20 %, and a window of 2,000 rows predicted positive at 95 %: no mix of those classes
    # predicts above 80 %
    baseline = [[800, 200], [200, 800]]
    # WHEN estimated
    estimate = estimate_prior(baseline, [100, 1_900])
    # THEN the unclipped share (1.25) lies beyond 1 by more than its interval, and the
    # result says no prior gives these predictions; the share is clipped to 1
    assert estimate.prior[1] == pytest.approx(1.25)
    assert not estimate.consistent(1)
    assert estimate.share(1) == 1.0 and estimate.interval(1)[1] == 1.0
    # AND a window at 79 % is consistent (a prior just under 1)
    assert estimate_prior(baseline, [420, 1_580]).consistent(1)


# ---------------------------------------------------------------------------------------
# Simulation: a known model, a known prior

REPETITIONS = 1_000


def draw(
    rng: np.random.Generator, rows: int, prior: float, separation: float
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Rows of a known model: a positive's feature is N(s/2, 1), a negative's N(−s/2, 1)
    (the same in every period: label shift only), predicted positive above 0."""
    truth = (rng.uniform(size=rows) < prior).astype(np.int64)
    feature = rng.normal(np.where(truth == 1, separation / 2, -separation / 2), 1.0)
    return truth, (feature > 0).astype(np.int64)


def simulate(
    baseline_prior: float, current_prior: float, *, rows: int, separation: float, seed: int
) -> list[PriorEstimate]:
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(REPETITIONS):
        baseline = counts_of(*draw(rng, rows, baseline_prior, separation), 2)
        _, predicted = draw(rng, rows, current_prior, separation)
        estimates.append(estimate_prior(baseline, np.bincount(predicted, minlength=2)))
    return estimates


def acceptable_counts(probability: float) -> tuple[float, float]:
    """The counts of REPETITIONS draws at ``probability`` outside which a test fails by
    chance once in a thousand."""
    low, high = binom.interval(0.999, REPETITIONS, probability)
    return float(low), float(high)


@pytest.mark.parametrize(
    ("baseline_prior", "current_prior", "rows", "separation", "seed"),
    [
        (0.3, 0.5, 2_000, 1.5, 1),
        (0.3, 0.1, 2_000, 1.5, 2),
        (0.5, 0.8, 500, 2.5, 3),
    ],
)
def test_the_interval_covers_a_shifted_prior_95_times_in_100(
    baseline_prior: float, current_prior: float, rows: int, separation: float, seed: int
) -> None:
    # GIVEN a labelled baseline and a window drawn from the same class-conditional model
    # with another prior, REPETITIONS times
    estimates = simulate(baseline_prior, current_prior, rows=rows, separation=separation, seed=seed)
    assert all(estimate.skipped is None for estimate in estimates)
    # WHEN each interval is compared with the true prior
    covered = sum(
        estimate.interval(1)[0] <= current_prior <= estimate.interval(1)[1]
        for estimate in estimates
    )
    # THEN it covers it about 95 times in 100 (within the binomial spread)
    low, high = acceptable_counts(0.95)
    assert low <= covered <= high
    # AND the accuracy interval covers the accuracy at the true prior as often
    tpr, fpr = norm.sf(-separation / 2), norm.sf(separation / 2)
    accuracy = current_prior * tpr + (1 - current_prior) * (1 - fpr)
    covered = sum(
        estimate.accuracy_interval()[0] <= accuracy <= estimate.accuracy_interval()[1]
        for estimate in estimates
    )
    assert low <= covered <= high
    # AND the prior is found shifted nearly every time
    assert sum(estimate.shifted(1) for estimate in estimates) >= 0.99 * REPETITIONS


def test_without_a_shift_the_baseline_prior_is_recovered_and_rarely_called_shifted() -> None:
    # GIVEN windows drawn with the baseline's own prior
    estimates = simulate(0.3, 0.3, rows=2_000, separation=1.5, seed=4)
    shares = np.array([estimate.prior[1] for estimate in estimates])
    # THEN the estimates centre on it (within four standard errors of their mean)
    assert abs(shares.mean() - 0.3) < 4 * shares.std() / np.sqrt(REPETITIONS)
    # AND the prior is called shifted at most as often as a 5 % test would (with its spread)
    assert sum(estimate.shifted(1) for estimate in estimates) <= acceptable_counts(0.05)[1]
    # AND no window is found inconsistent with a mix of the baseline's classes
    assert sum(not estimate.consistent(1) for estimate in estimates) <= acceptable_counts(0.025)[1]


# ---------------------------------------------------------------------------------------
# When there is none


@pytest.mark.parametrize(
    ("baseline", "current", "reason"),
    [
        (
            [[50, 0], [0, 0]],
            [40, 60],
            "the baseline has no labelled row of the positive class",
        ),
        (
            [[MIN_CLASS_ROWS - 2, 5], [1, 60]],
            [40, 60],
            f"too few labelled baseline rows of the negative class: {MIN_CLASS_ROWS - 1}, "
            f"at least {MIN_CLASS_ROWS} are needed",
        ),
        (
            [[80, 20], [20, 80]],
            [MIN_CURRENT_ROWS - 1, 0],
            f"too few current rows with a predicted class: {MIN_CURRENT_ROWS - 1}, at "
            f"least {MIN_CURRENT_ROWS} are needed",
        ),
    ],
)
def test_an_undefined_estimate_says_why(
    baseline: list[list[int]], current: list[int], reason: str
) -> None:
    # GIVEN counts with a class missing or too few rows WHEN estimated THEN there is no
    # estimate, and the reason names the class by its role
    estimate = estimate_prior(baseline, current, class_names=BINARY_CLASSES)
    assert estimate.skipped == reason
    assert estimate.prior == ()


def test_rates_that_do_not_tell_the_classes_apart_are_skipped() -> None:
    # GIVEN a baseline predicting positive half the time whatever the class (T = F)
    estimate = estimate_prior([[50, 50], [50, 50]], [40, 60])
    # THEN there is no estimate: the rates are singular (their condition number, computed
    # in floating point, is infinite or astronomically large)
    assert estimate.skipped is not None
    assert estimate.skipped.startswith(
        "the baseline's predictions barely depend on the true class (condition number of "
        "the per-class prediction rates "
    )
    assert estimate.skipped.endswith(
        f"above {MAX_CONDITION:g}): the prior cannot be told from the predictions"
    )
    assert estimate.prior == () and estimate.rates == ((0.5, 0.5), (0.5, 0.5))


def test_rates_just_past_the_condition_bound_are_skipped_and_just_within_are_not() -> None:
    # GIVEN two baselines whose rates' condition numbers straddle the bound
    def baseline(tpr: float, fpr: float) -> list[list[int]]:
        return [
            [round(10_000 * (1 - fpr)), round(10_000 * (1 - tpr))],
            [round(10_000 * fpr), round(10_000 * tpr)],
        ]

    within, beyond = baseline(0.03, 0.01), baseline(0.029, 0.01)  # 96 and 101
    conditions = [np.linalg.cond(np.array(b) / 10_000) for b in (within, beyond)]
    assert conditions[0] <= MAX_CONDITION < conditions[1]
    # WHEN estimated THEN the first has an estimate and the second a reason
    assert estimate_prior(within, [9_000, 1_000]).skipped is None
    assert "condition number" in (estimate_prior(beyond, [9_000, 1_000]).skipped or "")


def test_counts_of_the_wrong_shape_or_not_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        estimate_prior([[1, 2, 3], [4, 5, 6]], [1, 2])
    with pytest.raises(ValueError, match="whole numbers"):
        estimate_prior([[1, 2], [3, -4]], [1, 2])
    with pytest.raises(ValueError, match="whole numbers"):
        estimate_prior([[1, 2], [3, 4]], [1.5, 2])


# ---------------------------------------------------------------------------------------
# The binary section of the result


def binary_rows(seed: int, rows: int, prior: float) -> tuple[list[str], list[str], list[float]]:
    """Text classes, as a model with ``schema.positive_class: yes`` has them."""
    rng = np.random.default_rng(seed)
    truth, predicted = draw(rng, rows, prior, 1.5)
    names = np.array(["no", "yes"])
    scores = np.where(predicted == 1, 0.75, 0.25)
    return names[truth].tolist(), names[predicted].tolist(), scores.tolist()


def test_the_result_section_reads_the_baselines_confusion_and_the_current_cells() -> None:
    # GIVEN a baseline's confusion counts of text classes and a window's score cells
    truth, predicted, _ = binary_rows(5, 3_000, 0.3)
    confusion = ConfusionCounts.from_labels(truth, predicted)
    _, current_predicted, scores = binary_rows(6, 2_000, 0.5)
    cells = ScoreCells.from_arrays(scores, [p == "yes" for p in current_predicted])
    # WHEN the section is written
    section = LabelShift.of(confusion, "yes", cells).to_dict()
    # THEN it is the estimate of the same counts, the positive class second
    counts = counts_of(
        (np.array(truth) == "yes").astype(np.int64),
        (np.array(predicted) == "yes").astype(np.int64),
        2,
    )
    estimate = estimate_prior(
        counts, [current_predicted.count("no"), current_predicted.count("yes")]
    )
    lower, upper = estimate.interval(1)
    accuracy_lower, accuracy_upper = estimate.accuracy_interval()
    assert section == {
        "method": "bbse",
        "prior": estimate.share(1),
        "lower": lower,
        "upper": upper,
        "baseline_prior": truth.count("yes") / 3_000,
        "shifted": True,
        "consistent": True,
        "accuracy_at_prior": {
            "value": estimate.accuracy,
            "lower": accuracy_lower,
            "upper": accuracy_upper,
        },
        "rates": {
            "true_positive_rate": counts[1, 1] / counts[:, 1].sum(),
            "false_positive_rate": counts[1, 0] / counts[:, 0].sum(),
        },
        "rows": {"baseline": 3_000, "current": 2_000},
    }
    assert lower < 0.5 < upper
    # AND it is JSON as it stands
    assert json.loads(json.dumps(section)) == section


def test_a_skipped_section_names_the_class_not_its_value() -> None:
    # GIVEN a baseline without a row of the positive class (text classes)
    confusion = ConfusionCounts.from_labels(["stay"] * 50, ["stay"] * 45 + ["churn"] * 5)
    cells = ScoreCells.from_arrays([0.2] * 40, [0] * 40)
    # WHEN written THEN the section is the reason, naming the class by its role, not its value
    section = LabelShift.of(confusion, "leave", cells).to_dict()
    assert section == {"skip": "the baseline has no labelled row of the positive class"}
    # AND a baseline without confusion counts says the same of the negative class
    assert LabelShift.of(None, 1, cells).to_dict() == {
        "skip": "the baseline has no labelled row of the negative class"
    }


# ---------------------------------------------------------------------------------------
# Properties

#: Batches of rows (true class, predicted class, score), each row repeated 1 to 40 times so
#: that most draws have enough rows of each class to be estimated.
Row = tuple[bool, bool, float]
batches = st.lists(
    st.lists(
        st.tuples(st.booleans(), st.booleans(), st.floats(0.0, 1.0), st.integers(1, 40)).map(
            lambda row: [row[:3]] * row[3]
        ),
        min_size=1,
        max_size=20,
    ).map(lambda rows: [row for repeated in rows for row in repeated]),
    min_size=1,
    max_size=6,
)


def confusion_of(batch: list[Row]) -> ConfusionCounts:
    return ConfusionCounts.from_labels([int(t) for t, _, _ in batch], [int(p) for _, p, _ in batch])


def cells_of(batch: list[Row]) -> ScoreCells:
    return ScoreCells.from_arrays([s for _, _, s in batch], [int(p) for _, p, _ in batch])


@settings(max_examples=60, deadline=None)
@given(baseline=batches, current=batches, order=st.randoms(use_true_random=False))
def test_the_section_of_merged_profiles_is_the_section_of_all_their_rows(
    baseline: list[list[Row]], current: list[list[Row]], order: random.Random
) -> None:
    # GIVEN baseline and current rows in batches, each reduced to its counts
    everything_baseline = [row for batch in baseline for row in batch]
    everything_current = [row for batch in current for row in batch]
    whole = LabelShift.of(confusion_of(everything_baseline), 1, cells_of(everything_current))
    # WHEN the batches' counts are merged, in a shuffled order
    shuffled_baseline, shuffled_current = list(baseline), list(current)
    order.shuffle(shuffled_baseline)
    order.shuffle(shuffled_current)
    merged = LabelShift.of(
        reduce(ConfusionCounts.merge, map(confusion_of, shuffled_baseline)),
        1,
        reduce(ScoreCells.merge, map(cells_of, shuffled_current)),
    )
    # THEN the section is the same, to the bit, and computing it again changes nothing
    assert merged.to_dict() == whole.to_dict()
    assert (
        LabelShift.of(confusion_of(everything_baseline), 1, cells_of(everything_current)) == whole
    )


@settings(max_examples=60, deadline=None)
@given(
    baseline=st.lists(st.integers(MIN_CLASS_ROWS, 2_000), min_size=9, max_size=9),
    current=st.lists(st.integers(0, 2_000), min_size=3, max_size=3),
    permutation=st.permutations([0, 1, 2]),
)
def test_renumbering_the_classes_renumbers_the_prior(
    baseline: list[int], current: list[int], permutation: list[int]
) -> None:
    # GIVEN three classes' counts, and the same counts with the classes renumbered
    counts = np.array(baseline).reshape(3, 3)
    predicted = np.array(current)
    order = np.array(permutation)
    first = estimate_prior(counts, predicted)
    second = estimate_prior(counts[np.ix_(order, order)], predicted[order])
    # THEN both are skipped alike, or the prior and its covariance are renumbered alike
    assert (first.skipped is None) == (second.skipped is None)
    if first.skipped is None:
        np.testing.assert_allclose(np.array(first.prior)[order], second.prior, atol=1e-9)
        np.testing.assert_allclose(
            np.array(first.covariance)[np.ix_(order, order)], second.covariance, atol=1e-9
        )
        assert first.accuracy == pytest.approx(second.accuracy, abs=1e-9)


# ---------------------------------------------------------------------------------------
# Multiclass: every class's share at once

CARDS = ("gold", "silver", "bronze")


def card_rows(
    rng: np.random.Generator, rows: int, prior: tuple[float, ...]
) -> tuple[list[str], list[int], NDArray[np.float64]]:
    """Rows of three text classes drawn with ``prior``, each predicted its own class with
    probability 0.7 and each other class with 0.15 (the same ``P(ŷ | y)`` at any prior), with
    scores that make the predicted class the most likely."""
    truth = rng.choice(3, size=rows, p=prior)
    confused = rng.choice(2, size=rows)
    predicted = np.where(rng.uniform(size=rows) < 0.7, truth, (truth + 1 + confused) % 3)
    scores = np.full((rows, 3), 0.2)
    scores[np.arange(rows), predicted] = 0.6
    return [CARDS[i] for i in truth], predicted.tolist(), scores


def test_a_multiclass_section_is_the_estimate_of_its_declared_classes_counts() -> None:
    # GIVEN a baseline's confusion counts of three cards, some rows labelled or predicted a
    # card not declared, and a window's class cells
    rng = np.random.default_rng(31)
    truth, predicted, _ = card_rows(rng, 3_000, (0.5, 0.3, 0.2))
    guesses = [CARDS[i] for i in predicted]
    confusion = ConfusionCounts.from_labels(
        [*truth, "platinum", "gold"], [*guesses, "gold", "platinum"]
    )
    _, now_predicted, scores = card_rows(rng, 2_000, (0.2, 0.3, 0.5))
    cells = ClassScoreCells.from_arrays(scores, now_predicted, classes=CARDS)

    # WHEN the section is written
    shift = ClassLabelShift.of(confusion, cells)
    section = shift.to_dict()

    # THEN it is the estimate of the declared classes' counts, computed here from the labels
    index = {card: i for i, card in enumerate(CARDS)}
    counts = counts_of(
        np.array([index[t] for t in truth]), np.array([index[g] for g in guesses]), 3
    )
    current = np.bincount(now_predicted, minlength=3)
    expected = oracle_prior(counts.astype(np.float64), current.astype(np.float64))
    assert shift.estimate.baseline_rows == 3_000  # the undeclared card's rows left out
    assert [section["prior"][card] for card in CARDS] == pytest.approx(expected, abs=1e-12)
    assert section["baseline_prior"] == {card: truth.count(card) / 3_000 for card in CARDS}
    for i, card in enumerate(CARDS):
        assert (section["lower"][card], section["upper"][card]) == shift.estimate.interval(i)
    # AND gold and bronze moved beyond chance, which a shift of the shares explains
    assert section["shifted"] == {"gold": True, "silver": False, "bronze": True}
    assert section["consistent"] is True
    assert section["rows"] == {"baseline": 3_000, "current": 2_000}
    assert json.loads(json.dumps(section)) == section


def test_a_multiclass_interval_covers_each_shifted_share_about_95_times_in_100() -> None:
    # GIVEN one baseline and 400 windows of 1,500 rows with other shares
    rng = np.random.default_rng(32)
    truth, predicted, _ = card_rows(rng, 6_000, (0.5, 0.3, 0.2))
    confusion = ConfusionCounts.from_labels(truth, [CARDS[i] for i in predicted])
    now = (0.25, 0.25, 0.5)
    covered = np.zeros(3)
    for _ in range(400):
        _, window, scores = card_rows(rng, 1_500, now)
        cells = ClassScoreCells.from_arrays(scores, window, classes=CARDS)
        shift = ClassLabelShift.of(confusion, cells)
        section = shift.to_dict()
        covered += [
            section["lower"][c] <= now[i] <= section["upper"][c] for i, c in enumerate(CARDS)
        ]
    # THEN each class's interval holds its true share in about 95 % of windows (the binomial
    # spread of 400 draws, once in a thousand)
    low, high = binom.interval(0.999, 400, 0.95)
    assert all(low <= hits <= high for hits in covered), covered


def test_a_skipped_multiclass_section_names_the_class_by_its_place() -> None:
    # GIVEN a baseline without a labelled row of the second declared card
    confusion = ConfusionCounts.from_labels(["gold"] * 60 + ["bronze"] * 60, ["gold"] * 120)
    scores = np.full((50, 3), 1 / 3)
    cells = ClassScoreCells.from_arrays(scores, [0] * 50, classes=CARDS)
    # THEN the section says so, naming its place among the declared classes, not its value
    assert ClassLabelShift.of(confusion, cells).to_dict() == {
        "skip": "the baseline has no labelled row of declared class 2 (schema.class_scores)"
    }
