"""The pages: server-rendered Czech HTML for mayors, citizens and auditors.

Thin like every router: read the query, call ``web.service`` (which calls the domain
services the API uses), render a template. Not in the OpenAPI document. A bad value or an
unknown id is a Czech HTML page with the right status, never JSON and never a 500.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.db import SessionDep
from api.errors import AppError
from catalogue.vocabulary import STANDARDS
from procurement.audit.redflags import RULES
from web import formatting, labels, service
from web.forms import SEARCH_LABELS, FormErrors, PilotSearchForm, read_red_flags, read_search

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
STATIC_FILES = {
    "site.css": "text/css; charset=utf-8",
    "site.js": "text/javascript; charset=utf-8",
}

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.filters.update(formatting.FILTERS)
templates.env.globals.update(
    labels=labels,
    label=labels.label,
    plural=formatting.plural,
    show_value=service.show_value,
    present_data=service.present_data,
    details_text=service.details_text,
    procedure_names=service.procedure_names,
    standards={s.slug: s for s in STANDARDS},
    rule_ids=list(RULES),
    search_labels=SEARCH_LABELS,
)

CODE = re.compile(r"^\d{6}$")
TOWN_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")  # "Kněžice (537292)" or "537292"
ID = re.compile(r"^[1-9]\d{0,9}$")


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def _error(
    request: Request, status: int, detail: str, technical: str | None = None
) -> HTMLResponse:
    titles = {
        400: "Chybný požadavek",
        404: "Stránka nenalezena",
        409: "Nelze provést",
        422: "Neplatné zadání",
        429: "Příliš mnoho požadavků",
    }
    return _page(
        request,
        "error.html",
        status_code=status,
        title=titles.get(status, "Chyba"),
        detail=detail,
        technical=technical,
        status=status,
    )


def _app_error(request: Request, error: AppError, what: str) -> HTMLResponse:
    if error.status == 404:
        return _error(request, 404, f"{what} neexistuje.", error.detail)
    return _error(request, error.status, "Požadavek nejde vyřídit.", error.detail)


SEARCH_PROBLEMS = {
    "q": "Hledaný text neobsahuje žádné slovo, podle kterého lze hledat.",
    "sort": "Toto řazení s vybranými filtry nejde použít: řazení podle vzdálenosti potřebuje "
    "obec, v jejímž okolí hledáte, řazení podle podobnosti obec ke srovnání.",
    "near": "Obec, v jejímž okolí hledáte, v registru není.",
    "similar_to": "Obec ke srovnání v registru není.",
    "radius_km": "Okruh jde zadat jen spolu s obcí, v jejímž okolí hledáte.",
    "cursor": "Odkaz na další stránku je neplatný nebo zastaralý; začněte od první stránky.",
}


def _search_problem(error: AppError) -> str:
    """The search service's complaint in Czech, by the parameter it names."""
    for item in error.extra.get("errors", []):
        name = str(item.get("pointer", "")).lstrip("/")
        if name in SEARCH_PROBLEMS:
            return SEARCH_PROBLEMS[name]
    if error.status == 400:
        return SEARCH_PROBLEMS["cursor"]
    return "Hledání nejde provést: " + error.detail


