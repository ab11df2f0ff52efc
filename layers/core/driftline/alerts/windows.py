"""Several windows acted on as one run: a later window's checks go by their window's name
(:func:`windowed_name`), and the windows' results become one (:func:`combine_windows`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from driftline.evaluation import ACTION_ORDER


def windowed_name(check: str, window: str) -> str:
    """The name a check's alert goes by in a window after the first of ``windows:``, so that
    each window's failure fires, reminds and resolves on its own.

    >>> windowed_name("accuracy-floor", "P7D")
    'accuracy-floor@P7D'
    """
    return f"{check}@{window}"


def combine_windows(
    evaluation_id: str, first: str, documents: Sequence[tuple[str, Mapping[str, Any]]]
) -> dict[str, Any]:
    """One result to act on for one evaluation run of several windows.

    The first window's checks keep their names; a later window's go by
    :func:`windowed_name` and say their window in their detail. Each check carries its
    window's ``window`` (start and end), which a persistence rule counts by. The status is
    the worst, the actions are every window's, and the evaluation id is the run's, so the run
    sends one grouped notification (and starts each retraining once) however many windows
    fail.

    Args:
        evaluation_id: the run's id (the first window's evaluation id).
        first: the first window of ``windows:`` (its checks keep their names).
        documents: ``(window, result JSON)`` of each window evaluated (with data), in
            ``windows:`` order; not empty.

    >>> first = {"model": "m", "evaluation_id": "m-P1D-x", "status": "ok", "checks": [
    ...     {"name": "acc", "status": "pass", "action": "retrain", "detail": "ok"}],
    ...     "actions": [], "window": {"start": "a", "end": "b"}}
    >>> later = {"model": "m", "evaluation_id": "m-P7D-x", "status": "critical", "checks": [
    ...     {"name": "acc", "status": "fail", "action": "retrain", "detail": "0.8 < 0.85"}],
    ...     "actions": [{"action": "retrain", "checks": ["acc"]}]}
    >>> combined = combine_windows("m-P1D-x", "P1D", [("P1D", first), ("P7D", later)])
    >>> [(c["name"], c["status"], c["detail"]) for c in combined["checks"]]
    [('acc', 'pass', 'ok'), ('acc@P7D', 'fail', 'P7D window: 0.8 < 0.85')]
    >>> combined["status"], combined["actions"]
    ('critical', [{'action': 'retrain', 'checks': ['acc@P7D']}])
    """
    base = dict(documents[0][1])
    checks: list[dict[str, Any]] = []
    wanted: dict[str, list[str]] = {}
    worst = "ok"
    order = ("ok", "warning", "critical")
    for window, document in documents:
        for check in document.get("checks", []):
            item = dict(check)
            if isinstance(document.get("window"), Mapping):
                item["window"] = dict(document["window"])
            if window != first:
                item["name"] = windowed_name(str(check["name"]), window)
                item["detail"] = f"{window} window: {check.get('detail') or ''}".rstrip()
            checks.append(item)
            if item.get("status") == "fail":
                wanted.setdefault(str(item["action"]), []).append(item["name"])
        status = str(document.get("status", "ok"))
        if status in order and order.index(status) > order.index(worst):
            worst = status
    base.update(
        evaluation_id=evaluation_id,
        checks=checks,
        status=worst,
        actions=[{"action": a, "checks": wanted[a]} for a in ACTION_ORDER if a in wanted],
    )
    return base
