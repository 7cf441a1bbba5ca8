"""Load: 32 clients for 20 seconds mixing searches, reads and step appends against a real
uvicorn server on PostgreSQL. No 5xx, no acknowledged write lost; latencies are printed,
not asserted (speed is measured in bench/, not in tests)."""

from __future__ import annotations

import os
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from api.auth import Role, issue_key
from api.db import make_engine
from api.settings import Settings
from catalogue.demo import seed_demo
from tests import factories_procurement as f
from tests.conftest import on_postgres, upgrade_with_register
from tests.servers import running_server

CLIENTS = 32
SECONDS = float(os.environ.get("SMARTSTEPS_LOAD_SECONDS", "20"))

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="the load test runs against PostgreSQL, as issue 7 specifies"
)


def _day(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%d")


def small_scale_path() -> list[dict[str, Any]]:
    """The village's small-scale purchase, every step in order, dated in the past."""
    return [
        f.approved(f.at(_day(60))),
        f.invitation(f.at(_day(59)), f.at(_day(50))),
        f.bids(f.at(_day(49))),
        f.selection(f.at(_day(45), 11), price="310000.00"),
        f.contract(f.at(_day(20)), _day(20), value="310000.00"),
        f.published(f.at(_day(19))),
        f.payment(f.at(_day(5)), _day(5), amount="100000.00"),
        f.payment(f.at(_day(4)), _day(4), amount="210000.00"),
    ]


SEARCHES: list[dict[str, Any]] = [
    {"q": "osvetleni"},
    {"q": "chytré parkování", "facets": "area,status"},
    {"near": f.BUYER, "radius_km": 50, "sort": "distance"},
    {"similar_to": "537292", "area": "energy_environment"},
    {"q": "odpady", "region": "CZ020", "limit": 10},
]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    errors: list[str] = field(default_factory=list)
    acknowledged: list[tuple[str, int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, response: httpx.Response) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[response.status_code] += 1
            if response.status_code >= 400:
                self.errors.append(
                    f"{kind} {response.request.url.path}: {response.status_code} "
                    f"{response.text[:200]}"
                )


def _client_loop(
    base_url: str, officer: dict[str, str], tally: Tally, seed: int, stop: float
) -> None:
    """One client: appends to its own procurements, searches the catalogue, reads."""
    rng = random.Random(seed)
    path: list[dict[str, Any]] = []
    ocid: str | None = None
    with httpx.Client(base_url=base_url, timeout=60) as http:

        def timed(kind: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
            started = time.perf_counter()
            response = http.request(method, url, **kwargs)
            tally.record(kind, time.perf_counter() - started, response)
            return response

        while time.monotonic() < stop:
            roll = rng.random()
            if roll < 0.3 or ocid is None:
                if not path:
                    body = f.procurement_body(
                        procedure="small_scale", estimated_value_excl_vat="320000.00"
                    )
                    created = timed(
                        "create", "POST", "/v1/procurements", json=body, headers=officer
                    )
                    if created.status_code != 201:
                        continue
                    ocid, path = created.json()["ocid"], small_scale_path()
                appended = timed(
                    "append",
                    "POST",
                    f"/v1/procurements/{ocid}/steps",
                    json=path.pop(0),
                    headers=officer,
                )
                if appended.status_code == 201:
                    step = appended.json()
                    with tally.lock:
                        tally.acknowledged.append((str(ocid), step["seq"], step["entry_hash"]))
            elif roll < 0.6:
                timed("search", "GET", "/v1/pilots", params=rng.choice(SEARCHES))
            elif roll < 0.8:
                timed("read", "GET", f"/v1/procurements/{ocid}/timeline")
            else:
                timed("read", "GET", "/v1/procurements", params={"buyer_code": f.BUYER})


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def test_32_clients_for_20_seconds_no_5xx_and_no_acknowledged_write_lost(
    fresh_database_url: Callable[[], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_database_url()
    upgrade_with_register(url)
    settings = Settings(data_dir=tmp_path, database_url=url)
    engine = make_engine(settings)
    with Session(engine) as session:
        assert seed_demo(session)
        officer_key = issue_key(session, role=Role.officer, label="load", municipality_code=f.BUYER)
        session.commit()
    engine.dispose()
    officer = {"Authorization": f"Bearer {officer_key.secret}"}
    env = {
        "SMARTSTEPS_DATABASE_URL": url,
        "SMARTSTEPS_DATA_DIR": str(tmp_path),
        "SMARTSTEPS_RATE_LIMIT_PER_KEY": "1000000/second",
        "SMARTSTEPS_RATE_LIMIT_ANONYMOUS": "1000000/second",
        "SMARTSTEPS_RATE_LIMIT_EXPORTS": "1000000/second",
    }
    tally = Tally()
    with running_server(env) as server:
        stop = time.monotonic() + SECONDS
        threads = [
            threading.Thread(target=_client_loop, args=(server.base_url, officer, tally, n, stop))
            for n in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        with capsys.disabled():
            sys.stdout.write(f"\nload: {CLIENTS} clients, {SECONDS:.0f} s\n")
            for kind, values in sorted(tally.latencies.items()):
                sys.stdout.write(
                    f"load {kind:>7}: n={len(values):6d}"
                    f"  p50={statistics.median(values) * 1000:7.1f} ms"
                    f"  p99={_percentile(values, 0.99) * 1000:7.1f} ms\n"
                )

        # No 5xx, and no 4xx either: every request of the mix is valid.
        assert not tally.errors, tally.errors[:10]
        assert len(tally.acknowledged) > CLIENTS
        with httpx.Client(base_url=server.base_url, timeout=60) as http:
            stored: dict[tuple[str, int], str] = {}
            for ocid in {ocid for ocid, _, _ in tally.acknowledged}:
                cursor: str | None = None
                while True:
                    params: dict[str, Any] = {"limit": 200}
                    if cursor:
                        params["cursor"] = cursor
                    page = http.get(f"/v1/procurements/{ocid}/steps", params=params).json()
                    for item in page["items"]:
                        stored[(ocid, item["seq"])] = item["entry_hash"]
                    cursor = page["next_cursor"]
                    if not cursor:
                        break
    lost = [(o, s) for o, s, h in tally.acknowledged if stored.get((o, s)) != h]
    assert not lost, f"acknowledged steps missing or changed: {lost[:10]}"
