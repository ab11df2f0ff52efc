"""What monitoring costs on AWS, in dollars per million predictions, from measured figures.

Pure arithmetic: :func:`monthly_costs` turns list prices (:class:`Prices`), a workload
(:class:`Workload`: batch size, files per hour, evaluations per day, ...) and what the other
benchmarks measured (:class:`Measured`: handler durations, AWS requests per invocation,
bytes written) into line items per month for one model, and :func:`per_million` divides by
the predictions monitored. :func:`sagemaker_model_monitor` prices the alternative: a
SageMaker Model Monitor schedule running hourly on ``ml.m5.xlarge``.

The prices are us-east-1 list prices (see :data:`PRICES_CHECKED` for what was checked against
what, and when); **verify** the ones only recalled before quoting them. Free tiers are ignored
(they flatter small deployments and expire or are shared with everything else in the account).

>>> prices, workload = Prices(), Workload()
>>> measured = Measured(batch_seconds=2.0, batch_requests={"s3:GetObject": 2})
>>> items = monthly_costs(prices, workload, measured)
>>> round(workload.predictions_per_month / 1e6, 1)
73.0
>>> round(sum(item.dollars for item in items if item.name == "profile_batch: Lambda duration"), 4)
0.0365
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

HOURS_PER_MONTH = 730.0  # AWS bills a month as 730 hours
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
PRICES_CHECKED = (
    "2026-11-25 (Lambda against AWS's pricing page and DynamoDB against the November 2024 cut "
    "again on 2026-12-02; the others as recalled: verify them)"
)


@dataclass(frozen=True)
class Prices:
    """us-east-1 list prices in USD (see :data:`PRICES_CHECKED`)."""

    lambda_gb_second: float = 0.0000166667  # x86_64, first 6 billion GB-s a month
    lambda_request: float = 0.20 / 1e6
    dynamodb_write_unit: float = 0.625 / 1e6  # on-demand write request unit
    dynamodb_read_unit: float = 0.125 / 1e6  # on-demand read request unit
    dynamodb_storage_gb_month: float = 0.25
    s3_put: float = 0.005 / 1000  # PUT, COPY, POST, LIST (S3 Standard)
    s3_get: float = 0.0004 / 1000  # GET, SELECT and HEAD
    s3_storage_gb_month: float = 0.023  # S3 Standard, first 50 TB
    step_functions_transition: float = 0.025 / 1000  # Standard workflows
    sns_publish: float = 0.50 / 1e6
    eventbridge_event: float = 1.00 / 1e6  # custom events put on a bus
    scheduler_invocation: float = 1.00 / 1e6  # EventBridge Scheduler
    cloudwatch_metric_month: float = 0.30  # custom metric, first 10,000, prorated hourly
    cloudwatch_logs_gb: float = 0.50  # ingestion
    sagemaker_ml_m5_xlarge_hour: float = 0.23  # SageMaker Processing (Model Monitor jobs)
    kms_key_month: float = 1.00  # customer managed key
    cloudwatch_alarm_month: float = 0.10  # standard-resolution metric alarm

    def rows(self) -> list[tuple[str, str]]:
        """The prices as (what, price) for the README."""
        return [
            ("Lambda duration, x86_64", f"${self.lambda_gb_second:.10f} per GB-s"),
            ("Lambda requests", f"${self.lambda_request * 1e6:.2f} per million"),
            ("DynamoDB on-demand writes", f"${self.dynamodb_write_unit * 1e6:.3f} per million WRU"),
            ("DynamoDB on-demand reads", f"${self.dynamodb_read_unit * 1e6:.3f} per million RRU"),
            ("DynamoDB storage", f"${self.dynamodb_storage_gb_month:.2f} per GB-month"),
            ("S3 PUT, COPY, POST, LIST", f"${self.s3_put * 1000:.4f} per 1,000"),
            ("S3 GET, HEAD", f"${self.s3_get * 1000:.4f} per 1,000"),
            ("S3 Standard storage", f"${self.s3_storage_gb_month:.3f} per GB-month"),
            (
                "Step Functions Standard",
                f"${self.step_functions_transition * 1000:.3f} per 1,000 state transitions",
            ),
            ("SNS publish", f"${self.sns_publish * 1e6:.2f} per million"),
            ("EventBridge custom events", f"${self.eventbridge_event * 1e6:.2f} per million"),
            ("EventBridge Scheduler", f"${self.scheduler_invocation * 1e6:.2f} per million"),
            (
                "CloudWatch custom metrics (EMF)",
                f"${self.cloudwatch_metric_month:.2f} per metric-month, prorated by the hour",
            ),
            ("CloudWatch Logs ingestion", f"${self.cloudwatch_logs_gb:.2f} per GB"),
            (
                "SageMaker Processing ml.m5.xlarge",
                f"${self.sagemaker_ml_m5_xlarge_hour:.3f} per hour",
            ),
            ("KMS customer managed key", f"${self.kms_key_month:.2f} per month"),
            ("CloudWatch alarm", f"${self.cloudwatch_alarm_month:.2f} per alarm-month"),
        ]


@dataclass(frozen=True)
class Workload:
    """One monitored model's traffic and schedule (the assumptions of the cost model)."""

    batch_rows: int = 100_000  # predictions per inference file
    files_per_hour: float = 1.0
    evaluations_per_day: float = 1.0
    window_days: tuple[int, ...] = (1, 30)  # the windows of each evaluation (P1D, P30D)
    label_files_per_day: float = 1.0
    retention_days: float = 30.0  # how long driftline's kept rows and profiles stay in S3
    retrains_per_month: float = 1.0
    retrain_transitions: int = 12  # state transitions of one retraining execution
    alerting_share: float = 1.0  # share of batches whose quality checks notify (1: all)
    lambda_speed: float = 1.0  # Lambda duration / duration measured on the bench machine

    @property
    def files_per_month(self) -> float:
        return self.files_per_hour * HOURS_PER_MONTH

    @property
    def predictions_per_month(self) -> float:
        return self.files_per_month * self.batch_rows

    @property
    def evaluations_per_month(self) -> float:
        return self.evaluations_per_day * DAYS_PER_MONTH


