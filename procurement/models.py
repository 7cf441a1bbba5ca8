"""Procurement tables: procurements (with their chain head), their steps, the ocid counter
and the imported CPV list. A step's canonical bytes live once in ``ledger_entries``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.auth import utcnow


class Procurement(SQLModel, table=True):
    """One purchase of a buyer municipality; ``last_seq``/``last_entry_hash`` are the head
    of its hash chain, locked (FOR UPDATE) by every append."""

    __tablename__ = "procurements"
    __table_args__ = (
        UniqueConstraint("buyer_code", "ocid_year", "ocid_number"),
        Index("ix_procurements_buyer_code_id", "buyer_code", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ocid: str = Field(max_length=100, unique=True)
    buyer_code: str = Field(max_length=6)
    ocid_year: int
    ocid_number: int
    title: str = Field(max_length=500)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    subject: str = Field(max_length=16)
    procedure: str = Field(max_length=40)
    regime: str = Field(max_length=20)
    estimated_value_excl_vat: Decimal = Field(sa_column=Column(Numeric(16, 2), nullable=False))
    currency: str = Field(default="CZK", max_length=3)
    cpv_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    solution_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    external_ids: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    # The day the procedure began (zahájení): the law of that day decides the regime.
    started_on: date
    # The legal ground of the chosen procedure where the law asks for one (e.g. the
    # § 63 odst. 3 písm. b) ZZVZ of a negotiated procedure without publication).
    legal_ground: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    created_by_key_id: str | None = Field(default=None, max_length=16)
    status: str = Field(default="planned", max_length=16)
    last_seq: int = Field(default=0)
    last_entry_hash: str | None = Field(default=None, max_length=64)
    # The distinct types of its steps, comma-separated and sorted, kept with the chain head
    # so an append reads what its order rules need from the row it locks anyway.
    step_types: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class ProcurementStep(SQLModel, table=True):
    """One recorded step; never updated or deleted (database triggers refuse it)."""

    __tablename__ = "procurement_steps"
    __table_args__ = (
        UniqueConstraint("procurement_id", "seq"),
        Index("ix_procurement_steps_procurement_id_type", "procurement_id", "type"),
        Index("ix_procurement_steps_procurement_id_corrects_seq", "procurement_id", "corrects_seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    procurement_id: int = Field(
        sa_column=Column(Integer, ForeignKey("procurements.id"), nullable=False)
    )
    seq: int
    leaf_index: int = Field(
        sa_column=Column(
            Integer, ForeignKey("ledger_entries.leaf_index"), nullable=False, unique=True
        )
    )
    type: str = Field(max_length=40)
    occurred_at: datetime
    recorded_at: datetime
    actor_key_id: str | None = Field(default=None, max_length=16)
    entry_hash: str = Field(max_length=64)
    prev_hash: str | None = Field(default=None, max_length=64)
    findings: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # For a correction step: the seq it corrects (also in its data), so deadline checks
    # can apply corrections without reading every entry.
    corrects_seq: int | None = Field(default=None)


class OcidCounter(SQLModel, table=True):
    """The last ocid number handed out per buyer and year (locked FOR UPDATE)."""

    __tablename__ = "procurement_ocid_counters"

    buyer_code: str = Field(primary_key=True, max_length=6)
    year: int = Field(primary_key=True)
    last_number: int = Field(default=0)


class CpvCode(SQLModel, table=True):
    """The official CPV 2008 list, when an operator imported one (`smartsteps import cpv`)."""

    __tablename__ = "cpv_vocabulary"

    code: str = Field(primary_key=True, max_length=10)
    label: str = Field(default="", max_length=500)
