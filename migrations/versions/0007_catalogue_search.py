"""catalogue search: a pilot's full-text entry carries its filter tags

Revision ID: 0007_catalogue_search
Revises: 0006_procurement
Create Date: 2026-11-28 05:50:00.000000

A covering index (entity, entity_id, kind, value) on ``catalogue_tags`` replaces the one on
(entity, entity_id): facets read a filtered set's tags by pilot id.

SQLite also gets ``fts5vocab`` tables of the index terms (``<name>_vocab``), through which
a query's prefixes are expanded into the terms they stand for.

A text search with filters intersects the tag tokens inside the full-text index
(``catalogue.search``) instead of joining every text match to ``pilots``. SQLite: the FTS5
table gets a second column, ``tags``. PostgreSQL: the tags join the document vector as
``~<token>`` lexemes. A token is the kind, then the value's UTF-8 bytes in hex
(``catalogue.text.tag_token``); the kinds are those of ``catalogue_tags`` plus ``status``
and ``town`` (the municipality code).
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0007_catalogue_search'
down_revision: str | Sequence[str] | None = '0006_procurement'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FTS5 = "tokenize = 'unicode61 remove_diacritics 2'"


def upgrade() -> None:
    # Facets read the tags of a filtered set by pilot id: from the index alone.
    with op.batch_alter_table('catalogue_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_catalogue_tags_entity_entity_id')
        batch_op.create_index(
            'ix_catalogue_tags_entity_entity_id_kind_value',
            ['entity', 'entity_id', 'kind', 'value'],
            unique=False,
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            UPDATE pilot_fts AS f SET document = f.document || array_to_tsvector(ARRAY(
                SELECT DISTINCT '~' || tag FROM (
                    SELECT t.kind || encode(convert_to(t.value, 'UTF8'), 'hex') AS tag
                    FROM catalogue_tags AS t WHERE t.entity = 'pilot' AND t.entity_id = f.id
                    UNION ALL
                    SELECT 'status' || encode(convert_to(p.status, 'UTF8'), 'hex')
                    FROM pilots AS p WHERE p.id = f.id
                    UNION ALL
                    SELECT 'town' || encode(convert_to(p.municipality_code, 'UTF8'), 'hex')
                    FROM pilots AS p WHERE p.id = f.id
                ) AS tags
            ))
            """
        )
        return
    # The index's terms, to expand a query's prefixes into the terms they stand for.
    for name in ("pilot_fts", "solution_fts"):
        op.execute(f"CREATE VIRTUAL TABLE {name}_vocab USING fts5vocab({name}, 'row')")
    op.execute(f"CREATE VIRTUAL TABLE pilot_fts_tagged USING fts5(tokens, tags, {_FTS5})")
    op.execute(
        """
        INSERT INTO pilot_fts_tagged (rowid, tokens, tags)
        SELECT f.rowid, f.tokens, coalesce((
            SELECT group_concat(tag, ' ') FROM (
                SELECT t.kind || lower(hex(t.value)) AS tag
                FROM catalogue_tags AS t WHERE t.entity = 'pilot' AND t.entity_id = f.rowid
                UNION
                SELECT 'status' || lower(hex(p.status)) FROM pilots AS p WHERE p.id = f.rowid
                UNION
                SELECT 'town' || lower(hex(p.municipality_code))
                FROM pilots AS p WHERE p.id = f.rowid
            )
        ), '')
        FROM pilot_fts AS f
        """
    )
    op.execute("DROP TABLE pilot_fts")
    op.execute("ALTER TABLE pilot_fts_tagged RENAME TO pilot_fts")


def downgrade() -> None:
    with op.batch_alter_table('catalogue_tags', schema=None) as batch_op:
        batch_op.drop_index('ix_catalogue_tags_entity_entity_id_kind_value')
        batch_op.create_index(
            'ix_catalogue_tags_entity_entity_id', ['entity', 'entity_id'], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE pilot_fts SET document = ts_delete(document, ARRAY("
            "SELECT lexeme FROM unnest(document) WHERE lexeme LIKE '~%'))"
        )
        return
    for name in ("pilot_fts", "solution_fts"):
        op.execute(f"DROP TABLE {name}_vocab")
    op.execute(f"CREATE VIRTUAL TABLE pilot_fts_plain USING fts5(tokens, {_FTS5})")
    op.execute("INSERT INTO pilot_fts_plain (rowid, tokens) SELECT rowid, tokens FROM pilot_fts")
    op.execute("DROP TABLE pilot_fts")
    op.execute("ALTER TABLE pilot_fts_plain RENAME TO pilot_fts")
