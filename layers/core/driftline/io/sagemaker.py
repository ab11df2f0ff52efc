"""SageMaker files: Data Capture records and ground-truth labels, as rows.

**Data Capture** (what an endpoint writes with capture on) is JSON Lines with one record per
request. ``captureData.endpointInput`` and ``captureData.endpointOutput`` each carry
``observedContentType``, ``mode``, ``data`` and ``encoding``: ``CSV`` (``data`` is CSV text),
``JSON`` (``data`` is JSON text) or ``BASE64`` (``data`` is base64 of CSV or JSON text, told
apart by ``observedContentType``). Input and output encodings may differ within one record.

One request may carry several rows, and its output then has as many:

* CSV: one row per non-blank line, values named by :attr:`CaptureColumns.inputs` /
  :attr:`CaptureColumns.outputs` in order;
* JSON input: an object is one row under its own keys (nested objects flattened with dotted
  names); a list of values is one row; a list of lists or of objects is several rows;
  ``{"instances": [...]}`` holds the rows (other keys ignored), and an instance
  ``{"features": [...]}`` is a list of values (the SageMaker built-in algorithms' format);
* JSON output: ``{"predictions": ...}`` or ``{"scores": ...}`` holds the rows (the object's
  other keys are ignored); a number is one row; a list of numbers is one row per number when
  one output is named (or none), and one row of several values when several are named; a
  list of lists or of objects is several rows, objects keeping their keys, renamed by
  :attr:`CaptureColumns.output_keys`;
* JSON Lines (``application/jsonlines``): each line read as JSON above, rows concatenated.

Values without names (a CSV line, a JSON list of values, a bare number) are named by
position, so the positions must be known and must fit. When the order of a side is unknown
(``None``), or a row of it has another number of values than the order names, the record
shows that the file cannot be named truthfully: :class:`~driftline.io.jsonl.RejectedFile`
(``capture_fields_unknown``, ``capture_field_count``) rejects the whole file, never a guess.

Values read from CSV text become ``int`` or ``float`` when they spell a number, ``None``
when empty, and stay text otherwise. The rows of a record get its id (``inferenceId`` if set,
else ``eventMetadata.eventId``), suffixed ``#0``, ``#1``, ... when the request has several
rows so that ids stay unique, and optionally ``eventMetadata.inferenceTime`` (kept as text).
Payload keys named like the id or timestamp column are overwritten by the record's metadata.

A record is rejected whole, as one bad row, when its data cannot be decoded or its input
and output row counts disagree ("output has 2 rows, input 3").

**Ground truth** is JSON Lines of ``{"groundTruthData": {"data": "1", "encoding": "CSV"},
"eventMetadata": {"eventId": "..."}, "eventVersion": "0"}``: one row with the id and the
label. The label keeps its text unless the text is a number (``"1"`` gives ``1``); JSON data
keeps its JSON type. A record without an id, or with an empty or non-scalar label, is rejected.

>>> columns = CaptureColumns(inputs=("age", "income"), outputs=("score",))
>>> record = {
...     "captureData": {
...         "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
...                           "data": "41,5200\\n35,3100", "encoding": "CSV"},
...         "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
...                            "data": "{\\"predictions\\": [0.8, 0.1]}", "encoding": "JSON"}},
...     "eventMetadata": {"eventId": "e1", "inferenceTime": "2024-05-01T10:00:00Z"},
...     "eventVersion": "0"}
>>> capture_rows(record, columns)
[{'id': 'e1#0', 'age': 41, 'income': 5200, 'score': 0.8},
 {'id': 'e1#1', 'age': 35, 'income': 3100, 'score': 0.1}]
"""

from __future__ import annotations

import base64
import binascii
import csv
import dataclasses
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from driftline.io.jsonl import RejectedFile, RejectedRecord, Row, flatten

Side = Literal["input", "output"]
Kind = Literal["csv", "json", "jsonlines"]

_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_WRAPPERS: dict[Side, tuple[str, ...]] = {
    "input": ("instances",),
    "output": ("predictions", "scores"),
}