@dataclass(frozen=True)
class Measured:
    """What the benchmarks measured (seconds on the bench machine, requests counted)."""

    batch_seconds: float  # profile_batch handler, one file of Workload.batch_rows rows
    batch_requests: Mapping[str, int] = field(default_factory=dict)  # "s3:GetObject": 2, ...
    batch_memory_mb: int = 1536  # ProfileBatchMemorySize default
    evaluate_memory_mb: int = 1024  # FunctionMemorySize default
    #: per stored profile in a window, load (JSON + from_dict) and merge, seconds: of an
    #: inference batch, and of a label file's labelled rows (these carry the error slices)
    evaluate_seconds_per_batch_profile: float = 0.02
    evaluate_seconds_per_labelled_profile: float = 0.1
    #: memory per profile while the evaluate job holds a window's profiles, MiB
    evaluate_mib_per_batch_profile: float = 3.0
    evaluate_mib_per_labelled_profile: float = 8.0
    #: per window: evaluate() and the report, seconds
    evaluate_seconds_per_window: float = 0.2
    figures_per_window: int = 112  # metric items stored per window (DynamoDB)
    emf_metrics_per_window: int = 37  # overall figures emitted as CloudWatch metrics
    kept_bytes_per_batch: int = 12 * 2**20  # profiles/<model>/rows/... (label join)
    profile_bytes_per_batch: int = 2 * 2**20  # profiles/<model>/batches/...
    log_bytes_per_invocation: int = 4096  # Logger lines + EMF documents


@dataclass(frozen=True)
class LineItem:
    name: str
    dollars: float  # per month, one model
    basis: str  # how it was computed


def request_price(operation: str, prices: Prices) -> tuple[float, str]:
    """Price of one counted AWS request (``service:Operation``) and its unit.

    DynamoDB requests are priced as one read or write unit each (items under 1 KB for
    writes, 4 KB for strongly consistent reads), a transactional write as 2 items x 2 units.

    >>> request_price("s3:ListObjectsV2", Prices())
    (5e-06, 'S3 PUT/LIST')
    >>> prices = Prices()
    >>> request_price("dynamodb:TransactWriteItems", prices)[0] == 4 * prices.dynamodb_write_unit
    True
    """
    service, _, action = operation.partition(":")
    if service == "s3":
        if action in ("GetObject", "HeadObject"):
            return prices.s3_get, "S3 GET"
        return prices.s3_put, "S3 PUT/LIST"
    if service == "dynamodb":
        if action in ("GetItem", "Query", "Scan", "BatchGetItem"):
            return prices.dynamodb_read_unit, "DynamoDB read"
        if action == "TransactWriteItems":
            return 4 * prices.dynamodb_write_unit, "DynamoDB write"
        return prices.dynamodb_write_unit, "DynamoDB write"
    if service == "sns":
        return prices.sns_publish, "SNS"
    if service == "events":
        return prices.eventbridge_event, "EventBridge"
    if service == "stepfunctions":
        return prices.step_functions_transition, "Step Functions"
    if service == "scheduler":
        return 0.0, "Scheduler API"
    raise ValueError(f"no price for request {operation!r}")


