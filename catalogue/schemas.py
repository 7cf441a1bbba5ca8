"""Request and response models of the catalogue API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.text import AsciiNumber, Ico, Lines, MunicipalityCode, OneLine
from catalogue.vocabulary import MIM_SLUGS, STANDARD_SLUGS, Area, PilotStatus

T = TypeVar("T")
EARLIEST = date(1990, 1, 1)
Url = Annotated[str, Field(max_length=500, pattern=r"^https?://[^\s]+$"), OneLine]
ShortText = Annotated[str, Field(min_length=1, max_length=200), OneLine]
# Multi-line free text (summaries, descriptions, lessons learned): tabs and line breaks kept.
LongText = Annotated[str, Lines]
Czk = Annotated[Decimal, AsciiNumber, Field(ge=0, max_digits=16, decimal_places=2)]


def _latest_date() -> date:
    today = date.today()
    return today.replace(year=today.year + 10)


def _check_date(value: date | None) -> date | None:
    if value is not None and not (EARLIEST <= value <= _latest_date()):
        raise ValueError("must lie between 1990-01-01 and ten years from now")
    return value


def _known(values: list[str], allowed: frozenset[str], what: str) -> list[str]:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(unknown[:5])}; see GET /v1/standards")
    return list(dict.fromkeys(values))


class Hosting(StrEnum):
    cloud = "cloud"
    on_premises = "on_premises"
    hybrid = "hybrid"


class PriceModel(StrEnum):
    one_off = "one_off"
    subscription = "subscription"
    per_unit = "per_unit"
    free = "free"
    other = "other"


class StandardPublic(BaseModel):
    slug: str
    name: str
    kind: str = Field(description="'standard' or 'mim' (OASC Minimal Interoperability Mechanism)")
    domain: str
    description: str
    url: str


# --- municipalities -------------------------------------------------------------------


class MunicipalityPublic(BaseModel):
    code: str
    name: str
    district: str
    district_lau1: str
    region: str
    region_nuts3: str
    postcode: str
    lat: float
    lon: float
    population: int
    population_band: str
    ico: str | None = Field(default=None, description="IČO of the municipality, when known")
    distance_km: float | None = None


# --- vendors --------------------------------------------------------------------------


class VendorBase(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VendorCreate(VendorBase):
    ico: Ico
    name: ShortText
    country: str = Field(default="CZ", pattern=r"^[A-Z]{2}$")
    website: Url | None = None


class VendorUpdate(VendorBase):
    ico: Ico | None = None
    name: ShortText | None = None
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    website: Url | None = None


class VendorPublic(BaseModel):
    id: int
    ico: str
    name: str
    country: str
    website: str | None
    demo: bool
    created_at: datetime
    updated_at: datetime


# --- solutions ------------------------------------------------------------------------


class LockinReason(BaseModel):
    factor: str
    points: int = Field(description="What this factor adds to the score (0 when it holds)")
    detail: str


class LockinProfile(BaseModel):
    score: int = Field(ge=0, le=100, description="0 = easy to leave, 100 = locked in")
    level: str = Field(description="low (<30), medium (<60) or high")
    reasons: list[LockinReason]


Areas = Annotated[list[Area], Field(max_length=5)]
Slugs = Annotated[list[Annotated[str, Field(max_length=40)]], Field(max_length=40)]


class SolutionFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("standards", check_fields=False)
    @classmethod
    def _standards(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _known(value, STANDARD_SLUGS, "standard")

    @field_validator("mims", check_fields=False)
    @classmethod
    def _mims(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _known(value, MIM_SLUGS, "MIM")


class SolutionCreate(SolutionFields):
    vendor_id: int = Field(ge=1, le=2**31 - 1)
    name: ShortText
    summary: LongText = Field(default="", max_length=1000)
    description: LongText = Field(default="", max_length=20000)
    areas: Areas = Field(min_length=1)
    standards: Slugs = []
    mims: Slugs = []
    trl: int | None = Field(default=None, ge=1, le=9, description="Technology readiness level")
    hosting: Hosting | None = None
    price_model: PriceModel | None = None
    open_api_documented: bool = False
    standard_data_model: bool = False
    bulk_export: bool = False
    data_owned_by_municipality: bool = False
    open_source: bool = False
    licence: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9.+\-]+$")
    exit_clause: bool = False
    published_in_nkod: bool = False
    proprietary_hardware: bool = False


class SolutionUpdate(SolutionFields):
    vendor_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    name: ShortText | None = None
    summary: LongText | None = Field(default=None, max_length=1000)
    description: LongText | None = Field(default=None, max_length=20000)
    areas: Annotated[list[Area], Field(min_length=1, max_length=5)] | None = None
    standards: Slugs | None = None
    mims: Slugs | None = None
    trl: int | None = Field(default=None, ge=1, le=9)
    hosting: Hosting | None = None
    price_model: PriceModel | None = None
    open_api_documented: bool | None = None
    standard_data_model: bool | None = None
    bulk_export: bool | None = None
    data_owned_by_municipality: bool | None = None
    open_source: bool | None = None
    licence: str | None = Field(default=None, max_length=100, pattern=r"^[A-Za-z0-9.+\-]+$")
    exit_clause: bool | None = None
    published_in_nkod: bool | None = None
    proprietary_hardware: bool | None = None


class SolutionPublic(BaseModel):
    id: int
    vendor_id: int
    name: str
    summary: str
    description: str
    areas: list[str]
    standards: list[str]
    mims: list[str]
    trl: int | None
    hosting: str | None
    price_model: str | None
    open_api_documented: bool
    standard_data_model: bool
    bulk_export: bool
    data_owned_by_municipality: bool
    open_source: bool
    licence: str | None
    exit_clause: bool
    published_in_nkod: bool
    proprietary_hardware: bool
    lockin: LockinProfile
    demo: bool
    created_at: datetime
    updated_at: datetime
    distance_km: float | None = Field(
        default=None,
        description="With near or similar_to: the distance to the nearest municipality in "
        "range that has a pilot using it",
    )


# --- pilots ---------------------------------------------------------------------------


class Funding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: ShortText = Field(description="e.g. own budget, IROP, OP TAK, Modernisation Fund")
    amount_czk: Czk | None = None


class Kpi(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText
    unit: Annotated[str, OneLine] = Field(max_length=40)
    baseline: float | None = Field(default=None, allow_inf_nan=False)
    target: float | None = Field(default=None, allow_inf_nan=False)
    actual: float | None = Field(default=None, allow_inf_nan=False)


class AdoptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    users: int = Field(ge=0, le=100_000_000, description="Citizens who really used it")
    measured_on: date | None = None

    @field_validator("measured_on")
    @classmethod
    def _measured(cls, value: date | None) -> date | None:
        return _check_date(value)


class Adoption(BaseModel):
    users: int
    measured_on: date | None = None
    share_of_population: float | None = Field(
        default=None, description="users / population of the municipality"
    )


class PartnerKind(StrEnum):
    town = "town"
    firm = "firm"
    ngo = "ngo"
    school = "school"
    university = "university"
    region = "region"
    state = "state"
    other = "other"


class Partner(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ShortText
    kind: PartnerKind


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, OneLine] | None = Field(default=None, max_length=200)
    email: Annotated[str, OneLine] | None = Field(
        default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$"
    )
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9 +()\-]+$")
    public: bool = Field(default=False, description="Shown to anonymous readers only if true")


Ocid = Annotated[str, Field(max_length=100, pattern=r"^ocds-[A-Za-z0-9]+-[A-Za-z0-9\-]+$")]
Ids = Annotated[list[Annotated[int, Field(ge=1, le=2**31 - 1)]], Field(max_length=50)]


class PilotFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("started_on", "ended_on", check_fields=False)
    @classmethod
    def _dates(cls, value: date | None) -> date | None:
        return _check_date(value)

    @model_validator(mode="after")
    def _order(self) -> Any:
        start, end = getattr(self, "started_on", None), getattr(self, "ended_on", None)
        if start is not None and end is not None and end < start:
            raise ValueError("ended_on lies before started_on")
        return self


class PilotCreate(PilotFields):
    municipality_code: MunicipalityCode
    title: Annotated[str, Field(min_length=1, max_length=300), OneLine]
    summary: LongText = Field(default="", max_length=2000)
    description: LongText = Field(default="", max_length=20000)
    areas: Areas = Field(min_length=1)
    status: PilotStatus
    started_on: date | None = None
    ended_on: date | None = None
    budget_czk: Czk | None = None
    funding: Annotated[list[Funding], Field(max_length=20)] = []
    solution_ids: Ids = []
    vendor_ids: Ids = []
    kpis: Annotated[list[Kpi], Field(max_length=50)] = []
    adoption: AdoptionIn | None = None
    lessons_learned: LongText = Field(default="", max_length=20000)
    partners: Annotated[list[Partner], Field(max_length=50)] = []
    contact: Contact | None = None
    procurement_ocids: Annotated[list[Ocid], Field(max_length=20)] = []
    open_data_url: Url | None = None


class PilotUpdate(PilotFields):
    municipality_code: MunicipalityCode | None = None
    title: Annotated[str, Field(min_length=1, max_length=300), OneLine] | None = None
    summary: LongText | None = Field(default=None, max_length=2000)
    description: LongText | None = Field(default=None, max_length=20000)
    areas: Annotated[list[Area], Field(min_length=1, max_length=5)] | None = None
    status: PilotStatus | None = None
    started_on: date | None = None
    ended_on: date | None = None
    budget_czk: Czk | None = None
    funding: Annotated[list[Funding], Field(max_length=20)] | None = None
    solution_ids: Ids | None = None
    vendor_ids: Ids | None = None
    kpis: Annotated[list[Kpi], Field(max_length=50)] | None = None
    adoption: AdoptionIn | None = None
    lessons_learned: LongText | None = Field(default=None, max_length=20000)
    partners: Annotated[list[Partner], Field(max_length=50)] | None = None
    contact: Contact | None = None
    procurement_ocids: Annotated[list[Ocid], Field(max_length=20)] | None = None
    open_data_url: Url | None = None


class MunicipalityBrief(BaseModel):
    code: str
    name: str
    district: str
    region: str
    region_nuts3: str
    population: int
    lat: float
    lon: float


class PilotPublic(BaseModel):
    id: int
    municipality_code: str
    municipality: MunicipalityBrief
    title: str
    summary: str
    description: str
    areas: list[str]
    status: str
    started_on: date | None
    ended_on: date | None
    budget_czk: Decimal | None = Field(description="CZK, two decimal places")
    cost_per_inhabitant: Decimal | None
    funding: list[Funding]
    solution_ids: list[int]
    vendor_ids: list[int]
    kpis: list[Kpi]
    adoption: Adoption | None
    lessons_learned: str
    partners: list[Partner]
    contact: Contact | None = Field(
        description="null unless public, or the caller is an admin, an auditor or an officer "
        "of the pilot's municipality"
    )
    procurement_ocids: list[str]
    open_data_url: str | None
    has_procurement: bool
    open_source: bool
    data_owned_by_municipality: bool
    lockin_score: int | None = Field(description="The highest lock-in score of its solutions")
    demo: bool
    created_at: datetime
    updated_at: datetime
    distance_km: float | None = None


class SearchPage(BaseModel, Generic[T]):
    """A page of search results; ``facets`` counts values over the whole filtered set."""

    items: list[T]
    next_cursor: str | None = None
    facets: dict[str, dict[str, int]] | None = None


# --- compatibility --------------------------------------------------------------------


class StackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    standards: Slugs = []
    solution_ids: Ids = []
    areas: Annotated[list[Area], Field(max_length=5)] = []
    limit: int = Field(default=20, ge=1, le=100)

    @field_validator("standards")
    @classmethod
    def _standards(cls, value: list[str]) -> list[str]:
        return _known(value, STANDARD_SLUGS | MIM_SLUGS, "standard")

    @model_validator(mode="after")
    def _something(self) -> StackIn:
        if not self.standards and not self.solution_ids:
            raise ValueError("give the stack's standards and/or solution_ids")
        return self


class CompatibleSolution(BaseModel):
    solution: SolutionPublic
    shares: list[str] = Field(description="Standards and MIMs it has in common with the stack")
    lacks: list[str] = Field(description="Standards and MIMs of the stack it does not support")
    score: float = Field(description="Share of the stack it covers, 0-1")


class CompatibilityResult(BaseModel):
    stack: list[str]
    items: list[CompatibleSolution]
