"""procurements keep the distinct types of their steps (read by every append)

Revision ID: 0006_procurement
Revises: 0005_ledger
Create Date: 2026-11-27 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_procurement"
down_revision: str | Sequence[str] | None = "0005_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DISTINCT_TYPES = (
    "SELECT DISTINCT type AS t FROM procurement_steps s WHERE s.procurement_id = procurements.id"
)


def upgrade() -> None:
    with op.batch_alter_table("procurements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step_types", sa.Text(), nullable=False, server_default=""))
    # Backfill from the steps already recorded (the order inside the list does not matter).
    if op.get_bind().dialect.name == "postgresql":
        aggregate = f"SELECT string_agg(t, ',' ORDER BY t) FROM ({_DISTINCT_TYPES}) d"
    else:
        aggregate = f"SELECT group_concat(t, ',') FROM ({_DISTINCT_TYPES} ORDER BY t) d"
    op.execute(f"UPDATE procurements SET step_types = COALESCE(({aggregate}), '')")


def downgrade() -> None:
    with op.batch_alter_table("procurements", schema=None) as batch_op:
        batch_op.drop_column("step_types")
