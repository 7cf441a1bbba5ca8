"""Catalogue logic: municipalities, vendors, solutions, pilots, search and compatibility.

Services flush, never commit; the request's session commits.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Literal

from sqlalchemy import (
    String,
    and_,
    cast,
    column,
    delete,
    event,
    func,
    insert,
    literal,
    or_,
    select,
    table,
    union_all,
    update,
)
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import Session

from api.auth import Caller, ensure, utcnow
from api.db import dialect_name
from api.pagination import decode_cursor, encode_cursor
from catalogue import search
from catalogue.exceptions import (
    InvalidQuery,
    InvalidReference,
    MunicipalityNotFound,
    PilotNotFound,
    SolutionNotFound,
    VendorNotFound,
)
from catalogue.geo import (
    BAND_IDS,
    POPULATION_BANDS,
    band_index,
    band_range,
    bounding_box,
    haversine_km,
)
from catalogue.lockin import lockin_score
from catalogue.models import (
    CatalogueRevision,
    CatalogueTag,
    Municipality,
    Pilot,
    Solution,
    Vendor,
    columns,
)
from catalogue.schemas import (
    PilotCreate,
    PilotUpdate,
    SolutionCreate,
    SolutionUpdate,
    StackIn,
    VendorCreate,
    VendorUpdate,
)
from catalogue.text import normalized_name, tag_token, tag_value

TWO_PLACES = Decimal("0.01")

# Typed column handles for queries (SQLModel class attributes type as plain values).
PC = columns(Pilot)
MC = columns(Municipality)
SC = columns(Solution)
VC = columns(Vendor)
TC = columns(CatalogueTag)

# --- municipalities -------------------------------------------------------------------


def get_municipality(session: Session, code: str) -> Municipality:
    municipality = session.get(Municipality, code)
    if municipality is None:
        raise MunicipalityNotFound(code)
    return municipality


def municipality_registered(session: Session, code: str) -> bool:
    """Does the register hold ``code``? (Other domains refer to municipalities by code.)"""
    return session.get(Municipality, code) is not None


def municipality_ico(session: Session, code: str) -> str | None:
    """The municipality's IČO when the register gave it (the buyer's id in exports)."""
    municipality = session.get(Municipality, code)
    return municipality.ico if municipality is not None else None


def _center(session: Session, code: str, parameter: str) -> Municipality:
    municipality = session.get(Municipality, code)
    if municipality is None:
        raise InvalidQuery(parameter, f"there is no municipality with code {code}")
    return municipality


def codes_within(session: Session, center: Municipality, radius_km: float) -> dict[str, float]:
    """Codes of municipalities within ``radius_km`` of ``center`` and their distances: a
    bounding box on the indexed lat/lon first, the exact great-circle distance after."""
    min_lat, max_lat, min_lon, max_lon = bounding_box(center.lat, center.lon, radius_km)
    rows = session.execute(
        select(MC.code, MC.lat, MC.lon).where(
            MC.lat.between(min_lat, max_lat),
            MC.lon.between(min_lon, max_lon),
        )
    ).all()
    out: dict[str, float] = {}
    for code, lat, lon in rows:
        distance = haversine_km(center.lat, center.lon, lat, lon)
        if distance <= radius_km:
            out[code] = round(distance, 2)
    return out


def _population_filter(
    bands: Sequence[str], population_min: int | None, population_max: int | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if bands:
        ranges = []
        for band in bands:
            low, high = band_range(BAND_IDS.index(band), BAND_IDS.index(band))
            ranges.append(
                and_(MC.population >= low, MC.population < high)
                if high is not None
                else MC.population >= low
            )
        conditions.append(or_(*ranges))
    if population_min is not None:
        conditions.append(MC.population >= population_min)
    if population_max is not None:
        conditions.append(MC.population <= population_max)
    return conditions


def region_codes(session: Session, regions: Sequence[str]) -> list[str]:
    """The NUTS3 codes of the regions asked for, each named by its code or its name in any
    case, with or without diacritics ("jihomoravsky kraj", "CZ064"); one the register does
    not know is a 422."""
    if not regions:
        return []
    known: dict[str, str] = {}
    for name, code in session.execute(select(MC.region, MC.region_nuts3).distinct()):
        known[normalized_name(name)] = code
        known[normalized_name(code)] = code
    codes = []
    for position, region in enumerate(regions):
        code = known.get(normalized_name(region))
        if code is None:
            raise InvalidQuery(
                "region" if len(regions) == 1 else f"region/{position}",
                "no such region in the register; give its NUTS3 code (e.g. CZ064) or its "
                "name (e.g. Jihomoravský kraj)",
            )
        codes.append(code)
    return codes


def _place_filter(regions: Sequence[str], districts: Sequence[str]) -> list[ColumnElement[bool]]:
    """``regions`` are NUTS3 codes (see ``region_codes``)."""
    conditions: list[ColumnElement[bool]] = []
    if regions:
        conditions.append(MC.region_nuts3.in_(regions))
    if districts:
        conditions.append(
            or_(
                MC.district_lau1.in_(districts),
                MC.district.in_(districts),
            )
        )
    return conditions


@dataclass
class MunicipalitySearch:
    q: str | None = None
    regions: list[str] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)
    bands: list[str] = field(default_factory=list)
    population_min: int | None = None
    population_max: int | None = None
    near: str | None = None
    radius_km: float | None = None


def list_municipalities(
    session: Session, params: MunicipalitySearch, cursor: str | None, limit: int
) -> tuple[list[tuple[Municipality, float | None]], str | None]:
    query = select(Municipality)
    regions = region_codes(session, params.regions)
    conditions = _place_filter(regions, params.districts) + _population_filter(
        params.bands, params.population_min, params.population_max
    )
    if params.q:
        needle = normalized_name(params.q)
        if needle:
            conditions.append(
                or_(
                    MC.name_search.startswith(needle, autoescape=True),
                    MC.name_search.contains(" " + needle, autoescape=True),
                )
            )
    offset = int((decode_cursor("municipalities", cursor) or {}).get("o", 0))
    if params.near is not None:
        center = _center(session, params.near, "near")
        distances = codes_within(session, center, params.radius_km or 10.0)
        conditions.append(MC.code.in_(list(distances)))
        rows = list(session.execute(query.where(*conditions)).scalars())
        rows.sort(key=lambda m: (distances[m.code], m.code))
        result: list[tuple[Municipality, float | None]] = [
            (m, distances[m.code]) for m in rows[offset : offset + limit + 1]
        ]
    else:
        query = query.where(*conditions).order_by(MC.name_search, MC.code)
        page = list(session.execute(query.offset(offset).limit(limit + 1)).scalars())
        result = [(m, None) for m in page]
    more = len(result) > limit
    return result[:limit], encode_cursor("municipalities", {"o": offset + limit}) if more else None


def population_band(population: int) -> str:
    return POPULATION_BANDS[band_index(population)][0]


# --- vendors --------------------------------------------------------------------------


def get_vendor(session: Session, vendor_id: int) -> Vendor:
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise VendorNotFound(vendor_id)
    return vendor


def _ico_taken(session: Session, ico: str, other_than: int | None = None) -> None:
    query = select(VC.id).where(VC.ico == ico)
    found = session.execute(query).scalar_one_or_none()
    if found is not None and found != other_than:
        raise InvalidReference("/ico", f"a vendor with IČO {ico} exists already (id {found})")


def create_vendor(session: Session, caller: Caller, body: VendorCreate) -> Vendor:
    _ico_taken(session, body.ico)
    vendor = Vendor(**body.model_dump(), created_by_key_id=caller.key_id)
    session.add(vendor)
    session.flush()
    return vendor


def update_vendor(session: Session, caller: Caller, vendor: Vendor, body: VendorUpdate) -> Vendor:
    assert vendor.id is not None
    ensure(caller.acts_for_vendor(vendor.id), "This key may edit only its own vendor.")
    changes = body.model_dump(exclude_unset=True)
    for name in ("ico", "name", "country"):
        if name in changes and changes[name] is None:
            raise InvalidReference(f"/{name}", "may not be null")
    if "ico" in changes:
        _ico_taken(session, changes["ico"], vendor.id)
    for name, value in changes.items():
        setattr(vendor, name, value)
    vendor.version += 1
    vendor.updated_at = utcnow()
    session.add(vendor)
    session.flush()
    return vendor


def list_vendors(
    session: Session, q: str | None, cursor: str | None, limit: int
) -> tuple[list[Vendor], str | None]:
    after = int((decode_cursor("vendors", cursor) or {}).get("after", 0))
    query = select(Vendor).where(VC.id > after).order_by(VC.id).limit(limit + 1)
    if q:
        query = query.where(or_(VC.name.icontains(q, autoescape=True), VC.ico == q))
    rows = list(session.execute(query).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor("vendors", {"after": rows[-1].id}) if more and rows else None


# --- tags and derived fields ----------------------------------------------------------


def _set_tags(
    session: Session, entity: search.Entity, entity_id: int, tags: Iterable[tuple[str, str]]
) -> None:
    session.execute(
        delete(CatalogueTag).where(
            TC.entity == entity,
            TC.entity_id == entity_id,
        )
    )
    unique = sorted(set(tags))
    if unique:
        session.execute(
            insert(CatalogueTag),
            [{"entity": entity, "entity_id": entity_id, "kind": k, "value": v} for k, v in unique],
        )


def _solution_tags(solution: Solution) -> list[tuple[str, str]]:
    return (
        [("area", a) for a in solution.areas]
        + [("standard", s) for s in solution.standards]
        + [("mim", m) for m in solution.mims]
    )


def _index_solution(session: Session, solution: Solution) -> None:
    assert solution.id is not None
    _set_tags(session, "solution", solution.id, _solution_tags(solution))
    search.index_document(
        session, "solution", solution.id, solution.name, solution.summary, solution.description
    )


def _refresh_pilot(session: Session, pilot: Pilot, solutions: Sequence[Solution]) -> None:
    """Derived fields, tags and the text index of a pilot, from its solutions."""
    assert pilot.id is not None
    pilot.has_procurement = bool(pilot.procurement_ocids)
    pilot.open_source = bool(solutions) and all(s.open_source for s in solutions)
    pilot.data_owned_by_municipality = bool(solutions) and all(
        s.data_owned_by_municipality for s in solutions
    )
    pilot.lockin_score = max((s.lockin_score for s in solutions), default=None)
    tags: list[tuple[str, str]] = [("area", a) for a in pilot.areas]
    for solution in solutions:
        tags += [("standard", s) for s in solution.standards]
        tags += [("mim", m) for m in solution.mims]
    tags += [("solution", str(i)) for i in pilot.solution_ids]
    tags += [("vendor", str(i)) for i in pilot.vendor_ids]
    session.add(pilot)
    _set_tags(session, "pilot", pilot.id, tags)
    _catalogue_changed(session)
    search.index_document(
        session,
        "pilot",
        pilot.id,
        pilot.title,
        pilot.summary,
        pilot.description,
        pilot.lessons_learned,
        tags=pilot_index_tags(
            pilot.status,
            pilot.municipality_code,
            get_municipality(session, pilot.municipality_code).region_nuts3,
            tags,
        ),
    )


def pilot_index_tags(
    status: str, municipality_code: str, region_nuts3: str, tags: Iterable[tuple[str, str]]
) -> list[str]:
    """The filter tag tokens a pilot's text index entry carries (see ``catalogue.search``):
    its tags, status, town and the town's region (which the region facet counts)."""
    pairs = {("status", status), ("town", municipality_code), ("region", region_nuts3), *tags}
    return sorted(tag_token(kind, value) for kind, value in pairs)


