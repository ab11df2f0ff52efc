"""The method registry: every method against an oracle, its direction and defaults, the
kinds it refuses, empty inputs, and the ``auto`` rule."""

from __future__ import annotations

import typing
from collections.abc import Callable

import numpy as np
import pytest
import scipy.special
import scipy.stats
from numpy.typing import NDArray
from scipy.spatial.distance import jensenshannon

from driftline.config import DriftMethodName
from driftline.errors import InsufficientDataError
from driftline.stats import (
    METHOD_NAMES,
    METHODS,
    FeatureDistributions,
    WeightedSample,
    choose_method,
    compute_drift,
    get_method,
)

FloatArray = NDArray[np.float64]


def _numeric(shift: float, *, n: int = 2000, m: int = 1500, seed: int = 5) -> FeatureDistributions:
    """A numeric feature as the profiles deliver it: histogram on reference deciles,
    with under- and overflow bins, raw samples and the reference std."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(shift, size=m)
    edges = np.concatenate([[-np.inf], np.quantile(a, np.linspace(0, 1, 11)), [np.inf]])
    return FeatureDistributions(
        kind="numeric",
        reference_counts=np.histogram(a, edges)[0].astype(float),
        current_counts=np.histogram(b, edges)[0].astype(float),
        reference_sample=WeightedSample.from_values(a),
        current_sample=WeightedSample.from_values(b),
        reference_std=float(a.std()),
    )


def _categorical(shares: list[float], *, n: int = 5000, seed: int = 6) -> FeatureDistributions:
    """A categorical feature: reference shares (0.4, 0.3, 0.2, 0.1, other 0) vs ``shares``."""
    rng = np.random.default_rng(seed)
    reference = rng.multinomial(n, [0.4, 0.3, 0.2, 0.1, 0.0]).astype(float)
    current = rng.multinomial(n, shares).astype(float)
    return FeatureDistributions(
        "categorical", reference, current, bin_labels=("a", "b", "c", "d", "(other)")
    )


def _raw(distributions: FeatureDistributions) -> tuple[FloatArray, FloatArray]:
    assert distributions.reference_sample is not None
    assert distributions.current_sample is not None
    return distributions.reference_sample.values, distributions.current_sample.values


def _shares(counts: FloatArray) -> FloatArray:
    return np.asarray(counts / counts.sum(), dtype=np.float64)


def _psi_oracle(d: FeatureDistributions) -> tuple[float, float | None]:
    p = np.where(d.reference_counts == 0, 1e-4, _shares(d.reference_counts))
    q = np.where(d.current_counts == 0, 1e-4, _shares(d.current_counts))
    return float(np.sum(scipy.special.rel_entr(q, p) + scipy.special.rel_entr(p, q))), None


def _ks_oracle(d: FeatureDistributions) -> tuple[float, float | None]:
    result = scipy.stats.ks_2samp(*_raw(d))
    return float(result.statistic), float(result.pvalue)


def _wasserstein_oracle(d: FeatureDistributions) -> tuple[float, float | None]:
    assert d.reference_std is not None
    return float(scipy.stats.wasserstein_distance(*_raw(d))) / d.reference_std, None


def _jensenshannon_oracle(d: FeatureDistributions) -> tuple[float, float | None]:
    distance = jensenshannon(_shares(d.reference_counts), _shares(d.current_counts), base=2)
    return float(distance), None


def _chisquare_oracle(d: FeatureDistributions) -> tuple[float, float | None]:
    table = np.vstack([d.reference_counts, d.current_counts])
    result = scipy.stats.chi2_contingency(table[:, table.sum(axis=0) > 0], correction=False)
    return float(result.statistic), float(result.pvalue)


def _hellinger_oracle(d: FeatureDistributions) -> tuple[float, float | None]:
    # no scipy function: the definition, in its L2 form
    p, q = _shares(d.reference_counts), _shares(d.current_counts)
    return float(np.linalg.norm(np.sqrt(p) - np.sqrt(q)) / np.sqrt(2)), None


#: Every registered method with an independent computation of (statistic, p-value).
ORACLES: dict[str, Callable[[FeatureDistributions], tuple[float, float | None]]] = {
    "psi": _psi_oracle,
    "ks": _ks_oracle,
    "wasserstein": _wasserstein_oracle,
    "jensenshannon": _jensenshannon_oracle,
    "chisquare": _chisquare_oracle,
    "hellinger": _hellinger_oracle,
}


def test_no_registered_method_is_left_out_of_the_oracle_list() -> None:
    assert set(ORACLES) == set(METHOD_NAMES)


def test_registered_methods_are_the_ones_a_monitor_definition_may_name() -> None:
    assert set(typing.get_args(DriftMethodName)) == set(METHOD_NAMES)


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize("shift", [0.0, 0.3])
def test_each_method_equals_its_oracle_on_the_same_feature(method: str, shift: float) -> None:
    # GIVEN one numeric feature (for kind-specific methods) or one categorical feature
    spec = get_method(method)
    if "numeric" in spec.kinds:
        feature = _numeric(shift)
    else:  # pragma: no cover - every method applies to numeric features today
        feature = _categorical([0.4 - shift / 3, 0.3, 0.2, 0.1 + shift / 3, 0.0])
    # WHEN the registry computes it
    result = compute_drift(feature, method)
    # THEN statistic and p-value equal the oracle's, and the result states its method
    statistic, p_value = ORACLES[method](feature)
    assert result.method == method
    assert result.statistic == pytest.approx(statistic, rel=1e-9)
    if p_value is None:
        assert result.p_value is None
    else:
        assert result.p_value == pytest.approx(p_value, rel=1e-9)


@pytest.mark.parametrize(
    "method", [name for name in METHOD_NAMES if "categorical" in METHODS[name].kinds]
)
def test_each_categorical_method_equals_its_oracle_on_a_categorical_feature(method: str) -> None:
    # GIVEN a category never seen in the reference ("other") appearing in the current data
    feature = _categorical([0.35, 0.3, 0.2, 0.1, 0.05])
    result = compute_drift(feature, method)
    statistic, p_value = ORACLES[method](feature)
    assert result.statistic == pytest.approx(statistic, rel=1e-9)
    assert result.p_value == (None if p_value is None else pytest.approx(p_value, rel=1e-9))
    assert result.drifted


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_each_method_flags_a_large_shift_and_not_the_same_distribution(method: str) -> None:
    stable = compute_drift(_numeric(0.0), method)
    shifted = compute_drift(_numeric(1.0), method)
    assert not stable.drifted, stable
    assert shifted.drifted, shifted


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_each_method_states_its_direction_and_default_threshold(method: str) -> None:
    spec = get_method(method)
    result = compute_drift(_numeric(0.2), method)
    assert result.direction == spec.direction
    assert result.threshold == spec.default_threshold
    # a test reports a p-value and decides on it; a distance decides on the statistic
    if spec.direction == "p_value < threshold":
        assert result.p_value is not None
        assert result.drifted == (result.p_value < result.threshold)
    else:
        assert result.p_value is None
        assert result.drifted == (result.statistic >= result.threshold)


def test_defaults_are_the_documented_ones() -> None:
    defaults = {name: (spec.default_threshold, spec.direction) for name, spec in METHODS.items()}
    assert defaults == {
        "psi": (0.2, "statistic >= threshold"),
        "ks": (0.05, "p_value < threshold"),
        "wasserstein": (0.1, "statistic >= threshold"),
        "jensenshannon": (0.1, "statistic >= threshold"),
        "chisquare": (0.05, "p_value < threshold"),
        "hellinger": (0.1, "statistic >= threshold"),
    }


def test_a_distance_equal_to_its_threshold_has_drifted() -> None:
    # GIVEN the statistic itself as the threshold: "statistic >= threshold" holds
    feature = _numeric(0.2)
    statistic = compute_drift(feature, "hellinger").statistic
    assert compute_drift(feature, "hellinger", statistic).drifted
    assert not compute_drift(feature, "hellinger", np.nextafter(statistic, 1.0)).drifted


def test_a_p_value_equal_to_its_threshold_has_not_drifted() -> None:
    feature = _numeric(0.05, n=300, m=300)
    p_value = compute_drift(feature, "ks").p_value
    assert p_value is not None and 0 < p_value < 1
    assert not compute_drift(feature, "ks", p_value).drifted
    assert compute_drift(feature, "ks", np.nextafter(p_value, 1.0)).drifted


def test_an_explicit_threshold_overrides_the_default_and_is_reported() -> None:
    feature = _numeric(1.0)
    result = compute_drift(feature, "psi", 50.0)
    assert result.threshold == 50.0
    assert not result.drifted
    assert get_method("psi").run(feature, 50.0) == result


@pytest.mark.parametrize(
    ("method", "threshold", "message"),
    [
        ("psi", 0.0, r"threshold > 0 for drift method 'psi', got 0.0"),
        ("hellinger", -0.1, r"threshold > 0 for drift method 'hellinger', got -0.1"),
        ("ks", 1.0, r"threshold \(0, 1\) for drift method 'ks', got 1.0"),
        ("chisquare", float("nan"), r"threshold \(0, 1\) for drift method 'chisquare', got nan"),
    ],
)
def test_an_impossible_threshold_is_refused(method: str, threshold: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compute_drift(_numeric(0.0), method, threshold)


def test_wasserstein_is_normalised_by_the_reference_std() -> None:
    feature = _numeric(1.0)
    reference, current = _raw(feature)
    raw = scipy.stats.wasserstein_distance(reference, current)
    assert feature.reference_std is not None
    result = compute_drift(feature, "wasserstein")
    assert result.statistic == pytest.approx(raw / feature.reference_std, rel=1e-9)
    # the raw distance stays recoverable: statistic * reference_std
    assert result.statistic * feature.reference_std == pytest.approx(raw, rel=1e-9)


@pytest.mark.parametrize("std", [None, 0.0])
def test_wasserstein_without_a_reference_scale_reports_the_raw_distance(std: float | None) -> None:
    # GIVEN a constant reference (std 0) or one whose std is unknown
    feature = FeatureDistributions(
        "numeric",
        np.array([10.0]),
        np.array([10.0]),
        reference_sample=WeightedSample.from_values([3.0] * 10),
        current_sample=WeightedSample.from_values([3.0] * 5 + [5.0] * 5),
        reference_std=std,
    )
    # THEN the statistic is the raw distance: half the mass moved by 2
    assert compute_drift(feature, "wasserstein").statistic == pytest.approx(1.0)


@pytest.mark.parametrize(
    "method", [name for name in METHOD_NAMES if "categorical" not in METHODS[name].kinds]
)
def test_a_numeric_only_method_on_a_categorical_feature_is_refused(method: str) -> None:
    with pytest.raises(
        ValueError,
        match=f"drift method '{method}' does not apply to categorical features; "
        "it applies to: numeric",
    ):
        compute_drift(_categorical([0.4, 0.3, 0.2, 0.1, 0.0]), method)


def test_an_unknown_method_is_refused_naming_the_allowed_ones() -> None:
    allowed = ", ".join(METHOD_NAMES)
    with pytest.raises(ValueError, match=f"unknown drift method 'kl'; allowed: {allowed}$"):
        compute_drift(_numeric(0.0), "kl")
    with pytest.raises(ValueError, match="unknown drift method 'auto'"):
        get_method("auto")


@pytest.mark.parametrize("method", METHOD_NAMES)
@pytest.mark.parametrize("side", ["reference", "current"])
def test_an_empty_side_is_insufficient_data_for_every_method(method: str, side: str) -> None:
    # GIVEN a numeric feature whose one side has no values: zero counts, empty sample
    feature = _numeric(0.0)
    empty_sample = WeightedSample.from_values([])
    zeros = np.zeros_like(feature.reference_counts)
    if side == "reference":
        feature = FeatureDistributions(
            "numeric", zeros, feature.current_counts, empty_sample, feature.current_sample, 1.0
        )
    else:
        feature = FeatureDistributions(
            "numeric", feature.reference_counts, zeros, feature.reference_sample, empty_sample, 1.0
        )
    # THEN every method says there is not enough data, naming the side
    with pytest.raises(InsufficientDataError, match=f"the {side} (counts|sample) (are|is) empty"):
        compute_drift(feature, method)


@pytest.mark.parametrize(
    "method", [name for name in METHOD_NAMES if METHODS[name].uses == "samples"]
)
def test_a_sample_method_without_samples_is_refused(method: str) -> None:
    feature = FeatureDistributions("numeric", np.array([1.0, 2.0]), np.array([2.0, 1.0]))
    with pytest.raises(
        ValueError, match=f"'{method}' needs the weighted samples .* got reference_sample=NoneType"
    ):
        compute_drift(feature, method)


def test_the_registry_cannot_be_changed_from_outside() -> None:
    with pytest.raises(TypeError):
        METHODS["psi"] = METHODS["ks"]  # type: ignore[index]


# -- the auto rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "n_reference", "n_current", "expected"),
    [
        ("numeric", 10, 10, "ks"),
        ("numeric", 500, 100_000, "ks"),
        ("numeric", 10**6, 10**6, "ks"),
        ("categorical", 0, 0, "chisquare"),
        ("categorical", 5000, 1001, "chisquare"),
        ("categorical", 10**6, 10**7, "chisquare"),
    ],
)
def test_auto_rule_picks_the_kinds_test_at_every_size(
    kind: typing.Literal["numeric", "categorical"], n_reference: int, n_current: int, expected: str
) -> None:
    # (an evaluation decides it by evidence and effect together: stats.decision)
    assert choose_method(kind, n_reference, n_current) == expected


@pytest.mark.parametrize("kind", ["numeric", "categorical"])
@pytest.mark.parametrize("n", [1, 1000, 1001, 10**6])
def test_auto_rule_always_picks_a_registered_method_for_the_kind(
    kind: typing.Literal["numeric", "categorical"], n: int
) -> None:
    assert kind in get_method(choose_method(kind, n, n)).kinds


def test_auto_rule_refuses_an_unknown_kind_or_a_negative_size() -> None:
    with pytest.raises(ValueError, match="expected kind 'numeric' or 'categorical', got 'text'"):
        choose_method("text", 10, 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-negative sample sizes, got -1 and 10"):
        choose_method("numeric", -1, 10)
