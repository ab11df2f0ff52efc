"""The notifications of a plan: the message for machines (the EventBridge ``detail``) and,
for people, a one-line subject and a plain-text body."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from driftline.alerts.identifiers import dedup_key
from driftline.alerts.reading import CheckedEvaluation
from driftline.alerts.retrain_starts import ActionOutcome
from driftline.alerts.transitions import AlertedCheck, PendingCheck
from driftline.checks import CheckResult
from driftline.config.checks import CheckSpec
from driftline.evaluation import ACTION_ORDER
from driftline.formatting import short_number

NotificationKind = Literal["firing", "reminder", "resolved"]

#: SNS accepts subjects of fewer than 100 characters, on one line.
SUBJECT_LIMIT = 99
#: Format of the notification message.
MESSAGE_VERSION = 1

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Notification:
    """One message for the on-call topic (SNS) and the driftline event bus.

    Attributes:
        kind: ``firing`` (checks that newly fail), ``reminder`` (checks still failing) or
            ``resolved`` (checks that pass again).
        checks: the checks the notification is about.
        subject: one ASCII line of fewer than 100 characters (an e-mail subject).
        body: plain text for a person: the model, the status, each failing or recovered
            check with its one-line detail (an estimated check marked ``[ESTIMATED]``), the
            worst error slices, what was done automatically, the evaluation and where its
            report is.
        message: the same as a JSON-able dict for machines (the EventBridge ``detail``).
        dedup_key: :func:`dedup_key` of the model, evaluation and kind.
    """

    kind: NotificationKind
    checks: tuple[str, ...]
    subject: str
    body: str
    message: dict[str, Any]
    dedup_key: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "checks": list(self.checks),
            "subject": self.subject,
            "body": self.body,
            "message": self.message,
            "dedup_key": self.dedup_key,
        }


@dataclass(frozen=True)
class NotificationContext:
    """What every notification of one plan shares."""

    model: str
    evaluation: CheckedEvaluation
    specs: Mapping[str, CheckSpec]
    stamp: str
    failing: list[AlertedCheck]
    recovered: list[AlertedCheck]
    outcomes: list[ActionOutcome]
    report: str
    pending: list[PendingCheck] = field(default_factory=list)

    def notification(self, kind: NotificationKind, about: list[AlertedCheck]) -> Notification:
        key = dedup_key(self.model, self.evaluation.evaluation_id, kind)
        names = tuple(alerted.check.name for alerted in about)
        message = {
            "version": MESSAGE_VERSION,
            "source": "driftline",
            "kind": kind,
            "dedup_key": key,
            "model": self.model,
            "evaluation_id": self.evaluation.evaluation_id,
            "status": self.evaluation.status,
            "window": {"start": self.evaluation.window_start, "end": self.evaluation.window_end},
            "notified_at": self.stamp,
            "about": list(names),
            "checks": {
                "failed": [alerted.to_dict() for alerted in self.failing],
                "resolved": [alerted.to_dict() for alerted in self.recovered],
                "pending": [item.to_dict() for item in self.pending],
            },
            "worst_slices": [dict(item) for item in self.evaluation.worst_slices],
            "actions": [outcome.to_dict() for outcome in self.outcomes],
            "report": self.report,
        }
        return Notification(kind, names, self._subject(kind, about), self._body(kind), message, key)

    def _subject(self, kind: NotificationKind, about: list[AlertedCheck]) -> str:
        label = "RESOLVED" if kind == "resolved" else self.evaluation.status.upper()
        names = [alerted.check.name for alerted in about]
        candidates: list[str] = []
        fallback = ""
        # the whole model name first, then a cut one; if nothing fits, the first form cut
        for model in (self.model, f"{self.model[:20]}..."):
            head = f"[driftline] {model}: {label} - "
            if len(about) == 1:
                check = about[0].check
                verb = {"firing": "failed", "reminder": "still failing", "resolved": "passes again"}
                plain = f"{head}{check.name} {verb[kind]}"
                figures = _figures(check, self.specs.get(check.name))
                candidates += [*(f"{plain} ({figure})" for figure in figures), plain]
                fallback = fallback or plain
                continue
            verb = {"firing": "failed", "reminder": "still failing", "resolved": "pass again"}
            counted = f"{head}{len(about)} checks {verb[kind]}"
            for shown in range(len(names), 0, -1):
                rest = len(names) - shown
                listed = ", ".join(names[:shown]) + (f" +{rest} more" if rest else "")
                candidates.append(f"{counted}: {listed}")
            candidates.append(counted)
            fallback = fallback or counted
        return _fit_subject(candidates, fallback)

    def _body(self, kind: NotificationKind) -> str:
        evaluation = self.evaluation
        failing, recovered = self.failing, self.recovered
        if kind == "resolved":
            verb = "passes" if len(recovered) == 1 else "pass"
            headline = f"{self.model}: {_count(recovered)} {verb} again"
            if failing:
                headline += f"; {_count(failing)} still failing ({evaluation.status.upper()})"
        elif kind == "reminder":
            oldest = min(alerted.since for alerted in failing)
            headline = (
                f"{self.model} is still {evaluation.status.upper()}: {_count(failing)} failing, "
                f"the oldest since {oldest}"
            )
        else:
            fresh = sum(alerted.new for alerted in failing)
            headline = (
                f"{self.model} is {evaluation.status.upper()}: {_count(failing)} failing "
                f"({fresh} new)"
            )
        lines = [headline, _evaluation_line(evaluation), ""]
        sections = [("Failing", failing), ("Passing again", recovered)]
        if kind == "resolved":
            sections.reverse()
        for title, items in sections:
            if not items:
                continue
            lines.append(f"{title}:")
            for alerted in items:
                check = alerted.check
                mark = " [NEW]" if alerted.new else ""
                mark += self._estimated_mark(check)
                lines.append(f"  * {check.name}{mark}: {_one_line(check.detail)}")
                if title == "Failing":
                    lines.append(f"    action {check.action}; failing since {alerted.since}")
                else:
                    lines.append(f"    had been failing since {alerted.since}")
            lines.append("")
        if self.pending:
            lines.append("Failing, not paging yet (persistence rule not met):")
            for waiting in self.pending:
                tally = waiting.tally
                lines.append(
                    f"  * {waiting.check.name}{self._estimated_mark(waiting.check)}: "
                    f"failed {tally.failures} of the last {tally.of} "
                    f"{waiting.window} evaluations, {tally.needed} needed: "
                    f"{_one_line(waiting.check.detail)}"
                )
            lines.append("")
        if evaluation.worst_slices and failing:
            first = evaluation.worst_slices[0]
            lines.append(
                f"Where it fails most ({first['metric']}; "
                f"overall {short_number(first['overall'])}):"
            )
            for item in evaluation.worst_slices:
                lines.append(
                    f"  * {_one_line(item['slice'])}: {short_number(item['value'])} "
                    f"on {item['rows']} rows "
                    f"(gap {short_number(item['gap'])}, z {short_number(item['z'])})"
                )
            lines.append("")
        lines.append("Done automatically:")
        if not self.outcomes:
            lines.append("  * nothing besides this notification")
        for outcome in self.outcomes:
            triggered = ", ".join(outcome.checks)
            if outcome.started:
                lines.append(
                    f"  * {outcome.action} started: execution {outcome.execution_name} "
                    f"(asked by {triggered})"
                )
            else:
                lines.append(f"  * {outcome.action} not started: {outcome.reason}")
        lines.append("")
        lines.append(f"Report: {self.report}")
        return "\n".join(lines) + "\n"

    def _estimated_mark(self, check: CheckResult) -> str:
        """`` [ESTIMATED]`` after an estimated check's name: its figure is the estimate from
        the scores, not yet what the labels measure."""
        spec = self.specs.get(check.name)
        estimated = check.estimate is not None or (spec is not None and spec.estimated)
        return " [ESTIMATED]" if estimated else ""


def _evaluation_line(evaluation: CheckedEvaluation) -> str:
    line = f"Evaluation {evaluation.evaluation_id}"
    if evaluation.window_start or evaluation.window_end:
        line += (
            f", window {evaluation.window_start or 'unknown'} to "
            f"{evaluation.window_end or 'unknown'}"
        )
    return line


def _count(items: Sequence[object]) -> str:
    return f"{len(items)} check" + ("" if len(items) == 1 else "s")


def by_severity(items: list[AlertedCheck]) -> list[AlertedCheck]:
    """Checks asking for the most severe action first, in the result's order otherwise."""
    return sorted(items, key=lambda alerted: ACTION_ORDER.index(alerted.check.action))


