"""Every SQL statement of the contract-register mirror, and the few it reads from the
procurement trail and the municipalities register. Dialect differences stay here."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from procurement.ledger.models import LedgerEntry
from procurement.models import Procurement, ProcurementStep
from procurement.register.models import RegisterDump, RegisterPartyIco, RegisterRecord

DUMPS = cast(sa.Table, sa.inspect(RegisterDump).local_table)
RECORDS = cast(sa.Table, sa.inspect(RegisterRecord).local_table)
PARTY_ICOS = cast(sa.Table, sa.inspect(RegisterPartyIco).local_table)
P = sa.inspect(Procurement).local_table
S = sa.inspect(ProcurementStep).local_table
E = sa.inspect(LedgerEntry).local_table
# The catalogue's table, referred to by code as every other domain does.
MUNICIPALITIES = sa.table("municipalities", sa.column("code"), sa.column("ico"))

Key = tuple[int, int]  # (contract_id, version_id)


# -- writing --------------------------------------------------------------------------------


def insert_rows(
    session: Session, table: sa.Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT many rows: COPY on PostgreSQL (psycopg adapts each value), the driver's
    executemany on SQLite with each value converted by its column type's own bind
    processor (what the ORM would send). The per-row statement machinery of the ORM costs
    more than the insert itself on a dump of 100,000 records. JSON columns take text that
    is JSON already."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql":
        raw: Any = connection.connection.dbapi_connection  # a psycopg connection
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    convert = []
    for index, name in enumerate(names):
        column_type = table.c[name].type
        if isinstance(column_type, sa.JSON):
            continue
        process = column_type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            convert.append((index, process))
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([marker] * len(names))})"
    )
    values: list[tuple[Any, ...]] = []
    for row in rows:
        items = list(row)
        for index, process in convert:
            if items[index] is not None:
                items[index] = process(items[index])
        values.append(tuple(items))
    connection.exec_driver_sql(statement, values)


def _among(session: Session, column: Any, values: Sequence[int]) -> ColumnElement[bool]:
    """``column IN values``; one array parameter on PostgreSQL, where a thousand bound
    parameters cost more to send than the query to run."""
    if session.get_bind().dialect.name == "postgresql":
        array = sa.bindparam(None, list(values), type_=postgresql.ARRAY(sa.BigInteger))
        return column == sa.any_(array)  # type: ignore[no-any-return]
    return column.in_(values)  # type: ignore[no-any-return]


def known_keys(session: Session, keys: Iterable[Key]) -> set[Key]:
    """Which of these (contract, version) pairs the mirror holds."""
    wanted = set(keys)
    contracts = sorted({contract for contract, _ in wanted})
    if not contracts:
        return set()
    rows = session.execute(
        sa.select(RECORDS.c.contract_id, RECORDS.c.version_id).where(
            _among(session, RECORDS.c.contract_id, contracts)
        )
    )
    return {(row[0], row[1]) for row in rows} & wanted


def stored_rows(session: Session, keys: Sequence[Key], names: Sequence[str]) -> dict[Key, Any]:
    """The named columns of these versions, by key."""
    contracts = sorted({contract for contract, _ in keys})
    wanted = set(keys)
    rows = session.execute(
        sa.select(
            RECORDS.c.contract_id, RECORDS.c.version_id, *(RECORDS.c[n] for n in names)
        ).where(_among(session, RECORDS.c.contract_id, contracts))
    )
    return {(row[0], row[1]): row[2:] for row in rows if (row[0], row[1]) in wanted}


def delete_versions(session: Session, keys: Sequence[Key]) -> None:
    for contract_id, version_id in keys:
        match = (RECORDS.c.contract_id == contract_id, RECORDS.c.version_id == version_id)
        session.execute(RECORDS.delete().where(*match))
        session.execute(
            PARTY_ICOS.delete().where(
                PARTY_ICOS.c.contract_id == contract_id, PARTY_ICOS.c.version_id == version_id
            )
        )


def set_validity(session: Session, key: Key, valid: bool, dump_id: int) -> None:
    session.execute(
        RECORDS.update()
        .where(RECORDS.c.contract_id == key[0], RECORDS.c.version_id == key[1])
        .values(valid=valid, dump_id=dump_id)
    )


def dump_with_sha256(session: Session, sha256: str) -> Any:
    """The imported dump with this SHA-256 (its row), or None."""
    return session.execute(sa.select(DUMPS).where(DUMPS.c.sha256 == sha256)).mappings().first()


def insert_dump(session: Session, values: dict[str, Any]) -> int:
    result: Any = session.execute(DUMPS.insert().values(**values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def update_dump(session: Session, dump_id: int, values: dict[str, Any]) -> None:
    session.execute(DUMPS.update().where(DUMPS.c.id == dump_id).values(**values))


def later_generation_exists(
    session: Session, dump_id: int, year: int, month: int, generated_at: datetime
) -> bool:
    row = session.execute(
        sa.select(DUMPS.c.id).where(
            DUMPS.c.id != dump_id,
            DUMPS.c.year == year,
            DUMPS.c.month == month,
            DUMPS.c.generated_at > generated_at,
        )
    ).first()
    return row is not None


def dump_months(session: Session) -> list[tuple[int, int, datetime | None, bool]]:
    """(year, month, generated_at, complete) of every imported dump that names its month."""
    rows = session.execute(
        sa.select(DUMPS.c.year, DUMPS.c.month, DUMPS.c.generated_at, DUMPS.c.complete).where(
            DUMPS.c.year.is_not(None), DUMPS.c.month.is_not(None)
        )
    )
    return [(int(r[0]), int(r[1]), r[2], bool(r[3])) for r in rows]


# -- reading --------------------------------------------------------------------------------


def _newer_version() -> ColumnElement[bool]:
    newer = RECORDS.alias("newer")
    return (
        sa.exists()
        .where(
            newer.c.contract_id == RECORDS.c.contract_id,
            newer.c.version_id > RECORDS.c.version_id,
        )
        .correlate(RECORDS)
    )


def current_clause() -> ColumnElement[bool]:
    """A record is current when its dump said it was valid and the mirror holds no newer
    version of its contract."""
    return sa.and_(RECORDS.c.valid.is_(True), ~_newer_version())


def record_rows(
    session: Session,
    *,
    ico: str | None = None,
    signed_from: date | None = None,
    signed_to: date | None = None,
    current_only: bool = True,
    after: Key | None = None,
    contract_ids: Sequence[int] | None = None,
    limit: int | None = None,
) -> list[Any]:
    """Records (with ``current``) in (contract, version) order, filtered. With ``ico`` the
    query walks that IČO's entries of ``contract_register_party_icos`` in key order, so a
    page costs the same however large the mirror is."""
    current = current_clause().label("current")
    query = sa.select(RECORDS, current)
    key = (RECORDS.c.contract_id, RECORDS.c.version_id)
    if ico is not None:
        key = (PARTY_ICOS.c.contract_id, PARTY_ICOS.c.version_id)
        query = query.select_from(
            PARTY_ICOS.join(
                RECORDS,
                sa.and_(
                    RECORDS.c.contract_id == PARTY_ICOS.c.contract_id,
                    RECORDS.c.version_id == PARTY_ICOS.c.version_id,
                ),
            )
        ).where(PARTY_ICOS.c.ico == ico)
    if signed_from is not None:
        query = query.where(RECORDS.c.signed_on >= signed_from)
    if signed_to is not None:
        query = query.where(RECORDS.c.signed_on <= signed_to)
    if current_only:
        query = query.where(current_clause())
    if after is not None:
        query = query.where(sa.tuple_(*key) > sa.tuple_(*after))
    if contract_ids is not None:
        query = query.where(_among(session, RECORDS.c.contract_id, contract_ids))
    query = query.order_by(*key)
    if limit is not None:
        query = query.limit(limit)
    return list(session.execute(query).mappings())


def candidate_rows(
    session: Session, buyer_ico: str, supplier_ico: str, signed_from: date, signed_to: date
) -> list[Any]:
    """Current records naming both IČOs as parties, signed between the two days: walked
    from the buyer's entries of the IČO index (a town has far fewer records than a large
    supplier)."""
    rows = record_rows(session, ico=buyer_ico, signed_from=signed_from, signed_to=signed_to)
    return [row for row in rows if supplier_ico in _party_icos_of(row)]


def _party_icos_of(row: Any) -> set[str]:
    return {party[1] for party in row["parties"] or () if party[1]}


def any_dumps(session: Session) -> bool:
    return session.execute(sa.select(DUMPS.c.id).limit(1)).first() is not None


def municipality_icos(session: Session, codes: Iterable[str]) -> dict[str, str | None]:
    """The IČO of each municipality code that exists (None: the register names none)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = session.execute(
        sa.select(MUNICIPALITIES.c.code, MUNICIPALITIES.c.ico).where(
            MUNICIPALITIES.c.code.in_(wanted)
        )
    )
    return {row[0]: row[1] for row in rows}


