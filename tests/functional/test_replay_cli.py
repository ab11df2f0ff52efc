"""`driftline backtest` end to end on generated logs whose accuracy drops at a known time.

Eight UTC days of predictions, 300 a day at random times; from 2026-03-06T00:00Z on, the
model is wrong half the time instead of one time in ten. Labels come in a separate file,
shuffled, joined by id. The oracles are the known drop and the detectors themselves run on
the error stream the test computes on its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftline.cli import main
from driftline.detectors import make_detector

START = pd.Timestamp("2026-03-01T00:00:00Z")
DROP = pd.Timestamp("2026-03-06T00:00:00Z")
DAYS, PER_DAY = 8, 300

DEFINITION = """
model: toy
schema:
  id: request_id
  timestamp: event_time
  task: binary_classification
  prediction: pred
  score: score
  label: outcome
  features: {x: numeric}
  segments: [region]
baseline: {path: baselines/toy/ref.csv}
windows: [P1D, P7D]
checks:
  - {name: accuracy-floor, metric: accuracy, min: 0.8, action: retrain}
  - {name: eu-accuracy-drop, metric: accuracy, segment: {region: eu}, max_relative_drop: 0.1,
     min_labelled_rows: 100}
  - {name: error-ddm, detector: ddm, signal: error}
  - {name: error-adwin, detector: adwin, signal: error, params: {delta: 0.002}}
  - {name: input-drift, drift: dataset}
