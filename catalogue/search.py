"""One full-text interface over SQLite FTS5 and PostgreSQL tsvector.

Both indexes hold the same pre-processed tokens (``catalogue.text``), so both databases
answer a query with the same documents. SQLite: ``<entity>_fts`` is an FTS5 table
(``unicode61 remove_diacritics 2``) whose rowid is the document id. PostgreSQL: a plain
table ``(id, document)`` holding ``strip(to_tsvector('simple', tokens))``, GIN-indexed.

A pilot's index entry also carries its filter tags (``catalogue.text.tag_token``: status,
municipality, areas, standards, MIMs, solutions, vendors), so a text search with filters
intersects posting lists inside the index instead of joining every text match to the
pilots table. On SQLite they fill a second FTS5 column, ``tags``, which text queries never
look at and bm25 weighs 0; on PostgreSQL they are lexemes of the same vector, written
``~<token>`` so that no text query (only ``[a-z0-9]`` terms) can match them, and ranking
uses the text query alone. There they are at position 1 (the text's lexemes are stripped
of positions and weights): the tags that facets count (area, status, standard, MIM, region)
with weight A, the others (town, solution, vendor) with weight B, so that
``ts_filter(document, '{a}')`` keeps just the facets' tags: they are counted from the
matching documents without joining pilots or their tags.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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
# Each inner sequence is one filter: a document must carry one of its tag tokens.
TagFilters = Sequence[Sequence[str]]


def _table(entity: Entity) -> str:
    return f"{entity}_fts"


def _pg_tags(tags: Sequence[str]) -> list[str]:
    return ["~" + t for t in tags]


def _index_sql(dialect: str, entity: Entity, *, upsert: bool) -> str:
    name = _table(entity)
    if dialect == "postgresql":
        vector = "strip(to_tsvector('simple', :tokens))"
        if entity == "pilot":
            vector += " || CAST(:tags AS tsvector)"
        conflict = " ON CONFLICT (id) DO UPDATE SET document = excluded.document" if upsert else ""
        return f"INSERT INTO {name} (id, document) VALUES (:id, {vector}){conflict}"
    if entity == "pilot":
        return f"INSERT INTO {name} (rowid, tokens, tags) VALUES (:id, :tokens, :tags)"
    return f"INSERT INTO {name} (rowid, tokens) VALUES (:id, :tokens)"


# The tag kinds that facets count: weight A on PostgreSQL (the other kinds get weight B).
FACET_KINDS = ("area", "status", "standard", "mim", "region")
# SQLite: each pilot's facet tag tokens also sit in this plain table (id, tags): facets read
# them by id far faster than from the FTS5 row, whose stored content holds the text too.
FACETS_TABLE = "pilot_fts_facets"


def facet_tags(tags: Sequence[str]) -> str:
    """The tokens of the kinds facets count, space-separated."""
    return " ".join(t for t in tags if t.startswith(FACET_KINDS))


def _index_facets(session: Session, rows: Sequence[tuple[int, Sequence[str]]]) -> None:
    """SQLite: (re)write pilots' facet tag tokens (``FACETS_TABLE``)."""
    session.execute(
        text(f"INSERT OR REPLACE INTO {FACETS_TABLE} (id, tags) VALUES (:id, :tags)"),
        [{"id": i, "tags": facet_tags(tags)} for i, tags in rows],
    )


def _pg_tag_vector(tags: Sequence[str]) -> str:
    """The tags as a tsvector literal, each at position 1, with weight A for a facet's and
    B for the others (tokens are hex)."""
    return " ".join(f"'~{t}':1{'A' if t.startswith(FACET_KINDS) else 'B'}" for t in tags)


def _index_params(dialect: str, doc_id: int, tokens: str, tags: Sequence[str]) -> dict[str, Any]:
    if dialect == "postgresql":
        return {"id": doc_id, "tokens": tokens, "tags": _pg_tag_vector(tags)}
    return {"id": doc_id, "tokens": tokens, "tags": " ".join(tags)}


