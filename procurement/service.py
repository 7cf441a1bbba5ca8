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
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import rfc8785
from pydantic import ValidationError
from sqlalchemy import bindparam, func, or_
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
from procurement import cpv, law
from procurement.calendar import local_date
from procurement.deadlines import Occurrence, TrailFacts, evaluate, evaluate_trail, rule_applies
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
from procurement.rules import PROCEDURES, Deadline, Procedure, procedure
from procurement.schemas import (
    DeadlinePublic,
    Finding,
    LawDeadlinePublic,
    LawLimitPublic,
    LawPublic,
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
from procurement.steptypes import STEP_TYPES, TERMINAL_TYPES, derive_status
from procurement.trail import EffectiveStep, effective_steps

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
    started_on = body.started_on or today
    if started_on > today:
        raise InvalidProcurement(
            f"started_on {started_on} lies in the future (today is {today} in Prague).",
            "/started_on",
        )
    if started_on < law.ZZVZ_FROM:
        raise InvalidProcurement(
            f"started_on {started_on} lies before 1 October 2016, when zákon č. 134/2016 Sb. "
            "took effect; the law table begins on that day.",
            "/started_on",
        )
    regime = law.regime_for(body.subject, body.estimated_value_excl_vat, started_on)
    proc = procedure(body.procedure)
    if regime not in proc.regimes:
        limit = law.threshold("small_scale", body.subject, started_on)
        raise InvalidProcurement(
            f"A {body.subject} contract of {body.estimated_value_excl_vat} CZK started on "
            f"{started_on} is {regime.replace('_', '-')}; the procedure '{proc.id}' is only "
            f"for {', '.join(proc.regimes)} contracts (small-scale limit on that day "
            f"{limit.amount_czk:.0f} CZK, {limit.legal_reference}).",
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
        started_on=started_on,
        legal_ground=body.legal_ground,
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
        started_on=procurement.started_on,
        legal_ground=procurement.legal_ground,
        created_at=as_utc(procurement.created_at),
        created_by_key_id=procurement.created_by_key_id,
        step_count=procurement.last_seq,
        last_entry_hash=procurement.last_entry_hash,
    )


# --- recording steps ---------------------------------------------------------------------


def _entry_document(entry_bytes: bytes) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(entry_bytes)
    return document


def _entries(session: Session, procurement_id: int, where: Any) -> list[dict[str, Any]]:
    """Entry documents of the procurement's steps that match ``where``, in seq order."""
    rows = session.exec(
        select(LedgerEntry.entry_bytes)
        .join(ProcurementStep, col(ProcurementStep.leaf_index) == col(LedgerEntry.leaf_index))
        .where(ProcurementStep.procurement_id == procurement_id, where)
        .order_by(col(ProcurementStep.seq))
    ).all()
    return [_entry_document(raw) for raw in rows]


def _effective(
    session: Session, procurement_id: int, seqs: set[int], corrected: bool
) -> dict[int, EffectiveStep]:
    """Steps ``seqs`` with their effective data: when the trail has corrections
    (``corrected``), all of them are read with the steps and applied (trail.py).
    Part of an append (which has flushed): built-once Core statements."""
    statement = _STEP_ENTRIES_AND_CORRECTIONS if corrected else _STEP_ENTRIES
    rows = session.connection().execute(statement, {"pid": procurement_id, "seqs": sorted(seqs)})
    steps = effective_steps(_entry_document(raw) for (raw,) in rows)
    return {s.seq: s for s in steps if s.seq in seqs}


def _latest_seqs(session: Session, procurement_id: int, step_types: set[str]) -> dict[str, int]:
    """The seq of the latest step of each type in ``step_types`` (part of an append)."""
    if not step_types:
        return {}
    rows = session.connection().execute(
        _LATEST_SEQS, {"pid": procurement_id, "types": sorted(step_types)}
    )
    return {str(t): int(seq) for t, seq in rows}


def _facts(procurement: Procurement | _AppendHead) -> TrailFacts:
    return TrailFacts(
        procedure=procurement.procedure,
        regime=procurement.regime,
        subject=procurement.subject,
        started_on=procurement.started_on,
    )


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


def order_problem(proc: Procedure, step_type: str, types: set[str]) -> str | None:
    """Why the order rules would refuse ``step_type`` after steps of ``types`` (None: they
    allow it). An imported step is recorded anyway and carries this as its order note."""
    try:
        _check_order(proc, step_type, types)
    except (StepNotAllowed, StepOutOfOrder) as refused:
        return refused.detail
    return None


def _validation_errors(exc: ValidationError, prefix: str) -> list[dict[str, str]]:
    return [
        {
            "pointer": prefix + "".join(f"/{p}" for p in e["loc"]),
            "detail": str(e["msg"]),
        }
        for e in exc.errors()
    ]


def _corrected_values(
    session: Session, procurement: Procurement | _AppendHead, data: dict[str, Any]
) -> dict[str, Any]:
    """Check a correction and return the ``corrected`` values to store: each member as the
    corrected step's data model dumps it after validating the step's effective data with
    the correction applied (so stored data always reads back as valid data)."""
    target_seq = int(data["corrects_seq"])
    corrected: dict[str, Any] = data["corrected"]
    assert procurement.id is not None
    if not corrected:
        raise InvalidProcurement(
            "corrected is empty: name the members of the step's data that change.",
            "/data/corrected",
        )
    row = session.exec(
        select(ProcurementStep.type).where(
            ProcurementStep.procurement_id == procurement.id,
            ProcurementStep.seq == target_seq,
        )
    ).first()
    if row is None:
        raise InvalidProcurement(
            f"There is no step {target_seq} to correct (the last is {procurement.last_seq}).",
            "/data/corrects_seq",
        )
    trail = {
        s.seq: s
        for s in effective_steps(
            _entries(
                session,
                procurement.id,
                (col(ProcurementStep.seq) == target_seq)
                | (col(ProcurementStep.type) == "correction")
                | (col(ProcurementStep.seq) <= target_seq),
            )
        )
    }
    target = trail[target_seq]
    if target.type != "correction":
        return _validated_members(target, corrected, "/data/corrected")
    # A correction of a correction restates its reason and/or its corrected values.
    unknown = sorted(set(corrected) - {"reason", "corrected"})
    if unknown:
        raise InvalidProcurement(
            f"A correction of a correction may restate only 'reason' and 'corrected' "
            f"(not {', '.join(unknown)}); what it corrects cannot change.",
            f"/data/corrected/{unknown[0]}",
        )
    stored: dict[str, Any] = {}
    if "reason" in corrected:
        reason = corrected["reason"]
        if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
            raise InvalidProcurement(
                "reason must be a text of 1 to 2,000 characters.", "/data/corrected/reason"
            )
        stored["reason"] = reason.strip()
    if "corrected" in corrected:
        inner = corrected["corrected"]
        if not isinstance(inner, dict) or not inner:
            raise InvalidProcurement(
                "corrected.corrected must be a non-empty object.", "/data/corrected/corrected"
            )
        root = trail.get(int(target.data["corrects_seq"]))
        while root is not None and root.type == "correction":
            root = trail.get(int(root.data["corrects_seq"]))
        assert root is not None
        # The root step's data as it stands without the corrected correction, then with
        # the restated values.
        base = dict(root.recorded_data)
        for seq in root.corrected_by:
            if seq == target.seq:
                continue
            base.update(trail[seq].data.get("corrected") or {})
        rooted = EffectiveStep(entry=root.entry, data=base, corrected_by=root.corrected_by)
        stored["corrected"] = _validated_members(rooted, inner, "/data/corrected/corrected")
    return stored


def _validated_members(
    target: EffectiveStep, corrected: dict[str, Any], pointer: str
) -> dict[str, Any]:
    model: Any = STEP_TYPES[target.type].data
    try:
        validated = model.model_validate({**target.data, **corrected})
    except ValidationError as exc:
        errors = _validation_errors(exc, pointer)
        raise InvalidProcurement(
            f"The corrected values do not fit a '{target.type}' step: {errors[0]['detail']}.",
            errors[0]["pointer"],
        ) from None
    dumped = validated.model_dump(mode="json", by_alias=True)
    fields = model.model_fields
    members = {}
    for name in corrected:
        key = (fields[name].alias or name) if name in fields else name
        members[key] = dumped[key]
    return members


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
        _PROCUREMENTS.c.started_on,
        _PROCUREMENTS.c.last_seq,
        _PROCUREMENTS.c.last_entry_hash,
        _PROCUREMENTS.c.step_types,
    )
    .where(_PROCUREMENTS.c.ocid == bindparam("ocid"))
    .with_for_update()
)
_INSERT_STEP = sa_insert(_STEPS)
_LEDGER_ENTRIES = LedgerEntry.__table__  # type: ignore[attr-defined]
# The reads an append's findings make: the latest step of the types its periods start from,
# and the entries of those steps (with the trail's corrections, when it has any).
_LATEST_SEQS = (
    sa_select(_STEPS.c.type, func.max(_STEPS.c.seq))
    .where(
        _STEPS.c.procurement_id == bindparam("pid"),
        _STEPS.c.type.in_(bindparam("types", expanding=True)),
    )
    .group_by(_STEPS.c.type)
)


