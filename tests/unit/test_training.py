"""The lambda training backend: the allow-list, the time holdout, seeded training, the
holdout gates against scikit-learn's metrics, verified loading; and the ``retraining``
section of the monitor definition."""

from __future__ import annotations

import pickle
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk_metrics

from driftline import training
from driftline.config import ESTIMATOR_PARAMS, ESTIMATOR_TASKS, load_monitor_definition
from driftline.errors import ConfigError, InsufficientDataError
from driftline.model_store import ArtifactIntegrityError, sha256_of
from driftline.training import (
    ESTIMATORS,
    GateSettings,
    Predictions,
    TrainingSpec,
    compare_on_holdout,
    dump_model,
    load_model,
    predict,
    split_by_time,
    train_model,
)

SPEC = TrainingSpec(
    task="binary_classification",
    label="y",
    numeric=("income", "utilisation"),
    categorical=("region",),
    seed=3,
)


def credit_frame(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Defaults driven by utilisation and income; the segment column is the risk tier."""
    rng = np.random.default_rng(seed)
    utilisation = rng.uniform(0, 1, n)
    income = rng.normal(50, 15, n)
    logit = 4 * (utilisation - 0.5) - 0.04 * (income - 50)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame(
        {
            "t": pd.date_range("2026-11-01", periods=n, freq="min").astype(str),
            "income": income,
            "utilisation": utilisation,
            "region": rng.choice(["north", "south", None], n),
            "tier": np.where(utilisation > 0.7, "subprime", "prime"),
            "y": y,
        }
    )


# -- the allow-list -------------------------------------------------------------------------


def test_the_allow_list_equals_the_definitions_and_names_real_parameters() -> None:
    # GIVEN the estimators training builds and what the monitor definition accepts
    assert set(ESTIMATORS) == set(ESTIMATOR_TASKS) == set(ESTIMATOR_PARAMS)
    for name, spec in ESTIMATORS.items():
        assert spec.tasks == ESTIMATOR_TASKS[name], name
        assert spec.params == ESTIMATOR_PARAMS[name], name
        # THEN every allowed parameter is one scikit-learn's estimator takes
        for kind in (spec.classifier, spec.regressor):
            if kind is not None:
                assert spec.params <= set(kind().get_params()), (name, kind)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (TrainingSpec(task="regression", label="y", numeric=("x",), estimator="svm"), "'svm' is"),
        (
            TrainingSpec(
                task="regression", label="y", numeric=("x",), estimator="logistic_regression"
            ),
            "retraining.estimator: logistic_regression does not fit task regression",
        ),
        (
            TrainingSpec(task="regression", label="y", numeric=("x",), params={"kernel": "rbf"}),
            "retraining.params.kernel: not a parameter of ridge",
        ),
    ],
)
def test_build_estimator_refuses_what_is_not_allowed(spec: TrainingSpec, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        training.build_estimator(spec)


def test_a_parameter_value_scikit_learn_refuses_names_the_key() -> None:
    spec = TrainingSpec(
        task="binary_classification", label="y", numeric=("income",), params={"C": -1.0}
    )
    with pytest.raises(ConfigError, match=r"retraining.params: .*'C' parameter"):
        train_model(credit_frame(200), spec)


# -- the time holdout -----------------------------------------------------------------------


def test_split_by_time_holds_out_the_most_recent_share() -> None:
    frame = credit_frame(100).sample(frac=1.0, random_state=1)  # shuffled
    train, holdout = split_by_time(frame, time="t", holdout_share=0.2)
    assert (len(train), len(holdout)) == (80, 20)
    assert train["t"].max() < holdout["t"].min()
    assert holdout["t"].is_monotonic_increasing


def test_split_by_time_refuses_too_few_rows() -> None:
    with pytest.raises(InsufficientDataError, match="split into 9 to train on and 1 to hold out"):
        split_by_time(credit_frame(10), time="t", holdout_share=0.1, min_rows=5)


def test_limit_rows_keeps_the_most_recent() -> None:
    frame = credit_frame(50).iloc[::-1]
    kept = training.limit_rows(frame, time="t", max_rows=10)
    assert kept["t"].tolist() == sorted(frame["t"])[-10:]


# -- training and predicting ----------------------------------------------------------------


@pytest.mark.parametrize("estimator", ["logistic_regression", "random_forest", "gradient_boosting"])
def test_training_is_seeded_and_learns(estimator: str) -> None:
    # GIVEN a time split of learnable data
    train, holdout = split_by_time(credit_frame(), time="t", holdout_share=0.25)
    spec = TrainingSpec(
        **{
            **SPEC.__dict__,
            "estimator": estimator,
            "params": {"max_depth": 4} if estimator != "logistic_regression" else {},
        }
    )

    # WHEN trained twice with the same seed
    first = predict(train_model(train, spec), holdout, spec)
    second = predict(train_model(train, spec), holdout, spec)

    # THEN the predictions repeat exactly, and beat chance clearly (AUC by scikit-learn)
    assert first.score is not None and second.score is not None
    np.testing.assert_array_equal(first.score, second.score)
    assert sk_metrics.roc_auc_score(holdout["y"], first.score) > 0.75


def test_regression_trains_a_ridge_by_default() -> None:
    frame = credit_frame(400)
    frame["y"] = 3.0 * frame["utilisation"] - 0.02 * frame["income"]
    spec = TrainingSpec(task="regression", label="y", numeric=("income", "utilisation"))
    model = train_model(frame, spec)
    predictions = predict(model, frame, spec)
    assert type(model.named_steps["model"]).__name__ == "Ridge"
    assert sk_metrics.r2_score(frame["y"], predictions.prediction) > 0.99
    assert predictions.score is None


def test_a_single_class_cannot_be_trained() -> None:
    frame = credit_frame(200).assign(y=0)
    with pytest.raises(ValueError, match="class"):
        train_model(frame, SPEC)


# -- verified loading -----------------------------------------------------------------------


class _Payload:
    """Unpickling this runs code: what a tampered artifact could do."""

    ran = False

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_Payload.mark, ())

    @staticmethod
    def mark() -> None:
        _Payload.ran = True


def test_a_model_loads_only_with_its_recorded_hash() -> None:
    # GIVEN a trained model's bytes and their digest
    model = train_model(credit_frame(300), SPEC)
    data = dump_model(model)
    loaded = load_model(data, sha256_of(data))
    np.testing.assert_array_equal(
        predict(loaded, credit_frame(20, seed=4), SPEC).prediction,
        predict(model, credit_frame(20, seed=4), SPEC).prediction,
    )

    # WHEN the bytes are replaced by a pickle that runs code
    tampered = pickle.dumps(_Payload())
    with pytest.raises(ArtifactIntegrityError, match=r"refusing to load models/x/model\.joblib"):
        load_model(tampered, sha256_of(data), key="models/x/model.joblib")

    # THEN it was refused before anything was unpickled
    assert _Payload.ran is False


# -- the holdout gates ----------------------------------------------------------------------


def _champion_scores(holdout: pd.DataFrame, quality: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    signal = np.where(holdout["y"] == 1, 1.0, -1.0) * quality + rng.normal(0, 1, len(holdout))
    return 1 / (1 + np.exp(-signal))


def _predictions(scores: np.ndarray) -> Predictions:
    return Predictions((scores > 0.5).astype(int), scores)


def test_holdout_figures_equal_scikit_learn_and_a_better_challenger_passes() -> None:
    # GIVEN a weak champion and a challenger trained on the older rows
    train, holdout = split_by_time(credit_frame(), time="t", holdout_share=0.3)
    challenger = predict(train_model(train, SPEC), holdout, SPEC)
    champion = _predictions(_champion_scores(holdout, 0.1, seed=1))
    settings = GateSettings(metric="auc", margin=0.02, segments=("tier",), min_segment_rows=30)

    # WHEN judged on the holdout
    result = compare_on_holdout(
        holdout,
        label="y",
        task=SPEC.task,
        challenger=challenger,
        champion=champion,
        settings=settings,
    )

    # THEN the figures are scikit-learn's, overall and per segment, and every gate passes
    assert challenger.score is not None and champion.score is not None
    assert result.challenger == pytest.approx(
        sk_metrics.roc_auc_score(holdout["y"], challenger.score)
    )
    assert result.champion == pytest.approx(sk_metrics.roc_auc_score(holdout["y"], champion.score))
    assert result.improvement == pytest.approx(result.challenger - result.champion)
    for tier in ("prime", "subprime"):
        rows = (holdout["tier"] == tier).to_numpy()
        entry = result.segments[f"tier={tier}"]
        assert entry["rows"] == rows.sum()
        assert entry["challenger"] == pytest.approx(
            sk_metrics.roc_auc_score(holdout["y"][rows], challenger.score[rows])
        )
    assert result.passed and result.blocked_by == []
    assert [gate.name for gate in result.gates] == ["margin", "segments"]


def test_a_segment_regression_blocks_even_a_better_challenger() -> None:
    # GIVEN a champion that is excellent in prime and poor in subprime, and a challenger
    # that is the other way round (better overall: subprime rows are the majority)
    holdout = credit_frame(600, seed=2)
    holdout["tier"] = np.where(np.arange(600) % 3 == 0, "prime", "subprime")
    prime = (holdout["tier"] == "prime").to_numpy()
    strong, weak = _champion_scores(holdout, 3.0, seed=5), _champion_scores(holdout, 0.2, seed=6)
    champion = _predictions(np.where(prime, strong, weak))
    challenger = _predictions(np.where(prime, weak, strong))
    settings = GateSettings(metric="accuracy", segments=("tier",), segment_tolerance=0.02)

    result = compare_on_holdout(
        holdout,
        label="y",
        task=SPEC.task,
        challenger=challenger,
        champion=champion,
        settings=settings,
    )

    # THEN it is better overall, but the prime segment regresses: the segment gate blocks
    assert result.improvement > 0
    assert result.blocked_by == ["segments"]
    expected = sk_metrics.accuracy_score(holdout["y"][prime], champion.prediction[prime]) - (
        sk_metrics.accuracy_score(holdout["y"][prime], challenger.prediction[prime])
    )
    assert result.segments["tier=prime"]["regression"] == pytest.approx(expected)
    (gate,) = [g for g in result.gates if g.name == "segments"]
    assert gate.value == pytest.approx(expected) and "tier=prime" in gate.detail


def test_the_margin_gate_needs_a_real_improvement() -> None:
    holdout = credit_frame(300)
    same = _predictions(_champion_scores(holdout, 1.0, seed=1))
    result = compare_on_holdout(
        holdout,
        label="y",
        task=SPEC.task,
        challenger=same,
        champion=same,
        settings=GateSettings(metric="log_loss"),
    )
    assert result.improvement == 0.0
    assert result.blocked_by == ["margin"]


def test_the_fairness_gate_checks_disparate_impact_across_the_sensitive_column() -> None:
    # GIVEN a challenger predicting positives for group a only half as often as for b
    holdout = pd.DataFrame({"y": [1, 0] * 50, "group": ["a"] * 50 + ["b"] * 50})
    predicted = np.array([1, 0, 0, 0] * 12 + [1, 0] + [1, 1, 0, 0] * 12 + [1, 1])
    challenger = Predictions(predicted)
    champion = Predictions(np.zeros(100, dtype=int))
    settings = GateSettings(
        metric="accuracy", fairness_metric="disparate_impact", fairness_min=0.8, sensitive="group"
    )

    result = compare_on_holdout(
        holdout,
        label="y",
        task=SPEC.task,
        challenger=challenger,
        champion=champion,
        settings=settings,
    )

    (gate,) = [g for g in result.gates if g.name == "fairness"]
    rate_a, rate_b = predicted[:50].mean(), predicted[50:].mean()
    assert gate.value == pytest.approx(rate_a / rate_b)
    assert not gate.passed and "fairness" in result.blocked_by


def test_regression_gates_use_rmse_lower_is_better() -> None:
    holdout = pd.DataFrame({"y": np.linspace(0, 10, 50)})
    challenger = Predictions(holdout["y"].to_numpy() + 0.1)
    champion = Predictions(holdout["y"].to_numpy() + 1.0)
    result = compare_on_holdout(
        holdout,
        label="y",
        task="regression",
        challenger=challenger,
        champion=champion,
        settings=GateSettings(metric="rmse", margin=0.5),
    )
    assert result.challenger == pytest.approx(0.1) and result.champion == pytest.approx(1.0)
    assert result.improvement == pytest.approx(0.9) and result.passed


def test_logged_champion_predictions_skip_rows_without_a_prediction() -> None:
    holdout = pd.DataFrame(
        {"y": [1, 0, 1, 0], "p": [1.0, None, 0.0, 0.0], "s": [0.9, 0.5, 0.2, 0.1]}
    )
    champion = training.logged_predictions(holdout, task=SPEC.task, prediction="p", score="s")
    challenger = Predictions(np.array([1, 1, 1, 0]), np.array([0.8, 0.7, 0.6, 0.1]))
    result = compare_on_holdout(
        holdout,
        label="y",
        task=SPEC.task,
        challenger=challenger,
        champion=champion,
        settings=GateSettings(metric="accuracy"),
    )
    assert result.rows == 3
    assert (result.champion, result.challenger) == pytest.approx((2 / 3, 1.0))


def test_without_logged_predictions_the_champion_cannot_be_judged() -> None:
    with pytest.raises(InsufficientDataError, match="no logged prediction"):
        training.logged_predictions(
            pd.DataFrame({"y": [1]}), task=SPEC.task, prediction=None, score=None
        )


# -- the retraining section of the monitor definition ---------------------------------------

BASE = textwrap.dedent(
    """\
    model: credit
    schema:
      id: request_id
      task: binary_classification
      prediction: predicted
      score: score
      label: defaulted
      features: {income: numeric, region: categorical}
      segments: [risk_segment]
    baseline: {path: baselines/credit/reference.csv}
    """
)


def test_a_full_retraining_section_is_accepted() -> None:
    definition = load_monitor_definition(
        BASE
        + textwrap.dedent(
            """\
            retraining:
              backend: lambda
              estimator: gradient_boosting
              params: {max_iter: 50, learning_rate: 0.1}
              holdout_share: 0.25
              metric: auc
              margin: 0.01
              segment_tolerance: 0.03
              scope: segments
              canary: {traffic: 0.2, metric: error_rate, poll: PT5M, duration: PT12H}
              serving: {kind: sagemaker_endpoint, endpoint_name: credit-ep}
            """
        )
    )
    spec = definition.retraining
    assert spec is not None
    assert (spec.estimator, spec.params["max_iter"], spec.canary.traffic) == (
        "gradient_boosting",
        50,
        0.2,
    )
    assert spec.serving.endpoint_name == "credit-ep"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("{estimator: ridge}", "retraining.estimator: ridge does not fit schema.task"),
        ("{estimator: svm}", "retraining.estimator: "),
        (
            "{estimator: logistic_regression, params: {C: 1, kernel: rbf}}",
            "retraining.params.kernel: not a parameter of logistic_regression",
        ),
        ("{params: {C: 1}}", "retraining.params: name the estimator"),
        ("{metric: rmse}", "retraining.metric: rmse is not defined for schema.task"),
        ("{metric: roc}", "retraining.metric: unknown gate metric 'roc'"),
        ("{holdout_share: 1.5}", "retraining.holdout_share: "),
        ("{backend: sagemaker}", "retraining.sagemaker: required when backend is sagemaker"),
        (
            "{backend: sagemaker, sagemaker: {image: i, role_arn: "
            "'arn:aws:iam::123456789012:role/admin'}}",
            "retraining.sagemaker.role_arn: expected the ARN of a role named driftline-training-",
        ),
        ("{external: {timeout: PT1H}}", "retraining.external: applies to backend external only"),
        ("{backend: external, estimator: ridge}", "retraining.estimator: applies to the lambda"),
        ("{canary: {duration: P1M}}", "retraining.canary.duration: expected an ISO 8601"),
        ("{canary: {traffic: 1}}", "retraining.canary.traffic: "),
        ("{canary: {min_rows: 900, max_rows: 100}}", "retraining.canary.min_rows: 900 is greater"),
        ("{canary: {metric: ctr}}", "retraining.canary.metric: ctr does not fit schema.task"),
        (
            "{canary: {challenger_variant: champion}}",
            "retraining.canary.challenger_variant: must differ",
        ),
        ("{serving: {kind: lambda_alias}}", "retraining.serving.function_name: required"),
        (
            "{serving: {endpoint_name: ep}}",
            "retraining.serving.endpoint_name: does not apply to kind registry",
        ),
        ("{fairness: {metric: disparate_impact, min: 0.8}}", "needs schema.sensitive"),
        ("{fairness: {metric: disparate_impact}}", "a fairness gate needs min or max"),
        ("{cannary: {}}", "retraining.cannary: unknown key"),
        ("{margin: .nan}", "retraining.margin: "),
        ("{canary: {max_latency_increase: .inf}}", "retraining.canary.max_latency_increase: "),
    ],
)
def test_retraining_mistakes_name_their_key(section: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_monitor_definition(BASE + f"retraining: {section}\n")


def test_ranking_models_cannot_use_the_lambda_backend() -> None:
    ranking = BASE.replace("binary_classification", "ranking").replace(
        "  segments: [risk_segment]\n", "  segments: [risk_segment]\n  query: session\n"
    )
    with pytest.raises(ConfigError, match=r"retraining\.backend: the lambda backend trains"):
        load_monitor_definition(ranking + "retraining: {}\n")
