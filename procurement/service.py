"""The procurement trail: create procurements, record steps (one hash-chained ledger entry
each), derive findings, status and the timeline. Services flush; the request commits.

Appending a step is a handful of indexed statements: take the ledger head
(next_leaf_index), lock the procurement row (its chain head, with the distinct step types
recorded so far), read only the steps a deadline rule refers to, insert the entry and the
step, advance both heads. Lock order everywhere: the ledger head first, then the
procurement row (a transaction may hold several appends, see api/writer.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import rfc8785
from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, func
from sqlalchemy import insert as sa_insert
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from api.auth import Caller, as_utc, ensure, utcnow
from api.db import dialect_name
from catalogue.service import municipality_registered, unknown_solutions
from procurement import cpv
from procurement.calendar import local_date, period_end
from procurement.exceptions import (
    InvalidProcurement,
    ProcurementNotFound,
    StepNotAllowed,
    StepNotFound,
    StepOutOfOrder,
)
from procurement.ledger import service as ledger
from procurement.ledger.models import LedgerEntry
from procurement.models import OcidCounter, Procurement, ProcurementStep
from procurement.rules import (
    PROCEDURES,
    TERMINAL_TYPES,
    Deadline,
    Procedure,
    procedure,
)
from procurement.schemas import (
    CorrectionStep,
    DeadlinePublic,
    Finding,
    OpenDeadline,
    ProcedurePublic,
    ProceduresPublic,
    ProcurementCreate,
    ProcurementPublic,
    StepBase,
    StepPublic,
    StepRecorded,
    StepRulePublic,
    ThresholdPublic,
    Timeline,
    TimelineStep,
)
from procurement.thresholds import THRESHOLDS, regime_for, threshold_in_force

ENTRY_VERSION = 1
BUYER_CODE = re.compile(r"^[0-9]{6}$")


def rfc3339(moment: datetime) -> str:
    """UTC, RFC 3339 with "Z" (microseconds only when there are any)."""
    return as_utc(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- buyers and ocids --------------------------------------------------------------------


def buyer_exists(session: Session, code: str) -> bool:
    """Is ``code`` a municipality of the register (imported by the catalogue)?"""
    return bool(BUYER_CODE.match(code)) and municipality_registered(session, code)


def _next_ocid_number(session: Session, buyer_code: str, year: int) -> int:
    """Hand out the next number for buyer and year, race-safe: the counter row is created
    if missing (ON CONFLICT DO NOTHING) and then locked FOR UPDATE."""
    table = OcidCounter.__table__  # type: ignore[attr-defined]
    insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
    session.execute(
        insert(table)
        .values(buyer_code=buyer_code, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["buyer_code", "year"])
    )
    counter = session.exec(
        select(OcidCounter)
        .where(OcidCounter.buyer_code == buyer_code, OcidCounter.year == year)
        .with_for_update()
    ).one()
    counter.last_number += 1
    session.add(counter)
    return counter.last_number


def make_ocid(prefix: str, buyer_code: str, year: int, number: int) -> str:
    return f"ocds-{prefix}-{buyer_code}-{year}-{number}"


# --- procurements ------------------------------------------------------------------------


def create_procurement(
    session: Session,
    body: ProcurementCreate,
    caller: Caller,
    *,
    ocid_prefix: str,
    now: datetime | None = None,
) -> Procurement:
    """Open a procurement for the caller's municipality (an admin for any)."""
    now = now or utcnow()
    ensure(
        caller.acts_for_municipality(body.buyer_code),
        f"This key may not open procurements for municipality {body.buyer_code}.",
    )
    if not buyer_exists(session, body.buyer_code):
        raise InvalidProcurement(
            f"There is no municipality with code {body.buyer_code}.", "/buyer_code"
        )
    today = local_date(now)
    regime = regime_for(body.subject, body.estimated_value_excl_vat, today)
    proc = procedure(body.procedure)
    if regime not in proc.regimes:
        limit = threshold_in_force("small_scale", body.subject, today)
        raise InvalidProcurement(
            f"A {body.subject} contract of {body.estimated_value_excl_vat} CZK is "
            f"{regime.replace('_', '-')}; the procedure '{proc.id}' is only for "
            f"{', '.join(proc.regimes)} contracts (small-scale limit {limit.amount_czk} CZK, "
            f"{limit.legal_reference}).",
            "/procedure",
        )
    unknown = cpv.unknown_codes(session, body.cpv)
    if unknown:
        raise InvalidProcurement(f"Not in the imported CPV list: {', '.join(unknown)}.", "/cpv")
    missing = unknown_solutions(session, body.solution_ids)
    if missing:
        raise InvalidProcurement(
            f"There is no catalogue solution with id {', '.join(map(str, missing))}.",
            "/solution_ids",
        )
    year = now.astimezone(UTC).year
    number = _next_ocid_number(session, body.buyer_code, year)
    procurement = Procurement(
        ocid=make_ocid(ocid_prefix, body.buyer_code, year, number),
        buyer_code=body.buyer_code,
        ocid_year=year,
        ocid_number=number,
        title=body.title,
        description=body.description,
        subject=body.subject,
        procedure=body.procedure,
        regime=regime,
        estimated_value_excl_vat=body.estimated_value_excl_vat,
        currency=body.currency,
        cpv_codes=list(dict.fromkeys(body.cpv)),
        solution_ids=list(dict.fromkeys(body.solution_ids)),
        external_ids=body.external_ids.model_dump(mode="json", exclude_none=True),
        created_at=now,
        created_by_key_id=caller.key_id,
        status="planned",
    )
    session.add(procurement)
    session.flush()
    return procurement


