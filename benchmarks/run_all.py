"""Every benchmark of issue 8 in one run, printed as markdown tables.

    python benchmarks/run_all.py                 # about 8-10 minutes on 2 cores
    python benchmarks/run_all.py --full          # also 10,000,000 rows (about +8 minutes
                                                 # the first time: it writes ~4 GB of data)
    python benchmarks/run_all.py --only throughput,window

Sections: ``throughput`` (1: profile + drift at 100k/1M[/10M] rows, CSV and parquet;
2: side by side with Evidently, naive scipy and the floor at 1M rows), ``window``
(3: window evaluation), ``job`` (3b: the evaluate job on the local runtime, 30 days of
hourly batches, before and with daily roll-ups), ``coldstart`` (4: cold start,
5: deployment size; needs ``sam`` or network for it, and CPython 3.12), ``e2e``
(6: upload -> notification on the local runtime), ``cost`` (7: the cost model, from this
run's measurements, else from the last saved run). Everything runs interleaved and
best-of-N where it is timed; compare ratios within one run, not seconds across runs (the
machine is shared).

The raw results go to ``benchmarks/results/latest.json`` and the tables to
``benchmarks/results/latest.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import cost_model
import harness
import throughput
import window_eval

SECTIONS = ("throughput", "window", "job", "coldstart", "e2e", "cost")
TIMEOUT_SECONDS = 300  # FunctionTimeout default in template.yaml


def section_cost(results: dict[str, Any], saved: dict[str, Any]) -> dict[str, Any] | None:
    """The cost model's inputs from this run's measurements (or the last saved run's)."""
    e2e = results.get("e2e") or saved.get("e2e")
    window = results.get("window") or saved.get("window")
    if not e2e or not window:
        return None
    best = e2e["best"]
    one = window["windows"]["1"]
    per_profile = window["per_profile"]
    per_window = one["evaluate_seconds"]
    job = results.get("job") or saved.get("job")
    if job:
        per_window = max(per_window, _per_window_from_job(job, per_profile))
    measured = cost_model.Measured(
        batch_seconds=best["handler_seconds"],
        batch_requests=best["calls"],
        evaluate_seconds_per_batch_profile=per_profile["batch"]["seconds"],
        evaluate_seconds_per_labelled_profile=per_profile["labelled"]["seconds"],
        evaluate_mib_per_batch_profile=per_profile["batch"]["mib"],
        evaluate_mib_per_labelled_profile=per_profile["labelled"]["mib"],
        evaluate_seconds_per_window=per_window,
        figures_per_window=one["figures"],
        emf_metrics_per_window=one["emf_metrics"],
        kept_bytes_per_batch=int(e2e["kept_bytes"]),
        profile_bytes_per_batch=int(e2e["profile_bytes"]),
        log_bytes_per_invocation=int(e2e["log_bytes_per_invocation"]),
    )
    return {"measured": measured.__dict__ | {"batch_requests": dict(measured.batch_requests)}}


#: The windows of the evaluate job benchmark (section 3b).
JOB_WINDOWS = (1, 7, 30)


def _per_window_from_job(job: dict[str, Any], per_profile: dict[str, Any]) -> float:
    """Seconds per window besides reading and merging profiles, from the evaluate job
    measured on the local runtime (section 3b, steady state): its time less what the
    model gives the profiles it read, over its three windows. The rest is what section 3's
    per-profile figures leave out (reading the objects from S3 and gunzipping them, the
    listings) and what the handler does around the merge: act (alert states, the
    notifications, a retraining start), evaluate(), the report, the metric items."""
    probe = cost_model.Measured(
        batch_seconds=0.0,
        evaluate_seconds_per_batch_profile=per_profile["batch"]["seconds"],
        evaluate_seconds_per_labelled_profile=per_profile["labelled"]["seconds"],
        evaluate_seconds_per_window=0.0,
    )
    profiles = cost_model.evaluate_seconds(cost_model.Workload(window_days=JOB_WINDOWS), probe)
    return max(job["steady"]["seconds"] - profiles, 0.0) / len(JOB_WINDOWS)


def render_cost(
    cost: dict[str, Any], target: float = 0.05, job: dict[str, Any] | None = None
) -> str:
    prices = cost_model.Prices()
    measured = cost_model.Measured(**cost["measured"])
    workload = cost_model.Workload()
    items = cost_model.monthly_costs(prices, workload, measured)
    sagemaker = cost_model.sagemaker_model_monitor(prices)
    total = sum(item.dollars for item in items)
    predictions = workload.predictions_per_month
    lines = [
        f"Prices: us-east-1 list prices, checked {cost_model.PRICES_CHECKED}; free tiers ignored.",
        "",
        harness.table(["price", "USD"], prices.rows()),
        "",
        f"Workload (assumptions): one model, {workload.files_per_hour:g} inference file an hour "
        f"of {workload.batch_rows:,} predictions ({predictions / 1e6:,.0f} M a month), "
        f"{workload.label_files_per_day:g} label file a day, {workload.evaluations_per_day:g} "
        f"scheduled evaluation a day over windows of {' and '.join(map(str, workload.window_days))}"
        f" days, every batch's quality check notifying (conservative), kept rows and profiles "
        f"retained {workload.retention_days:g} days, {workload.retrains_per_month:g} retraining "
        f"execution a month; Lambda at {measured.batch_memory_mb} MB (profile_batch) and "
        f"{measured.evaluate_memory_mb} MB (evaluate), x86_64, running as long as on the bench "
        "machine (one core; verify on AWS: below 1,769 MB a function gets less than one vCPU).",
        "",
        harness.table(
            ["item", "$ / month", "$ / million predictions", "basis"],
            [
                [
                    item.name,
                    f"{item.dollars:.4f}",
                    f"{item.dollars / predictions * 1e6:.5f}",
                    item.basis,
                ]
                for item in items
            ]
            + [
                [
                    "**driftline total**",
                    f"**{total:.2f}**",
                    f"**{total / predictions * 1e6:.4f}**",
                    "",
                ],
                [
                    sagemaker.name,
                    f"{sagemaker.dollars:.2f}",
                    f"{sagemaker.dollars / predictions * 1e6:.4f}",
                    sagemaker.basis,
                ],
            ],
        ),
        "",
    ]
    scenarios = []
    for files_per_hour, batch_rows in ((1.0, 10_000), (1.0, 100_000), (10.0, 100_000)):
        scaled = cost_model.Workload(files_per_hour=files_per_hour, batch_rows=batch_rows)
        scaled_measured = cost_model.Measured(
            **{
                **cost["measured"],
                # duration, kept rows and profile grow with the batch; requests do not
                "batch_seconds": measured.batch_seconds * batch_rows / workload.batch_rows,
                "kept_bytes_per_batch": int(
                    measured.kept_bytes_per_batch * batch_rows / workload.batch_rows
                ),
            }
        )
        scaled_items = cost_model.monthly_costs(prices, scaled, scaled_measured)
        ours = sum(item.dollars for item in scaled_items)
        million = scaled.predictions_per_month / 1e6
        seconds = cost_model.evaluate_seconds(scaled, scaled_measured)
        held = max(
            cost_model.evaluate_window_mib(scaled, scaled_measured, days)
            for days in scaled.window_days
        )
        scenarios.append(
            [
                f"{files_per_hour:g} file/h × {batch_rows:,}",
                f"{million:,.1f}",
                f"{ours:.2f}",
                f"{ours / million:.4f}",
                f"{sagemaker.dollars:.2f}",
                f"{sagemaker.dollars / million:.4f}",
                harness.ratio(sagemaker.dollars / ours),
                f"{seconds:,.0f}" + (" **> 300 s timeout**" if seconds > TIMEOUT_SECONDS else ""),
                f"{held:,.0f}"
                + (
                    f" **> {measured.evaluate_memory_mb} MB**"
                    if held > measured.evaluate_memory_mb
                    else ""
                ),
            ]
        )
    deployment = cost_model.fixed_per_deployment(prices)
    fixed = sum(item.dollars for item in deployment)
    per_million = total / predictions * 1e6
    lines += [
        harness.table(
            [
                "traffic (one model)",
                "M predictions / month",
                "driftline $ / month",
                "driftline $ / M",
                "Model Monitor $ / month",
                "Model Monitor $ / M",
                "Model Monitor ÷ driftline",
                "evaluate s per run",
                "evaluate: profiles held MiB",
            ],
            scenarios,
        ),
        "",
        "The last two columns, modelled from section 3's per-profile figures: the evaluate job "
        "reads each whole day of a window through its daily roll-up and the window's two "
        "partial days hour by hour (24 hours of batches), plus, once a day, the day that just "
        "became whole, to roll it up; it merges as it reads, so it holds the window so far and "
        "one profile whatever the traffic. The function has a "
        f"{TIMEOUT_SECONDS} s timeout and {measured.evaluate_memory_mb} MB (template defaults)."
        + _job_check(job, cost),
        "",
        f"Per deployment, whatever the traffic: {', '.join(i.name for i in deployment)}: "
        f"${fixed:.2f} a month. Not counted on either side: the data capture files themselves, "
        "the training job of a retraining.",
        f"Target: ≤ ${target} per million predictions: ${per_million:.4f} at the main workload "
        f"({harness.verdict(per_million <= target)}).",
    ]
    return "\n".join(lines)


def _job_check(job: dict[str, Any] | None, cost: dict[str, Any]) -> str:
    """The model's evaluate seconds next to the evaluate job measured in section 3b."""
    if not job:
        return ""
    measured = cost_model.Measured(**cost["measured"])
    return (
        f" The seconds per window besides the profiles ({measured.evaluate_seconds_per_window:.2f}"
        " s: the S3 reads and listings section 3 leaves out, acting, evaluate(), the report, "
        "the metric items) are calibrated on section 3b, the handler on the local runtime over "
        "P1D + P7D + "
        f"P30D at one file an hour: {job['steady']['seconds']:.1f} s a run in the steady state, "
        f"{job['before']['seconds']:.1f} s before roll-ups."
    )


def run_sections(
    args: argparse.Namespace,
    wanted: list[str],
    results: dict[str, Any],
    saved: dict[str, Any],
    section: Callable[[str, str], None],
) -> None:
    """Run the wanted sections in order, storing each one's results and printing its tables."""
    import cold_start
    import end_to_end
    import evaluate_job

    if "throughput" in wanted:
        sizes = (*throughput.SIZES, throughput.FULL_SIZE) if args.full else throughput.SIZES
        results["throughput"] = throughput.run(
            sizes=sizes, rounds=args.rounds, evidently_rounds=args.evidently_rounds
        )
        section(
            "1. Profile + drift: throughput and peak memory",
            throughput.render_throughput(results["throughput"]),
        )
        section(
            "2. Side by side on the same 1M-row pair",
            throughput.render_comparison(results["throughput"]),
        )
    if "window" in wanted:
        results["window"] = window_eval.run(rounds=args.rounds)
        section("3. Window evaluation", window_eval.render(results["window"]))
    if "job" in wanted:
        with contextlib.redirect_stderr(io.StringIO()), end_to_end.captured_stdout(io.BytesIO()):
            results["job"] = evaluate_job.run()
        section(
            "3b. The evaluate job, 30 days of hourly batches", evaluate_job.render(results["job"])
        )
    if "coldstart" in wanted:
        try:
            results["coldstart"] = cold_start.run(rounds=args.rounds, rebuild=args.rebuild)
        except cold_start.SkipError as exc:
            section("4-5. Cold start and size", f"skipped: {exc}")
        else:
            section(
                "4. Cold start (Python 3.12, built artifacts)",
                cold_start.render_cold_start(results["coldstart"]),
            )
            section("5. Deployment size", cold_start.render_sizes(results["coldstart"]))
    if "e2e" in wanted:
        with contextlib.redirect_stderr(io.StringIO()):  # the handlers' warnings
            results["e2e"] = end_to_end.run(rounds=args.rounds)
        section("6. End to end on the local runtime", end_to_end.render(results["e2e"]))
    if "cost" in wanted:
        cost = section_cost(results, saved)
        if cost is None:
            section("7. Cost", "skipped: needs the e2e and window sections (now or saved)")
        else:
            results["cost"] = cost
            job = results.get("job") or saved.get("job")
            section("7. Cost per million predictions", render_cost(cost, job=job))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="also 10,000,000 rows")
    parser.add_argument("--rounds", type=int, default=3, help="best of N (default 3)")
    parser.add_argument(
        "--evidently-rounds", type=int, default=1, help="Evidently runs (~80 s each; default 1)"
    )
    parser.add_argument("--only", help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--rebuild", action="store_true", help="sam build again")
    args = parser.parse_args(argv)
    wanted = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")

    harness.RESULTS.mkdir(parents=True, exist_ok=True)
    saved_path = harness.RESULTS / "latest.json"
    saved = json.loads(saved_path.read_text(encoding="utf-8")) if saved_path.exists() else {}
    started = time.perf_counter()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": harness.machine(),
        "command": " ".join(["python benchmarks/run_all.py", *(argv or sys.argv[1:])]),
    }
    out: list[str] = [
        f"# driftline benchmarks, {results['date']}",
        f"{results['machine']['cpus']} cores, Python {results['machine']['python']}, "
        f"{results['machine']['versions']}; `{results['command']}`",
    ]
    print("\n".join(out), flush=True)

    def section(title: str, body: str) -> None:
        text = f"\n## {title}\n\n{body}"
        print(text, flush=True)
        out.append(text)

    run_sections(args, wanted, results, saved, section)
    results["seconds"] = time.perf_counter() - started
    tail = f"\n(whole run: {results['seconds'] / 60:.1f} minutes)"
    print(tail)
    out.append(tail)
    merged = {**saved, **results}
    saved_path.write_text(json.dumps(merged, indent=1, default=str), encoding="utf-8")
    (harness.RESULTS / "latest.md").write_text("\n".join(out) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