def _lambda_seconds(seconds: float, memory_mb: int, prices: Prices) -> float:
    return seconds * memory_mb / 1024 * prices.lambda_gb_second


def monthly_costs(prices: Prices, workload: Workload, measured: Measured) -> list[LineItem]:
    """Line items per month for one model (``dollars`` each)."""
    files = workload.files_per_month
    items: list[LineItem] = []

    # -- profile_batch: once per inference file -------------------------------------------
    batch_seconds = measured.batch_seconds * workload.lambda_speed
    items.append(
        LineItem(
            "profile_batch: Lambda duration",
            files * _lambda_seconds(batch_seconds, measured.batch_memory_mb, prices),
            f"{files:,.0f} files × {batch_seconds:.2f} s × {measured.batch_memory_mb} MB",
        )
    )
    items.append(
        LineItem("profile_batch: Lambda requests", files * prices.lambda_request, f"{files:,.0f}")
    )
    by_kind: dict[str, float] = {}
    for operation, count in measured.batch_requests.items():
        price, kind = request_price(operation, prices)
        share = workload.alerting_share if kind in ("SNS", "EventBridge") else 1.0
        by_kind[kind] = by_kind.get(kind, 0.0) + files * count * share * price
    for kind, dollars in sorted(by_kind.items()):
        items.append(LineItem(f"profile_batch: {kind} requests", dollars, "counted per file"))

    # -- storage of what driftline writes per file ----------------------------------------
    stored_gb = files * (measured.kept_bytes_per_batch + measured.profile_bytes_per_batch) / 1e9
    retained = stored_gb * workload.retention_days / DAYS_PER_MONTH
    items.append(
        LineItem(
            "S3 storage of kept rows and profiles",
            retained * prices.s3_storage_gb_month,
            f"{stored_gb:,.2f} GB written a month, kept {workload.retention_days:g} days",
        )
    )

    # -- evaluate: once per schedule tick, every window ------------------------------------
    evaluations = workload.evaluations_per_month
    profiles = sum(sum(window_profiles(workload, days)) for days in workload.window_days)
    rolled = rollup_profiles(workload)
    profiles += rolled
    seconds = evaluate_seconds(workload, measured)
    items.append(
        LineItem(
            "evaluate: Lambda duration",
            evaluations * _lambda_seconds(seconds, measured.evaluate_memory_mb, prices),
            f"{evaluations:.1f} evaluations × {seconds:.1f} s "
            f"({profiles:,.0f} stored profiles read, daily roll-ups included) × "
            f"{measured.evaluate_memory_mb} MB",
        )
    )
    lists = sum(2 * (days + 1) for days in workload.window_days)
    figures = measured.figures_per_window * len(workload.window_days)
    evaluate_requests = (
        lists * prices.s3_put  # ListObjectsV2: two prefixes a day of each window
        + profiles * prices.s3_get  # one GET per stored profile
        + 2 * len(workload.window_days) * prices.s3_put  # report PUT (+ HEAD priced as PUT)
        + (rolled > 0) * 2 / workload.evaluations_per_day * prices.s3_put  # new roll-ups
        + figures * prices.dynamodb_write_unit  # one metric item per figure
        + 6 * prices.dynamodb_read_unit  # definition, reference, alert and action states
        + prices.lambda_request
        + prices.scheduler_invocation
    )
    items.append(
        LineItem(
            "evaluate: requests (S3 LIST/GET/PUT, DynamoDB metric items, schedule)",
            evaluations * evaluate_requests,
            f"{lists} LIST, {profiles:,.0f} GET, {figures} metric items per evaluation",
        )
    )
    emf = measured.emf_metrics_per_window * len(workload.window_days)
    metric_hours = (
        emf * min(evaluations, HOURS_PER_MONTH)  # each evaluate metric: the hours it is sent
        + 2 * HOURS_PER_MONTH * min(workload.files_per_hour, 1.0)  # Rows, BadRows per hour
    )
    items.append(
        LineItem(
            "CloudWatch custom metrics (EMF)",
            metric_hours / HOURS_PER_MONTH * prices.cloudwatch_metric_month,
            f"{emf} metrics sent once per evaluation, Rows and BadRows every hour; "
            "billed for the hours they are sent",
        )
    )
    invocations = files + evaluations
    items.append(
        LineItem(
            "CloudWatch Logs ingestion",
            invocations * measured.log_bytes_per_invocation / 1e9 * prices.cloudwatch_logs_gb,
            f"{measured.log_bytes_per_invocation / 1024:.0f} KiB per invocation",
        )
    )
    items.append(
        LineItem(
            "Step Functions: retraining executions",
            workload.retrains_per_month
            * workload.retrain_transitions
            * prices.step_functions_transition,
            f"{workload.retrains_per_month:g} a month × {workload.retrain_transitions} "
            "transitions (the training job itself is not monitoring)",
        )
    )
    return items


