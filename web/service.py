"""What each page shows, gathered from the domain services the API uses (no query of its
own except the register's coordinates for the map, which no service lists).

The read models are the API's (``pilot_public``, ``solution_public``, ``procurement_public``,
``timeline``, red flags, ledger proofs), so a page shows what the API returns.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import Session

from api.errors import AppError
from catalogue import service as catalogue
from catalogue.geo import BAND_IDS
from catalogue.models import Municipality, columns
from catalogue.router import municipality_public, pilot_public, solution_public, vendor_public
from catalogue.schemas import MunicipalityPublic, PilotPublic, SolutionPublic, VendorPublic
from catalogue.service import CatalogueSearch
from catalogue.text import normalized_name
from catalogue.vocabulary import STANDARDS
from procurement import service as procurement
from procurement.audit import service as audit
from procurement.audit.redflags import RedFlag, RedFlagConfig
from procurement.audit.schemas import ExportFilters
from procurement.ledger import merkle
from procurement.ledger import service as ledger
from procurement.ledger.checkpoint import CheckpointError, parse_note
from procurement.schemas import ProcurementPublic, Timeline
from web import formatting, labels
from web.svgmap import CountryMap, MapPoint, RegisterPoint, build_map

MC = columns(Municipality)
PAGE_SIZE = 20
PILOT_FACETS = ["area", "status", "standard", "mim", "region"]
STANDARD_BY_SLUG = {s.slug: s for s in STANDARDS}


# --- the register: map and region names -----------------------------------------------


@dataclass(frozen=True)
class Register:
    map: CountryMap
    region_names: Mapping[str, str]


_register_lock = threading.Lock()
_register_cache: dict[str, tuple[float, int, Register]] = {}
REGISTER_SECONDS = 600.0


def register(session: Session) -> Register:
    """The map and region names, rebuilt when the register's size changes (an import) and
    at least every ten minutes; one count per page otherwise."""
    key = session.get_bind().engine.url.render_as_string()
    count = int(session.execute(select(func.count()).select_from(Municipality)).scalar() or 0)
    now = time.monotonic()
    cached = _register_cache.get(key)
    if cached and cached[1] == count and now - cached[0] < REGISTER_SECONDS:
        return cached[2]
    rows = session.execute(select(MC.lat, MC.lon, MC.region_nuts3, MC.region)).all()
    built = Register(
        map=build_map([RegisterPoint(lat, lon, nuts) for lat, lon, nuts, _ in rows]),
        region_names={nuts: name for _, _, nuts, name in rows},
    )
    with _register_lock:
        _register_cache[key] = (now, count, built)
    return built


def map_points(pilots: Iterable[PilotPublic], country: CountryMap) -> list[MapPoint]:
    """One point per municipality of the results (its pilots counted)."""
    counts: dict[str, int] = {}
    towns: dict[str, Any] = {}
    for pilot in pilots:
        counts[pilot.municipality_code] = counts.get(pilot.municipality_code, 0) + 1
        towns[pilot.municipality_code] = pilot.municipality
    points = []
    for code, town in towns.items():
        x, y = country.project(town.lat, town.lon)
        points.append(MapPoint(code, town.name, x, y, counts[code]))
    points.sort(key=lambda p: -p.count)  # big points first, small ones drawn on top
    return points


# --- generic "more details" (keeps pages in step with the API's fields) ----------------


def show_value(value: Any) -> str:
    """Any read-model value as Czech text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ano" if value else "ne"
    if isinstance(value, datetime):
        return formatting.datetime_cs(value)
    if isinstance(value, date):
        return formatting.date_cs(value)
    if isinstance(value, Decimal):
        return formatting.number(value, 2)
    if isinstance(value, float):
        return formatting.number(value, 2)
    if isinstance(value, int):
        return formatting.number(value)
    if isinstance(value, BaseModel):
        return show_value(value.model_dump())
    if isinstance(value, Mapping):
        return "; ".join(
            f"{labels.label(labels.STEP_FIELDS, k)}: {show_value(v)}"
            for k, v in value.items()
            if v not in (None, "", [], {})
        )
    if isinstance(value, list | tuple):
        return ", ".join(show_value(v) for v in value)
    return str(value)


