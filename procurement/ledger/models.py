"""Ledger tables: the log head (the lock and the right frontier), the entries (the leaves,
each with the interior nodes it completed) and the signed checkpoints."""

from datetime import datetime

from sqlalchemy import Column, DateTime, Float, LargeBinary, Text
from sqlmodel import Field, SQLModel


class LedgerHead(SQLModel, table=True):
    """The single row every append locks; ``size`` is the number of leaves.

    ``frontier`` holds the roots of the perfect subtrees that make up the tree (one per set
    bit of ``size``, largest first), so an append and the current root cost O(1) reads.
    """

    __tablename__ = "ledger_head"

    id: int = Field(default=1, primary_key=True)
    size: int = Field(default=0)
    frontier: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    checkpoint_at: float | None = Field(
        default=None, sa_column=Column(Float, nullable=True), description="epoch seconds"
    )


class LedgerEntry(SQLModel, table=True):
    """One leaf: the canonical bytes of a step, stored once."""

    __tablename__ = "ledger_entries"

    leaf_index: int = Field(primary_key=True)
    entry_bytes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    nodes: bytes | None = Field(
        default=None,
        sa_column=Column(LargeBinary, nullable=True),
        description="The interior nodes this leaf completed (levels 1, 2, ...; 32 bytes each): "
        "node (level l, index j) is stored with leaf (j + 1) * 2**l - 1.",
    )


class LedgerCheckpoint(SQLModel, table=True):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note); one per tree size."""

    __tablename__ = "ledger_checkpoints"

    tree_size: int = Field(primary_key=True)
    root_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    note: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
