"""catalogue search: a pilot's tag lexemes carry weight A (PostgreSQL)

Revision ID: 0008_catalogue_tag_weights
Revises: 0007_catalogue_search
Create Date: 2026-11-28 07:00:00.000000

The ``~<token>`` tag lexemes of a pilot's document get position 1 and weight A; the text's
lexemes stay stripped (no position, no weight). ``ts_filter(document, '{a}')`` then keeps
the tags alone, and facets count them with ``ts_stat`` over the matching documents instead
of joining every match to ``pilots`` and ``catalogue_tags``. Matching and ranking are
unchanged: no query term carries a weight and none matches a tag. SQLite: nothing to do.
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0008_catalogue_tag_weights'
down_revision: str | Sequence[str] | None = '0007_catalogue_search'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TAGS = "ARRAY(SELECT lexeme FROM unnest(document) WHERE lexeme LIKE '~%')"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        UPDATE pilot_fts SET document = ts_delete(document, {_TAGS}) || CAST(coalesce((
            SELECT string_agg(quote_literal(lexeme) || ':' || '1A', ' ')
            FROM unnest(document) WHERE lexeme LIKE '~%'
        ), '') AS tsvector)
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"UPDATE pilot_fts SET document = ts_delete(document, {_TAGS}) || "
        f"array_to_tsvector({_TAGS})"
    )