"""


@dataclass
class Scenario:
    config: Path
    logs: Path
    labels: Path
    reference: Path
    frame: pd.DataFrame  # the logs with their labels, in time order


def scenario(tmp_path: Path, *, drop: bool = True, seed: int = 4) -> Scenario:
    rng = np.random.default_rng(seed)
    n = DAYS * PER_DAY
    offsets = np.sort(rng.random(n)) * DAYS * 86_400.0
    times = START + pd.to_timedelta(np.round(offsets), unit="s")
    outcome = rng.integers(0, 2, n)
    error_rate = np.where((times >= DROP) & drop, 0.5, 0.1)
    wrong = rng.random(n) < error_rate
    pred = np.where(wrong, 1 - outcome, outcome)
    frame = pd.DataFrame(
        {
            "request_id": [f"req-{i:05d}" for i in range(n)],
            "event_time": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x": rng.normal(0.0, 1.0, n),
            "region": rng.choice(["eu", "us"], n),
            "pred": pred,
            "score": np.clip(np.where(pred == 1, 0.75, 0.25) + rng.normal(0, 0.1, n), 0, 1),
            "outcome": outcome,
        }
    )
    config = tmp_path / "toy.yaml"
    config.write_text(DEFINITION, encoding="utf-8")
    logs, labels, reference = tmp_path / "logs.csv", tmp_path / "labels.csv", tmp_path / "ref.csv"
    shuffled = frame.sample(frac=1.0, random_state=seed)  # the reader must sort by time
    shuffled.drop(columns=["outcome"]).to_csv(logs, index=False)
    shuffled[["request_id", "outcome"]].sample(frac=1.0, random_state=1).to_csv(labels, index=False)
    frame[frame["event_time"] < "2026-03-03"].to_csv(reference, index=False)
    return Scenario(config, logs, labels, reference, frame)


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, dict, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else {}), err


def checks_by_name(result: dict) -> dict[str, dict]:
    return {check["name"]: check for check in result["checks"]}


def test_backtest_accuracy_check_fires_in_the_first_window_after_the_drop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN logs and late labels where accuracy drops from 0.9 to 0.5 at DROP
    s = scenario(tmp_path)
    # WHEN backtest replays them
    code, result, _ = run(
        capsys, "backtest", "--config", s.config, "--input", s.logs, "--labels", s.labels
    )
    accuracy = checks_by_name(result)["accuracy-floor"]
    # THEN the definition's first window length (P1D) makes eight UTC days
    windows = accuracy["windows"]
    assert [w["start"] for w in windows] == [f"2026-03-0{day}T00:00:00Z" for day in range(1, 9)]
    # AND each window's value is the accuracy of its rows
    frame = s.frame.assign(day=s.frame["event_time"].str[:10])
    expected = (frame["pred"] == frame["outcome"]).groupby(frame["day"]).mean().tolist()
    assert [w["value"] for w in windows] == pytest.approx(expected)
    assert [w["labelled"] for w in windows] == frame.groupby("day").size().tolist()
    # AND every window before the drop passes, every one from the drop on fails
    assert [w["status"] for w in windows] == ["pass"] * 5 + ["fail"] * 3
    assert accuracy["fired"][0]["start"] == "2026-03-06T00:00:00Z"
    assert accuracy["fired"][0]["end"] == "2026-03-07T00:00:00Z"
    assert code == 1
    # AND the labels were all joined, and drift checks are listed as not replayed
    assert result["labels"]["joined"] == DAYS * PER_DAY
    assert result["labels"]["unmatched_labels"] == 0
    assert result["rows"] == {"logs": DAYS * PER_DAY, "labelled": DAYS * PER_DAY, "rejected": 0}
    assert [c["name"] for c in result["not_replayed"]] == ["input-drift"]


@pytest.mark.parametrize("name", ["error-ddm", "error-adwin"])
def test_backtest_error_detector_fires_after_the_drop_and_not_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    s = scenario(tmp_path)
    # GIVEN the error stream the test computes itself, in time order
    errors = (s.frame["pred"] != s.frame["outcome"]).astype(int).tolist()
    detector = make_detector(*(("ddm",) if name == "error-ddm" else ("adwin",)))
    expected = [i for i, e in enumerate(errors) if detector.update(e).drift_detected]
    # WHEN backtest replays the logs
    _, result, _ = run(
        capsys, "backtest", "--config", s.config, "--input", s.logs, "--labels", s.labels
    )
    check = checks_by_name(result)[name]
    # THEN the check fired exactly where the detector fires on that stream
    assert [f["index"] for f in check["fired"]] == expected
    assert check["rows"] == len(errors)
    # AND only after the drop, with the time and id of the row that tipped it
    assert check["fired"], f"{name} missed a drop from 10 % to 50 % errors"
    first = check["fired"][0]
    assert pd.Timestamp(first["timestamp"]) >= DROP
    row = s.frame.iloc[first["index"]]
    assert (first["id"], first["timestamp"]) == (row["request_id"], row["event_time"])


def test_backtest_relative_check_uses_the_reference_and_its_segment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario(tmp_path)
    reference = pd.read_csv(s.reference)
    eu = reference[reference["region"] == "eu"]
    baseline = float((eu["pred"] == eu["outcome"]).mean())
    # WHEN backtest replays with a reference file
    code, result, _ = run(
        capsys,
        "backtest",
        "--config",
        s.config,
        "--input",
        s.logs,
        "--labels",
        s.labels,
        "--reference",
        s.reference,
    )
    check = checks_by_name(result)["eu-accuracy-drop"]
    # THEN the baseline is the segment's accuracy on the reference
    assert check["baseline"] == pytest.approx(baseline)
    assert check["segment"] == "region=eu"
    # AND each window holds the segment's rows only, and fails once 10 % below the baseline
    eu_rows = s.frame[s.frame["region"] == "eu"].groupby(s.frame["event_time"].str[:10]).size()
    assert [w["rows"] for w in check["windows"]] == eu_rows.tolist()
    assert [w["status"] for w in check["windows"]] == ["pass"] * 5 + ["fail"] * 3
    assert check["fired"][0]["threshold"] == pytest.approx(0.9 * baseline)
    assert code == 1


def test_backtest_without_reference_skips_relative_checks_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario(tmp_path)
    _, result, _ = run(
        capsys, "backtest", "--config", s.config, "--input", s.logs, "--labels", s.labels
    )
    check = checks_by_name(result)["eu-accuracy-drop"]
    assert {w["status"] for w in check["windows"]} == {"skip"}
    assert "no baseline value" in check["windows"][0]["detail"]
    assert check["fired"] == []


def test_backtest_skips_windows_with_too_few_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN labels only for the first 20 rows of each day from day 4 on
    s = scenario(tmp_path)
    labels = pd.read_csv(s.labels)
    keep = s.frame.groupby(s.frame["event_time"].str[:10]).head(20)
    keep = keep[keep["event_time"] >= "2026-03-04"]
    labels[labels["request_id"].isin(keep["request_id"])].to_csv(s.labels, index=False)
    # WHEN backtest replays them
    code, result, _ = run(
        capsys, "backtest", "--config", s.config, "--input", s.logs, "--labels", s.labels
    )
    windows = checks_by_name(result)["accuracy-floor"]["windows"]
    # THEN days without labels and days with 20 (< min_labelled_rows 30) are skipped
    assert [w["labelled"] for w in windows] == [0, 0, 0, 20, 20, 20, 20, 20]
    assert {w["status"] for w in windows} == {"skip"}
    rows = windows[4]["rows"]
    assert windows[4]["detail"] == (
        f"accuracy: 20 labelled rows of {rows}, fewer than min_labelled_rows 30"
    )
    assert result["rows"]["labelled"] == 100
    assert result["labels"]["coverage"] == pytest.approx(100 / (DAYS * PER_DAY))
    assert code == (1 if result["first_fired"] else 0)


def test_backtest_inline_labels_give_the_same_result_as_a_label_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario(tmp_path)
    _, joined, _ = run(
        capsys, "backtest", "--config", s.config, "--input", s.logs, "--labels", s.labels
    )
    inline = tmp_path / "inline.jsonl"
    s.frame.sample(frac=1.0, random_state=9).to_json(inline, orient="records", lines=True)
    _, direct, _ = run(capsys, "backtest", "--config", s.config, "--input", inline)
    assert direct["checks"] == joined["checks"]
    assert direct["labels"] is None


def test_backtest_stable_model_fires_nothing_and_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario(tmp_path, drop=False)
    code, result, _ = run(
        capsys, "backtest", "--config", s.config, "--input", s.logs, "--labels", s.labels
    )
    assert result["first_fired"] is None
    assert all(check["fired"] == [] for check in result["checks"])
    assert code == 0


def test_backtest_first_fired_is_the_earliest_detection_or_window_end(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario(tmp_path)
    _, result, _ = run(
        capsys, "backtest", "--config", s.config, "--input", s.logs, "--labels", s.labels
    )
    moments = {}
    for check in result["checks"]:
        for fired in check["fired"]:
            at = fired.get("timestamp") or fired["end"]
            moments.setdefault(check["name"], at)
    earliest = min(moments.items(), key=lambda item: pd.Timestamp(item[1]))
    assert result["first_fired"]["check"] == earliest[0]
    assert pd.Timestamp(result["first_fired"]["at"]) == pd.Timestamp(earliest[1])


def test_backtest_bad_inputs_exit_two_naming_file_row_or_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s = scenario(tmp_path)
    frame = pd.read_csv(s.logs)
    broken = tmp_path / "broken.csv"
    frame.assign(event_time=frame["event_time"].where(frame.index != 7, "yesterday")).to_csv(
        broken, index=False
    )
    no_time = tmp_path / "no_time.yaml"
    no_time.write_text(DEFINITION.replace("  timestamp: event_time\n", ""), encoding="utf-8")
    bad_param = tmp_path / "bad_param.yaml"
    bad_param.write_text(DEFINITION.replace("{delta: 0.002}", "{delta: 2.0}"), encoding="utf-8")
    cases: list[tuple[list[object], list[str]]] = [
        (["--config", s.config, "--input", broken], ["broken.csv", "row 7", "(got text)"]),
        (["--config", no_time, "--input", s.logs], ["schema.timestamp"]),
        (["--config", bad_param, "--input", s.logs, "--labels", s.labels], ["checks[3].params"]),
        (["--config", s.config, "--input", s.logs], ["no labelled rows", "'outcome'"]),
    ]
    for args, needles in cases:
        code, result, err = run(capsys, "backtest", *args)
        assert (code, result) == (2, {}), args
        for needle in needles:
            assert needle in err, (needle, err)
        assert "yesterday" not in err  # the bad value is never quoted


REGRESSION = """
model: demand
schema:
  timestamp: ts
  task: regression
  prediction: forecast
  label: demand
  features: {temperature: numeric}
