"""The one place that names constraints and imports every table module.

The naming convention must be set before any table is defined, or constraints stay
unnamed and Alembic cannot drop them; the app and ``migrations/env.py`` import this.
"""

from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

import api.auth  # noqa: E402, F401
import api.idempotency  # noqa: E402, F401
import catalogue.models  # noqa: E402, F401
import procurement.ledger.models  # noqa: E402, F401
import procurement.models  # noqa: E402, F401
import procurement.register.models  # noqa: E402, F401

metadata = SQLModel.metadata
