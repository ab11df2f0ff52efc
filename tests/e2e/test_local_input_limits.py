"""The input limits of a deployment flow from template.yaml's parameters to the functions:
on the local runtime, a stack deployed with ``MaxFileRows`` lowered quarantines a larger
inference log through the real handler, and builds a baseline of more rows than that."""

from __future__ import annotations

import json
from pathlib import Path

from driftline.local import LocalRuntime

ROOT = Path(__file__).resolve().parents[2]
CHURN = ROOT / "examples" / "churn"


def test_a_deployment_with_a_lower_row_limit_quarantines_a_larger_inference_log() -> None:
    # GIVEN the stack deployed with MaxFileRows 1,000 (the example's log has 4,000 rows, its
    # baseline 5,000: a baseline has its own limit)
    with LocalRuntime(ROOT / "template.yaml", parameters={"MaxFileRows": "1000"}) as runtime:
        lambda_client = runtime.client("lambda")
        for logical in ("ProfileBatchFunction", "IngestLabelsFunction", "BuildBaselineFunction"):
            configuration = lambda_client.get_function_configuration(
                FunctionName=runtime.name_of(logical)
            )
            variables = configuration["Environment"]["Variables"]
            assert variables["DRIFTLINE_MAX_FILE_ROWS"] == "1000", logical
            assert variables["DRIFTLINE_MAX_FILE_BYTES"] == str(128 * 2**20), logical
        runtime.upload("baselines/churn/reference.csv", (CHURN / "reference.csv").read_bytes())
        runtime.upload("config/churn.yaml", (CHURN / "monitor.yaml").read_bytes())

        # WHEN the log is uploaded
        key = "inference/churn/2026/11/24/10/current.csv"
        runtime.upload(key, (CHURN / "current.csv").read_bytes())

        # THEN the baseline was built, and the log is quarantined as too_many_rows, once
        assert runtime.failures() == []
        s3 = runtime.client("s3")
        bucket = runtime.bucket
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="profiles/churn/")
        keys = [item["Key"] for item in listed.get("Contents", [])]
        assert any(k.startswith("profiles/churn/reference/") for k in keys)
        assert not any(k.startswith("profiles/churn/batches/") for k in keys)
        reason = json.loads(
            s3.get_object(Bucket=bucket, Key=f"quarantine/{key}.reason.json")["Body"].read()
        )
        assert reason["reason"] == "too_many_rows"
        assert reason["details"]["limit_rows"] == "1000"
        pages = [n for n in runtime.notifications() if "too_many_rows" in n.get("Subject", "")]
        assert len(pages) == 1
