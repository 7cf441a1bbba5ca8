"""Auditor exports over the procurement tables: OCDS packages, bulk streams, the change feed
and red flags. No HTTP; read-only.

Bulk exports run one SELECT on a server-side cursor (``yield_per``: PostgreSQL streams with
a named cursor, SQLite steps its cursor) and yield text chunks, so memory stays flat however
many rows there are. Fields that come from the entry documents (times, data) are taken out
of the canonical bytes by the database (``json`` on PostgreSQL, ``json_extract`` on
SQLite), so the Python side only joins strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from api.csvexport import DELIMITERS, stream_csv
from api.settings import Settings
from procurement.audit import ocds
from procurement.audit.redflags import (
    REGISTER_RULES,
    RULES,
    SPLIT_CONTRACTS,
    Purchase,
    RedFlag,
    RedFlagConfig,
    procurement_flags,
    purchase_of,
    split_contracts,
)
from procurement.audit.schemas import ExportFilters
from procurement.exceptions import ProcurementNotFound
from procurement.ledger.models import LedgerEntry
from procurement.models import Procurement, ProcurementStep
from procurement.register.service import register_lookup

P = sa.inspect(Procurement).local_table
S = sa.inspect(ProcurementStep).local_table
E = sa.inspect(LedgerEntry).local_table

YIELD_PER = 2000

PROCUREMENT_COLUMNS = (
    "ocid",
    "buyer_code",
    "title",
    "description",
    "subject",
    "procedure",
    "regime",
    "status",
    "estimated_value_excl_vat",
    "currency",
    "cpv_codes",
    "solution_ids",
    "external_ids",
    "created_at",
    "steps",
    "last_entry_hash",
    "started_on",
    "legal_ground",
)
# Free text a person typed: the only cells the formula guard needs to look at.
PROCUREMENT_TEXT = frozenset({2, 3, 12, 17})
STEP_COLUMNS = (
    "ocid",
    "buyer_code",
    "procedure",
    "seq",
    "leaf_index",
    "type",
    "occurred_at",
    "recorded_at",
    "actor",
    "entry_hash",
    "prev_hash",
    "data",
    "documents",
    "findings",
    "imported_from",
)
# data, documents, findings and imported_from (empty for steps posted through the API) are
# JSON texts ({ or [): nothing a spreadsheet would run.
STEP_TEXT: frozenset[int] = frozenset()


# -- reading a procurement's trail --------------------------------------------------------


# The buyer's name and IČO come from the municipalities register (the catalogue's table,
# referred to by its code as every other domain does).
MUNICIPALITIES = sa.table("municipalities", sa.column("code"), sa.column("name"), sa.column("ico"))


def _procurement(session: Session, ocid: str) -> Any:
    query = (
        sa.select(
            P,
            MUNICIPALITIES.c.name.label("buyer_name"),
            MUNICIPALITIES.c.ico.label("buyer_ico"),
        )
        .select_from(P.outerjoin(MUNICIPALITIES, MUNICIPALITIES.c.code == P.c.buyer_code))
        .where(P.c.ocid == ocid)
    )
    row = session.execute(query).mappings().first()
    if row is None:
        raise ProcurementNotFound(ocid)
    return row


def _entries(session: Session, procurement_id: int) -> list[dict[str, Any]]:
    query = (
        sa.select(E.c.entry_bytes)
        .select_from(S.join(E, E.c.leaf_index == S.c.leaf_index))
        .where(S.c.procurement_id == procurement_id)
        .order_by(S.c.seq)
    )
    return [json.loads(raw) for raw in session.execute(query).scalars()]


def procurement_releases(session: Session, ocid: str) -> list[dict[str, Any]]:
    row = _procurement(session, ocid)
    return ocds.build_releases(row, _entries(session, row["id"]))


def release_package(
    session: Session, ocid: str, *, base_url: str, publication: ocds.Publication
) -> dict[str, Any]:
    """The OCDS release package of one procurement (404 when the ocid is unknown)."""
    releases = procurement_releases(session, ocid)
    return ocds.release_package(releases, uri=releases_uri(base_url, ocid), publication=publication)


def record_package(
    session: Session,
    ocid: str,
    *,
    base_url: str,
    publication: ocds.Publication,
    versioned: bool = False,
) -> dict[str, Any]:
    """The OCDS record package (compiled release, and the versioned release when asked
    for) of one procurement."""
    releases = procurement_releases(session, ocid)
    uri = f"{base_url.rstrip('/')}/v1/procurements/{ocid}/ocds/record"
    return ocds.record_package(
        releases,
        uri=f"{uri}?versioned=true" if versioned else uri,
        releases_uri=releases_uri(base_url, ocid),
        publication=publication,
        versioned=versioned,
    )


def releases_uri(base_url: str, ocid: str) -> str:
    return f"{base_url.rstrip('/')}/v1/procurements/{ocid}/ocds/releases"


POLICY_PATH = "/v1/ocds/publication-policy"


def publication(settings: Settings, base_url: str) -> ocds.Publication:
    """Publisher, licence and publication policy of the packages: the operator's settings,
    and the policy this service serves when the operator names none."""
    return ocds.Publication(
        publisher=settings.ocds_publisher_name,
        license=settings.ocds_license,
        publication_policy=settings.ocds_publication_policy
        or f"{base_url.rstrip('/')}{POLICY_PATH}",
    )


# -- filters and dialect helpers ----------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _procurement_filters(filters: ExportFilters, *, dates: bool) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.buyer_code:
        where.append(P.c.buyer_code == filters.buyer_code)
    if filters.procedure:
        where.append(P.c.procedure == filters.procedure)
    if filters.status:
        where.append(P.c.status == filters.status)
    if dates and filters.date_from:
        where.append(P.c.created_at >= _day_start(filters.date_from))
    if dates and filters.date_to:
        where.append(P.c.created_at < _day_start(filters.date_to + timedelta(days=1)))
    return where


def _step_date_filters(filters: ExportFilters) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.date_from:
        where.append(S.c.occurred_at >= _day_start(filters.date_from))
    if filters.date_to:
        where.append(S.c.occurred_at < _day_start(filters.date_to + timedelta(days=1)))
    return where


def _entry_field(dialect: str, name: str, *, as_json: bool = False) -> ColumnElement[Any]:
    """One member of the entry document, extracted by the database as text."""
    if dialect == "postgresql":
        doc = "convert_from(ledger_entries.entry_bytes, 'UTF8')::json"
        sql = f"({doc} -> '{name}')::text" if as_json else f"{doc} ->> '{name}'"
    else:
        sql = f"json_extract(CAST(ledger_entries.entry_bytes AS TEXT), '$.{name}')"
        if as_json:
            sql = f"json({sql})"
    return sa.literal_column(sql)


def _rfc3339(dialect: str, column: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        return sa.literal_column(f"""to_char({column}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')""")
    return sa.literal_column(f"strftime('%Y-%m-%dT%H:%M:%SZ', {column})")


def _stream(session: Session, query: sa.Select[Any]) -> Iterator[Sequence[Any]]:
    """Rows in partitions of YIELD_PER from a server-side cursor."""
    result = session.execute(query.execution_options(yield_per=YIELD_PER))
    yield from result.partitions()


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


# -- steps --------------------------------------------------------------------------------


def steps_query(dialect: str, filters: ExportFilters, *, csv: bool) -> sa.Select[Any]:
    joined = S.join(P, P.c.id == S.c.procurement_id).join(E, E.c.leaf_index == S.c.leaf_index)
    if csv and dialect == "postgresql":
        # The entry document parsed once a row (a LATERAL subquery), not once a member.
        parsed = (
            sa.select(
                sa.literal_column("convert_from(ledger_entries.entry_bytes, 'UTF8')::json").label(
                    "doc"
                )
            )
            .offset(0)
            .lateral("entry")
        )  # OFFSET 0: kept a subquery, not inlined per member
        joined = joined.join(parsed, sa.true())

        def member(name: str) -> ColumnElement[Any]:
            return sa.literal_column(f"(entry.doc -> '{name}')::text")
    else:

        def member(name: str) -> ColumnElement[Any]:
            return _entry_field(dialect, name, as_json=True)

    if csv:
        columns: list[Any] = [
            P.c.ocid,
            P.c.buyer_code,
            P.c.procedure,
            S.c.seq,
            S.c.leaf_index,
            S.c.type,
            _rfc3339(dialect, "procurement_steps.occurred_at"),
            _rfc3339(dialect, "procurement_steps.recorded_at"),
            S.c.actor_key_id,
            S.c.entry_hash,
            S.c.prev_hash,
            # Only what the table does not hold comes out of the entry document.
            member("data"),
            member("documents"),
            sa.cast(S.c.findings, sa.Text),
            member("imported_from"),
        ]
    else:
        columns = [E.c.entry_bytes]
    return (
        sa.select(*columns)
        .select_from(joined)
        .where(*_procurement_filters(filters, dates=False), *_step_date_filters(filters))
        .order_by(S.c.leaf_index)
    )


def count_steps(session: Session, filters: ExportFilters) -> int:
    query = (
        sa.select(sa.func.count())
        .select_from(S.join(P, P.c.id == S.c.procurement_id))
        .where(*_procurement_filters(filters, dates=False), *_step_date_filters(filters))
    )
    return int(session.execute(query).scalar_one())


def stream_steps_jsonl(session: Session, filters: ExportFilters) -> Iterator[bytes]:
    """Each line is a step's canonical entry bytes, exactly as logged: its SHA-256 is the
    entry hash (``sha256sum`` of a line without its newline)."""
    for rows in _stream(session, steps_query(dialect_of(session), filters, csv=False)):
        yield b"\n".join([bytes(row[0]) for row in rows]) + b"\n"


def stream_steps_csv(
    session: Session, filters: ExportFilters, *, delimiter: str, bom: bool
) -> Iterator[str]:
    rows = (
        row
        for partition in _stream(session, steps_query(dialect_of(session), filters, csv=True))
        for row in partition
    )
    yield from stream_csv(
        STEP_COLUMNS,
        rows,
        delimiter=DELIMITERS[delimiter],
        bom=bom,
        batch=YIELD_PER,
        text_columns=STEP_TEXT,
    )


def stream_steps_ocds(
    session: Session, filters: ExportFilters, *, base_url: str, publication: ocds.Publication
) -> Iterator[str]:
    """A release package of the releases of the steps in the filter, each built from its
    procurement's whole history (a release depends on the steps before it), each
    procurement's preceded by its release 0 (the procurement as opened, with the buyer), so
    that the package compiles to records as complete as the steps in it allow."""
    wanted_from = _day_start(filters.date_from) if filters.date_from else None
    wanted_to = _day_start(filters.date_to + timedelta(days=1)) if filters.date_to else None

    def releases() -> Iterator[dict[str, Any]]:
        for header, entries in _trails(session, filters, dates=False):
            opening, *built = ocds.build_releases(header, entries)
            chosen = [
                release
                for release, entry in zip(built, entries, strict=True)
                if (wanted_from is None or ocds.moment(entry["occurred_at"]) >= wanted_from)
                and (wanted_to is None or ocds.moment(entry["occurred_at"]) < wanted_to)
            ]
            if chosen:
                yield opening
                yield from chosen

    yield from _package_stream(
        "releases",
        releases(),
        uri=f"{base_url.rstrip('/')}/v1/exports/steps?format=ocds",
        publication=publication,
    )


def matches_any(session: Session, filters: ExportFilters, *, steps: bool) -> bool:
    """Does the export hold anything? (An OCDS package must hold at least one release.)"""
    if not steps:
        query = sa.select(P.c.id).where(*_procurement_filters(filters, dates=True))
    else:
        query = (
            sa.select(S.c.id)
            .select_from(S.join(P, P.c.id == S.c.procurement_id))
            .where(*_procurement_filters(filters, dates=False), *_step_date_filters(filters))
        )
    return session.execute(query.limit(1)).first() is not None


# -- procurements -------------------------------------------------------------------------


def procurements_query(dialect: str, filters: ExportFilters) -> sa.Select[Any]:
    return (
        sa.select(
            P.c.ocid,
            P.c.buyer_code,
            P.c.title,
            P.c.description,
            P.c.subject,
            P.c.procedure,
            P.c.regime,
            P.c.status,
            P.c.estimated_value_excl_vat,
            P.c.currency,
            P.c.cpv_codes,
            P.c.solution_ids,
            P.c.external_ids,
            _rfc3339(dialect, "procurements.created_at"),
            P.c.last_seq,
            P.c.last_entry_hash,
            P.c.started_on,
            P.c.legal_ground,
        )
        .where(*_procurement_filters(filters, dates=True))
        .order_by(P.c.id)
    )


def count_procurements(session: Session, filters: ExportFilters) -> int:
    query = (
        sa.select(sa.func.count()).select_from(P).where(*_procurement_filters(filters, dates=True))
    )
    return int(session.execute(query).scalar_one())


def _procurement_record(row: Sequence[Any]) -> dict[str, Any]:
    record = dict(zip(PROCUREMENT_COLUMNS, row, strict=True))
    value = record["estimated_value_excl_vat"]
    record["estimated_value_excl_vat"] = None if value is None else f"{Decimal(value):.2f}"
    started = record["started_on"]
    record["started_on"] = started.isoformat() if isinstance(started, date) else started
    return record


def stream_procurements_jsonl(session: Session, filters: ExportFilters) -> Iterator[str]:
    for rows in _stream(session, procurements_query(dialect_of(session), filters)):
        yield "".join(
            json.dumps(_procurement_record(row), ensure_ascii=False, separators=(",", ":")) + "\n"
            for row in rows
        )


def _csv_cells(row: Sequence[Any]) -> list[Any]:
    record = _procurement_record(row)
    record["cpv_codes"] = " ".join(record["cpv_codes"] or [])
    record["solution_ids"] = " ".join(str(i) for i in record["solution_ids"] or [])
    record["external_ids"] = json.dumps(record["external_ids"] or {}, ensure_ascii=False)
    return list(record.values())


def stream_procurements_csv(
    session: Session, filters: ExportFilters, *, delimiter: str, bom: bool
) -> Iterator[str]:
    rows = (
        _csv_cells(row)
        for partition in _stream(session, procurements_query(dialect_of(session), filters))
        for row in partition
    )
    yield from stream_csv(
        PROCUREMENT_COLUMNS,
        rows,
        delimiter=DELIMITERS[delimiter],
        bom=bom,
        batch=YIELD_PER,
        text_columns=PROCUREMENT_TEXT,
    )


def stream_procurements_ocds(
    session: Session, filters: ExportFilters, *, base_url: str, publication: ocds.Publication
) -> Iterator[str]:
    """A record package with one record (linked releases and compiled release) per
    procurement; the versioned release is on /v1/procurements/{ocid}/ocds/record."""
    base = base_url.rstrip("/")

    def records() -> Iterator[dict[str, Any]]:
        for header, entries in _trails(session, filters, dates=True):
            releases = ocds.build_releases(header, entries)
            yield ocds.compile_record(
                releases, releases_uri=releases_uri(base, header.ocid), versioned=False
            )

    yield from _package_stream(
        "records",
        records(),
        uri=f"{base}/v1/exports/procurements?format=ocds",
        publication=publication,
    )


def _trails(
    session: Session, filters: ExportFilters, *, dates: bool
) -> Iterator[tuple[ocds.ProcurementHeader, list[dict[str, Any]]]]:
    """(header, entry documents) per procurement, streamed in one ordered query."""
    query = (
        sa.select(
            P.c.id,
            P.c.ocid,
            P.c.buyer_code,
            P.c.title,
            P.c.description,
            P.c.subject,
            P.c.procedure,
            P.c.regime,
            P.c.estimated_value_excl_vat,
            P.c.currency,
            P.c.cpv_codes,
            P.c.created_at,
            E.c.entry_bytes,
            MUNICIPALITIES.c.name,
            MUNICIPALITIES.c.ico,
            P.c.external_ids,
            P.c.legal_ground,
        )
        .select_from(
            P.outerjoin(S, S.c.procurement_id == P.c.id)
            .outerjoin(E, E.c.leaf_index == S.c.leaf_index)
            .outerjoin(MUNICIPALITIES, MUNICIPALITIES.c.code == P.c.buyer_code)
        )
        .where(*_procurement_filters(filters, dates=dates))
        .order_by(P.c.id, S.c.seq)
    )
    rows = (row for partition in _stream(session, query) for row in partition)
    for _, group in groupby(rows, key=lambda row: row[0]):
        items = list(group)
        first = items[0]
        header = ocds.ProcurementHeader(
            ocid=first[1],
            buyer_code=first[2],
            title=first[3],
            description=first[4] or None,
            subject=first[5],
            procedure=first[6],
            regime=first[7],
            estimated_value_excl_vat=None if first[8] is None else f"{Decimal(first[8]):.2f}",
            currency=first[9] or "CZK",
            cpv_codes=tuple(first[10] or ()),
            created_at=ocds.release_date(first[11]),
            buyer_name=first[13],
            buyer_ico=first[14] or None,
            external_ids=tuple((str(k), str(v)) for k, v in (first[15] or {}).items()),
            legal_ground=first[16] or None,
        )
        entries = [json.loads(row[12]) for row in items if row[12] is not None]
        yield header, entries


def _package_stream(
    member: str, items: Iterable[dict[str, Any]], *, uri: str, publication: ocds.Publication
) -> Iterator[str]:
    """A package written piece by piece: metadata, then the items one by one."""
    published = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = {
        "uri": uri,
        "version": ocds.OCDS_VERSION,
        "publishedDate": published,
        **publication.meta(),
        "extensions": [ocds.BID_EXTENSION],
    }
    yield json.dumps(meta, ensure_ascii=False)[:-1] + f', "{member}": ['
    separator = "\n"
    for item in items:
        yield separator + json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        separator = ",\n"
    yield "\n]}\n"


# -- feed ---------------------------------------------------------------------------------


def feed(session: Session, after: int, limit: int) -> list[tuple[int, str, int, str, str, bytes]]:
    """Steps with leaf index > ``after``, in leaf order."""
    query = (
        sa.select(S.c.leaf_index, P.c.ocid, S.c.seq, S.c.type, S.c.entry_hash, E.c.entry_bytes)
        .select_from(
            S.join(P, P.c.id == S.c.procurement_id).join(E, E.c.leaf_index == S.c.leaf_index)
        )
        .where(S.c.leaf_index > after)
        .order_by(S.c.leaf_index)
        .limit(limit)
    )
    return [tuple(row) for row in session.execute(query)]


# -- red flags ----------------------------------------------------------------------------

# The step types a procurement must have for each rule to possibly apply (an SQL prefilter).
RULE_STEP_TYPES: dict[str, tuple[str, ...]] = {
    "single_bid": ("bids_opened",),
    "short_bid_period": ("notice_published", "invitation_sent"),
    "contract_before_objection_period": ("contract_signed",),
    "contract_not_published": ("contract_signed",),
    "price_paid_not_published": ("completed",),
    "paid_above_contract_value": ("payment_made",),
    "amendments_above_share": ("contract_amended",),
    "winner_not_among_bidders": ("selection_decided",),
    "contract_missing_from_register": ("contract_signed",),
    "register_value_differs": ("contract_signed",),
}


def red_flags_page(
    session: Session,
    *,
    config: RedFlagConfig,
    buyer_code: str | None,
    rule: str | None,
    after_id: int,
    limit: int,
    as_of: date,
    period: ExportFilters | None = None,
) -> tuple[list[RedFlag], int | None]:
    """Flags of up to ``limit`` procurements after ``after_id`` (by id) that can have
    flags; returns the flags and the last procurement id looked at when more may follow.
    ``period`` (its dates) keeps the procurements opened in it."""
    where: list[ColumnElement[bool]] = [P.c.id > after_id]
    if buyer_code:
        where.append(P.c.buyer_code == buyer_code)
    if period is not None:
        where += _procurement_filters(
            ExportFilters(date_from=period.date_from, date_to=period.date_to), dates=True
        )
    if rule == SPLIT_CONTRACTS:
        where.append(P.c.status != "cancelled")
    elif rule is not None:
        # SQL does the first cut: only procurements with the steps the rule reads.
        types = RULE_STEP_TYPES[rule]
        where.append(sa.exists().where(S.c.procurement_id == P.c.id, S.c.type.in_(types)))
    rows = (
        session.execute(sa.select(P).where(*where).order_by(P.c.id).limit(limit + 1))
        .mappings()
        .all()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    flags: list[RedFlag] = []
    if rule != SPLIT_CONTRACTS:
        entries = _entries_of(session, [row["id"] for row in rows])
        # The contract-register cross-checks, while the mirror holds records.
        wants_register = rule is None or rule in REGISTER_RULES
        register = register_lookup(session) if wants_register and rows else None
        for row in rows:
            found = procurement_flags(row, entries.get(row["id"], []), config, as_of, register)
            for flag in found:
                if rule is None or flag.rule == rule:
                    flags.append(flag)
    if rule in (None, SPLIT_CONTRACTS):
        flags += _split_flags(session, config, rows)
    order = {row["ocid"]: index for index, row in enumerate(rows)}
    flags.sort(key=lambda f: (order[f.ocid], list(RULES).index(f.rule)))
    return flags, (rows[-1]["id"] if more and rows else None)


def _entries_of(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not ids:
        return {}
    query = (
        sa.select(S.c.procurement_id, E.c.entry_bytes)
        .select_from(S.join(E, E.c.leaf_index == S.c.leaf_index))
        .where(S.c.procurement_id.in_(ids))
        .order_by(S.c.procurement_id, S.c.seq)
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for procurement_id, raw in session.execute(query):
        out.setdefault(procurement_id, []).append(json.loads(raw))
    return out


def _split_flags(session: Session, config: RedFlagConfig, rows: Sequence[Any]) -> list[RedFlag]:
    """Split-contract flags of the procurements in ``rows``: each buyer's purchases in the
    divisions concerned within the window around them are loaded (one query per buyer)."""
    page_ocids = {row["ocid"] for row in rows}
    flags: list[RedFlag] = []
    for buyer in sorted({row["buyer_code"] for row in rows}):
        dates = [row["created_at"] for row in rows if row["buyer_code"] == buyer]
        window = timedelta(days=config.split_window_days * 2 + 31)
        query = sa.select(P).where(
            P.c.buyer_code == buyer,
            P.c.status != "cancelled",
            P.c.created_at >= min(dates) - window,
            P.c.created_at <= max(dates) + window,
        )
        headers = session.execute(query).mappings().all()
        entries = _contract_entries(session, [h["id"] for h in headers])
        purchases: list[Purchase] = []
        for header in headers:
            found = purchase_of(header, entries.get(header["id"], []))
            if found is not None:
                purchases.append(found)
        flags += [f for f in split_contracts(purchases, config) if f.ocid in page_ocids]
    return flags


def _contract_entries(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Only the steps the split rule reads (contracts, corrections, cancellations)."""
    if not ids:
        return {}
    query = (
        sa.select(S.c.procurement_id, E.c.entry_bytes)
        .select_from(S.join(E, E.c.leaf_index == S.c.leaf_index))
        .where(
            S.c.procurement_id.in_(ids),
            S.c.type.in_(("contract_signed", "correction", "cancelled")),
        )
        .order_by(S.c.procurement_id, S.c.seq)
    )
    out: dict[int, list[dict[str, Any]]] = {}
    for procurement_id, raw in session.execute(query):
        out.setdefault(procurement_id, []).append(json.loads(raw))
    return out


def export_stream(
    session: Session,
    kind: str,
    fmt: str,
    filters: ExportFilters,
    *,
    delimiter: str,
    bom: bool,
    base_url: str,
    publication: ocds.Publication,
) -> Iterator[Any]:
    """The chunks of a bulk export: ``kind`` procurements or steps, ``fmt`` jsonl, csv or
    ocds (the one dispatch the HTTP routes and the CLI share)."""
    if fmt == "csv":
        csv_stream = stream_steps_csv if kind == "steps" else stream_procurements_csv
        return csv_stream(session, filters, delimiter=delimiter, bom=bom)
    if fmt == "ocds":
        ocds_stream = stream_steps_ocds if kind == "steps" else stream_procurements_ocds
        return ocds_stream(session, filters, base_url=base_url, publication=publication)
    return (stream_steps_jsonl if kind == "steps" else stream_procurements_jsonl)(session, filters)
