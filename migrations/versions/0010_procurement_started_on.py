"""procurements keep the day their procedure began (started_on)

Revision ID: 0010_procurement_started_on
Revises: 0009_catalogue_region_tags
Create Date: 2026-12-06 06:00:00

The regime of a procurement and the law its periods follow are those of the day it began;
a trail recorded after the fact names that day. Existing procurements began on the day they
were opened here: their Prague date of ``created_at``.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0010_procurement_started_on"
down_revision: str | Sequence[str] | None = "0009_catalogue_region_tags"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRAGUE = ZoneInfo("Europe/Prague")


def upgrade() -> None:
    with op.batch_alter_table("procurements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("started_on", sa.Date(), nullable=False, server_default="2016-10-01")
        )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "UPDATE procurements SET started_on = "
            "(created_at AT TIME ZONE 'UTC' AT TIME ZONE 'Europe/Prague')::date"
        )
        return
    procurements = sa.table(
        "procurements", sa.column("id", sa.Integer), sa.column("created_at", sa.DateTime),
        sa.column("started_on", sa.Date),
    )
    rows = bind.execute(sa.select(procurements.c.id, procurements.c.created_at)).all()
    for procurement_id, created_at in rows:
        moment = created_at if isinstance(created_at, datetime) else datetime.fromisoformat(
            str(created_at)
        )
        day = moment.replace(tzinfo=UTC).astimezone(PRAGUE).date()
        bind.execute(
            procurements.update()
            .where(procurements.c.id == procurement_id)
            .values(started_on=day)
        )


def downgrade() -> None:
    with op.batch_alter_table("procurements", schema=None) as batch_op:
        batch_op.drop_column("started_on")
