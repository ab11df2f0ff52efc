"""Ids made from content: the SHA-256 of some text parts, cut to a few hex digits.

An upload's key and ETag, an alert's model, check and status, an evaluation's id: the same
parts give the same id on every run, which is what names stored items and drops an event
delivered twice. Ids are stored (item keys, claims, fingerprints), so a caller never
changes how its parts are framed or how many digits it keeps.
"""

from __future__ import annotations

import hashlib
import json
from typing import Literal

#: How the parts become the hashed bytes: joined by NUL characters, or as a JSON array.
Framing = Literal["nul", "json"]


def digest(*parts: str, framing: Framing = "nul", length: int = 24) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``parts``.

    Args:
        parts: the text the id stands for.
        framing: ``"nul"`` hashes the parts joined by NUL characters, which none of them
            may hold (S3 keys, ETags and model names cannot); ``"json"`` hashes them as a
            JSON array, which tells any texts apart (the alerts' ids, whose parts are
            check names and segments).
        length: hex digits kept, 1 to 64.

    Raises:
        ValueError: ``length`` outside 1 to 64, or another framing.

    >>> digest("models/churn/inference/batch.csv", '"9b2cf535"')
    '87e5de91c5e170d366b4dccf'
    >>> digest("churn", "accuracy-floor", "firing", "", framing="json", length=16)
    '022d0675d381490a'
    """
    if not 1 <= length <= 64:
        raise ValueError(f"length: expected 1 to 64 hex digits, got {length}")
    if framing == "nul":
        text = "\x00".join(parts)
    elif framing == "json":
        text = json.dumps(parts)
    else:
        raise ValueError(f"framing: expected 'nul' or 'json', got {framing!r}")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]