def reindex_towns(session: Session, codes: Iterable[str]) -> int:
    """Re-index the pilots of these municipalities (their region changed in the register);
    returns how many."""
    wanted = sorted(set(codes))
    count = 0
    for start in range(0, len(wanted), 500):
        pilots = session.execute(
            select(Pilot).where(PC.municipality_code.in_(wanted[start : start + 500]))
        ).scalars()
        for pilot in pilots:
            _refresh_pilot(session, pilot, _solutions_of(session, pilot.solution_ids))
            count += 1
    return count


# --- solutions ------------------------------------------------------------------------


def get_solution(session: Session, solution_id: int) -> Solution:
    solution = session.get(Solution, solution_id)
    if solution is None:
        raise SolutionNotFound(solution_id)
    return solution


def _check_vendor(session: Session, caller: Caller, vendor_id: int) -> None:
    ensure(
        caller.acts_for_vendor(vendor_id), "This key may manage only its own vendor's solutions."
    )
    if session.get(Vendor, vendor_id) is None:
        raise InvalidReference("/vendor_id", f"there is no vendor {vendor_id}")


def create_solution(session: Session, caller: Caller, body: SolutionCreate) -> Solution:
    _check_vendor(session, caller, body.vendor_id)
    data = body.model_dump(mode="json")
    solution = Solution(**data, created_by_key_id=caller.key_id)
    solution.lockin_score = lockin_score(solution)
    session.add(solution)
    session.flush()
    _index_solution(session, solution)
    session.flush()
    return solution


def update_solution(
    session: Session, caller: Caller, solution: Solution, body: SolutionUpdate
) -> Solution:
    ensure(caller.acts_for_vendor(solution.vendor_id), "This key may edit only its own solutions.")
    changes = body.model_dump(mode="json", exclude_unset=True)
    nullable = {"trl", "hosting", "price_model", "licence"}
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise InvalidReference(f"/{name}", "may not be null")
    if "vendor_id" in changes:
        _check_vendor(session, caller, changes["vendor_id"])
    for name, value in changes.items():
        setattr(solution, name, value)
    solution.lockin_score = lockin_score(solution)
    solution.version += 1
    solution.updated_at = utcnow()
    session.add(solution)
    session.flush()
    _index_solution(session, solution)
    assert solution.id is not None
    # Pilots that use this solution derive filters and tags from it.
    pilot_ids = session.execute(
        select(TC.entity_id).where(
            TC.entity == "pilot",
            TC.kind == "solution",
            TC.value == str(solution.id),
        )
    ).scalars()
    for pilot in session.execute(select(Pilot).where(PC.id.in_(list(pilot_ids)))).scalars():
        _refresh_pilot(session, pilot, _solutions_of(session, pilot.solution_ids))
    session.flush()
    return solution