def window_profiles(workload: Workload, days: int) -> tuple[float, float]:
    """Stored profiles one window reads: (inference batch profiles, labelled profiles).

    The evaluate job reads each day the window covers entirely through one daily roll-up
    when that day has more than one profile (``driftline.aws.jobs.windows._daily_profile``);
    the window's first day (from the evaluation's hour on) and today (up to it) are read hour
    by hour: 24 hours of batches between them. Labelled profiles count by day, from the first
    day to today.
    """
    hourly = 24 * workload.files_per_hour
    whole_days = max(days - 1, 0)
    batches = whole_days * (1 if hourly > 1 else hourly) + hourly
    labels_per_day = workload.label_files_per_day
    labelled = whole_days * (1 if labels_per_day > 1 else labels_per_day) + 2 * labels_per_day
    return batches, labelled


def rollup_profiles(workload: Workload) -> float:
    """Stored profiles read per evaluation to roll up the day that became whole since the
    last one (once a day, shared by every window), amortised over the day's evaluations."""
    per_day = 24 * workload.files_per_hour * (workload.files_per_hour * 24 > 1)
    per_day += workload.label_files_per_day * (workload.label_files_per_day > 1)
    return per_day / workload.evaluations_per_day


def evaluate_seconds(workload: Workload, measured: Measured) -> float:
    """Seconds one scheduled evaluation (every window) spends merging and evaluating."""
    windows = sum(
        evaluate_window_seconds(workload, measured, days) for days in workload.window_days
    )
    rollups = rollup_profiles(workload) * measured.evaluate_seconds_per_batch_profile
    return windows + workload.lambda_speed * rollups


def evaluate_window_seconds(workload: Workload, measured: Measured, days: int) -> float:
    """Seconds the evaluate job spends on one window of ``days`` days (roll-ups read)."""
    batches, labelled = window_profiles(workload, days)
    return workload.lambda_speed * (
        batches * measured.evaluate_seconds_per_batch_profile
        + labelled * measured.evaluate_seconds_per_labelled_profile
        + measured.evaluate_seconds_per_window
    )


def evaluate_window_mib(workload: Workload, measured: Measured, days: int) -> float:
    """Memory the evaluate job holds for a window's profiles, MiB: it merges as it reads,
    so the window so far and the profile just loaded (whatever the window's length)."""
    del workload, days  # bounded: independent of the traffic and the window
    return 2 * max(
        measured.evaluate_mib_per_batch_profile, measured.evaluate_mib_per_labelled_profile
    )


def per_million(items: Sequence[LineItem], workload: Workload) -> float:
    """Dollars per million predictions monitored."""
    return sum(item.dollars for item in items) / workload.predictions_per_month * 1e6


@dataclass(frozen=True)
class ModelMonitorSchedule:
    """A SageMaker Model Monitor data-quality schedule (one processing job per run)."""

    runs_per_day: float = 24.0  # hourly, the most frequent schedule it offers
    billed_minutes_per_run: float = 10.0  # instance start, container pull, analysis
    instances: int = 1


def sagemaker_model_monitor(
    prices: Prices, schedule: ModelMonitorSchedule | None = None
) -> LineItem:
    """Monthly cost of an hourly Model Monitor schedule on one ml.m5.xlarge, per model.

    Data capture's own S3 writes are the same for both tools and left out of both.

    >>> item = sagemaker_model_monitor(Prices())
    >>> round(item.dollars, 2)
    27.98
    """
    schedule = schedule or ModelMonitorSchedule()
    hours = (
        schedule.runs_per_day
        * DAYS_PER_MONTH
        * schedule.billed_minutes_per_run
        / 60
        * schedule.instances
    )
    return LineItem(
        "SageMaker Model Monitor, hourly, ml.m5.xlarge",
        hours * prices.sagemaker_ml_m5_xlarge_hour,
        f"{schedule.runs_per_day:g} runs a day × {schedule.billed_minutes_per_run:g} billed "
        f"minutes × ${prices.sagemaker_ml_m5_xlarge_hour}/h",
    )


def fixed_per_deployment(prices: Prices, *, alarms: int = 6) -> list[LineItem]:
    """What a deployment costs whatever its traffic (not per model)."""
    return [
        LineItem("KMS customer managed key (alert topic)", prices.kms_key_month, "one key"),
        LineItem(
            "CloudWatch alarms",
            alarms * prices.cloudwatch_alarm_month,
            f"{alarms} alarms (one per function, one on the dead-letter queue)",
        ),
    ]
