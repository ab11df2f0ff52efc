"""Logs carry no feature values: every handler runs on moto over data whose feature values are
distinctive, and none of those values appears in anything the functions print or log.

Lambda sends a function's stdout, stderr and logging output to CloudWatch Logs, so that is
what is captured here: stdout and stderr at the file-descriptor level (the powertools JSON
log lines, the EMF metric documents), and Python logging records as Lambda emits them (the
driftline logger at DEBUG, the most verbose ``LogLevel`` the template allows; every other
logger at WARNING, the Lambda runtime's root level: botocore's DEBUG output, which would
print request bodies, is never on in a deployment). The data
goes through every path that reads it: the baseline, a clean batch, a batch with bad rows
(rows whose values are distinctive too), a rejected batch, a label file, an evaluation.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.aws.handler import logger as handler_logger
from driftline.aws.jobs import Services
from moto_support import LambdaContext, load_handler, s3_event

ROOT = Path(__file__).resolve().parents[2]
# Values that exist only in the uploaded data: a category per categorical feature, an exact
# number in a numeric feature, text in the rejected file and in bad rows.
SECRETS = {
    "plan": "PLAN-7b1e-CONFIDENTIAL",
    "city": "CITY-44c2-CONFIDENTIAL",
    "age": 987654.321,
    "bad_row": "BADROW-913f-CONFIDENTIAL",
    "rejected": "REJECTED-5d0a-CONFIDENTIAL",
}
DEFINITION = """
model: secrets
schema:
  id: request_id
  task: binary_classification
  prediction: predicted
  score: score
  label: label
  positive_class: 1
  features: {age: numeric, plan: categorical, city: categorical}
  segments: [plan]
baseline: {path: baselines/secrets/reference.csv}
checks:
  - {name: input-drift, drift: dataset, action: notify}
  - {name: new-cities, quality: new_category_share, feature: city, max: 0.01, action: notify}
  - {name: accuracy-floor, metric: accuracy, min: 0.99, action: retrain}