def unknown_solutions(session: Session, ids: Sequence[int]) -> list[int]:
    """The ids among ``ids`` that name no solution (other domains link solutions by id)."""
    if not ids:
        return []
    known = set(session.execute(select(SC.id).where(SC.id.in_(ids))).scalars())
    return sorted(set(ids) - known)


def _solutions_of(session: Session, ids: Sequence[int]) -> list[Solution]:
    if not ids:
        return []
    return list(session.execute(select(Solution).where(SC.id.in_(ids))).scalars())


# --- pilots ---------------------------------------------------------------------------


def get_pilot(session: Session, pilot_id: int) -> Pilot:
    pilot = session.get(Pilot, pilot_id)
    if pilot is None:
        raise PilotNotFound(pilot_id)
    return pilot


def _check_references(session: Session, pilot: Pilot) -> list[Solution]:
    if session.get(Municipality, pilot.municipality_code) is None:
        raise InvalidReference(
            "/municipality_code", f"there is no municipality with code {pilot.municipality_code}"
        )
    solutions = _solutions_of(session, pilot.solution_ids)
    missing = sorted(set(pilot.solution_ids) - {s.id for s in solutions if s.id is not None})
    if missing:
        raise InvalidReference("/solution_ids", f"there is no solution {missing[0]}")
    if pilot.vendor_ids:
        found = set(session.execute(select(VC.id).where(VC.id.in_(pilot.vendor_ids))).scalars())
        absent = sorted(set(pilot.vendor_ids) - found)
        if absent:
            raise InvalidReference("/vendor_ids", f"there is no vendor {absent[0]}")
    _check_procurements(session, pilot)
    # The vendors of the solutions used count as vendors of the pilot.
    pilot.vendor_ids = sorted(set(pilot.vendor_ids) | {s.vendor_id for s in solutions})
    pilot.solution_ids = sorted(set(pilot.solution_ids))
    return solutions


# The procurement trail's table as far as a pilot's links need it (domains refer by id).
PROCUREMENTS = table("procurements", column("ocid"), column("buyer_code"))


def _check_procurements(session: Session, pilot: Pilot) -> None:
    """Each linked procurement exists and was bought by the pilot's municipality."""
    if not pilot.procurement_ocids:
        return
    query = select(PROCUREMENTS.c.ocid, PROCUREMENTS.c.buyer_code).where(
        PROCUREMENTS.c.ocid.in_(pilot.procurement_ocids)
    )
    buyers = {str(ocid): str(buyer) for ocid, buyer in session.execute(query)}
    for index, ocid in enumerate(pilot.procurement_ocids):
        if ocid not in buyers:
            raise InvalidReference(f"/procurement_ocids/{index}", f"there is no procurement {ocid}")
        if buyers[ocid] != pilot.municipality_code:
            raise InvalidReference(
                f"/procurement_ocids/{index}",
                f"procurement {ocid} is one of municipality {buyers[ocid]}, not of the "
                f"pilot's municipality {pilot.municipality_code}",
            )


def create_pilot(session: Session, caller: Caller, body: PilotCreate) -> Pilot:
    ensure(
        caller.acts_for_municipality(body.municipality_code),
        "This key may record pilots only of its own municipality.",
    )
    pilot = Pilot(**_pilot_values(body, exclude_unset=False), created_by_key_id=caller.key_id)
    solutions = _check_references(session, pilot)
    session.add(pilot)
    session.flush()
    _refresh_pilot(session, pilot, solutions)
    session.flush()
    return pilot


def update_pilot(session: Session, caller: Caller, pilot: Pilot, body: PilotUpdate) -> Pilot:
    ensure(
        caller.acts_for_municipality(pilot.municipality_code),
        "This key may edit only pilots of its own municipality.",
    )
    changes = _pilot_values(body, exclude_unset=True)
    nullable = {"started_on", "ended_on", "budget_czk", "adoption", "contact", "open_data_url"}
    for name, value in changes.items():
        if value is None and name not in nullable:
            raise InvalidReference(f"/{name}", "may not be null")
    if "municipality_code" in changes:
        ensure(
            caller.acts_for_municipality(changes["municipality_code"]),
            "This key may not move a pilot to another municipality.",
        )
    for name, value in changes.items():
        setattr(pilot, name, value)
    if pilot.started_on and pilot.ended_on and pilot.ended_on < pilot.started_on:
        raise InvalidReference("/ended_on", "ended_on lies before started_on")
    solutions = _check_references(session, pilot)
    pilot.version += 1
    pilot.updated_at = utcnow()
    session.add(pilot)
    session.flush()
    _refresh_pilot(session, pilot, solutions)
    session.flush()
    return pilot


def _pilot_values(body: PilotCreate | PilotUpdate, *, exclude_unset: bool) -> dict[str, Any]:
    """JSON-ready values for the JSON columns; dates and money stay Python objects."""
    values = body.model_dump(mode="json", exclude_unset=exclude_unset)
    for name in ("started_on", "ended_on", "budget_czk"):
        if name in values:
            values[name] = getattr(body, name)
    return values


def cost_per_inhabitant(pilot: Pilot, population: int) -> Decimal | None:
    if pilot.budget_czk is None or population <= 0:
        return None
    return (Decimal(pilot.budget_czk) / population).quantize(TWO_PLACES)


# --- search ---------------------------------------------------------------------------

Sort = Literal["relevance", "distance", "similarity", "newest", "cost_per_inhabitant"]
PILOT_FACETS = ("area", "status", "standard", "mim", "region")
SOLUTION_FACETS = ("area", "standard", "mim", "hosting")


@dataclass
class CatalogueSearch:
    q: str | None = None
    areas: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    standards: list[str] = field(default_factory=list)
    mims: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    districts: list[str] = field(default_factory=list)
    bands: list[str] = field(default_factory=list)
    population_min: int | None = None
    population_max: int | None = None
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    has_procurement: bool | None = None
    open_source: bool | None = None
    data_owned_by_municipality: bool | None = None
    max_lockin: int | None = None
    municipality: str | None = None
    vendor_id: int | None = None
    solution_id: int | None = None
    near: str | None = None
    radius_km: float | None = None
    similar_to: str | None = None
    sort: Sort | None = None
    facets: list[str] = field(default_factory=list)


@dataclass
class SearchResult:
    rows: list[Any]
    distances: dict[str, float]
    next_cursor: str | None
    facets: dict[str, dict[str, int]] | None


def _tagged(entity: str, kind: str, values: Sequence[str]) -> Select[tuple[int]]:
    return select(TC.entity_id).where(
        TC.entity == entity,
        TC.kind == kind,
        TC.value.in_(values),
    )