def buyer_contract_trails(
    session: Session, buyer_code: str
) -> list[tuple[str, str, dict[str, Any], list[dict[str, Any]]]]:
    """(ocid, buyer code, external ids, the entries the cross-checks read: contracts,
    their publication and corrections) of every procurement of a buyer that has a
    contract, in id order."""
    with_contract = sa.exists().where(S.c.procurement_id == P.c.id, S.c.type == "contract_signed")
    headers = session.execute(
        sa.select(P.c.id, P.c.ocid, P.c.buyer_code, P.c.external_ids)
        .where(P.c.buyer_code == buyer_code, with_contract)
        .order_by(P.c.id)
    ).all()
    if not headers:
        return []
    ids = [row[0] for row in headers]
    entries: dict[int, list[dict[str, Any]]] = {}
    query = (
        sa.select(S.c.procurement_id, E.c.entry_bytes)
        .select_from(S.join(E, E.c.leaf_index == S.c.leaf_index))
        .where(
            S.c.procurement_id.in_(ids),
            S.c.type.in_(("contract_signed", "contract_published", "correction")),
        )
        .order_by(S.c.procurement_id, S.c.seq)
    )
    for procurement_id, raw in session.execute(query):
        entries.setdefault(procurement_id, []).append(json.loads(raw))
    return [(row[1], row[2], dict(row[3] or {}), entries.get(row[0], [])) for row in headers]