@dataclass(frozen=True)
class CaptureColumns:
    """How to name what SageMaker records contain.

    Attributes:
        inputs: names of the input values that come without names (CSV text, a JSON list of
            values), in order; a ``None`` name drops that value. JSON objects keep their own
            keys. Empty: positional names ``input_0``, ``input_1``, ... ``None``: the order is
            unknown, and such an input rejects the file (``capture_fields_unknown``).
        outputs: names of the output values that come without names (CSV text, a number, a
            JSON list of values), in order, e.g. ``("score",)`` or ``("prediction",
            "score")``; a ``None`` name drops that value. Empty: ``output_0``, ``output_1``,
            ... ``None``: unknown, as for ``inputs``.
        output_keys: keys of JSON output objects (dotted for nested objects) to the column
            each fills; where both are present, a mapped key wins over a key already named
            like its column.
        id: the column receiving ``inferenceId`` if present, else ``eventMetadata.eventId``.
        timestamp: the column receiving ``eventMetadata.inferenceTime``, if set.
        variant: the column the *caller* fills with the production variant (the model
            version), which the S3 key tells and the record does not; the readers leave it.
        label: for ground-truth files, the column receiving ``groundTruthData``.
        inputs_key: how error messages name the setting behind ``inputs``.
        outputs_key: how error messages name the setting behind ``outputs``.
    """

    inputs: tuple[str | None, ...] | None = ()
    outputs: tuple[str | None, ...] | None = ()
    # dataclasses.field: this module's functions name their payload's field `field`.
    output_keys: Mapping[str, str] = dataclasses.field(default_factory=dict)
    id: str = "id"
    timestamp: str | None = None
    variant: str | None = None
    label: str = "label"
    inputs_key: str = "capture.csv_fields"
    outputs_key: str = "capture.csv_outputs"


@dataclass(frozen=True)
class _Naming:
    """How one side of a record is named (see :class:`CaptureColumns`)."""

    side: Side
    names: tuple[str | None, ...] | None
    setting: str
    keys: Mapping[str, str]


def capture_rows(record: dict[str, Any], columns: CaptureColumns) -> list[Row]:
    """The rows of one Data Capture record (one request).

    Args:
        record: one parsed line of a Data Capture file.
        columns: how to name inputs, outputs, the id and the timestamp.

    Returns:
        One row per row of the request: id, timestamp (if asked), inputs, outputs.

    Raises:
        RejectedRecord: not a capture record, undecodable data, or row counts that disagree.
        RejectedFile: values without names whose order is unknown (``capture_fields_unknown``)
            or a row of them whose count is not the order's (``capture_field_count``).
    """
    capture = record.get("captureData")
    if not isinstance(capture, dict):
        raise RejectedRecord("not a Data Capture record (no captureData object)")
    inputs = outputs = None
    if "endpointInput" in capture:
        naming = _Naming("input", columns.inputs, columns.inputs_key, {})
        inputs = _side_rows(capture["endpointInput"], naming)
    if "endpointOutput" in capture:
        naming = _Naming("output", columns.outputs, columns.outputs_key, columns.output_keys)
        outputs = _side_rows(capture["endpointOutput"], naming)
    if inputs is None and outputs is None:
        raise RejectedRecord("captureData has neither endpointInput nor endpointOutput")
    if inputs is not None and outputs is not None and len(inputs) != len(outputs):
        raise RejectedRecord(f"output has {len(outputs)} rows, input {len(inputs)}")
    parts = [part for part in (inputs, outputs) if part is not None]
    count = len(parts[0])
    if count == 0:
        raise RejectedRecord("the request has no rows")
    metadata = _metadata(record)
    ident = _record_id(record, metadata)
    rows: list[Row] = []
    for index in range(count):
        row: Row = {columns.id: None}
        if columns.timestamp is not None:
            row[columns.timestamp] = None
        for part in parts:
            row.update(part[index])
        row[columns.id] = ident if ident is None or count == 1 else f"{ident}#{index}"
        if columns.timestamp is not None:
            row[columns.timestamp] = metadata.get("inferenceTime")
        rows.append(row)
    return rows


