"""catalogue search: a pilot's index entry carries its town's region

Revision ID: 0009_catalogue_region_tags
Revises: 0008_catalogue_tag_weights
Create Date: 2026-11-29 08:00:00.000000

Each pilot's full-text entry gets one more tag token, ``region`` + the hex of its town's
NUTS 3 code (``catalogue.text.tag_token``), so that the region facet of a text search is
counted from the index like the other facets. Before, the matches' town tokens (thousands)
were decoded and summed by region in a second query.

Facets read the tags of the kinds they count (area, status, standard, mim, region), and no
others, with the matches. PostgreSQL: the tag lexemes are rebuilt at position 1, those
kinds with weight A, the others (town, solution, vendor) with weight B, so
``ts_filter(document, '{a}')`` keeps just what facets count; the downgrade puts every tag
back at weight A, as 0008 left them. SQLite: a plain table ``pilot_fts_facets (id, tags)``
holds those tokens, read by id far faster than the FTS5 row (whose content holds the text).
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0009_catalogue_region_tags'
down_revision: str | Sequence[str] | None = '0008_catalogue_tag_weights'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FACETS = "pilot_fts_facets"
_FACET_KINDS = ("area", "status", "standard", "mim", "region")
_PG_TAGS = "ARRAY(SELECT lexeme FROM unnest(f.document) WHERE lexeme LIKE '~%')"


_FACET_WEIGHT = f"CASE WHEN tag ~ '^~({'|'.join(_FACET_KINDS)})' THEN 'A' ELSE 'B' END"


def _pg_rebuild(extra: str, weight: str) -> None:
    """Replace each document's tag lexemes by ``extra`` (a query of tag lexemes of ``f``),
    at position 1 with the ``weight`` (an SQL expression of ``tag``)."""
    op.execute(
        f"""
        UPDATE pilot_fts AS f SET document = ts_delete(f.document, {_PG_TAGS}) || CAST(coalesce((
            SELECT string_agg(quote_literal(tag) || ':' || '1' || {weight}, ' ')
            FROM ({extra}) AS tags (tag)
        ), '') AS tsvector)
        """
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_rebuild(
            "SELECT lexeme FROM unnest(f.document) WHERE lexeme LIKE '~%' "
            "UNION SELECT '~region' || encode(convert_to(m.region_nuts3, 'UTF8'), 'hex') "
            "FROM pilots AS p JOIN municipalities AS m ON m.code = p.municipality_code "
            "WHERE p.id = f.id",
            _FACET_WEIGHT,
        )
        return
    op.execute(
        """
        UPDATE pilot_fts SET tags = trim(tags || ' ' || (
            SELECT 'region' || lower(hex(m.region_nuts3))
            FROM pilots AS p JOIN municipalities AS m ON m.code = p.municipality_code
            WHERE p.id = pilot_fts.rowid
        ))
        WHERE rowid IN (SELECT id FROM pilots)
        """
    )
    op.execute(f"CREATE TABLE {_FACETS} (id INTEGER PRIMARY KEY, tags TEXT NOT NULL)")
    bind = op.get_bind()
    rows = bind.exec_driver_sql("SELECT rowid, tags FROM pilot_fts").all()
    if rows:
        bind.exec_driver_sql(
            f"INSERT INTO {_FACETS} (id, tags) VALUES (?, ?)",
            [
                (rowid, " ".join(sorted(t for t in tags.split() if t.startswith(_FACET_KINDS))))
                for rowid, tags in rows
            ],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_rebuild(
            "SELECT lexeme FROM unnest(f.document) "
            "WHERE lexeme LIKE '~%' AND lexeme NOT LIKE '~region%'",
            "'A'",
        )
        return
    op.execute(f"DROP TABLE {_FACETS}")
    bind = op.get_bind()
    rows = bind.exec_driver_sql("SELECT rowid, tags FROM pilot_fts").all()
    for rowid, tags in rows:
        kept = " ".join(t for t in tags.split() if not t.startswith("region"))
        bind.exec_driver_sql("UPDATE pilot_fts SET tags = ? WHERE rowid = ?", (kept, rowid))
