"""Ledger tables: the log head (one row, the lock) and the entries (the leaves)."""

from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, SQLModel


class LedgerHead(SQLModel, table=True):
    """The single row every append locks; ``size`` is the number of leaves."""

    __tablename__ = "ledger_head"

    id: int = Field(default=1, primary_key=True)
    size: int = Field(default=0)


class LedgerEntry(SQLModel, table=True):
    """One leaf: the canonical bytes of a step, stored once."""

    __tablename__ = "ledger_entries"

    leaf_index: int = Field(primary_key=True)
    entry_bytes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