@dataclass
class _Geo:
    distances: dict[str, float] = field(default_factory=dict)
    similarity: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    codes: list[str] | None = None
    regions: list[str] = field(default_factory=list)  # NUTS3 codes of the region filter


def _geo(session: Session, params: CatalogueSearch) -> _Geo:
    geo = _Geo(regions=region_codes(session, params.regions))
    if params.near is not None:
        center = _center(session, params.near, "near")
        geo.distances = codes_within(session, center, params.radius_km or 10.0)
        geo.codes = list(geo.distances)
    elif params.radius_km is not None:
        raise InvalidQuery("radius_km", "radius_km needs near=<municipality code>")
    if params.similar_to is not None:
        town = _center(session, params.similar_to, "similar_to")
        band = band_index(town.population)
        low, high = band_range(band - 1, band + 1)
        query = select(
            MC.code,
            MC.population,
            MC.region_nuts3,
            MC.lat,
            MC.lon,
        ).where(MC.population >= low, MC.code != town.code)
        if high is not None:
            query = query.where(MC.population < high)
        if geo.codes is not None:
            query = query.where(MC.code.in_(geo.codes))
        similar: dict[str, tuple[int, int, float]] = {}
        for code, population, region, lat, lon in session.execute(query):
            distance = round(haversine_km(town.lat, town.lon, lat, lon), 2)
            similar[code] = (
                abs(band_index(population) - band),
                0 if region == town.region_nuts3 else 1,
                distance,
            )
        geo.similarity = similar
        geo.codes = list(similar)
        if params.near is None:
            geo.distances = {code: key[2] for code, key in similar.items()}
    return geo


# A text search hands the index at most this many municipalities as one filter.
MAX_INDEXED_TOWNS = 500


def _pilot_conditions(
    params: CatalogueSearch, geo: _Geo, *, indexed: bool = False
) -> tuple[list[ColumnElement[bool]], list[list[str]]]:
    """The filters as SQL conditions and, with ``indexed`` (a text search), as tag filters
    that the full-text index answers (those it holds tokens for)."""
    p = params
    conditions: list[ColumnElement[bool]] = []
    tags: list[list[str]] = []

    def tagged(kind: str, values: Sequence[str], sql: ColumnElement[bool]) -> None:
        if indexed:
            tags.append([tag_token(kind, v) for v in values])
        else:
            conditions.append(sql)

    if p.areas:
        tagged("area", p.areas, PC.id.in_(_tagged("pilot", "area", p.areas)))
    if p.statuses:
        tagged("status", p.statuses, PC.status.in_(p.statuses))
    if p.standards:
        tagged("standard", p.standards, PC.id.in_(_tagged("pilot", "standard", p.standards)))
    if p.mims:
        tagged("mim", p.mims, PC.id.in_(_tagged("pilot", "mim", p.mims)))
    if p.vendor_id is not None:
        vendor = [str(p.vendor_id)]
        tagged("vendor", vendor, PC.id.in_(_tagged("pilot", "vendor", vendor)))
    if p.solution_id is not None:
        solution = [str(p.solution_id)]
        tagged("solution", solution, PC.id.in_(_tagged("pilot", "solution", solution)))
    conditions += _place_filter(geo.regions, p.districts)
    conditions += _population_filter(p.bands, p.population_min, p.population_max)
    if p.budget_min is not None:
        conditions.append(PC.budget_czk >= p.budget_min)
    if p.budget_max is not None:
        conditions.append(PC.budget_czk <= p.budget_max)
    for name in ("has_procurement", "open_source", "data_owned_by_municipality"):
        value = getattr(p, name)
        if value is not None:
            conditions.append(getattr(Pilot, name).is_(value))
    if p.max_lockin is not None:
        conditions.append(PC.lockin_score <= p.max_lockin)
    if p.municipality is not None:
        tagged("town", [p.municipality], PC.municipality_code == p.municipality)
    if geo.codes is not None:
        if indexed and 0 < len(geo.codes) <= MAX_INDEXED_TOWNS:
            tagged("town", geo.codes, PC.municipality_code.in_(geo.codes))
        else:
            conditions.append(PC.municipality_code.in_(geo.codes))
    return conditions, tags


def _resolve_sort(params: CatalogueSearch, allowed: Sequence[str]) -> str:
    sort = params.sort
    if sort is None:
        sort = (
            "relevance"
            if params.q
            else "similarity"
            if params.similar_to
            else "distance"
            if params.near
            else "newest"
        )
        if sort not in allowed:
            sort = "newest"
    if sort not in allowed:
        raise InvalidQuery(
            "sort", f"sort={sort} is not available here; use one of {', '.join(allowed)}"
        )
    if sort == "distance" and not (params.near or params.similar_to):
        raise InvalidQuery("sort", "sort=distance needs near=<code> or similar_to=<code>")
    if sort == "similarity" and not params.similar_to:
        raise InvalidQuery("sort", "sort=similarity needs similar_to=<code>")
    if sort == "relevance" and not params.q:
        sort = "newest"
    return sort


# Relevance is computed over at most this many matches: the newest ones. A query word that
# most documents contain (``obec`` in a catalogue of municipal projects) would otherwise
# make every search rank the whole catalogue; the matches beyond the window follow the
# ranked ones, newest first, so paging still reaches every match once.
RELEVANCE_WINDOW = 5_000
# PostgreSQL: the newest 3 windows' worth of documents are probed for a full window when
# the statistics allow a text to match this share of them (a rarer one goes straight to
# ranking all its matches).
PROBE_SPAN = 3
PROBE_SHARE = 1 / PROBE_SPAN * 0.75