def more_details(
    model: BaseModel, vocabulary: Mapping[str, str], shown: Iterable[str]
) -> list[tuple[str, str]]:
    """(label, text) of every field the page does not show elsewhere and that has a
    value: a field the API adds appears here at once."""
    skip = set(shown)
    out = []
    for name in type(model).model_fields:
        if name in skip:
            continue
        text = show_value(getattr(model, name))
        if text:
            out.append((vocabulary.get(name, name), text))
    return out


# --- home ---------------------------------------------------------------------------------


@dataclass
class HomeView:
    newest: list[PilotPublic]
    areas: list[tuple[str, str, int]]  # (id, name, count)
    statuses: list[tuple[str, str, int]]
    total: int


def home(session: Session) -> HomeView:
    found = catalogue.search_pilots(
        session, CatalogueSearch(sort="newest", facets=["area", "status"]), None, 6
    )
    facets = found.facets or {}
    return HomeView(
        newest=[pilot_public(p, m, None) for p, m in found.rows],
        areas=[(a, n, facets.get("area", {}).get(a, 0)) for a, n in labels.AREAS.items()],
        statuses=[
            (s, n, facets.get("status", {}).get(s, 0)) for s, n in labels.PILOT_STATUSES.items()
        ],
        total=sum(facets.get("status", {}).values()),
    )


# --- pilot search -----------------------------------------------------------------------


@dataclass
class TownChoice:
    code: str
    name: str
    district: str
    region: str


def towns_named(session: Session, text: str) -> list[TownChoice]:
    """Municipalities whose name is ``text`` (diacritics aside), else those starting so."""
    params = catalogue.MunicipalitySearch(q=text)
    rows, _ = catalogue.list_municipalities(session, params, None, 20)
    wanted = normalized_name(text)
    exact = [m for m, _ in rows if normalized_name(m.name) == wanted]
    chosen = exact or [m for m, _ in rows]
    return [TownChoice(m.code, m.name, m.district, m.region) for m in chosen]


def town_name(session: Session, code: str | None) -> str | None:
    if code is None:
        return None
    try:
        return catalogue.get_municipality(session, code).name
    except AppError:
        return code


@dataclass
class SearchView:
    pilots: list[PilotPublic]
    facets: dict[str, list[tuple[str, str, int]]]  # facet -> (value, label, count)
    total: int
    next_cursor: str | None
    points: list[MapPoint]
    map: CountryMap
    region_names: Mapping[str, str]


def _facet_label(facet: str, value: str, regions: Mapping[str, str]) -> str:
    if facet == "area":
        return labels.label(labels.AREAS, value)
    if facet == "status":
        return labels.label(labels.PILOT_STATUSES, value)
    if facet == "region":
        return regions.get(value, value)
    known = STANDARD_BY_SLUG.get(value)
    return known.name if known else value


def search(session: Session, params: CatalogueSearch, cursor: str | None) -> SearchView:
    found = catalogue.search_pilots(session, params, cursor, PAGE_SIZE)
    pilots = [pilot_public(p, m, None, found.distances.get(m.code)) for p, m in found.rows]
    country = register(session)
    facets: dict[str, list[tuple[str, str, int]]] = {}
    for facet, counts in (found.facets or {}).items():
        items = [
            (value, _facet_label(facet, value, country.region_names), count)
            for value, count in counts.items()
            if count
        ]
        items.sort(key=lambda item: (-item[2], item[1]))
        facets[facet] = items
    return SearchView(
        pilots=pilots,
        facets=facets,
        total=sum((found.facets or {}).get("status", {}).values()),
        next_cursor=found.next_cursor,
        points=map_points(pilots, country.map),
        map=country.map,
        region_names=country.region_names,
    )


# --- one pilot --------------------------------------------------------------------------


@dataclass
class ProcurementLink:
    ocid: str
    title: str | None
    status: str | None


@dataclass
class PilotView:
    pilot: PilotPublic
    solutions: list[SolutionPublic]
    vendors: list[VendorPublic]
    procurements: list[ProcurementLink]
    nearby: list[PilotPublic]
    similar: list[PilotPublic]
    band: str  # the town's population band
    more: list[tuple[str, str]]