def ground_truth_rows(record: dict[str, Any], columns: CaptureColumns) -> list[Row]:
    """The single row (id, label) of one SageMaker ground-truth record.

    Args:
        record: one parsed line of a ground-truth file.
        columns: names of the id and label columns.

    Returns:
        ``[{columns.id: ..., columns.label: ...}]``.

    Raises:
        RejectedRecord: not a ground-truth record, no id, or an empty or non-scalar label.
    """
    truth = record.get("groundTruthData")
    if not isinstance(truth, dict):
        raise RejectedRecord("not a ground-truth record (no groundTruthData object)")
    ident = _record_id(record, _metadata(record))
    if ident is None:
        raise RejectedRecord("no eventMetadata.eventId or inferenceId to join the label on")
    encoding = truth.get("encoding")
    data = truth.get("data")
    if encoding is None and not isinstance(data, str):
        label = data  # hand-written files: a bare JSON value
    else:
        kind, payload = _decode(truth, "groundTruthData", default="csv")
        if kind == "csv":
            label = parse_value(payload) if isinstance(payload, str) else payload
        else:
            label = _parse_json(payload, "groundTruthData")
    if label is None or label == "":
        raise RejectedRecord("the label (groundTruthData.data) is empty")
    if isinstance(label, dict | list):
        raise RejectedRecord("the label (groundTruthData.data) is not a single value")
    return [{columns.id: ident, columns.label: label}]


def parse_value(text: str) -> int | float | str | None:
    """A CSV field's value: a number when it spells one, ``None`` when empty, else the text.

    >>> [parse_value(text) for text in ["7", " -2.5e3 ", "", "cat", "1_000"]]
    [7, -2500.0, None, 'cat', '1_000']
    """
    stripped = text.strip()
    if not stripped:
        return None
    try:
        if _INTEGER.fullmatch(stripped):
            return int(stripped)
        if _DECIMAL.fullmatch(stripped):
            return float(stripped)
    except ValueError:  # more digits than Python converts
        return text
    return text


