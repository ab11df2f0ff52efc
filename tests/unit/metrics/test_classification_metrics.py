"""Every exact classification metric against scikit-learn on the same data: seeded random
data, tied scores, imbalanced classes, string labels, multiclass where defined."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sklearn.metrics as sk
from numpy.typing import NDArray

from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.metrics import (
    accuracy_score,
    brier_score_loss,
    confusion_matrix,
    error_rate,
    f1_score,
    gini_score,
    log_loss,
    positive_rate,
    precision_score,
    recall_score,
    roc_auc_score,
)

# (seed, rows, share of positives, decimals the scores are rounded to: None keeps them distinct)
BINARY_CASES = [
    (1, 40, 0.5, None),
    (2, 500, 0.3, 2),
    (3, 2000, 0.05, 1),
    (4, 5000, 0.01, None),
    (5, 10_000, 0.5, 3),
    (6, 300, 0.9, 1),
]


def binary_data(
    seed: int, n: int, share: float, decimals: int | None
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Labels, positive-class probabilities (informative, maybe rounded: ties) and decisions."""
    rng = np.random.default_rng(seed)
    y_true = (rng.random(n) < share).astype(np.int64)
    logits = rng.normal(loc=1.2 * y_true - 0.5, scale=1.0)
    y_score = 1.0 / (1.0 + np.exp(-logits))
    if decimals is not None:
        y_score = y_score.round(decimals)
    y_pred = (y_score >= 0.5).astype(np.int64)
    return y_true, y_score, y_pred