def search_pilots(
    session: Session, params: CatalogueSearch, cursor: str | None, limit: int
) -> SearchResult:
    """Full text first (FTS5 / tsvector), then the filters, then one page of rows."""
    for facet in params.facets:
        if facet not in PILOT_FACETS:
            raise InvalidQuery("facets", f"unknown facet {facet}; use {', '.join(PILOT_FACETS)}")
    sort = _resolve_sort(
        params, ("relevance", "distance", "similarity", "newest", "cost_per_inhabitant")
    )
    geo = _geo(session, params)
    ranking = None
    conditions, tags = _pilot_conditions(params, geo, indexed=bool(params.q))
    if params.q:
        ranking = search.ranking(session, "pilot", params.q, tags)
        if ranking is None:
            raise InvalidQuery("q", "q has no searchable word")
    listed = f"pilots:{sort}"
    position = decode_cursor(listed, cursor) or {}
    matches = _PilotMatches(ranking, conditions, _needs_town(params), tagged=bool(tags))
    next_position: dict[str, Any] | None
    tokens: Mapping[str, int] | None = None
    if sort == "relevance" and ranking is not None:
        first = _first_page_with_tags(session, matches, position, limit) if params.facets else None
        if first is not None:
            ids, next_position, tokens = first
        else:
            ids, next_position = _relevance_page(session, matches, position, limit)
    elif sort == "newest":
        after = position.get("a")
        query = matches.ids().order_by(matches.id.desc()).limit(limit + 1)
        if after is not None:
            query = query.where(matches.id < int(after))
        ids = list(session.execute(query).scalars())
        next_position = {"a": ids[limit - 1]} if len(ids) > limit else None
    else:
        offset = int(position.get("o", 0))
        base = matches.ids(with_town=True)
        if sort in ("distance", "similarity"):
            pairs = list(session.execute(base.add_columns(PC.municipality_code)).all())
            if sort == "distance":
                pairs.sort(key=lambda r: (geo.distances.get(r[1], 1e9), r[0]))
            else:
                pairs.sort(key=lambda r: (geo.similarity.get(r[1], (9, 9, 1e9)), r[0]))
            ids = [r[0] for r in pairs[offset : offset + limit + 1]]
        else:
            cost = PC.budget_czk / func.nullif(MC.population, 0)
            ordered = matches.ids(with_town=True).order_by(PC.budget_czk.is_(None), cost, PC.id)
            ids = list(session.execute(ordered.offset(offset).limit(limit + 1)).scalars())
        next_position = {"o": offset + limit} if len(ids) > limit else None
    ids = ids[:limit]
    facets = None
    if params.facets:
        if ranking is None:
            tokens = _tag_filter_counts(session, params, geo)
        facets = _pilot_facets(session, matches, params.facets, tokens)
    return SearchResult(
        rows=_load_pilots(session, ids),
        distances=geo.distances if (params.near or params.similar_to) else {},
        next_cursor=encode_cursor(listed, next_position) if next_position else None,
        facets=facets,
    )


def _tag_filter_counts(
    session: Session, params: CatalogueSearch, geo: _Geo
) -> dict[str, int] | None:
    """No text, and every filter one the full-text index holds tokens for (area, status,
    standard, MIM, vendor, solution, town): the filtered set's facet tag counts, from the
    index. None when a filter needs the tables (or there is none)."""
    conditions, tags = _pilot_conditions(params, geo, indexed=True)
    if conditions or not tags:
        return None
    return search.filtered_tag_counts(session, tags, search.FACET_KINDS)


def _needs_town(params: CatalogueSearch) -> bool:
    """Do the filters read the municipality's own columns (place, size)?"""
    p = params
    return bool(
        p.regions
        or p.districts
        or p.bands
        or p.population_min is not None
        or p.population_max is not None
    )


@dataclass
class _PilotMatches:
    """The pilots that match the text (if any) and the filters, as queries on their id."""

    ranking: search.Ranking | None
    conditions: list[ColumnElement[bool]]
    needs_town: bool
    tagged: bool = False  # the text match also carries tag filters

    def __post_init__(self) -> None:
        self.fts = self.ranking.matched.subquery("fts") if self.ranking else None
        # Driven by the text index when there is a text: its id stands for the pilot's.
        self.id: ColumnElement[int] = self.fts.c.id if self.fts is not None else PC.id

    def ids(self, *, with_town: bool = False, ranked: bool = False) -> Select[Any]:
        """``SELECT id`` of the matches; with ``ranked``, also their text ``rank``: computed
        here, before any sort, so that sorts carry (id, rank) and not whole documents."""
        columns: list[ColumnElement[Any]] = [self.id.label("id")]
        if ranked and self.ranking is not None and self.fts is not None:
            columns.append(self.ranking.rank_of(self.fts).label("rank"))
        if self.fts is not None:
            query = select(*columns).select_from(self.fts)
            if self.conditions or with_town:
                query = query.join(Pilot, PC.id == self.fts.c.id)
        else:
            query = select(*columns)
        if self.needs_town or with_town:
            query = query.join(Municipality, MC.code == PC.municipality_code)
        return query.where(*self.conditions)


def _relevance_page(
    session: Session,
    matches: _PilotMatches,
    position: dict[str, Any],
    limit: int,
) -> tuple[list[int], dict[str, Any] | None]:
    """One page in relevance order: the newest ``RELEVANCE_WINDOW`` matches ranked (keyset
    on rank and id), then any older matches, newest first (keyset on id).

    The window's lowest id (``b``) is fixed by the first page, so later pages rank the same
    set; it is None when every match fell inside the window."""
    ranking = matches.ranking
    assert ranking is not None
    boundary: int | None = position.get("b")
    rows: list[Any] = []
    if "t" not in position:
        first_page = "r" not in position
        text_only = not matches.conditions and not matches.tagged
        if (
            first_page
            and text_only
            and not search.walks_newest_first(session)
            and search.may_be_common(session, "pilot", ranking, PROBE_SHARE)
        ):
            # The newest documents first: a common word fills the window there at once.
            probe = (
                matches.ids()
                .where(
                    matches.id >= search.newest_ids_floor("pilot", PROBE_SPAN * RELEVANCE_WINDOW)
                )
                .order_by(matches.id.desc())
                .limit(RELEVANCE_WINDOW)
                .subquery("probe")
            )
            # One row back (how many, and the lowest id), not 5,000 ids.
            found, low = session.execute(select(func.count(), func.min(probe.c.id))).one()
            if found == RELEVANCE_WINDOW:
                boundary = int(low)
                first_page = False
        if not first_page:
            query = matches.ids(ranked=True)
            if boundary is not None:
                query = query.where(matches.id >= boundary)
            window = query.subquery("window")
            rank = window.c.rank
            page = select(window.c.id, rank)
            if "r" in position:
                after_rank, after_id = float(position["r"]), int(position["i"])
                page = page.where(
                    or_(rank > after_rank, and_(rank == after_rank, window.c.id > after_id))
                )
        else:
            window = (
                matches.ids(ranked=True)
                .order_by(matches.id.desc())
                .limit(RELEVANCE_WINDOW)
                .subquery("window")
            )
            rank = window.c.rank
            page = select(
                window.c.id,
                rank,
                func.count().over().label("size"),
                func.min(window.c.id).over().label("low"),
            )
        with search.answered_from_index(session) if boundary is None else nullcontext():
            rows = list(session.execute(page.order_by(rank, window.c.id).limit(limit + 1)).all())
        if first_page and rows and rows[0].size >= RELEVANCE_WINDOW:
            boundary = int(rows[0].low)
        if len(rows) > limit:
            last = rows[limit - 1]
            after = {"b": boundary, "r": float(last.rank), "i": int(last.id)}
            return [int(r.id) for r in rows[:limit]], after
        if boundary is None:
            return [int(r.id) for r in rows], None
    ids = [int(r.id) for r in rows]
    older_than = int(position["t"] if "t" in position else boundary)  # type: ignore[arg-type]
    older = list(
        session.execute(
            matches.ids()
            .where(matches.id < older_than)
            .order_by(matches.id.desc())
            .limit(limit + 1 - len(ids))
        ).scalars()
    )
    ids += older
    if len(ids) <= limit:
        return ids, None
    # The next page continues below the last older match shown (or the window's end).
    shown_older = older[: limit - len(rows)]
    return ids[:limit], {"b": boundary, "t": shown_older[-1] if shown_older else older_than}


