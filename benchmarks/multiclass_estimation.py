"""Multiclass estimated performance against NannyML's CBPE and against the held-back labels.

On NannyML's shipped multiclass data set (``mc_reference.csv``, ``mc_analysis.csv`` and its
labels ``mc_analysis_gt.csv``, read straight from the nannyml 0.13.1 wheel in
``benchmarks/data/packages/``, nothing installed: three credit-card products, 60,000 rows
each side), the baseline is built from the reference through driftline's own path
(``build_reference`` with a monitor definition naming ``schema.class_scores``), which fits
a calibrator per class and measures the model-error terms. The analysis rows are cut into
consecutive chunks (1,000 and 6,000 rows, NannyML's dropping the incomplete last one) and
each chunk is estimated from its class score cells as an evaluation does
(``EstimatedPerformance.of_classes``), its labels hidden; the labels give the realised
metrics (scikit-learn: accuracy, macro precision, recall and F1, one-vs-rest macro ROC AUC
on the raw scores).

With NannyML's environment (``/tmp/nannyml-venv``, not created here) NannyML's multiclass
CBPE runs on the same chunks (``multiclass_peers_runner.py``) and the table gives, per chunk
size and metric, the largest and mean difference of its estimates from driftline's. Two
differences of method are measured apart, by a row-level computation here (not driftline's
code): NannyML's choice of which classes to calibrate (its random splits may decline a class
driftline calibrates), and NannyML's renormalising of each row's calibrated probabilities to
add up to 1, which per-class cells cannot do (docs/performance.md). ``nannyml's choices``
applies NannyML's choices to driftline's method; ``+ rows renormalised`` adds the
renormalising, which is NannyML's method (its remaining difference is the isotonic fits and
the AUC's tie order).

    python benchmarks/multiclass_estimation.py                # ~1 min
    python benchmarks/multiclass_estimation.py --no-nannyml
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import alert_data
import harness
import numpy as np
import pandas as pd
import sklearn.metrics as sk
from alert_quality import peer_python

from driftline.config import load_monitor_definition
from driftline.estimation.calibration import Calibrator, IdentityCalibrator, fit_isotonic
from driftline.estimation.columns import ClassEstimationColumns, class_score_cells_of
from driftline.estimation.performance import EstimatedPerformance, ScopeCells
from driftline.evaluation import estimation_columns, profile_spec
from driftline.profile.dataset import build_reference

SIZES = (1_000, 6_000)
#: NannyML's class order (it sorts the classes) and its metric names to driftline's.
CLASSES = ("highstreet_card", "prepaid_card", "upmarket_card")
PEER_METRICS = {
    "accuracy": "accuracy",
    "precision": "precision_macro",
    "recall": "recall_macro",
    "f1": "f1_macro",
    "roc_auc": "auc_macro",
}
SCORES = {label: f"y_pred_proba_{label}" for label in CLASSES}
#: The two steps from driftline's method to NannyML's, computed row by row here.
CHOICES = "nannyml's choices"
RENORMALISED = " + rows renormalised"


def load(packages: Path = alert_data.PACKAGES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference rows and the analysis rows with their labels joined on ``id``."""

    def read(name: str) -> pd.DataFrame:
        data = alert_data.read_member("nannyml", f"datasets/data/{name}", packages)
        return pd.read_csv(io.BytesIO(data))

    analysis = read("mc_analysis.csv").merge(
        read("mc_analysis_gt.csv"), on="id", how="left", validate="one_to_one"
    )
    return read("mc_reference.csv"), analysis


def definition() -> Any:
    """The monitor definition a user would write for the model."""
    return load_monitor_definition(
        json.dumps(
            {
                "model": "cbpe-multiclass",
                "schema": {
                    "task": "multiclass_classification",
                    "prediction": "y_pred",
                    "label": "y_true",
                    "class_scores": SCORES,
                    "features": {"app_behavioral_score": "numeric", "app_channel": "categorical"},
                },
                "baseline": {"path": "reference.csv"},
            }
        )
    )


def realised(frame: pd.DataFrame) -> dict[str, float]:
    """The metrics the held-back labels give."""
    truth, guess = frame["y_true"].to_numpy(), frame["y_pred"].to_numpy()
    macro = {"average": "macro", "labels": list(CLASSES), "zero_division": 0}
    return {
        "accuracy": sk.accuracy_score(truth, guess),
        "precision_macro": sk.precision_score(truth, guess, **macro),
        "recall_macro": sk.recall_score(truth, guess, **macro),
        "f1_macro": sk.f1_score(truth, guess, **macro),
        "auc_macro": sk.roc_auc_score(
            truth,
            frame[list(SCORES.values())].to_numpy(),
            multi_class="ovr",
            average="macro",
            labels=list(CLASSES),
        ),
    }