PILOT_SHOWN = {
    "id",
    "municipality_code",
    "municipality",
    "title",
    "summary",
    "description",
    "areas",
    "status",
    "started_on",
    "ended_on",
    "budget_czk",
    "cost_per_inhabitant",
    "funding",
    "solution_ids",
    "vendor_ids",
    "kpis",
    "adoption",
    "lessons_learned",
    "partners",
    "contact",
    "procurement_ocids",
    "open_data_url",
    "distance_km",
    "demo",
}


def _others(
    session: Session,
    params: CatalogueSearch,
    exclude: int,
    limit: int = 5,
    exclude_town: str | None = None,
) -> list[PilotPublic]:
    found = catalogue.search_pilots(session, params, None, 2 * limit + 1)
    out = [
        pilot_public(p, m, None, found.distances.get(m.code))
        for p, m in found.rows
        if p.id != exclude and m.code != exclude_town
    ]
    return out[:limit]


NEARBY_KM = 20


def pilot(session: Session, pilot_id: int) -> PilotView:
    row = catalogue.get_pilot(session, pilot_id)
    town = catalogue.get_municipality(session, row.municipality_code)
    public = pilot_public(row, town, None)
    solutions = [solution_public(catalogue.get_solution(session, i)) for i in public.solution_ids]
    vendor_ids = list(dict.fromkeys([*public.vendor_ids, *(s.vendor_id for s in solutions)]))
    vendors = [vendor_public(catalogue.get_vendor(session, i)) for i in vendor_ids]
    links = []
    for ocid in public.procurement_ocids:
        try:
            found = procurement.get_procurement(session, ocid)
            links.append(ProcurementLink(ocid, found.title, found.status))
        except AppError:
            links.append(ProcurementLink(ocid, None, None))
    nearby = _others(
        session,
        CatalogueSearch(near=town.code, radius_km=NEARBY_KM, sort="distance"),
        pilot_id,
    )
    # Towns of the same or an adjacent population band in the same region, newest first:
    # the API's filters (population_band, region), which the index answers quickly.
    # (similar_to would rank every town of those bands in the country by distance.)
    band = BAND_IDS.index(catalogue.population_band(town.population))
    similar = _others(
        session,
        CatalogueSearch(
            bands=list(BAND_IDS[max(band - 1, 0) : band + 2]),
            regions=[town.region_nuts3],
            sort="newest",
        ),
        pilot_id,
        exclude_town=town.code,
    )
    return PilotView(
        pilot=public,
        solutions=solutions,
        vendors=vendors,
        procurements=links,
        nearby=nearby,
        similar=similar,
        band=BAND_IDS[band],
        more=more_details(public, labels.PILOT_FIELDS, PILOT_SHOWN),
    )


# --- one solution -----------------------------------------------------------------------


@dataclass
class TownUse:
    code: str
    name: str
    region: str
    pilots: list[PilotPublic] = field(default_factory=list)


@dataclass
class SolutionView:
    solution: SolutionPublic
    vendor: VendorPublic
    towns: list[TownUse]
    more_towns: bool
    compatible: list[catalogue.Compatible]
    compatible_public: list[SolutionPublic]
    more: list[tuple[str, str]]


SOLUTION_SHOWN = {
    "id",
    "vendor_id",
    "name",
    "summary",
    "description",
    "areas",
    "standards",
    "mims",
    "lockin",
    "open_api_documented",
    "standard_data_model",
    "bulk_export",
    "data_owned_by_municipality",
    "open_source",
    "licence",
    "exit_clause",
    "published_in_nkod",
    "proprietary_hardware",
    "trl",
    "hosting",
    "price_model",
    "distance_km",
    "demo",
}
USERS_SHOWN = 50


def solution(session: Session, solution_id: int) -> SolutionView:
    public = solution_public(catalogue.get_solution(session, solution_id))
    vendor = vendor_public(catalogue.get_vendor(session, public.vendor_id))
    found = catalogue.search_pilots(
        session, CatalogueSearch(solution_id=solution_id, sort="newest"), None, USERS_SHOWN
    )
    towns: dict[str, TownUse] = {}
    for p, m in found.rows:
        use = towns.setdefault(m.code, TownUse(m.code, m.name, m.region))
        use.pilots.append(pilot_public(p, m, None))
    _, ranked = catalogue.compatible_with_solution(session, solution_id, 10)
    return SolutionView(
        solution=public,
        vendor=vendor,
        towns=sorted(towns.values(), key=lambda t: normalized_name(t.name)),
        more_towns=found.next_cursor is not None,
        compatible=ranked,
        compatible_public=[solution_public(c.solution) for c in ranked],
        more=more_details(public, labels.SOLUTION_FIELDS, SOLUTION_SHOWN),
    )


