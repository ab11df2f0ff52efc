"""Timelines of the streaming detectors: where each one fired, along the values it read.

The report takes, per detector check, the number of values read and the positions where a
drift was detected. Two shapes are read:

* ``{"n": 4000, "fired": [1234, 2001], "warnings": [[1100, 1233]]}`` (``warnings``
  optional: runs ``[first, last]`` or single positions);
* a detector entry of ``driftline backtest`` (``rows``, ``fired`` as
  ``{"index", "timestamp", ...}``, ``detector``, ``signal``, ``segment``).

>>> page = detector_section({"error-adwin": {"n": 100, "fired": [60], "detector": "adwin"}})
>>> "drift detected once</strong>, at value 60 of 100" in page
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftline.report.charts import timeline
from driftline.report.figures import items, mapping, number, text
from driftline.report.markup import Html, join, tag

#: Detection positions written out in words (the timeline shows all of them).
LISTED_DETECTIONS = 5


def detector_section(detectors: Mapping[str, Any] | None) -> Html | None:
    """One timeline per detector check (None when no detector is given)."""
    if not detectors:
        return None
    parts: list[Html] = [
        tag("h2", "Detectors", id="detectors"),
        tag(
            "p",
            "Streaming detectors read one value at a time as labels come back; a red mark is "
            "a detected drift, an amber span a warning.",
            class_="muted",
        ),
    ]
    for name, entry in detectors.items():
        parts.append(detector_timeline(name, mapping(entry)))
    return join(parts)


def detector_timeline(name: str, entry: Mapping[str, Any]) -> Html:
    """The heading, the verdict in words and the timeline of one detector."""
    fired, stamps = _positions(items(entry.get("fired")))
    warnings = _runs(items(entry.get("warnings")))
    counted = number(entry.get("n"))
    if counted is None:
        counted = number(entry.get("rows"))
    n = int(counted) if counted is not None else max([*fired, -1]) + 1
    about = [text(entry.get(key)) for key in ("detector", "signal", "segment") if entry.get(key)]
    heading = tag(
        "h3", name, tag("span", f" ({', '.join(about)})", class_="muted") if about else None
    )
    if fired:
        shown = [
            f"{position:,}" + (f" ({stamps[index]})" if stamps[index] else "")
            for index, position in enumerate(fired[:LISTED_DETECTIONS])
        ]
        if len(fired) > LISTED_DETECTIONS:
            shown.append(f"{len(fired) - LISTED_DETECTIONS} more")
        listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
        times = "once" if len(fired) == 1 else f"{len(fired)} times"
        verdict = tag(
            "p",
            tag("strong", f"drift detected {times}", class_="bad"),
            f", at value{'' if len(fired) == 1 else 's'} {listed} of {n:,}.",
        )
    else:
        verdict = tag("p", f"No drift detected in {n:,} values.", class_="good")
    return join([heading, verdict, timeline(n, fired, warnings, label=name)])


def _positions(fired: Any) -> tuple[list[int], list[str]]:
    """Detection positions (and their timestamps, "" when unknown), in stream order."""
    found: list[tuple[int, str]] = []
    for item in fired:
        if isinstance(item, Mapping):
            position = number(item.get("index"))
            stamp = text(item.get("timestamp"))
        else:
            position, stamp = number(item), ""
        if position is not None:
            found.append((int(position), stamp))
    found.sort(key=lambda pair: pair[0])
    return [position for position, _ in found], [stamp for _, stamp in found]


def _runs(warnings: Any) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for item in warnings:
        bounds = [number(value) for value in items(item)] or [number(item)]
        if len(bounds) in (1, 2) and all(bound is not None for bound in bounds):
            first, last = int(bounds[0] or 0), int(bounds[-1] or 0)
            runs.append((min(first, last), max(first, last)))
    return runs