def index_document(
    session: Session,
    entity: Entity,
    doc_id: int,
    *texts: str | None,
    tags: Sequence[str] = (),
) -> None:
    """(Re)index one document; ``tags`` are a pilot's filter tag tokens."""
    dialect = dialect_name(session)
    if dialect != "postgresql":
        session.execute(text(f"DELETE FROM {_table(entity)} WHERE rowid = :id"), {"id": doc_id})
    session.execute(
        text(_index_sql(dialect, entity, upsert=True)),
        _index_params(dialect, doc_id, index_tokens(*texts), tags),
    )
    if dialect != "postgresql" and entity == "pilot":
        _index_facets(session, [(doc_id, tags)])


def index_many(
    session: Session, entity: Entity, rows: Sequence[tuple[int, str, Sequence[str]]]
) -> None:
    """Bulk-index pre-tokenised ``(id, tokens, tags)`` rows of new documents (bench, seed)."""
    dialect = dialect_name(session)
    session.execute(
        text(_index_sql(dialect, entity, upsert=False)),
        [_index_params(dialect, i, tokens, tags) for i, tokens, tags in rows],
    )
    if dialect != "postgresql" and entity == "pilot":
        _index_facets(session, [(i, tags) for i, _, tags in rows])


def _fts5_expression(groups: list[tuple[list[str], list[str]]], tags: TagFilters) -> str:
    parts = ["{tokens} : (" + fts5_query(groups) + ")"] if groups else []
    parts += ["{tags} : (" + " OR ".join(f'"{t}"' for t in one) + ")" for one in tags]
    return " AND ".join(parts)


def _ts_expression(groups: list[tuple[list[str], list[str]]], tags: TagFilters) -> str:
    parts = [tsquery(groups)] if groups else []
    parts += ["(" + " | ".join(f"'{t}'" for t in _pg_tags(one)) + ")" for one in tags]
    return " & ".join(parts)


# A prefix that stands for more index terms than this stays a prefix query.
MAX_PREFIX_TERMS = 16
Groups = list[tuple[list[str], list[str]]]


def _expanded(session: Session, entity: Entity, groups: Groups) -> Groups:
    """SQLite: each query word's prefixes replaced by the index terms they stand for (and
    its exact forms kept only where the index has them), read from the ``fts5vocab``
    table. The documents matched are the same; FTS5 answers an OR of a few terms lazily
    (seeking past what another word or a filter rules out) where a prefix query first
    merges every posting of every term with that prefix: for a prefix of common terms
    (``zakazk*``: 83,000 documents) that merge was most of the search."""
    vocab = f"{_table(entity)}_vocab"
    out: Groups = []
    for prefixes, exact in groups:
        kept: list[str] = []
        terms: set[str] = set()
        for prefix in prefixes:
            found = (
                session.execute(
                    text(f"SELECT term FROM {vocab} WHERE term >= :low AND term < :high LIMIT :n"),
                    {
                        "low": prefix,
                        "high": prefix[:-1] + chr(ord(prefix[-1]) + 1),
                        "n": MAX_PREFIX_TERMS + 1,
                    },
                )
                .scalars()
                .all()
            )
            if len(found) > MAX_PREFIX_TERMS:
                kept.append(prefix)
            else:
                terms.update(found)
        if exact:
            names = ", ".join(f":t{i}" for i in range(len(exact)))
            present = (
                session.execute(
                    text(f"SELECT term FROM {vocab} WHERE term IN ({names})"),
                    {f"t{i}": t for i, t in enumerate(exact)},
                )
                .scalars()
                .all()
            )
            terms.update(present)
        if not kept and not terms:
            out.append((prefixes, exact))  # no index term: it matches nothing either way
        else:
            out.append((kept, sorted(terms)))
    return out