def _entries_of_steps(condition: Any) -> Any:
    return (
        sa_select(_LEDGER_ENTRIES.c.entry_bytes)
        .join(_STEPS, _STEPS.c.leaf_index == _LEDGER_ENTRIES.c.leaf_index)
        .where(_STEPS.c.procurement_id == bindparam("pid"), condition)
        .order_by(_STEPS.c.seq)
    )


_STEP_ENTRIES = _entries_of_steps(_STEPS.c.seq.in_(bindparam("seqs", expanding=True)))
_STEP_ENTRIES_AND_CORRECTIONS = _entries_of_steps(
    or_(_STEPS.c.seq.in_(bindparam("seqs", expanding=True)), _STEPS.c.type == "correction")
)
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
class ImportedStep:
    """A step an official export states (a buyer profile), recorded by an import.

    ``imported_from`` (the file's SHA-256, the element path, the element that dates the
    step, ...) becomes the entry's ``imported_from`` member, so the ledger hashes it with the
    step. The order rules are not enforced for it: an export proves only some steps (no
    approval, say), and what it proves is recorded, never invented; the rule it breaks is
    stored beside it as ``order_note``. ``documents`` are the export's (url, type, time: it
    states no hash) in place of the posted ones.
    """

    imported_from: dict[str, Any]
    documents: list[dict[str, Any]]


