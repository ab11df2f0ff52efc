"""The null distributions' tails computed without scipy: equal to scipy.special across
their range (far tails included), exact at their edges, and a drift decision that reads
them imports no scipy."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.stats.tails import chi2_sf, kolmogorov_sf, log_gamma, upper_gamma_q


def test_kolmogorov_tail_equals_scipy_from_the_bulk_to_the_far_tail() -> None:
    # GIVEN arguments from where the tail is 1 to where it is below 1e-300, across the switch
    # between the two series at 1
    points = np.concatenate(
        [
            np.linspace(0.02, 0.999, 400),
            [1.0 - 1e-12, 1.0, 1.0 + 1e-12],
            np.linspace(1.0, 18.5, 400),
        ]
    )
    for x in points:
        # WHEN the tail is taken
        found = kolmogorov_sf(float(x))
        expected = float(scipy.special.kolmogorov(x))
        # THEN it is scipy's to 1e-13, relative (the p-values read far in the tail)
        assert found == pytest.approx(expected, rel=1e-13, abs=1e-300), x


def test_kolmogorov_tail_at_its_edges() -> None:
    assert kolmogorov_sf(0.0) == 1.0
    assert kolmogorov_sf(-1.0) == 1.0
    assert kolmogorov_sf(0.01) == 1.0
    assert kolmogorov_sf(30.0) == 0.0
    assert kolmogorov_sf(math.inf) == 0.0
    with pytest.raises(ValueError, match="NaN"):
        kolmogorov_sf(math.nan)


@pytest.mark.parametrize("degrees_of_freedom", [1, 2, 3, 4, 5, 9, 10, 19, 49, 99, 100, 255, 1000])
def test_chi_square_tail_equals_scipy_across_the_statistic(degrees_of_freedom: int) -> None:
    # GIVEN statistics from far below the mean to far in the upper tail, and around the mean
    # (where the series hands over to the continued fraction at df / 2 + 1)
    spread = math.sqrt(2.0 * degrees_of_freedom)
    statistics = np.concatenate(
        [
            np.geomspace(1e-8, 5e3, 300),
            degrees_of_freedom + np.linspace(-4.0, 8.0, 121) * spread,
            [
                degrees_of_freedom + 2.0 - 1e-9,
                degrees_of_freedom + 2.0,
                degrees_of_freedom + 2.0 + 1e-9,
            ],
        ]
    )
    for statistic in statistics[statistics > 0]:
        # WHEN the upper tail is taken
        found = chi2_sf(float(statistic), degrees_of_freedom)
        expected = float(scipy.special.chdtrc(degrees_of_freedom, statistic))
        # THEN it is scipy's to 1e-12, relative, down to 1e-290
        if expected > 1e-290:
            assert found == pytest.approx(expected, rel=1e-12), statistic
        else:
            assert found <= 1e-280


@settings(max_examples=300, deadline=None)
@given(
    st.floats(min_value=0.05, max_value=2_000.0),
    st.floats(min_value=1e-6, max_value=6_000.0),
)
def test_upper_gamma_equals_scipy_for_any_shape_and_argument(a: float, x: float) -> None:
    expected = float(scipy.special.gammaincc(a, x))
    found = upper_gamma_q(a, x)
    if expected > 1e-290:
        assert found == pytest.approx(expected, rel=1e-11)
    else:
        assert found <= 1e-280


def test_chi_square_tail_at_its_edges_and_on_bad_input() -> None:
    assert chi2_sf(0.0, 3) == 1.0
    assert chi2_sf(-2.0, 3) == 1.0
    assert chi2_sf(math.inf, 3) == 0.0
    assert chi2_sf(5_000.0, 2) == 0.0  # exp(-2500) is below the smallest double
    with pytest.raises(ValueError, match="degrees of freedom"):
        chi2_sf(1.0, 0)
    with pytest.raises(ValueError, match="NaN"):
        chi2_sf(math.nan, 2)


def test_log_gamma_equals_scipy_elementwise() -> None:
    values = np.concatenate([np.geomspace(1e-3, 1e7, 200), np.arange(1.0, 60.0)])
    assert log_gamma(values) == pytest.approx(scipy.special.gammaln(values), rel=1e-14, abs=1e-14)
    assert float(log_gamma(np.float64(51_001.0))) == pytest.approx(
        float(scipy.special.gammaln(51_001.0)), rel=1e-15
    )


@pytest.mark.parametrize(("n_reference", "n_current"), [(5_000, 500), (200_000, 200_000)])
def test_drift_decisions_of_both_kinds_import_no_scipy(n_reference: int, n_current: int) -> None:
    # GIVEN a fresh interpreter (importing scipy.special costs 0.2-0.5 s of a cold start,
    # scipy.stats 0.6 s more)
    code = (
        "import sys, numpy as np\n"
        "from driftline.stats.base import FeatureDistributions, WeightedSample\n"
        "from driftline.stats.decision import measure_drift\n"
        "rng = np.random.default_rng(0)\n"
        f"r, c = rng.normal(0, 1, {n_reference}), rng.normal(0.01, 1.2, {n_current})\n"
        "edges = np.quantile(r, np.linspace(0.1, 0.9, 9))\n"
        "counts = lambda v: np.bincount(np.searchsorted(edges, v), minlength=10)\n"
        "ref = np.concatenate([[0.0], counts(r), [0.0]])\n"
        "cur = np.concatenate([[2.0], counts(c), [3.0]])\n"
        "f = FeatureDistributions('numeric', ref, cur, WeightedSample.from_values(r),\n"
        "    WeightedSample.from_values(c), 1.0)\n"
        "numeric = measure_drift(f, 'ks')\n"
        "assert numeric.evidence == 'ks+binned+scale', numeric\n"
        "g = FeatureDistributions('categorical', np.array([500.0, 300, 200, 3]),\n"
        "    np.array([40.0, 35, 25, 0]))\n"
        "categorical = measure_drift(g, 'jensenshannon')\n"
        "assert categorical.p_value is not None, categorical\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))\n"
    )
    # WHEN a numeric column (KS exact at the smaller sizes, Kolmogorov's limit at the larger;
    # the binned test with its exact test of the sparse outer bins; the test of spread) and a
    # categorical column are measured
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    # THEN no scipy module was loaded
    assert found == "[]"