def get_procurement(session: Session, ocid: str, *, for_update: bool = False) -> Procurement:
    query = select(Procurement).where(Procurement.ocid == ocid)
    if for_update:
        query = query.with_for_update()
    found = session.exec(query).first()
    if found is None:
        raise ProcurementNotFound(ocid)
    return found


def list_procurements(
    session: Session,
    *,
    after_id: int | None,
    limit: int,
    buyer_code: str | None = None,
    procedure_id: str | None = None,
    status: str | None = None,
) -> list[Procurement]:
    query = select(Procurement).order_by(col(Procurement.id)).limit(limit)
    if after_id is not None:
        query = query.where(col(Procurement.id) > after_id)
    if buyer_code is not None:
        query = query.where(Procurement.buyer_code == buyer_code)
    if procedure_id is not None:
        query = query.where(Procurement.procedure == procedure_id)
    if status is not None:
        query = query.where(Procurement.status == status)
    return list(session.exec(query))


def procurement_public(procurement: Procurement) -> ProcurementPublic:
    return ProcurementPublic(
        ocid=procurement.ocid,
        buyer_code=procurement.buyer_code,
        title=procurement.title,
        description=procurement.description,
        subject=procurement.subject,  # type: ignore[arg-type]
        procedure=procurement.procedure,  # type: ignore[arg-type]
        regime=procurement.regime,  # type: ignore[arg-type]
        status=procurement.status,  # type: ignore[arg-type]
        estimated_value_excl_vat=Decimal(procurement.estimated_value_excl_vat),
        currency=procurement.currency,
        cpv=list(procurement.cpv_codes),
        solution_ids=list(procurement.solution_ids),
        external_ids=dict(procurement.external_ids),
        created_at=as_utc(procurement.created_at),
        created_by_key_id=procurement.created_by_key_id,
        step_count=procurement.last_seq,
        last_entry_hash=procurement.last_entry_hash,
    )


# --- status ------------------------------------------------------------------------------

_STATUS_BY_STEP = (
    ("cancelled", "cancelled"),
    ("completed", "completed"),
    ("contract_signed", "contracted"),
    ("selection_decided", "awarded"),
    ("evaluation_completed", "evaluating"),
    ("bids_opened", "evaluating"),
    ("notice_published", "tendering"),
    ("invitation_sent", "tendering"),
    ("tender_documents_published", "tendering"),
)


def derive_status(types: set[str]) -> str:
    """planned → tendering → evaluating → awarded → contracted → completed (or cancelled)."""
    for step_type, status in _STATUS_BY_STEP:
        if step_type in types:
            return status
    return "planned"