def _id(value: str) -> int | None:
    return int(value) if ID.match(value) and int(value) <= 2**31 - 1 else None


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """The pages' stylesheet and script, served by the app itself (no CDN)."""
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        return Response(status_code=404)
    return FileResponse(
        STATIC / name, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/", response_class=HTMLResponse)
def home_page(request: Request, session: SessionDep) -> HTMLResponse:
    """Home: search, the areas with their counts, the newest pilots."""
    return _page(request, "home.html", view=service.home(session))


@router.get("/pilots", response_class=HTMLResponse)
def pilots_page(request: Request, session: SessionDep) -> Response:
    """Search pilots: the API's filters and facets, paging and a map."""
    form, errors = read_search(request.query_params)
    town = (request.query_params.get("town") or "").strip()[:100]
    choices: list[service.TownChoice] = []
    if town and not errors:
        code = TOWN_CODE.search(town)
        if code:
            return RedirectResponse(
                form.url(near=code.group(1), radius_km=form.radius_km or 20), 303
            )
        choices = service.towns_named(session, town)
        if len(choices) == 1:
            return RedirectResponse(
                form.url(near=choices[0].code, radius_km=form.radius_km or 20), 303
            )
        if not choices:
            errors = FormErrors({"town": f"Obec „{town}“ v registru není."})
    context: dict[str, Any] = {
        "form": form,
        "errors": errors,
        "town": town,
        "choices": choices,
        "near_name": service.town_name(session, form.near),
        "similar_name": service.town_name(session, form.similar_to),
        "municipality_name": service.town_name(session, form.municipality),
        "regions": sorted(service.register(session).region_names.items(), key=lambda r: r[1]),
        "view": None,
    }
    if errors:
        return _page(request, "pilots.html", status_code=422, **context)
    try:
        context["view"] = service.search(session, form.search(service.PILOT_FACETS), form.cursor)
    except AppError as error:
        context["errors"] = FormErrors({"search": _search_problem(error)})
        return _page(request, "pilots.html", status_code=error.status, **context)
    return _page(request, "pilots.html", **context)


@router.get("/pilots/{pilot_id}", response_class=HTMLResponse)
def pilot_page(pilot_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    """One pilot: what was done, by whom, with what, for how much, what was learned."""
    number = _id(pilot_id)
    if number is None:
        return _error(request, 404, f"Projekt „{pilot_id}“ neexistuje.")
    try:
        return _page(request, "pilot.html", view=service.pilot(session, number))
    except AppError as error:
        return _app_error(request, error, f"Projekt č. {number}")


@router.get("/solutions/{solution_id}", response_class=HTMLResponse)
def solution_page(solution_id: str, request: Request, session: SessionDep) -> HTMLResponse:
    """One solution: its lock-in profile, standards, the towns using it, compatible ones."""
    number = _id(solution_id)
    if number is None:
        return _error(request, 404, f"Řešení „{solution_id}“ neexistuje.")
    try:
        return _page(request, "solution.html", view=service.solution(session, number))
    except AppError as error:
        return _app_error(request, error, f"Řešení č. {number}")


@router.get("/municipalities/{code}", response_class=HTMLResponse)
def municipality_page(code: str, request: Request, session: SessionDep) -> HTMLResponse:
    """One municipality: its pilots and procurements (status, deadlines, findings, flags)."""
    if not CODE.match(code):
        return _error(request, 404, f"Obec s kódem „{code}“ neexistuje (kód obce má 6 číslic).")
    after = request.query_params.get("after") or "0"
    if not after.isascii() or not after.isdigit() or len(after) > 10:
        return _error(request, 422, "Odkaz na další stránku zakázek je neplatný.")
    config = service.red_flag_config(request.app.state.settings)
    try:
        view = service.municipality(session, code, int(after), config)
    except AppError as error:
        return _app_error(request, error, f"Obec s kódem {code}")
    return _page(request, "municipality.html", view=view)


@router.get("/procurements/{ocid}", response_class=HTMLResponse)
def procurement_page(ocid: str, request: Request, session: SessionDep) -> HTMLResponse:
    """One procurement: its timeline step by step, each step's ledger entry and proof."""
    if len(ocid) > 100:
        return _error(request, 404, "Zakázka s tímto identifikátorem neexistuje.")
    config = service.red_flag_config(request.app.state.settings)
    try:
        view = service.procurement_page(session, ocid, config)
    except AppError as error:
        return _app_error(request, error, f"Zakázka {ocid}")
    return _page(request, "procurement.html", view=view)


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, session: SessionDep) -> HTMLResponse:
    """Audit: red flags with filters, the signed checkpoint and key, every export."""
    form, errors = read_red_flags(request.query_params)
    config = service.red_flag_config(request.app.state.settings)
    try:
        view = service.audit_page(
            session,
            config,
            buyer=form.buyer,
            rule=form.rule,
            date_from=form.date_from,
            date_to=form.date_to,
            after=form.after,
        )
    except AppError as error:
        return _app_error(request, error, "Stránka varovných signálů")
    return _page(
        request,
        "audit.html",
        status_code=422 if errors else 200,
        view=view,
        form=form,
        errors=errors,
        buyer_name=service.town_name(session, form.buyer),
    )


__all__ = ["PilotSearchForm", "router"]