baseline: {path: baselines/demand/ref.parquet}
windows: [PT6H]
checks:
  - {name: mae-ceiling, metric: mae, max: 1.5}
  - {name: abs-error-adwin, detector: adwin, signal: error}
  - {name: temperature-ph, detector: page_hinkley, signal: temperature,
     params: {threshold: 100.0, min_instances: 50}}
"""


def test_backtest_regression_feeds_absolute_errors_and_named_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN two days of epoch-second timestamps, one row a minute, in Parquet; from noon of
    # day two the forecast is off by 3 instead of 1 and the temperature rises by 2 degrees
    rng = np.random.default_rng(8)
    n = 2 * 24 * 60
    ts = 1_772_323_200 + 60 * np.arange(n)  # 2026-03-01T00:00:00Z
    late = np.arange(n) >= 36 * 60
    demand = rng.normal(100.0, 5.0, n)
    frame = pd.DataFrame(
        {
            "ts": ts,
            "temperature": rng.normal(np.where(late, 22.0, 20.0), 1.0),
            "demand": demand,
            "forecast": demand + rng.normal(0.0, 1.0, n) * np.where(late, 3.0, 1.0),
        }
    )
    frame.loc[::97, "temperature"] = np.nan  # the sensor misses a reading now and then
    logs, config = tmp_path / "logs.parquet", tmp_path / "demand.yaml"
    frame.to_parquet(logs)
    config.write_text(REGRESSION, encoding="utf-8")
    # WHEN backtest replays them
    code, result, _ = run(capsys, "backtest", "--config", config, "--input", logs)
    checks = checks_by_name(result)
    # THEN ADWIN read the absolute errors, exactly as the test computes them
    adwin = make_detector("adwin")
    errors = np.abs(frame["demand"] - frame["forecast"]).tolist()
    expected = [i for i, e in enumerate(errors) if adwin.update(e).drift_detected]
    assert [f["index"] for f in checks["abs-error-adwin"]["fired"]] == expected
    assert expected and all(i >= 36 * 60 for i in expected)
    # AND Page-Hinkley read the temperature column, leaving out (and counting) missing values
    ph = make_detector("page_hinkley", threshold=100.0, min_instances=50)
    present = frame[frame["temperature"].notna()]
    found = [i for i, t in enumerate(present["temperature"]) if ph.update(t).drift_detected]
    temperature = checks["temperature-ph"]
    assert [f["index"] for f in temperature["fired"]] == found
    assert found and present.index[found[0]] >= 36 * 60
    assert (temperature["rows"], temperature["rows_without_signal"]) == (len(present), 30)
    assert checks["abs-error-adwin"]["rows_without_signal"] == 0
    # AND the MAE check ran on eight 6-hour windows, failing from 12:00 on day two
    windows = checks["mae-ceiling"]["windows"]
    assert windows[0]["start"] == "2026-03-01T00:00:00Z"
    assert windows[6]["start"] == "2026-03-02T12:00:00Z"
    assert [w["status"] for w in windows] == ["pass"] * 6 + ["fail"] * 2
    assert windows[6]["value"] == pytest.approx(np.mean(errors[36 * 60 : 42 * 60]))
    assert code == 1


def test_backtest_lists_an_estimated_check_as_not_replayed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the scenario's definition with an AUC check decided on the estimate
    s = scenario(tmp_path)
    s.config.write_text(
        DEFINITION + "  - {name: auc-est, metric: auc, estimated: true, min: 0.8}\n",
        encoding="utf-8",
    )
    # WHEN backtest replays the logs
    code, result, _ = run(
        capsys, "backtest", "--config", s.config, "--input", s.logs, "--labels", s.labels
    )
    # THEN the estimated check is not replayed as a measured one, and says why
    assert "auc-est" not in checks_by_name(result)
    assert [(c["name"], c["kind"]) for c in result["not_replayed"]] == [
        ("input-drift", "drift"),
        ("auc-est", "estimated"),
    ]
    assert "decided on the estimate made before labels" in result["not_replayed"][1]["reason"]
    assert code == 1  # the measured accuracy check still fires after the drop


def test_backtest_lists_a_coverage_check_of_the_estimate_as_not_replayed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a definition that also checks the running coverage of the estimate
    s = scenario(tmp_path)
    s.config.write_text(
        DEFINITION + "  - {name: estimate-coverage, metric: estimate_coverage, min: 0.8}\n",
        encoding="utf-8",
    )
    # WHEN backtest replays the logs
    _, result, _ = run(
        capsys, "backtest", "--config", s.config, "--input", s.logs, "--labels", s.labels
    )
    # THEN the other checks are replayed and the coverage check is listed with why it is not
    assert "estimate-coverage" not in checks_by_name(result)
    assert "accuracy-floor" in checks_by_name(result)
    assert result["not_replayed"][-1] == {
        "name": "estimate-coverage",
        "kind": "metric",
        "reason": "reads the estimate's reconciliations that scheduled evaluations store; a "
        "backtest makes no estimate",
    }
