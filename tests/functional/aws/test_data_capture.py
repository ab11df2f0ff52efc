"""SageMaker Data Capture through ``profile_batch`` on moto: a CSV request has no header, so
its fields are named by the definition's ``capture.csv_fields`` (never by the order of
``schema.features``), JSON outputs by ``capture.outputs``; a capture file that cannot be
named truthfully is quarantined and paged once, never profiled with mislabelled columns."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from driftline.aws import jobs
from driftline.aws.jobs import Services

from .test_rejections import NOW, machine_part

MODEL = "churn"
DEFINITION = f"""
model: {MODEL}
schema:
  id: request_id
  timestamp: event_time
  task: binary_classification
  prediction: churned_pred
  score: churn_score
  label: churned
  positive_class: 1
  features: {{tenure: numeric, income: numeric, plan: categorical}}
  segments: [plan]
baseline: {{path: baselines/{MODEL}/reference.csv}}
checks:
  - {{name: tenure-types, quality: type_violation_share, feature: tenure, max: 0.01}}
"""
# The endpoint's request is (plan, income, tenure): not the order of schema.features.
CAPTURE = """capture:
  csv_fields: [plan, income, tenure]
  outputs: {predicted_label: churned_pred, probability: churn_score}
"""
HOUR = "2026/11/24/10"


def table(rows: int, *, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "request_id": [f"r{seed}-{i}" for i in range(rows)],
            "event_time": [f"2026-11-24T10:{i % 60:02d}:00Z" for i in range(rows)],
            "tenure": rng.integers(0, 72, rows),
            "income": rng.normal(3000.0, 800.0, rows).round(2),
            "plan": rng.choice(["basic", "pro", "team"], rows),
            "churn_score": rng.random(rows).round(4),
            "churned_pred": rng.integers(0, 2, rows),
        }
    )


def capture_file(frame: pd.DataFrame, fields: list[str]) -> bytes:
    """A Data Capture file as an endpoint writes it: CSV request without a header, in the
    order ``fields``, and a JSON answer under the endpoint's own keys."""
    lines = []
    for row in frame.itertuples(index=False):
        request = ",".join(str(getattr(row, field)) for field in fields)
        answer = {"predicted_label": int(row.churned_pred), "probability": float(row.churn_score)}
        record = {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                  "data": request, "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                                   "data": json.dumps(answer), "encoding": "JSON"},
            },
            "eventMetadata": {"eventId": row.request_id, "inferenceTime": row.event_time},
            "eventVersion": "0",
        }  # fmt: skip
        lines.append(json.dumps(record))
    return ("\n".join(lines) + "\n").encode()


def deploy(services: Services, definition: str) -> None:
    reference = table(1000, seed=1).assign(churned=lambda f: f["churned_pred"])
    services.store.put(f"baselines/{MODEL}/reference.csv", reference.to_csv(index=False).encode())
    services.store.put(f"config/{MODEL}.yaml", definition.encode())
    outcome = jobs.configure(services, f"config/{MODEL}.yaml")
    assert outcome["status"] == "stored" and outcome["baseline"]["status"] == "built"


def stored_profile(services: Services, source: str) -> dict[str, Any]:
    for key in services.store.keys(f"profiles/{MODEL}/batches/{HOUR}/"):
        document = services.store.get_json(key)
        if document["source"] == source:
            return dict(document["profile"])
    raise AssertionError(f"no profile of {source}")


def test_capture_fields_in_another_order_profile_as_the_same_data_with_a_header(
    services: Services, inbox: Any
) -> None:
    # GIVEN a model whose endpoint takes (plan, income, tenure) and answers with its own keys
    deploy(services, DEFINITION + CAPTURE)
    inbox()
    batch = table(300, seed=2)
    capture_key = f"inference/{MODEL}/churn-endpoint/AllTraffic/{HOUR}/capture.jsonl"
    plain_key = f"inference/{MODEL}/exports/{HOUR}/plain.csv"
    services.store.put(capture_key, capture_file(batch, ["plan", "income", "tenure"]))
    services.store.put(plain_key, batch.to_csv(index=False).encode())

    # WHEN the capture file and a plain CSV of the same rows, with a header, are profiled
    captured = jobs.profile_batch(services, capture_key, received=NOW)
    plain = jobs.profile_batch(services, plain_key, received=NOW)

    # THEN both are profiled, with every figure equal: the same columns from the same values
    assert (captured["status"], captured["rows"]) == ("profiled", 300)
    assert (plain["status"], plain["rows"]) == ("profiled", 300)
    from_capture = stored_profile(services, capture_key)
    from_plain = stored_profile(services, plain_key)
    assert from_capture == from_plain
    # ... the outputs came from the endpoint's keys, the plan column holds plans, the numeric
    # features numbers (no type violation), and nothing was left unknown or rejected
    columns = from_capture["columns"]
    assert set(columns) == {"tenure", "income", "plan", "churned_pred", "churn_score", "churned"}
    assert columns["churned"]["missing"] == 300  # labels arrive later, in another file
    assert columns["tenure"]["type_violations"] == columns["income"]["type_violations"] == 0
    assert from_capture["unknown_columns"] == [] and from_capture["bad_rows"] == 0
    assert set(from_capture["segments"]) == {"plan=basic", "plan=pro", "plan=team"}
    # ... and nobody was paged (the type check holds, nothing was rejected)
    assert inbox() == []


