"""Alert quality: how often each contender pages on stationary real data, and how soon it
pages on planted changes of graded size.

    python benchmarks/alert_quality.py --quick
    python benchmarks/alert_quality.py [--evaluations N] [--streams K] [--stream-length S]
        [--sizes 200,1000,10000,100000] [--datasets flights,employment,diamonds,caravan]
        [--contenders driftline,evidently,nannyml] [--changes variance:1.2,mean_shift:0.1]

An **evaluation** is one batch of ``n`` rows against a reference, over every feature of the
data set overall and on each of its 5 segments; each contender answers page / no page.

* **Null** (``--evaluations`` per data set and batch size): every evaluation draws its own
  reference and batch from the data set's population (:mod:`alert_data`), so evaluations
  are independent and every page is a false page. The false-page rate per evaluation gets a
  95 % **Wilson score** interval (:func:`wilson_interval`).
* **Planted changes** (:mod:`alert_changes`): per change, size and batch size, ``--streams``
  streams; a stream draws a reference, then ``--stream-length`` batches that all carry the
  change (the change begins with the stream's first batch). The detection rate is the share
  of those evaluations that page (with its Wilson interval); the **delay** of a stream is
  the number of its first paging evaluation (1 = the first batch after the onset), or
  "not within S" (censored).

The reference has ``max(--reference-rows, --reference-factor × n)`` rows (50,000 and 10 × n
by default): NannyML's default thresholds come from cutting the reference into chunks of the
batch's size, so it needs several of them. Contenders: driftline in this process
(:mod:`alert_driftline`); Evidently and NannyML in their own virtual environments through
``alert_peers_runner.py``, which reads the batches from parquet files written here, many
evaluations per process. Everything is seeded: the same arguments give the same figures.
Writes ``benchmarks/results/alert_quality.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import alert_changes
import alert_data
import harness
from alert_changes import Change

SIZES = (200, 1_000, 10_000, 100_000)
DATASETS = ("flights", "employment", "diamonds", "caravan")
CONTENDERS = ("driftline", "evidently", "nannyml")
#: The rows shown, each with the decision it counts: a contender's page, the dataset-drift
#: flag of those that have one, and a peer's page with its thresholds scaled to page on the
#: null batches, out of sample, as often as driftline did (:func:`match_false_pages`).
ROWS = {
    "driftline": (("driftline", "page"), ("driftline dataset drift", "dataset")),
    "evidently": (
        ("evidently", "page"),
        ("evidently dataset drift", "dataset"),
        ("evidently at driftline's false-page rate", "matched"),
    ),
    "nannyml": (("nannyml", "page"), ("nannyml at driftline's false-page rate", "matched")),
}
VENVS = {
    "evidently": (Path("/tmp/evidently-venv"), ("evidently>=0.7,<0.8", "pandas<3", "pyarrow")),
    "nannyml": (Path("/tmp/nannyml-venv"), ("nannyml==0.13.1", "statsmodels", "pyarrow")),
}
QUICK_CHANGES = (
    Change("mean_shift", 0.1),
    Change("mean_shift", 0.3),
    Change("variance", 1.5),
    Change("category_share", 5),
    Change("category_share", 10),
    Change("new_category", 1),
    Change("missing_share", 5),
)
Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (95 % by default).

    >>> low, high = wilson_interval(0, 100)
    >>> round(low, 4), round(high, 4)
    (0.0, 0.037)
    >>> [round(bound, 4) for bound in wilson_interval(5, 20)]
    [0.1119, 0.4687]
    """
    if trials <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= trials:
        raise ValueError(f"expected 0 <= successes <= trials, got {successes} of {trials}")
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    half /= denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass
class Evaluations:
    """Planned evaluations of one data set at one batch size: ``(id, case, stream seed,
    batches in the stream)``; the case is ``"null"`` or a :class:`Change`."""

    dataset: str
    size: int
    reference_rows: int
    items: list[tuple[str, Change | None, int, int]] = field(default_factory=list)


def say(line: str) -> None:
    """A progress line, shown at once (also when the output is a file)."""
    print(line, flush=True)