@dataclass(frozen=True)
class _AppendHead:
    """The locked procurement row: what an append reads of it."""

    id: int
    ocid: str
    buyer_code: str
    procedure: str
    regime: str
    subject: str
    started_on: date
    last_seq: int
    last_entry_hash: str | None
    step_types: str


_APPENDS_KEY = "smartsteps.appends"


@dataclass
class _Appends:
    """What this transaction's appends know of the procurement rows they locked: a row
    locked once (FOR UPDATE; on SQLite the write lock) stays this transaction's until it
    ends, so later appends to it (an import, a group commit) read its head from here; and
    for a procurement whose whole trail this transaction wrote, its entries, so the
    findings of its next step need no reads. Kept per innermost transaction, like the ledger
    head: a savepoint that is rolled back leaves nothing behind."""

    transaction: Any
    heads: dict[str, _AppendHead] = field(default_factory=dict)
    trails: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _appends(session: Session) -> _Appends:
    transaction = session.get_nested_transaction() or session.get_transaction()
    cached: _Appends | None = session.info.get(_APPENDS_KEY)
    if cached is None or cached.transaction is not transaction:
        cached = session.info[_APPENDS_KEY] = _Appends(transaction)
    return cached


def record_step(
    session: Session,
    ocid: str,
    step: StepBase,
    caller: Caller,
    *,
    now: datetime | None = None,
    imported: ImportedStep | None = None,
) -> StepRecorded:
    """Append a step: check its order, compute its findings, write its canonical entry.
    An ``imported`` step is recorded whatever the order rules say (see ``ImportedStep``)."""
    now = now or utcnow()
    step_type: str = step.type  # type: ignore[attr-defined]
    # Work that does not depend on the locked rows is done before the first statement
    # (on SQLite that statement takes the write lock; on PostgreSQL the row lock).
    data: dict[str, Any] = step.data.model_dump(mode="json", by_alias=True)  # type: ignore[attr-defined]
    if imported is None:
        documents = [d.model_dump(mode="json") for d in step.documents]
    else:
        documents = list(imported.documents)
    occurred_at = rfc3339(step.occurred_at)
    recorded_at = rfc3339(now)
    if session.new or session.dirty or session.deleted:
        session.flush()  # Core statements below do not autoflush
    # The ledger head is locked before the procurement row, in every transaction that
    # appends: a transaction holding several appends (the write queue) must take its locks
    # in the same order as any other, or two of them could deadlock on PostgreSQL.
    leaf_index = ledger.next_leaf_index(session)
    connection = session.connection()
    appends = _appends(session)
    procurement = appends.heads.get(ocid)
    if procurement is None:
        row = connection.execute(_SELECT_FOR_APPEND, {"ocid": ocid}).first()
        if row is None:
            raise ProcurementNotFound(ocid)
        procurement = appends.heads[ocid] = _AppendHead(**row._mapping)
    trail = appends.trails.get(ocid)
    if trail is None and procurement.last_seq == 0:
        trail = appends.trails[ocid] = []
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
    imported_from: dict[str, Any] | None = None
    if step_type == "correction":
        data["corrected"] = _corrected_values(session, procurement, data)
    elif imported is None:
        _check_order(proc, step_type, types)
    else:
        imported_from = dict(imported.imported_from)
        note = order_problem(proc, step_type, types)
        if note is not None:
            imported_from["order_note"] = note

    seq = procurement.last_seq + 1
    findings = _findings_on_record(
        session, procurement, proc, step_type, seq, step, data, types, trail
    )
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
    if imported_from is not None:
        # The name sorts before "leaf_index", so the entry's canonical tail of scalar chain
        # members (which the fast verifier reads) stays as it is for every entry.
        document["imported_from"] = imported_from
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
    appends.heads[ocid] = replace(
        procurement, last_seq=seq, last_entry_hash=entry_hash, step_types=step_types
    )
    if trail is not None:
        trail.append(_entry_document(entry_bytes))
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
    procurement: _AppendHead,
    proc: Procedure,
    step_type: str,
    seq: int,
    step: StepBase,
    data: dict[str, Any],
    types: set[str],
    trail: list[dict[str, Any]] | None = None,
) -> list[Finding]:
    """The periods this step breaks, measured on the effective trail before it (only the
    steps the rules refer to are read; none when ``trail`` holds every entry before it)."""
    rule = proc.step(step_type)
    if rule is None:
        return []
    facts = _facts(procurement)
    deadlines = [d for d in rule.deadlines if rule_applies(d, facts, data)]
    if not deadlines:
        return []
    wanted = {d.from_step for d in deadlines} | {d.value_step for d in deadlines if d.value_step}
    if any(d.not_with_single_bid for d in deadlines):
        wanted.add("bids_opened")
    wanted.discard(step_type)
    corrected = "correction" in types
    if trail is None:
        latest = _latest_seqs(session, procurement.id, wanted & types)
        earlier = _effective(session, procurement.id, set(latest.values()), corrected)
    else:
        latest = {e["type"]: int(e["seq"]) for e in trail if e["type"] in wanted}
        seqs = set(latest.values())
        read = [e for e in trail if e["seq"] in seqs or (corrected and e["type"] == "correction")]
        earlier = {s.seq: s for s in effective_steps(read) if s.seq in seqs}
    this = Occurrence(seq, step.occurred_at, data)

    def occurrence(of_type: str | None) -> Occurrence | None:
        if of_type is None:
            return None
        if of_type == step_type:
            return this
        found = earlier.get(latest.get(of_type, -1))
        return Occurrence.of(found) if found is not None else None

    opening = occurrence("bids_opened")
    single_bid = opening is not None and len(opening.data.get("bids") or []) == 1
    findings: list[Finding] = []
    for deadline in deadlines:
        source = occurrence(deadline.from_step)
        if source is None:
            continue
        finding = evaluate(
            deadline,
            facts,
            step_type=step_type,
            seq=seq,
            occurred_at=step.occurred_at,
            data=data,
            source=source,
            value_holder=occurrence(deadline.value_step),
            single_bid=single_bid,
        )
        if finding is not None:
            findings.append(finding)
    return findings


