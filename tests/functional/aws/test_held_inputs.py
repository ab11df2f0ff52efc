"""Inputs a model cannot process yet are held, paged once, and processed later; never lost.

An inference log or label file that arrives before its model's monitor definition or
baseline profile, or after the stored baseline profile was deleted, cannot be profiled. It
is not quarantined (nothing is wrong with it) and does not fail (a retry would fail the
same way, a crash loop): it is held in the table, on-call is paged once per model and cause
however many files arrive, and when the baseline is profiled every held file is processed
as if it had just arrived, with the same figures as files that came in order.
"""

from __future__ import annotations

from typing import Any

import boto3

from driftline.aws import jobs
from driftline.aws.jobs import Services

from .test_rejections import DEFINITION, MODEL, NOW, csv_bytes, machine_part, table

BASELINE = csv_bytes(table(400, seed=1))
BATCHES = {
    f"inference/{MODEL}/2026/11/24/{hour:02d}/batch.csv": csv_bytes(
        table(200, seed=10 + hour, start=1000 * hour)
    )
    for hour in (7, 8, 9)
}
LABELS = f"labels/{MODEL}/2026/11/24/labels.csv"


def label_bytes() -> bytes:
    frames = [table(200, seed=10 + hour, start=1000 * hour) for hour in (7, 8, 9)]
    rows = [f"{r},{y}" for f in frames for r, y in zip(f["request_id"], f["label"], strict=True)]
    return ("request_id,label\n" + "\n".join(rows) + "\n").encode()


def upload_inputs(services: Services) -> list[dict[str, Any]]:
    outcomes = []
    for key, body in BATCHES.items():
        services.store.put(key, body)
        outcomes.append(jobs.profile_batch(services, key, received=NOW))
    services.store.put(LABELS, label_bytes())
    outcomes.append(jobs.ingest_labels(services, LABELS, received=NOW))
    return outcomes


def configure(services: Services) -> dict[str, Any]:
    services.store.put(f"baselines/{MODEL}/reference.csv", BASELINE)
    services.store.put(f"config/{MODEL}.yaml", DEFINITION.encode())
    return jobs.configure(services, f"config/{MODEL}.yaml")


def stored_profiles(services: Services) -> dict[str, bytes]:
    keys = [k for k in services.store.keys(f"profiles/{MODEL}/") if "/reference/" not in k]
    return {key: services.store.get(key).body for key in keys}


def test_inputs_before_the_definition_are_held_paged_once_and_processed_when_it_comes(
    services: Services, inbox: Any
) -> None:
    # GIVEN three inference logs and a label file of a model nobody configured yet
    inbox()
    outcomes = upload_inputs(services)

    # THEN each is held with the reason, nothing is quarantined or profiled ...
    assert [o["status"] for o in outcomes] == ["held"] * 4
    assert {o["reason"] for o in outcomes} == {"no_monitor_definition"}
    assert not list(services.store.keys("quarantine/"))
    assert not list(services.store.keys("profiles/"))
    # ... and on-call hears it once, not four times, with the reason and the first file
    (page,) = inbox()
    machine = machine_part(page)
    assert machine["kind"] == "inputs_held" and machine["reason"] == "no_monitor_definition"
    assert machine["first"] == next(iter(BATCHES))
    assert "held" in page["Subject"]

    # WHEN a redelivery of a held file arrives, then the definition and its baseline
    assert jobs.profile_batch(services, next(iter(BATCHES)), received=NOW)["status"] == "held"
    assert inbox() == []
    outcome = configure(services)

    # THEN every held file is processed: the figures equal those of a deployment whose
    # inputs came in order
    assert outcome["baseline"]["released"] == 4
    assert services.table.states(MODEL, "HELD") == {}
    assert len([k for k in services.store.keys(f"profiles/{MODEL}/batches/")]) == 3
    assert len([k for k in services.store.keys(f"profiles/{MODEL}/labelled/")]) == 3

    # ... and the page is re-armed: a later outage pages again
    assert services.table.states(MODEL, "HOLDPAGE") == {}


def test_held_then_released_figures_equal_those_of_inputs_in_order(
    services: Services,
) -> None:
    # GIVEN the same inputs once before the definition (held, then released) ...
    upload_inputs(services)
    configure(services)
    released = stored_profiles(services)
    # ... and once more, in order, after the profiles they made are deleted
    s3 = boto3.client("s3", region_name="us-east-1")
    for key in list(services.store.keys("profiles/")):
        if "/reference/" not in key:
            s3.delete_object(Bucket=services.store.bucket, Key=key)
    for name, saved in services.table.states(MODEL, "DETECTOR").items():
        services.table.claim_state(MODEL, "DETECTOR", name, version=saved.version)
    upload_inputs(services)
    in_order = stored_profiles(services)

    # THEN the stored profiles are the same, byte for byte
    assert in_order == released


def test_a_missing_baseline_profile_holds_batches_pages_once_and_evaluate_skips(
    services: Services, inbox: Any
) -> None:
    # GIVEN a configured model whose stored baseline profile was deleted
    configure(services)
    reference_key = services.table.reference_key(MODEL)
    assert reference_key is not None
    boto3.client("s3", region_name="us-east-1").delete_object(
        Bucket=services.store.bucket, Key=reference_key
    )
    inbox()

    # WHEN inference logs and labels arrive, and the schedule evaluates
    outcomes = upload_inputs(services)
    evaluated = jobs.evaluate_model(services, MODEL, now=NOW)

    # THEN nothing raises: the files are held, the evaluation skipped, both with the reason
    assert {(o["status"], o["reason"]) for o in outcomes} == {("held", "baseline_profile_missing")}
    assert evaluated == {"status": "skipped", "reason": "baseline_profile_missing"}
    # ... and on-call is paged once for all of it
    (page,) = inbox()
    assert machine_part(page)["reason"] == "baseline_profile_missing"

    # WHEN the baseline is uploaded again
    services.store.put(f"baselines/{MODEL}/reference.csv", BASELINE)
    outcome = jobs.build_baseline(services, f"baselines/{MODEL}/reference.csv")

    # THEN the profile is rebuilt and the held files processed
    assert outcome["status"] == "built" and outcome["released"] == 4
    assert len(list(services.store.keys(f"profiles/{MODEL}/batches/"))) == 3


def test_a_stored_definition_that_no_longer_validates_holds_inputs_instead_of_crashing(
    services: Services, inbox: Any
) -> None:
    # GIVEN a model whose stored definition was valid when stored but breaks a rule added
    # since (a boolean threshold), written straight into the table as an older version would
    configure(services)
    stale = DEFINITION + "  - {name: rows-floor, quality: volume_ratio, min: true}\n"
    services.table.put_definition(MODEL, {"yaml": stale}, source=f"config/{MODEL}.yaml@old")
    inbox()

    # WHEN inputs arrive and the schedule evaluates
    outcomes = upload_inputs(services)
    evaluated = jobs.evaluate_model(services, MODEL, now=NOW)

    # THEN nothing raises (no crash loop): the files are held, the evaluation skipped, one page
    assert {(o["status"], o["reason"]) for o in outcomes} == {("held", "stored_definition_invalid")}
    assert evaluated == {"status": "skipped", "reason": "stored_definition_invalid"}
    (page,) = inbox()
    assert machine_part(page)["reason"] == "stored_definition_invalid"
    assert "checks[1].min" in page["Message"]

    # WHEN the definition is uploaded again, corrected
    outcome = configure(services)

    # THEN the held files are processed
    assert outcome["baseline"]["released"] == 4
    assert len(list(services.store.keys(f"profiles/{MODEL}/batches/"))) == 3
