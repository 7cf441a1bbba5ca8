"""Catalogue HTTP routes: municipalities, vendors, standards, solutions, pilots,
compatibility and open-data exports."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from sqlmodel import Session

from api.auth import (
    AdminDep,
    Caller,
    OfficerOrAdminDep,
    VendorOrAdminDep,
    request_caller,
)
from api.csvexport import content_disposition
from api.db import LongReadSessionDep, QuerySessionDep, SessionDep
from api.errors import problem_responses
from api.http import check_if_match, etag_of, in_blocks
from api.idempotency import IdempotencyDep
from api.pagination import CursorQuery, LimitQuery, Page, page_response
from api.text import MUNICIPALITY_CODE_PATTERN, AsciiNumber
from catalogue import exports, service
from catalogue.geo import BAND_IDS
from catalogue.lockin import lockin_level, lockin_reasons
from catalogue.models import Municipality, Pilot, Solution, Vendor
from catalogue.schemas import (
    Adoption,
    CompatibilityResult,
    CompatibleSolution,
    LockinProfile,
    MunicipalityBrief,
    MunicipalityPublic,
    PilotCreate,
    PilotPublic,
    PilotUpdate,
    SearchPage,
    SolutionCreate,
    SolutionPublic,
    SolutionUpdate,
    StackIn,
    StandardPublic,
    VendorCreate,
    VendorPublic,
    VendorUpdate,
)
from catalogue.service import CatalogueSearch
from catalogue.vocabulary import MIM_SLUGS, STANDARD_SLUGS, STANDARDS, Area, PilotStatus

router = APIRouter(prefix="/v1", tags=["catalogue"])

StandardSlug = StrEnum("StandardSlug", {s: s for s in sorted(STANDARD_SLUGS)})  # type: ignore[misc]
MimSlug = StrEnum("MimSlug", {s: s for s in sorted(MIM_SLUGS)})  # type: ignore[misc]
PopulationBand = StrEnum("PopulationBand", {b: b for b in BAND_IDS})  # type: ignore[misc]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Code = Annotated[
    str, Path(pattern=MUNICIPALITY_CODE_PATTERN, description="Municipality code (kód obce)")
]
TownQuery = Annotated[str | None, Query(pattern=MUNICIPALITY_CODE_PATTERN)]
PlaceQuery = Annotated[list[Annotated[str, Query(max_length=100)]], Query(max_length=20)]
RegionQuery = Annotated[
    list[Annotated[str, Query(max_length=100)]],
    Query(
        max_length=20,
        description="Region (kraj): its NUTS3 code (CZ064) or its name (Jihomoravský kraj); "
        "case and diacritics do not matter. An unknown region is a 422.",
    ),
]
TextQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Full text; diacritics-insensitive, Czech-stemmed, prefix matching.",
    ),
]
RadiusQuery = Annotated[
    float | None, Query(gt=0, le=500, description="With near: radius in km (default 10).")
]


async def reader(request: Request) -> Caller | None:
    """The caller of a public read, if a key is sent (it may show private contacts).

    Not a security dependency: the catalogue is public, so the OpenAPI document must not
    say these reads need a key."""
    return await request_caller(request)


ReaderDep = Annotated[Caller | None, Depends(reader)]


# --- shaping --------------------------------------------------------------------------


def _with_etag(response: Response, version: int, kind: str) -> None:
    response.headers["ETag"] = etag_of(version, kind)


def municipality_public(m: Municipality, distance: float | None = None) -> MunicipalityPublic:
    return MunicipalityPublic(
        code=m.code,
        name=m.name,
        district=m.district,
        district_lau1=m.district_lau1,
        region=m.region,
        region_nuts3=m.region_nuts3,
        postcode=m.postcode,
        lat=m.lat,
        lon=m.lon,
        population=m.population,
        population_band=service.population_band(m.population),
        ico=m.ico,
        distance_km=distance,
    )


def vendor_public(v: Vendor) -> VendorPublic:
    assert v.id is not None
    return VendorPublic(
        id=v.id,
        ico=v.ico,
        name=v.name,
        country=v.country,
        website=v.website,
        demo=v.is_demo,
        created_at=v.created_at,
        updated_at=v.updated_at,
    )


def solution_public(s: Solution, distance: float | None = None) -> SolutionPublic:
    assert s.id is not None
    return SolutionPublic.model_validate(
        {
            "distance_km": distance,
            **{name: getattr(s, name) for name in SolutionPublic.model_fields if hasattr(s, name)},
            "lockin": LockinProfile.model_validate(
                {
                    "score": s.lockin_score,
                    "level": lockin_level(s.lockin_score),
                    "reasons": lockin_reasons(s),
                }
            ),
            "demo": s.is_demo,
        }
    )


def _may_see_contact(p: Pilot, caller: Caller | None) -> bool:
    """A contact marked public, or one the caller may see (admin, auditor, the officer of
    the pilot's municipality)."""
    assert p.contact is not None
    return bool(p.contact.get("public")) or (
        caller is not None and caller.sees_private_data_of(p.municipality_code)
    )


def pilot_public(
    p: Pilot, m: Municipality, caller: Caller | None, distance: float | None = None
) -> PilotPublic:
    assert p.id is not None
    adoption = None
    if p.adoption:
        users = int(p.adoption.get("users", 0))
        adoption = Adoption(
            users=users,
            measured_on=p.adoption.get("measured_on"),
            share_of_population=round(users / m.population, 4) if m.population else None,
        )
    contact = p.contact if p.contact and _may_see_contact(p, caller) else None
    budget = None if p.budget_czk is None else Decimal(p.budget_czk).quantize(Decimal("0.01"))
    return PilotPublic.model_validate(
        {
            "id": p.id,
            "municipality_code": p.municipality_code,
            "municipality": MunicipalityBrief(
                code=m.code,
                name=m.name,
                district=m.district,
                region=m.region,
                region_nuts3=m.region_nuts3,
                population=m.population,
                lat=m.lat,
                lon=m.lon,
            ),
            "title": p.title,
            "summary": p.summary,
            "description": p.description,
            "areas": p.areas,
            "status": p.status,
            "started_on": p.started_on,
            "ended_on": p.ended_on,
            "budget_czk": budget,
            "cost_per_inhabitant": service.cost_per_inhabitant(p, m.population),
            "funding": p.funding,
            "solution_ids": p.solution_ids,
            "vendor_ids": p.vendor_ids,
            "kpis": p.kpis,
            "adoption": adoption,
            "lessons_learned": p.lessons_learned,
            "partners": p.partners,
            "contact": contact,
            "procurement_ocids": p.procurement_ocids,
            "open_data_url": p.open_data_url,
            "has_procurement": p.has_procurement,
            "open_source": p.open_source,
            "data_owned_by_municipality": p.data_owned_by_municipality,
            "lockin_score": p.lockin_score,
            "demo": p.is_demo,
            "created_at": p.created_at,
            "updated_at": p.updated_at,
            "distance_km": distance,
        }
    )


# --- municipalities -------------------------------------------------------------------


@router.get("/municipalities", responses=problem_responses(400, 422))
def list_municipalities(
    request: Request,
    response: Response,
    session: SessionDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Name prefix, diacritics-insensitive")
    ] = None,
    region: RegionQuery = [],  # noqa: B006 - FastAPI copies defaults
    district: PlaceQuery = [],  # noqa: B006
    population_band: Annotated[list[PopulationBand], Query(max_length=10)] = [],  # noqa: B006
    population_min: Annotated[int | None, Query(ge=0, le=10_000_000)] = None,
    population_max: Annotated[int | None, Query(ge=0, le=10_000_000)] = None,
    near: TownQuery = None,
    radius_km: RadiusQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[MunicipalityPublic]:
    """Search the municipalities register (name, region, district, size, distance)."""
    if radius_km is not None and near is None:
        from catalogue.exceptions import InvalidQuery

        raise InvalidQuery("radius_km", "radius_km needs near=<municipality code>")
    params = service.MunicipalitySearch(
        q=q,
        regions=region,
        districts=district,
        bands=[b.value for b in population_band],
        population_min=population_min,
        population_max=population_max,
        near=near,
        radius_km=radius_km,
    )
    rows, next_cursor = service.list_municipalities(session, params, cursor, limit)
    page = Page[MunicipalityPublic](
        items=[municipality_public(m, d) for m, d in rows], next_cursor=next_cursor
    )
    return page_response(request, response, page)


@router.get("/municipalities/{code}", responses=problem_responses(404, 422))
def read_municipality(code: Code, session: SessionDep) -> MunicipalityPublic:
    """One municipality of the register."""
    return municipality_public(service.get_municipality(session, code))


# --- standards ------------------------------------------------------------------------


@router.get("/standards")
def list_standards(
    kind: Annotated[Literal["standard", "mim"] | None, Query()] = None,
) -> Page[StandardPublic]:
    """The controlled vocabulary of standards and the OASC MIMs (one page: next_cursor is
    always null)."""
    items = [
        StandardPublic(
            slug=s.slug,
            name=s.name,
            kind=s.kind,
            domain=s.domain,
            description=s.description,
            url=s.url,
        )
        for s in STANDARDS
        if kind is None or s.kind == kind
    ]
    return Page[StandardPublic](items=items, next_cursor=None)


# --- vendors --------------------------------------------------------------------------


@router.get("/vendors", responses=problem_responses(400, 422))
def list_vendors(
    request: Request,
    response: Response,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description="Name part or IČO")] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[VendorPublic]:
    """List vendors."""
    rows, next_cursor = service.list_vendors(session, q, cursor, limit)
    page = Page[VendorPublic](items=[vendor_public(v) for v in rows], next_cursor=next_cursor)
    return page_response(request, response, page)


