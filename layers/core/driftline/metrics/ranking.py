"""Ranking and recommendation metrics, per query, from a frame of impressions.

Each row of the frame is one impression: an item shown for a query (or to a user), the
model's score for it (higher ranks first) or its rank (1 is the top), and a relevance label
(a click as 0/1, or a graded relevance >= 0; an item is *relevant* when its label is > 0).
Per-query figures are computed in one vectorised pass over the rows sorted by query, and
averaged over queries.

Conventions (every figure is in [0, 1]; higher is better):

* ``precision@k`` = relevant items in the top k / k, over **every** query (a query with
  fewer than k items cannot reach 1; one with no relevant item scores 0).
* ``recall@k`` = relevant items in the top k / relevant items of the query.
* ``MAP@k``: average precision ``Σ_{i<=k, item i relevant} precision@i / min(k, R)``, R the
  query's relevant items, so a perfect ranking scores 1.
* ``NDCG@k``: DCG with linear gains (the label) and discount ``1 / log2(position + 1)``, cut
  at k, divided by the ideal DCG: scikit-learn's ``ndcg_score`` for one query.
* ``MRR``: 1 / position of the first relevant item, over the whole list (no cut at k).
* Queries without a relevant item are **skipped** by recall@k, MAP@k, NDCG@k and MRR (each
  divides by something that is zero) and counted in ``queries - queries_with_relevant``.
  scikit-learn's ``ndcg_score`` scores such a query 0 instead, which would make NDCG fall
  whenever more queries go unclicked, whatever the ranking quality.
* **Ties** in the score: precision@k, recall@k and NDCG@k give every item of a tied group
  the group's mean relevance (McSherry and Najork 2008, scikit-learn's ``ndcg_score``),
  which is the expectation over all orders of the ties. MAP@k and MRR are not linear in the
  order; they break ties pessimistically (less relevant first), so a model scoring every
  item alike does not look good by luck. Without ties all conventions coincide.
* ``CTR`` = impressions with a click (> 0) / impressions; ``conversion_rate`` likewise from
  the conversion column.

Merging sums per-query figures, so a query must lie wholly within one batch (a request's
impressions are logged together); a query split across batches counts as two queries.

>>> frame = pd.DataFrame({"q": [1, 1, 1, 2, 2], "score": [0.9, 0.5, 0.1, 0.8, 0.3],
...                       "click": [0, 1, 0, 1, 0]})
>>> ndcg_at_k(frame, query="q", label="click", score="score", k=3)
0.815464876785729
>>> mean_reciprocal_rank(frame, query="q", label="click", score="score")
0.75

Reference: McSherry and Najork (2008), "Computing information retrieval performance measures
efficiently in the presence of tied scores", ECIR.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from driftline.errors import IncompatibleProfilesError, InsufficientDataError, InvalidInputError
from driftline.metrics.encoding import FloatArray, IntArray, as_scores

PER_QUERY_COLUMNS = ("precision", "recall", "average_precision", "ndcg", "reciprocal_rank")


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"expected k a positive integer, got {k!r}")


def _column(frame: pd.DataFrame, name: str, role: str) -> pd.Series[Any]:
    if name not in frame.columns:
        raise InvalidInputError(
            f"the {role} column {name!r} is not in the frame; columns: {list(frame.columns)}",
            reason="missing_column",
        )
    return frame[name]


def _ranking_inputs(
    frame: pd.DataFrame, *, query: str, label: str, score: str | None, rank: str | None
) -> tuple[IntArray, Any, FloatArray, FloatArray]:
    """``(query codes, query values, relevance, score)``; a rank becomes ``-rank``."""
    if (score is None) == (rank is None):
        raise ValueError(
            f"expected exactly one of score and rank, got score={score!r}, rank={rank!r}"
        )
    codes, uniques = pd.factorize(_column(frame, query, "query"), sort=False)
    missing = int(np.count_nonzero(codes < 0))
    if missing:
        raise InvalidInputError(
            f"query column {query!r} has {missing} missing values", reason="missing_query"
        )
    relevance = as_scores(_column(frame, label, "label"), role=f"label column {label!r}")
    negative = int(np.count_nonzero(relevance < 0))
    if negative:
        raise InvalidInputError(
            f"relevance labels must be >= 0; column {label!r} has {negative} negative "
            f"value{'' if negative == 1 else 's'}",
            reason="negative_relevance",
            column=label,
            rows=negative,
        )
    if score is not None:
        ordering = as_scores(_column(frame, score, "score"), role=f"score column {score!r}")
    else:
        assert rank is not None
        ordering = -as_scores(_column(frame, rank, "rank"), role=f"rank column {rank!r}")
    return codes.astype(np.int64), uniques, relevance, ordering


def _per_query_arrays(
    codes: IntArray, relevance: FloatArray, ordering: FloatArray, k: int
) -> dict[str, FloatArray]:
    """Per-query precision, recall, AP, NDCG and RR (NaN where undefined), by query code."""
    n_queries = int(codes.max(initial=-1)) + 1
    order = np.lexsort((relevance, -ordering, codes))
    query, score, gain = codes[order], ordering[order], relevance[order]
    sizes = np.bincount(query, minlength=n_queries)
    starts = np.cumsum(sizes) - sizes
    position = np.arange(query.size) - starts[query] + 1
    top = position <= k
    relevant = (gain > 0).astype(np.float64)
    discount = np.where(top, 1.0 / np.log2(position + 1.0), 0.0)

    # Tied groups (same query, same score) share their mean gain.
    new_group = np.ones(query.size, dtype=bool)
    new_group[1:] = (query[1:] != query[:-1]) | (score[1:] != score[:-1])
    group = np.cumsum(new_group) - 1
    group_size = np.bincount(group)
    mean_gain = (np.bincount(group, weights=gain) / group_size)[group]
    mean_hit = (np.bincount(group, weights=relevant) / group_size)[group]

    n_relevant = np.bincount(query, weights=relevant, minlength=n_queries)
    has_relevant = n_relevant > 0
    hits = np.bincount(query, weights=mean_hit * top, minlength=n_queries)
    dcg = np.bincount(query, weights=mean_gain * discount, minlength=n_queries)
    ideal = relevance[np.lexsort((-relevance, codes))]
    ideal_dcg = np.bincount(query, weights=ideal * discount, minlength=n_queries)

    # Pessimistic order (the sort put less relevant items first among ties).
    cumulative = np.cumsum(relevant)
    before_query = (cumulative - relevant)[starts] if query.size else cumulative
    hits_so_far = cumulative - before_query[query]
    precision_here = relevant * top * hits_so_far / position
    ap_sum = np.bincount(query, weights=precision_here, minlength=n_queries)
    reciprocal = np.full(n_queries, np.nan)
    relevant_rows = np.flatnonzero(relevant)
    firsts, first_index = np.unique(query[relevant_rows], return_index=True)
    reciprocal[firsts] = 1.0 / position[relevant_rows[first_index]]

    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "precision": hits / k,
            "recall": np.where(has_relevant, hits / n_relevant, np.nan),
            "average_precision": np.where(has_relevant, ap_sum / np.minimum(k, n_relevant), np.nan),
            "ndcg": np.where(has_relevant, dcg / ideal_dcg, np.nan),
            "reciprocal_rank": reciprocal,
        }


def per_query_metrics(
    frame: pd.DataFrame,
    *,
    query: str,
    label: str,
    score: str | None = None,
    rank: str | None = None,
    k: int = 10,
) -> pd.DataFrame:
    """Per-query precision@k, recall@k, AP@k, NDCG@k and reciprocal rank.

    Args:
        frame: one row per impression.
        query: the column grouping rows into queries (or users).
        label: relevance (> 0 is relevant; graded values are NDCG's gains).
        score, rank: exactly one: the model's score (higher first) or rank (1 first).
        k: the cut-off.

    Returns:
        A frame indexed by query (in order of first appearance) with the columns of
        :data:`PER_QUERY_COLUMNS`; NaN where undefined (no relevant item).

    Raises:
        InvalidInputError: a column is absent, or holds missing, non-numeric or negative
            values.
        ValueError: both or neither of score and rank, or k < 1.

    >>> frame = pd.DataFrame({"q": ["a", "a", "b"], "rank": [1, 2, 1], "y": [0, 1, 0]})
    >>> per_query_metrics(frame, query="q", label="y", rank="rank", k=1)["recall"].tolist()
    [0.0, nan]
    """
    _check_k(k)
    codes, uniques, relevance, ordering = _ranking_inputs(
        frame, query=query, label=label, score=score, rank=rank
    )
    arrays = _per_query_arrays(codes, relevance, ordering, k)
    return pd.DataFrame(arrays, index=pd.Index(uniques, name=query))


@dataclass(frozen=True)
class RankingSums:
    """Mergeable sums of per-query ranking figures, and click/conversion counts.

    Attributes:
        k: the cut-off (profiles merge only with the same k).
        impressions, clicks: rows, and rows whose click value is > 0.
        conversions: rows whose conversion value is > 0 (None: no conversion column).
        queries, queries_with_relevant: all queries, and those with a relevant item.
        sum_precision, sum_recall, sum_average_precision, sum_ndcg, sum_reciprocal_rank:
            per-query figures summed (precision over all queries, the rest over queries
            with a relevant item).

    >>> frame = pd.DataFrame({"q": [1, 1, 2, 2], "s": [0.9, 0.1, 0.8, 0.3], "y": [1, 0, 0, 1]})
    >>> whole = RankingSums.from_frame(frame, query="q", label="y", score="s", k=1)
    >>> parts = [RankingSums.from_frame(frame.iloc[i : i + 2], query="q", label="y",
    ...                                 score="s", k=1) for i in (0, 2)]
    >>> parts[0].merge(parts[1]) == whole, whole.precision_at_k()
    (True, 0.5)
    """

    k: int
    impressions: int
    clicks: int
    conversions: int | None
    queries: int
    queries_with_relevant: int
    sum_precision: float
    sum_recall: float
    sum_average_precision: float
    sum_ndcg: float
    sum_reciprocal_rank: float

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        query: str,
        label: str,
        score: str | None = None,
        rank: str | None = None,
        k: int = 10,
        click: str | None = None,
        conversion: str | None = None,
    ) -> RankingSums:
        """Sum one batch. ``click`` defaults to the label column.

        Raises: as :func:`per_query_metrics`, also for the click and conversion columns.
        """
        _check_k(k)
        codes, _, relevance, ordering = _ranking_inputs(
            frame, query=query, label=label, score=score, rank=rank
        )
        arrays = _per_query_arrays(codes, relevance, ordering, k)
        defined = ~np.isnan(arrays["recall"])
        clicks = _positive_count(frame, click or label, "click")
        conversions = (
            None if conversion is None else _positive_count(frame, conversion, "conversion")
        )
        return cls(
            k=k,
            impressions=int(codes.size),
            clicks=clicks,
            conversions=conversions,
            queries=int(arrays["precision"].size),
            queries_with_relevant=int(np.count_nonzero(defined)),
            sum_precision=float(arrays["precision"].sum()),
            sum_recall=float(arrays["recall"][defined].sum()),
            sum_average_precision=float(arrays["average_precision"][defined].sum()),
            sum_ndcg=float(arrays["ndcg"][defined].sum()),
            sum_reciprocal_rank=float(arrays["reciprocal_rank"][defined].sum()),
        )

    def merge(self, other: RankingSums) -> RankingSums:
        """The sums of both batches (queries assumed disjoint).

        Raises:
            IncompatibleProfilesError: different k, or one side counts conversions and the
                other does not.
        """
        if self.k != other.k:
            raise IncompatibleProfilesError(
                f"cannot merge ranking sums with k={self.k} and k={other.k}"
            )
        if (self.conversions is None) != (other.conversions is None):
            raise IncompatibleProfilesError(
                "cannot merge ranking sums with and without a conversion column"
            )
        conversions = (
            None
            if self.conversions is None or other.conversions is None
            else self.conversions + other.conversions
        )
        return RankingSums(
            k=self.k,
            impressions=self.impressions + other.impressions,
            clicks=self.clicks + other.clicks,
            conversions=conversions,
            queries=self.queries + other.queries,
            queries_with_relevant=self.queries_with_relevant + other.queries_with_relevant,
            sum_precision=self.sum_precision + other.sum_precision,
            sum_recall=self.sum_recall + other.sum_recall,
            sum_average_precision=self.sum_average_precision + other.sum_average_precision,
            sum_ndcg=self.sum_ndcg + other.sum_ndcg,
            sum_reciprocal_rank=self.sum_reciprocal_rank + other.sum_reciprocal_rank,
        )

    def ctr(self) -> float:
        """Click-through rate: impressions clicked / impressions."""
        if self.impressions == 0:
            raise InsufficientDataError("ctr needs impressions; got none")
        return self.clicks / self.impressions

    def conversion_rate(self) -> float:
        """Impressions converted / impressions."""
        if self.conversions is None:
            raise InsufficientDataError(
                "conversion_rate needs a conversion column, and none was profiled",
                reason="metric_not_applicable",
            )
        if self.impressions == 0:
            raise InsufficientDataError("conversion_rate needs impressions; got none")
        return self.conversions / self.impressions

    def _mean_over_relevant(self, total: float, metric: str) -> float:
        if self.queries_with_relevant == 0:
            raise InsufficientDataError(
                f"{metric} needs a query with a relevant item; got {self.queries} queries, "
                "none with a relevant item"
            )
        return total / self.queries_with_relevant

    def precision_at_k(self) -> float:
        """Mean precision@k over all queries."""
        if self.queries == 0:
            raise InsufficientDataError("precision_at_k needs queries; got none")
        return self.sum_precision / self.queries

    def recall_at_k(self) -> float:
        """Mean recall@k over queries with a relevant item."""
        return self._mean_over_relevant(self.sum_recall, "recall_at_k")

    def map_at_k(self) -> float:
        """Mean average precision@k over queries with a relevant item."""
        return self._mean_over_relevant(self.sum_average_precision, "map_at_k")

    def ndcg_at_k(self) -> float:
        """Mean NDCG@k over queries with a relevant item."""
        return self._mean_over_relevant(self.sum_ndcg, "ndcg_at_k")

    def mrr(self) -> float:
        """Mean reciprocal rank over queries with a relevant item."""
        return self._mean_over_relevant(self.sum_reciprocal_rank, "mrr")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "k": self.k,
            "impressions": self.impressions,
            "clicks": self.clicks,
            "conversions": self.conversions,
            "queries": self.queries,
            "queries_with_relevant": self.queries_with_relevant,
            "sum_precision": self.sum_precision,
            "sum_recall": self.sum_recall,
            "sum_average_precision": self.sum_average_precision,
            "sum_ndcg": self.sum_ndcg,
            "sum_reciprocal_rank": self.sum_reciprocal_rank,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RankingSums:
        """Inverse of :meth:`to_dict`."""
        conversions = data["conversions"]
        return cls(
            k=int(data["k"]),
            impressions=int(data["impressions"]),
            clicks=int(data["clicks"]),
            conversions=None if conversions is None else int(conversions),
            queries=int(data["queries"]),
            queries_with_relevant=int(data["queries_with_relevant"]),
            sum_precision=float(data["sum_precision"]),
            sum_recall=float(data["sum_recall"]),
            sum_average_precision=float(data["sum_average_precision"]),
            sum_ndcg=float(data["sum_ndcg"]),
            sum_reciprocal_rank=float(data["sum_reciprocal_rank"]),
        )


def _positive_count(frame: pd.DataFrame, column: str, role: str) -> int:
    values = as_scores(_column(frame, column, role), role=f"{role} column {column!r}")
    return int(np.count_nonzero(values > 0))


def _sums(
    frame: pd.DataFrame, *, query: str, label: str, score: str | None, rank: str | None, k: int
) -> RankingSums:
    return RankingSums.from_frame(frame, query=query, label=label, score=score, rank=rank, k=k)


def click_through_rate(frame: pd.DataFrame, *, click: str) -> float:
    """Share of impressions (rows) whose ``click`` value is > 0.

    Raises:
        InsufficientDataError: no rows.
        InvalidInputError: the column is absent or holds missing or non-numeric values.

    >>> click_through_rate(pd.DataFrame({"clicked": [0, 1, 0, 0]}), click="clicked")
    0.25
    """
    clicks = _positive_count(frame, click, "click")
    if len(frame) == 0:
        raise InsufficientDataError("ctr needs impressions; got none")
    return clicks / len(frame)


def conversion_rate(frame: pd.DataFrame, *, conversion: str) -> float:
    """Share of impressions (rows) whose ``conversion`` value is > 0.

    Raises: as :func:`click_through_rate`.

    >>> conversion_rate(pd.DataFrame({"bought": [0, 1, 1, 0]}), conversion="bought")
    0.5
    """
    conversions = _positive_count(frame, conversion, "conversion")
    if len(frame) == 0:
        raise InsufficientDataError("conversion_rate needs impressions; got none")
    return conversions / len(frame)


def precision_at_k(
    frame: pd.DataFrame,
    *,
    query: str,
    label: str,
    score: str | None = None,
    rank: str | None = None,
    k: int = 10,
) -> float:
    """Mean over queries of (relevant items in the top k) / k.

    Args and Raises: as :func:`per_query_metrics`; also InsufficientDataError with no rows.

    >>> frame = pd.DataFrame({"q": [1, 1, 1], "s": [0.9, 0.8, 0.1], "y": [1, 0, 1]})
    >>> precision_at_k(frame, query="q", label="y", score="s", k=2)
    0.5
    """
    return _sums(frame, query=query, label=label, score=score, rank=rank, k=k).precision_at_k()


def recall_at_k(
    frame: pd.DataFrame,
    *,
    query: str,
    label: str,
    score: str | None = None,
    rank: str | None = None,
    k: int = 10,
) -> float:
    """Mean over queries with a relevant item of (relevant in the top k) / relevant.

    Args and Raises: as :func:`per_query_metrics`; also InsufficientDataError when no
    query has a relevant item.

    >>> frame = pd.DataFrame({"q": [1, 1, 1], "s": [0.9, 0.8, 0.1], "y": [1, 0, 1]})
    >>> recall_at_k(frame, query="q", label="y", score="s", k=2)
    0.5
    """
    return _sums(frame, query=query, label=label, score=score, rank=rank, k=k).recall_at_k()


def mean_average_precision_at_k(
    frame: pd.DataFrame,
    *,
    query: str,
    label: str,
    score: str | None = None,
    rank: str | None = None,
    k: int = 10,
) -> float:
    """MAP@k: mean over queries with a relevant item of their average precision@k.

    Args and Raises: as :func:`recall_at_k`.

    >>> frame = pd.DataFrame({"q": [1, 1, 1], "s": [0.9, 0.8, 0.1], "y": [1, 0, 1]})
    >>> round(mean_average_precision_at_k(frame, query="q", label="y", score="s", k=3), 6)
    0.833333
    """
    return _sums(frame, query=query, label=label, score=score, rank=rank, k=k).map_at_k()


def ndcg_at_k(
    frame: pd.DataFrame,
    *,
    query: str,
    label: str,
    score: str | None = None,
    rank: str | None = None,
    k: int = 10,
) -> float:
    """NDCG@k: mean over queries with a relevant item of DCG@k / ideal DCG@k.

    Args and Raises: as :func:`recall_at_k`.

    >>> frame = pd.DataFrame({"q": [1, 1], "s": [0.5, 0.5], "y": [1, 0]})
    >>> round(ndcg_at_k(frame, query="q", label="y", score="s", k=2), 6)
    0.815465
    """
    return _sums(frame, query=query, label=label, score=score, rank=rank, k=k).ndcg_at_k()


def mean_reciprocal_rank(
    frame: pd.DataFrame,
    *,
    query: str,
    label: str,
    score: str | None = None,
    rank: str | None = None,
) -> float:
    """MRR: mean over queries with a relevant item of 1 / position of the first one.

    Args and Raises: as :func:`recall_at_k` (there is no cut-off).

    >>> frame = pd.DataFrame({"q": [1, 1, 2], "r": [1, 2, 1], "y": [0, 1, 1]})
    >>> mean_reciprocal_rank(frame, query="q", label="y", rank="r")
    0.75
    """
    return _sums(frame, query=query, label=label, score=score, rank=rank, k=1).mrr()