def row_level(
    frame: pd.DataFrame, calibrators: Sequence[Calibrator], *, renormalise: bool
) -> dict[str, float]:
    """The metrics NannyML's method gives, computed row by row: each class's calibrated
    probability, each row's divided by their sum when ``renormalise``; the expected
    one-vs-rest counts per class; ROC AUC with each row a positive of weight ``p`` and a
    negative of weight ``1 - p`` on the raw score (ties half)."""
    raw = frame[list(SCORES.values())].to_numpy()
    calibrated = np.column_stack([c.apply(raw[:, k]) for k, c in enumerate(calibrators)])
    if renormalise:
        sums = calibrated.sum(axis=1, keepdims=True)
        calibrated = np.divide(
            calibrated, sums, out=np.full_like(calibrated, 1 / 3), where=sums != 0
        )
    predicted = frame["y_pred"].map({label: k for k, label in enumerate(CLASSES)}).to_numpy()
    rows = len(frame)
    values: dict[str, list[float]] = {"precision": [], "recall": [], "f1": [], "auc": []}
    for k in range(len(CLASSES)):
        chosen, p = predicted == k, calibrated[:, k]
        tp, fp, fn = p[chosen].sum(), (1 - p[chosen]).sum(), p[~chosen].sum()
        values["precision"].append(tp / (tp + fp) if tp + fp else 0.0)
        values["recall"].append(tp / (tp + fn) if tp + fn else 0.0)
        values["f1"].append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
        labels = np.r_[np.ones(rows), np.zeros(rows)]
        values["auc"].append(
            sk.roc_auc_score(labels, np.r_[raw[:, k], raw[:, k]], sample_weight=np.r_[p, 1 - p])
        )
    right = calibrated[np.arange(rows), predicted]
    return {"accuracy": float(right.mean())} | {
        f"{name}_macro": float(np.mean(figures)) for name, figures in values.items()
    }