@router.post(
    "/vendors",
    status_code=201,
    response_model=VendorPublic,
    responses=problem_responses(401, 403, 409, 422),
)
def create_vendor(
    body: VendorCreate, session: SessionDep, caller: AdminDep, idem: IdempotencyDep
) -> JSONResponse:
    """Register a vendor (IČO validated)."""
    vendor = service.create_vendor(session, caller, body)
    return idem.respond(201, vendor_public(vendor), {"ETag": etag_of(vendor.version, "vendor")})


@router.get("/vendors/{vendor_id}", responses=problem_responses(404, 422))
def read_vendor(vendor_id: Id, session: SessionDep, response: Response) -> VendorPublic:
    """One vendor."""
    vendor = service.get_vendor(session, vendor_id)
    _with_etag(response, vendor.version, "vendor")
    return vendor_public(vendor)


@router.patch(
    "/vendors/{vendor_id}", responses=problem_responses(401, 403, 404, 409, 412, 422, 428)
)
def update_vendor(
    vendor_id: Id,
    body: VendorUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: VendorOrAdminDep,
) -> VendorPublic:
    """Update a vendor (its own vendor key, or an admin); needs If-Match."""
    vendor = service.get_vendor(session, vendor_id)
    check_if_match(request, etag_of(vendor.version, "vendor"))
    vendor = service.update_vendor(session, caller, vendor, body)
    _with_etag(response, vendor.version, "vendor")
    return vendor_public(vendor)