windows: [P1D]
"""


def frame(rows: int, *, seed: int, start: int = 0, secret: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    predicted = rng.integers(0, 2, rows)
    plans = rng.choice(["basic", "pro"], rows).astype(object)
    cities = rng.choice(["north", "south"], rows).astype(object)
    ages = rng.integers(18, 90, rows).astype(float)
    if secret:
        plans[::3] = SECRETS["plan"]
        cities[::2] = SECRETS["city"]
        ages[::5] = SECRETS["age"]
    return pd.DataFrame(
        {
            "request_id": [f"r{i}" for i in range(start, start + rows)],
            "age": ages,
            "plan": plans,
            "city": cities,
            "score": rng.random(rows).round(3),
            "predicted": predicted,
            "label": np.where(rng.random(rows) < 0.7, predicted, 1 - predicted),
        }
    )


def load(function: str) -> ModuleType:
    return load_handler(function, prefix="security_handler")


def leaked(text: str) -> list[str]:
    """The secret values found in ``text`` (numbers in any of their usual spellings)."""
    found = [str(v) for k, v in SECRETS.items() if k != "age" and str(v) in text]
    age = SECRETS["age"]
    found += [s for s in (str(age), repr(age), f"{age:g}", "987654.3") if s in text]
    return found


def test_no_handler_logs_a_feature_value(
    stack: Services,
    inbox: Any,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the most verbose logging the template allows (the powertools logger, created at
    # import, writes to the stdout it found then: point it at a buffer), and data full of
    # secret values
    lines = io.StringIO()
    monkeypatch.setattr(handler_logger.registered_handler, "stream", lines)
    monkeypatch.setattr(handler_logger._logger, "level", logging.DEBUG)
    caplog.set_level(logging.WARNING)
    reference = frame(600, seed=1, secret=True)
    stack.store.put("baselines/secrets/reference.csv", reference.to_csv(index=False).encode())
    stack.store.put("config/secrets.yaml", DEFINITION.encode())
    batch = frame(400, seed=2, secret=True)
    batch.loc[batch.index[::4], "city"] = "NEVER-SEEN-CITY"
    clean_key = "inference/secrets/2026/11/24/10/clean.csv"
    stack.store.put(clean_key, batch.to_csv(index=False).encode())
    bad_key = "inference/secrets/2026/11/24/10/bad-rows.csv"
    bad_rows = batch.to_csv(index=False) + f"r9999,{SECRETS['bad_row']},x,y,0.5,1,1,extra\n"
    stack.store.put(bad_key, bad_rows.encode())
    rejected_key = "inference/secrets/2026/11/24/10/rejected.csv"
    rejected = batch.assign(score=SECRETS["rejected"]).to_csv(index=False)
    stack.store.put(rejected_key, rejected.encode())
    labels_key = "labels/secrets/2026/11/24/labels.csv"
    labels = batch[["request_id", "label"]].to_csv(index=False)
    stack.store.put(labels_key, labels.encode())

    # WHEN every handler runs over it
    context = LambdaContext("security-test")
    outcomes = [
        load("configure").handler(s3_event("config/secrets.yaml"), context),
        load("profile_batch").handler(s3_event(clean_key), context),
        load("profile_batch").handler(s3_event(bad_key), context),
        load("profile_batch").handler(s3_event(rejected_key), context),
        load("ingest_labels").handler(s3_event(labels_key), context),
        load("evaluate").handler({"model": "secrets", "time": "2026-11-24T23:00:00Z"}, context),
    ]
    captured = capfd.readouterr()
    powertools = lines.getvalue()
    logged = "\n".join(
        f"{record.getMessage()} {json.dumps(record.__dict__, default=str)}"
        for record in caplog.records
    )

    # THEN the paths really ran (a profile, a rejection, bad rows, an evaluation) ...
    statuses = [outcomes[i]["objects"][0].get("status") for i in range(4)]
    assert statuses == ["stored", "profiled", "profiled", "rejected"]
    assert outcomes[4]["objects"][0]["labels"] == 400
    assert outcomes[5]["evaluations"][0]["windows"][0]["status"] in ("warning", "critical")
    assert '"message":"batch profiled"' in powertools  # JSON log lines
    assert '"message":"input rejected"' in powertools
    assert '"message":"labels ingested"' in powertools
    assert '"message":"evaluated"' in powertools
    assert leaked(json.dumps({"x": SECRETS["plan"], "y": SECRETS["age"]})) != []  # it can see
    assert '"_aws"' in captured.out  # EMF documents
    # ... and not one secret value reached the log lines, stdout, stderr or other loggers
    assert leaked(powertools) == []
    assert leaked(captured.out) == []
    assert leaked(captured.err) == []
    assert leaked(logged) == []
    # (they are in the bucket, where they belong: the kept rows for the label join)
    kept = list(stack.store.keys("profiles/secrets/rows/"))
    assert kept and SECRETS["plan"].encode() in gzip.decompress(stack.store.get(kept[0]).body)


def test_a_rejection_notification_quotes_no_feature_value(stack: Services, inbox: Any) -> None:
    # GIVEN a batch rejected for a score column of secret text
    from driftline.aws import jobs

    stack.store.put("baselines/secrets/reference.csv", frame(300, seed=1).to_csv(index=False)
                    .encode())  # fmt: skip
    stack.store.put("config/secrets.yaml", DEFINITION.encode())
    jobs.configure(stack, "config/secrets.yaml")
    inbox()
    key = "inference/secrets/2026/11/24/10/rejected.csv"
    batch = frame(50, seed=3, secret=True).assign(score=SECRETS["rejected"])
    stack.store.put(key, batch.to_csv(index=False).encode())
    # WHEN profiled THEN the reason, the message and the reason file name no value
    from datetime import UTC, datetime

    outcome = jobs.profile_batch(stack, key, received=datetime(2026, 11, 24, 10, tzinfo=UTC))
    assert outcome["reason"] == "non_numeric_values"
    (message,) = inbox()
    reason = stack.store.get(f"quarantine/{key}.reason.json").body.decode()
    assert leaked(json.dumps(message)) == []
    assert leaked(reason) == []