# --- recording steps ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Occurrence:
    """A recorded step that a deadline refers to."""

    seq: int
    occurred_at: datetime
    data: dict[str, Any]


def _entry_document(entry_bytes: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(entry_bytes)
    return document


def _latest_occurrence(
    session: Session, procurement_id: int, step_type: str, *, with_data: bool
) -> _Occurrence | None:
    """The latest step of ``step_type``; its data is read from the ledger only when needed."""
    row = session.exec(
        select(ProcurementStep.seq, ProcurementStep.occurred_at, ProcurementStep.leaf_index)
        .where(
            ProcurementStep.procurement_id == procurement_id,
            ProcurementStep.type == step_type,
        )
        .order_by(col(ProcurementStep.seq).desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    seq, occurred_at, leaf_index = row
    data: dict[str, Any] = {}
    if with_data:
        # The step's bytes and those of any corrections of it, in seq order.
        corrections = select(ProcurementStep.leaf_index).where(
            ProcurementStep.procurement_id == procurement_id,
            ProcurementStep.corrects_seq == seq,
        )
        entries = session.exec(
            select(LedgerEntry.entry_bytes)
            .where(
                (col(LedgerEntry.leaf_index) == leaf_index)
                | col(LedgerEntry.leaf_index).in_(corrections)
            )
            .order_by(col(LedgerEntry.leaf_index))
        ).all()
        data = dict(_entry_document(entries[0])["data"])
        for later in entries[1:]:
            data.update(_entry_document(later)["data"].get("corrected", {}))
    return _Occurrence(seq=seq, occurred_at=as_utc(occurred_at), data=data)


def _as_date(value: Any) -> date:
    """A data member as a date: "YYYY-MM-DD" as is, an RFC 3339 moment as its Prague date."""
    text = str(value)
    if len(text) == 10:
        return date.fromisoformat(text)
    return local_date(datetime.fromisoformat(text.replace("Z", "+00:00")))


def deadline_applies(
    rule: Deadline, procurement: Procurement | _AppendHead, data: dict[str, Any], on: date
) -> bool:
    if rule.effective_from > on:
        return False
    if rule.regimes is not None and procurement.regime not in rule.regimes:
        return False
    if rule.subjects is not None and procurement.subject not in rule.subjects:
        return False
    return all(str(data.get(name)) == value for name, value in rule.when)


def evaluate_deadline(
    rule: Deadline,
    *,
    step_type: str,
    seq: int | None,
    occurred_at: datetime,
    data: dict[str, Any],
    source: _Occurrence,
    value_source: _Occurrence | None = None,
) -> Finding | None:
    """The finding when the step breaks ``rule`` measured from ``source``, else None."""
    if not _value_condition_holds(rule, value_source or source):
        return None
    start = (
        _as_date(source.data[rule.from_field])
        if rule.from_field and rule.from_field in source.data
        else local_date(source.occurred_at)
    )
    actual = (
        _as_date(data[rule.at_field])
        if rule.at_field and rule.at_field in data
        else local_date(occurred_at)
    )
    due = period_end(start, rule.days, rule.day_kind)
    breached = (
        (rule.kind == "within" and actual > due)
        or (rule.kind == "at_least" and actual < due)
        or (rule.kind == "after" and actual <= due)
    )
    if not breached:
        return None
    return Finding(
        rule_id=rule.rule_id,
        legal_reference=rule.legal_reference,
        description=rule.description,
        severity=rule.severity,
        kind=rule.kind,
        from_step=rule.from_step,
        from_seq=source.seq,
        step_type=step_type,
        seq=seq,
        due_date=due,
        actual_date=actual,
        confidence=rule.confidence,
    )


def _value_condition_holds(rule: Deadline, holder: _Occurrence | None) -> bool:
    """Rules that apply only above a value (e.g. 500,000 CZK) need the value to be known."""
    if rule.value_field is None or rule.value_above is None:
        return True
    value = holder.data.get(rule.value_field) if holder is not None else None
    return value is not None and Decimal(str(value)) > rule.value_above


def _check_order(proc: Procedure, step_type: str, types: set[str]) -> None:
    """409 naming what is missing or why the step may not come now."""
    rule = proc.step(step_type)
    assert rule is not None
    ended = types & TERMINAL_TYPES
    if ended:
        terminal = "cancelled" if "cancelled" in ended else "completed"
        allowed = proc.after_cancelled if terminal == "cancelled" else proc.after_completed
        if step_type not in allowed:
            raise StepNotAllowed(
                f"The procurement is {terminal}; after that only these steps may be "
                f"recorded: {', '.join(allowed)}.",
                terminal=terminal,
                allowed=list(allowed),
            )
    if not rule.repeatable and step_type in types:
        raise StepNotAllowed(
            f"A '{step_type}' step is already recorded and this step does not repeat; "
            "fix a mistake with a 'correction' step."
        )
    missing = [required for required in rule.requires if required not in types]
    if missing:
        raise StepOutOfOrder(
            f"'{step_type}' needs {', '.join(missing)} recorded first.", missing=missing
        )
    if rule.requires_one_of and not types & set(rule.requires_one_of):
        options = list(rule.requires_one_of)
        raise StepOutOfOrder(
            f"'{step_type}' needs one of {', '.join(options)} recorded first.",
            missing=options,
            one_of=True,
        )


def _data_model(step_type: str) -> type[BaseModel]:
    from procurement import schemas

    model: type[BaseModel] = getattr(schemas, _camel(step_type) + "Data")
    return model


def _camel(step_type: str) -> str:
    return "".join(part.capitalize() for part in step_type.split("_"))


def _check_correction(
    session: Session, procurement: Procurement | _AppendHead, step: CorrectionStep
) -> None:
    """The corrected step exists, and its data with the corrections is still valid."""
    target_seq = step.data.corrects_seq
    assert procurement.id is not None
    row = session.exec(
        select(ProcurementStep.type, ProcurementStep.leaf_index).where(
            ProcurementStep.procurement_id == procurement.id,
            ProcurementStep.seq == target_seq,
        )
    ).first()
    if row is None:
        raise InvalidProcurement(
            f"There is no step {target_seq} to correct (the last is {procurement.last_seq}).",
            "/data/corrects_seq",
        )
    target_type, leaf_index = row
    entry = session.get(LedgerEntry, leaf_index)
    assert entry is not None
    original = _entry_document(entry.entry_bytes)["data"]
    try:
        _data_model(target_type).model_validate({**original, **step.data.corrected})
    except ValidationError as exc:
        errors = [
            {
                "pointer": "/data/corrected/" + "/".join(str(p) for p in e["loc"]),
                "detail": str(e["msg"]),
            }
            for e in exc.errors()
        ]
        raise InvalidProcurement(
            f"The corrected values do not fit a '{target_type}' step.",
            errors[0]["pointer"] if errors else "/data/corrected",
        ) from None


# Built once (see procurement.ledger.service): the append path runs these Core statements
# on the session's connection, without ORM instances, flushes or statement building.
_PROCUREMENTS = Procurement.__table__  # type: ignore[attr-defined]
_STEPS = ProcurementStep.__table__  # type: ignore[attr-defined]
_SELECT_FOR_APPEND = (
    sa_select(
        _PROCUREMENTS.c.id,
        _PROCUREMENTS.c.ocid,
        _PROCUREMENTS.c.buyer_code,
        _PROCUREMENTS.c.procedure,
        _PROCUREMENTS.c.regime,
        _PROCUREMENTS.c.subject,
        _PROCUREMENTS.c.last_seq,
        _PROCUREMENTS.c.last_entry_hash,
        _PROCUREMENTS.c.step_types,
    )
    .where(_PROCUREMENTS.c.ocid == bindparam("ocid"))
    .with_for_update()
)
_INSERT_STEP = sa_insert(_STEPS)
_STEP_COLUMNS = (
    "procurement_id",
    "seq",
    "leaf_index",
    "type",
    "occurred_at",
    "recorded_at",
    "actor_key_id",
    "entry_hash",
    "prev_hash",
    "findings",
    "corrects_seq",
)
_ADVANCE_PROCUREMENT_KEEP_STATUS = (
    sa_update(_PROCUREMENTS)
    .where(_PROCUREMENTS.c.id == bindparam("pid"))
    .values(
        last_seq=bindparam("new_seq"),
        last_entry_hash=bindparam("new_hash"),
        step_types=bindparam("new_types"),
    )
)
_ADVANCE_PROCUREMENT = _ADVANCE_PROCUREMENT_KEEP_STATUS.values(status=bindparam("new_status"))


def _pg_insert_step_and_advance(*, keep_status: bool) -> Any:
    """PostgreSQL: the step's INSERT and the procurement's UPDATE in one statement (a
    data-modifying CTE), one round trip fewer while the ledger head lock is held."""
    step = sa_insert(_STEPS).values({c: bindparam(f"s_{c}") for c in _STEP_COLUMNS}).cte("step")
    advance = _ADVANCE_PROCUREMENT_KEEP_STATUS if keep_status else _ADVANCE_PROCUREMENT
    return advance.add_cte(step)


# With the ledger entry's INSERT and the ledger head's UPDATE: an append's writes in one
# statement.
_PG_STEP_WITH_APPEND = ledger.pg_with_append(_pg_insert_step_and_advance(keep_status=False))
_PG_STEP_WITH_APPEND_KEEP_STATUS = ledger.pg_with_append(
    _pg_insert_step_and_advance(keep_status=True)
)


@dataclass(frozen=True)
class _AppendHead:
    """The locked procurement row: what an append reads of it."""

    id: int
    ocid: str
    buyer_code: str
    procedure: str
    regime: str
    subject: str
    last_seq: int
    last_entry_hash: str | None
    step_types: str


def record_step(
    session: Session,
    ocid: str,
    step: StepBase,
    caller: Caller,
    *,
    now: datetime | None = None,
) -> StepRecorded:
    """Append a step: check its order, compute its findings, write its canonical entry."""
    now = now or utcnow()
    step_type: str = step.type  # type: ignore[attr-defined]
    # Work that does not depend on the locked rows is done before the first statement
    # (on SQLite that statement takes the write lock; on PostgreSQL the row lock).
    data: dict[str, Any] = step.data.model_dump(mode="json", by_alias=True)  # type: ignore[attr-defined]
    documents = [d.model_dump(mode="json") for d in step.documents]
    occurred_at = rfc3339(step.occurred_at)
    recorded_at = rfc3339(now)
    if session.new or session.dirty or session.deleted:
        session.flush()  # Core statements below do not autoflush
    # The ledger head is locked before the procurement row, in every transaction that
    # appends: a transaction holding several appends (the write queue) must take its locks
    # in the same order as any other, or two of them could deadlock on PostgreSQL.
    leaf_index = ledger.next_leaf_index(session)
    connection = session.connection()
    row = connection.execute(_SELECT_FOR_APPEND, {"ocid": ocid}).first()
    if row is None:
        raise ProcurementNotFound(ocid)
    procurement = _AppendHead(*row)
    ensure(
        caller.acts_for_municipality(procurement.buyer_code),
        f"This key may not record steps for municipality {procurement.buyer_code}.",
    )
    proc = procedure(procurement.procedure)
    if step_type != "correction" and proc.step(step_type) is None:
        raise InvalidProcurement(
            f"'{step_type}' is not a step of the procedure '{proc.id}'; see /v1/procedures.",
            "/type",
        )
    types = set(procurement.step_types.split(",")) - {""}
    if step_type == "correction":
        assert isinstance(step, CorrectionStep)
        _check_correction(session, procurement, step)
    else:
        _check_order(proc, step_type, types)

    seq = procurement.last_seq + 1
    findings = _findings_on_record(session, procurement, proc, step_type, seq, step, data)
    findings_json = [f.model_dump(mode="json") for f in findings]

    prev_hash = procurement.last_entry_hash
    document: dict[str, Any] = {
        "v": ENTRY_VERSION,
        "ocid": procurement.ocid,
        "seq": seq,
        "leaf_index": leaf_index,
        "prev_hash": prev_hash,
        "type": step_type,
        "occurred_at": occurred_at,
        "recorded_at": recorded_at,
        "actor": caller.key_id,
        "data": data,
        "documents": documents,
        "findings": findings_json,
    }
    entry_bytes: bytes = rfc8785.dumps(document)
    entry_hash = hashlib.sha256(entry_bytes).hexdigest()
    step_row: dict[str, Any] = {
        "procurement_id": procurement.id,
        "seq": seq,
        "leaf_index": leaf_index,
        "type": step_type,
        "occurred_at": step.occurred_at,
        "recorded_at": now,
        "actor_key_id": caller.key_id,
        "entry_hash": entry_hash,
        "prev_hash": prev_hash,
        "findings": findings_json,
        "corrects_seq": data.get("corrects_seq") if step_type == "correction" else None,
    }
    step_types = ",".join(sorted(types | {step_type}))
    advanced: dict[str, Any] = {
        "last_seq": seq,
        "last_entry_hash": entry_hash,
        "step_types": step_types,
    }
    head_params: dict[str, Any] = {
        "pid": procurement.id,
        "new_seq": seq,
        "new_hash": entry_hash,
        "new_types": step_types,
    }
    if step_type != "correction":
        advanced["status"] = head_params["new_status"] = derive_status(types | {step_type})
    keep_status = step_type == "correction"
    if connection.dialect.name == "postgresql":
        statement = _PG_STEP_WITH_APPEND_KEEP_STATUS if keep_status else _PG_STEP_WITH_APPEND
        own = {**{f"s_{c}": v for c, v in step_row.items()}, **head_params}
        ledger.append_entry(session, leaf_index, entry_bytes, pg_together_with=(statement, own))
    else:
        ledger.append_entry(session, leaf_index, entry_bytes)
        connection.execute(_INSERT_STEP, step_row)
        connection.execute(
            _ADVANCE_PROCUREMENT_KEEP_STATUS if keep_status else _ADVANCE_PROCUREMENT,
            head_params,
        )
    # A Procurement this session already holds must not keep the old head.
    loaded = session.identity_map.get(session.identity_key(Procurement, procurement.id))
    if loaded is not None:
        for name, value in advanced.items():
            set_committed_value(loaded, name, value)
    return StepRecorded(
        ocid=procurement.ocid,
        seq=seq,
        type=step_type,
        leaf_index=leaf_index,
        entry_hash=entry_hash,
        prev_hash=prev_hash,
        occurred_at=step.occurred_at,
        recorded_at=now,
        findings=findings,
    )


def _findings_on_record(
    session: Session,
    procurement: Procurement | _AppendHead,
    proc: Procedure,
    step_type: str,
    seq: int,
    step: StepBase,
    data: dict[str, Any],
) -> list[Finding]:
    rule = proc.step(step_type)
    if rule is None:
        return []
    assert procurement.id is not None
    findings: list[Finding] = []
    on = local_date(step.occurred_at)
    # Each referenced step is read once, with its data when any rule needs it.
    needs_data = {d.from_step for d in rule.deadlines if d.from_field} | {
        d.value_step or d.from_step for d in rule.deadlines if d.value_field
    }
    sources: dict[str, _Occurrence | None] = {}
    procurement_id = procurement.id

    def occurrence(of_type: str) -> _Occurrence | None:
        if of_type == step_type:
            return _Occurrence(seq, step.occurred_at, data)
        if of_type not in sources:
            sources[of_type] = _latest_occurrence(
                session, procurement_id, of_type, with_data=of_type in needs_data
            )
        return sources[of_type]

    for deadline in rule.deadlines:
        if not deadline_applies(deadline, procurement, data, on):
            continue
        source = occurrence(deadline.from_step)
        if source is None:
            continue
        finding = evaluate_deadline(
            deadline,
            step_type=step_type,
            seq=seq,
            occurred_at=step.occurred_at,
            data=data,
            source=source,
            value_source=occurrence(deadline.value_step) if deadline.value_step else None,
        )
        if finding is not None:
            findings.append(finding)
    return findings


# --- reading steps -----------------------------------------------------------------------


def _step_public(step: ProcurementStep, entry_bytes: bytes) -> StepPublic:
    document = _entry_document(entry_bytes)
    return StepPublic(
        ocid=document["ocid"],
        seq=step.seq,
        type=step.type,
        leaf_index=step.leaf_index,
        entry_hash=step.entry_hash,
        prev_hash=step.prev_hash,
        occurred_at=datetime.fromisoformat(document["occurred_at"].replace("Z", "+00:00")),
        recorded_at=datetime.fromisoformat(document["recorded_at"].replace("Z", "+00:00")),
        findings=[Finding.model_validate(f) for f in step.findings],
        actor=document["actor"],
        data=document["data"],
        documents=document["documents"],
    )


def list_steps(
    session: Session, procurement: Procurement, *, after_seq: int = 0, limit: int | None = None
) -> list[StepPublic]:
    query = (
        select(ProcurementStep, LedgerEntry.entry_bytes)
        .join(LedgerEntry, col(LedgerEntry.leaf_index) == col(ProcurementStep.leaf_index))
        .where(
            ProcurementStep.procurement_id == procurement.id,
            col(ProcurementStep.seq) > after_seq,
        )
        .order_by(col(ProcurementStep.seq))
    )
    if limit is not None:
        query = query.limit(limit)
    return [_step_public(step, entry_bytes) for step, entry_bytes in session.exec(query)]


def get_step(session: Session, procurement: Procurement, seq: int) -> StepPublic:
    row = session.exec(
        select(ProcurementStep, LedgerEntry.entry_bytes)
        .join(LedgerEntry, col(LedgerEntry.leaf_index) == col(ProcurementStep.leaf_index))
        .where(ProcurementStep.procurement_id == procurement.id, ProcurementStep.seq == seq)
    ).first()
    if row is None:
        raise StepNotFound(procurement.ocid, seq)
    return _step_public(row[0], row[1])


# --- timeline ----------------------------------------------------------------------------


def open_deadlines(
    procurement: Procurement, steps: list[StepPublic], today: date
) -> list[OpenDeadline]:
    """Statutory 'within' periods that have started and whose step is still missing."""
    proc = procedure(procurement.procedure)
    latest: dict[str, StepPublic] = {}
    for s in steps:
        latest[s.type] = s
    found: list[OpenDeadline] = []
    for step_rule in proc.steps:
        for rule in step_rule.deadlines:
            if rule.kind != "within" or rule.from_step not in latest:
                continue
            source_step = latest[rule.from_step]
            if rule.effective_from > local_date(source_step.occurred_at):
                continue
            if rule.regimes is not None and procurement.regime not in rule.regimes:
                continue
            if rule.subjects is not None and procurement.subject not in rule.subjects:
                continue
            done = any(
                s.type == step_rule.type
                and s.seq > source_step.seq
                and (rule.closed_by_any or all(str(s.data.get(k)) == v for k, v in rule.when))
                for s in steps
            )
            if done:
                continue
            source = _Occurrence(source_step.seq, source_step.occurred_at, source_step.data)
            holder = latest.get(rule.value_step) if rule.value_step else source_step
            holder_occurrence = (
                _Occurrence(holder.seq, holder.occurred_at, holder.data) if holder else None
            )
            if not _value_condition_holds(rule, holder_occurrence):
                continue
            start = (
                _as_date(source.data[rule.from_field])
                if rule.from_field and rule.from_field in source.data
                else local_date(source.occurred_at)
            )
            due = period_end(start, rule.days, rule.day_kind)
            found.append(
                OpenDeadline(
                    rule_id=rule.rule_id,
                    legal_reference=rule.legal_reference,
                    description=rule.description,
                    step_type=step_rule.type,
                    from_step=rule.from_step,
                    from_seq=source.seq,
                    due_date=due,
                    kind="within",
                    overdue=today > due,
                )
            )
    found.sort(key=lambda d: (d.due_date, d.rule_id))
    return found


def timeline(session: Session, procurement: Procurement, now: datetime | None = None) -> Timeline:
    """Status, steps, findings (recorded and missed) and the next open statutory deadline."""
    today = local_date(now or utcnow())
    steps = list_steps(session, procurement)
    corrected_by: dict[int, list[int]] = {}
    effective: dict[int, dict[str, Any]] = {s.seq: dict(s.data) for s in steps}
    for s in steps:
        if s.type == "correction":
            target = int(s.data["corrects_seq"])
            corrected_by.setdefault(target, []).append(s.seq)
            if target in effective:
                effective[target].update(s.data.get("corrected", {}))
    timeline_steps = [
        TimelineStep(
            **s.model_dump(),
            corrected_by=corrected_by.get(s.seq, []),
            effective_data=effective[s.seq],
        )
        for s in steps
    ]
    # Open periods are measured on the corrected values (a corrected signature date counts).
    corrected_steps = [s.model_copy(update={"data": effective[s.seq]}) for s in steps]
    findings = [f for s in steps for f in s.findings]
    pending = (
        []
        if procurement.status == "cancelled"
        else open_deadlines(procurement, corrected_steps, today)
    )
    for missed in (d for d in pending if d.overdue):
        rule = next(
            r
            for sr in procedure(procurement.procedure).steps
            for r in sr.deadlines
            if r.rule_id == missed.rule_id
        )
        findings.append(
            Finding(
                rule_id=rule.rule_id,
                legal_reference=rule.legal_reference,
                description=rule.description,
                severity=rule.severity,
                kind=rule.kind,
                from_step=rule.from_step,
                from_seq=missed.from_seq,
                step_type=missed.step_type,
                seq=None,
                due_date=missed.due_date,
                actual_date=None,
                confidence=rule.confidence,
            )
        )
    upcoming = [d for d in pending if not d.overdue]
    return Timeline(
        ocid=procurement.ocid,
        status=procurement.status,  # type: ignore[arg-type]
        procedure=procurement.procedure,  # type: ignore[arg-type]
        regime=procurement.regime,  # type: ignore[arg-type]
        steps=timeline_steps,
        findings=findings,
        next_deadline=upcoming[0] if upcoming else None,
        open_deadlines=pending,
    )


# --- procedures --------------------------------------------------------------------------


def _deadline_public(rule: Deadline) -> DeadlinePublic:
    return DeadlinePublic(
        rule_id=rule.rule_id,
        from_step=rule.from_step,
        from_field=rule.from_field,
        at_field=rule.at_field,
        days=rule.days,
        day_kind=rule.day_kind,
        kind=rule.kind,
        legal_reference=rule.legal_reference,
        effective_from=rule.effective_from,
        description=rule.description,
        severity=rule.severity,
        regimes=list(rule.regimes) if rule.regimes is not None else None,
        subjects=list(rule.subjects) if rule.subjects is not None else None,
        when=dict(rule.when),
        applies_above_value=f"{rule.value_above:.2f}" if rule.value_above is not None else None,
        confidence=rule.confidence,
        note=rule.note,
    )


def procedures_public() -> ProceduresPublic:
    return ProceduresPublic(
        procedures=[
            ProcedurePublic(
                id=p.id,
                name_cs=p.name_cs,
                name_en=p.name_en,
                legal_reference=p.legal_reference,
                regimes=list(p.regimes),
                steps=[
                    StepRulePublic(
                        type=s.type,
                        requires=list(s.requires),
                        requires_one_of=list(s.requires_one_of),
                        repeatable=s.repeatable,
                        terminal=s.terminal,
                        deadlines=[_deadline_public(d) for d in s.deadlines],
                    )
                    for s in p.steps
                ],
                allowed_after_completed=list(p.after_completed),
                allowed_after_cancelled=list(p.after_cancelled),
                confidence=p.confidence,
                note=p.note,
            )
            for p in PROCEDURES
        ],
        thresholds=[
            ThresholdPublic(
                id=t.id,
                kind=t.kind,
                subject=t.subject,
                amount_czk=f"{t.amount_czk:.2f}",
                amount_eur=f"{t.amount_eur:.2f}" if t.amount_eur is not None else None,
                legal_reference=t.legal_reference,
                effective_from=t.effective_from,
                confidence=t.confidence,
                note=t.note,
            )
            for t in THRESHOLDS
        ],
    )


def count_steps(session: Session, procurement_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(ProcurementStep)
            .where(ProcurementStep.procurement_id == procurement_id)
        ).one()
    )