# --- reading steps -----------------------------------------------------------------------


def _step_public(step: EffectiveStep, row: ProcurementStep) -> StepPublic:
    document = step.entry
    return StepPublic(
        ocid=document["ocid"],
        seq=row.seq,
        type=row.type,
        leaf_index=row.leaf_index,
        entry_hash=row.entry_hash,
        prev_hash=row.prev_hash,
        occurred_at=datetime.fromisoformat(document["occurred_at"].replace("Z", "+00:00")),
        recorded_at=datetime.fromisoformat(document["recorded_at"].replace("Z", "+00:00")),
        findings=[Finding.model_validate(f) for f in row.findings],
        actor=document["actor"],
        data=dict(document["data"]),
        documents=document["documents"],
        corrected_by=list(step.corrected_by),
        effective_data=step.data,
        imported_from=document.get("imported_from"),
    )


def _read_steps(
    session: Session, procurement: Procurement, *, after_seq: int = 0, limit: int | None = None
) -> list[StepPublic]:
    """Steps after ``after_seq`` with their effective data: the page's steps and, when the
    trail has corrections, every correction and the steps they correct."""
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
    rows = list(session.exec(query))
    entries = {row.seq: _entry_document(raw) for row, raw in rows}
    if "correction" in procurement.step_types.split(",") and procurement.id is not None:
        for entry in _entries(session, procurement.id, col(ProcurementStep.type) == "correction"):
            entries.setdefault(int(entry["seq"]), entry)
    effective = {s.seq: s for s in effective_steps(entries.values())}
    return [_step_public(effective[row.seq], row) for row, _ in rows]