# --- procurements: summaries, red flags -------------------------------------------------


def red_flag_config(settings: Any) -> RedFlagConfig:
    return RedFlagConfig.from_settings(settings)


@lru_cache(maxsize=1)
def procedure_names() -> dict[str, str]:
    """Czech names of the procedure types, from the procedure rules the API serves (the
    names do not change with the day the rules are asked for)."""
    today = datetime.now(UTC).date()
    return {p.id: p.name_cs for p in procurement.procedures_public(today).procedures}


@dataclass
class ProcurementSummary:
    procurement: ProcurementPublic
    timeline: Timeline
    flags: list[RedFlag]


def _summaries(
    session: Session, rows: Sequence[Any], flags: Sequence[RedFlag]
) -> list[ProcurementSummary]:
    by_ocid: dict[str, list[RedFlag]] = {}
    for flag in flags:
        by_ocid.setdefault(flag.ocid, []).append(flag)
    return [
        ProcurementSummary(
            procurement=procurement.procurement_public(row),
            timeline=procurement.timeline(session, row),
            flags=by_ocid.get(row.ocid, []),
        )
        for row in rows
    ]


# --- one municipality -------------------------------------------------------------------


@dataclass
class MunicipalityView:
    town: MunicipalityPublic
    pilots: list[PilotPublic]
    more_pilots: bool
    procurements: list[ProcurementSummary]
    next_after: int | None  # the procurement id the next page starts after
    more: list[tuple[str, str]]


MUNICIPALITY_SHOWN = {"code", "name", "district", "region", "population", "distance_km"}
PROCUREMENTS_SHOWN = 20


def municipality(
    session: Session, code: str, after: int, config: RedFlagConfig
) -> MunicipalityView:
    town = municipality_public(catalogue.get_municipality(session, code))
    found = catalogue.search_pilots(
        session, CatalogueSearch(municipality=code, sort="newest"), None, 50
    )
    rows = procurement.list_procurements(
        session, after_id=after or None, limit=PROCUREMENTS_SHOWN + 1, buyer_code=code
    )
    more = len(rows) > PROCUREMENTS_SHOWN
    rows = rows[:PROCUREMENTS_SHOWN]
    # The red flags of exactly these procurements (both page by id over the buyer's).
    flags, _ = audit.red_flags_page(
        session,
        config=config,
        buyer_code=code,
        rule=None,
        after_id=after,
        limit=len(rows) or 1,
        as_of=datetime.now(UTC).date(),
    )
    shown = {row.ocid for row in rows}
    return MunicipalityView(
        town=town,
        pilots=[pilot_public(p, m, None) for p, m in found.rows],
        more_pilots=found.next_cursor is not None,
        procurements=_summaries(session, rows, [f for f in flags if f.ocid in shown]),
        next_after=rows[-1].id if more and rows else None,
        more=more_details(town, labels.MUNICIPALITY_FIELDS, MUNICIPALITY_SHOWN),
    )


# --- one procurement and its ledger proofs ----------------------------------------------


@dataclass
class CheckpointView:
    note: str
    size: int
    root_b64: str
    origin: str
    key_name: str
    key_id: str
    verifier_key: str
    public_key_b64: str
    verified: bool
    problem: str | None = None


@dataclass
class StepProof:
    """One step's ledger entry and its inclusion proof, checked here against the signed
    checkpoint: the entry bytes re-hashed, the path walked to the checkpoint's root."""

    leaf_index: int
    entry_hash: str
    leaf_hash: str
    tree_size: int | None
    proof: list[str]
    verified: bool
    problem: str | None


