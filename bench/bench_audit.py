"""Benchmark of the auditor exports on PostgreSQL (prints figures, asserts nothing).

1. Export rate (rows/s) and peak RSS of 1,000,000 steps as JSON Lines and as CSV
   (``procurement.audit.service.stream_steps_*``, server-side cursor), beside
   ``COPY (SELECT ...) TO STDOUT`` of the same SELECT in the same run.
   Targets: >= 30 % of COPY's rate, peak RSS <= 200 MB.
2. OCDS record packages (compiled release, linked releases) for 10,000 procurements
   (``stream_procurements_ocds``, releases built from the database) beside
   ``ocdskit compile --package --linked-releases --schema <local schema>`` reading the same
   releases from a file. Target: faster than ocdskit.

Steps CSV, 1,000,000 steps, December 2026 (2 shared cores, best of 2, rows/s, export and
COPY of the same SELECT):
  e3b01fd (data, documents; entry parsed once a member)        63,077  (COPY 123,313, 51 %)
  + imported_from, parsed once a member (3 parses a row)       56,430  (COPY  94,414, 60 %)
  + imported_from, parsed once a row (LATERAL ... OFFSET 0)    69,906  (COPY 118,945, 59 %)

Usage (needs ``pip install -e '.[bench]'`` for ocdskit):

    SMARTSTEPS_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/bench_audit.py [--steps 1000000] [--procurements-ocds 10000]

It creates (and drops first) the database ``smartsteps_bench_audit`` on that server and
seeds it with bulk SQL (generate_series), not through the API. Each export runs in a child
process of its own so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCHEMA = ROOT / "tests" / "data" / "ocds-1.1.5" / "release-schema.json"
BENCH_DB = "smartsteps_bench_audit"
STEPS_PER_PROCUREMENT = 20
OCDS_BUYER = "554782"

# A realistic trail of 20 steps (seq -> type, data), repeated for every procurement.
TRAIL: list[tuple[str, str]] = [
    ("procurement_approved", '{"body":"council","resolution_id":"ZO/12/2026"}'),
    (
        "notice_published",
        '{"channel":"vvz","notice_id":"Z2026-000123","url":"https://vvz.example.cz/Z2026-000123",'
        '"bid_deadline":"2026-03-01T10:00:00Z"}',
    ),
    ("tender_documents_published", '{"url":"https://profil.example.cz/vz/1/zd"}'),
    ("clarification_published", '{"summary":"Odpověď na dotaz č. 1 k technické specifikaci"}'),
    ("clarification_published", '{"summary":"Odpověď na dotaz č. 2 k obchodním podmínkám"}'),
    (
        "bid_deadline_extended",
        '{"new_bid_deadline":"2026-03-08T10:00:00Z","reason":"změna zadávací dokumentace"}',
    ),
    (
        "bids_opened",
        '{"bids":[{"ico":"25596641","name":"Chytrá města s.r.o.","price_excl_vat":"3900000.00"},'
        '{"ico":"27082440","name":"Alza.cz a.s.","price_excl_vat":"4100000.50"},'
        '{"ico":"45274649","name":"ČEZ, a. s.","price_excl_vat":"4700000.00"}]}',
    ),
    ("evaluation_completed", '{"excluded":[{"ico":"45274649","reason":"kvalifikace"}]}'),
    (
        "selection_decided",
        '{"winner_ico":"25596641","winner_name":"Chytrá města s.r.o.",'
        '"price_excl_vat":"3900000.00"}',
    ),
    (
        "contract_signed",
        '{"supplier_ico":"25596641","supplier_name":"Chytrá města s.r.o.",'
        '"value_excl_vat":"3900000.00","signed_on":"2026-04-10"}',
    ),
    (
        "contract_published",
        '{"register":"contract_register","id":"12345678",'
        '"url":"https://smlouvy.example.cz/smlouva/12345678"}',
    ),
    (
        "result_notice_published",
        '{"channel":"vvz","notice_id":"Z2026-000456","url":"https://vvz.example.cz/Z2026-000456"}',
    ),
    ("report_published", '{"url":"https://profil.example.cz/vz/1/zprava"}'),
    ("contract_amended", '{"value_change_excl_vat":"150000.00","reason":"víceprace"}'),
    ("payment_made", '{"amount_excl_vat":"1000000.00","paid_on":"2026-06-01"}'),
    ("payment_made", '{"amount_excl_vat":"1000000.00","paid_on":"2026-07-01"}'),
    ("payment_made", '{"amount_excl_vat":"1000000.00","paid_on":"2026-08-01"}'),
    ("payment_made", '{"amount_excl_vat":"1050000.00","paid_on":"2026-09-01"}'),
    ("completed", "{}"),
    (
        "price_paid_published",
        '{"url":"https://profil.example.cz/vz/1/cena","amount_excl_vat":"4050000.00"}',
    ),
]
assert len(TRAIL) == STEPS_PER_PROCUREMENT


def _admin_url(url: str) -> str:
    return make_url(url).set(database="postgres").render_as_string(hide_password=False)


def _bench_url(url: str) -> str:
    return make_url(url).set(database=BENCH_DB).render_as_string(hide_password=False)


def seed(url: str, procurements: int, ocds_procurements: int) -> str:
    """Drop, create, migrate and fill the bench database; returns its URL."""
    admin = create_engine(_admin_url(url), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{BENCH_DB}"'))
    admin.dispose()
    bench_url = _bench_url(url)
    from api.migrate import upgrade

    upgrade(bench_url)
    values = ",".join(
        f"({seq}, '{kind}', '{data.replace(chr(39), chr(39) * 2)}')"
        for seq, (kind, data) in enumerate(TRAIL, start=1)
    )
    n = STEPS_PER_PROCUREMENT
    engine = create_engine(bench_url, poolclass=pool.NullPool)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            text(
                """
                INSERT INTO procurements (id, ocid, buyer_code, ocid_year, ocid_number, title,
                    description, subject, procedure, regime, estimated_value_excl_vat,
                    currency, cpv_codes, solution_ids, external_ids, created_at, status,
                    last_seq, last_entry_hash)
                SELECT g, 'ocds-smstps-' || b.code || '-2026-' || g, b.code, 2026, g,
                    'Chytré veřejné osvětlení ' || g,
                    'Výměna svítidel za LED s dálkovým řízením, etapa ' || g,
                    'supplies', 'open', 'below_threshold', 4500000 + (g % 1000) * 100,
                    'CZK', '["34993000-4","31527260-6"]', '[]', '{}',
                    timestamp '2026-01-01' + (g % 200) * interval '1 hour', 'completed',
                    :n, NULL
                FROM generate_series(1, :count) g,
                LATERAL (SELECT CASE WHEN g <= :ocds THEN :buyer
                         ELSE lpad((500000 + g % 6000)::text, 6, '0') END AS code) b
                """
            ),
            {"count": procurements, "n": n, "ocds": ocds_procurements, "buyer": OCDS_BUYER},
        )
        connection.execute(
            text(
                f"""
                INSERT INTO ledger_entries (leaf_index, entry_bytes, leaf_hash)
                SELECT x.leaf, x.bytes, sha256('\\x00'::bytea || x.bytes)
                FROM (
                    SELECT (g - 1) * {n} + t.seq - 1 AS leaf,
                        convert_to(json_build_object(
                            'v', 1,
                            'ocid', 'ocds-smstps-' || p.buyer_code || '-2026-' || g,
                            'seq', t.seq,
                            'leaf_index', (g - 1) * {n} + t.seq - 1,
                            'prev_hash', NULL,
                            'type', t.kind,
                            'occurred_at', to_char(timestamp '2026-01-02' +
                                t.seq * interval '5 day', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                            'recorded_at', to_char(timestamp '2026-01-02' +
                                t.seq * interval '5 day' + interval '1 hour',
                                'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                            'actor', 'bench0000000',
                            'data', t.data::json,
                            'documents', '[]'::json,
                            'findings', '[]'::json)::text, 'UTF8') AS bytes
                    FROM generate_series(1, :count) g
                    JOIN procurements p ON p.id = g
                    CROSS JOIN (VALUES {values}) AS t(seq, kind, data)
                ) x
                """
            ),
            {"count": procurements},
        )
        connection.execute(
            text(
                f"""
                INSERT INTO procurement_steps (procurement_id, seq, leaf_index, type,
                    occurred_at, recorded_at, actor_key_id, entry_hash, prev_hash, findings)
                SELECT e.leaf_index / {n} + 1, e.leaf_index % {n} + 1, e.leaf_index, t.kind,
                    timestamp '2026-01-02' + (e.leaf_index % {n} + 1) * interval '5 day',
                    timestamp '2026-01-02' + (e.leaf_index % {n} + 1) * interval '5 day'
                        + interval '1 hour',
                    'bench0000000', encode(sha256(e.entry_bytes), 'hex'), NULL, '[]'
                FROM ledger_entries e
                JOIN (VALUES {values}) AS t(seq, kind, data) ON t.seq = e.leaf_index % {n} + 1
                """
            )
        )
        connection.execute(text("UPDATE ledger_head SET size = :size"), {"size": procurements * n})
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(
        f"seeded {procurements:,} procurements, {procurements * n:,} steps "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return bench_url


# -- child processes ----------------------------------------------------------------------


def child(kind: str, url: str, extra: str) -> dict[str, Any]:
    """One measured run inside this (fresh) process."""
    from sqlmodel import Session

    from api.db import make_engine
    from api.settings import Settings
    from procurement.audit import ocds, service
    from procurement.audit.schemas import ExportFilters

    engine = make_engine(Settings(database_url=url))
    filters = ExportFilters(buyer_code=extra or None)
    rows = 0
    size = 0
    started = time.perf_counter()
    if kind.startswith("copy-"):
        fmt = kind.removeprefix("copy-")
        query = service.steps_query("postgresql", filters, csv=fmt == "csv")
        sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        options = "(FORMAT csv, HEADER true)" if fmt == "csv" else ""
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            with cursor.copy(f"COPY ({sql}) TO STDOUT {options}") as copy:  # type: ignore[attr-defined]
                for block in copy:
                    size += len(block)
                    rows += bytes(block).count(b"\n")
        finally:
            raw.close()
        if fmt == "csv":
            rows -= 1
    else:
        with Session(engine) as session:
            if kind == "jsonl":
                chunks: Any = service.stream_steps_jsonl(session, filters)
            elif kind == "csv":
                chunks = service.stream_steps_csv(session, filters, delimiter="comma", bom=False)
            elif kind == "ocds":
                chunks = service.stream_procurements_ocds(
                    session,
                    filters,
                    base_url="https://bench.example",
                    publication=ocds.Publication(publisher="bench"),
                )
            elif kind == "releases":
                # the input of ocdskit: one release package per procurement per line
                chunks = _release_packages(session, filters, Path(sys.argv[-1]))
            else:
                raise SystemExit(f"unknown kind {kind}")
            for chunk in chunks:
                data = chunk.encode() if isinstance(chunk, str) else chunk
                size += len(data)
                rows += data.count(b"\n")
        if kind == "csv":
            rows -= 1
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "kind": kind,
        "rows": rows,
        "bytes": size,
        "seconds": seconds,
        "peak_mb": peak_kb / 1024,
    }


def _release_packages(session: Any, filters: Any, target: Path) -> Any:
    from procurement.audit import ocds, service

    with target.open("w") as out:
        for header, entries in service._trails(session, filters, dates=True):
            releases = ocds.build_releases(header, entries)
            package = ocds.release_package(releases, uri=f"https://bench.example/{header.ocid}")
            out.write(json.dumps(package, ensure_ascii=False) + "\n")
            yield "\n"


def measure(kind: str, url: str, extra: str = "", *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--url", url, "--extra", extra, *args],
        check=True,
        capture_output=True,
        text=True,
    )
    measured: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def report(name: str, result: dict[str, Any], baseline: dict[str, Any] | None = None) -> None:
    rate = result["rows"] / result["seconds"]
    line = (
        f"{name:<34} {result['rows']:>10,} rows {result['seconds']:>8.2f} s "
        f"{rate:>11,.0f} rows/s  peak RSS {result['peak_mb']:>6.0f} MB"
    )
    if baseline:
        line += f"  ({rate / (baseline['rows'] / baseline['seconds']):.0%} of COPY)"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--procurements-ocds", type=int, default=10_000)
    parser.add_argument("--child")
    parser.add_argument("--url")
    parser.add_argument("--extra", default="")
    parser.add_argument("--no-seed", action="store_true", help="Reuse the seeded database.")
    parser.add_argument("--runs", type=int, default=3, help="Runs of each export (best kept).")
    parser.add_argument("rest", nargs="*")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.url, args.extra)))
        return
    url = os.environ.get(
        "SMARTSTEPS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    procurements = args.steps // STEPS_PER_PROCUREMENT
    bench_url = _bench_url(url) if args.no_seed else seed(url, procurements, args.procurements_ocds)

    print(
        f"\n1. {procurements * STEPS_PER_PROCUREMENT:,} steps on PostgreSQL "
        f"(best of {args.runs}, COPY and export alternating)"
    )
    for label, kind in (("JSON Lines", "jsonl"), ("CSV", "csv")):
        copies, exports = [], []
        for _ in range(args.runs):
            copies.append(measure(f"copy-{kind}", bench_url))
            exports.append(measure(kind, bench_url))
        best_copy = min(copies, key=lambda r: r["seconds"])
        best = min(exports, key=lambda r: r["seconds"])
        best["peak_mb"] = max(r["peak_mb"] for r in exports)
        report(f"COPY (SELECT ...) [{label} query]", best_copy)
        report(f"export steps {label}", best, best_copy)

    print(f"\n2. OCDS record packages for {args.procurements_ocds:,} procurements")
    ours = min(
        (measure("ocds", bench_url, OCDS_BUYER) for _ in range(args.runs)),
        key=lambda r: r["seconds"],
    )
    print(
        f"{'smartsteps (from the database)':<34} {ours['rows'] - 2:>10,} records "
        f"{ours['seconds']:>8.2f} s  peak RSS {ours['peak_mb']:.0f} MB"
    )
    if shutil.which("ocdskit") is None and not (Path(sys.executable).parent / "ocdskit").exists():
        print("ocdskit is not installed (pip install -e '.[bench]'): no baseline")
        return
    with tempfile.TemporaryDirectory() as folder:
        releases = Path(folder) / "releases.jsonl"
        measure("releases", bench_url, OCDS_BUYER, str(releases))
        ocdskit = str(Path(sys.executable).parent / "ocdskit")
        started = time.perf_counter()
        with releases.open("rb") as stdin:
            done = subprocess.run(
                [ocdskit, "compile", "--package", "--linked-releases", "--schema", str(SCHEMA)],
                stdin=stdin,
                stdout=subprocess.PIPE,
                check=True,
            )
        seconds = time.perf_counter() - started
        compiled = json.loads(done.stdout.splitlines()[0]) if done.stdout else {}
        count = len(compiled.get("records", []))
    print(f"{'ocdskit compile (from a file)':<34} {count:>10,} records {seconds:>8.2f} s")
    print(
        f"smartsteps / ocdskit time: {ours['seconds'] / seconds:.2f} "
        f"({seconds / ours['seconds']:.1f}x faster)"
    )


if __name__ == "__main__":
    main()