def list_steps(
    session: Session, procurement: Procurement, *, after_seq: int = 0, limit: int | None = None
) -> list[StepPublic]:
    return _read_steps(session, procurement, after_seq=after_seq, limit=limit)


def get_step(session: Session, procurement: Procurement, seq: int) -> StepPublic:
    """One step, with the corrections that fix it and its effective data."""
    steps = _read_steps(session, procurement, after_seq=seq - 1, limit=1)
    if not steps or steps[0].seq != seq:
        raise StepNotFound(procurement.ocid, seq)
    return steps[0]


# --- timeline ----------------------------------------------------------------------------


def trail_facts(procurement: Procurement) -> TrailFacts:
    return _facts(procurement)


def timeline(session: Session, procurement: Procurement, now: datetime | None = None) -> Timeline:
    """Status, steps, every period the effective trail breaks or has missed, and the next
    statutory deadline still open."""
    today = local_date(now or utcnow())
    steps = list_steps(session, procurement)
    effective = [
        EffectiveStep(
            entry={"seq": s.seq, "type": s.type, "occurred_at": s.occurred_at, "data": s.data},
            data=s.effective_data,
            corrected_by=tuple(s.corrected_by),
        )
        for s in steps
    ]
    measured = evaluate_trail(
        _facts(procurement), procedure(procurement.procedure), effective, today
    )
    upcoming = [d for d in measured.open_deadlines if not d.overdue]
    return Timeline(
        ocid=procurement.ocid,
        status=procurement.status,  # type: ignore[arg-type]
        procedure=procurement.procedure,  # type: ignore[arg-type]
        regime=procurement.regime,  # type: ignore[arg-type]
        started_on=procurement.started_on,
        steps=[TimelineStep(**s.model_dump()) for s in steps],
        findings=measured.findings,
        next_deadline=upcoming[0] if upcoming else None,
        open_deadlines=measured.open_deadlines,
    )


