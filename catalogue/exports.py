"""Open-data exports of pilots and solutions: CSV (Excel-friendly options), JSON Lines and
GeoJSON, streamed from the database in batches in constant memory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any, Literal

from sqlalchemy import select
from sqlmodel import Session

from api.csvexport import guard
from catalogue import service
from catalogue.models import Municipality, Pilot, Solution
from catalogue.service import CatalogueSearch

BATCH = 500
Format = Literal["csv", "jsonl", "geojson"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return guard("|".join(str(v) for v in value))
    if isinstance(value, str):
        return guard(value)
    return str(value)


PILOT_COLUMNS = (
    "id",
    "municipality_code",
    "municipality_name",
    "region_nuts3",
    "lat",
    "lon",
    "population",
    "title",
    "summary",
    "areas",
    "status",
    "started_on",
    "ended_on",
    "budget_czk",
    "cost_per_inhabitant",
    "solution_ids",
    "vendor_ids",
    "adoption_users",
    "has_procurement",
    "procurement_ocids",
    "open_source",
    "data_owned_by_municipality",
    "lockin_score",
    "open_data_url",
    "demo",
    "updated_at",
)
SOLUTION_COLUMNS = (
    "id",
    "vendor_id",
    "name",
    "summary",
    "areas",
    "standards",
    "mims",
    "trl",
    "hosting",
    "price_model",
    "open_api_documented",
    "standard_data_model",
    "bulk_export",
    "data_owned_by_municipality",
    "open_source",
    "licence",
    "exit_clause",
    "published_in_nkod",
    "proprietary_hardware",
    "lockin_score",
    "demo",
    "updated_at",
)


def _pilot_flat(pilot: Pilot, town: Municipality) -> dict[str, Any]:
    return {
        "id": pilot.id,
        "municipality_code": pilot.municipality_code,
        "municipality_name": town.name,
        "region_nuts3": town.region_nuts3,
        "lat": town.lat,
        "lon": town.lon,
        "population": town.population,
        "title": pilot.title,
        "summary": pilot.summary,
        "areas": pilot.areas,
        "status": pilot.status,
        "started_on": pilot.started_on,
        "ended_on": pilot.ended_on,
        "budget_czk": pilot.budget_czk,
        "cost_per_inhabitant": service.cost_per_inhabitant(pilot, town.population),
        "solution_ids": pilot.solution_ids,
        "vendor_ids": pilot.vendor_ids,
        "adoption_users": (pilot.adoption or {}).get("users"),
        "has_procurement": pilot.has_procurement,
        "procurement_ocids": pilot.procurement_ocids,
        "open_source": pilot.open_source,
        "data_owned_by_municipality": pilot.data_owned_by_municipality,
        "lockin_score": pilot.lockin_score,
        "open_data_url": pilot.open_data_url,
        "demo": pilot.is_demo,
        "updated_at": pilot.updated_at,
    }


def _solution_flat(solution: Solution) -> dict[str, Any]:
    row = {c: getattr(solution, c, None) for c in SOLUTION_COLUMNS}
    row["demo"] = solution.is_demo
    return row


def _rows(session: Session, kind: str, params: CatalogueSearch) -> Iterator[Any]:
    if kind == "pilots":
        query: Any = service.pilot_export_query(session, params)
    else:
        query = service.solution_export_query(session, params)
    result = session.execute(query.execution_options(yield_per=BATCH))
    yield from result if kind == "pilots" else result.scalars()


def stream(
    open_session: Callable[[], Session],
    kind: Literal["pilots", "solutions"],
    fmt: Format,
    params: CatalogueSearch,
    *,
    bom: bool,
    delimiter: str,
    to_public: Callable[[Any], dict[str, Any]],
) -> Iterator[bytes]:
    """The export as chunks of bytes; the session lives as long as the stream."""
    with open_session() as session:
        rows = _rows(session, kind, params)
        if fmt == "csv":
            columns = PILOT_COLUMNS if kind == "pilots" else SOLUTION_COLUMNS
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
            writer.writerow(columns)
            head = buffer.getvalue()
            yield (("\ufeff" if bom else "") + head).encode()
            for count, row in enumerate(rows, 1):
                buffer.seek(0)
                buffer.truncate()
                flat = _pilot_flat(*row) if kind == "pilots" else _solution_flat(row)
                writer.writerow([_cell(flat[c]) for c in columns])
                yield buffer.getvalue().encode()
                del count
        elif fmt == "jsonl":
            for row in rows:
                yield (json.dumps(to_public(row), ensure_ascii=False) + "\n").encode()
        else:
            yield b'{"type":"FeatureCollection","features":['
            first = True
            for row in rows:
                pilot, town = row
                feature = {
                    "type": "Feature",
                    "id": pilot.id,
                    "geometry": {"type": "Point", "coordinates": [town.lon, town.lat]},
                    "properties": to_public(row),
                }
                yield (("" if first else ",") + json.dumps(feature, ensure_ascii=False)).encode()
                first = False
            yield b"]}"


def media_type(fmt: Format) -> str:
    return {
        "csv": "text/csv; charset=utf-8",
        "jsonl": "application/x-ndjson",
        "geojson": "application/geo+json",
    }[fmt]


__all__ = ["stream", "media_type", "guard", "select"]