def _first_page_with_tags(
    session: Session, matches: _PilotMatches, position: dict[str, Any], limit: int
) -> tuple[list[int], dict[str, Any] | None, Counter[str] | None] | None:
    """The first page of a relevance search with facets, every filter in the index: the
    newest ``RELEVANCE_WINDOW`` matches read once, with their rank and tag tokens. One
    statement returns the page (``_relevance_page``'s page and cursor) and the window's
    size, lowest id and tags; the tag counts come back when the window holds every match
    (else None: the facets count the whole set). None when this does not apply.

    PostgreSQL ranks every match before taking the newest (it cannot walk them newest
    first): only with tag filters, which keep the set small, not for a bare text."""
    ranking = matches.ranking
    if position or ranking is None or ranking.tagged is None or matches.conditions:
        return None
    postgres = dialect_name(session) == "postgresql"
    if postgres and not matches.tagged:
        return None
    tagged = ranking.tagged.subquery("tagged")
    # The window and one more match (the oldest): is there a match beyond the window?
    newest = (
        select(tagged.c.id, ranking.rank_of(tagged).label("rank"), tagged.c.tags)
        .order_by(tagged.c.id.desc())
        .limit(RELEVANCE_WINDOW + 1)
        .cte("newest")
        .prefix_with("MATERIALIZED")
    )
    size = select(func.count()).select_from(newest).scalar_subquery()
    oldest = select(func.min(newest.c.id)).scalar_subquery()
    in_window = or_(size <= RELEVANCE_WINDOW, newest.c.id > oldest)
    page = (
        select(
            literal(0).label("part"),
            newest.c.id,
            newest.c.rank,
            literal(None, type_=String).label("tags"),
        )
        .where(in_window)
        .order_by(newest.c.rank, newest.c.id)
        .limit(limit + 1)
        .subquery("page")
    )
    # The window's size (with the one beyond), lowest id and tag tokens, as one more row.
    concat = func.string_agg if postgres else func.group_concat
    window = select(
        literal(1), size, func.min(newest.c.id), concat(newest.c.tags, literal(" "))
    ).where(in_window)
    with search.answered_from_index(session):
        rows = session.execute(union_all(select(page), window)).all()
    ranked = [row for row in rows if row[0] == 0]
    _, found, low, tags = next(row for row in rows if row[0] == 1)
    boundary = None if found <= RELEVANCE_WINDOW else int(low)
    ids = [int(row[1]) for row in ranked[:limit]]
    after = None
    if len(ranked) > limit:
        last = ranked[limit - 1]
        after = {"b": boundary, "r": float(last[2]), "i": int(last[1])}
    elif boundary is not None:  # a window of fewer rows than a page: cannot happen
        return None
    tokens = None
    if boundary is None:
        # PostgreSQL's tag lexemes start with "~" (no text query can reach them).
        tokens = Counter(((tags or "").replace("~", "") if postgres else tags or "").split())
    return ids, after, tokens


def _load_pilots(session: Session, ids: Sequence[int]) -> list[tuple[Any, Any]]:
    """The page's pilots and their municipalities as plain attribute records (read-only,
    with the same attributes and values as the mapped objects): building 100 mapped
    SQLModel objects a page cost about 10 ms; the rows are only read to be serialised."""
    if not ids:
        return []
    query = (
        select(*PC, *(column.label(f"m_{column.key}") for column in MC))
        .join(Municipality, MC.code == PC.municipality_code)
        .where(PC.id.in_(ids))
    )
    town_keys = [(f"m_{column.key}", column.key) for column in MC]
    pilot_keys = [column.key for column in PC]
    found: dict[int, tuple[Any, Any]] = {}
    for row in session.execute(query).mappings():
        pilot = SimpleNamespace(**{key: row[key] for key in pilot_keys})
        town = SimpleNamespace(**{key: row[label] for label, key in town_keys})
        found[pilot.id] = (pilot, town)
    return [found[i] for i in ids if i in found]


def _pilot_facets(
    session: Session,
    matches: _PilotMatches,
    facets: Sequence[str],
    tokens: Mapping[str, int] | None = None,
) -> dict[str, dict[str, int]]:
    """Every facet over the filtered set, in one statement (none when ``tokens``, the set's
    tag token counts, came with the page)."""
    kinds = tuple(f for f in facets if f in ("area", "standard", "mim"))
    counts: dict[str, Counter[str]] = {facet: Counter() for facet in facets}
    if tokens is not None:
        return _facets_from_tags(tokens, kinds, counts)
    postgres = dialect_name(session) == "postgresql"
    if matches.ranking is None and not matches.conditions:
        return _catalogue_facets_of_revision(session, kinds, counts, postgres=postgres)
    if not postgres and matches.ranking is not None and matches.ranking.tagged is not None:
        # SQLite text search: the tags come with the matches from the index itself.
        tagged = matches.ranking.tagged.subquery("tagged")
        query = select(func.group_concat(tagged.c.tags, literal(" ")))
        if matches.conditions:
            query = (
                query.select_from(tagged)
                .join(Pilot, PC.id == tagged.c.id)
                .join(Municipality, MC.code == PC.municipality_code)
                .where(*matches.conditions)
            )
        # Count the tokens as they are, decode only the distinct ones.
        tokens = Counter((session.execute(query).scalar() or "").split())
        return _facets_from_tags(tokens, kinds, counts)
    if (
        matches.ranking is not None
        and matches.ranking.tsquery is not None
        and not matches.conditions
    ):
        # PostgreSQL text search, every filter in the index: the matching documents' tag
        # lexemes counted where they are, in one pass of the index.
        found = search.count_tags(session, matches.ranking, _wanted_tags(kinds, counts))
        return _facets_from_tags(found, kinds, counts)
    if not postgres:
        # SQLite would walk every pilot tag and probe the set; a correlated lookup per row
        # reads just the set's tags from the covering index.
        columns: list[ColumnElement[Any]] = [PC.status, MC.region_nuts3]
        if kinds:
            columns.append(
                select(func.group_concat(TC.kind + literal(":") + TC.value, literal(",")))
                .where(TC.entity == "pilot", TC.entity_id == matches.id, TC.kind.in_(kinds))
                .scalar_subquery()
            )
        for row in session.execute(matches.ids(with_town=True).add_columns(*columns)):
            counts.get("status", Counter())[row[1]] += 1
            counts.get("region", Counter())[row[2]] += 1
            for tag in (row[3] or "").split(",") if kinds else ():
                kind, _, value = tag.partition(":")
                counts[kind][value] += 1
        return {facet: dict(counted) for facet, counted in counts.items()}
    filtered = (
        matches.ids(with_town=True)
        .add_columns(PC.status.label("status"), MC.region_nuts3.label("region"))
        .cte("filtered")
        .prefix_with("MATERIALIZED")
    )
    parts: list[Select[Any]] = [
        select(literal("status").label("facet"), filtered.c.status.label("value")),
        select(literal("region"), filtered.c.region),
    ]
    if kinds:
        # From the filtered set to its tags (a covering index), whatever the set's size.
        parts.append(
            select(TC.kind, TC.value)
            .select_from(filtered)
            .join(CatalogueTag, and_(TC.entity == "pilot", TC.entity_id == filtered.c.id))
            .where(TC.kind.in_(kinds))
        )
    every = union_all(*parts).subquery("every")
    grouped = select(every.c.facet, every.c.value, func.count()).group_by(
        every.c.facet, every.c.value
    )
    for facet, value, count in session.execute(grouped):
        if facet in counts and value is not None:
            counts[facet][value] = int(count)
    return {facet: dict(counted) for facet, counted in counts.items()}


