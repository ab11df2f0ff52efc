"""Ranking metrics against independent oracles: scikit-learn's ``ndcg_score`` per query,
plain-Python definitions per query, and brute force over every order of tied items."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as sk
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.errors import InsufficientDataError, InvalidInputError
from driftline.metrics import (
    RankingSums,
    click_through_rate,
    conversion_rate,
    mean_average_precision_at_k,
    mean_reciprocal_rank,
    ndcg_at_k,
    per_query_metrics,
    precision_at_k,
    recall_at_k,
)


def ranking_frame(seed: int, queries: int, *, decimals: int | None) -> pd.DataFrame:
    """Queries of 1-12 items, graded relevance 0-3 (some queries with none), scores
    (rounded: ties) and a conversion flag."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 13, queries)
    query = np.repeat(np.arange(queries), sizes)
    relevance = rng.choice([0, 0, 0, 1, 2, 3], size=query.size)
    relevance[np.isin(query, rng.choice(queries, queries // 5, replace=False))] = 0
    score = rng.random(query.size) + 0.3 * relevance
    if decimals is not None:
        score = score.round(decimals)
    order = rng.permutation(query.size)
    return pd.DataFrame(
        {
            "user": query[order].astype(str),
            "score": score[order],
            "relevance": relevance[order],
            "bought": (rng.random(query.size) < 0.05).astype(int),
        }
    )


def expected_hits(items: list[tuple[float, float]], k: int) -> float:
    """Relevant items expected in the top k when tied items come in random order."""
    by_score: dict[float, list[float]] = {}
    for score, relevance in items:
        by_score.setdefault(score, []).append(relevance)
    hits, taken = 0.0, 0
    for score in sorted(by_score, reverse=True):
        group = by_score[score]
        inside = max(0, min(len(group), k - taken))
        hits += inside * sum(r > 0 for r in group) / len(group)
        taken += len(group)
    return hits


def pessimistic(items: list[tuple[float, float]]) -> list[float]:
    """Relevances in ranked order, less relevant items first among ties."""
    return [r for _, r in sorted(items, key=lambda item: (-item[0], item[1]))]


def oracle(frame: pd.DataFrame, k: int) -> dict[str, float]:
    """Every ranking metric by its plain definition, one query at a time."""
    precision, recall, ap, ndcg, rr = [], [], [], [], []
    for _, group in frame.groupby("user"):
        items = list(zip(group["score"].tolist(), group["relevance"].tolist(), strict=True))
        relevant = sum(r > 0 for _, r in items)
        hits = expected_hits(items, k)
        precision.append(hits / k)
        if relevant == 0:
            continue
        recall.append(hits / relevant)
        ranked = pessimistic(items)
        found, total = 0, 0.0
        for position, r in enumerate(ranked[:k], start=1):
            if r > 0:
                found += 1
                total += found / position
        ap.append(total / min(k, relevant))
        rr.append(1.0 / next(i for i, r in enumerate(ranked, start=1) if r > 0))
        if len(items) == 1:
            ndcg.append(1.0)
        else:
            y_true = np.array([[r for _, r in items]])
            y_score = np.array([[s for s, _ in items]])
            ndcg.append(sk.ndcg_score(y_true, y_score, k=k))
    return {
        "precision": float(np.mean(precision)),
        "recall": float(np.mean(recall)),
        "map": float(np.mean(ap)),
        "ndcg": float(np.mean(ndcg)),
        "mrr": float(np.mean(rr)),
    }


@pytest.mark.parametrize(("seed", "queries", "decimals"), [(1, 50, None), (2, 400, 1), (3, 300, 2)])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_ranking_metrics_equal_oracles(
    seed: int, queries: int, decimals: int | None, k: int
) -> None:
    # GIVEN shuffled impressions of many queries, with ties when scores are rounded
    frame = ranking_frame(seed, queries, decimals=decimals)
    expected = oracle(frame, k)
    options: dict[str, Any] = {"query": "user", "label": "relevance", "score": "score", "k": k}
    # THEN each metric equals its oracle
    assert precision_at_k(frame, **options) == pytest.approx(expected["precision"], abs=1e-12)
    assert recall_at_k(frame, **options) == pytest.approx(expected["recall"], abs=1e-12)
    assert mean_average_precision_at_k(frame, **options) == pytest.approx(
        expected["map"], abs=1e-12
    )
    assert ndcg_at_k(frame, **options) == pytest.approx(expected["ndcg"], abs=1e-12)
    mrr = mean_reciprocal_rank(frame, query="user", label="relevance", score="score")
    assert mrr == pytest.approx(expected["mrr"], abs=1e-12)


def test_rank_column_is_the_reverse_of_a_score() -> None:
    frame = ranking_frame(5, 100, decimals=None)
    frame["position"] = frame.groupby("user")["score"].rank(ascending=False, method="first")
    by_score = per_query_metrics(frame, query="user", label="relevance", score="score", k=5)
    by_rank = per_query_metrics(frame, query="user", label="relevance", rank="position", k=5)
    pd.testing.assert_frame_equal(by_score, by_rank)


def test_sklearn_scores_a_query_without_relevant_items_zero_and_we_skip_it() -> None:
    # GIVEN one perfect query and one without any relevant item
    frame = pd.DataFrame(
        {"user": ["a", "a", "b", "b"], "score": [0.9, 0.1, 0.8, 0.2], "relevance": [1, 0, 0, 0]}
    )
    # THEN scikit-learn averages 1 and 0; we average over the query with a relevant item only
    assert sk.ndcg_score([[1, 0], [0, 0]], [[0.9, 0.1], [0.8, 0.2]]) == 0.5
    assert ndcg_at_k(frame, query="user", label="relevance", score="score") == 1.0
    sums = RankingSums.from_frame(frame, query="user", label="relevance", score="score")
    assert (sums.queries, sums.queries_with_relevant) == (2, 1)
    # and precision@k counts every query
    assert precision_at_k(frame, query="user", label="relevance", score="score", k=1) == 0.5


def test_no_relevant_item_anywhere_is_insufficient_data() -> None:
    frame = pd.DataFrame({"user": ["a", "b"], "score": [0.5, 0.4], "relevance": [0, 0]})
    for metric in (recall_at_k, mean_average_precision_at_k, ndcg_at_k):
        with pytest.raises(InsufficientDataError, match="got 2 queries, none with a relevant"):
            metric(frame, query="user", label="relevance", score="score")


def test_ctr_and_conversion_rate_count_positive_rows() -> None:
    frame = ranking_frame(7, 200, decimals=None)
    assert click_through_rate(frame, click="relevance") == pytest.approx(
        (frame["relevance"] > 0).mean()
    )
    assert conversion_rate(frame, conversion="bought") == pytest.approx(frame["bought"].mean())
    with pytest.raises(InsufficientDataError, match="ctr needs impressions"):
        click_through_rate(frame.iloc[:0], click="relevance")


def test_bad_ranking_input_says_what_is_wrong() -> None:
    frame = pd.DataFrame({"user": ["a", None], "score": [0.5, 0.4], "relevance": [1, -1]})
    with pytest.raises(InvalidInputError, match="query column 'user' has 1 missing values"):
        ndcg_at_k(frame, query="user", label="relevance", score="score")
    with pytest.raises(InvalidInputError, match="relevance labels must be >= 0"):
        ndcg_at_k(frame.fillna("b"), query="user", label="relevance", score="score")
    with pytest.raises(InvalidInputError, match="the query column 'session' is not in the frame"):
        ndcg_at_k(frame, query="session", label="relevance", score="score")
    with pytest.raises(ValueError, match="expected exactly one of score and rank"):
        ndcg_at_k(frame, query="user", label="relevance")
    with pytest.raises(ValueError, match="expected k a positive integer, got 0"):
        ndcg_at_k(frame, query="user", label="relevance", score="score", k=0)


small_queries = st.lists(
    st.lists(
        st.tuples(st.sampled_from([0.1, 0.2, 0.5, 0.9]), st.sampled_from([0, 0, 1, 2])),
        min_size=1,
        max_size=6,
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(small_queries, st.integers(1, 7))
def test_tie_averaged_metrics_are_the_mean_over_every_order_of_ties(
    queries: list[list[tuple[float, int]]], k: int
) -> None:
    # GIVEN small queries with many ties
    rows = [(str(q), s, r) for q, items in enumerate(queries) for s, r in items]
    frame = pd.DataFrame(rows, columns=["user", "score", "relevance"])
    got = per_query_metrics(frame, query="user", label="relevance", score="score", k=k)
    for q, items in enumerate(queries):
        # WHEN every order consistent with the scores is enumerated
        orders = [
            p
            for p in itertools.permutations(items)
            if all(a[0] >= b[0] for a, b in itertools.pairwise(p))
        ]
        hits = [sum(r > 0 for _, r in order[:k]) for order in orders]
        relevant = sum(r > 0 for _, r in items)
        # THEN precision@k and recall@k are the mean over those orders
        assert got.loc[str(q), "precision"] == pytest.approx(np.mean(hits) / k)
        if relevant:
            assert got.loc[str(q), "recall"] == pytest.approx(np.mean(hits) / relevant)
            dcgs = [
                sum(r / math.log2(i + 2) for i, (_, r) in enumerate(order[:k])) for order in orders
            ]
            ideal = sorted((r for _, r in items), reverse=True)[:k]
            ideal_dcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
            # and so is NDCG@k (what scikit-learn computes with ignore_ties=False)
            assert got.loc[str(q), "ndcg"] == pytest.approx(np.mean(dcgs) / ideal_dcg)
        else:
            assert math.isnan(got.loc[str(q), "recall"])
            assert math.isnan(got.loc[str(q), "ndcg"])