# --- search parameters ----------------------------------------------------------------


def catalogue_filters(
    q: TextQuery = None,
    area: Annotated[list[Area], Query(max_length=5)] = [],  # noqa: B006
    status: Annotated[list[PilotStatus], Query(max_length=6)] = [],  # noqa: B006
    standard: Annotated[list[StandardSlug], Query(max_length=20)] = [],  # noqa: B006
    mim: Annotated[list[MimSlug], Query(max_length=7)] = [],  # noqa: B006
    region: RegionQuery = [],  # noqa: B006
    district: PlaceQuery = [],  # noqa: B006
    population_band: Annotated[list[PopulationBand], Query(max_length=10)] = [],  # noqa: B006
    population_min: Annotated[int | None, Query(ge=0, le=10_000_000)] = None,
    population_max: Annotated[int | None, Query(ge=0, le=10_000_000)] = None,
    budget_min: Annotated[Decimal | None, AsciiNumber, Query(ge=0, le=10**13)] = None,
    budget_max: Annotated[Decimal | None, AsciiNumber, Query(ge=0, le=10**13)] = None,
    has_procurement: bool | None = None,
    open_source: bool | None = None,
    data_owned_by_municipality: bool | None = None,
    max_lockin: Annotated[int | None, Query(ge=0, le=100)] = None,
    municipality: TownQuery = None,
    vendor_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    solution_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    near: Annotated[
        str | None,
        Query(pattern=MUNICIPALITY_CODE_PATTERN, description="Municipality code: search around it"),
    ] = None,
    radius_km: RadiusQuery = None,
    similar_to: Annotated[
        str | None,
        Query(
            pattern=MUNICIPALITY_CODE_PATTERN,
            description="Municipality code: towns of the same or adjacent population band, "
            "then same region, then nearest",
        ),
    ] = None,
) -> CatalogueSearch:
    """The filters shared by search and exports."""
    return CatalogueSearch(
        q=q,
        areas=[a.value for a in area],
        statuses=[s.value for s in status],
        standards=[s.value for s in standard],
        mims=[m.value for m in mim],
        regions=region,
        districts=district,
        bands=[b.value for b in population_band],
        population_min=population_min,
        population_max=population_max,
        budget_min=budget_min,
        budget_max=budget_max,
        has_procurement=has_procurement,
        open_source=open_source,
        data_owned_by_municipality=data_owned_by_municipality,
        max_lockin=max_lockin,
        municipality=municipality,
        vendor_id=vendor_id,
        solution_id=solution_id,
        near=near,
        radius_km=radius_km,
        similar_to=similar_to,
    )