# The whole catalogue's facets, by database and facets asked: the revision they were
# counted at and the counts.
_catalogue_facet_cache: dict[
    tuple[str, tuple[str, ...]], tuple[str, dict[str, dict[str, int]]]
] = {}
_CHANGED = "catalogue changed in"


def _catalogue_changed(session: Session) -> None:
    """This transaction changes what the pilots' facets count: the catalogue gets a new
    revision when it commits."""
    session.info[_CHANGED] = session.get_transaction()


def _changes_catalogue(session: Session) -> bool:
    return session.info.get(_CHANGED) is not None and (
        session.info[_CHANGED] is session.get_transaction()
    )


@event.listens_for(OrmSession, "before_commit")
def _new_revision(session: OrmSession) -> None:
    """Whatever commits a transaction that changed the catalogue (a request, the CLI, a
    test's factory) gives the catalogue a new revision, last, so the one row is locked only
    while committing."""
    if not _changes_catalogue(session):  # type: ignore[arg-type]
        return
    del session.info[_CHANGED]
    revision = columns(CatalogueRevision)
    session.execute(
        update(CatalogueRevision).where(revision.id == 1).values(revision=uuid.uuid4().hex)
    )


def catalogue_revision(session: Session) -> str | None:
    """The catalogue's committed revision (None on a database without the row)."""
    found = session.get(CatalogueRevision, 1, populate_existing=True)
    return None if found is None else found.revision


def _catalogue_facets_of_revision(
    session: Session,
    kinds: Sequence[str],
    counts: dict[str, Counter[str]],
    *,
    postgres: bool,
) -> dict[str, dict[str, int]]:
    """The whole catalogue's facets, counted once per catalogue revision and database.

    The revision is read before the counts: a count read later is at least as new as the
    revision it is kept under, never older. A transaction that changed the catalogue and
    has not committed counts its own view and keeps nothing."""
    revision = None if _changes_catalogue(session) else catalogue_revision(session)
    if revision is None:
        return _catalogue_facets(session, kinds, counts, postgres=postgres)
    key = (session.get_bind().engine.url.render_as_string(), tuple(counts))
    kept = _catalogue_facet_cache.get(key)
    if kept is None or kept[0] != revision:
        kept = (revision, _catalogue_facets(session, kinds, counts, postgres=postgres))
        _catalogue_facet_cache[key] = kept
    # A copy: the caller's answer must not change the kept counts.
    return {facet: dict(counted) for facet, counted in kept[1].items()}


def _catalogue_facets(
    session: Session,
    kinds: Sequence[str],
    counts: dict[str, Counter[str]],
    *,
    postgres: bool,
) -> dict[str, dict[str, int]]:
    """The facets of the whole catalogue (no text, no filter: the home page, a first
    browse), without visiting every pilot: SQLite reads the tag tokens' document counts
    from the term statistics of the full-text index's tags column; PostgreSQL groups the
    tags' primary key and the pilots' status and town (walking every pilot's tags one by
    one took seconds at 100,000 pilots)."""
    if not postgres:
        found = search.index_tag_counts(session, _wanted_tags(kinds, counts))
        return _facets_from_tags(found, kinds, counts)
    if kinds:
        query = (
            select(TC.kind, TC.value, func.count())
            .where(TC.entity == "pilot", TC.kind.in_(kinds))
            .group_by(TC.kind, TC.value)
        )
        for kind, value, count in session.execute(query):
            counts[kind][value] = int(count)
    if "status" in counts:
        counts["status"].update(
            _counts(session, select(PC.status, func.count()).group_by(PC.status))
        )
    if "region" in counts:
        towns = select(PC.municipality_code.label("code"), func.count().label("n")).group_by(
            PC.municipality_code
        )
        grouped = towns.subquery("towns")
        query = (
            select(MC.region_nuts3, func.sum(grouped.c.n))
            .join(grouped, grouped.c.code == MC.code)
            .group_by(MC.region_nuts3)
        )
        counts["region"].update(_counts(session, query))
    return {facet: dict(counted) for facet, counted in counts.items()}


def _wanted_tags(kinds: Sequence[str], counts: Mapping[str, object]) -> tuple[str, ...]:
    """The tag kinds the facets count."""
    return (*kinds, *(kind for kind in ("status", "region") if kind in counts))


def _facets_from_tags(
    tokens: Mapping[str, int], kinds: Sequence[str], counts: dict[str, Counter[str]]
) -> dict[str, dict[str, int]]:
    """The facets from the filtered set's tag token counts."""
    wanted = _wanted_tags(kinds, counts)
    for token, count in tokens.items():
        # Most distinct tokens (solutions, vendors, towns) are not asked for: skip them
        # before decoding.
        if not token.startswith(wanted):
            continue
        found = tag_value(token, wanted)
        if found is not None:
            counts[found[0]][found[1]] += count
    return {facet: dict(counted) for facet, counted in counts.items()}


