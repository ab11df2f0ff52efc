"""The alert-quality benchmark (benchmarks/alert_quality.py) on a tiny configuration.

The peers (Evidently, NannyML) are not run here: they need their own virtual environments.
The data is a small population made in the test (the real data sets come from PyPI
packages), with the same shape the loaders give.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import alert_changes  # noqa: E402
import alert_quality  # noqa: E402
from alert_changes import Change  # noqa: E402
from alert_data import SEGMENT, Population  # noqa: E402


def population(rows: int = 4_000) -> Population:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "x": rng.normal(10.0, 2.0, rows),
            "y": rng.exponential(1.0, rows),
            "colour": rng.choice(["red", "green", "blue"], rows, p=[0.5, 0.3, 0.2]),
            SEGMENT: rng.choice(["a", "b", "c", "d", "e"], rows),
        }
    )
    made = Population(
        "tiny",
        frame,
        ("x", "y"),
        ("colour",),
        numeric_target="x",
        categorical_target="colour",
        source="made in the test",
        segment_note="5 values",
    )
    made.stats.update(
        {
            "std": {"x": float(frame["x"].std(ddof=0)), "y": float(frame["y"].std(ddof=0))},
            "shares": {"colour": frame["colour"].value_counts(normalize=True).to_dict()},
        }
    )
    return made


@pytest.mark.parametrize(("successes", "trials"), [(0, 10), (1, 200), (7, 250), (40, 40), (3, 7)])
def test_wilson_interval_matches_statsmodels(successes: int, trials: int) -> None:
    expected = proportion_confint(successes, trials, alpha=0.05, method="wilson")
    assert alert_quality.wilson_interval(successes, trials) == pytest.approx(expected, abs=1e-12)


def test_the_driftline_contender_runs_and_its_counts_add_up() -> None:
    # GIVEN a tiny population, a large mean shift and a new category, two streams each
    made = population()
    changes = [Change("mean_shift", 2.0), Change("new_category", 20)]

    # WHEN driftline alone decides 6 null evaluations and the streams at 500 rows a batch
    result = alert_quality.run(
        sizes=[500],
        datasets=["tiny"],
        contenders=["driftline"],
        evaluations=6,
        changes=changes,
        streams=2,
        stream_length=3,
        reference_rows=2_000,
        reference_factor=1,
        progress=lambda line: None,
        populations={"tiny": made},
    )

    # THEN the counts are the planned ones and the rates and intervals follow from them
    summary = result["by_size"]["500"]
    assert set(summary) == {"driftline", "driftline dataset drift"}
    null = summary["driftline"]["null"]
    assert null["evaluations"] == 6
    assert 0 <= null["pages"] <= 6
    assert null["rate"] == pytest.approx(null["pages"] / 6)
    low, high = proportion_confint(null["pages"], 6, alpha=0.05, method="wilson")
    assert (null["low"], null["high"]) == pytest.approx((low, high))
    shifted = summary["driftline"]["changes"]["mean_shift 2 σ"]
    assert shifted["evaluations"] == 6 and shifted["streams"] == 2
    # a shift of two standard deviations at 500 rows pages at once, in every stream
    assert shifted["pages"] == 6 and shifted["delays"] == [1, 1]
    assert shifted["mean_delay"] == 1.0
    text = alert_quality.render(result)
    assert "| mean_shift 2 σ | 100.0 % (6/6); delay 1.0, 2/2 streams |" in text


def test_delays_count_from_the_first_batch_after_the_onset_and_censor_silent_streams() -> None:
    # GIVEN one planned stream per case and decisions made up for them
    planned = alert_quality.Evaluations("tiny", 100, 1_000)
    change = Change("mean_shift", 0.1)
    planned.items = [
        ("null-0", None, 1, 1),
        ("null-1", None, 2, 1),
        ("shift#0", change, 3, 3),
        ("shift#1", change, 4, 3),
    ]
    no, yes = {"page": False, "dataset": False}, {"page": True, "dataset": False}
    decisions = {
        "driftline": {
            "null-0": [yes],
            "null-1": [no],
            "shift#0": [no, yes, yes],
            "shift#1": [no, no, no],
        }
    }

    # WHEN tallied and summarised
    summary = alert_quality.summarise(alert_quality.tally(planned, decisions))

    # THEN one false page in two, 2 of 6 detections, delay 2 for the first stream only
    assert summary["driftline"]["null"]["pages"] == 1
    assert summary["driftline"]["null"]["evaluations"] == 2
    cell = summary["driftline"]["changes"][change.label]
    assert (cell["pages"], cell["evaluations"]) == (2, 6)
    assert cell["delays"] == [2, None]
    assert cell["streams_paged"] == 1 and cell["mean_delay"] == 2.0
    assert summary["driftline dataset drift"]["changes"][change.label]["pages"] == 0


def test_planted_changes_do_what_they_say() -> None:
    made = population()
    batch = made.frame.iloc[:1_000].reset_index(drop=True)
    rng = np.random.default_rng(1)
    std = made.stats["std"]["x"]

    shifted = alert_changes.apply(Change("mean_shift", 0.5), batch, made, rng)
    assert (shifted["x"] - batch["x"]).to_numpy() == pytest.approx(0.5 * std)

    moved = alert_changes.apply(Change("category_share", 10), batch, made, rng)
    assert (moved["colour"] == "red").sum() == (batch["colour"] == "red").sum() - 100
    assert (moved["colour"] == "green").sum() == (batch["colour"] == "green").sum() + 100

    new = alert_changes.apply(Change("new_category", 5), batch, made, rng)
    assert (new["colour"] == alert_changes.NEW_CATEGORY).sum() == 50

    missing = alert_changes.apply(Change("missing_share", 20), batch, made, rng)
    assert missing["x"].isna().sum() == 200

    wider = alert_changes.apply(Change("variance", 1.5), batch, made, rng)
    assert wider["x"].var() == pytest.approx(1.5 * batch["x"].var())

    in_segment = alert_changes.apply(Change("mean_shift", 1.0, scope="a"), batch, made, rng)
    changed = in_segment["x"] != batch["x"]
    assert (changed == (batch[SEGMENT] == "a")).all()


def test_a_peer_set_to_driftlines_false_page_rate_is_counted_on_its_own_row() -> None:
    # GIVEN four null evaluations (driftline paged on one) and a change, with a peer's scores
    planned = alert_quality.Evaluations("tiny", 100, 1_000)
    change = Change("category_share", 5)
    planned.items = [(f"null-{i}", None, i, 1) for i in range(4)] + [("move#0", change, 9, 2)]
    no, yes = {"page": False, "dataset": False}, {"page": True, "dataset": False}
    driftline = {"null-0": [yes], "null-1": [no], "null-2": [no], "null-3": [no]}
    driftline["move#0"] = [yes, yes]
    scores = {"null-0": 3.0, "null-1": 1.2, "null-2": 0.4, "null-3": 0.9}
    peer = {key: [{"page": score >= 1, "dataset": False, "score": score}]
            for key, score in scores.items()}  # fmt: skip
    peer["move#0"] = [
        {"page": True, "dataset": False, "score": 2.5},
        {"page": True, "dataset": False, "score": 4.0},
    ]

    # WHEN the peer's thresholds are scaled to page out of sample as often as driftline
    # paged on these null batches (once in four)
    scale = alert_quality.match_false_pages(planned, peer, 1)
    summary = alert_quality.summarise(
        alert_quality.tally(planned, {"driftline": driftline, "evidently": peer})
    )

    # THEN the scale is the largest null score (a new null batch passes it with probability
    # 1/5): the peer pages on none of these null batches, and on the changed batch only where
    # its score passes the largest
    assert scale == 3.0
    matched = summary["evidently at driftline's false-page rate"]
    assert (matched["null"]["pages"], matched["null"]["evaluations"]) == (0, 4)
    assert matched["changes"][change.label]["pages"] == 1
    # AND two null pages allowed put it at the second largest (1.2), paging on one of them
    assert alert_quality.match_false_pages(planned, peer, 2) == 1.2
    assert summary["evidently"]["null"]["pages"] == 2  # its defaults page on scores >= 1
    verdicts = alert_quality.against_peers({"setup": {"sizes": [100]}, "by_size": {"100": summary}})
    assert verdicts == [("category_share 5 points, n = 100", "100.0 % vs evidently 50.0 %",
                         True, True)]  # fmt: skip


def test_numeric_changes_keep_a_column_recorded_on_a_grid_on_its_grid() -> None:
    # GIVEN a population whose numeric target is a code of 1 to 8 (whole numbers)
    made = population(20_000)
    rng = np.random.default_rng(3)
    made.frame["x"] = rng.integers(1, 9, len(made.frame)).astype(float)
    made.stats["std"]["x"] = float(made.frame["x"].std(ddof=0))
    batch = made.frame.iloc[:20_000].reset_index(drop=True)

    # WHEN a 0.1 σ mean shift and a variance change are planted
    shifted = alert_changes.apply(Change("mean_shift", 0.1), batch, made, rng)
    wider = alert_changes.apply(Change("variance", 1.5), batch, made, rng)

    # THEN every value is still a whole number, and the shift keeps its size in expectation
    for changed in (shifted, wider):
        assert (changed["x"] == changed["x"].round()).all()
    moved = float((shifted["x"] - batch["x"]).mean())
    assert moved == pytest.approx(0.1 * made.stats["std"]["x"], rel=0.1)
    assert wider["x"].var() == pytest.approx(1.5 * batch["x"].var(), rel=0.1)


def test_runs_split_by_size_combine_into_the_run_of_all_sizes() -> None:
    # GIVEN one run over two sizes and the same setup run one size at a time
    made = population()

    def run(sizes: list[int]) -> dict[str, object]:
        result = alert_quality.run(
            sizes=sizes,
            datasets=["tiny"],
            contenders=["driftline"],
            evaluations=3,
            changes=[Change("mean_shift", 1.0)],
            streams=1,
            stream_length=2,
            reference_rows=1_000,
            reference_factor=1,
            progress=lambda line: None,
            populations={"tiny": made},
        )
        result["setup"]["mode"] = "full"
        return result

    whole = run([300, 600])
    parts = [run([600]), run([300])]
    # WHEN the parts are combined
    combined = alert_quality.combine(parts)
    # THEN the counts per size and per data set are the whole run's, sizes in order
    assert combined["by_size"] == whole["by_size"]
    assert combined["by_dataset"] == whole["by_dataset"]
    assert combined["setup"]["sizes"] == [300, 600]
    assert list(combined["by_size"]) == ["300", "600"]
    # AND the page reads the same but for the time taken
    combined["setup"]["seconds"] = whole["setup"]["seconds"]
    combined["meta"]["seconds"] = whole["meta"]["seconds"]
    assert alert_quality.render(combined) == alert_quality.render(whole)
    # AND runs that drew other batches, or measured a size twice, are refused
    other = run([300])
    other["setup"]["seed"] = 1
    with pytest.raises(ValueError, match=r"setup\.seed"):
        alert_quality.combine([parts[0], other])
    with pytest.raises(ValueError, match="n = 300"):
        alert_quality.combine([parts[1], run([300])])


def test_changes_are_parsed_from_kind_and_size_and_a_wrong_one_is_named() -> None:
    changes = alert_quality.parse_changes("variance:1.2, mean_shift:0.1")
    assert [(change.kind, change.size, change.scope) for change in changes] == [
        ("variance", 1.2, "all"),
        ("mean_shift", 0.1, "all"),
    ]
    with pytest.raises(argparse.ArgumentTypeError, match="unknown change kind 'spread'"):
        alert_quality.parse_changes("spread:1.2")
    with pytest.raises(argparse.ArgumentTypeError, match=r"variance sizes are 1\.2, 1\.5"):
        alert_quality.parse_changes("variance:1.3")
    with pytest.raises(argparse.ArgumentTypeError, match="not a number"):
        alert_quality.parse_changes("variance:x")
