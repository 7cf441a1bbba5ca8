"""Catalogue tables: municipalities register, vendors, solutions, pilots and their tags.

Full-text indexes (``pilot_fts``, ``solution_fts``) are not tables of this metadata: they
are an FTS5 virtual table on SQLite and a table with a GIN tsvector index on PostgreSQL,
created by the migration and written through ``catalogue.search``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, Numeric, PrimaryKeyConstraint, Text
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlmodel import Field, SQLModel

from api.auth import utcnow


class Municipality(SQLModel, table=True):
    """A municipality (obec) of the official register."""

    __tablename__ = "municipalities"
    __table_args__ = (Index("ix_municipalities_lat_lon", "lat", "lon"),)

    code: str = Field(primary_key=True, max_length=6)  # kód obce
    name: str = Field(max_length=100)
    name_search: str = Field(max_length=100, index=True)
    district: str = Field(max_length=100)  # okres
    district_lau1: str = Field(max_length=6, index=True)
    region: str = Field(max_length=100)  # kraj
    region_nuts3: str = Field(max_length=5, index=True)
    postcode: str = Field(max_length=5)
    lat: float
    lon: float
    population: int = Field(index=True)
    # The municipality's IČO (identifikační číslo), when the register file gives it: it
    # identifies the buyer in OCDS and in the contract register.
    ico: str | None = Field(default=None, max_length=8, index=True)


class Vendor(SQLModel, table=True):
    __tablename__ = "vendors"

    id: int | None = Field(default=None, primary_key=True)
    ico: str = Field(max_length=8, unique=True)  # IČO
    name: str = Field(max_length=200)
    country: str = Field(default="CZ", max_length=2)
    website: str | None = Field(default=None, max_length=500)
    is_demo: bool = False
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    created_by_key_id: str | None = Field(default=None, max_length=16)


class Solution(SQLModel, table=True):
    __tablename__ = "solutions"

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendors.id", index=True)
    name: str = Field(max_length=200)
    summary: str = Field(default="", max_length=1000)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    areas: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    standards: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    mims: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trl: int | None = None
    hosting: str | None = Field(default=None, max_length=20)
    price_model: str | None = Field(default=None, max_length=20)
    open_api_documented: bool = False
    standard_data_model: bool = False
    bulk_export: bool = False
    data_owned_by_municipality: bool = False
    open_source: bool = False
    licence: str | None = Field(default=None, max_length=100)  # SPDX id
    exit_clause: bool = False
    published_in_nkod: bool = False
    proprietary_hardware: bool = False
    lockin_score: int = Field(default=100, index=True)
    is_demo: bool = False
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    created_by_key_id: str | None = Field(default=None, max_length=16)


class Pilot(SQLModel, table=True):
    """An example from practice: what a municipality tried, with what, at what cost."""

    __tablename__ = "pilots"

    id: int | None = Field(default=None, primary_key=True)
    municipality_code: str = Field(foreign_key="municipalities.code", max_length=6, index=True)
    title: str = Field(max_length=300)
    summary: str = Field(default="", max_length=2000)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    areas: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20, index=True)
    started_on: date | None = None
    ended_on: date | None = None
    budget_czk: Decimal | None = Field(default=None, sa_column=Column(Numeric(16, 2)))
    funding: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    solution_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    vendor_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    kpis: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    adoption: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    lessons_learned: str = Field(default="", sa_column=Column(Text, nullable=False))
    partners: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    contact: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    procurement_ocids: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    open_data_url: str | None = Field(default=None, max_length=500)
    # Derived from the linked solutions and procurements, kept for filtering.
    has_procurement: bool = Field(default=False, index=True)
    open_source: bool = False
    data_owned_by_municipality: bool = False
    lockin_score: int | None = None
    is_demo: bool = False
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    created_by_key_id: str | None = Field(default=None, max_length=16)


class CatalogueTag(SQLModel, table=True):
    """One value of a multi-valued field (area, standard, MIM, solution, vendor), for filters
    and facets that both databases answer from an index."""

    __tablename__ = "catalogue_tags"
    __table_args__ = (
        PrimaryKeyConstraint("entity", "kind", "value", "entity_id"),
        # Covering: facets read a filtered set's tags by pilot id from the index alone.
        Index(
            "ix_catalogue_tags_entity_entity_id_kind_value", "entity", "entity_id", "kind", "value"
        ),
    )

    entity: str = Field(max_length=8)  # "pilot" or "solution"
    kind: str = Field(max_length=16)
    value: str = Field(max_length=64)
    entity_id: int


class CatalogueRevision(SQLModel, table=True):
    """One row: the revision of what the pilots' facets count (their tags, status or town,
    a town's region), a random token that each transaction changing them replaces as it
    commits, so the whole catalogue's facets are counted once per revision, not on every
    request (see ``catalogue.service``). Random, not a counter: a restored backup or a
    recreated database never repeats a revision with other contents."""

    __tablename__ = "catalogue_revision"

    id: int = Field(default=1, primary_key=True)
    revision: str = Field(max_length=32)


def columns(model: type[SQLModel]) -> ReadOnlyColumnCollection[str, Column[Any]]:
    """The table's columns, typed for query building (``columns(Pilot).status``)."""
    return model.__table__.c  # type: ignore[attr-defined, no-any-return]
