"""Generated data for the demo scenarios: every drift is planted, so its detection is known."""

from __future__ import annotations

import numpy as np
import pandas as pd

START = pd.Timestamp("2026-11-01T00:00:00Z")


def _times(rng: np.random.Generator, rows: int, start: pd.Timestamp, hours: float) -> pd.Series:
    offsets = np.sort(rng.uniform(0.0, hours * 3600.0, rows))
    return pd.Series(start + pd.to_timedelta(offsets, unit="s")).dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def churn(
    rows: int, *, accuracy: float, seed: int, start: pd.Timestamp, shift: float = 0.0
) -> pd.DataFrame:
    """Customers of one month; the model is right on exactly ``accuracy`` of them."""
    rng = np.random.default_rng(seed)
    tenure = rng.gamma(2.0, 12.0, rows)
    charges = rng.normal(65.0 + shift, 20.0, rows).clip(15, 150)
    score = 1 / (1 + np.exp(-(0.04 * (charges - 65) - 0.05 * (tenure - 24) - 1.5)))
    predicted = (score > 0.5).astype(int)
    wrong = np.zeros(rows, dtype=bool)
    wrong[rng.choice(rows, round(rows * (1 - accuracy)), replace=False)] = True
    return pd.DataFrame(
        {
            "customer_id": [f"c{seed}-{i}" for i in range(rows)],
            "event_time": _times(rng, rows, start, 24 * 28),
            "tenure_months": tenure.round(1),
            "monthly_charges": charges.round(2),
            "plan": rng.choice(["basic", "plus", "pro"], rows, p=[0.5, 0.3, 0.2]),
            "region": rng.choice(["north", "south", "east", "west"], rows),
            "churn_score": score.round(4),
            "churn_predicted": predicted,
            "churned": np.where(wrong, 1 - predicted, predicted),
        }
    )


def _calibrated_scores_with_gini(
    y: np.ndarray, noise: np.ndarray, gini: float, prior: float
) -> np.ndarray:
    """Calibrated scores whose Gini on ``y`` is exactly ``gini``.

    A row's latent signal is ``x = s·(2y − 1) + noise`` (standard normal noise): ``N(s, 1)``
    for a positive, ``N(−s, 1)`` for a negative, so the log-odds of a positive given ``x``
    is ``logit(prior) + 2·s·x``, and its logistic is the probability the row is a positive.
    The separation ``s`` is bisected on the data until the rows' Gini is ``gini``; the score
    is monotone in ``x``, so it keeps that Gini. A smaller Gini means a smaller ``s``:
    scores pulled towards ``prior``, as calibrated as before but less discriminating
    (what confidence-based performance estimation sees without the labels).

    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random(4000) < 0.25).astype(int)
    >>> noise = rng.normal(size=4000)
    >>> sharp = _calibrated_scores_with_gini(y, noise, 0.5, 0.25)
    >>> flat = _calibrated_scores_with_gini(y, noise, 0.4, 0.25)
    >>> round(float(y.mean()), 3), round(float(sharp.mean()), 3), round(float(flat.mean()), 3)
    (0.254, 0.252, 0.252)
    >>> round(float(sharp.std()), 3), round(float(flat.std()), 3)
    (0.181, 0.145)
    """

    def gini_of(scale: float) -> float:
        s = scale * (2 * y - 1) + noise
        order = np.argsort(s, kind="stable")
        ranks = np.empty(len(s))
        ranks[order] = np.arange(1, len(s) + 1)
        positives = y.sum()
        auc = (ranks[y == 1].sum() - positives * (positives + 1) / 2) / (
            positives * (len(y) - positives)
        )
        return float(2 * auc - 1)

    low, high = 0.0, 20.0
    for _ in range(50):
        middle = (low + high) / 2
        low, high = (middle, high) if gini_of(middle) < gini else (low, middle)
    log_odds = np.log(prior / (1 - prior)) + 2 * high * (high * (2 * y - 1) + noise)
    scores: np.ndarray = 1 / (1 + np.exp(-log_odds))
    return scores


#: Share of defaults in each risk segment.
DEFAULT_RATES = {"subprime": 0.25, "prime": 0.08}


def credit(rows: int, *, ginis: dict[str, float], seed: int, start: pd.Timestamp) -> pd.DataFrame:
    """Loan applications of two risk segments with planted per-segment Gini, scored with
    calibrated default probabilities (a row scored ``p`` defaults with probability ``p``)."""
    rng = np.random.default_rng(seed)
    segment = rng.choice(["subprime", "prime"], rows, p=[0.4, 0.6])
    rate = np.where(segment == "subprime", DEFAULT_RATES["subprime"], DEFAULT_RATES["prime"])
    y = (rng.random(rows) < rate).astype(int)
    noise = rng.normal(0.0, 1.0, rows)
    score = np.empty(rows)
    for name, gini in ginis.items():
        mask = segment == name
        score[mask] = _calibrated_scores_with_gini(y[mask], noise[mask], gini, DEFAULT_RATES[name])
    return pd.DataFrame(
        {
            "request_id": [f"r{seed}-{i}" for i in range(rows)],
            "event_time": _times(rng, rows, start, 24),
            "income": rng.lognormal(10.5, 0.4, rows).round(0),
            "utilisation": rng.beta(2, 5, rows).round(3),
            "risk_segment": segment,
            "default_probability": score.round(5),
            "predicted_default": (score > 0.5).astype(int),
            "defaulted": y,
        }
    )