def _counts(session: Session, query: Select[Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in session.execute(query) if k is not None}


def search_solutions(
    session: Session, params: CatalogueSearch, cursor: str | None, limit: int
) -> SearchResult:
    for facet in params.facets:
        if facet not in SOLUTION_FACETS:
            raise InvalidQuery("facets", f"unknown facet {facet}; use {', '.join(SOLUTION_FACETS)}")
    sort = _resolve_sort(params, ("relevance", "newest"))
    geo = _geo(session, params)
    base, fts = _solution_base(session, params, geo)
    p = params
    listed = f"solutions:{sort}"
    offset = int((decode_cursor(listed, cursor) or {}).get("o", 0))
    if sort == "relevance" and fts is not None:
        ordered = base.order_by(fts.c.rank, SC.id)
    else:
        ordered = base.order_by(SC.id.desc())
    ids = list(session.execute(ordered.offset(offset).limit(limit + 1)).scalars())
    more = len(ids) > limit
    ids = ids[:limit]
    found = {s.id: s for s in session.execute(select(Solution).where(SC.id.in_(ids))).scalars()}
    facets = None
    if p.facets:
        filtered = base.subquery("filtered")
        facets = {}
        for facet in p.facets:
            if facet == "hosting":
                query = (
                    select(SC.hosting, func.count())
                    .join(filtered, filtered.c.id == SC.id)
                    .group_by(SC.hosting)
                )
            else:
                query = (
                    select(TC.value, func.count())
                    .join(filtered, filtered.c.id == TC.entity_id)
                    .where(TC.entity == "solution", TC.kind == facet)
                    .group_by(TC.value)
                )
            facets[facet] = _counts(session, query)
    return SearchResult(
        rows=[found[i] for i in ids if i in found],
        distances=_solution_distances(session, ids, geo) if (p.near or p.similar_to) else {},
        next_cursor=encode_cursor(listed, {"o": offset + limit}) if more else None,
        facets=facets,
    )


def _solution_distances(session: Session, ids: Sequence[int], geo: _Geo) -> dict[str, float]:
    """For each solution id (as a string): the distance to the nearest municipality in
    range (``near`` / ``similar_to``) with a pilot that uses it."""
    if not ids or not geo.distances:
        return {}
    used = session.execute(
        select(TC.value, PC.municipality_code)
        .join(Pilot, PC.id == TC.entity_id)
        .where(
            TC.entity == "pilot",
            TC.kind == "solution",
            TC.value.in_([str(i) for i in ids]),
            PC.municipality_code.in_(list(geo.distances)),
        )
    )
    nearest: dict[str, float] = {}
    for solution, code in used:
        distance = geo.distances[code]
        nearest[solution] = min(distance, nearest.get(solution, distance))
    return nearest


def _solution_base(
    session: Session, params: CatalogueSearch, geo: _Geo | None = None
) -> tuple[Select[tuple[int]], Any]:
    """``SELECT solutions.id`` with the text match (first) and every filter applied."""
    geo = geo if geo is not None else _geo(session, params)
    p = params
    base = select(SC.id)
    fts = None
    if p.q:
        matched = search.match(session, "solution", p.q)
        if matched is None:
            raise InvalidQuery("q", "q has no searchable word")
        fts = matched.subquery("fts")
        base = base.join(fts, fts.c.id == SC.id)
    conditions: list[ColumnElement[bool]] = []
    for kind, values in (("area", p.areas), ("standard", p.standards), ("mim", p.mims)):
        if values:
            conditions.append(SC.id.in_(_tagged("solution", kind, values)))
    for name in ("open_source", "data_owned_by_municipality"):
        value = getattr(p, name)
        if value is not None:
            conditions.append(getattr(Solution, name).is_(value))
    if p.max_lockin is not None:
        conditions.append(SC.lockin_score <= p.max_lockin)
    if p.vendor_id is not None:
        conditions.append(SC.vendor_id == p.vendor_id)
    # Place filters: solutions used by pilots of the matching municipalities.
    pilot_filter = CatalogueSearch(
        regions=p.regions,
        districts=p.districts,
        bands=p.bands,
        population_min=p.population_min,
        population_max=p.population_max,
        statuses=p.statuses,
        has_procurement=p.has_procurement,
        budget_min=p.budget_min,
        budget_max=p.budget_max,
        municipality=p.municipality,
    )
    pilot_conditions, _ = _pilot_conditions(pilot_filter, geo)
    if pilot_conditions:
        used = (
            select(TC.value)
            .join(Pilot, PC.id == TC.entity_id)
            .join(Municipality, MC.code == PC.municipality_code)
            .where(TC.entity == "pilot", TC.kind == "solution")
            .where(*pilot_conditions)
        )
        conditions.append(cast(SC.id, String).in_(used))
    return base.where(*conditions), fts


def search_solution_ids(session: Session, params: CatalogueSearch) -> Select[tuple[int]]:
    return _solution_base(session, params)[0]


# --- compatibility --------------------------------------------------------------------


@dataclass
class Compatible:
    solution: Solution
    shares: list[str]
    lacks: list[str]
    score: float


def _profile(solution: Solution) -> set[str]:
    return set(solution.standards) | set(solution.mims)


def rank_compatible(
    session: Session,
    stack: set[str],
    exclude: set[int],
    areas: Sequence[str] = (),
    limit: int = 20,
) -> list[Compatible]:
    """Solutions ranked by how much of ``stack`` they share, then by lower lock-in.

    The shared standards and MIMs are counted and ranked in SQL (one grouped read of the
    tags), so only the ``limit`` best solutions are loaded: with 20,000 solutions most of
    the catalogue shares some standard, and loading every candidate cost over a second."""
    if not stack:
        return []
    shared = select(TC.entity_id.label("id"), func.count().label("shared")).where(
        TC.entity == "solution",
        TC.kind.in_(("standard", "mim")),
        TC.value.in_(sorted(stack)),
    )
    if exclude:
        shared = shared.where(TC.entity_id.not_in(sorted(exclude)))
    if areas:
        shared = shared.where(TC.entity_id.in_(_tagged("solution", "area", areas)))
    counted = shared.group_by(TC.entity_id).subquery("counted")
    best = (
        select(Solution)
        .join(counted, counted.c.id == SC.id)
        .order_by(counted.c.shared.desc(), SC.lockin_score, SC.id)
        .limit(limit)
    )
    ranked: list[Compatible] = []
    for solution in session.execute(best).scalars():
        profile = _profile(solution)
        shares = sorted(stack & profile)
        ranked.append(
            Compatible(
                solution=solution,
                shares=shares,
                lacks=sorted(stack - profile),
                score=round(len(shares) / len(stack), 3),
            )
        )
    return ranked


def compatible_with_solution(
    session: Session, solution_id: int, limit: int
) -> tuple[list[str], list[Compatible]]:
    solution = get_solution(session, solution_id)
    stack = _profile(solution)
    return sorted(stack), rank_compatible(session, stack, {solution_id}, limit=limit)


def compatible_with_stack(session: Session, body: StackIn) -> tuple[list[str], list[Compatible]]:
    stack = set(body.standards)
    solutions = _solutions_of(session, body.solution_ids)
    missing = sorted(set(body.solution_ids) - {s.id for s in solutions if s.id is not None})
    if missing:
        raise InvalidReference("/solution_ids", f"there is no solution {missing[0]}")
    for solution in solutions:
        stack |= _profile(solution)
    return sorted(stack), rank_compatible(
        session, stack, set(body.solution_ids), [a.value for a in body.areas], body.limit
    )


# --- exports --------------------------------------------------------------------------


def pilot_export_query(session: Session, params: CatalogueSearch) -> Select[Pilot, Municipality]:
    """Every pilot that matches the filters, with its municipality, in id order."""
    geo = _geo(session, params)
    query = select(Pilot, Municipality).join(
        Municipality,
        MC.code == PC.municipality_code,
    )
    if params.q:
        matched = search.match(session, "pilot", params.q)
        if matched is None:
            raise InvalidQuery("q", "q has no searchable word")
        fts = matched.subquery("fts")
        query = query.join(fts, fts.c.id == PC.id)
    conditions, _ = _pilot_conditions(params, geo)
    return query.where(*conditions).order_by(PC.id)


def solution_export_query(session: Session, params: CatalogueSearch) -> Select[Any]:
    ids = search_solution_ids(session, params)
    return select(Solution).where(SC.id.in_(ids)).order_by(SC.id)