@dataclass
class Ranking:
    """A text match whose rank is computed late, over a bounded set of rows.

    ``matched`` is ``SELECT id, carrier`` of the matching documents; ``rank_of`` turns the
    carrier column of a subquery built on it into the rank (lower = better). On SQLite the
    carrier is bm25 itself (an FTS5 auxiliary function can only run in the MATCH query; it
    runs only for the rows that query returns); on PostgreSQL it is the document, ranked
    by ts_rank only once the rows are chosen.
    """

    matched: Select[int, Any]
    rank_of: Callable[[Any], ColumnElement[float]]
    # Pilots: ``SELECT id, carrier, tags`` of the same matches, ``tags`` the tokens of
    # the tags facets count, space-separated (PostgreSQL: each with a leading ``~``).
    tagged: Select[int, Any, str] | None = None
    # PostgreSQL, pilots: the tsquery text of the same matches (text and tag filters).
    tsquery: str | None = None
    # PostgreSQL: the text query's words, each as (prefix terms, exact terms).
    groups: Groups | None = None


def ranking(session: Session, entity: Entity, query: str, tags: TagFilters = ()) -> Ranking | None:
    """The documents matching ``query`` and carrying a tag token of every filter in
    ``tags`` (pilots only), with their rank deferred; None without a searchable word."""
    groups = query_groups(query)
    if not groups:
        return None
    if any(not one for one in tags):
        raise ValueError("a tag filter needs at least one token")
    name = _table(entity)
    fts = table(name, column("document"))
    if dialect_name(session) == "postgresql":
        words = bindparam("fts_q", tsquery(groups), type_=TSQUERY)
        wanted = bindparam("fts_t", _ts_expression(groups, tags), type_=TSQUERY) if tags else words
        doc_id: ColumnElement[int] = literal_column(f"{name}.id")
        matched: Select[int, Any] = (
            select(doc_id.label("id"), fts.c.document.label("carrier"))
            .select_from(fts)
            .where(fts.c.document.op("@@")(wanted))
        )
        tagged: Select[int, Any, str] | None = None
        if entity == "pilot":
            facet_tags = func.ts_filter(fts.c.document, literal_column("'{a}'"))
            tagged = matched.add_columns(
                func.array_to_string(func.tsvector_to_array(facet_tags), " ").label("tags")
            )
        return Ranking(
            matched,
            lambda sq: -func.ts_rank(sq.c.carrier, words),
            tagged,
            tsquery=_ts_expression(groups, tags) if entity == "pilot" else None,
            groups=groups,
        )
    groups = _expanded(session, entity, groups)
    rowid: ColumnElement[int] = literal_column(f"{name}.rowid")
    # The tags column (pilots) weighs nothing: the rank is the text's alone.
    bm25: ColumnElement[float] = literal_column(
        f"bm25({name}, 1.0, 0.0)" if entity == "pilot" else f"bm25({name})"
    )
    expression = literal_column(name).op("MATCH")(
        bindparam("fts_q", _fts5_expression(groups, tags))
    )
    matched_fts5: Select[int, Any] = (
        select(rowid.label("id"), bm25.label("carrier")).where(expression).select_from(fts)
    )
    tagged = None
    if entity == "pilot":
        facets = table(FACETS_TABLE, column("id"), column("tags"))
        tagged = (
            select(rowid.label("id"), bm25.label("carrier"), facets.c.tags.label("tags"))
            .select_from(fts)
            .join(facets, facets.c.id == rowid)
            .where(expression)
        )
    return Ranking(matched_fts5, lambda sq: sq.c.carrier, tagged)


def count_tags(session: Session, found: Ranking, kinds: Sequence[str]) -> dict[str, int]:
    """PostgreSQL: how many of the pilots matching ``found`` carry each tag token of one of
    ``kinds``, counted by ``ts_stat`` over the documents' tag lexemes (weight A) alone."""
    if found.tsquery is None:
        raise ValueError("tag counts need a pilot text match on PostgreSQL")
    return _tag_lexeme_counts(session, found.tsquery, kinds)


