"""Regression metrics: exact functions on arrays, and mergeable error sums.

Every metric is a formula on a few sums (:class:`RegressionSums`): the count, the sums of
absolute, squared and absolute-percentage errors, and the target's mean and sum of squared
deviations. A profile merges the sums of its batches, so a window's metrics are computed
without its rows; merged values equal the whole-data ones to floating-point rounding.

The target's spread is kept as (mean, sum of squared deviations) and merged with Chan et
al.'s parallel update rather than as raw sums of ``y`` and ``y**2``: ``Σy² - (Σy)²/n``
cancels catastrophically when the target's mean is large against its spread.

Conventions, as scikit-learn:

* MAPE divides by ``max(|y|, eps)``, ``eps`` the float64 machine epsilon, so a zero target
  gives a huge but finite term. It is a fraction (0.1 means 10 %), not a percentage.
* R² is ``1 - SSE / SST``. A constant target (SST = 0) gives 1.0 for perfect predictions and
  0.0 otherwise. The target is constant when its minimum equals its maximum; scikit-learn
  tests ``SST == 0`` in floating point, which can miss a constant target whose mean does
  not round exactly (``[0.1] * 3``) and then returns about -5e33 instead of 0.0.
* R² needs two rows (scikit-learn returns NaN with a warning; here it is an
  :class:`~driftline.errors.InsufficientDataError`).

>>> y_true, y_pred = [3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0]
>>> mean_absolute_error(y_true, y_pred), r2_score(y_true, y_pred)
(0.5, 0.9486081370449679)

Reference: Chan, Golub and LeVeque (1979), "Updating formulae and a pairwise algorithm for
computing sample variances".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.metrics.encoding import as_scores

#: Smallest denominator of a MAPE term (scikit-learn's choice).
MAPE_EPSILON = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class RegressionSums:
    """Mergeable sums behind MAE, RMSE, MAPE and R².

    Attributes:
        n: rows.
        sum_absolute_error: ``Σ |y - ŷ|``.
        sum_squared_error: ``Σ (y - ŷ)²`` (the SSE of R²).
        sum_absolute_percentage_error: ``Σ |y - ŷ| / max(|y|, eps)``.
        target_mean, target_m2: mean of ``y`` and ``Σ (y - mean)²`` (the SST of R²).
        target_min, target_max: extremes of ``y`` (NaN while ``n == 0``).

    >>> a = RegressionSums.from_arrays([1.0, 2.0], [1.5, 2.0])
    >>> b = RegressionSums.from_arrays([4.0], [3.0])
    >>> merged = a.merge(b)
    >>> merged.n, merged.sum_absolute_error, merged.target_mean, merged.target_m2
    (3, 1.5, 2.3333333333333335, 4.666666666666667)
    """

    n: int
    sum_absolute_error: float
    sum_squared_error: float
    sum_absolute_percentage_error: float
    target_mean: float
    target_m2: float
    target_min: float
    target_max: float

    @classmethod
    def from_arrays(cls, y_true: ArrayLike, y_pred: ArrayLike) -> RegressionSums:
        """Sum one batch (vectorised; the target's spread in two passes, as scikit-learn).

        Raises:
            InvalidInputError: missing, infinite or non-numeric values, or lengths differ.
        """
        truth = as_scores(y_true, role="y_true")
        predicted = as_scores(y_pred, role="y_pred")
        if truth.size != predicted.size:
            raise InvalidInputError(
                f"expected columns of one length; y_true has {truth.size}, "
                f"y_pred has {predicted.size} rows",
                reason="length_mismatch",
            )
        if truth.size == 0:
            nan = math.nan
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0, nan, nan)
        absolute = np.abs(predicted - truth)
        mean = float(np.mean(truth))
        return cls(
            n=int(truth.size),
            sum_absolute_error=float(absolute.sum()),
            sum_squared_error=float(np.square(absolute).sum()),
            sum_absolute_percentage_error=float(
                (absolute / np.maximum(np.abs(truth), MAPE_EPSILON)).sum()
            ),
            target_mean=mean,
            target_m2=float(np.square(truth - mean).sum()),
            target_min=float(truth.min()),
            target_max=float(truth.max()),
        )

    def merge(self, other: RegressionSums) -> RegressionSums:
        """The sums of both batches (the target's spread by Chan et al.'s update)."""
        n = self.n + other.n
        if self.n == 0:
            mean, m2 = other.target_mean, other.target_m2
        elif other.n == 0:
            mean, m2 = self.target_mean, self.target_m2
        else:
            delta = other.target_mean - self.target_mean
            mean = self.target_mean + delta * other.n / n
            m2 = self.target_m2 + other.target_m2 + delta * delta * self.n * other.n / n
        return RegressionSums(
            n=n,
            sum_absolute_error=self.sum_absolute_error + other.sum_absolute_error,
            sum_squared_error=self.sum_squared_error + other.sum_squared_error,
            sum_absolute_percentage_error=self.sum_absolute_percentage_error
            + other.sum_absolute_percentage_error,
            target_mean=mean,
            target_m2=m2,
            target_min=_nan_min(self.target_min, other.target_min),
            target_max=_nan_max(self.target_max, other.target_max),
        )

    def _require_rows(self, metric: str, minimum: int = 1) -> None:
        if self.n < minimum:
            raise InsufficientDataError(
                f"{metric} needs at least {minimum} labelled row{'s' if minimum > 1 else ''}; "
                f"got {self.n}"
            )

    def mae(self) -> float:
        """Mean absolute error."""
        self._require_rows("mae")
        return self.sum_absolute_error / self.n

    def rmse(self) -> float:
        """Root mean squared error."""
        self._require_rows("rmse")
        return math.sqrt(self.sum_squared_error / self.n)

    def mape(self) -> float:
        """Mean absolute percentage error, as a fraction."""
        self._require_rows("mape")
        return self.sum_absolute_percentage_error / self.n

    def r2(self) -> float:
        """Coefficient of determination (see the module's constant-target convention)."""
        self._require_rows("r2", minimum=2)
        if self.sum_squared_error == 0.0:
            return 1.0
        if self.target_min == self.target_max or self.target_m2 == 0.0:
            # A constant target, or one whose spread underflows to zero: scikit-learn's
            # convention (0 for an imperfect prediction) rather than a division by zero.
            return 0.0
        return 1.0 - self.sum_squared_error / self.target_m2

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (NaN extremes as ``null``)."""
        return {
            "n": self.n,
            "sum_absolute_error": self.sum_absolute_error,
            "sum_squared_error": self.sum_squared_error,
            "sum_absolute_percentage_error": self.sum_absolute_percentage_error,
            "target_mean": self.target_mean,
            "target_m2": self.target_m2,
            "target_min": None if math.isnan(self.target_min) else self.target_min,
            "target_max": None if math.isnan(self.target_max) else self.target_max,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegressionSums:
        """Inverse of :meth:`to_dict`."""
        return cls(
            n=int(data["n"]),
            sum_absolute_error=float(data["sum_absolute_error"]),
            sum_squared_error=float(data["sum_squared_error"]),
            sum_absolute_percentage_error=float(data["sum_absolute_percentage_error"]),
            target_mean=float(data["target_mean"]),
            target_m2=float(data["target_m2"]),
            target_min=math.nan if data["target_min"] is None else float(data["target_min"]),
            target_max=math.nan if data["target_max"] is None else float(data["target_max"]),
        )


def _nan_min(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    return a if math.isnan(b) else min(a, b)


def _nan_max(a: float, b: float) -> float:
    if math.isnan(a):
        return b
    return a if math.isnan(b) else max(a, b)


def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean of ``|y - ŷ|``; lower is better.

    Raises:
        InsufficientDataError: no rows.
        InvalidInputError: missing, infinite or non-numeric values, or lengths differ.

    >>> mean_absolute_error([1.0, 2.0, 3.0], [1.0, 3.0, 5.0])
    1.0
    """
    return RegressionSums.from_arrays(y_true, y_pred).mae()


def root_mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Square root of the mean of ``(y - ŷ)²``; lower is better.

    Raises: as :func:`mean_absolute_error`.

    >>> root_mean_squared_error([0.0, 0.0], [3.0, 4.0]) ** 2
    12.5
    """
    return RegressionSums.from_arrays(y_true, y_pred).rmse()


def mean_absolute_percentage_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean of ``|y - ŷ| / max(|y|, eps)``, a fraction; lower is better.

    Raises: as :func:`mean_absolute_error`.

    >>> mean_absolute_percentage_error([100.0, 200.0], [110.0, 180.0])
    0.1
    """
    return RegressionSums.from_arrays(y_true, y_pred).mape()


def r2_score(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Coefficient of determination ``1 - SSE / SST``; higher is better (1 is perfect).

    Raises:
        InsufficientDataError: fewer than two rows.
        InvalidInputError: missing, infinite or non-numeric values, or lengths differ.

    >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    >>> r2_score([5.0, 5.0], [5.0, 6.0])
    0.0
    """
    return RegressionSums.from_arrays(y_true, y_pred).r2()
