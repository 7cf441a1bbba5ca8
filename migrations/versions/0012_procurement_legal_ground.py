"""procurements may name the legal ground of their procedure (legal_ground)

Revision ID: 0012_procurement_legal_ground
Revises: 0011_catalogue_municipality_ico
Create Date: 2026-12-06 10:00:00

A negotiated procedure without publication is allowed only on a ground the law lists
(§§ 63-66 ZZVZ); the trail keeps it as text (e.g. "§ 63 odst. 3 písm. b) ZZVZ") and OCDS
publishes it as tender.procurementMethodRationale. Existing procurements have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_procurement_legal_ground"
down_revision: str | Sequence[str] | None = "0011_catalogue_municipality_ico"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("procurements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_ground", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("procurements", schema=None) as batch_op:
        batch_op.drop_column("legal_ground")