def run_nannyml(python: Path, reference: pd.DataFrame, analysis: pd.DataFrame) -> dict[str, Any]:
    """NannyML's multiclass CBPE on the analysis rows, per chunk size."""
    columns = [*SCORES.values(), "y_pred", "y_true"]
    with tempfile.TemporaryDirectory(prefix="multiclass-estimation-") as folder:
        base = Path(folder)
        reference[columns].to_parquet(base / "reference.parquet")
        analysis[columns].to_parquet(base / "analysis.parquet")
        manifest = {
            "class_scores": SCORES,
            "prediction": "y_pred",
            "label": "y_true",
            "metrics": list(PEER_METRICS),
            "reference": str(base / "reference.parquet"),
            "analysis": str(base / "analysis.parquet"),
            "sizes": list(SIZES),
        }
        (base / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        env["NML_DISABLE_USAGE_LOGGING"] = "1"
        runner = harness.HERE / "multiclass_peers_runner.py"
        return harness.run_child(
            [str(python), str(runner), str(base / "manifest.json")], env=env, timeout=3600
        )


def run(*, use_nannyml: bool = True) -> dict[str, Any]:
    reference, analysis = load()
    spec_definition = definition()
    started = time.perf_counter()
    built = build_reference(lambda: [reference], profile_spec(spec_definition))
    seconds = time.perf_counter() - started
    calibration = built.class_calibration
    columns = estimation_columns(spec_definition)
    assert calibration is not None and isinstance(columns, ClassEstimationColumns)
    peer: dict[str, Any] | None = None
    note = "not run (--no-nannyml)"
    if use_nannyml:
        python, note = peer_python("nannyml", install=False)
        if python is not None:
            peer = run_nannyml(python, reference, analysis)
            note = peer["version"]
    variants: dict[str, list[Calibrator]] = {}
    if peer is not None:
        chosen = [
            fit_isotonic(reference[SCORES[label]], reference["y_true"] == label)
            if peer["calibrated"][label]
            else IdentityCalibrator()
            for label in CLASSES
        ]
        variants = {CHOICES: chosen}
    sizes: dict[str, Any] = {}
    for size in SIZES:
        chunks = []
        for start in range(0, len(analysis) - size + 1, size):
            frame = analysis.iloc[start : start + size]
            cells = class_score_cells_of(frame, columns)
            estimate = EstimatedPerformance.of_classes(calibration, ScopeCells(size, cells), {})
            chunk: dict[str, Any] = {
                "start": start,
                "driftline": estimate.to_dict()["overall"],
                "realised": realised(frame),
            }
            for name, calibrators in variants.items():
                chunk[name] = row_level(frame, calibrators, renormalise=False)
                chunk[name + RENORMALISED] = row_level(frame, calibrators, renormalise=True)
            chunks.append(chunk)
        sizes[str(size)] = chunks
    return {
        "setup": {
            "rows": {"reference": len(reference), "analysis": len(analysis)},
            "baseline_seconds": round(seconds, 2),
            "calibrators": {
                str(label): fitted.decision.reason if fitted.decision else None
                for label, fitted in zip(calibration.classes, calibration.per_class, strict=True)
            },
            "nannyml": note,
            "nannyml_calibrates": (peer or {}).get("calibrated"),
        },
        "sizes": sizes,
        "nannyml": (peer or {}).get("sizes"),
    }


def summarise(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per chunk size and metric: driftline's coverage and error against the labels,
    NannyML's likewise, and the differences of the estimates."""
    rows = []
    for size, chunks in result["sizes"].items():
        peer = {chunk["start"]: chunk for chunk in (result["nannyml"] or {}).get(size, [])}
        for peer_name, name in PEER_METRICS.items():
            ours = [chunk["driftline"][name] for chunk in chunks]
            real = np.array([chunk["realised"][name] for chunk in chunks])
            value = np.array([figure["value"] for figure in ours])
            inside = [f["lower"] <= r <= f["upper"] for f, r in zip(ours, real, strict=True)]
            half = len(chunks) // 2
            row: dict[str, Any] = {
                "size": int(size),
                "metric": name,
                "chunks": len(chunks),
                "coverage": float(np.mean(inside)),
                "coverage_halves": (float(np.mean(inside[:half])), float(np.mean(inside[half:]))),
                "width": float(np.mean([f["upper"] - f["lower"] for f in ours])),
                "error": float(np.mean(np.abs(value - real))),
            }
            if peer:
                theirs = [peer[chunk["start"]][peer_name] for chunk in chunks]
                estimate = np.array([figure["value"] for figure in theirs])
                row["nannyml_error"] = float(np.mean(np.abs(estimate - real)))
                row["nannyml_coverage"] = float(
                    np.mean(
                        [f["lower"] <= r <= f["upper"] for f, r in zip(theirs, real, strict=True)]
                    )
                )
                row["difference_max"] = float(np.max(np.abs(value - estimate)))
                row["difference_mean"] = float(np.mean(np.abs(value - estimate)))
                for variant in (CHOICES, CHOICES + RENORMALISED):
                    mine = np.array([chunk[variant][name] for chunk in chunks])
                    row[f"{variant} max"] = float(np.max(np.abs(mine - estimate)))
            rows.append(row)
    return rows


def render(result: Mapping[str, Any]) -> str:
    setup = result["setup"]
    lines = [
        f"NannyML multiclass synthetic data: {setup['rows']['reference']:,} reference rows "
        f"(baseline built in {setup['baseline_seconds']} s), {setup['rows']['analysis']:,} "
        f"analysis rows; driftline's calibration per class: {setup['calibrators']}; "
        f"{setup['nannyml']} calibrates: {setup['nannyml_calibrates']}.",
        "",
        "| chunk rows | metric | chunks | driftline inside 95% interval (1st / 2nd half) | "
        "mean width | "
        "mean abs error | NannyML inside its band | NannyML mean abs error | "
        "max abs diff from NannyML | mean abs diff | with NannyML's calibration choices | "
        "+ rows renormalised |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def figure(row: Mapping[str, Any], key: str, digits: int = 4) -> str:
        return f"{row[key]:.{digits}f}" if key in row else "–"

    for row in summarise(result):
        lines.append(
            f"| {row['size']:,} | {row['metric']} | {row['chunks']} | {row['coverage']:.0%} "
            f"({row['coverage_halves'][0]:.0%} / {row['coverage_halves'][1]:.0%}) | "
            f"{figure(row, 'width')} | {figure(row, 'error')} | "
            + (f"{row['nannyml_coverage']:.0%}" if "nannyml_coverage" in row else "–")
            + f" | {figure(row, 'nannyml_error')} | {figure(row, 'difference_max')} | "
            f"{figure(row, 'difference_mean')} | {figure(row, CHOICES + ' max', 6)} | "
            f"{figure(row, CHOICES + RENORMALISED + ' max', 6)} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-nannyml", action="store_true", help="driftline alone")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args(argv)
    result = run(use_nannyml=not args.no_nannyml)
    if args.json:
        args.json.write_text(json.dumps(result), encoding="utf-8")
    print(render(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