#: The serving fraud model flags a transaction when its amount exceeds this outside grocery.
FLAG_AMOUNT = 100.0


def transactions(
    rows: int,
    *,
    seed: int,
    start: pd.Timestamp,
    hours: float,
    error: float,
    attack_error: float = 0.0,
    attack_from: float | None = None,
    night_region: str | None = None,
    attack_category: str | None = None,
) -> pd.DataFrame:
    """Card transactions scored by a serving model that flags large non-grocery amounts
    (about 10 %), wrong on a share ``error`` of them at random.

    From ``attack_from`` hours on the model's error rate is ``attack_error`` (or, with
    ``night_region``, at night in that region). With ``attack_category`` the attack is one
    the features reveal but the model misses: from ``attack_from`` on, fraudsters test cards
    with small ``attack_category`` payments, fraud on a share ``attack_error`` of them, all
    unflagged; a model retrained on recent labelled rows can learn it.
    """
    rng = np.random.default_rng(seed)
    offsets = np.sort(rng.uniform(0.0, hours * 3600.0, rows))
    moments = start + pd.to_timedelta(offsets, unit="s")
    region = rng.choice(["north", "south", "east", "west"], rows)
    amount = rng.lognormal(3.5, 1.0, rows).round(2)
    category = rng.choice(["grocery", "travel", "online", "fuel"], rows)
    flagged = ((amount > FLAG_AMOUNT) & (category != "grocery")).astype(int)
    rate = np.full(rows, error)
    attacked = np.zeros(rows, dtype=bool)
    if attack_from is not None and attack_category is None:
        rate[offsets >= attack_from * 3600.0] = attack_error
    if night_region is not None:
        hour = pd.Series(moments).dt.hour.to_numpy()
        night = (hour >= 22) | (hour < 4)
        rate[(region == night_region) & night] = attack_error
    wrong = rng.random(rows) < rate
    is_fraud = np.where(wrong, 1 - flagged, flagged)
    if attack_category is not None:
        since = 0.0 if attack_from is None else attack_from * 3600.0
        attacked = (offsets >= since) & (category == attack_category) & (amount <= FLAG_AMOUNT)
        is_fraud = np.where(attacked, (rng.random(rows) < attack_error).astype(int), is_fraud)
    return pd.DataFrame(
        {
            "transaction_id": [f"t{seed}-{i}" for i in range(rows)],
            "event_time": pd.Series(moments).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "amount": amount,
            "merchant_category": category,
            "region": region,
            "fraud_score": np.where(
                flagged == 1, rng.uniform(0.5, 1, rows), rng.uniform(0, 0.5, rows)
            ).round(4),
            "flagged": flagged,
            "is_fraud": is_fraud,
        }
    )


#: Click propensity per cohort and item category while the recommender was trained.
TASTES: dict[str, dict[str, float]] = {
    "young": {"games": 0.7},
    "family": {"films": 0.8},
    "senior": {"books": 0.8},
}
_CATEGORIES = ["books", "music", "films", "games", "sport", "garden"]
_OTHER = 0.04  # propensity of every other (cohort, category)


def interactions(
    rows: int,
    *,
    seed: int,
    start: pd.Timestamp,
    hours: float,
    category_shift: float = 0.0,
    tastes: dict[str, dict[str, float]] | None = None,
) -> pd.DataFrame:
    """Recommended items shown to users of three cohorts, with the click model's logged
    prediction (click propensity learnt at training time, :data:`TASTES`) and the click.

    ``category_shift`` moves what is shown towards new item categories (popularity drift);
    ``tastes`` replaces a cohort's propensities from now on (taste drift the model does not
    know: it keeps predicting the old ones).
    """
    rng = np.random.default_rng(seed)
    cohort = rng.choice(["young", "family", "senior"], rows, p=[0.4, 0.4, 0.2])
    weights = np.array([0.3, 0.25, 0.2, 0.1, 0.1, 0.05])
    if category_shift:
        weights = (1 - category_shift) * weights + category_shift * np.array(
            [0.05, 0.05, 0.1, 0.4, 0.3, 0.1]
        )
    category = rng.choice(_CATEGORIES, rows, p=weights / weights.sum())
    now_tastes = {**TASTES, **(tastes or {})}

    def propensity(table: dict[str, dict[str, float]]) -> np.ndarray:
        return np.array([table[c].get(k, _OTHER) for c, k in zip(cohort, category, strict=True)])

    learnt = propensity(TASTES)
    clicked = (rng.random(rows) < propensity(now_tastes)).astype(int)
    offsets = np.sort(rng.uniform(0.0, hours * 3600.0, rows))
    return pd.DataFrame(
        {
            "impression_id": [f"i{seed}-{i}" for i in range(rows)],
            "event_time": pd.Series(start + pd.to_timedelta(offsets, unit="s")).dt.strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "cohort": cohort,
            "item_category": category,
            "item_price": rng.lognormal(2.5, 0.6, rows).round(2),
            "click_score": learnt.round(3),
            "predicted_click": (learnt > 0.5).astype(int),
            "clicked": clicked,
        }
    )
