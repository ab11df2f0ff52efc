"""The contract every detector keeps, checked over the whole registry.

Each detector gets example parameters and a stream (numeric or error indicators) that makes
it fire several times, so the re-arm and resume checks have drifts to cross.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import json
import pickle
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftline.config import DETECTOR_PARAMS
from driftline.detectors import DETECTORS, DriftDetector, detector_from_dict, make_detector

#: Parameters and input kind per detector; the stream must make the detector fire.
EXAMPLES: dict[str, tuple[dict[str, Any], str]] = {
    "adwin": ({}, "numeric"),
    "ddm": ({}, "errors"),
    "eddm": ({"alpha": 0.9, "beta": 0.8}, "errors"),
    "page_hinkley": ({"threshold": 20.0}, "numeric"),
    "cusum": ({"threshold": 8.0}, "numeric"),
    "sprt": ({"p0": 0.1, "p1": 0.2}, "errors"),
}
NAMES = sorted(EXAMPLES)
PACKAGE = Path(__file__).resolve().parents[3] / "layers" / "core" / "driftline" / "detectors"


def _stream(kind: str, seed: int, n: int = 3000) -> list[Any]:
    """Regimes alternating every 500 values: mean 0 / 2, or error rate 10 % / 35 %."""
    rng = np.random.default_rng(seed)
    high = (np.arange(n) // 500) % 2 == 1
    if kind == "numeric":
        return [float(x) for x in rng.normal(np.where(high, 2.0, 0.0), 1.0)]
    return [int(x) for x in rng.random(n) < np.where(high, 0.35, 0.1)]


def _make(name: str) -> DriftDetector:
    return make_detector(name, **EXAMPLES[name][0])


def _trace(detector: DriftDetector, stream: list[Any]) -> list[tuple[bool, bool, Any]]:
    """What every update reported: drift, warning and (for SPRT) the decision."""
    return [
        (d.drift_detected, d.warning_detected, getattr(d, "decision", None))
        for d in map(detector.update, stream)
    ]


def _drift_indices(name: str, seed: int = 0) -> list[int]:
    trace = _trace(_make(name), _stream(EXAMPLES[name][1], seed))
    return [i for i, (drift, _, _) in enumerate(trace) if drift]


def _json_round_trip(detector: DriftDetector) -> DriftDetector:
    return detector_from_dict(json.loads(json.dumps(detector.to_dict(), allow_nan=False)))


def test_registry_names_and_parameters_match_the_monitor_definition() -> None:
    # GIVEN the detector names and parameters a monitor definition accepts
    # THEN the registry has exactly those detectors, taking exactly those keywords
    assert set(DETECTORS) == set(DETECTOR_PARAMS) == set(EXAMPLES)
    for name, cls in DETECTORS.items():
        assert cls.name == name
        assert set(cls.parameter_names()) == DETECTOR_PARAMS[name], name


@pytest.mark.parametrize("name", NAMES)
def test_constructor_takes_keyword_arguments_only(name: str) -> None:
    cls = DETECTORS[name]
    kinds = {p.kind for p in inspect.signature(cls).parameters.values()}
    assert kinds == {inspect.Parameter.KEYWORD_ONLY}
    with pytest.raises(TypeError):
        cls(0.1, 0.2)  # type: ignore[call-arg]


@pytest.mark.parametrize("name", NAMES)
def test_new_detector_has_seen_nothing_and_reports_nothing(name: str) -> None:
    detector = _make(name)
    assert (detector.n, detector.drift_detected, detector.warning_detected) == (0, False, False)


@pytest.mark.parametrize("name", NAMES)
def test_update_returns_the_detector_itself(name: str) -> None:
    detector = _make(name)
    assert detector.update(1) is detector


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("attribute", ["drift_detected", "warning_detected", "n", "params"])
def test_results_are_read_only(name: str, attribute: str) -> None:
    detector = _make(name)
    with pytest.raises(AttributeError):
        setattr(detector, attribute, True)


@pytest.mark.parametrize("name", NAMES)
def test_instances_are_independent_and_params_are_copies(name: str) -> None:
    # GIVEN two detectors built with the same (default) arguments
    first, second = _make(name), _make(name)
    # WHEN one reads a stream and its params dict is tampered with
    _trace(first, _stream(EXAMPLES[name][1], seed=1))
    first.params.clear()
    # THEN the other is untouched and the first still knows its parameters
    assert second.to_dict() == _make(name).to_dict()
    assert first.params == _make(name).params


@pytest.mark.parametrize("name", NAMES)
def test_n_counts_every_update_across_rearms(name: str) -> None:
    stream = _stream(EXAMPLES[name][1], seed=2)
    detector = _make(name)
    _trace(detector, stream)
    assert _drift_indices(name, seed=2), "the example stream must make the detector fire"
    assert detector.n == len(stream)


@pytest.mark.parametrize("name", NAMES)
def test_rearms_after_a_drift(name: str) -> None:
    # GIVEN a detector that just reported its first drift
    stream = _stream(EXAMPLES[name][1], seed=3)
    first = _drift_indices(name, seed=3)[0]
    detector = _make(name)
    _trace(detector, stream[: first + 1])
    assert detector.drift_detected
    # WHEN it reads the next value
    detector.update(stream[first + 1])
    # THEN it is in the state of a new detector that read only that value
    fresh = _make(name).update(stream[first + 1])
    rearmed = {k: v for k, v in detector.to_dict()["state"].items() if k != "n"}
    assert rearmed == {k: v for k, v in fresh.to_dict()["state"].items() if k != "n"}


@pytest.mark.parametrize("name", NAMES)
def test_same_stream_gives_same_detections_and_state(name: str) -> None:
    stream = _stream(EXAMPLES[name][1], seed=4)
    first, second = _make(name), _make(name)
    assert _trace(first, stream) == _trace(second, stream)
    assert first.to_dict() == second.to_dict()


@pytest.mark.parametrize("name", NAMES)
def test_to_dict_survives_json_at_every_stage(name: str) -> None:
    # GIVEN a detector saved before any data, early, right after each drift and at the end
    stream = _stream(EXAMPLES[name][1], seed=5)
    checkpoints = {0, 1, 10, 100, len(stream)} | {i + 1 for i in _drift_indices(name, 5)}
    detector = _make(name)
    for i, x in enumerate([None, *stream]):
        if x is not None:
            detector.update(x)
        if i in checkpoints:
            saved = detector.to_dict()
            # WHEN it goes through strict JSON and back THEN nothing changes
            restored = _json_round_trip(detector)
            assert type(restored) is type(detector)
            assert restored.to_dict() == saved
            assert (restored.n, restored.drift_detected) == (detector.n, detector.drift_detected)
    # AND the saved form is small
    assert len(json.dumps(detector.to_dict())) < 4096


@pytest.mark.parametrize("name", NAMES)
def test_to_dict_does_not_share_state_with_the_detector(name: str) -> None:
    detector = _make(name)
    _trace(detector, _stream(EXAMPLES[name][1], seed=6)[:700])
    saved = detector.to_dict()
    frozen = json.dumps(saved)
    _trace(detector, _stream(EXAMPLES[name][1], seed=6)[700:])
    assert json.dumps(saved) == frozen


@pytest.mark.parametrize("name", NAMES)
def test_pickle_round_trip(name: str) -> None:
    detector = _make(name)
    _trace(detector, _stream(EXAMPLES[name][1], seed=7)[:800])
    assert pickle.loads(pickle.dumps(detector)).to_dict() == detector.to_dict()


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), split=st.integers(0, 1500))
def test_resuming_from_a_saved_state_gives_the_same_detections(
    name: str, seed: int, split: int
) -> None:
    # GIVEN a stream and an uninterrupted run over it
    stream = _stream(EXAMPLES[name][1], seed, n=1500)
    expected = _trace(_make(name), stream)
    # WHEN another run stops at a random point, goes through JSON and resumes
    detector = _make(name)
    before = _trace(detector, stream[:split])
    resumed = _json_round_trip(detector)
    # THEN every update reports the same as the uninterrupted run
    assert before + _trace(resumed, stream[split:]) == expected


@pytest.mark.parametrize("name", NAMES)
def test_resuming_around_each_drift_gives_the_same_detections(name: str) -> None:
    stream = _stream(EXAMPLES[name][1], seed=8)
    expected = _trace(_make(name), stream)
    drifts = [i for i, (drift, _, _) in enumerate(expected) if drift]
    assert drifts
    for split in sorted({s for i in drifts for s in (i, i + 1, i + 2)}):
        detector = _make(name)
        before = _trace(detector, stream[:split])
        assert before + _trace(_json_round_trip(detector), stream[split:]) == expected, split


@pytest.mark.parametrize("name", NAMES)
def test_rejected_input_names_what_is_allowed_and_changes_nothing(name: str) -> None:
    detector = _make(name)
    _trace(detector, _stream(EXAMPLES[name][1], seed=9)[:50])
    saved = detector.to_dict()
    if EXAMPLES[name][1] == "errors":
        for bad in (0.5, 2, -1, float("nan")):
            with pytest.raises(ValueError, match="expected an error indicator 0 or 1, got"):
                detector.update(bad)
    else:
        for bad in (float("nan"), float("inf")):
            with pytest.raises(ValueError, match="expected a finite value, got"):
                detector.update(bad)
        with pytest.raises(TypeError, match="expected a real number, got str"):
            detector.update("1.0")  # type: ignore[arg-type]
    assert detector.to_dict() == saved


@pytest.mark.parametrize("name", NAMES)
def test_booleans_and_numpy_scalars_are_accepted_like_numbers(name: str) -> None:
    stream = _stream(EXAMPLES[name][1], seed=10)[:600]
    plain, numpy_typed = _make(name), _make(name)
    converted: list[Any] = [np.int64(x) if isinstance(x, int) else np.float32(x) for x in stream]
    if EXAMPLES[name][1] == "errors":
        converted = [bool(x) for x in stream]
    expected = _trace(plain, [float(x) for x in converted])
    assert _trace(numpy_typed, converted) == expected


@pytest.mark.parametrize("name", NAMES)
def test_from_dict_refuses_a_foreign_or_damaged_state(name: str) -> None:
    cls, saved = DETECTORS[name], _make(name).to_dict()
    other = next(n for n in NAMES if n != name)
    cases = [
        ({**saved, "detector": other}, f"expected a saved {name} detector, got '{other}'"),
        ({**saved, "version": 2}, "expected state version 1, got 2"),
        ({**saved, "state": {**saved["state"], "extra": 1}}, f"expected {name} state keys"),
        ({k: v for k, v in saved.items() if k != "params"}, "expected saved detector keys"),
        ({**saved, "params": {**saved["params"], "bogus": 1}}, "unknown parameter 'bogus'"),
    ]
    for damaged, message in cases:
        with pytest.raises(ValueError, match=re.escape(message)):
            cls.from_dict(damaged)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("kswin", {}, "unknown detector 'kswin'; expected one of adwin, cusum, ddm, eddm,"),
        ("adwin", {"window": 5}, "unknown parameter 'window' for adwin; allowed: clock, delta,"),
        ("sprt", {"p1": 0.2}, "missing parameter 'p0' for sprt; allowed: alpha, beta, p0, p1"),
        ("adwin", {"delta": 1.5}, "expected delta in (0, 1), got 1.5"),
        ("adwin", {"clock": 0}, "expected clock to be an integer >= 1, got 0"),
        ("adwin", {"clock": 2.5}, "expected clock to be an integer >= 1, got 2.5"),
        ("ddm", {"warning_threshold": 3.0, "drift_threshold": 2.0}, "expected drift_threshold"),
        ("eddm", {"alpha": 0.9, "beta": 0.95}, "expected beta in (0, 0.9], got 0.95"),
        ("page_hinkley", {"mode": "sideways"}, "expected mode in up, down, both, got 'sideways'"),
        ("page_hinkley", {"alpha": 0.0}, "expected alpha in (0, 1], got 0.0"),
        ("cusum", {"threshold": -1}, "expected threshold > 0, got -1"),
        ("cusum", {"target": float("nan")}, "expected target to be a finite number, got nan"),
        ("sprt", {"p0": 0.1, "p1": 0.1}, "expected p1 different from p0"),
        ("sprt", {"p0": 0.1, "p1": 0.2, "alpha": 0.5, "beta": 0.6}, "expected beta in (0, 0.5)"),
        ("sprt", {"p0": True, "p1": 0.2}, "expected p0 in (0, 1), got True"),
    ],
)
def test_make_detector_says_what_was_received_and_what_is_allowed(
    name: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_detector(name, **params)


def test_detector_from_dict_refuses_an_unknown_detector() -> None:
    with pytest.raises(ValueError, match="unknown detector 'kswin'"):
        detector_from_dict({"detector": "kswin"})


ALLOWED_IMPORTS = {"__future__", "abc", "copy", "inspect", "math", "numbers", "typing"}


def test_detectors_import_only_the_standard_library_they_need() -> None:
    # No river (a test-only oracle), no boto3, no os.environ, no clock, no randomness.
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            for module in modules:
                allowed = module in ALLOWED_IMPORTS or module == "collections.abc"
                assert allowed or module.startswith("driftline.detectors"), (path.name, module)


def test_importing_the_detectors_loads_neither_river_nor_boto3() -> None:
    code = (
        "import sys, driftline.detectors\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('river', 'boto3')))"
    )
    core = str(PACKAGE.parents[1])
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": core, "PATH": ""},
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["__init__", *(p.stem for p in PACKAGE.glob("[!_]*.py"))])
def test_docstring_examples_print_what_they_claim(module: str) -> None:
    name = "driftline.detectors" + ("" if module == "__init__" else f".{module}")
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testmod(importlib.import_module(name), optionflags=flags)
    assert result.failed == 0
