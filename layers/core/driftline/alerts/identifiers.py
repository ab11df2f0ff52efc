"""The stable names of what acting sends and starts: an alert's fingerprint, a retraining
execution's name, a notification's deduplication key."""

from __future__ import annotations

import re

from driftline.ids import digest

#: Step Functions execution names: at most 80 characters; these stay within [A-Za-z0-9_-].
EXECUTION_NAME_LIMIT = 80
#: SNS FIFO message deduplication ids: at most 128 characters.
DEDUP_KEY_LIMIT = 128
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_DEDUP_SAFE = re.compile(r"^[A-Za-z0-9._:-]+$")


def alert_fingerprint(model: str, check: str, status: str, segment: str | None) -> str:
    """A stable 16-hex-digit hash of a model's check, its alert status and its segment.

    The firing fingerprint is the same in the firing, reminder and resolved messages of one
    alert, so paging tools can use it to group them (PagerDuty's and Opsgenie's dedup key).

    >>> alert_fingerprint("churn", "accuracy-floor", "firing", None)
    '022d0675d381490a'
    """
    return digest(model, check, status, segment or "", framing="json", length=16)


def execution_name(model: str, action: str, evaluation_id: str) -> str:
    """A Step Functions execution name for one action of one evaluation of a model.

    The readable part (model, action, evaluation id, with every run of characters outside
    ``[A-Za-z0-9_-]`` turned into ``-``) is cut to fit 80 characters, and a hash of the three
    exact values keeps names distinct when cutting or replacing made them alike.

    >>> execution_name("churn", "retrain", "5c1f0e9a7d3b2a41")
    'churn-retrain-5c1f0e9a7d3b2a41-ac4c9b7f9a2e'
    >>> len(execution_name("m" * 64, "emergency_retrain", "x" * 200))
    80
    """
    hashed = digest(model, action, evaluation_id, framing="json", length=12)
    readable = _NAME_UNSAFE.sub("-", f"{model}-{action}-{evaluation_id}").strip("-")
    return f"{readable[: EXECUTION_NAME_LIMIT - len(hashed) - 1].rstrip('-')}-{hashed}"


def dedup_key(model: str, evaluation_id: str, kind: str) -> str:
    """The deduplication id of one kind of notification about one evaluation.

    Usable as an SNS FIFO ``MessageDeduplicationId`` (at most 128 characters of letters,
    digits and punctuation): ``model:evaluation_id:kind`` when that fits, otherwise with a
    hash standing for the evaluation id.

    >>> dedup_key("churn", "5c1f0e9a7d3b2a41", "firing")
    'churn:5c1f0e9a7d3b2a41:firing'
    """
    plain = f"{model}:{evaluation_id}:{kind}"
    if len(plain) <= DEDUP_KEY_LIMIT and _DEDUP_SAFE.match(plain):
        return plain
    safe_model = _NAME_UNSAFE.sub("-", model)[:64]
    return f"{safe_model}:{digest(model, evaluation_id, framing='json', length=32)}:{kind}"