def _metadata(record: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = record.get("eventMetadata")
    return metadata if isinstance(metadata, dict) else {}


def _record_id(record: Mapping[str, Any], metadata: Mapping[str, Any]) -> str | None:
    for value in (metadata.get("inferenceId"), record.get("inferenceId"), metadata.get("eventId")):
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


def _side_rows(part: Any, naming: _Naming) -> list[Row]:
    field = f"endpoint{naming.side.capitalize()}"
    if not isinstance(part, dict):
        raise RejectedRecord(f"{field} is not an object")
    kind, payload = _decode(part, field, default=None)
    if kind == "csv":
        if not isinstance(payload, str):
            raise RejectedRecord(f"{field}.data is not CSV text")
        return [_named(values, naming) for values in _csv_values(payload, field)]
    if kind == "jsonlines":
        if not isinstance(payload, str):
            raise RejectedRecord(f"{field}.data is not JSON Lines text")
        rows: list[Row] = []
        for line in payload.splitlines():
            if line.strip():
                rows.extend(_json_rows(_parse_json(line, field), naming, unwrap=True))
        return rows
    return _json_rows(_parse_json(payload, field), naming, unwrap=True)


def _decode(part: Mapping[str, Any], field: str, *, default: Kind | None) -> tuple[Kind, Any]:
    """The payload of an ``endpointInput`` / ``endpointOutput`` / ``groundTruthData`` object."""
    encoding = part.get("encoding")
    data = part.get("data")
    content_type = part.get("observedContentType")
    kind = _kind(content_type)
    if encoding == "CSV" or (encoding is None and default == "csv"):
        return "csv", data
    if encoding == "JSON":
        return ("jsonlines" if kind == "jsonlines" else "json"), data
    if encoding != "BASE64":
        raise RejectedRecord(f"{field} has an unknown encoding; expected CSV, JSON or BASE64")
    if not isinstance(data, str):
        raise RejectedRecord(f"{field}.data is not base64 text")
    try:
        text = base64.b64decode(data, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # ValueError covers UnicodeDecodeError
        raise RejectedRecord(f"{field}.data is not base64 of UTF-8 text") from None
    kind = kind or default
    if kind is None:
        raise RejectedRecord(
            f"{field} has an unknown content type; expected CSV or JSON (text/csv, "
            "application/json, application/jsonlines)"
        )
    return kind, text


def _kind(content_type: Any) -> Kind | None:
    if not isinstance(content_type, str):
        return None
    mime = content_type.split(";", 1)[0].strip().lower()
    if "jsonlines" in mime or "json-lines" in mime or "ndjson" in mime:
        return "jsonlines"
    if "json" in mime:
        return "json"
    if "csv" in mime:
        return "csv"
    return None


def _parse_json(payload: Any, field: str) -> Any:
    if not isinstance(payload, str):
        return payload  # already a JSON value inside the record
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        raise RejectedRecord(f"{field}.data is not valid JSON") from None


def _csv_values(text: str, field: str) -> list[list[Any]]:
    try:
        records = list(csv.reader(io.StringIO(text)))
    except csv.Error:
        raise RejectedRecord(f"{field}.data is not valid CSV") from None
    return [[parse_value(value) for value in values] for values in records if values]


def _named(values: list[Any], naming: _Naming) -> Row:
    """One row from values without names, named by position (or refused: see the module)."""
    names = naming.names
    if names is None:
        raise RejectedFile(
            "capture_fields_unknown",
            f"the {naming.side} has values without names (CSV text, a JSON list or a bare value) "
            f"and their order is not configured; set {naming.setting} in the monitor definition",
            key=naming.setting,
            side=naming.side,
        )
    if not names:
        return {f"{naming.side}_{position}": value for position, value in enumerate(values)}
    if len(values) != len(names):
        raise RejectedFile(
            "capture_field_count",
            f"a row of the {naming.side} has {len(values)} fields, {naming.setting} names "
            f"{len(names)}",
            key=naming.setting,
            side=naming.side,
            expected=len(names),
            found=len(values),
        )
    return {name: value for name, value in zip(names, values, strict=True) if name is not None}


def _keyed(value: dict[str, Any], naming: _Naming) -> Row:
    """One row from a JSON object: flattened, output keys renamed by the mapping."""
    row = flatten(value)
    keys = naming.keys
    if not keys or not any(key in keys for key in row):
        return row
    # A mapped key wins over a key already named like its column.
    filled = {keys[key] for key in row if key in keys}
    return {
        keys.get(key, key): item for key, item in row.items() if key in keys or key not in filled
    }


def _json_rows(value: Any, naming: _Naming, *, unwrap: bool) -> list[Row]:
    side = naming.side
    if isinstance(value, dict):
        if unwrap:
            for key in _WRAPPERS[side]:
                if key in value:
                    return _json_rows(value[key], naming, unwrap=False)
        if side == "input" and set(value) == {"features"} and isinstance(value["features"], list):
            return _json_rows(value["features"], naming, unwrap=False)
        return [_keyed(value, naming)]
    if not isinstance(value, list):
        return [_named([value], naming)]
    if not value:
        return []
    if not any(isinstance(item, dict | list) for item in value):
        if side == "output" and naming.names is not None and len(naming.names) <= 1:
            return [_named([item], naming) for item in value]
        return [_named(value, naming)]
    rows: list[Row] = []
    for item in value:
        if isinstance(item, dict):
            rows.extend(_json_rows(item, naming, unwrap=False))
        elif isinstance(item, list) and not any(isinstance(v, dict | list) for v in item):
            rows.append(_named(item, naming))
        else:
            raise RejectedRecord(f"{side} JSON mixes single values and rows, or nests too deep")
    return rows