def seed_of(*parts: object) -> int:
    """A stable seed from the parts (the same on every machine and Python)."""
    digest = hashlib.sha256("/".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def plan(
    dataset: str,
    size: int,
    *,
    evaluations: int,
    changes: Sequence[Change],
    streams: int,
    stream_length: int,
    reference_rows: int,
    reference_factor: int,
    seed: int,
) -> Evaluations:
    planned = Evaluations(dataset, size, max(reference_rows, reference_factor * size))
    for index in range(evaluations):
        planned.items.append(
            (f"null-{index}", None, seed_of(seed, dataset, size, "null", index), 1)
        )
    for change in changes:
        for index in range(streams):
            stream_seed = seed_of(seed, dataset, size, change.label, index)
            planned.items.append((f"{change.label}#{index}", change, stream_seed, stream_length))
    return planned


def draw(population: alert_data.Population, rows: int, rng: Any) -> Any:
    """``rows`` rows drawn with replacement from the population (a pandas DataFrame)."""
    frame = population.frame
    return frame.iloc[rng.integers(0, len(frame), rows)].reset_index(drop=True)


def materialise(
    population: alert_data.Population, planned: Evaluations, item: tuple[Any, ...]
) -> tuple[Any, list[Any]]:
    """The reference and the batches of one planned evaluation (or stream)."""
    import numpy as np

    _, change, stream_seed, length = item
    rng = np.random.default_rng(stream_seed)
    reference = draw(population, planned.reference_rows, rng)
    batches = []
    for _ in range(length):
        batch = draw(population, planned.size, rng)
        if change is not None:
            batch = alert_changes.apply(change, batch, population, rng)
        batches.append(batch)
    return reference, batches


def peer_python(peer: str, *, install: bool = True) -> tuple[Path | None, str]:
    """The interpreter of a peer's virtual environment, created on first use."""
    venv, requirements = VENVS[peer]
    python = venv / "bin" / "python"
    module = {"evidently": "evidently", "nannyml": "nannyml"}[peer]
    probe = [str(python), "-c", f"import {module}, pandas, pyarrow"]
    if python.exists() and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        return python, "cached"
    if not install:
        return None, f"{venv} is missing"
    print(f"creating {venv} for {peer} (a few minutes, once) ...", flush=True)
    for step in (
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", *requirements],
    ):
        completed = subprocess.run(step, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            return None, f"`{' '.join(step[-3:])}` failed: {completed.stderr.strip()[-300:]}"
    if subprocess.run(probe, capture_output=True, check=False).returncode != 0:
        return None, f"{peer} installed but does not import"
    return python, "installed"


def run_peer(python: Path, peer: str, manifest: dict[str, Any], folder: Path) -> dict[str, Any]:
    path = folder / f"manifest-{peer}.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["DO_NOT_TRACK"] = "1"  # Evidently's usage telemetry off
    env["NML_DISABLE_USAGE_LOGGING"] = "1"  # NannyML's usage logging off
    return harness.run_child(
        [str(python), str(harness.HERE / "alert_peers_runner.py"), peer, str(path)],
        env=env,
        timeout=24 * 3600,
    )


def run_block(
    population: alert_data.Population,
    planned: Evaluations,
    *,
    contenders: Sequence[str],
    pythons: dict[str, Path],
    folder: Path,
    progress: Callable[[str], None],
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every contender's decisions on the planned evaluations: contender -> id -> per batch."""
    import alert_driftline

    decisions: dict[str, dict[str, list[dict[str, Any]]]] = {name: {} for name in contenders}
    contender = (
        alert_driftline.DriftlineContender(
            population.numeric, population.categorical, population.segments
        )
        if "driftline" in contenders
        else None
    )
    peers = [name for name in contenders if name in pythons]
    manifest: dict[str, Any] = {
        "numeric": list(population.numeric),
        "categorical": list(population.categorical),
        "segment": alert_data.SEGMENT,
        "segments": list(population.segments),
        "evaluations": [],
    }
    seconds = {name: 0.0 for name in contenders}
    started = time.perf_counter()
    for number, item in enumerate(planned.items):
        reference, batches = materialise(population, planned, item)
        if contender is not None:
            start = time.perf_counter()
            decisions["driftline"][item[0]] = contender.decide(reference, batches)
            seconds["driftline"] += time.perf_counter() - start
        if peers:
            stem = folder / f"e{number}"
            reference.to_parquet(f"{stem}-ref.parquet", index=False)
            paths = []
            for index, batch in enumerate(batches):
                paths.append(f"{stem}-b{index}.parquet")
                batch.to_parquet(paths[-1], index=False)
            manifest["evaluations"].append(
                {"id": item[0], "reference": f"{stem}-ref.parquet", "batches": paths}
            )
        if (number + 1) % 25 == 0:
            progress(
                f"  {planned.dataset} n={planned.size:,}: {number + 1}/{len(planned.items)} "
                f"planned streams ({time.perf_counter() - started:.0f} s)"
            )
    for peer in peers:
        start = time.perf_counter()
        progress(
            f"  {planned.dataset} n={planned.size:,}: {peer} on "
            f"{len(manifest['evaluations'])} streams ..."
        )
        answer = run_peer(pythons[peer], peer, manifest, folder)
        decisions[peer] = answer["decisions"]
        # The scores must say what the defaults decided: a page exactly when one reaches 1
        # (a tie at 1 can differ, as a test pages below its level and a distance at it).
        disagreements = sum(
            batch["page"] != (batch["score"] >= 1)
            for decided in answer["decisions"].values()
            for batch in decided
        )
        decisions.setdefault("_meta", {})[peer] = [
            {
                "version": answer["version"],
                "methods": answer["methods"],
                "errors": answer["errors"],
                "score_disagreements": disagreements,
            }
        ]
        seconds[peer] += time.perf_counter() - start
    decisions.setdefault("_meta", {})["seconds"] = [seconds]
    return decisions


def match_false_pages(
    planned: Evaluations, decisions: dict[str, list[dict[str, Any]]], allowed: int
) -> float:
    """Scale a peer's thresholds by one factor so that, out of sample, it is expected to page
    on stationary batches as often as driftline paged on these (``allowed`` of them), and
    mark every batch's decision at that scale (``matched``).

    A batch's ``score`` is the factor by which its most extreme column passes the peer's
    default threshold (``alert_peers_runner.py``); at scale ``k`` the peer pages when the
    score exceeds ``k``. driftline's thresholds are not set on these null batches, so
    ``allowed`` / M estimates its rate on any batch. The peer's scale is set on them, so
    matching the count on them would favour it: the ``j``-th largest of M null scores is
    passed by a new null batch with probability j / (M + 1) (order statistics), so the
    ``allowed``-th largest gives ``allowed`` / (M + 1) out of sample, where the
    ``allowed + 1``-th largest (which pages on exactly ``allowed`` of these) gives about
    (``allowed`` + 1) / M — twice driftline's rate at one page in a hundred. ``k`` is
    therefore the ``allowed``-th largest null score (the largest when ``allowed`` is 0, the
    nearest the rule allows). Returns ``k`` (infinite when that score is: the peer then
    never pages).

    >>> planned = Evaluations("d", 10, 100, [("null-0", None, 0, 1), ("null-1", None, 1, 1),
    ...                                      ("shift#0", Change("mean_shift", 0.5), 2, 1)])
    >>> decided = {"null-0": [{"score": 0.5}], "null-1": [{"score": 2.0}],
    ...            "shift#0": [{"score": 1.5}]}
    >>> match_false_pages(planned, decided, 0)
    2.0
    >>> [decided[key][0]["matched"] for key in ("null-0", "null-1", "shift#0")]
    [False, False, False]
    >>> match_false_pages(planned, decided, 2), decided["shift#0"][0]["matched"]
    (0.5, True)
    """
    null = sorted(
        (
            float(batch["score"])
            for identifier, change, _, _ in planned.items
            if change is None
            for batch in decisions[identifier]
        ),
        reverse=True,
    )
    rank = max(allowed, 1)
    scale = null[rank - 1] if rank <= len(null) else 0.0
    for decided in decisions.values():
        for batch in decided:
            batch["matched"] = float(batch["score"]) > scale
    return scale


def tally(
    planned: Evaluations, decisions: dict[str, dict[str, list[dict[str, Any]]]]
) -> dict[str, Any]:
    """Counts per row (contender, flag) of one block: null pages and, per change, the pages,
    evaluations and the delay of each stream."""
    counts: dict[str, Any] = {}
    for contender, rows in ROWS.items():
        if contender not in decisions:
            continue
        for row, key in rows:
            if not all(
                key in batch for decided in decisions[contender].values() for batch in decided
            ):
                continue
            null = {"evaluations": 0, "pages": 0, "failed_slices": 0}
            changes: dict[str, Any] = {}
            for identifier, change, _, _ in planned.items:
                decided = decisions[contender][identifier]
                flags = [bool(batch[key]) for batch in decided]
                failed = sum(int(batch.get("failed_slices", 0)) for batch in decided)
                if change is None:
                    null["evaluations"] += len(flags)
                    null["pages"] += sum(flags)
                    null["failed_slices"] += failed
                    continue
                cell = changes.setdefault(
                    change.label,
                    {"change": change.to_dict(), "evaluations": 0, "pages": 0, "delays": []},
                )
                cell["evaluations"] += len(flags)
                cell["pages"] += sum(flags)
                cell["delays"].append(flags.index(True) + 1 if any(flags) else None)
            counts[row] = {"null": null, "changes": changes}
    return counts


def merge_counts(total: dict[str, Any], block: dict[str, Any]) -> None:
    for row, counted in block.items():
        into = total.setdefault(row, {"null": {}, "changes": {}})
        for key, value in counted["null"].items():
            into["null"][key] = into["null"].get(key, 0) + value
        for label, cell in counted["changes"].items():
            target = into["changes"].setdefault(
                label, {"change": cell["change"], "evaluations": 0, "pages": 0, "delays": []}
            )
            target["evaluations"] += cell["evaluations"]
            target["pages"] += cell["pages"]
            target["delays"] += cell["delays"]


def summarise(counts: dict[str, Any]) -> dict[str, Any]:
    """Rates and Wilson intervals for the counts of one batch size."""
    summary: dict[str, Any] = {}
    for row, counted in counts.items():
        null = counted["null"]
        low, high = wilson_interval(null["pages"], null["evaluations"])
        rate = null["pages"] / null["evaluations"] if null["evaluations"] else float("nan")
        changes = {}
        for label, cell in counted["changes"].items():
            c_low, c_high = wilson_interval(cell["pages"], cell["evaluations"])
            delays = [delay for delay in cell["delays"] if delay is not None]
            changes[label] = {
                **cell,
                "rate": cell["pages"] / cell["evaluations"] if cell["evaluations"] else None,
                "low": c_low,
                "high": c_high,
                "streams": len(cell["delays"]),
                "streams_paged": len(delays),
                "mean_delay": sum(delays) / len(delays) if delays else None,
            }
        summary[row] = {
            "null": {**null, "rate": rate, "low": low, "high": high},
            "changes": changes,
        }
    return summary


def run(
    *,
    sizes: Sequence[int],
    datasets: Sequence[str],
    contenders: Sequence[str],
    evaluations: int,
    changes: Sequence[Change],
    streams: int,
    stream_length: int,
    reference_rows: int = 50_000,
    reference_factor: int = 10,
    seed: int = 0,
    packages: Path = alert_data.PACKAGES,
    progress: Callable[[str], None] | None = None,
    populations: dict[str, alert_data.Population] | None = None,
) -> dict[str, Any]:
    """The whole benchmark; returns the result document (see :func:`render`)."""
    progress = progress or say
    started = time.perf_counter()
    pythons: dict[str, Path] = {}
    notes: dict[str, str] = {}
    for peer in ("evidently", "nannyml"):
        if peer in contenders:
            python, note = peer_python(peer)
            notes[peer] = note
            if python is not None:
                pythons[peer] = python
            else:
                progress(f"{peer} left out: {note}")
    ran = [name for name in contenders if name == "driftline" or name in pythons]
    populations = dict(populations or {})
    per_size: dict[str, Any] = {}
    per_dataset: dict[str, Any] = {}
    meta: dict[str, Any] = {"seconds": {name: 0.0 for name in ran}}
    for name in datasets:
        if name not in populations:
            progress(f"loading {name} ...")
            populations[name] = alert_data.load(name, packages)
    with tempfile.TemporaryDirectory(prefix="alert-quality-") as scratch:
        for size in sizes:
            total: dict[str, Any] = {}
            for name in datasets:
                population = populations[name]
                planned = plan(
                    name,
                    size,
                    evaluations=evaluations,
                    changes=changes,
                    streams=streams,
                    stream_length=stream_length,
                    reference_rows=reference_rows,
                    reference_factor=reference_factor,
                    seed=seed,
                )
                progress(
                    f"{name} n={size:,} (reference {planned.reference_rows:,} rows): "
                    f"{len(planned.items)} streams, {', '.join(ran)} ..."
                )
                folder = Path(scratch) / f"{name}-{size}"
                folder.mkdir()
                decisions = run_block(
                    population,
                    planned,
                    contenders=ran,
                    pythons=pythons,
                    folder=folder,
                    progress=progress,
                )
                block_meta = decisions.pop("_meta", {})
                if "driftline" in decisions:
                    allowed = sum(
                        batch["page"]
                        for identifier, change, _, _ in planned.items
                        if change is None
                        for batch in decisions["driftline"][identifier]
                    )
                    for peer in pythons:
                        scale = match_false_pages(planned, decisions[peer], allowed)
                        meta.setdefault("matched_scale", {}).setdefault(peer, {})[
                            f"{name}/{size}"
                        ] = scale
                        # every batch's score, to match again under another rule
                        meta.setdefault("peer_scores", {}).setdefault(peer, {})[
                            f"{name}/{size}"
                        ] = {
                            identifier: [float(batch["score"]) for batch in decided]
                            for identifier, decided in decisions[peer].items()
                        }
                for contender, spent in block_meta.get("seconds", [{}])[0].items():
                    meta["seconds"][contender] += spent
                for peer in pythons:
                    if peer in block_meta:
                        meta.setdefault("peers", {})[peer] = block_meta[peer][0]
                        disagreeing = meta.setdefault("score_disagreements", {})
                        disagreeing[peer] = (
                            disagreeing.get(peer, 0) + block_meta[peer][0]["score_disagreements"]
                        )
                block = tally(planned, decisions)
                per_dataset.setdefault(name, {})[str(size)] = summarise(block)
                merge_counts(total, block)
                for file in folder.iterdir():
                    file.unlink()
            per_size[str(size)] = summarise(total)
    return {
        "setup": {
            "sizes": list(sizes),
            "datasets": [populations[name].describe() for name in datasets],
            "contenders": ran,
            "peer_notes": notes,
            "evaluations": evaluations,
            "streams": streams,
            "stream_length": stream_length,
            "reference_rows": reference_rows,
            "reference_factor": reference_factor,
            "seed": seed,
            "changes": [change.to_dict() for change in changes],
            "machine": harness.machine(),
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
            "seconds": time.perf_counter() - started,
        },
        "meta": meta,
        "by_size": per_size,
        "by_dataset": per_dataset,
    }


#: What runs must share to be combined: the same batches, drawn the same way.
SHARED_SETUP = (
    "datasets",
    "contenders",
    "evaluations",
    "streams",
    "stream_length",
    "reference_rows",
    "reference_factor",
    "seed",
    "changes",
    "mode",
)


def combine(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One result from runs of the same setup on different batch sizes (a long run split
    by ``--sizes`` over processes or machines): every size's batches are seeded from the
    size, so the parts together are the batches one run would draw.

    Raises:
        ValueError: the runs differ in what they draw or decide (named), or share a size.
    """
    first = results[0]
    for other in results[1:]:
        for key in SHARED_SETUP:
            if other["setup"].get(key) != first["setup"].get(key):
                raise ValueError(f"cannot combine runs with different setup.{key}")
    sizes: list[int] = []
    for part in results:
        for size in part["setup"]["sizes"]:
            if size in sizes:
                raise ValueError(f"cannot combine runs that both measured n = {size}")
            sizes.append(size)
    order = sorted(sizes)
    combined: dict[str, Any] = {
        "setup": {
            **first["setup"],
            "sizes": order,
            "seconds": sum(part["setup"]["seconds"] for part in results),
            "load_average": max((part["setup"].get("load_average") or 0.0) for part in results),
            "parts": len(results),
        },
        "meta": {"seconds": {}},
        "by_size": {},
        "by_dataset": {},
    }
    for part in results:
        for name, spent in part["meta"].get("seconds", {}).items():
            combined["meta"]["seconds"][name] = combined["meta"]["seconds"].get(name, 0.0) + spent
        for peer, scales in part["meta"].get("matched_scale", {}).items():
            combined["meta"].setdefault("matched_scale", {}).setdefault(peer, {}).update(scales)
        for peer, scores in part["meta"].get("peer_scores", {}).items():
            combined["meta"].setdefault("peer_scores", {}).setdefault(peer, {}).update(scores)
        for peer, count in part["meta"].get("score_disagreements", {}).items():
            disagreeing = combined["meta"].setdefault("score_disagreements", {})
            disagreeing[peer] = disagreeing.get(peer, 0) + count
        if "peers" in part["meta"]:
            combined["meta"]["peers"] = part["meta"]["peers"]
        combined["by_size"].update(part["by_size"])
        for name, by_size in part["by_dataset"].items():
            combined["by_dataset"].setdefault(name, {}).update(by_size)
    combined["by_size"] = {str(size): combined["by_size"][str(size)] for size in order}
    for name, by_size in combined["by_dataset"].items():
        combined["by_dataset"][name] = {
            str(size): by_size[str(size)] for size in order if str(size) in by_size
        }
    return combined


def _percent(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{100 * value:.1f} %"


def _rows(result: dict[str, Any]) -> list[str]:
    """The rows this run measured, in :data:`ROWS` order."""
    measured = next(iter(result["by_size"].values()), {})
    return [
        row for name in result["setup"]["contenders"] for row, _ in ROWS[name] if row in measured
    ]


def render_null(result: dict[str, Any]) -> str:
    rows = []
    for row in _rows(result):
        cells = [row]
        for size in result["setup"]["sizes"]:
            null = result["by_size"][str(size)][row]["null"]
            cells.append(
                f"{_percent(null['rate'])} [{_percent(null['low'])}, {_percent(null['high'])}] "
                f"({null['pages']}/{null['evaluations']})"
            )
        rows.append(cells)
    header = ["contender", *(f"n = {size:,}" for size in result["setup"]["sizes"])]
    return harness.table(header, rows)


def render_detection(result: dict[str, Any], size: int) -> str:
    by_row = result["by_size"][str(size)]
    rows_shown = _rows(result)
    labels = list(next(iter(by_row.values()))["changes"])
    rows = []
    for label in labels:
        cells = [label]
        for row in rows_shown:
            cell = by_row[row]["changes"][label]
            delay = "-" if cell["mean_delay"] is None else f"{cell['mean_delay']:.1f}"
            cells.append(
                f"{_percent(cell['rate'])} ({cell['pages']}/{cell['evaluations']}); "
                f"delay {delay}, {cell['streams_paged']}/{cell['streams']} streams"
            )
        rows.append(cells)
    return harness.table(["change", *rows_shown], rows)


#: The issue's detection targets: (change label, smallest batch size, largest or None).
DETECTION_TARGETS = (
    ("mean_shift 0.1 σ", 10_000, None),
    ("mean_shift 0.3 σ", 1_000, 1_000),
    ("category_share 5 points", 5_000, None),
    ("category_share 10 points", 1_000, 1_000),
    ("new_category 1 % of rows", 1_000, None),
)


def targets(result: dict[str, Any], row: str = "driftline") -> list[tuple[str, str, bool]]:
    """The issue's targets for ``row``, where this run measured them: (target, figure, met)."""
    verdicts = []
    for size in result["setup"]["sizes"]:
        null = result["by_size"][str(size)].get(row, {}).get("null")
        if null is None or not null["evaluations"]:
            continue
        ok = null["rate"] <= 0.01 and null["high"] <= 0.02
        figure = f"{_percent(null['rate'])}, upper {_percent(null['high'])}"
        verdicts.append((f"false pages ≤ 1 % (upper ≤ 2 %) at n = {size:,}", figure, ok))
    for label, smallest, largest in DETECTION_TARGETS:
        for size in result["setup"]["sizes"]:
            if size < smallest or (largest is not None and size > largest):
                continue
            cell = result["by_size"][str(size)].get(row, {}).get("changes", {}).get(label)
            if cell is None:
                continue
            verdicts.append(
                (
                    f"{label} detected ≥ 90 % at n = {size:,}",
                    _percent(cell["rate"]),
                    cell["rate"] >= 0.9,
                )
            )
    return verdicts


def against_peers(result: dict[str, Any]) -> list[tuple[str, str, bool, bool]]:
    """Per change and size, driftline's detection against each peer's at driftline's false-
    page rate: (change and size, the rates, driftline at least as high as every peer,
    strictly higher than every peer)."""
    verdicts = []
    for size in result["setup"]["sizes"]:
        by_row = result["by_size"][str(size)]
        peers = [row for row in by_row if row.endswith("at driftline's false-page rate")]
        if "driftline" not in by_row or not peers:
            continue
        for label, cell in by_row["driftline"]["changes"].items():
            rates = [by_row[row]["changes"][label]["rate"] for row in peers]
            figure = f"{_percent(cell['rate'])} vs " + ", ".join(
                f"{row.split()[0]} {_percent(rate)}" for row, rate in zip(peers, rates, strict=True)
            )
            verdicts.append(
                (
                    f"{label}, n = {size:,}",
                    figure,
                    all(cell["rate"] >= rate for rate in rates),
                    all(cell["rate"] > rate for rate in rates),
                )
            )
    return verdicts


def render(result: dict[str, Any]) -> str:
    setup = result["setup"]
    lines = ["### False pages per evaluation (stationary data; 95 % Wilson interval)", ""]
    lines.append(render_null(result))
    for size in setup["sizes"]:
        lines += ["", f"### Detection per evaluation and delay, n = {size:,}", ""]
        lines.append(render_detection(result, size))
    verdicts = targets(result)
    if verdicts:
        lines += ["", "### Targets (driftline)", ""]
        lines.append(
            harness.table(
                ["target", "measured", ""],
                [(name, figure, harness.verdict(ok)) for name, figure, ok in verdicts],
            )
        )
    compared = against_peers(result)
    if compared:
        lines += [
            "",
            "### Detection at an equal false-page rate (driftline vs the peers, thresholds scaled)",
            "",
            harness.table(
                ["change", "driftline vs peers", "driftline ≥ every peer"],
                [(name, figure, harness.verdict(ok)) for name, figure, ok, _ in compared],
            ),
            "",
            f"driftline at least as high on {sum(ok for _, _, ok, _ in compared)} of "
            f"{len(compared)} and strictly higher than every peer on "
            f"{sum(higher for *_, higher in compared)}; scales per data set and size: "
            + "; ".join(
                f"{peer} " + ", ".join(f"{block} ×{scale:.3g}" for block, scale in scales.items())
                for peer, scales in result["meta"].get("matched_scale", {}).items()
            )
            + ".",
        ]
    datasets = ", ".join(
        f"{d['name']} ({d['rows']:,} rows, {d['numeric'] + d['categorical']} features)"
        for d in setup["datasets"]
    )
    peers = "; ".join(
        f"{name}: {info['version']}, methods {', '.join(info['methods'])}"
        + (f", {len(info['errors'])} kinds of slice errors" if info["errors"] else "")
        for name, info in result["meta"].get("peers", {}).items()
    )
    spent = ", ".join(
        f"{name} {seconds:,.0f} s" for name, seconds in result["meta"]["seconds"].items()
    )
    lines += [
        "",
        f"Data sets: {datasets}. Per data set and batch size: {setup['evaluations']} null "
        f"evaluations; per change {setup['streams']} streams of {setup['stream_length']} "
        f"evaluations. Reference: max({setup['reference_rows']:,}, "
        f"{setup['reference_factor']} × n) rows. Seed {setup['seed']}.",
        f"Peers: {peers or 'none'}. Time: {setup['seconds']:,.0f} s in all ({spent}); "
        f"load average at the end {setup['load_average']:.1f}; "
        f"Python {setup['machine']['python']}, "
        f"{setup['machine']['versions']}, {setup['machine']['cpus']} CPUs.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few minutes: see QUICK below")
    parser.add_argument("--evaluations", type=int, help="null evaluations per data set and size")
    parser.add_argument("--streams", type=int, help="streams per change, data set and size")
    parser.add_argument("--stream-length", type=int, help="evaluations per stream")
    parser.add_argument("--sizes", help="batch sizes, comma-separated")
    parser.add_argument("--datasets", help=f"comma-separated, of {', '.join(DATASETS)}")
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument(
        "--changes",
        type=parse_changes,
        help="only these planted changes, as kind:size, comma-separated (e.g. variance:1.2)",
    )
    parser.add_argument("--reference-rows", type=int, help="at least this many (50,000)")
    parser.add_argument("--reference-factor", type=int, help="at least this × n rows (10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=harness.RESULTS / "alert_quality")
    parser.add_argument(
        "--combine",
        type=Path,
        nargs="+",
        help="instead of running: one result from the .json of runs on different --sizes",
    )
    args = parser.parse_args(argv)
    if args.combine:
        parts = [json.loads(path.read_text(encoding="utf-8")) for path in args.combine]
        write(combine(parts), args.output)
        return
    quick = QUICK if args.quick else FULL
    sizes = [int(size) for size in (args.sizes.split(",") if args.sizes else quick["sizes"])]
    datasets = args.datasets.split(",") if args.datasets else list(quick["datasets"])
    result = run(
        sizes=sizes,
        datasets=datasets,
        contenders=args.contenders.split(","),
        evaluations=(
            args.evaluations if args.evaluations is not None else int(quick["evaluations"])
        ),
        changes=args.changes if args.changes is not None else list(quick["changes"]),
        streams=args.streams or int(quick["streams"]),
        stream_length=args.stream_length or int(quick["stream_length"]),
        reference_rows=args.reference_rows or int(quick["reference_rows"]),
        reference_factor=args.reference_factor or int(quick["reference_factor"]),
        seed=args.seed,
    )
    result["setup"]["mode"] = "quick" if args.quick else "full"
    write(result, args.output)


def parse_changes(text: str) -> list[Change]:
    """``kind:size,kind:size`` -> the planted changes; a kind or size the full run does not
    plant is an error that names it."""
    changes = []
    for item in text.split(","):
        kind, _, size = item.strip().partition(":")
        if kind not in alert_changes.CHANGES:
            raise argparse.ArgumentTypeError(
                f"unknown change kind {kind!r}: one of {', '.join(alert_changes.CHANGES)}"
            )
        try:
            value = float(size)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{item!r}: the size after ':' is not a number"
            ) from None
        if value not in alert_changes.CHANGES[kind]:
            sizes = ", ".join(f"{known:g}" for known in alert_changes.CHANGES[kind])
            raise argparse.ArgumentTypeError(f"{item!r}: {kind} sizes are {sizes}")
        changes.append(Change(kind, value))
    return changes


def write(result: dict[str, Any], output: Path) -> None:
    """The result rendered to ``output``.md, stored as ``output``.json and printed."""
    text = render(result)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    output.with_suffix(".json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(text)


#: ``--quick``: one data set, three sizes, the changes the targets name, few evaluations.
QUICK: dict[str, Any] = {
    "sizes": (200, 1_000, 10_000),
    "datasets": ("diamonds",),
    "evaluations": 10,
    "streams": 1,
    "stream_length": 2,
    "changes": QUICK_CHANGES,
    "reference_rows": 20_000,
    "reference_factor": 5,
}
#: The full run: every data set, size and change.
FULL: dict[str, Any] = {
    "sizes": SIZES,
    "datasets": DATASETS,
    "evaluations": 100,
    "streams": 5,
    "stream_length": 4,
    "changes": tuple(alert_changes.all_changes()),
    "reference_rows": 50_000,
    "reference_factor": 10,
}


if __name__ == "__main__":
    main()