def _tag_lexeme_counts(session: Session, tsquery_text: str, kinds: Sequence[str]) -> dict[str, int]:
    """PostgreSQL: the weight-A tag lexemes of the documents matching ``tsquery_text``
    that start with one of ``kinds``, with how many documents hold each."""
    documents = (
        "'SELECT ts_filter(document, ''{a}'') FROM pilot_fts WHERE document @@ CAST(' "
        "|| quote_literal(:q) || ' AS tsquery)'"
    )
    wanted = " OR ".join(f"starts_with(word, '~{kind}')" for kind in kinds) or "false"
    query = text(f"SELECT word, ndoc FROM ts_stat({documents}) WHERE {wanted}")
    with answered_from_index(session):
        rows = session.execute(query, {"q": tsquery_text}).all()
    return {str(word)[1:]: int(count) for word, count in rows}


def filtered_tag_counts(session: Session, tags: TagFilters, kinds: Sequence[str]) -> dict[str, int]:
    """How many of the pilots carrying a token of every filter in ``tags`` (no text) hold
    each tag token of one of ``kinds``, from the index alone: the filters intersect posting
    lists there and the matches' facet tokens come back with them (SQLite: the plain
    ``FACETS_TABLE`` by id; PostgreSQL: ``ts_stat`` over their weight-A lexemes), instead
    of looking up every match's tags row by row (300 ms for one area of 100,000 pilots)."""
    if not tags or any(not one for one in tags):
        raise ValueError("filtered tag counts need at least one tag filter, each non-empty")
    if dialect_name(session) == "postgresql":
        return _tag_lexeme_counts(session, _ts_expression([], tags), kinds)
    statement = text(
        f"SELECT group_concat(f.tags, ' ') FROM pilot_fts JOIN {FACETS_TABLE} f "
        "ON f.id = pilot_fts.rowid WHERE pilot_fts MATCH :q"
    )
    concatenated = session.execute(statement, {"q": _fts5_expression([], tags)}).scalar()
    counted = Counter((concatenated or "").split())
    wanted = tuple(kinds)
    return {token: n for token, n in counted.items() if token.startswith(wanted)}


def index_tag_counts(session: Session, kinds: Sequence[str]) -> dict[str, int]:
    """SQLite: how many pilots of the whole index hold each tag token of ``kinds``, read
    from the index's own term statistics for its ``tags`` column (an ``fts5vocab`` table of
    type ``col``, made per connection in the temp schema), not from the documents."""
    session.execute(
        text(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.pilot_fts_tag_vocab "
            "USING fts5vocab(main, pilot_fts, col)"
        )
    )
    # One range a statement: fts5vocab seeks a single term range, but scans (and counts the
    # postings of) every term of the index for an OR of ranges.
    statement = text(
        "SELECT term, doc FROM temp.pilot_fts_tag_vocab "
        "WHERE col = 'tags' AND term >= :low AND term < :high"
    )
    found: dict[str, int] = {}
    for kind in kinds:
        rows = session.execute(statement, {"low": kind, "high": kind + "~"})  # ~ > hex digits
        found.update((str(term), int(doc)) for term, doc in rows)
    return found


def walks_newest_first(session: Session) -> bool:
    """Can the index hand out matches newest first, stopping when it has enough? FTS5
    walks its doclists in rowid order; PostgreSQL can only walk the primary key and test
    every document on the way (fine when most documents match, slow when few do)."""
    return dialect_name(session) != "postgresql"


# How long the index's lexeme statistics are reused (ANALYZE refreshes them far less often).
LEXEME_STATS_SECONDS = 60.0
_lexeme_stats: dict[tuple[str, str], tuple[float, dict[str, float] | None]] = {}