def current_checkpoint(session: Session) -> CheckpointView | None:
    """The latest signed checkpoint and whether its signature holds for the served key."""
    stored = ledger.latest_checkpoint(session)
    verifier = ledger.signer().verifier
    if stored is None:
        return None
    view = CheckpointView(
        note=stored.note,
        size=stored.tree_size,
        root_b64="",
        origin=verifier.name,
        key_name=verifier.name,
        key_id=verifier.key_id.hex(),
        verifier_key=verifier.text(),
        public_key_b64=base64.b64encode(verifier.raw).decode(),
        verified=False,
    )
    try:
        checkpoint = parse_note(stored.note, verifier)
    except CheckpointError as error:
        view.problem = str(error)
        return view
    view.size = checkpoint.size
    view.root_b64 = base64.b64encode(checkpoint.root).decode()
    view.verified = True
    return view


ENTRY_GAP = 32  # entries this close together are read in one range


def _entry_bytes(session: Session, indexes: Sequence[int]) -> dict[int, bytes]:
    """The stored bytes of these ledger entries, in as few range reads as the indexes allow
    (a procurement's steps are often near one another in the log)."""
    found: dict[int, bytes] = {}
    ordered = sorted(set(indexes))
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] - ordered[end] <= ENTRY_GAP:
            end += 1
        first, last = ordered[start], ordered[end]
        for entry in ledger.entries(session, first, last - first + 1):
            found[entry.leaf_index] = bytes(entry.entry_bytes)
        start = end + 1
    return found


def step_proofs(
    session: Session, leaf_indexes: Sequence[tuple[int, str]], checkpoint: CheckpointView | None
) -> dict[int, StepProof]:
    """Check each (leaf index, entry hash shown) against the signed checkpoint: the stored
    bytes hash to the hash shown, and their leaf's inclusion proof (every proof's nodes
    read at once) leads to the checkpoint's signed root."""
    root = base64.b64decode(checkpoint.root_b64) if checkpoint and checkpoint.verified else None
    size = checkpoint.size if checkpoint and checkpoint.verified else None
    stored = _entry_bytes(session, [index for index, _ in leaf_indexes])
    provable = [i for i, _ in leaf_indexes if size is not None and i < size]
    get = None
    if provable and size is not None:
        tree = size

        def every_proof(node: merkle.NodeGetter) -> object:
            return [merkle.inclusion_proof(i, tree, node) for i in provable]

        get = merkle.getter(ledger.fetch_nodes(session, merkle.nodes_needed(every_proof)))
    out: dict[int, StepProof] = {}
    for index, shown_hash in leaf_indexes:
        entry_bytes = stored.get(index, b"")
        leaf = merkle.leaf_hash(entry_bytes)
        proof = StepProof(index, shown_hash, leaf.hex(), size, [], False, None)
        out[index] = proof
        if not entry_bytes:
            proof.problem = "Záznam v knize chybí."
            continue
        if hashlib.sha256(entry_bytes).hexdigest() != shown_hash:
            proof.problem = "Otisk uložených bajtů nesouhlasí s otiskem kroku."
            continue
        if root is None or size is None or get is None:
            proof.problem = "Není k dispozici ověřený podepsaný checkpoint."
            continue
        if index >= size:
            proof.problem = "Krok zatím není pod podepsaným checkpointem."
            continue
        try:
            path = merkle.inclusion_proof(index, size, get)
            proof.proof = [base64.b64encode(p).decode() for p in path]
            merkle.verify_inclusion(leaf, index, size, path, root)
        except (merkle.ProofError, LookupError) as error:  # a node not stored: no proof
            proof.problem = f"Důkaz zahrnutí neplatí: {error}"
            continue
        proof.verified = True
    return out


@dataclass
class ProcurementView:
    procurement: ProcurementPublic
    buyer: MunicipalityPublic | None
    timeline: Timeline
    flags: list[RedFlag]
    solutions: list[SolutionPublic]
    checkpoint: CheckpointView | None
    proofs: dict[int, StepProof]
    more: list[tuple[str, str]]


PROCUREMENT_SHOWN = {
    "ocid",
    "buyer_code",
    "title",
    "description",
    "subject",
    "procedure",
    "regime",
    "status",
    "estimated_value_excl_vat",
    "currency",
    "cpv",
    "solution_ids",
    "external_ids",
    "step_count",
    "last_entry_hash",
    "started_on",
}