FiltersDep = Annotated[CatalogueSearch, Depends(catalogue_filters)]
SortQuery = Annotated[
    Literal["relevance", "distance", "similarity", "newest", "cost_per_inhabitant"] | None,
    Query(
        description="Default: relevance with q, similarity with similar_to, distance with "
        "near, else newest"
    ),
]
FacetsQuery = Annotated[
    str | None,
    Query(max_length=100, description="Comma-separated, e.g. area,status,standard,region"),
]


def _facets(value: str | None) -> list[str]:
    return [f.strip() for f in (value or "").split(",") if f.strip()]


# --- solutions ------------------------------------------------------------------------


@router.get("/solutions", responses=problem_responses(400, 422))
def list_solutions(
    request: Request,
    response: Response,
    session: SessionDep,
    filters: FiltersDep,
    sort: Annotated[Literal["relevance", "newest"] | None, Query()] = None,
    facets: FacetsQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> SearchPage[SolutionPublic]:
    """Search solutions (text, areas, standards, lock-in, where they are used)."""
    filters.sort = sort
    filters.facets = _facets(facets)
    result = service.search_solutions(session, filters, cursor, limit)
    page = SearchPage[SolutionPublic](
        items=[solution_public(s, result.distances.get(str(s.id))) for s in result.rows],
        next_cursor=result.next_cursor,
        facets=result.facets,
    )
    page_response(request, response, page)  # type: ignore[arg-type]
    return page


@router.post(
    "/solutions",
    status_code=201,
    response_model=SolutionPublic,
    responses=problem_responses(401, 403, 409, 422),
)
def create_solution(
    body: SolutionCreate, session: SessionDep, caller: VendorOrAdminDep, idem: IdempotencyDep
) -> JSONResponse:
    """Describe a solution (a vendor for itself, or an admin)."""
    solution = service.create_solution(session, caller, body)
    return idem.respond(
        201, solution_public(solution), {"ETag": etag_of(solution.version, "solution")}
    )


@router.get("/solutions/{solution_id}", responses=problem_responses(404, 422))
def read_solution(solution_id: Id, session: SessionDep, response: Response) -> SolutionPublic:
    """One solution with its lock-in profile."""
    solution = service.get_solution(session, solution_id)
    _with_etag(response, solution.version, "solution")
    return solution_public(solution)


@router.patch(
    "/solutions/{solution_id}", responses=problem_responses(401, 403, 404, 409, 412, 422, 428)
)
def update_solution(
    solution_id: Id,
    body: SolutionUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: VendorOrAdminDep,
) -> SolutionPublic:
    """Update a solution (its vendor, or an admin); needs If-Match."""
    solution = service.get_solution(session, solution_id)
    check_if_match(request, etag_of(solution.version, "solution"))
    solution = service.update_solution(session, caller, solution, body)
    _with_etag(response, solution.version, "solution")
    return solution_public(solution)


def _compatibility(stack: list[str], ranked: list[service.Compatible]) -> CompatibilityResult:
    return CompatibilityResult(
        stack=stack,
        items=[
            CompatibleSolution(
                solution=solution_public(c.solution), shares=c.shares, lacks=c.lacks, score=c.score
            )
            for c in ranked
        ],
    )


@router.get("/solutions/{solution_id}/compatible", responses=problem_responses(404, 422))
def list_compatible_solutions(
    solution_id: Id,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CompatibilityResult:
    """Solutions that share standards with this one, most shared first."""
    stack, ranked = service.compatible_with_solution(session, solution_id, limit)
    return _compatibility(stack, ranked)


@router.post("/compatibility", responses=problem_responses(422))
def check_compatibility(body: StackIn, session: QuerySessionDep) -> CompatibilityResult:
    """Rank solutions by what they share with a town's current stack (a query; writes
    nothing, so it needs no key)."""
    stack, ranked = service.compatible_with_stack(session, body)
    return _compatibility(stack, ranked)


# --- pilots ---------------------------------------------------------------------------


@router.get("/pilots", responses=problem_responses(400, 401, 422))
def list_pilots(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: ReaderDep,
    filters: FiltersDep,
    sort: SortQuery = None,
    facets: FacetsQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> SearchPage[PilotPublic]:
    """Search pilots: full text, filters, near / similar towns, facets."""
    filters.sort = sort
    filters.facets = _facets(facets)
    result = service.search_pilots(session, filters, cursor, limit)
    page = SearchPage[PilotPublic](
        items=[pilot_public(p, m, caller, result.distances.get(m.code)) for p, m in result.rows],
        next_cursor=result.next_cursor,
        facets=result.facets,
    )
    page_response(request, response, page)  # type: ignore[arg-type]
    return page


@router.post(
    "/pilots",
    status_code=201,
    response_model=PilotPublic,
    responses=problem_responses(401, 403, 409, 422),
)
def create_pilot(
    body: PilotCreate, session: SessionDep, caller: OfficerOrAdminDep, idem: IdempotencyDep
) -> JSONResponse:
    """Record a pilot (an officer for its own municipality, or an admin)."""
    pilot = service.create_pilot(session, caller, body)
    town = service.get_municipality(session, pilot.municipality_code)
    return idem.respond(
        201, pilot_public(pilot, town, caller), {"ETag": etag_of(pilot.version, "pilot")}
    )


@router.get("/pilots/{pilot_id}", responses=problem_responses(401, 404, 422))
def read_pilot(
    pilot_id: Id, session: SessionDep, response: Response, caller: ReaderDep
) -> PilotPublic:
    """One pilot."""
    pilot = service.get_pilot(session, pilot_id)
    _with_etag(response, pilot.version, "pilot")
    return pilot_public(pilot, service.get_municipality(session, pilot.municipality_code), caller)


@router.patch("/pilots/{pilot_id}", responses=problem_responses(401, 403, 404, 409, 412, 422, 428))
def update_pilot(
    pilot_id: Id,
    body: PilotUpdate,
    request: Request,
    response: Response,
    session: SessionDep,
    caller: OfficerOrAdminDep,
) -> PilotPublic:
    """Update a pilot (an officer of its municipality, or an admin); needs If-Match."""
    pilot = service.get_pilot(session, pilot_id)
    check_if_match(request, etag_of(pilot.version, "pilot"))
    pilot = service.update_pilot(session, caller, pilot, body)
    _with_etag(response, pilot.version, "pilot")
    return pilot_public(pilot, service.get_municipality(session, pilot.municipality_code), caller)


# --- exports --------------------------------------------------------------------------

EXPORT_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The export, streamed",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/geo+json": {"schema": {"type": "object"}},
        },
    }
}
BomQuery = Annotated[bool, Query(description="Start CSV with a UTF-8 BOM (Czech Excel)")]
DelimiterQuery = Annotated[
    Literal["comma", "semicolon"], Query(description="CSV delimiter; semicolon for Czech Excel")
]


