"""municipalities keep their IČO when the register file gives it

Revision ID: 0011_catalogue_municipality_ico
Revises: 0010_procurement_started_on
Create Date: 2026-12-06 08:00:00

The buyer's IČO identifies a municipality in OCDS (scheme CZ-ICO) and in the contract
register (registr smluv), whose records name their parties by IČO.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_catalogue_municipality_ico"
down_revision: str | Sequence[str] | None = "0010_procurement_started_on"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("municipalities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ico", sa.String(length=8), nullable=True))
        batch_op.create_index(batch_op.f("ix_municipalities_ico"), ["ico"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("municipalities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_municipalities_ico"))
        batch_op.drop_column("ico")
