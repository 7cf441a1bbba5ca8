"""Statutory periods measured on a trail: the one evaluation behind findings, the timeline's
open deadlines and the red flags about periods.

Pure functions over plain data. A period (a ``Deadline`` of ``procurement.rules``) starts
on the Prague date of its source step (or a date in its data, such as ``signed_on``), takes
its days and value limit from the version of the law in force that day
(``procurement.law``), ends as the Civil Code says (``procurement.calendar``), and is
compared with the step that has to keep it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from procurement import law
from procurement.calendar import as_local_date, period_end
from procurement.rules import Deadline, Procedure
from procurement.schemas import Finding, OpenDeadline
from procurement.trail import EffectiveStep

# Operator overrides of the law's values, by rule id: {"days": 20, "value_above": ...}.
Overrides = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class TrailFacts:
    """What the rules read of the procurement itself."""

    procedure: str
    regime: str
    subject: str
    started_on: date


@dataclass(frozen=True)
class Occurrence:
    """A step as a period sees it: its seq, when it happened and its (effective) data."""

    seq: int
    occurred_at: Any
    data: Mapping[str, Any]

    @classmethod
    def of(cls, step: EffectiveStep) -> Occurrence:
        return cls(step.seq, step.occurred_at, step.data)


def period_start(rule: Deadline, source: Occurrence) -> date:
    if rule.from_field and source.data.get(rule.from_field) is not None:
        return as_local_date(source.data[rule.from_field])
    return as_local_date(source.occurred_at)


def version_for(
    rule: Deadline, facts: TrailFacts, start: date, overrides: Overrides | None = None
) -> law.DeadlineVersion | None:
    """The law's values for a period of ``rule`` starting on ``start``: the version in
    force that day, or, when that version applies by the procedure's start (a transitional
    provision) and the procurement started before it, the version of that day."""
    version = rule.version(start)
    if (
        version is not None
        and version.applies_by == "procedure_start"
        and facts.started_on < version.effective_from
    ):
        version = rule.version(facts.started_on)
    if version is not None and overrides and rule.rule_id in overrides:
        version = dataclasses.replace(version, **overrides[rule.rule_id])
    return version


def rule_applies(rule: Deadline, facts: TrailFacts, data: Mapping[str, Any]) -> bool:
    """The rule's regime, subject and data conditions (``when``) hold."""
    if rule.regimes is not None and facts.regime not in rule.regimes:
        return False
    if rule.subjects is not None and facts.subject not in rule.subjects:
        return False
    return all(str(data.get(name)) == value for name, value in rule.when)


def value_condition_holds(version: law.DeadlineVersion, rule: Deadline, holder: Any) -> bool:
    """Periods that apply only above a value (e.g. 1,000,000 CZK) need the value known."""
    if rule.value_field is None or version.value_above is None:
        return True
    value = holder.data.get(rule.value_field) if holder is not None else None
    return value is not None and Decimal(str(value)) > version.value_above


def evaluate(
    rule: Deadline,
    facts: TrailFacts,
    *,
    step_type: str,
    seq: int | None,
    occurred_at: Any,
    data: Mapping[str, Any],
    source: Occurrence,
    value_holder: Occurrence | None = None,
    moved_to: Any = None,
    single_bid: bool = False,
    overrides: Overrides | None = None,
) -> Finding | None:
    """The finding when the step (``occurred_at``, ``data``) breaks ``rule`` measured from
    ``source``, else None. ``moved_to`` replaces the measured date (an extended deadline)."""
    if rule.not_with_single_bid and single_bid:
        return None
    start = period_start(rule, source)
    version = version_for(rule, facts, start, overrides)
    if version is None or not value_condition_holds(version, rule, value_holder or source):
        return None
    if moved_to is not None:
        actual = as_local_date(moved_to)
    elif rule.at_field and data.get(rule.at_field) is not None:
        actual = as_local_date(data[rule.at_field])
    else:
        actual = as_local_date(occurred_at)
    due = period_end(start, version.days, version.day_kind)
    breached = (
        (rule.kind == "within" and actual > due)
        or (rule.kind == "at_least" and actual < due)
        or (rule.kind == "after" and actual <= due)
    )
    if not breached:
        return None
    return _finding(rule, version, source.seq, step_type, seq, due, actual)


def _finding(
    rule: Deadline,
    version: law.DeadlineVersion,
    from_seq: int | None,
    step_type: str,
    seq: int | None,
    due: date,
    actual: date | None,
) -> Finding:
    return Finding(
        rule_id=rule.rule_id,
        legal_reference=version.legal_reference,
        description=rule.describe(version),
        severity=rule.severity,
        kind=rule.kind,
        from_step=rule.from_step,
        from_seq=from_seq,
        step_type=step_type,
        seq=seq,
        due_date=due,
        actual_date=actual,
        confidence=version.confidence,
    )