def _lexeme_shares(session: Session, entity: Entity) -> dict[str, float] | None:
    """PostgreSQL: the share of documents holding each of the index's most common lexemes,
    as ANALYZE sampled them (``pg_stats.most_common_elems``); None before any ANALYZE."""
    key = (session.get_bind().engine.url.render_as_string(), entity)
    now = time.monotonic()
    cached = _lexeme_stats.get(key)
    if cached is not None and now - cached[0] < LEXEME_STATS_SECONDS:
        return cached[1]
    row = session.execute(
        text(
            "SELECT CAST(CAST(most_common_elems AS text) AS text[]), most_common_elem_freqs "
            "FROM pg_stats "
            "WHERE schemaname = current_schema() AND tablename = :name AND attname = 'document'"
        ),
        {"name": _table(entity)},
    ).first()
    shares = dict(zip(row[0], row[1], strict=False)) if row and row[0] else None
    _lexeme_stats[key] = (now, shares)
    return shares


def may_be_common(session: Session, entity: Entity, found: Ranking, share: float) -> bool:
    """PostgreSQL: could ``found``'s text match ``share`` of the documents or more? False
    only when the statistics say so: for some query word, the shares of the lexemes it
    matches add up to less (a lexeme missing from the most common ones counts as none)."""
    if found.groups is None:
        return True
    shares = _lexeme_shares(session, entity)
    if shares is None:
        return True
    for prefixes, exact in found.groups:
        starts, terms = tuple(prefixes), set(exact)
        matched = sum(
            f for lexeme, f in shares.items() if lexeme in terms or lexeme.startswith(starts)
        )
        if matched < share:
            return False
    return True


def newest_ids_floor(entity: Entity, span: int) -> ColumnElement[int]:
    """The id ``span`` below the newest indexed document's (PostgreSQL)."""
    name = _table(entity)
    newest: Select[Any] = select(func.max(literal_column(f"{name}.id"))).select_from(table(name))
    return newest.scalar_subquery() - span


@contextmanager
def answered_from_index(session: Session) -> Iterator[None]:
    """Within the block PostgreSQL answers a text match with a bitmap scan of the GIN index.

    Its selectivity estimate for a prefix term (``parkovan:*``) is a fixed guess, about
    one document in ten a term, whatever the term: for a rare term it would walk the primary
    key or the whole table testing every document (45 ms on 100,000 pilots) instead of
    reading the few postings (15 ms). The settings are transaction-local and restored."""
    if dialect_name(session) != "postgresql":
        yield
        return
    # The relevance window sorts up to 5,000 matches with their documents (about 4 MB):
    # with the default work_mem that sort and the window count went to disk. One statement
    # each way (a round trip costs about as much as a small query).
    previous = session.execute(
        text(
            "WITH previous AS MATERIALIZED (SELECT current_setting('enable_seqscan') AS s, "
            "current_setting('enable_indexscan') AS i, current_setting('work_mem') AS w) "
            "SELECT s, i, w, set_config('enable_seqscan', 'off', true), "
            "set_config('enable_indexscan', 'off', true), set_config('work_mem', '32MB', true) "
            "FROM previous"
        )
    ).one()
    try:
        yield
    finally:
        session.execute(
            text(
                "SELECT set_config('enable_seqscan', :s, true), "
                "set_config('enable_indexscan', :i, true), set_config('work_mem', :w, true)"
            ),
            {"s": previous.s, "i": previous.i, "w": previous.w},
        )


def match(session: Session, entity: Entity, query: str) -> Select[int, float] | None:
    """``SELECT id, rank`` of the documents matching ``query`` (lower rank = better), or
    None when the query has no searchable word."""
    found = ranking(session, entity, query)
    if found is None:
        return None
    matched = found.matched.subquery("matched")
    return select(matched.c.id.label("id"), found.rank_of(matched).label("rank"))


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
    return tsquery(groups) if dialect == "postgresql" else _fts5_expression(groups, ())
