"""One full-text interface over SQLite FTS5 and PostgreSQL tsvector.

Both indexes hold the same pre-processed tokens (``catalogue.text``), so both databases
answer a query with the same documents. SQLite: ``<entity>_fts`` is an FTS5 table
(``unicode61 remove_diacritics 2``) whose rowid is the document id. PostgreSQL: a plain
table ``(id, document)`` holding ``strip(to_tsvector('simple', tokens))``, GIN-indexed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, bindparam, column, func, literal_column, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session

from api.db import dialect_name
from catalogue.text import fts5_query, index_tokens, query_groups, tsquery

Entity = Literal["pilot", "solution"]
FTS_TABLES = ("pilot_fts", "solution_fts")


def _table(entity: Entity) -> str:
    return f"{entity}_fts"


def index_document(session: Session, entity: Entity, doc_id: int, *texts: str | None) -> None:
    """(Re)index one document."""
    tokens = index_tokens(*texts)
    name = _table(entity)
    if dialect_name(session) == "postgresql":
        session.execute(
            text(
                f"INSERT INTO {name} (id, document) "
                "VALUES (:id, strip(to_tsvector('simple', :tokens))) "
                "ON CONFLICT (id) DO UPDATE SET document = excluded.document"
            ),
            {"id": doc_id, "tokens": tokens},
        )
    else:
        session.execute(text(f"DELETE FROM {name} WHERE rowid = :id"), {"id": doc_id})
        session.execute(
            text(f"INSERT INTO {name} (rowid, tokens) VALUES (:id, :tokens)"),
            {"id": doc_id, "tokens": tokens},
        )


def index_many(session: Session, entity: Entity, rows: list[tuple[int, str]]) -> None:
    """Bulk-index pre-tokenised ``(id, tokens)`` rows of new documents (bench, seed)."""
    name = _table(entity)
    if dialect_name(session) == "postgresql":
        sql = (
            f"INSERT INTO {name} (id, document) VALUES (:id, strip(to_tsvector('simple', :tokens)))"
        )
    else:
        sql = f"INSERT INTO {name} (rowid, tokens) VALUES (:id, :tokens)"
    session.execute(
        text(sql),
        [{"id": i, "tokens": t} for i, t in rows],
    )


def match(session: Session, entity: Entity, query: str) -> Select[int, float] | None:
    """``SELECT id, rank`` of the documents matching ``query`` (lower rank = better), or
    None when the query has no searchable word."""
    groups = query_groups(query)
    if not groups:
        return None
    name = _table(entity)
    fts = table(name, column("document"))
    if dialect_name(session) == "postgresql":
        vector = fts.c.document
        # The query arrives as a tsquery parameter (its terms are already normalised, so
        # to_tsquery('simple', ...) would change nothing): a to_tsquery() call over a bound
        # parameter is not folded in a generic plan and runs again for every row.
        tsq = bindparam("fts_q", tsquery(groups), type_=TSQUERY)
        rank: ColumnElement[float] = -func.ts_rank(vector, tsq)
        doc_id: ColumnElement[int] = literal_column(f"{name}.id")
        return (
            select(doc_id.label("id"), rank.label("rank"))
            .select_from(fts)
            .where(vector.op("@@")(tsq))
        )
    rowid: ColumnElement[int] = literal_column(f"{name}.rowid")
    bm25: ColumnElement[float] = literal_column(f"bm25({name})")
    return (
        select(rowid.label("id"), bm25.label("rank"))
        .where(literal_column(name).op("MATCH")(bindparam("fts_q", fts5_query(groups))))
        .select_from(fts)
    )


@dataclass
class Ranking:
    """A text match whose rank is computed late, over a bounded set of rows.

    ``matched`` is ``SELECT id, <carrier>`` of the matching documents; ``rank_of`` turns the
    carrier column of a subquery built on it into the rank (lower = better). On SQLite the
    carrier is bm25 itself (an FTS5 auxiliary function can only run in the MATCH query; it
    runs only for the rows that query returns); on PostgreSQL it is the document, ranked
    by ts_rank only once the rows are chosen.
    """

    matched: Select[int, Any]
    rank_of: Callable[[Any], ColumnElement[float]]


def ranking(session: Session, entity: Entity, query: str) -> Ranking | None:
    """The text match of ``query`` with its rank deferred, or None without a searchable word."""
    groups = query_groups(query)
    if not groups:
        return None
    name = _table(entity)
    fts = table(name, column("document"))
    if dialect_name(session) == "postgresql":
        tsq = bindparam("fts_q", tsquery(groups), type_=TSQUERY)
        doc_id: ColumnElement[int] = literal_column(f"{name}.id")
        matched: Select[int, Any] = (
            select(doc_id.label("id"), fts.c.document.label("carrier"))
            .select_from(fts)
            .where(fts.c.document.op("@@")(tsq))
        )
        return Ranking(matched, lambda sq: -func.ts_rank(sq.c.carrier, tsq))
    rowid: ColumnElement[int] = literal_column(f"{name}.rowid")
    bm25: ColumnElement[float] = literal_column(f"bm25({name})")
    matched_fts5: Select[int, Any] = (
        select(rowid.label("id"), bm25.label("carrier"))
        .where(literal_column(name).op("MATCH")(bindparam("fts_q", fts5_query(groups))))
        .select_from(fts)
    )
    return Ranking(matched_fts5, lambda sq: sq.c.carrier)


def raw_match_sql(dialect: str, entity: Entity) -> str:
    """The bare ranked full-text query, for benchmarks: ``:q`` is the prepared query."""
    name = _table(entity)
    if dialect == "postgresql":
        return (
            f"SELECT id FROM {name} WHERE document @@ CAST(:q AS tsquery) "
            "ORDER BY ts_rank(document, CAST(:q AS tsquery)) DESC LIMIT 50"
        )
    return f"SELECT rowid FROM {name} WHERE {name} MATCH :q ORDER BY rank LIMIT 50"


def prepared_query(dialect: str, query: str) -> str:
    groups = query_groups(query)
    return tsquery(groups) if dialect == "postgresql" else fts5_query(groups)