class _Trail:
    """The steps of a trail with each type's steps at hand (the rules look up the latest
    step of a type before a given one many times per trail)."""

    def __init__(self, steps: Sequence[EffectiveStep]) -> None:
        self.steps = steps
        self.by_type: dict[str, list[EffectiveStep]] = {}
        for step in steps:
            self.by_type.setdefault(step.type, []).append(step)

    def latest(self, step_type: str | None, before: int) -> EffectiveStep | None:
        """The latest step of ``step_type`` with a seq up to ``before``."""
        for step in reversed(self.by_type.get(step_type or "", ())):
            if step.seq <= before:
                return step
        return None


def _single_bid(trail: _Trail, before: int) -> bool:
    opening = trail.latest("bids_opened", before)
    return opening is not None and len(opening.data.get("bids") or []) == 1


OPENERS = ("notice_published", "invitation_sent")


def _moved_to(trail: _Trail, rule: Deadline, source: int) -> Any:
    """The latest moved date (an extended deadline) of the period that ``source`` opened:
    an extension moves the deadline of the latest call before it (the notice's, or once
    invitations went out, theirs)."""
    if rule.moved_by is None:
        return None
    step_type, member = rule.moved_by
    moved = None
    opener = None
    if not trail.by_type.get(step_type):
        return None
    for step in trail.steps:
        if step.type in OPENERS:
            opener = step.seq
        elif step.type == step_type and opener == source and step.data.get(member) is not None:
            moved = step.data[member]
    return moved


@dataclass(frozen=True)
class TrailDeadlines:
    """Every period of a trail: breaches by recorded steps, periods already missed, and
    the periods still open (``open_deadlines``; the overdue ones are also findings)."""

    findings: list[Finding]
    open_deadlines: list[OpenDeadline]


def evaluate_trail(
    facts: TrailFacts,
    proc: Procedure,
    steps: Sequence[EffectiveStep],
    as_of: date,
    overrides: Overrides | None = None,
) -> TrailDeadlines:
    """Measure every period of the procedure on the effective ``steps`` (corrections
    applied and left out), as of the day ``as_of``."""
    steps = [s for s in steps if s.type != "correction"]
    trail = _Trail(steps)
    findings: list[Finding] = []
    for step in steps:
        step_rule = proc.step(step.type)
        if step_rule is None:
            continue
        for rule in step_rule.deadlines:
            if not rule_applies(rule, facts, step.data):
                continue
            source = step if rule.from_step == step.type else trail.latest(rule.from_step, step.seq)
            if source is None:
                continue
            holder = trail.latest(rule.value_step, step.seq) if rule.value_step else None
            finding = evaluate(
                rule,
                facts,
                step_type=step.type,
                seq=step.seq,
                occurred_at=step.occurred_at,
                data=step.data,
                source=Occurrence.of(source),
                value_holder=Occurrence.of(holder) if holder is not None else None,
                moved_to=_moved_to(trail, rule, source.seq),
                single_bid=_single_bid(trail, step.seq) if rule.not_with_single_bid else False,
                overrides=overrides,
            )
            if finding is not None:
                findings.append(finding)
    pending = [] if "cancelled" in trail.by_type else _open(facts, proc, trail, overrides)
    for rule, version, source_seq, step_type, due in pending:
        if as_of > due:
            findings.append(_finding(rule, version, source_seq, step_type, None, due, None))
    open_deadlines = sorted(
        (
            OpenDeadline(
                rule_id=rule.rule_id,
                legal_reference=version.legal_reference,
                description=rule.describe(version),
                step_type=step_type,
                from_step=rule.from_step,
                from_seq=source_seq,
                due_date=due,
                kind="within",
                overdue=as_of > due,
            )
            for rule, version, source_seq, step_type, due in pending
        ),
        key=lambda d: (d.due_date, d.rule_id),
    )
    return TrailDeadlines(findings=findings, open_deadlines=open_deadlines)


def _open(
    facts: TrailFacts,
    proc: Procedure,
    trail: _Trail,
    overrides: Overrides | None,
) -> list[tuple[Deadline, law.DeadlineVersion, int, str, date]]:
    """'Within' periods that have started and whose closing step is still missing."""
    last = trail.steps[-1].seq if trail.steps else 0
    found = []
    for step_rule in proc.steps:
        for rule in step_rule.deadlines:
            if rule.kind != "within":
                continue
            source = trail.latest(rule.from_step, last)
            if source is None:
                continue
            if rule.regimes is not None and facts.regime not in rule.regimes:
                continue
            if rule.subjects is not None and facts.subject not in rule.subjects:
                continue
            closed = any(
                s.seq > source.seq
                and (rule.closed_by_any or all(str(s.data.get(k)) == v for k, v in rule.when))
                for s in trail.by_type.get(step_rule.type, ())
            )
            if closed:
                continue
            start = period_start(rule, Occurrence.of(source))
            version = version_for(rule, facts, start, overrides)
            if version is None:
                continue
            holder = trail.latest(rule.value_step, last) if rule.value_step else source
            if not value_condition_holds(version, rule, holder):
                continue
            due = period_end(start, version.days, version.day_kind)
            found.append((rule, version, source.seq, step_rule.type, due))
    return found
