"""The pages' query strings, read into the same search parameters the API builds.

A page must answer a bad value with a Czech page, not a JSON problem, so it reads the query
string itself (with the API's own vocabularies and limits) instead of FastAPI's validation.
``tests/test_web_pages.py`` checks that every filter of ``GET /v1/pilots`` is a field here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.datastructures import QueryParams

from catalogue.geo import BAND_IDS
from catalogue.service import CatalogueSearch
from catalogue.vocabulary import MIM_SLUGS, STANDARD_SLUGS, Area, PilotStatus
from procurement.audit.schemas import RuleId

TownCode = Annotated[str, Field(pattern=r"^\d{6}$")]
Place = Annotated[str, Field(max_length=100)]


class PilotSearchForm(BaseModel):
    """The filters of ``GET /v1/pilots`` (same names, vocabularies and limits), the sort and
    the cursor; the page always asks for every facet and a fixed page size."""

    model_config = ConfigDict(extra="ignore")

    q: str | None = Field(default=None, max_length=200)
    area: list[Area] = Field(default_factory=list, max_length=5)
    status: list[PilotStatus] = Field(default_factory=list, max_length=6)
    standard: list[str] = Field(default_factory=list, max_length=20)
    mim: list[str] = Field(default_factory=list, max_length=7)
    region: list[Place] = Field(default_factory=list, max_length=20)
    district: list[Place] = Field(default_factory=list, max_length=20)
    population_band: list[str] = Field(default_factory=list, max_length=10)
    population_min: int | None = Field(default=None, ge=0, le=10_000_000)
    population_max: int | None = Field(default=None, ge=0, le=10_000_000)
    budget_min: Decimal | None = Field(default=None, ge=0, le=10**13)
    budget_max: Decimal | None = Field(default=None, ge=0, le=10**13)
    has_procurement: bool | None = None
    open_source: bool | None = None
    data_owned_by_municipality: bool | None = None
    max_lockin: int | None = Field(default=None, ge=0, le=100)
    municipality: TownCode | None = None
    vendor_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    solution_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    near: TownCode | None = None
    radius_km: float | None = Field(default=None, gt=0, le=500)
    similar_to: TownCode | None = None
    sort: Literal["relevance", "distance", "similarity", "newest", "cost_per_inhabitant"] | None = (
        None
    )
    cursor: str | None = Field(default=None, max_length=2000)

    @field_validator("standard")
    @classmethod
    def _standards(cls, values: list[str]) -> list[str]:
        return _known(values, STANDARD_SLUGS)

    @field_validator("mim")
    @classmethod
    def _mims(cls, values: list[str]) -> list[str]:
        return _known(values, MIM_SLUGS)

    @field_validator("population_band")
    @classmethod
    def _bands(cls, values: list[str]) -> list[str]:
        return _known(values, frozenset(BAND_IDS))

    def search(self, facets: list[str]) -> CatalogueSearch:
        return CatalogueSearch(
            q=self.q,
            areas=[a.value for a in self.area],
            statuses=[s.value for s in self.status],
            standards=self.standard,
            mims=self.mim,
            regions=self.region,
            districts=self.district,
            bands=self.population_band,
            population_min=self.population_min,
            population_max=self.population_max,
            budget_min=self.budget_min,
            budget_max=self.budget_max,
            has_procurement=self.has_procurement,
            open_source=self.open_source,
            data_owned_by_municipality=self.data_owned_by_municipality,
            max_lockin=self.max_lockin,
            municipality=self.municipality,
            vendor_id=self.vendor_id,
            solution_id=self.solution_id,
            near=self.near,
            radius_km=self.radius_km,
            similar_to=self.similar_to,
            sort=self.sort,
            facets=facets,
        )

    def pairs(self, *, cursor: bool = False) -> list[tuple[str, str]]:
        """The form as query pairs (without the cursor unless asked): links keep the
        search and change one thing."""
        out: list[tuple[str, str]] = []
        for name, value in self.model_dump(mode="json", exclude_none=True).items():
            if name == "cursor" and not cursor:
                continue
            for item in value if isinstance(value, list) else [value]:
                text = str(item).lower() if isinstance(item, bool) else str(item)
                out.append((name, text))
        return out

    def url(self, **change: Any) -> str:
        """``/pilots?…`` with the fields in ``change`` replaced (None removes one)."""
        pairs = [(k, v) for k, v in self.pairs() if k not in change]
        for name, value in change.items():
            if value is None:
                continue
            for item in value if isinstance(value, list) else [value]:
                pairs.append((name, str(item).lower() if isinstance(item, bool) else str(item)))
        return "/pilots" + ("?" + urlencode(pairs) if pairs else "")

    def toggled(self, name: str, value: str) -> str:
        """The URL with ``value`` added to (or removed from) the list field ``name``."""
        current = [str(v) for v in getattr(self, name)]
        values = [v for v in current if v != value] if value in current else [*current, value]
        return self.url(**{name: values})

    def has(self, name: str, value: str) -> bool:
        return value in [str(v) for v in getattr(self, name)]


def _known(values: list[str], allowed: frozenset[str]) -> list[str]:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"neznámá hodnota: {', '.join(unknown[:5])}")
    return list(dict.fromkeys(values))


LIST_FIELDS = frozenset(
    name
    for name, info in PilotSearchForm.model_fields.items()
    if getattr(info.annotation, "__origin__", None) is list
)


@dataclass
class FormErrors:
    """Problems with the query string, by field, in Czech."""

    fields: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.fields)


def _raw(params: QueryParams, names: frozenset[str], lists: frozenset[str]) -> dict[str, Any]:
    """Query values by field, blank form fields left out (an empty select means 'any')."""
    raw: dict[str, Any] = {}
    for name in names:
        values = [v.strip() for v in params.getlist(name) if v.strip()]
        if not values:
            continue
        raw[name] = values if name in lists else values[-1]
    return raw


def _errors(error: ValidationError, labels: dict[str, str]) -> FormErrors:
    found = FormErrors()
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "?"
        given = item.get("input")
        shown = f" „{given}“" if isinstance(given, str | int | float) else ""
        found.fields.setdefault(
            name, f"{labels.get(name, name)}: neplatná hodnota{shown}. {_hint(item['type'])}"
        )
    return found


def _hint(kind: str) -> str:
    return {
        "int_parsing": "Zadejte celé číslo.",
        "decimal_parsing": "Zadejte číslo.",
        "float_parsing": "Zadejte číslo.",
        "bool_parsing": "Zvolte ano, nebo ne.",
        "string_pattern_mismatch": "Kód obce má 6 číslic.",
        "enum": "Vyberte z nabídky.",
        "literal_error": "Vyberte z nabídky.",
        "value_error": "Vyberte z nabídky.",
        "too_long": "Hodnot je příliš mnoho.",
        "string_too_long": "Text je příliš dlouhý.",
        "greater_than_equal": "Hodnota je příliš malá.",
        "greater_than": "Hodnota je příliš malá.",
        "less_than_equal": "Hodnota je příliš velká.",
        "date_from_datetime_parsing": "Zadejte datum ve tvaru RRRR-MM-DD.",
        "date_parsing": "Zadejte datum ve tvaru RRRR-MM-DD.",
    }.get(kind, "")


SEARCH_LABELS = {
    "q": "Hledaný text",
    "area": "Oblast",
    "status": "Stav",
    "standard": "Standard",
    "mim": "Mechanismus MIM",
    "region": "Kraj",
    "district": "Okres",
    "population_band": "Velikost obce",
    "population_min": "Nejméně obyvatel",
    "population_max": "Nejvíce obyvatel",
    "budget_min": "Rozpočet od",
    "budget_max": "Rozpočet do",
    "has_procurement": "Se zaznamenanou zakázkou",
    "open_source": "Open source",
    "data_owned_by_municipality": "Data patří obci",
    "max_lockin": "Nejvyšší závislost na dodavateli",
    "municipality": "Obec",
    "vendor_id": "Dodavatel",
    "solution_id": "Řešení",
    "near": "V okolí obce",
    "radius_km": "Okruh (km)",
    "similar_to": "Obce podobné",
    "sort": "Řazení",
    "cursor": "Stránka",
}


def read_search(params: QueryParams) -> tuple[PilotSearchForm, FormErrors]:
    """The search form from the query string; on bad values an empty form and the errors."""
    names = frozenset(PilotSearchForm.model_fields)
    try:
        return PilotSearchForm.model_validate(_raw(params, names, LIST_FIELDS)), FormErrors()
    except ValidationError as error:
        return PilotSearchForm(), _errors(error, SEARCH_LABELS)


class RedFlagForm(BaseModel):
    """The filters of ``GET /v1/red-flags``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    buyer: TownCode | None = None
    rule: RuleId | None = None
    date_from: date | None = Field(default=None, alias="from", ge=date(1990, 1, 1))
    date_to: date | None = Field(default=None, alias="to", le=date(2100, 12, 31))
    after: int = Field(default=0, ge=0, le=2**31 - 1)

    def url(self, **change: Any) -> str:
        values = self.model_dump(by_alias=True, mode="json", exclude_none=True)
        values.pop("after", None)
        for name, value in change.items():
            if value is None:
                values.pop(name, None)
            else:
                values[name] = value
        return "/audit" + ("?" + urlencode(values) if values else "")


RED_FLAG_LABELS = {
    "buyer": "Kód obce",
    "rule": "Pravidlo",
    "from": "Od",
    "to": "Do",
    "after": "Stránka",
}


def read_red_flags(params: QueryParams) -> tuple[RedFlagForm, FormErrors]:
    names = frozenset({"buyer", "rule", "from", "to", "after"})
    try:
        form = RedFlagForm.model_validate(_raw(params, names, frozenset()))
    except ValidationError as error:
        return RedFlagForm(), _errors(error, RED_FLAG_LABELS)
    if form.date_from and form.date_to and form.date_from > form.date_to:
        return RedFlagForm(), FormErrors({"from": "Od: datum leží po datu Do."})
    return form, FormErrors()
