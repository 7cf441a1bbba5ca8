"""Catalogue search latency with the full register, 100,000 pilots and 20,000 solutions.

Run by hand (not a test):

    .venv/bin/python bench/catalogue_search.py                       # SQLite (temp file)
    .venv/bin/python bench/catalogue_search.py --database-url postgresql+psycopg://...

For three kinds of search it prints p50/p95/p99 of the API (in-process HTTP through the
whole app) beside the bare full-text query (FTS5 MATCH / tsvector @@, ranked, LIMIT 50)
for the same words, measured in the same run, and the ratio of the two p95s:
  (a) text only, (b) text + two filters + facets, (c) near 20 km + similar_to.
Targets: API p95 <= 50 ms, and within 3x of the raw query's p95.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import create_engine, insert, pool, select, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from api.app import create_app  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.settings import Settings  # noqa: E402
from catalogue import search  # noqa: E402
from catalogue.lockin import lockin_score  # noqa: E402
from catalogue.models import CatalogueTag, Municipality, Pilot, Solution, Vendor  # noqa: E402
from catalogue.registry import BUILTIN_REGISTER, import_register  # noqa: E402
from catalogue.service import pilot_index_tags  # noqa: E402
from catalogue.text import index_tokens  # noqa: E402
from catalogue.vocabulary import MIM_SLUGS, STANDARD_SLUGS, Area, PilotStatus  # noqa: E402

# Domain phrases (each pilot draws two) and filler words that make the index realistic.
PHRASES = [
    "veřejné osvětlení",
    "chytré parkování",
    "sdílená kola",
    "poptávková doprava",
    "kvalita ovzduší",
    "energetický management",
    "nabíjení elektromobilů",
    "odpadové hospodářství",
    "elektronická úřední deska",
    "platby poplatků",
    "otevřená data",
    "digitální mapa",
    "mobilní rozhlas",
    "hlášení závad",
    "chytré měřiče vody",
    "fotovoltaika na střechách",
    "komunitní energetika",
    "senzory hladiny řeky",
    "zavlažování zeleně",
    "wifi na náměstí",
    "rezervace sportovišť",
    "participativní rozpočet",
    "coworking pro podnikatele",
    "turistická aplikace",
    "bezpečnost přechodů",
    "kamerový systém",
    "telemedicína pro seniory",
    "sdílené auto",
    "inteligentní zastávky",
    "zateplení školy",
]
FILLER = (
    "obec město projekt zakázka dodavatel rozpočet občané radnice starosta úspora provoz "
    "údržba data systém aplikace služba škola knihovna náměstí ulice most park les řeka "
    "zkušenost výsledek problém řešení cena smlouva kontrola podpora dotace region kraj"
).split()
AREAS = [a.value for a in Area]
STATUSES = [s.value for s in PilotStatus]
STANDARDS = sorted(STANDARD_SLUGS)
MIMS = sorted(MIM_SLUGS)


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(FILLER) for _ in range(words))


def prepare(url: str, pilots: int, solutions: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    upgrade(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    with Session(engine) as session:
        started = time.perf_counter()
        import_register(session, BUILTIN_REGISTER)
        session.commit()
        print(f"register imported in {time.perf_counter() - started:.1f} s")
        regions = dict(
            session.execute(select(Municipality.code, Municipality.region_nuts3)).tuples().all()  # type: ignore[call-overload]
        )
        codes = list(regions)
        now = datetime.now(UTC)
        started = time.perf_counter()
        vendor_rows = [
            {
                "id": i,
                "ico": f"{i:08d}",
                "name": f"Vendor {i}",
                "country": "CZ",
                "is_demo": False,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(1, 201)
        ]
        session.execute(insert(Vendor), vendor_rows)
        solution_rows, solution_tags, solution_fts, facts = [], [], [], {}
        for i in range(1, solutions + 1):
            phrase = rng.choice(PHRASES)
            row: dict[str, Any] = {
                "id": i,
                "vendor_id": rng.randint(1, 200),
                "name": f"{phrase.capitalize()} {i}",
                "summary": _text(rng, 8),
                "description": _text(rng, 25),
                "areas": rng.sample(AREAS, rng.randint(1, 2)),
                "standards": rng.sample(STANDARDS, rng.randint(0, 4)),
                "mims": rng.sample(MIMS, rng.randint(0, 2)),
                "trl": rng.randint(5, 9),
                "hosting": rng.choice(["cloud", "on_premises", "hybrid"]),
                "price_model": "subscription",
                "is_demo": False,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for flag in (
                "open_api_documented",
                "standard_data_model",
                "bulk_export",
                "data_owned_by_municipality",
                "open_source",
                "exit_clause",
                "published_in_nkod",
                "proprietary_hardware",
            ):
                row[flag] = rng.random() < 0.4
            row["lockin_score"] = lockin_score(argparse.Namespace(**row))  # type: ignore[arg-type]
            facts[i] = row
            solution_rows.append(row)
            solution_tags += [
                {"entity": "solution", "entity_id": i, "kind": k, "value": v}
                for k in ("area", "standard", "mim")
                for v in row[{"area": "areas", "standard": "standards", "mim": "mims"}[k]]
            ]
            solution_fts.append(
                (i, index_tokens(row["name"], row["summary"], row["description"]), ())
            )
        session.execute(insert(Solution), solution_rows)
        session.execute(insert(CatalogueTag), solution_tags)
        search.index_many(session, "solution", solution_fts)
        session.commit()
        for start in range(0, pilots, 10_000):
            pilot_rows, tags, fts = [], [], []
            for i in range(start + 1, min(pilots, start + 10_000) + 1):
                used = rng.sample(range(1, solutions + 1), rng.randint(0, 2))
                title = " a ".join(rng.sample(PHRASES, 2))
                areas = rng.sample(AREAS, rng.randint(1, 2))
                row = {
                    "id": i,
                    "municipality_code": rng.choice(codes),
                    "title": title.capitalize(),
                    "summary": _text(rng, 10),
                    "description": _text(rng, 40),
                    "lessons_learned": _text(rng, 12),
                    "areas": areas,
                    "status": rng.choice(STATUSES),
                    "budget_czk": Decimal(rng.randint(10, 50_000) * 1000),
                    "funding": [],
                    "solution_ids": used,
                    "vendor_ids": sorted({facts[s]["vendor_id"] for s in used}),
                    "kpis": [],
                    "partners": [],
                    "procurement_ocids": [],
                    "has_procurement": rng.random() < 0.3,
                    "open_source": bool(used) and all(facts[s]["open_source"] for s in used),
                    "data_owned_by_municipality": bool(used)
                    and all(facts[s]["data_owned_by_municipality"] for s in used),
                    "lockin_score": max((facts[s]["lockin_score"] for s in used), default=None),
                    "is_demo": False,
                    "version": 1,
                    "created_at": now - timedelta(minutes=i),
                    "updated_at": now,
                }
                pilot_rows.append(row)
                pilot_tags = {("area", a) for a in areas}
                for s in used:
                    pilot_tags |= {("standard", v) for v in facts[s]["standards"]}
                    pilot_tags |= {("mim", v) for v in facts[s]["mims"]}
                    pilot_tags.add(("solution", str(s)))
                    pilot_tags.add(("vendor", str(facts[s]["vendor_id"])))
                tags += [
                    {"entity": "pilot", "entity_id": i, "kind": k, "value": v}
                    for k, v in pilot_tags
                ]
                fts.append(
                    (
                        i,
                        index_tokens(
                            row["title"], row["summary"], row["description"], row["lessons_learned"]
                        ),
                        pilot_index_tags(
                            row["status"],
                            row["municipality_code"],
                            regions[row["municipality_code"]],
                            pilot_tags,
                        ),
                    )
                )
            session.execute(insert(Pilot), pilot_rows)
            session.execute(insert(CatalogueTag), tags)
            search.index_many(session, "pilot", fts)
            session.commit()
        if engine.dialect.name == "postgresql":
            session.execute(
                text("SELECT setval(pg_get_serial_sequence('pilots','id'), :n)"), {"n": pilots}
            )
            session.execute(
                text("SELECT setval(pg_get_serial_sequence('solutions','id'), :n)"),
                {"n": solutions},
            )
            session.execute(text("SELECT setval(pg_get_serial_sequence('vendors','id'), 200)"))
            session.commit()
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        else:
            session.execute(text("ANALYZE"))
            session.execute(text("INSERT INTO pilot_fts(pilot_fts) VALUES ('optimize')"))
            session.execute(text("INSERT INTO solution_fts(solution_fts) VALUES ('optimize')"))
            session.commit()
        elapsed = time.perf_counter() - started
        print(f"{solutions} solutions and {pilots} pilots generated in {elapsed:.1f} s")
    engine.dispose()


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return q[49], q[94], q[98]


def timed(fn: Callable[[dict[str, Any]], None], queries: list[dict[str, Any]]) -> list[float]:
    for params in queries[:5]:
        fn(params)
    out = []
    for params in queries:
        started = time.perf_counter()
        fn(params)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--pilots", type=int, default=100_000)
    parser.add_argument("--solutions", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--skip-prepare", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ss-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    if url.startswith("postgresql") and not args.skip_prepare:
        admin = create_engine(url, poolclass=pool.NullPool)
        with admin.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        admin.dispose()
    if not args.skip_prepare:
        prepare(url, args.pilots, args.solutions)
    settings = Settings(data_dir=workdir, database_url=url, rate_limit_anonymous="10000000/minute")
    app = create_app(settings)
    client = TestClient(app)
    engine = app.state.database.engine
    dialect = engine.dialect.name
    rng = random.Random(11)
    codes = [
        c
        for (c,) in client.app.state.database.engine.connect().execute(
            text("SELECT code FROM municipalities WHERE population BETWEEN 300 AND 20000")
        )
    ]
    words = [
        "verejne osvetleni",
        "zakázky",
        "parkování",
        "kvalita ovzduší",
        "sdílená kola",
        "nabíjení",
        "otevřená data",
        "fotovoltaika",
        "senzory řeky",
        "obec",
    ]

    def case_params(kind: str) -> list[dict[str, Any]]:
        out = []
        for i in range(args.runs):
            params: dict[str, Any] = {"q": words[i % len(words)]}
            if kind == "b":
                params |= {
                    "area": rng.choice(AREAS),
                    "status": rng.choice(STATUSES),
                    "facets": "area,status,standard,region",
                }
            elif kind == "c":
                code = rng.choice(codes)
                params |= {"near": code, "radius_km": 20, "similar_to": code}
            out.append(params)
        return out

    def api_call(params: dict[str, Any]) -> None:
        response = client.get("/v1/pilots", params=params)
        assert response.status_code == 200, response.text

    raw_sql = text(search.raw_match_sql(dialect, "pilot"))
    connection = engine.connect()

    def raw_call(params: dict[str, Any]) -> None:
        prepared = search.prepared_query(dialect, params["q"])
        connection.execute(raw_sql, {"q": prepared}).all()

    cases = {
        "(a) text only": case_params("a"),
        "(b) text + area + status + 4 facets": case_params("b"),
        "(c) text + near 20 km + similar_to": case_params("c"),
    }
    print(
        f"\n{dialect}: {args.pilots} pilots, {args.solutions} solutions, {args.runs} queries "
        "per case (ms; raw = bare ranked full-text query, LIMIT 50, same words)"
    )
    header = ("case", "api p50", "p95", "p99", "raw p50", "p95", "p99", "p95 ratio")
    print("{:38} {:>8} {:>7} {:>7} | {:>8} {:>7} {:>7} | {}".format(*header))
    for name, queries in cases.items():
        a = percentiles(timed(api_call, queries))
        r = percentiles(timed(raw_call, queries))
        figures = (*a, *r, a[1] / r[1])
        print(
            "{:38} {:8.1f} {:7.1f} {:7.1f} | {:8.1f} {:7.1f} {:7.1f} | {:6.1f}x".format(
                name, *figures
            )
        )


if __name__ == "__main__":
    main()