def _export(
    kind: Literal["pilots", "solutions"],
    fmt: exports.Format,
    filters: CatalogueSearch,
    bom: bool,
    delimiter: str,
    caller: Caller | None,
    session: Session,
) -> StreamingResponse:
    # Fail on bad filters now, while an error can still be a problem+json response.
    if kind == "pilots":
        service.pilot_export_query(session, filters)
    else:
        service.solution_export_query(session, filters)

    def to_public(row: Any) -> dict[str, Any]:
        if kind == "pilots":
            return pilot_public(row[0], row[1], caller).model_dump(mode="json")
        return solution_public(row).model_dump(mode="json")

    body = exports.stream(
        lambda: session,  # the long read's own session, held until the body is sent
        kind,
        fmt,
        filters,
        bom=bom,
        delimiter=";" if delimiter == "semicolon" else ",",
        to_public=to_public,
    )
    extension = {"csv": "csv", "jsonl": "jsonl", "geojson": "geojson"}[fmt]
    return StreamingResponse(
        in_blocks(body),
        media_type=exports.media_type(fmt),
        headers={"Content-Disposition": content_disposition(f"{kind}.{extension}")},
    )


@router.get(
    "/exports/pilots",
    response_class=StreamingResponse,
    responses={**EXPORT_CONTENT, **problem_responses(401, 422)},
)
def export_pilots(
    caller: ReaderDep,
    filters: FiltersDep,
    session: LongReadSessionDep,
    format: Annotated[exports.Format, Query()] = "csv",  # noqa: A002 - the API's name
    bom: BomQuery = False,
    delimiter: DelimiterQuery = "comma",
) -> StreamingResponse:
    """Export pilots as CSV, JSON Lines or GeoJSON (points at their municipality)."""
    return _export("pilots", format, filters, bom, delimiter, caller, session)


@router.get(
    "/exports/solutions",
    response_class=StreamingResponse,
    responses={**EXPORT_CONTENT, **problem_responses(422)},
)
def export_solutions(
    filters: FiltersDep,
    session: LongReadSessionDep,
    format: Annotated[Literal["csv", "jsonl"], Query()] = "csv",  # noqa: A002
    bom: BomQuery = False,
    delimiter: DelimiterQuery = "comma",
) -> StreamingResponse:
    """Export solutions as CSV or JSON Lines."""
    return _export("solutions", format, filters, bom, delimiter, None, session)
