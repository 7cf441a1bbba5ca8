"""Latency of the Czech pages beside the JSON a client needs for the same content.

Run by hand (not a test):

    .venv/bin/python bench/pages.py                        # SQLite (temp file)
    .venv/bin/python bench/pages.py --database-url postgresql+psycopg://...

Data: the search bench's generator (bench/catalogue_search.py: the register, 100,000
pilots, 20,000 solutions), plus 100 procurements of 21 steps each (the full open
procedure of tests/factories_audit.py) recorded through the API for 20 towns.

For every page it prints p50/p95 of the page (in-process HTTP through the whole app, HTML
rendered) and, measured in the same run, of the JSON API calls that carry the same content
(e.g. the procurement page = the procurement, its timeline, its red flags, the checkpoint
and one inclusion proof and entry per step), and the ratio of the p95s.
Target: every page p95 <= 100 ms.

Measured December 2026 on 2 shared cores, 100 requests per case, page p50/p95 ms:

  before (e3b01fd)   SQLite: /pilots?area= (no text) 316/415 (json 308/350), every other
                     page p95 <= 60; PostgreSQL: /pilots?area= 239/324, /pilots
                     (everything) 129/171 (json 117/151), / (home) 37/46, others p95 <= 66
  after              SQLite:     home 4.5/5.2, text 41.8/57.2, text+area+status 18.5/39.4,
                                 text+near+similar 19.8/34.7, area no text 64.6/81.7,
                                 everything 8.5/10.0, pilot 16.7/21.2, solution 15.6/20.0,
                                 town 19.9/24.0, procurement 12.6/18.6, audit 16.3/19.3
                     PostgreSQL: home 7.0/10.3, text 56.1/77.8, text+area+status
                                 25.9/35.3, text+near+similar 26.2/36.1, area no text
                                 57.5/69.6, everything 14.6/20.5, pilot 28.7/38.8,
                                 solution 25.8/34.8, town 27.2/35.7, procurement 18.2/22.2,
                                 audit 25.7/29.8
  (tag filters without text counted from the index; the whole catalogue's facets kept per
  catalogue revision, so the first request after a change of the catalogue still pays the
  full count: about 110-160 ms on PostgreSQL, 5-10 ms on SQLite)
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import catalogue_search  # noqa: E402
from catalogue_search import AREAS, STATUSES, percentiles  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, pool, text  # noqa: E402

from api.app import create_app  # noqa: E402
from api.auth import Role, issue_key  # noqa: E402
from api.settings import Settings  # noqa: E402
from catalogue.geo import BAND_IDS  # noqa: E402
from catalogue.service import population_band  # noqa: E402
from tests.factories_audit import happy_path  # noqa: E402

WORDS = [
    "verejne osvetleni",
    "parkování",
    "kvalita ovzduší",
    "sdílená kola",
    "nabíjení",
    "otevřená data",
    "fotovoltaika",
    "senzory řeky",
]


def add_procurements(client: TestClient, headers: dict[str, str], towns: list[str]) -> list[str]:
    """Five full procurements (21 steps each) for each town, through the API."""
    ocids = []
    for town in towns:
        for n in range(5):
            response = client.post(
                "/v1/procurements",
                headers=headers,
                json={
                    "buyer_code": town,
                    "title": f"Zakázka {n + 1} obce {town}",
                    "subject": "supplies",
                    "procedure": "open",
                    "estimated_value_excl_vat": "4500000.00",
                    "cpv": ["34993000-4"],
                },
            )
            assert response.status_code == 201, response.text
            ocid = response.json()["ocid"]
            for entry in happy_path("open", ocid):
                body = {k: entry[k] for k in ("type", "occurred_at", "data", "documents")}
                done = client.post(f"/v1/procurements/{ocid}/steps", json=body, headers=headers)
                assert done.status_code == 201, done.text
            ocids.append(ocid)
    return ocids


def timed(calls: list[Callable[[], None]]) -> list[float]:
    for call in calls[:3]:
        call()
    out = []
    for call in calls:
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data-dir", default=None, help="Keep the data here (for --skip-prepare)")
    parser.add_argument("--pilots", type=int, default=100_000)
    parser.add_argument("--solutions", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--skip-prepare", action="store_true")
    args = parser.parse_args()
    workdir = Path(args.data_dir or tempfile.mkdtemp(prefix="ss-bench-pages-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    if not args.skip_prepare:
        if url.startswith("postgresql"):
            admin = create_engine(url, poolclass=pool.NullPool)
            with admin.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            admin.dispose()
        catalogue_search.prepare(url, args.pilots, args.solutions)
    settings = Settings(
        data_dir=workdir,
        database_url=url,
        rate_limit_anonymous="10000000/minute",
        rate_limit_exports="10000000/minute",
        rate_limit_per_key="10000000/minute",
    )
    app = create_app(settings)
    client = TestClient(app)
    engine = app.state.database.engine
    with engine.connect() as connection:
        towns = [
            code
            for (code,) in connection.execute(
                text(
                    "SELECT municipality_code FROM pilots GROUP BY municipality_code "
                    "ORDER BY count(*) DESC, municipality_code LIMIT 20"
                )
            )
        ]
        existing = [o for (o,) in connection.execute(text("SELECT ocid FROM procurements"))]
    if existing:
        ocids = existing
    else:
        with app.state.database.session(write=True) as session:
            key = issue_key(session, role=Role.admin, label="bench pages")
            session.commit()
        started = time.perf_counter()
        ocids = add_procurements(client, {"Authorization": f"Bearer {key.secret}"}, towns)
        print(f"{len(ocids)} procurements of 21 steps in {time.perf_counter() - started:.1f} s")

    rng = random.Random(5)
    runs = args.runs

    def get(path: str, params: dict[str, Any] | None = None) -> Callable[[], None]:
        def call() -> None:
            response = client.get(path, params=params)
            assert response.status_code == 200, (path, params, response.text[:300])

        return call

    def both(*calls: Callable[[], None]) -> Callable[[], None]:
        def call() -> None:
            for each in calls:
                each()

        return call

    facets = "area,status,standard,mim,region"
    cases: dict[str, tuple[list[Callable[[], None]], list[Callable[[], None]]]] = {}

    cases["/ (home)"] = (
        [get("/")] * runs,
        [get("/v1/pilots", {"sort": "newest", "facets": "area,status", "limit": 6})] * runs,
    )
    text_params = [{"q": WORDS[i % len(WORDS)]} for i in range(runs)]
    cases["/pilots?q= (text)"] = (
        [get("/pilots", p) for p in text_params],
        [get("/v1/pilots", {**p, "facets": facets, "limit": 20}) for p in text_params],
    )
    filtered = [
        {"q": WORDS[i % len(WORDS)], "area": rng.choice(AREAS), "status": rng.choice(STATUSES)}
        for i in range(runs)
    ]
    cases["/pilots?q=&area=&status="] = (
        [get("/pilots", p) for p in filtered],
        [get("/v1/pilots", {**p, "facets": facets, "limit": 20}) for p in filtered],
    )
    with engine.connect() as connection:
        codes = [
            c
            for (c,) in connection.execute(
                text("SELECT code FROM municipalities WHERE population BETWEEN 300 AND 20000")
            )
        ]
        pilot_ids = [i for (i,) in connection.execute(text("SELECT id FROM pilots"))]
        solution_ids = [
            i
            for (i,) in connection.execute(
                text(
                    "SELECT id FROM solutions WHERE id IN (SELECT DISTINCT CAST(value AS INTEGER) "
                    "FROM catalogue_tags WHERE entity = 'pilot' AND kind = 'solution')"
                )
            )
        ]
    near = []
    for _ in range(runs):
        code = rng.choice(codes)
        near.append({"q": rng.choice(WORDS), "near": code, "radius_km": 20, "similar_to": code})
    cases["/pilots?q=&near=&similar_to="] = (
        [get("/pilots", p) for p in near],
        [get("/v1/pilots", {**p, "facets": facets, "limit": 20}) for p in near],
    )
    browse = [{"area": rng.choice(AREAS)} for _ in range(runs)]
    cases["/pilots?area= (no text)"] = (
        [get("/pilots", p) for p in browse],
        [get("/v1/pilots", {**p, "facets": facets, "limit": 20}) for p in browse],
    )
    cases["/pilots (everything)"] = (
        [get("/pilots")] * runs,
        [get("/v1/pilots", {"facets": facets, "limit": 20})] * runs,
    )

    def similar_params(town: dict[str, Any]) -> dict[str, Any]:
        """The pilot page's similar towns: same or adjacent population band, same region."""
        band = BAND_IDS.index(population_band(town["population"]))
        return {
            "population_band": list(BAND_IDS[max(band - 1, 0) : band + 2]),
            "region": town["region_nuts3"],
            "sort": "newest",
            "limit": 11,
        }

    page_calls, json_calls = [], []
    for pilot in rng.sample(pilot_ids, runs):
        data = client.get(f"/v1/pilots/{pilot}").json()
        code = data["municipality_code"]
        page_calls.append(get(f"/pilots/{pilot}"))
        json_calls.append(
            both(
                get(f"/v1/pilots/{pilot}"),
                *(get(f"/v1/solutions/{s}") for s in data["solution_ids"]),
                *(get(f"/v1/vendors/{v}") for v in data["vendor_ids"]),
                get("/v1/pilots", {"near": code, "radius_km": 20, "sort": "distance", "limit": 11}),
                get("/v1/pilots", similar_params(data["municipality"])),
            )
        )
    cases["/pilots/{id}"] = (page_calls, json_calls)

    page_calls, json_calls = [], []
    for solution in rng.sample(solution_ids, runs):
        data = client.get(f"/v1/solutions/{solution}").json()
        page_calls.append(get(f"/solutions/{solution}"))
        json_calls.append(
            both(
                get(f"/v1/solutions/{solution}"),
                get(f"/v1/vendors/{data['vendor_id']}"),
                get("/v1/pilots", {"solution_id": solution, "sort": "newest", "limit": 50}),
                get(f"/v1/solutions/{solution}/compatible", {"limit": 10}),
            )
        )
    cases["/solutions/{id}"] = (page_calls, json_calls)

    page_calls, json_calls = [], []
    for i in range(runs):
        town = towns[i % len(towns)]
        listed = client.get("/v1/procurements", params={"buyer_code": town, "limit": 20}).json()
        page_calls.append(get(f"/municipalities/{town}"))
        json_calls.append(
            both(
                get(f"/v1/municipalities/{town}"),
                get("/v1/pilots", {"municipality": town, "sort": "newest", "limit": 50}),
                get("/v1/procurements", {"buyer_code": town, "limit": 20}),
                *(get(f"/v1/procurements/{p['ocid']}/timeline") for p in listed["items"]),
                get("/v1/red-flags", {"buyer": town, "limit": 20}),
            )
        )
    cases["/municipalities/{code} (5 procurements)"] = (page_calls, json_calls)

    size = int(client.get("/v1/ledger/checkpoint").text.split("\n")[1])
    page_calls, json_calls = [], []
    for i in range(runs):
        ocid = ocids[i % len(ocids)]
        steps = client.get(f"/v1/procurements/{ocid}/timeline").json()["steps"]
        page_calls.append(get(f"/procurements/{ocid}"))
        json_calls.append(
            both(
                get(f"/v1/procurements/{ocid}"),
                get(f"/v1/procurements/{ocid}/timeline"),
                get("/v1/red-flags", {"buyer": ocid.split("-")[2], "limit": 1}),
                get("/v1/ledger/checkpoint"),
                *(
                    get(
                        "/v1/ledger/proofs/inclusion",
                        {"leaf_index": s["leaf_index"], "tree_size": size},
                    )
                    for s in steps
                ),
                *(get("/v1/ledger/entries", {"start": s["leaf_index"], "limit": 1}) for s in steps),
            )
        )
    cases["/procurements/{ocid} (21 steps)"] = (page_calls, json_calls)
    cases["/audit"] = (
        [get("/audit")] * runs,
        [both(get("/v1/red-flags"), get("/v1/ledger/checkpoint"), get("/v1/ledger/public-key"))]
        * runs,
    )

    dialect = engine.dialect.name
    print(
        f"\n{dialect}: {args.pilots} pilots, {args.solutions} solutions, {len(ocids)} "
        f"procurements; {runs} requests per case (ms). json = the API calls that carry the "
        "page's content, in sequence, same run"
    )
    header = ("page", "page p50", "p95", "json p50", "p95", "p95 ratio")
    print("{:42} {:>9} {:>7} | {:>9} {:>7} | {}".format(*header))
    for name, (pages, jsons) in cases.items():
        page = percentiles(timed(pages))
        json = percentiles(timed(jsons))
        ratio = page[1] / json[1]
        figures = f"{page[0]:9.1f} {page[1]:7.1f} | {json[0]:9.1f} {json[1]:7.1f} | {ratio:6.2f}x"
        print(f"{name:42} {figures}")


if __name__ == "__main__":
    main()
