"""`driftline detect` end to end on files, and the replay helpers it is made of.

River 0.26 is the oracle for the detection indices; the resume guarantee is checked by
splitting a stream in two files and carrying the detector across with --state-out/--state-in.
"""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftline.backtest import WindowGrid, event_times
from driftline.cli import build_detector, main, parse_params, parse_value
from driftline.detectors import make_detector
from driftline.errors import ConfigError, InvalidInputError
from driftline.replay import Detections, replay

river_drift = pytest.importorskip("river.drift")


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def gaussian_shift(seed: int, n: int = 4000, shift: float = 1.0) -> np.ndarray:
    """Unit-variance Gaussian values whose mean moves by ``shift`` at every quarter."""
    rng = np.random.default_rng(seed)
    return rng.normal(shift * ((np.arange(n) // (n // 4)) % 2), 1.0)


def error_shift(seed: int, n: int = 4000, low: float = 0.1, high: float = 0.35) -> np.ndarray:
    """0/1 error indicators whose rate alternates between ``low`` and ``high`` by quarter."""
    rng = np.random.default_rng(seed)
    rate = np.where((np.arange(n) // (n // 4)) % 2 == 1, high, low)
    return (rng.random(n) < rate).astype(int)


def write_csv(path: Path, **columns: Any) -> Path:
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def expand(runs: list[list[int]]) -> list[int]:
    return [position for first, last in runs for position in range(first, last + 1)]


# --- the oracle ------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk_rows", [100_000, 333])
def test_detect_adwin_reports_the_indices_river_adwin_detects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], chunk_rows: int
) -> None:
    # GIVEN a seeded stream whose mean moves three times, written as a one-column CSV
    path = write_csv(tmp_path / "stream.csv", x=gaussian_shift(11))
    values = pd.read_csv(path)["x"].tolist()  # exactly the floats the reader parses
    river = river_drift.ADWIN(delta=0.002)
    expected = []
    for i, x in enumerate(values):
        river.update(x)
        if river.drift_detected:
            expected.append(i)
    # WHEN driftline detect reads it with ADWIN (in one chunk, or in chunks of 333 rows)
    code, out, _ = run(
        capsys,
        "detect",
        "--detector",
        "adwin",
        "--param",
        "delta=0.002",
        "--input",
        path,
        "--chunk-rows",
        chunk_rows,
    )
    result = json.loads(out)
    # THEN it reports River's detections, with the column it picked and the full parameters
    assert len(expected) >= 3
    assert result["detections"] == expected
    assert result["rows"] == 4000
    assert result["column"] == "x"
    assert result["params"]["delta"] == 0.002
    assert result["params"]["clock"] == 32
    assert result["warnings"] == []
    assert "state" not in result
    assert code == 1


def test_detect_ddm_warning_runs_cover_exactly_river_warning_positions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an error stream in a JSON Lines file with an extra column
    errors = error_shift(5)
    path = tmp_path / "errors.jsonl"
    pd.DataFrame({"err": errors, "other": 1.5}).to_json(path, orient="records", lines=True)
    river = river_drift.binary.DDM()
    drifts, warnings = [], []
    for i, x in enumerate(errors.tolist()):
        river.update(x)
        if river.drift_detected:
            drifts.append(i)
        if river.warning_detected:
            warnings.append(i)
    # WHEN detect reads the err column with DDM
    code, out, _ = run(capsys, "detect", "--detector", "ddm", "--input", path, "--column", "err")
    result = json.loads(out)
    # THEN the drifts equal River's and the warning runs expand to River's warning positions
    assert drifts and warnings
    assert result["detections"] == drifts
    assert expand(result["warnings"]) == warnings
    runs = result["warnings"]
    assert all(a[1] + 1 < b[0] for a, b in itertools.pairwise(runs))
    assert code == 1


def test_detect_stationary_stream_exits_zero_with_no_detection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a stationary Gaussian stream in Parquet
    rng = np.random.default_rng(3)
    path = tmp_path / "flat.parquet"
    pd.DataFrame({"score": rng.normal(0.0, 1.0, 3000)}).to_parquet(path)
    # WHEN ADWIN reads it THEN nothing is detected and the exit code is 0
    code, out, _ = run(capsys, "detect", "--detector", "adwin", "--input", path)
    result = json.loads(out)
    assert (code, result["rows"], result["detections"]) == (0, 3000, [])


# --- the resume guarantee ------------------------------------------------------------------

RESUME_CASES: dict[str, tuple[list[str], str]] = {
    "adwin": ([], "numeric"),
    "page_hinkley": (["threshold=20"], "numeric"),
    "cusum": (["threshold=8"], "numeric"),
    "ddm": ([], "errors"),
    "eddm": (["alpha=0.9", "beta=0.8"], "errors"),
    "sprt": (["p0=0.1", "p1=0.2"], "errors"),
}


@pytest.mark.parametrize("name", sorted(RESUME_CASES))
def test_detect_resumed_on_the_second_half_equals_one_run_over_the_whole_stream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    params, kind = RESUME_CASES[name]
    values = gaussian_shift(2) if kind == "numeric" else error_shift(2)
    half = 1700  # inside a regime, not on a boundary of the quarters
    whole = write_csv(tmp_path / "whole.csv", v=values)
    first = write_csv(tmp_path / "first.csv", v=values[:half])
    second = write_csv(tmp_path / "second.csv", v=values[half:])
    flags = [item for param in params for item in ("--param", param)]
    # GIVEN one run over the whole stream
    _, out, _ = run(
        capsys,
        "detect",
        "--detector",
        name,
        *flags,
        "--input",
        whole,
        "--state-out",
        tmp_path / "whole.json",
    )
    single = json.loads(out)
    # WHEN the first half is read with --state-out and the second with --state-in
    state = tmp_path / "state.json"
    _, out, _ = run(
        capsys, "detect", "--detector", name, *flags, "--input", first, "--state-out", state
    )
    part_one = json.loads(out)
    code, out, _ = run(
        capsys,
        "detect",
        "--input",
        second,
        "--state-in",
        state,
        "--state-out",
        tmp_path / "resumed.json",
    )
    part_two = json.loads(out)
    # THEN the detections, shifted by the first half's length, are the single run's
    assert single["detections"], "the stream must make the detector fire"
    assert any(d < half for d in single["detections"])
    assert any(d >= half for d in single["detections"])
    assert (
        part_one["detections"] + [half + d for d in part_two["detections"]]
        == (single["detections"])
    )
    assert expand(part_one["warnings"]) + [half + w for w in expand(part_two["warnings"])] == (
        expand(single["warnings"])
    )
    # AND the resumed run knows where it started, and ends in the single run's state
    assert part_two["seen_before"] == half
    assert part_two["detector"] == name
    assert part_two["params"] == single["params"]
    assert part_two["state"] == single["state"]
    assert json.loads((tmp_path / "resumed.json").read_text()) == single["state"]
    assert code == (1 if part_two["detections"] else 0)


# --- bad input -------------------------------------------------------------------------------


def test_detect_bad_inputs_exit_two_and_name_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stream = write_csv(tmp_path / "s.csv", e=[0, 1, 0, 1], x=[0.5, 1.5, 2.5, 3.5])
    nan = tmp_path / "nan.csv"
    nan.write_text("x,y\n1.0,a\n2.0,b\n3.0,c\nNaN,d\n5.0,e\n", encoding="utf-8")
    text = tmp_path / "text.csv"
    text.write_text("x\n1\n2\nfive\n", encoding="utf-8")
    saved = tmp_path / "adwin.json"
    saved.write_text(json.dumps(make_detector("adwin").to_dict()), encoding="utf-8")
    cases: list[tuple[list[object], list[str]]] = [
        (["--detector", "kswin2", "--input", stream], ["'kswin2'", "adwin, ddm, eddm"]),
        (
            ["--detector", "ddm", "--param", "lambda=3", "--input", stream, "--column", "e"],
            ["'lambda'", "allowed: drift_threshold, warm_start, warning_threshold"],
        ),
        (["--detector", "ddm", "--param", "warm_start", "--input", stream], ["KEY=VALUE"]),
        (["--detector", "adwin", "--input", stream, "--column", "y"], ["'y'", "columns: e, x"]),
        (["--detector", "adwin", "--input", stream], ["2 columns (e, x)", "--column"]),
        (["--detector", "adwin", "--input", nan, "--column", "x"], ["row 3", "'x'", "no value"]),
        (["--detector", "adwin", "--input", text], ["row 2", "'x'", "holds text"]),
        (
            ["--detector", "ddm", "--input", stream, "--column", "x"],
            ["row 0", "'x'", "holds a number", "0 or 1"],
        ),
        (
            ["--detector", "ddm", "--input", stream, "--column", "e", "--state-in", saved],
            ["--detector ddm", "adwin"],
        ),
        (
            ["--input", stream, "--column", "x", "--state-in", saved, "--param", "delta=0.1"],
            ["delta=0.1", "delta=0.002"],
        ),
        (["--detector", "adwin", "--input", tmp_path / "missing.csv"], ["missing.csv"]),
    ]
    for args, needles in cases:
        # WHEN detect is run on the bad input THEN it exits 2 and the message names the key
        code, out, err = run(capsys, "detect", *args)
        assert code == 2, (args, out)
        assert out == ""
        for needle in needles:
            assert needle in err, (needle, err)
        # AND quotes no data value
        assert "five" not in err and "0.5" not in err


def test_detect_refuses_a_file_whose_reader_rejected_a_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a CSV whose third line has an extra field (the reader rejects that row)
    path = tmp_path / "ragged.csv"
    path.write_text("x,y\n1,2\n3,4,5\n6,7\n", encoding="utf-8")
    # WHEN detect reads it THEN it stops with exit 2 naming the line, rather than shifting
    code, _, err = run(capsys, "detect", "--detector", "adwin", "--input", path, "--column", "x")
    assert code == 2
    assert "line 3" in err


# --- the helpers ---------------------------------------------------------------------------


def test_parse_value_reads_ints_floats_booleans_and_text() -> None:
    assert parse_value("32") == 32 and isinstance(parse_value("32"), int)
    assert parse_value("0.002") == 0.002
    assert parse_value("1e-3") == 0.001
    assert parse_value("False") is False
    assert parse_value("up") == "up"
    assert parse_params(["delta=0.01", "mode = both"]) == {"delta": 0.01, "mode": "both"}
    with pytest.raises(ConfigError, match="given twice"):
        parse_params(["delta=1", "delta=2"])


def test_build_detector_out_of_range_value_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"expected delta in \(0, 1\), got 2"):
        build_detector("adwin", {"delta": 2})
    with pytest.raises(ConfigError, match="--detector is required"):
        build_detector(None, {})
    with pytest.raises(InvalidInputError, match="not a saved detector"):
        build_detector(None, {}, state={"detector": "adwin"})


def test_replay_continues_positions_and_merges_adjacent_warning_runs() -> None:
    # GIVEN warnings at 3, 4 and 6 recorded in two calls
    found = Detections(rows=3)
    found.add_warning(3)
    found.add_warning(4)
    found.add_warning(6)
    assert found.warnings == [(3, 4), (6, 6)]
    # AND replay continues the positions of an earlier record
    detector = make_detector("cusum", threshold=3.0, target=0.0, min_instances=1)
    replay(detector, [0.0, 5.0], into=found)
    assert (found.rows, found.drifts) == (5, [4])


def test_window_grid_aligns_windows_to_multiples_of_their_length_since_the_epoch() -> None:
    times = pd.Series(
        pd.to_datetime(["2026-03-04T05:00Z", "2026-03-12T23:00Z", "2026-03-05T00:00Z"], utc=True)
    )
    # GIVEN P7D windows THEN they start on Thursdays 00:00 UTC (1970-01-01 was a Thursday)
    weeks = WindowGrid.covering(times, timedelta(days=7))
    assert (weeks.start, weeks.count) == (pd.Timestamp("2026-02-26T00:00Z"), 3)
    assert weeks.index(times).tolist() == [0, 2, 1]  # a window's end belongs to the next
    assert weeks.bounds(1) == (pd.Timestamp("2026-03-05T00:00Z"), pd.Timestamp("2026-03-12T00:00Z"))
    # AND PT6H windows start at 00, 06, 12 and 18 UTC
    quarters = WindowGrid.covering(times, timedelta(hours=6))
    assert (quarters.start, quarters.count) == (pd.Timestamp("2026-03-04T00:00Z"), 36)
    assert quarters.index(times).tolist() == [0, 35, 4]


def test_event_times_reads_epoch_and_datetimes_and_names_a_bad_row() -> None:
    frame = pd.DataFrame({"t": [1_772_323_200, 1_772_323_200_000, 1_772_326_800.5]})
    assert [t.isoformat() for t in event_times(frame, "t", file="f")] == [
        "2026-03-01T00:00:00+00:00",
        "2026-03-01T00:00:00+00:00",
        "2026-03-01T01:00:00.500000+00:00",
    ]
    naive = pd.DataFrame({"t": pd.to_datetime(["2026-03-01 08:00"])})
    assert event_times(naive, "t", file="f")[0] == pd.Timestamp("2026-03-01T08:00Z")
    with pytest.raises(InvalidInputError, match=r"logs.csv: row 1 .* column 't' \(got no value\)"):
        event_times(pd.DataFrame({"t": ["2026-03-01", None]}), "t", file="logs.csv")


@pytest.mark.parametrize(
    ("values", "detector", "reason", "kind"),
    [
        (["0.5", "ssn-123-45-6789"], "adwin", "non_numeric_value", "text"),
        ([0.0, 2.0], "ddm", "non_binary_value", "a number"),
        ([0.1, float("inf")], "adwin", "non_numeric_value", "a number that is not finite"),
        ([0.1, None], "adwin", "non_numeric_value", "no value"),
    ],
)
def test_detect_names_the_row_and_the_kind_of_a_bad_value_never_the_value(
    tmp_path: Path, values: list[Any], detector: str, reason: str, kind: str
) -> None:
    # GIVEN a column whose second row a detector cannot read
    path = tmp_path / "signal.csv"
    pd.DataFrame({"e": values}).to_csv(path, index=False)
    # WHEN it is replayed
    from driftline.replay import detect_in_file

    with pytest.raises(InvalidInputError) as error:
        detect_in_file(make_detector(detector), path, column="e")
    # THEN the error names the file, row, column and the kind of value, not the value
    message = str(error.value)
    assert error.value.reason == reason
    assert f"signal.csv: row 1: column 'e' holds {kind};" in message
    assert "ssn" not in message and "inf" not in message.replace("finite", "")
    assert "2.0" not in message
