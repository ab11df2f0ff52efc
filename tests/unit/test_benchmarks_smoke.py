"""The benchmark code (benchmarks/) runs at tiny sizes and the cost model adds up.

No timing is asserted: the figures are the benchmarks' business. This only keeps the
scripts from rotting between the runs that record them in benchmarks/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bench_data  # noqa: E402
import contenders  # noqa: E402
import cost_model  # noqa: E402
import evaluate_job  # noqa: E402
import harness  # noqa: E402
import run_all  # noqa: E402
import score_cells_size  # noqa: E402
import spread_tests  # noqa: E402
import throughput  # noqa: E402
import window_eval  # noqa: E402
from cold_start import parse_importtime, render_cold_start, render_sizes  # noqa: E402

ROWS = 1_000


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bench-data")
    bench_data.ensure_reference(folder, rows=ROWS)
    for fmt in ("csv", "parquet"):
        bench_data.ensure_current(ROWS, fmt, folder)
    return folder


def test_every_contender_runs_on_a_thousand_rows(data: Path) -> None:
    # WHEN each contender runs in this process on the 1,000-row pair
    results = {
        (kind, fmt): contenders.RUNNERS[kind](ROWS, fmt, data)
        for kind in ("floor", "driftline")
        for fmt in ("csv", "parquet", "parquet-fp")
    }
    scipy = contenders.run_scipy(ROWS, "parquet", data)
    columns = contenders.run_columns(ROWS, "parquet", data)

    # THEN every one read all rows, and driftline and scipy agree on what drifted
    assert {result["rows"] for result in results.values()} == {ROWS}
    drifted = {results["driftline", fmt]["drifted"] for fmt in ("csv", "parquet", "parquet-fp")}
    assert len(drifted) == 1
    assert 0 < scipy["drifted"] <= 20
    assert set(columns["by_columns"]) == {"2", "10", "20"}


def test_a_contender_runs_in_a_child_process_and_reports_its_peak_memory(data: Path) -> None:
    result = contenders.measure("floor", ROWS, "parquet", data)
    assert result["rows"] == ROWS
    assert result["peak_rss_mib"] > 0


def test_the_throughput_tables_render_from_a_schedule() -> None:
    # GIVEN the runs one round would make at two sizes, with made-up figures
    plan = throughput.plan(
        (ROWS, 10 * ROWS), round_number=0, evidently_rounds=1, comparison_rows=ROWS
    )
    assert ("evidently", ROWS, "parquet") in plan
    assert ("scipy", 10 * ROWS, "parquet") not in plan
    figures = {
        "seconds": 2.0,
        "compute_seconds": 1.5,
        "peak_rss_mib": 300.0,
        "drifted": 16,
        "reference_seconds": 0.01,
        "profile_seconds": 1.9,
        "drift_seconds": 0.09,
        "methods": ["Jensen-Shannon distance"],
        "versions": "evidently 0.7",
    }
    best = {f"{kind}/{rows}/{fmt}": harness.best([figures]) for kind, rows, fmt in plan}
    result = {
        "sizes": [ROWS, 10 * ROWS],
        "comparison_rows": ROWS,
        "rounds": 1,
        "evidently_note": "cached",
        "best": best,
        "columns": {"by_columns": {"2": 0.1, "10": 0.5, "20": 1.0}},
    }

    # WHEN rendered THEN both tables are there with their targets
    assert "| 1,000 | csv |" in throughput.render_throughput(result)
    comparison = throughput.render_comparison(result)
    assert "Evidently DataDriftPreset" in comparison
    assert "1× end to end" in comparison and "**missed**" in comparison


def test_the_window_benchmark_merges_and_evaluates_tiny_windows() -> None:
    result = window_eval.run(rounds=1, rows_per_day=300, windows=(1, 2))
    assert set(result["windows"]) == {"1", "2"}
    assert result["windows"]["2"]["rows"] == 600
    # the definition's 20, schema-columns and scores-in-range (a binary classifier's score)
    assert result["windows"]["2"]["checks"] == 22
    assert "| 2 | 600 |" in window_eval.render(result)


def test_the_estimate_comparison_decides_the_estimated_checks_and_strips_only_score_cells() -> None:
    result = window_eval.estimate_cost(rounds=1, rows_per_day=300, days=2)
    # THEN with estimates the estimated checks decide; without, the profiles are smaller
    assert set(result["estimated_statuses"].values()) <= {"pass", "fail"}
    assert len(result["estimated_statuses"]) == 3
    variants = result["variants"]
    assert variants["without"]["profile_bytes"] < variants["with estimates"]["profile_bytes"]
    assert variants["without"]["rows"] == variants["with estimates"]["rows"] == 600
    assert "Target: with estimates" in window_eval.render_estimates(result)


def test_importtime_is_summed_per_top_level_package() -> None:
    trace = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:      1000 |       1000 |     scipy.special",
            "import time:      2000 |       3000 |   scipy.stats",
            "import time:       500 |       3500 | scipy",
            "import time:       100 |       3600 | app",
        ]
    )
    assert parse_importtime(trace) == [("scipy", 0.0035), ("app", 0.0001)]


def test_cold_start_and_size_tables_render() -> None:
    timings = {"import_seconds": 1.0, "setup_seconds": 0.2, "process_seconds": 1.4}
    build = {
        "note": "reused",
        "functions": {
            name: timings
            for name in (
                "ConfigureFunction",
                "BuildBaselineFunction",
                "ProfileBatchFunction",
                "IngestLabelsFunction",
                "EvaluateFunction",
            )
        },
        "top_imports": [("scipy", 0.8)],
        "sizes": [
            {
                "function": "ProfileBatchFunction",
                "code_bytes": 512,
                "layer_bytes": {"AnalysisLayer": 190 * 2**20, "CoreLayer": 2**20},
                "total_bytes": 191 * 2**20 + 512,
            },
            {
                "function": "RetrainFunction",
                "code_bytes": 512,
                "layer_bytes": {"CoreLayer": 2**20, "TrainingLayer": 197 * 2**20},
                "total_bytes": 198 * 2**20 + 512,
            },
        ],
    }
    result = {"python": "python3.12", "rounds": 1, "builds": {"pyc": build, "sources": build}}
    assert "import 1.00 s (met)" in render_cold_start(result)
    sizes = render_sizes(result)
    assert "largest 198.00 MiB (met)" in sizes
    assert "| TrainingLayer 197.00 | 1.00 |" in sizes  # each function's own second layer


def test_lambda_duration_is_gb_seconds_times_the_price() -> None:
    # GIVEN one file an hour, 2 s at 1536 MB each
    prices, workload = cost_model.Prices(), cost_model.Workload(files_per_hour=1.0)
    measured = cost_model.Measured(batch_seconds=2.0, batch_requests={})

    # WHEN priced
    items = {item.name: item for item in cost_model.monthly_costs(prices, workload, measured)}

    # THEN 730 files x 2 s x 1.5 GB x $0.0000166667, and 730 requests x $0.20 per million
    assert items["profile_batch: Lambda duration"].dollars == pytest.approx(
        730 * 2.0 * 1.5 * 0.0000166667
    )
    assert items["profile_batch: Lambda requests"].dollars == pytest.approx(730 * 0.20 / 1e6)


def test_counted_requests_are_priced_by_kind() -> None:
    prices, workload = cost_model.Prices(), cost_model.Workload(files_per_hour=1.0)
    measured = cost_model.Measured(
        batch_seconds=0.0,
        batch_requests={
            "s3:GetObject": 2,
            "s3:HeadObject": 1,
            "s3:PutObject": 2,
            "dynamodb:GetItem": 2,
            "dynamodb:TransactWriteItems": 1,
            "sns:Publish": 1,
        },
    )
    items = {
        item.name: item.dollars for item in cost_model.monthly_costs(prices, workload, measured)
    }
    assert items["profile_batch: S3 GET requests"] == pytest.approx(730 * 3 * 0.0004 / 1000)
    assert items["profile_batch: S3 PUT/LIST requests"] == pytest.approx(730 * 2 * 0.005 / 1000)
    assert items["profile_batch: DynamoDB read requests"] == pytest.approx(730 * 2 * 0.125 / 1e6)
    assert items["profile_batch: DynamoDB write requests"] == pytest.approx(730 * 4 * 0.625 / 1e6)
    assert items["profile_batch: SNS requests"] == pytest.approx(730 * 0.50 / 1e6)
    with pytest.raises(ValueError, match="no price"):
        cost_model.request_price("ec2:RunInstances", prices)


def test_per_million_divides_the_month_by_the_predictions() -> None:
    workload = cost_model.Workload(files_per_hour=1.0, batch_rows=100_000)
    items = [cost_model.LineItem("a", 7.30, ""), cost_model.LineItem("b", 0.0, "")]
    # 730 files x 100,000 = 73 M predictions a month; $7.30 / 73 = $0.10 per million
    assert cost_model.per_million(items, workload) == pytest.approx(0.10)


def test_hourly_model_monitor_bills_its_minutes_on_the_instance() -> None:
    schedule = cost_model.ModelMonitorSchedule(runs_per_day=24, billed_minutes_per_run=6)
    item = cost_model.sagemaker_model_monitor(cost_model.Prices(), schedule)
    # 730 runs a month x 0.1 h x $0.23
    assert item.dollars == pytest.approx(730 * 0.1 * 0.23)


def test_the_cost_section_renders_from_measured_figures() -> None:
    e2e = {
        "best": {"handler_seconds": 1.0, "calls": {"s3:GetObject": 2, "s3:PutObject": 2}},
        "kept_bytes": 10 * 2**20,
        "profile_bytes": 2**20,
        "log_bytes_per_invocation": 2048,
    }
    window = {
        "windows": {"1": {"evaluate_seconds": 0.1, "figures": 100, "emf_metrics": 30}},
        "per_profile": {
            "batch": {"seconds": 0.02, "mib": 3.0},
            "labelled": {"seconds": 0.1, "mib": 8.0},
        },
    }
    cost = run_all.section_cost({"e2e": e2e, "window": window}, {})
    assert cost is not None
    assert cost["measured"]["evaluate_seconds_per_batch_profile"] == pytest.approx(0.02)
    text = run_all.render_cost(cost)
    assert "driftline total" in text and "SageMaker Model Monitor" in text
    assert "checked 2026-11-25" in text
    # the evaluate job merges as it reads: its memory does not grow with the traffic
    assert "**> 1024 MB**" not in text
    # with the evaluate job measured, the seconds per window are calibrated on it
    # (P1D + P7D + P30D read 24, 30 and 53 batch profiles and 2, 8 and 31 labelled ones, and
    # yesterday's 24 batches once more to roll it up: 6.72 s of the 10 s at these figures)
    job = {"steady": {"seconds": 10.0}, "before": {"seconds": 30.0}}
    calibrated = run_all.section_cost({"e2e": e2e, "window": window, "job": job}, {})
    assert calibrated is not None
    per_window = calibrated["measured"]["evaluate_seconds_per_window"]
    assert per_window == pytest.approx((10.0 - 6.72) / 3)
    assert "10.0 s a run in the steady state" in run_all.render_cost(calibrated, job=job)


def test_a_window_reads_whole_days_through_roll_ups_and_partial_days_hour_by_hour() -> None:
    workload = cost_model.Workload(files_per_hour=2.0, label_files_per_day=1.0)
    measured = cost_model.Measured(
        batch_seconds=0.0,
        evaluate_seconds_per_batch_profile=0.01,
        evaluate_seconds_per_labelled_profile=0.1,
        evaluate_seconds_per_window=0.5,
        evaluate_mib_per_batch_profile=2.0,
        evaluate_mib_per_labelled_profile=5.0,
    )
    # P7D: 6 whole days (one roll-up each), 48 hourly batches of the two partial days; one
    # label file a day needs no roll-up: 6 whole days + the first day and today
    assert cost_model.window_profiles(workload, 7) == (54.0, 8.0)
    assert cost_model.window_profiles(workload, 1) == (48.0, 2.0)
    assert cost_model.evaluate_window_seconds(workload, measured, 7) == pytest.approx(
        54 * 0.01 + 8 * 0.1 + 0.5
    )
    # yesterday's 48 batches are read once more a day, to roll it up
    assert cost_model.rollup_profiles(workload) == 48.0
    assert cost_model.evaluate_seconds(workload, measured) == pytest.approx(
        (48 * 0.01 + 2 * 0.1 + 0.5) + (29 + 48) * 0.01 + 31 * 0.1 + 0.5 + 48 * 0.01
    )
    # merged as read: the window so far and one profile, whatever the window
    assert cost_model.evaluate_window_mib(workload, measured, 30) == pytest.approx(10.0)


def test_the_evaluate_job_benchmark_runs_on_three_days() -> None:
    result = evaluate_job.run(rows=300, days=3)
    # 3 days of hourly batches: the runs read fewer objects once whole days are rolled up
    assert result["batch_profiles"] == 72
    assert result["steady"]["calls"]["s3:GetObject"] < result["before"]["calls"]["s3:GetObject"]
    assert result["rollups"] >= 2
    assert len(result["steady"]["statuses"]) == 3  # P1D, P7D, P30D
    assert set(result["steady"]["statuses"]) <= {"ok", "warning", "critical"}
    assert "roll-ups stored" in evaluate_job.render(result)


def test_the_score_cells_size_benchmark_runs_on_small_batches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    score_cells_size.main(["--rows", "500", "--baseline-rows", "3000"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("baseline of 3,000 rows")
    assert lines[2].split()[0] == "500"


def test_spread_tests_measure_each_test_of_spread_on_one_column() -> None:
    # GIVEN a column whose standard deviation grew by half
    rng = np.random.default_rng(4)
    reference, current = rng.normal(0, 1, 2_000), rng.normal(0, 1.5, 300)
    # WHEN every test's p-value is taken
    found = spread_tests.p_values(reference, current)
    # THEN each test answers, and the tests of spread see it far better than KS
    assert set(found) == set(spread_tests.TESTS)
    assert all(0.0 <= p <= 1.0 for p in found.values())
    assert found["scale"] < 1e-6 and found["scale"] < found["ks"]