def test_a_capture_file_without_csv_fields_is_quarantined_and_paged_once(
    services: Services, inbox: Any
) -> None:
    # GIVEN a definition without capture.csv_fields, and a capture file with CSV requests
    deploy(services, DEFINITION)
    inbox()
    key = f"inference/{MODEL}/churn-endpoint/AllTraffic/{HOUR}/capture.jsonl"
    body = capture_file(table(50, seed=3), ["tenure", "income", "plan"])
    services.store.put(key, body)

    # WHEN it is profiled, and its event delivered again
    outcome = jobs.profile_batch(services, key, received=NOW)
    again = jobs.profile_batch(services, key, received=NOW)

    # THEN it is quarantined with the reason naming the setting, never read in the order of
    # schema.features (here the very order of the request: still not a guess driftline makes)
    assert (outcome["status"], outcome["reason"]) == ("rejected", "capture_fields_unknown")
    assert again["duplicate"] is True
    assert services.store.get(f"quarantine/{key}").body == body
    document = json.loads(services.store.get(f"quarantine/{key}.reason.json").body)
    assert document["reason"] == "capture_fields_unknown"
    assert document["details"]["key"] == "capture.csv_fields"
    assert document["details"]["line"] == "1"
    assert "set capture.csv_fields" in document["error"]
    assert not list(services.store.keys(f"profiles/{MODEL}/batches/"))
    # ... and on-call is paged exactly once
    (message,) = inbox()
    assert "capture_fields_unknown" in message["Subject"]
    assert machine_part(message)["reason"] == "capture_fields_unknown"


def test_a_capture_file_with_a_record_of_another_field_count_is_quarantined(
    services: Services, inbox: Any
) -> None:
    # GIVEN a capture file whose 31st request has a field the configured order does not have
    deploy(services, DEFINITION + CAPTURE)
    inbox()
    key = f"inference/{MODEL}/churn-endpoint/AllTraffic/{HOUR}/capture.jsonl"
    lines = capture_file(table(50, seed=4), ["plan", "income", "tenure"]).decode().splitlines()
    record = json.loads(lines[30])
    request = record["captureData"]["endpointInput"]
    request["data"] += ",SECRET-VALUE"
    lines[30] = json.dumps(record)
    services.store.put(key, ("\n".join(lines) + "\n").encode())

    # WHEN it is profiled
    outcome = jobs.profile_batch(services, key, received=NOW)

    # THEN the whole file is quarantined, naming the file, the line and both counts
    assert (outcome["status"], outcome["reason"]) == ("rejected", "capture_field_count")
    document = json.loads(services.store.get(f"quarantine/{key}.reason.json").body)
    details = document["details"]
    assert (details["line"], details["expected"], details["found"]) == ("31", "3", "4")
    assert details["file"] == key
    assert "line 31" in document["error"] and "4 fields" in document["error"]
    assert "SECRET-VALUE" not in json.dumps(document)
    assert not list(services.store.keys(f"profiles/{MODEL}/batches/"))
    assert not list(services.store.keys(f"profiles/{MODEL}/rows/"))
    (message,) = inbox()
    assert "SECRET-VALUE" not in json.dumps(message)


def test_text_in_a_numeric_capture_field_is_a_type_violation_not_a_bad_row(
    services: Services, inbox: Any
) -> None:
    # GIVEN a capture file in which 5 of 100 requests have text where tenure is numeric
    deploy(services, DEFINITION + CAPTURE)
    inbox()
    batch = table(100, seed=5)
    batch["tenure"] = batch["tenure"].astype(object)
    batch.loc[batch.index[::20], "tenure"] = "n/a"
    key = f"inference/{MODEL}/churn-endpoint/AllTraffic/{HOUR}/capture.jsonl"
    services.store.put(key, capture_file(batch, ["plan", "income", "tenure"]))

    # WHEN it is profiled
    outcome = jobs.profile_batch(services, key, received=NOW)

    # THEN every request is a row, the 5 values count as type violations of tenure (as in
    # every reader), no row is bad, and the type check on tenure notifies
    assert (outcome["status"], outcome["rows"]) == ("profiled", 100)
    profile = stored_profile(services, key)
    assert profile["bad_rows"] == 0
    assert profile["columns"]["tenure"]["type_violations"] == 5
    (message,) = inbox()
    assert "tenure-types" in message["Message"]