@pytest.mark.parametrize(("seed", "n", "share", "decimals"), BINARY_CASES)
def test_binary_count_metrics_equal_sklearn(
    seed: int, n: int, share: float, decimals: int | None
) -> None:
    # GIVEN labels and decisions of an imbalanced binary problem
    y_true, _, y_pred = binary_data(seed, n, share, decimals)
    # WHEN driftline computes the count metrics THEN each equals scikit-learn's
    assert accuracy_score(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    assert error_rate(y_true, y_pred) == pytest.approx(sk.zero_one_loss(y_true, y_pred))
    for positive in (1, 0):
        expected_precision = sk.precision_score(y_true, y_pred, pos_label=positive)
        assert precision_score(y_true, y_pred, positive_class=positive) == pytest.approx(
            expected_precision, abs=1e-12
        )
        expected_recall = sk.recall_score(y_true, y_pred, pos_label=positive)
        assert recall_score(y_true, y_pred, positive_class=positive) == pytest.approx(
            expected_recall, abs=1e-12
        )
        expected_f1 = sk.f1_score(y_true, y_pred, pos_label=positive)
        assert f1_score(y_true, y_pred, positive_class=positive) == pytest.approx(
            expected_f1, abs=1e-12
        )
        assert positive_rate(y_true, y_pred, positive_class=positive) == pytest.approx(
            np.mean(y_pred == positive)
        )
    for average in ("macro", "micro"):
        for ours, theirs in (
            (precision_score, sk.precision_score),
            (recall_score, sk.recall_score),
            (f1_score, sk.f1_score),
        ):
            assert ours(y_true, y_pred, average=average) == pytest.approx(
                theirs(y_true, y_pred, average=average), abs=1e-12
            )


@pytest.mark.parametrize(("seed", "n", "share", "decimals"), BINARY_CASES)
def test_score_metrics_equal_sklearn_with_ties(
    seed: int, n: int, share: float, decimals: int | None
) -> None:
    # GIVEN probabilities, rounded in most cases so that many scores tie
    y_true, y_score, _ = binary_data(seed, n, share, decimals)
    # THEN AUC (ties count half), Gini, log loss and Brier equal scikit-learn's
    auc = sk.roc_auc_score(y_true, y_score)
    assert roc_auc_score(y_true, y_score) == pytest.approx(auc, abs=1e-12)
    assert gini_score(y_true, y_score) == pytest.approx(2 * auc - 1, abs=1e-12)
    assert roc_auc_score(y_true, y_score, positive_class=0) == pytest.approx(
        sk.roc_auc_score(y_true == 0, y_score), abs=1e-12
    )
    assert log_loss(y_true, y_score) == pytest.approx(
        sk.log_loss(y_true, y_score, labels=[0, 1]), rel=1e-12
    )
    assert brier_score_loss(y_true, y_score) == pytest.approx(
        sk.brier_score_loss(y_true, y_score, pos_label=1), rel=1e-12
    )


def test_auc_accepts_decision_values_outside_0_1() -> None:
    # GIVEN real-valued decision scores (AUC only ranks them)
    y_true, _, _ = binary_data(11, 400, 0.4, None)
    decision = np.random.default_rng(11).normal(size=400) * 5 + y_true
    assert roc_auc_score(y_true, decision) == pytest.approx(
        sk.roc_auc_score(y_true, decision), abs=1e-12
    )


def test_log_loss_clips_certain_wrong_answers_like_sklearn() -> None:
    # GIVEN probabilities of exactly 0 and 1, right and wrong
    y_true = np.array([1, 0, 1, 0, 1, 0])
    y_score = np.array([1.0, 0.0, 0.0, 1.0, 0.5, 1e-20])
    # THEN the clipped loss (eps = float64 machine epsilon) equals scikit-learn's
    assert log_loss(y_true, y_score) == pytest.approx(
        sk.log_loss(y_true, y_score, labels=[0, 1]), rel=1e-12
    )
    assert math.isfinite(log_loss(y_true, y_score))


def test_string_labels_and_a_chosen_positive_class() -> None:
    # GIVEN string labels with "churn" as the positive class
    y_true, y_score, y_pred = binary_data(21, 800, 0.2, 2)
    names = np.array(["stay", "churn"])
    true_s, pred_s = names[y_true], names[y_pred]
    # THEN binary metrics are about "churn", as scikit-learn's pos_label
    assert precision_score(true_s, pred_s, positive_class="churn") == pytest.approx(
        sk.precision_score(true_s, pred_s, pos_label="churn")
    )
    assert f1_score(true_s, pred_s, positive_class="churn") == pytest.approx(
        sk.f1_score(true_s, pred_s, pos_label="churn")
    )
    assert roc_auc_score(true_s, y_score, positive_class="churn") == pytest.approx(
        sk.roc_auc_score(true_s == "churn", y_score)
    )
    classes, matrix = confusion_matrix(true_s, pred_s)
    assert classes == ("churn", "stay")
    np.testing.assert_array_equal(matrix, sk.confusion_matrix(true_s, pred_s, labels=classes))


@pytest.mark.parametrize("seed", [31, 32, 33])
@pytest.mark.parametrize("as_strings", [False, True])
def test_multiclass_averages_and_confusion_matrix_equal_sklearn(
    seed: int, as_strings: bool
) -> None:
    # GIVEN 5 imbalanced classes, a class never predicted and one predicted but never true
    rng = np.random.default_rng(seed)
    y_true = rng.choice([0, 1, 2, 3], p=[0.6, 0.25, 0.1, 0.05], size=700)
    y_pred = np.where(rng.random(700) < 0.7, y_true, rng.choice([0, 1, 4], size=700))
    y_pred[y_pred == 3] = 0
    if as_strings:
        y_true, y_pred = np.char.add("c", y_true.astype(str)), np.char.add("c", y_pred.astype(str))
    # THEN every average equals scikit-learn's, as does the matrix
    assert accuracy_score(y_true, y_pred) == pytest.approx(sk.accuracy_score(y_true, y_pred))
    for average in ("macro", "micro"):
        for ours, theirs in (
            (precision_score, sk.precision_score),
            (recall_score, sk.recall_score),
            (f1_score, sk.f1_score),
        ):
            for zero_division in (0.0, 1.0, np.nan):
                expected = theirs(y_true, y_pred, average=average, zero_division=zero_division)
                got = ours(y_true, y_pred, average=average, zero_division=zero_division)
                assert got == pytest.approx(expected, abs=1e-12, nan_ok=True)
    classes, matrix = confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(matrix, sk.confusion_matrix(y_true, y_pred, labels=list(classes)))


def test_multiclass_one_vs_rest_equals_sklearn_for_one_label() -> None:
    # GIVEN three classes; a binary metric on class 2 is one-vs-rest
    rng = np.random.default_rng(41)
    y_true, y_pred = rng.integers(0, 3, 300), rng.integers(0, 3, 300)
    for ours, theirs in (
        (precision_score, sk.precision_score),
        (recall_score, sk.recall_score),
        (f1_score, sk.f1_score),
    ):
        expected = theirs(y_true, y_pred, labels=[2], average="micro")
        assert ours(y_true, y_pred, positive_class=2) == pytest.approx(expected)


@pytest.mark.parametrize("zero_division", [0.0, 1.0, np.nan])
def test_zero_division_follows_sklearn(zero_division: float) -> None:
    # GIVEN no predicted positives (precision 0/0) and no actual positives (recall 0/0)
    cases = [([0, 1, 1], [0, 0, 0]), ([0, 0, 0], [0, 1, 0]), ([0, 0], [0, 0])]
    for y_true, y_pred in cases:
        for ours, theirs in (
            (precision_score, sk.precision_score),
            (recall_score, sk.recall_score),
            (f1_score, sk.f1_score),
        ):
            expected = theirs(y_true, y_pred, zero_division=zero_division)
            got = ours(y_true, y_pred, zero_division=zero_division)
            assert got == pytest.approx(expected, nan_ok=True)


def test_precision_default_zero_division_is_sklearns() -> None:
    assert precision_score([0, 1], [0, 0]) == 0.0


def test_invalid_zero_division_and_average_say_what_is_allowed() -> None:
    with pytest.raises(ValueError, match=r"expected zero_division 0.0, 1.0 or nan, got 0.5"):
        precision_score([0, 1], [0, 1], zero_division=0.5)
    with pytest.raises(ValueError, match=r"expected average in .*got 'weighted'"):
        precision_score([0, 1], [0, 1], average="weighted")  # type: ignore[arg-type]


@pytest.mark.parametrize(("present", "y_true"), [("class 1", [1, 1, 1]), ("negatives", [0, 0])])
def test_auc_with_one_class_raises_insufficient_data_with_reason(
    present: str, y_true: list[int]
) -> None:
    # GIVEN a segment holding one class only WHEN AUC is asked for
    with pytest.raises(InsufficientDataError) as caught:
        roc_auc_score(y_true, [0.5] * len(y_true))
    # THEN the error names the reason, so a check can skip with it
    assert str(caught.value) == f"AUC needs both classes; only {present} present"
    assert caught.value.reason == "single_class"
    with pytest.raises(InsufficientDataError, match=f"only {present} present"):
        gini_score(y_true, [0.5] * len(y_true))


def test_log_loss_and_brier_are_defined_with_one_class() -> None:
    # scikit-learn refuses to infer the labels here; given them it agrees
    y_true, y_score = [0, 0, 0], [0.1, 0.2, 0.7]
    assert log_loss(y_true, y_score) == pytest.approx(sk.log_loss(y_true, y_score, labels=[0, 1]))
    assert brier_score_loss(y_true, y_score) == pytest.approx(
        sk.brier_score_loss(y_true, y_score, pos_label=1, labels=[0, 1])
    )


def test_empty_input_is_insufficient_data() -> None:
    for metric in (accuracy_score, precision_score, error_rate):
        with pytest.raises(InsufficientDataError, match="needs labelled rows; got none"):
            metric([], [])
    for scored in (roc_auc_score, log_loss, brier_score_loss):
        with pytest.raises(InsufficientDataError, match="scored rows; got none"):
            scored([], [])


def test_bad_input_says_what_was_received() -> None:
    with pytest.raises(InvalidInputError, match="y_true has 3, y_pred has 2 rows"):
        accuracy_score([0, 1, 1], [0, 1])
    with pytest.raises(InvalidInputError, match="y_true has 1 missing values"):
        accuracy_score([0, None, 1], [0, 1, 1])
    with pytest.raises(InvalidInputError, match=r"in \[0, 1\]; got 1 of 2 values outside"):
        log_loss([0, 1], [0.2, 1.3])
    with pytest.raises(InvalidInputError, match="y_score has 1 missing or infinite values"):
        roc_auc_score([0, 1], [0.2, np.nan])
    with pytest.raises(
        InvalidInputError, match=r"positive_class 1 is not one of the 2 classes \(2 text\)"
    ):
        precision_score(["no", "yes"], ["no", "yes"])