def _measure(spec: CheckSpec | None) -> str:
    if spec is None:
        return "value"
    if spec.metric:
        return f"estimated {spec.metric}" if spec.estimated else spec.metric
    if spec.quality:
        return f"{spec.quality} of {spec.feature}" if spec.feature else spec.quality
    if spec.drift == "dataset":
        return "drifted share"
    if spec.drift:
        return f"{spec.drift} drift"
    return f"{spec.detector} on {spec.signal}"


def _figures(check: CheckResult, spec: CheckSpec | None) -> list[str]:
    """``accuracy 0.8217 < 0.85 in plan=basic``, then shorter forms; none without figures."""
    value, threshold = check.value, check.threshold
    if value is None or threshold is None:
        return []
    relation = "<" if value < threshold else ">" if value > threshold else "="
    figure = f"{_measure(spec)} {short_number(value)} {relation} {short_number(threshold)}"
    if not check.segment:
        return [figure]
    values = ",".join(part.partition("=")[2] or part for part in check.segment.split(","))
    return [f"{figure} in {check.segment}", f"{figure} in {values}", figure]


def _one_line(text: str) -> str:
    return _CONTROL.sub(" ", text)


def _one_line_ascii(text: str) -> str:
    """Accents dropped (``Île`` → ``Ile``), other non-ASCII characters left out."""
    return _one_line(unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii"))


def _fit_subject(candidates: list[str], fallback: str) -> str:
    """The first candidate that fits as one ASCII line, or ``fallback`` cut short."""
    for candidate in candidates:
        line = _one_line_ascii(candidate)
        if len(line) <= SUBJECT_LIMIT:
            return line
    return _one_line_ascii(fallback)[: SUBJECT_LIMIT - 3] + "..."
