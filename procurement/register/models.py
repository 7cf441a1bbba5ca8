"""Tables of the contract-register mirror: the dumps imported, the records (one row per
version of a contract) and their parties. Written only by ``smartsteps import
contract-register``; the API reads them.

Each value the register states is kept as its raw text (``*_raw``) beside its normalised
form, which is NULL when the text cannot be read as one.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Integer, Numeric, Text
from sqlmodel import Field, SQLModel

from api.auth import utcnow


class RegisterDump(SQLModel, table=True):
    """One imported dump file (by its SHA-256): the month of publications it lists, when
    the register generated it and whether that month was complete then."""

    __tablename__ = "contract_register_dumps"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    year: int | None = Field(default=None)
    month: int | None = Field(default=None)
    generated_at: datetime | None = Field(default=None)
    complete: bool = Field(default=False)
    records: int = Field(default=0)
    imported_at: datetime = Field(default_factory=utcnow)


class RegisterRecord(SQLModel, table=True):
    """One version (``idVerze``) of a contract (``idSmlouvy``) as the register published it.
    A newer version of the same contract supersedes it; ``valid`` is ``platnyZaznam`` as
    the dump that wrote the row stated it. ``parties`` lists the publisher (``subjekt``,
    first when named) and the counterparties (``smluvniStrana``) in the register's order,
    each an array ``[role, ico, ico_raw, name, name_raw, data_box, kind]``
    (``procurement.register.parser.Party``).

    Keyed by (contract, version) so that the versions of one contract are neighbours: the
    one index serves the import's lookups, supersession and the list's order. There are no
    foreign keys: only the import writes these rows, together, and on PostgreSQL the
    per-row checks would cost a fifth of an import's time."""

    __tablename__ = "contract_register_records"

    contract_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    version_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    url: str | None = Field(default=None, sa_column=Column(Text))
    published_at: datetime | None = Field(default=None)
    published_at_raw: str | None = Field(default=None, sa_column=Column(Text))
    signed_on: date | None = Field(default=None)
    signed_on_raw: str | None = Field(default=None, sa_column=Column(Text))
    subject: str | None = Field(default=None, sa_column=Column(Text))
    subject_raw: str | None = Field(default=None, sa_column=Column(Text))
    contract_number: str | None = Field(default=None, sa_column=Column(Text))
    value_excl_vat: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2)))
    value_excl_vat_raw: str | None = Field(default=None, sa_column=Column(Text))
    value_incl_vat: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2)))
    value_incl_vat_raw: str | None = Field(default=None, sa_column=Column(Text))
    foreign_value: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 2)))
    foreign_value_raw: str | None = Field(default=None, sa_column=Column(Text))
    foreign_currency: str | None = Field(default=None, max_length=3)
    foreign_currency_raw: str | None = Field(default=None, sa_column=Column(Text))
    price_not_stated: str | None = Field(default=None, sa_column=Column(Text))
    linked_record: str | None = Field(default=None, sa_column=Column(Text))
    linked_record_url: str | None = Field(default=None, sa_column=Column(Text))
    parties: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    valid: bool = Field(default=True)
    dump_id: int = Field(sa_column=Column(Integer, nullable=False))


class RegisterPartyIco(SQLModel, table=True):
    """Which records name an IČO as a party (publisher or counterparty): the index the
    list by IČO and the cross-checks search. One row per IČO and record."""

    __tablename__ = "contract_register_party_icos"
    # On SQLite the key is the table (one B-tree, not a table and its key's index).
    __table_args__ = {"sqlite_with_rowid": False}

    ico: str = Field(primary_key=True, max_length=8)
    contract_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    version_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