def procurement_page(session: Session, ocid: str, config: RedFlagConfig) -> ProcurementView:
    row = procurement.get_procurement(session, ocid)
    public = procurement.procurement_public(row)
    try:
        buyer: MunicipalityPublic | None = municipality_public(
            catalogue.get_municipality(session, public.buyer_code)
        )
    except AppError:
        buyer = None
    timeline = procurement.timeline(session, row)
    # The flags of this one procurement: the page of one after the previous id, by buyer.
    flags, _ = audit.red_flags_page(
        session,
        config=config,
        buyer_code=public.buyer_code,
        rule=None,
        after_id=(row.id or 1) - 1,
        limit=1,
        as_of=datetime.now(UTC).date(),
    )
    solutions = []
    for solution_id in public.solution_ids:
        try:
            solutions.append(solution_public(catalogue.get_solution(session, solution_id)))
        except AppError:
            continue
    checkpoint = current_checkpoint(session)
    proofs = step_proofs(
        session, [(s.leaf_index, s.entry_hash) for s in timeline.steps], checkpoint
    )
    return ProcurementView(
        procurement=public,
        buyer=buyer,
        timeline=timeline,
        flags=[f for f in flags if f.ocid == public.ocid],
        solutions=solutions,
        checkpoint=checkpoint,
        proofs=proofs,
        more=more_details(public, labels.PROCUREMENT_FIELDS, PROCUREMENT_SHOWN),
    )


# --- audit ------------------------------------------------------------------------------


@dataclass
class AuditView:
    flags: list[RedFlag]
    next_after: int | None  # the procurement id the next page starts after
    checkpoint: CheckpointView | None
    buyers: Mapping[str, str]


RED_FLAG_PAGE = 20


def audit_page(
    session: Session,
    config: RedFlagConfig,
    *,
    buyer: str | None,
    rule: str | None,
    date_from: date | None,
    date_to: date | None,
    after: int,
) -> AuditView:
    flags, last = audit.red_flags_page(
        session,
        config=config,
        buyer_code=buyer,
        rule=rule,
        period=ExportFilters(buyer, None, None, date_from, date_to),
        after_id=after,
        limit=RED_FLAG_PAGE,
        as_of=datetime.now(UTC).date(),
    )
    buyers = {code: town_name(session, code) or code for code in {f.buyer_code for f in flags}}
    return AuditView(
        flags=flags,
        next_after=last,
        checkpoint=current_checkpoint(session),
        buyers=buyers,
    )


def details_text(details: Mapping[str, Any]) -> str:
    """A red flag's details in one Czech line."""
    return "; ".join(
        f"{item.label}: {item.text or show_value(item.rows)}" for item in present_data(details)
    )


# --- step data for people ---------------------------------------------------------------


@dataclass
class DataItem:
    """One value of a step's data, ready to show: text, a link, a table or nested items."""

    label: str
    text: str = ""
    url: str | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    children: list[DataItem] = field(default_factory=list)


def _data_text(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key.startswith("value_change"):
        return formatting.signed_czk(value)
    if key.endswith("_excl_vat") or key.endswith("_czk"):
        return formatting.czk(value)
    if key in ("share", "limit"):
        return formatting.percent(value)
    if key.endswith("_on") or key in ("due", "actual", "due_date", "actual_date"):
        return formatting.date_cs(value)
    if key.endswith("deadline") or key.endswith("_at"):
        return formatting.datetime_cs(value)
    if isinstance(value, str):
        return labels.STEP_VALUES.get(value, value)
    return show_value(value)


def present_data(data: Mapping[str, Any]) -> list[DataItem]:
    """A step's data with Czech labels and formats (money, dates, links, tables)."""
    items = []
    for key, value in data.items():
        name = labels.label(labels.STEP_FIELDS, key)
        if isinstance(value, Mapping):
            items.append(DataItem(name, children=present_data(value)))
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            columns = list(dict.fromkeys(k for v in value for k in v))
            items.append(
                DataItem(
                    name,
                    columns=[labels.label(labels.STEP_FIELDS, c) for c in columns],
                    rows=[[_data_text(c, v.get(c)) for c in columns] for v in value],
                )
            )
        elif key == "url" or (isinstance(value, str) and value.startswith(("http://", "https://"))):
            items.append(DataItem(name, text=str(value), url=str(value)))
        else:
            items.append(DataItem(name, text=_data_text(key, value)))
    return items
