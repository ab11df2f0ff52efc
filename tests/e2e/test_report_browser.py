"""The churn example's report in a real browser: headless Chromium, offline.

Debian's ``chromium`` renders the page from a file with every host name mapped to nowhere,
dumps the DOM it built and takes a screenshot. Its network log (``--log-net-log``) lists
every request; the page must have caused none. A control page with one external image shows
that the check sees a request when there is one.

Skipped, saying why, where ``/usr/bin/chromium`` is absent (``apt-get install -y chromium``).
The screenshot is written under pytest's temporary folder and copied to
``tests/artifacts/report.png`` when that folder exists.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from driftline.cli import load_profile, load_reference
from driftline.config import load_monitor_definition
from driftline.evaluation import Window, evaluate
from driftline.report import render_report

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
CHURN = ROOT / "examples" / "churn"
ARTIFACTS = ROOT / "tests" / "artifacts"
WINDOW = (1280, 2400)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless browser test needs Debian's chromium at /usr/bin/chromium "
    "(apt-get install -y chromium)",
)

#: No sandbox (the tests may run as root), no GPU, none of Chromium's own background
#: traffic, and every host name resolved to nothing, so any fetch would fail visibly.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def churn_report() -> str:
    definition = load_monitor_definition(
        (CHURN / "monitor.yaml").read_bytes(), source="monitor.yaml"
    )
    reference = load_reference(CHURN / "reference.csv", definition, chunk_rows=100_000)
    current = load_profile([CHURN / "current.csv"], definition, reference, chunk_rows=100_000)
    result = evaluate(
        definition,
        reference,
        current,
        evaluation_id="churn-2024-06",
        window=Window("2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z"),
    ).to_dict()
    earlier = []
    for month, accuracy in ((3, 0.871), (4, 0.866), (5, 0.858)):
        point = json.loads(json.dumps(result))
        point.update(evaluation_id=f"churn-2024-0{month}", status="ok")
        point["window"] = {"start": None, "end": f"2024-0{month}-01T00:00:00Z"}
        point["performance"]["overall"]["accuracy"] = accuracy
        earlier.append(point)
    return render_report(
        result,
        reference=reference.profile,
        current=current,
        history=earlier,
        detectors={"error-adwin": {"n": 4000, "fired": [2210], "warnings": [[2100, 2209]]}},
    )


def chromium(page: Path, work: Path, *arguments: str) -> tuple[str, list[str]]:
    """Run Chromium on ``page``; return its stdout and the URLs the page requested."""
    netlog = work / f"{page.stem}.netlog.json"
    completed = subprocess.run(
        [
            str(CHROMIUM),
            *FLAGS,
            f"--user-data-dir={work / (page.stem + '-profile')}",
            f"--log-net-log={netlog}",
            *arguments,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout, page_requests(json.loads(netlog.read_text()))


def page_requests(netlog: dict[str, Any]) -> list[str]:
    """URLs requested on behalf of a page (Chromium's own requests have no origin)."""
    names = {code: name for name, code in netlog["constants"]["logEventTypes"].items()}
    starts = [
        event.get("params", {})
        for event in netlog["events"]
        if names.get(event["type"]) == "URL_REQUEST_START_JOB"
    ]
    return [
        str(start["url"])
        for start in starts
        if "url" in start  # the event's end phase carries only the outcome
        and start.get("initiator") != "not an origin"
        and not str(start["url"]).startswith("file:")
    ]


class VisibleText(HTMLParser):
    """The text a reader sees: no head, no stylesheet, no tooltips; plus element counts."""

    HIDDEN = frozenset({"head", "style", "title", "script"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.parts: list[str] = []
        self.counts: dict[str, int] = {}
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] = self.counts.get(tag, 0) + 1
        self.ids += [str(value) for name, value in attrs if name == "id"]
        if tag in self.HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def read(markup: str) -> VisibleText:
    parser = VisibleText()
    parser.feed(markup)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "churn-report.html"
    path.write_text(churn_report(), encoding="utf-8")
    return path


def test_chromium_shows_model_status_and_failed_checks_offline(
    report_file: Path, tmp_path: Path
) -> None:
    # GIVEN the churn report WHEN Chromium opens it with no name resolving
    dom, requested = chromium(report_file, tmp_path, "--dump-dom")
    seen = read(dom)
    # THEN the reader sees the model, the status and the failed checks
    assert seen.text.startswith("churn CRITICAL evaluation churn-2024-06")
    assert "Critical: a check that retrains the model failed." in seen.text
    assert "Failed checks (6) Check Value Threshold Baseline Segment Action What was found" in (
        seen.text
    )
    assert "accuracy-floor 0.8217 0.85 0.8674 all rows retrain accuracy is 0.8217" in seen.text
    assert "online-only (new)" in seen.text
    # AND the browser built every section, table and chart of the page
    source = read(report_file.read_text(encoding="utf-8"))
    assert seen.ids == source.ids
    for element in ("svg", "tr", "rect", "polyline", "h2"):
        assert seen.counts.get(element) == source.counts.get(element), element
    # AND the page requested nothing
    assert requested == []


def test_the_network_check_sees_a_page_that_does_request(tmp_path: Path) -> None:
    # GIVEN a control page with an external image and stylesheet (the report has neither)
    control = tmp_path / "control.html"
    control.write_text(
        '<!DOCTYPE html><html><head><link rel="stylesheet" href="https://fonts.invalid/a.css">'
        '</head><body><p>control</p><img src="http://images.invalid/x.png"></body></html>',
        encoding="utf-8",
    )
    # WHEN Chromium opens it THEN the network log names both requests
    dom, requested = chromium(control, tmp_path, "--dump-dom")
    assert "control" in dom
    assert sorted(requested) == ["http://images.invalid/x.png", "https://fonts.invalid/a.css"]


def test_screenshot_of_the_report(report_file: Path, tmp_path: Path) -> None:
    # GIVEN the report WHEN Chromium takes a screenshot of its first screens
    shot = tmp_path / "report.png"
    _, requested = chromium(
        report_file,
        tmp_path,
        f"--screenshot={shot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    )
    # THEN it is a PNG of the window's size with a real page in it (a blank one is tiny)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == WINDOW
    assert len(data) > 100_000
    assert requested == []
    if ARTIFACTS.is_dir():
        shutil.copyfile(shot, ARTIFACTS / "report.png")
