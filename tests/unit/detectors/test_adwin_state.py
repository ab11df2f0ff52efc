"""ADWIN's saved state stays small: the exponential histogram keeps O(log n) buckets."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from detector_streams import detections, error_stream, gaussian_stream

from driftline.detectors import ADWIN


@pytest.mark.parametrize("numeric", [True, False], ids=["gaussian", "errors"])
def test_adwin_state_stays_small_over_100k_values(numeric: bool) -> None:
    # GIVEN 100,000 values from a stationary stream
    stream = gaussian_stream(0, "none", 100_000) if numeric else error_stream(0, "none", 100_000)
    detector = ADWIN()
    # WHEN ADWIN reads them all (no drift, so the window holds every value)
    assert detections(detector, stream)[0] == []
    assert detector.width == 100_000
    state = detector.to_dict()["state"]
    rows = state["totals"]
    # THEN it keeps at most max_buckets buckets per row and about log2(n) rows
    assert all(len(row) <= 5 for row in rows)
    assert len(rows) <= math.log2(detector.width) + 1
    # AND the buckets account for every value, so nothing was dropped
    assert sum(len(row) << i for i, row in enumerate(rows)) == detector.width
    assert sum(map(sum, rows)) == pytest.approx(sum(stream), rel=1e-9, abs=1e-6)
    # AND the merged variance is the window's sum of squared deviations
    assert state["variance"] == pytest.approx(np.var(stream) * len(stream), rel=1e-9)
    # AND the saved form is a few kilobytes
    assert len(json.dumps(detector.to_dict())) < 4096


def test_adwin_window_shrinks_to_the_recent_part_on_a_cut() -> None:
    # GIVEN a jump of three standard deviations after 2,000 values
    stream = [x + 3.0 * (i >= 2000) for i, x in enumerate(gaussian_stream(1, "none", 2100))]
    first = detections(ADWIN(), stream)[0][0]
    # WHEN ADWIN reports the drift
    detector = ADWIN()
    detections(detector, stream[: first + 1])
    assert detector.drift_detected and 2000 <= first < 2100
    # THEN its window dropped the old values, whole buckets at a time (the last old bucket
    # may stay: a cut needs enough values on both sides), so its mean moved towards 3
    assert detector.width < 2 * (first + 1 - 2000) + 32
    assert detector.estimation > 1.0
    # AND the next update starts an empty window, as River's does
    assert detector.update(3.0).width == 1
