"""Step appends while anonymous callers run heavy reads, beside the same appends alone.

Run by hand (not a test):

    .venv/bin/python bench/reads_vs_writes.py                          # SQLite (temp file)
    .venv/bin/python bench/reads_vs_writes.py --database-url postgresql+psycopg://...

Loads the catalogue of ``bench/catalogue_search.py`` (the register, 100,000 pilots, 20,000
solutions) into a scratch database and starts one real uvicorn process on it. Then, for
``--seconds`` each:

  (a) baseline: ``--writers`` clients append steps (``POST /v1/procurements/{ocid}/steps``),
      each to its own procurement, one request after another;
  (b) the same appends while ``--readers`` anonymous clients (32 by default) loop over heavy
      reads: ``POST /v1/compatibility`` with a broad stack, a full-text search with facets
      over a very common word, and the CSV export of every pilot.

It prints append p50/p99 of both phases and their ratio (target: p99 under load < 1 s),
and how the heavy reads were answered (200, 503 with Retry-After, anything else).

Measured on 2 cores shared with other jobs (load average in brackets; the appends-alone
baseline of each run is beside it), December 2026, 20 s phases:

  main before issue 14, where POST /v1/compatibility opened a write session and every
  read shared one pool with the writes:
    SQLite      alone p50 52 ms, p99 148 ms; loaded: 4 appends answered in 20 s,
                p50 28.7 s, p99 28.8 s (x556, x194) [load 14.9]; in a first run an
                append waited past the client's 120 s and failed
    PostgreSQL  alone p50 61 ms, p99 208 ms; loaded: 4 appends, p50 21.2 s, p99 23.4 s
                (x348, x113) [load 14.6]; at [load 8]: 12 appends, p50 2.3 s, p99 16.0 s
  with the three pools, 2 query slots, 2 long-read slots, export blocks:
    SQLite      alone p50 52 ms, p99 153 ms; loaded: 276 appends, p50 148 ms, p99 1.46 s
                (x2.8, x9.5) [load 12.3]; at [load 8 to 11]: p99 585, 689, 978 ms and
                1.10 s over four runs (p50 113 to 222 ms)
    PostgreSQL  alone p50 79 ms, p99 338 ms; loaded: 140 appends, p50 430 ms, p99 1.29 s
                (x5.5, x3.8) [load 12.7]; at [load 7]: p50 100 ms, p99 893 ms
  No append failed in any run of the branch; the heavy reads were answered 200 or 503
  with Retry-After (about half of them 503: the slots are full), never 500.
  the same code (main 6a43500 and later) on a quiet machine (load 1.2 to 2.1 before each
  run), three runs each:
    SQLite      alone p50 6.8-8.9 ms, p99 11.9-16.8 ms; loaded: 651-814 appends, p50
                62-83 ms, p99 347, 389, 431 ms (max 451 ms)
    PostgreSQL  alone p50 11.5-12.8 ms, p99 20.4-22.0 ms; loaded: 462-564 appends, p50
                109-136 ms, p99 336, 339, 379 ms (max 437 ms)
  so p99 stays under 1 s while 32 heavy readers run, unless other jobs load the machine
  (the runs above at load 7 to 13). Heavy reads: compatibility and search 200, exports
  mostly 503 with Retry-After (2 long-read slots), none 500.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, pool, text  # noqa: E402

from api.auth import Role, issue_key  # noqa: E402
from api.db import session_scope  # noqa: E402
from bench.catalogue_search import prepare  # noqa: E402
from tests.servers import running_server  # noqa: E402

BUYER = "554979"
BROAD_STACK = {
    "standards": ["mqtt", "lorawan", "ngsi-ld", "ogc-sensorthings", "gtfs", "openapi", "oauth2"],
    "limit": 100,
}
HEAVY_READS: list[tuple[str, str, dict[str, Any]]] = [
    ("compatibility", "POST", {"url": "/v1/compatibility", "json": BROAD_STACK}),
    (
        "search+facets",
        "GET",
        {
            "url": "/v1/pilots",
            "params": {"q": "obec", "facets": "area,status,standard,region", "limit": 200},
        },
    ),
    ("export csv", "GET", {"url": "/v1/exports/pilots", "params": {"format": "csv"}}),
]


def moment(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Tally:
    appends: list[float] = field(default_factory=list)
    append_failures: Counter[str] = field(default_factory=Counter)
    reads: Counter[tuple[str, str]] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)


def open_procurement(client: httpx.Client) -> str:
    created = client.post(
        "/v1/procurements",
        json={
            "buyer_code": BUYER,
            "title": "bench",
            "subject": "supplies",
            "procedure": "simplified_below_threshold",
            "estimated_value_excl_vat": "3500000.00",
        },
    )
    created.raise_for_status()
    ocid: str = created.json()["ocid"]
    for step in (
        {"type": "procurement_approved", "occurred_at": moment(30),
         "data": {"body": "council", "resolution_id": "1"}},
        {"type": "invitation_sent", "occurred_at": moment(29),
         "data": {"suppliers": [{"ico": "44992785", "name": "A"}], "bid_deadline": moment(5)}},
    ):  # fmt: skip
        client.post(f"/v1/procurements/{ocid}/steps", json=step).raise_for_status()
    return ocid


def writer(base_url: str, headers: dict[str, str], ocid: str, tally: Tally, stop: float) -> None:
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        n = 0
        while time.monotonic() < stop:
            n += 1
            started = time.perf_counter()
            try:
                response = client.post(
                    f"/v1/procurements/{ocid}/steps",
                    json={"type": "clarification_published", "occurred_at": moment(1),
                          "data": {"summary": f"question {n}"}},
                )  # fmt: skip
            except httpx.HTTPError as error:  # a timeout: the client gave up after 60 s
                with tally.lock:
                    tally.append_failures[type(error).__name__] += 1
                continue
            elapsed = time.perf_counter() - started
            with tally.lock:
                if response.status_code == 201:
                    tally.appends.append(elapsed)
                else:
                    tally.append_failures[str(response.status_code)] += 1


def reader(base_url: str, tally: Tally, first: int, stop: float) -> None:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        turn = first
        while time.monotonic() < stop:
            name, method, request = HEAVY_READS[turn % len(HEAVY_READS)]
            turn += 1
            try:
                with client.stream(method, **request) as response:
                    for _ in response.iter_bytes():
                        if time.monotonic() > stop:
                            break  # the phase is over: hang up on a long export
                status = str(response.status_code)
                if response.status_code == 503 and "retry-after" not in response.headers:
                    status = "503 without Retry-After"
            except httpx.HTTPError as error:
                status = type(error).__name__
            with tally.lock:
                tally.reads[(name, status)] += 1


def phase(
    base_url: str, headers: dict[str, str], ocids: list[str], readers: int, seconds: float
) -> Tally:
    tally = Tally()
    stop = time.monotonic() + seconds
    threads = [
        threading.Thread(target=reader, args=(base_url, tally, n, stop)) for n in range(readers)
    ]
    threads += [
        threading.Thread(target=writer, args=(base_url, headers, ocid, tally, stop))
        for ocid in ocids
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--pilots", type=int, default=100_000)
    parser.add_argument("--solutions", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--readers", type=int, default=32)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--skip-prepare", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ss-bench-rw-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    engine = create_engine(url, poolclass=pool.NullPool)
    if not args.skip_prepare:
        if url.startswith("postgresql"):
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        prepare(url, args.pilots, args.solutions)
    with session_scope(engine, write=True) as session:
        secret = issue_key(session, role=Role.admin, label="bench").secret
    engine.dispose()
    env = {
        "SMARTSTEPS_DATABASE_URL": url,
        "SMARTSTEPS_DATA_DIR": str(workdir),
        "SMARTSTEPS_RATE_LIMIT_PER_KEY": "1000000/second",
        "SMARTSTEPS_RATE_LIMIT_ANONYMOUS": "1000000/second",
        "SMARTSTEPS_RATE_LIMIT_EXPORTS": "1000000/second",
    }
    headers = {"Authorization": f"Bearer {secret}"}
    with running_server(env) as server:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
            ocids = [open_procurement(client) for _ in range(args.writers)]
        alone = phase(server.base_url, headers, ocids, 0, args.seconds)
        loaded = phase(server.base_url, headers, ocids, args.readers, args.seconds)

    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(
        f"\ndatabase: {dialect}; {args.pilots:,} pilots, {args.solutions:,} solutions; "
        f"{args.writers} appending clients, {args.seconds:.0f} s per phase"
    )
    rows = [("appends alone (baseline)", alone), (f"with {args.readers} heavy readers", loaded)]
    for label, tally in rows:
        if not tally.appends:
            print(f"{label:>28}: no append succeeded; failures {dict(tally.append_failures)}")
            continue
        print(
            f"{label:>28}: n={len(tally.appends):5d}"
            f"  p50={statistics.median(tally.appends) * 1000:8.1f} ms"
            f"  p99={percentile(tally.appends, 0.99) * 1000:8.1f} ms"
            f"  max={max(tally.appends) * 1000:8.1f} ms"
            f"  failed={sum(tally.append_failures.values())} {dict(tally.append_failures)}"
        )
    if alone.appends and loaded.appends:
        p50 = statistics.median(loaded.appends) / statistics.median(alone.appends)
        p99 = percentile(loaded.appends, 0.99) / percentile(alone.appends, 0.99)
        print(f"{'ratio loaded/alone':>28}: p50 x{p50:.1f}  p99 x{p99:.1f}")
    print("heavy reads answered:")
    for (name, status), count in sorted(loaded.reads.items()):
        print(f"  {name:>14} {status:>24}: {count}")


if __name__ == "__main__":
    main()