# --- the law and the procedures ----------------------------------------------------------


def _money(value: Decimal | None) -> Decimal | None:
    return value.quantize(Decimal("0.01")) if value is not None else None


def _threshold_public(row: law.Threshold) -> ThresholdPublic:
    return ThresholdPublic(
        id=row.id,
        kind=row.kind,
        subject=row.subject,
        buyer_kind=row.buyer_kind,
        amount_czk=row.amount_czk.quantize(Decimal("0.01")),
        amount_eur=_money(row.amount_eur),
        legal_reference=row.legal_reference,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        confidence=row.confidence,
        note=row.note,
    )


def _rules_by_law_id() -> dict[str, list[tuple[str, Deadline]]]:
    """Each law row's rules, with the procedures they belong to."""
    found: dict[str, list[tuple[str, Deadline]]] = {}
    for proc in PROCEDURES:
        for step_rule in proc.steps:
            for rule in step_rule.deadlines:
                found.setdefault(rule.law_rule, []).append((proc.id, rule))
    return found


def law_public(on: date | None) -> LawPublic:
    """The statutory values in force on ``on``, or every version when ``on`` is None."""

    def wanted(row: law.Threshold | law.DeadlineVersion | law.LegalLimit) -> bool:
        return on is None or law.in_force(row, on)

    rules = _rules_by_law_id()
    deadlines = []
    for version in law.DEADLINES:
        if not wanted(version):
            continue
        users = rules.get(version.rule_id, [])
        deadlines.append(
            LawDeadlinePublic(
                rule_id=version.rule_id,
                days=version.days,
                day_kind=version.day_kind,
                value_above=_money(version.value_above),
                legal_reference=version.legal_reference,
                effective_from=version.effective_from,
                effective_to=version.effective_to,
                applies_by=version.applies_by,
                confidence=version.confidence,
                note=version.note,
                description=users[0][1].describe(version) if users else "",
                procedures=sorted({proc_id for proc_id, _ in users}),
            )
        )
    return LawPublic(
        on=on,
        thresholds=[_threshold_public(t) for t in law.THRESHOLDS if wanted(t)],
        deadlines=deadlines,
        limits=[
            LawLimitPublic(
                id=row.id,
                value=row.value,
                unit=row.unit,
                legal_reference=row.legal_reference,
                effective_from=row.effective_from,
                effective_to=row.effective_to,
                confidence=row.confidence,
                note=row.note,
            )
            for row in law.LIMITS
            if wanted(row)
        ],
        period_counting=law.PERIOD_COUNTING,
    )


def _deadline_public(rule: Deadline, on: date) -> DeadlinePublic | None:
    version = rule.version(on)
    if version is None:
        return None
    return DeadlinePublic(
        rule_id=rule.rule_id,
        from_step=rule.from_step,
        from_field=rule.from_field,
        at_field=rule.at_field,
        days=version.days,
        day_kind=version.day_kind,
        kind=rule.kind,
        legal_reference=version.legal_reference,
        effective_from=version.effective_from,
        effective_to=version.effective_to,
        description=rule.describe(version),
        severity=rule.severity,
        regimes=list(rule.regimes) if rule.regimes is not None else None,
        subjects=list(rule.subjects) if rule.subjects is not None else None,
        when=dict(rule.when),
        applies_above_value=(
            f"{version.value_above:.2f}" if version.value_above is not None else None
        ),
        confidence=version.confidence,
        note=version.note,
    )


def procedures_public(on: date) -> ProceduresPublic:
    """The procedures with their steps, order rules and the deadlines in force on ``on``."""
    return ProceduresPublic(
        on=on,
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
                        deadlines=[d for d in (_deadline_public(r, on) for r in s.deadlines) if d],
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
        thresholds=[_threshold_public(t) for t in law.THRESHOLDS if law.in_force(t, on)],
    )


def count_steps(session: Session, procurement_id: int) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(ProcurementStep)
            .where(ProcurementStep.procurement_id == procurement_id)
        ).one()
    )
