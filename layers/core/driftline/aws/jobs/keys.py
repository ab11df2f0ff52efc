"""Where everything lives in the monitoring bucket, and the ids derived from keys.

S3 layout (docs/aws.md)::

    config/<model>.yaml                              monitor definition (input)
    baselines/<model>/<file>                         reference data (input)
    inference/<model>/[...]/YYYY/MM/DD/HH/<file>     inference logs (input)
    labels/<model>/YYYY/MM/DD/<file>                 late labels (input)
    profiles/<model>/reference/<id>.json             reference profile + bins
    profiles/<model>/batches/YYYY/MM/DD/HH/<id>.json profile of one inference file (id: its key)
    profiles/<model>/rows/YYYY/MM/DD/HH/<id>.csv.gz  its monitored columns, for the label join
    profiles/<model>/labelled/YYYY/MM/DD/HH/<rows id>-<labels id>.json
                                                     profile of the rows one label file labelled,
                                                     under the hour of the predictions
    profiles/<model>/signals/<check>/<pair id>.json  a labelled pair's detector signal
    profiles/<model>/daily/<kind>/YYYY/MM/DD.json    one day of batches/ or labelled/ merged
    reports/<model>/<evaluation id>.json             evaluation results
    quarantine/<key> + quarantine/<key>.reason.json  rejected inputs
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from driftline.config.definition import MODEL_NAME
from driftline.errors import InvalidInputError


def model_of(key: str, prefix: str) -> str:
    """The model a key belongs to (``<prefix>/<model>/...``).

    Raises:
        InvalidInputError: the key is not under ``<prefix>/<model>/``.
    """
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != prefix or not parts[1]:
        raise InvalidInputError(
            f"expected a key {prefix}/<model>/<file>, got {key!r}", reason="unexpected_key"
        )
    if not MODEL_NAME.fullmatch(parts[1]):
        # No definition can ever name it: quarantined rather than held for it.
        raise InvalidInputError(
            f"expected a key {prefix}/<model>/<file> whose <model> is 1-64 lowercase letters, "
            f"digits or '-', got {key!r}",
            reason="unexpected_key",
        )
    return parts[1]


def _date_index(folders: list[str]) -> int | None:
    """Where ``YYYY/MM/DD`` starts among a key's folders (the first such run)."""
    widths = (4, 2, 2)
    for index in range(len(folders) - 2):
        if all(
            len(part) == width and part.isdigit()
            for part, width in zip(folders[index : index + 3], widths, strict=True)
        ):
            return index
    return None


def time_of(key: str) -> datetime | None:
    """The UTC time of a key's ``YYYY/MM/DD[/HH]`` folders, or None.

    >>> time_of("inference/churn/ep/AllTraffic/2026/11/24/13/a.jsonl").isoformat()
    '2026-11-24T13:00:00+00:00'
    >>> time_of("labels/churn/2026/11/24/a.csv").isoformat(), time_of("baselines/x/a.csv")
    ('2026-11-24T00:00:00+00:00', None)
    """
    folders = key.split("/")[:-1]
    index = _date_index(folders)
    if index is None:
        return None
    year, month, day = (int(part) for part in folders[index : index + 3])
    hour_part = folders[index + 3] if len(folders) > index + 3 else ""
    hour = int(hour_part) if len(hour_part) == 2 and hour_part.isdigit() else 0
    try:
        return datetime(year, month, day, hour, tzinfo=UTC)
    except ValueError:
        return None


def variant_of(key: str) -> str | None:
    """The production variant (model version) of an inference key: the folder right before
    the date when there is one besides the model's (SageMaker writes
    ``<endpoint>/<variant>/YYYY/MM/DD/HH``).

    >>> variant_of("inference/churn/churn-ep/challenger/2026/11/24/13/a.jsonl")
    'challenger'
    >>> variant_of("inference/churn/2026/11/24/13/a.csv") is None
    True
    """
    folders = key.split("/")[:-1]
    index = _date_index(folders)
    return folders[index - 1] if index is not None and index >= 3 else None


def rows_key_of(model: str, hour: datetime, batch: str) -> str:
    """Where the kept rows of the inference batch ``batch`` (its profile's file name) of
    ``hour`` are stored.

    >>> from datetime import datetime, timezone
    >>> rows_key_of("churn", datetime(2026, 11, 24, 13, tzinfo=timezone.utc), "ab12")
    'profiles/churn/rows/2026/11/24/13/ab12.csv.gz'
    """
    return f"profiles/{model}/rows/{hour:%Y/%m/%d/%H}/{batch}.csv.gz"


def content_version(body: bytes) -> str:
    """A short id of a stored object's bytes (rows files are written deterministically)."""
    return hashlib.sha256(body).hexdigest()[:24]
