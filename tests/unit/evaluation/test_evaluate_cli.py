"""`driftline evaluate` end to end on files: result JSON, exit codes, messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftline.cli import main

ROOT = Path(__file__).resolve().parents[3]
CHURN = ROOT / "examples" / "churn"

DEFINITION = """
model: toy
schema:
  id: id
  task: binary_classification
  prediction: pred
  score: score
  label: label
  features: {x: numeric, c: categorical}
  segments: [seg]
baseline: {path: baselines/toy/ref.csv}
drift: {method: auto, dataset_drift_share: 0.5}
checks:
  - {name: input-drift, drift: dataset, action: notify}
  - {name: x-drift, drift: x, segment: {seg: b}}
  - {name: x-missing, quality: missing_share, feature: x, max: 0.1, action: retrain}
  - {name: accuracy-floor, metric: accuracy, min: 0.85, action: retrain}
"""


def write_pair(tmp_path: Path, *, shift: float, missing: float = 0.0) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(7)

    def frame(rows: int, offset: float) -> pd.DataFrame:
        x = rng.normal(offset, 1.0, rows)
        x[rng.random(rows) < missing * (offset != 0)] = np.nan
        score = rng.random(rows)
        predicted = (score > 0.5).astype(int)
        # The model is right on about 92% of rows: the accuracy floor of 0.85 passes.
        label = np.where(rng.random(rows) < 0.92, predicted, 1 - predicted)
        return pd.DataFrame(
            {
                "id": np.arange(rows),
                "x": x,
                "c": rng.choice(["u", "v", "w"], rows, p=[0.5, 0.3, 0.2]),
                "seg": rng.choice(["a", "b"], rows),
                "score": score,
                "pred": predicted,
                "label": label,
            }
        )

    config = tmp_path / "toy.yaml"
    config.write_text(DEFINITION, encoding="utf-8")
    reference, current = tmp_path / "ref.csv", tmp_path / "cur.csv"
    frame(3000, 0.0).to_csv(reference, index=False)
    frame(2000, shift).to_csv(current, index=False)
    return config, reference, current


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_evaluate_stable_data_exits_zero_with_result_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, reference, current = write_pair(tmp_path, shift=0.0)
    output = tmp_path / "result.json"
    code, out, _ = run(
        capsys,
        "evaluate",
        "--config",
        config,
        "--reference",
        reference,
        "--current",
        current,
        "--output",
        output,
    )
    result = json.loads(out)
    assert code == 0, out
    assert result == json.loads(output.read_text(encoding="utf-8"))
    assert result["model"] == "toy"
    assert result["rows"] == {"reference": 3000, "current": 2000}
    assert result["drift"]["dataset_drifted"] is False
    assert set(result["drift"]["features"]) == {"x", "c"}
    assert result["status"] == "ok"
    statuses = {check["name"]: check["status"] for check in result["checks"]}
    assert statuses == {
        "input-drift": "pass",
        "x-drift": "pass",
        "x-missing": "pass",
        "accuracy-floor": "pass",
        "schema-columns": "pass",  # built in: every monitored column is in the data
        "scores-in-range": "pass",  # built in: every score is in [0, 1]
    }


def test_evaluate_shifted_data_fails_checks_and_exits_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, reference, current = write_pair(tmp_path, shift=1.0, missing=0.2)
    code, out, _ = run(
        capsys, "evaluate", "--config", config, "--reference", reference, "--current", current
    )
    result = json.loads(out)
    assert code == 1
    assert result["drift"]["features"]["x"]["drifted"] is True
    assert result["drift"]["segments"]["seg=b"]["features"]["x"]["drifted"] is True
    checks = {check["name"]: check for check in result["checks"]}
    assert checks["x-drift"]["status"] == "fail"
    assert checks["x-drift"]["segment"] == "seg=b"
    assert checks["x-missing"]["status"] == "fail"
    assert checks["x-missing"]["value"] == pytest.approx(0.2, abs=0.03)
    assert result["status"] == "critical"


def test_evaluate_is_reproducible_to_the_last_digit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the same reference and current files, evaluated twice
    config, reference, current = write_pair(tmp_path, shift=0.3)
    args = ("evaluate", "--config", config, "--reference", reference, "--current", current)
    first = json.loads(run(capsys, *args)[1])
    second = json.loads(run(capsys, *args)[1])
    # THEN the results are identical, KS and Wasserstein included (exact samples, and a
    # deterministic sketch past 100,000 values: docs/profiles.md)
    assert first == second
    assert '"method": "ks"' in json.dumps(first) or '"method": "wasserstein"' in json.dumps(first)


def test_evaluate_text_format_on_shipped_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "evaluate",
        "--config",
        CHURN / "monitor.yaml",
        "--reference",
        CHURN / "reference.csv",
        "--current",
        CHURN / "current.csv",
        "--format",
        "text",
    )
    assert code == 1
    # The shipped current data drifted and the model's accuracy fell below its floor: the
    # retrain action makes the status critical.
    assert "model churn: status CRITICAL" in out
    assert "FAIL accuracy-floor: accuracy is 0.8217, below the minimum 0.85" in out
    assert "actions: retrain (accuracy-floor)" in out
    assert "FAIL new-regions" in out
    assert "FAIL charges-drift" in out
    assert "FAIL tenure-missing" in out


def test_bad_config_exits_two_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, reference, current = write_pair(tmp_path, shift=0.0)
    config.write_text(DEFINITION.replace("metric: accuracy", "metric: acuracy"), encoding="utf-8")
    code, out, err = run(
        capsys, "evaluate", "--config", config, "--reference", reference, "--current", current
    )
    assert code == 2 and out == ""
    assert "checks[3].metric: unknown metric 'acuracy'" in err
    assert "Traceback" not in err


def test_missing_file_exits_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, reference, _ = write_pair(tmp_path, shift=0.0)
    code, _, err = run(
        capsys,
        "evaluate",
        "--config",
        config,
        "--reference",
        reference,
        "--current",
        tmp_path / "nope.csv",
    )
    assert code == 2
    assert "nope.csv" in err


def test_unreadable_current_file_exits_two_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, reference, _ = write_pair(tmp_path, shift=0.0)
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"x,c\n\xff\xfe\xfd,1\n")
    code, _, err = run(
        capsys, "evaluate", "--config", config, "--reference", reference, "--current", broken
    )
    assert code == 2
    assert "broken.csv" in err


def test_validate_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, _, _ = write_pair(tmp_path, shift=0.0)
    code, out, _ = run(capsys, "validate", "--config", config)
    assert code == 0 and "valid monitor definition for model 'toy'" in out


def test_renamed_feature_is_reported_absent_and_the_new_name_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a current file where feature x was renamed to x_v2
    config, reference, current = write_pair(tmp_path, shift=0.0)
    renamed = tmp_path / "renamed.csv"
    pd.read_csv(current).rename(columns={"x": "x_v2"}).to_csv(renamed, index=False)
    code, out, _ = run(
        capsys, "evaluate", "--config", config, "--reference", reference, "--current", renamed
    )
    result = json.loads(out)
    dataset = result["data_quality"]["_dataset"]
    # THEN nothing is silently lost: x is absent (all missing, check fails), x_v2 is unknown
    assert dataset["absent_columns"] == ["x"]
    assert dataset["unknown_columns"] == ["x_v2"]
    assert result["data_quality"]["x"]["missing_share"] == 1.0
    assert result["drift"]["features"]["x"] == {
        "drifted": False,
        "skipped": "absent from the current data",
    }
    checks = {check["name"]: check for check in result["checks"]}
    assert checks["x-missing"]["status"] == "fail"
    # ... and the built-in schema-columns check fails, naming the column
    assert checks["schema-columns"]["status"] == "fail"
    assert checks["schema-columns"]["value"] == 1.0
    assert "(absent from the data: x)" in checks["schema-columns"]["detail"]
    # ... and the dataset drift share says it is over the features evaluated, naming x
    assert result["drift"]["features_evaluated"] == 1
    assert result["drift"]["features_skipped"] == ["x"]
    assert "0 of 1 features drifted" in checks["input-drift"]["detail"]
    assert "not evaluated: x" in checks["input-drift"]["detail"]
    assert code == 1


# -- bad input is an error naming the file, never a traceback nor a silent pass ---------------


@pytest.mark.parametrize("content", ["", "id,x,c,seg,score,pred,label\n"], ids=["0-byte", "header"])
def test_an_empty_reference_names_its_file_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    config, _, current = write_pair(tmp_path, shift=0.0)
    empty = tmp_path / "empty-reference.csv"
    empty.write_text(content, encoding="utf-8")
    code, out, err = run(
        capsys, "evaluate", "--config", config, "--reference", empty, "--current", current
    )
    assert code == 2 and out == ""
    assert err.count("empty-reference.csv") == 1, err


@pytest.mark.parametrize("value", ["0", "-5", "many"])
def test_a_chunk_rows_below_one_is_refused_by_the_parser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    config, reference, current = write_pair(tmp_path, shift=0.0)
    args = ["--config", config, "--reference", reference, "--current", current]
    with pytest.raises(SystemExit) as caught:
        main(["evaluate", *map(str, args), "--chunk-rows", value])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --chunk-rows: expected an integer >= 1, got '{value}'" in err
    assert "Traceback" not in err


def test_a_header_only_current_file_is_an_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN one good current file and one with a header only
    config, reference, current = write_pair(tmp_path, shift=0.0)
    header_only = tmp_path / "header-only.csv"
    header_only.write_text(current.read_text(encoding="utf-8").splitlines()[0] + "\n")
    for currents in ([header_only], [current, header_only]):
        # WHEN evaluated THEN bad input (exit 2), naming the file, not a status ok of 0 rows
        code, out, err = run(
            capsys, "evaluate", "--config", config, "--reference", reference, "--current", *currents
        )
        assert code == 2 and out == ""
        assert f"{header_only}: no data rows (a header only, or every row rejected)" in err


def test_a_reference_without_a_segment_column_is_an_error_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, reference, current = write_pair(tmp_path, shift=0.0)
    pd.read_csv(reference).drop(columns=["seg"]).to_csv(reference, index=False)
    code, _, err = run(
        capsys, "evaluate", "--config", config, "--reference", reference, "--current", current
    )
    assert code == 2
    assert f"{reference}: the baseline has no column seg (schema.segments[0])" in err
    assert err.count(str(reference)) == 1


def test_data_quality_has_one_shape_per_kind_of_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN current data where x has text and infinite values and the score has neither (the
    # blocks of the two numeric columns used to have different keys)
    config, reference, current = write_pair(tmp_path, shift=0.0)
    frame = pd.read_csv(current)
    frame["x"] = frame["x"].astype(object)
    frame.loc[:9, "x"] = "oops"
    frame.loc[10:12, "x"] = "inf"
    frame.to_csv(current, index=False)
    code, out, _ = run(
        capsys, "evaluate", "--config", config, "--reference", reference, "--current", current
    )
    quality = json.loads(out)["data_quality"]
    # THEN every numeric column has the same keys, and every categorical column its own
    numeric = {name: block for name, block in quality.items() if block.get("kind") == "numeric"}
    categorical = {
        name: block for name, block in quality.items() if block.get("kind") == "categorical"
    }
    assert set(numeric) == {"x", "score"}
    assert set(categorical) == {"c", "pred", "label"}
    assert {frozenset(block) for block in numeric.values()} == {
        frozenset(
            {"kind", "missing_share", "type_violation_share", "infinite", "out_of_range_share"}
        )
    }
    assert {frozenset(block) for block in categorical.values()} == {
        frozenset(
            {
                "kind",
                "missing_share",
                "new_category_share",
                "new_categories",
                "new_categories_complete",
            }
        )
    }
    assert quality["x"]["type_violation_share"] == pytest.approx(10 / 2000)
    assert quality["x"]["infinite"] == 3
    assert (quality["score"]["type_violation_share"], quality["score"]["infinite"]) == (0.0, 0)
    assert code in (0, 1)


def test_validate_refuses_a_numeric_drift_method_on_a_categorical_feature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN ks for every feature, c being categorical (every evaluation used to fail with a
    # traceback while validate said the definition was fine)
    config, _, _ = write_pair(tmp_path, shift=0.0)
    config.write_text(DEFINITION.replace("method: auto", "method: ks"), encoding="utf-8")
    code, out, err = run(capsys, "validate", "--config", config)
    assert code == 2 and out == ""
    assert "drift.method: ks does not apply to categorical feature c" in err
