"""Anonymous reads never stall writes (issue 14, item 2).

Queries run in read sessions from a pool of their own, with a time limit; long reads
(exports, the feed, ledger verification) have their own pool and a cap on how many run at
once; a busy pool or a query past its limit is a 503 with Retry-After, never a 500. The
last test loads the bench's catalogue and checks that every append succeeds while 32
anonymous heavy reads run (the latencies are measured in bench/reads_vs_writes.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlmodel import Session

from api.app import create_app
from api.auth import Role, issue_key
from api.db import EngineDatabase, make_engine, session_scope
from api.http import in_blocks
from api.settings import Settings
from catalogue.models import CatalogueTag, Solution, Vendor
from tests import factories_procurement as f
from tests.conftest import MakeKey, TestDatabase, upgrade_with_register
from tests.servers import running_server

LONG_READS = [
    "/v1/exports/pilots?format=csv",
    "/v1/exports/solutions?format=jsonl",
    "/v1/exports/procurements?format=csv",
    "/v1/exports/steps?format=jsonl",
    "/v1/exports/ledger",
    "/v1/feed",
]


class RecordingDatabase(TestDatabase):
    """The test database, noting the kind of every session the app opens."""

    def __init__(self, database: TestDatabase) -> None:
        super().__init__(database.connection)
        self.opened: list[tuple[bool, str]] = []

    def session(self, *, write: bool, pool: str = "main") -> Session:
        self.opened.append((write, pool))
        return super().session(write=write, pool=pool)


@pytest.fixture
def recording(
    settings: Settings, database: TestDatabase
) -> Iterator[tuple[RecordingDatabase, TestClient]]:
    recorder = RecordingDatabase(database)
    with TestClient(create_app(settings, database=recorder)) as client:
        yield recorder, client


def test_compatibility_is_a_query_and_opens_no_write_session(
    recording: tuple[RecordingDatabase, TestClient],
) -> None:
    recorder, client = recording
    response = client.post("/v1/compatibility", json={"standards": ["mqtt", "lorawan"]})
    assert response.status_code == 200, response.text
    assert recorder.opened == [(False, "queries")]


def test_exports_and_the_feed_read_from_the_long_read_pool(
    recording: tuple[RecordingDatabase, TestClient],
) -> None:
    recorder, client = recording
    for path in LONG_READS:
        recorder.opened.clear()
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert (False, "long_reads") in recorder.opened, path
        assert (False, "queries") not in recorder.opened, path
        assert all(not write for write, _ in recorder.opened), path


@pytest.fixture
def one_slot(settings: Settings, database: TestDatabase) -> FastAPI:
    return create_app(settings.model_copy(update={"long_read_slots": 1}), database=database)


def test_a_long_read_beyond_the_slots_is_503_with_retry_after(one_slot: FastAPI) -> None:
    with TestClient(one_slot) as client:
        one_slot.state.long_reads.enter()  # another export is streaming
        try:
            for path in LONG_READS:
                response = client.get(path)
                assert response.status_code == 503, path
                assert response.headers["content-type"] == "application/problem+json"
                assert int(response.headers["retry-after"]) >= 1
                assert "long reads" in response.json()["detail"]
        finally:
            one_slot.state.long_reads.leave()
        # Each answered long read gives its slot back, an error answer too.
        for path in [*LONG_READS, "/v1/exports/steps?format=ocds", *LONG_READS]:
            assert client.get(path).status_code in (200, 404), path


def test_a_long_read_slot_is_not_taken_by_queries(one_slot: FastAPI) -> None:
    with TestClient(one_slot) as client:
        one_slot.state.long_reads.enter()
        try:
            assert client.get("/v1/pilots", params={"q": "osvetleni"}).status_code == 200
            assert client.post("/v1/compatibility", json={"standards": ["mqtt"]}).status_code == 200
        finally:
            one_slot.state.long_reads.leave()


def test_a_read_waits_for_a_query_slot_then_gets_503_and_writes_need_none(
    settings: Settings, database: TestDatabase, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    app = create_app(
        settings.model_copy(update={"query_slots": 1, "pool_timeout_seconds": 0.1}),
        database=database,
    )
    with TestClient(app) as client:
        taken = app.state.query_slots.turn()  # a heavy query holds the one slot
        client.portal.call(taken.__aenter__)
        try:
            response = client.post("/v1/compatibility", json={"standards": ["mqtt"]})
            assert response.status_code == 503
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"] == "1"
            assert "busy with other queries" in response.json()["detail"]
            assert client.get("/v1/pilots").status_code == 503
            created = client.post("/v1/procurements", json=f.procurement_body(), headers=admin)
            assert created.status_code == 201, created.text
        finally:
            client.portal.call(taken.__aexit__, None, None, None)
        assert client.get("/v1/pilots").status_code == 200


# --- real pools on a database of its own ---------------------------------------------------


def _solutions(url: str, tmp_path: Path, count: int) -> None:
    """``count`` solutions sharing common standards (bulk rows, as the bench's generator)."""
    engine = make_engine(Settings(database_url=url, data_dir=tmp_path))
    now = datetime.now(UTC)
    standards = ["mqtt", "lorawan", "ngsi-ld", "openapi", "oauth2", "gtfs"]
    with session_scope(engine, write=True) as session:
        session.execute(
            insert(Vendor),
            [{"id": 1, "ico": "27100014", "name": "Vendor", "country": "CZ", "is_demo": False,
              "version": 1, "created_at": now, "updated_at": now}],
        )  # fmt: skip
        rows, tags = [], []
        for i in range(1, count + 1):
            chosen = [standards[(i + k) % len(standards)] for k in range(3)]
            rows.append(
                {"id": i, "vendor_id": 1, "name": f"Solution {i}", "areas": ["mobility"],
                 "standards": chosen, "mims": [], "is_demo": False, "version": 1,
                 "lockin_score": i % 100, "created_at": now, "updated_at": now,
                 "description": "", "trl": 7, "hosting": "cloud", "price_model": "subscription"}
            )  # fmt: skip
            tags += [
                {"entity": "solution", "entity_id": i, "kind": "standard", "value": v}
                for v in chosen
            ]
        session.execute(insert(Solution), rows)
        session.execute(insert(CatalogueTag), tags)
    engine.dispose()


def _app_on(url: str, tmp_path: Path, **settings: Any) -> FastAPI:
    return create_app(
        Settings(
            database_url=url,
            data_dir=tmp_path,
            rate_limit_anonymous="100000/minute",
            rate_limit_per_key="100000/minute",
            **settings,
        )
    )


def _admin(app: FastAPI) -> dict[str, str]:
    with session_scope(app.state.database, write=True) as session:
        secret = issue_key(session, role=Role.admin, label="test").secret
    return {"Authorization": f"Bearer {secret}"}


def test_a_query_past_its_time_limit_is_503_and_writes_have_none(
    fresh_database_url: Callable[[], str], tmp_path: Path
) -> None:
    url = fresh_database_url()
    upgrade_with_register(url)
    _solutions(url, tmp_path, 20_000)
    # One millisecond: no compatibility ranking of 20,000 solutions is done by then (on
    # SQLite the first progress call, after 100,000 steps of the query, stops it).
    app = _app_on(url, tmp_path, query_time_limit_seconds=0.001)
    admin = _admin(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        stack = {"standards": ["mqtt", "lorawan", "ngsi-ld"], "limit": 100}
        response = client.post("/v1/compatibility", json=stack)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "1"
        problem = response.json()
        assert problem["time_limit_seconds"] == 0.001
        assert "time limit" in problem["detail"]
        # Writes are not limited; the reads of a write request neither.
        created = client.post("/v1/procurements", json=f.procurement_body(), headers=admin)
        assert created.status_code == 201, created.text
    # Without the limit the same query is answered.
    with TestClient(_app_on(url, tmp_path), raise_server_exceptions=False) as client:
        assert client.post("/v1/compatibility", json=stack).status_code == 200


def test_a_busy_pool_is_503_with_retry_after_and_the_other_pool_goes_on(
    fresh_database_url: Callable[[], str], tmp_path: Path
) -> None:
    url = fresh_database_url()
    upgrade_with_register(url)
    app = _app_on(url, tmp_path, database_pool_size=1, query_slots=1, pool_timeout_seconds=0.1)
    admin = _admin(app)
    database: EngineDatabase = app.state.database
    with TestClient(app, raise_server_exceptions=False) as client:
        ocid = f.create_procurement(client, admin)

        def busy(response: Any) -> None:
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["retry-after"] == "1"
            assert "connection is busy" in response.json()["detail"]

        # Slow readers hold every connection of the query pool (1, and 1 in a burst).
        held = [database.query_engine.connect() for _ in range(2)]
        try:
            busy(client.get("/v1/pilots"))
            # Writes have their own pool: the step is recorded.
            step = client.post(
                f"/v1/procurements/{ocid}/steps", json=f.approved(f.ago(3)), headers=admin
            )
            assert step.status_code == 201, step.text
        finally:
            for connection in held:
                connection.close()
        # Every connection of the main pool busy: a write is refused, reads go on.
        held = [database.engine.connect() for _ in range(2)]
        try:
            busy(
                client.post(
                    f"/v1/procurements/{ocid}/steps",
                    json=f.invitation(f.ago(2), f.ago(1)),
                    headers=admin,
                )
            )
            assert client.get("/v1/pilots").status_code == 200
        finally:
            for connection in held:
                connection.close()
        assert client.get("/v1/pilots").status_code == 200
        step = client.post(
            f"/v1/procurements/{ocid}/steps", json=f.invitation(f.ago(2), f.ago(1)), headers=admin
        )
        assert step.status_code == 201, step.text


# --- the bench's data shape, a real server, 32 heavy readers --------------------------------


@pytest.mark.slow
def test_appends_all_succeed_while_32_anonymous_heavy_reads_run(
    fresh_database_url: Callable[[], str], tmp_path: Path
) -> None:
    from bench import catalogue_search
    from bench.reads_vs_writes import open_procurement, phase

    url = fresh_database_url()
    catalogue_search.prepare(url, pilots=10_000, solutions=20_000)
    engine = make_engine(Settings(database_url=url, data_dir=tmp_path))
    with session_scope(engine, write=True) as session:
        secret = issue_key(session, role=Role.admin, label="load").secret
    engine.dispose()
    headers = {"Authorization": f"Bearer {secret}"}
    env = {
        "SMARTSTEPS_DATABASE_URL": url,
        "SMARTSTEPS_DATA_DIR": str(tmp_path),
        "SMARTSTEPS_RATE_LIMIT_PER_KEY": "1000000/second",
        "SMARTSTEPS_RATE_LIMIT_ANONYMOUS": "1000000/second",
        "SMARTSTEPS_RATE_LIMIT_EXPORTS": "1000000/second",
    }
    with running_server(env) as server:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
            ocids = [open_procurement(client) for _ in range(4)]
        tally = phase(server.base_url, headers, ocids, readers=32, seconds=10)
    assert tally.appends, "no append was answered"
    assert not tally.append_failures, tally.append_failures
    answered = {status for _, status in tally.reads}
    assert answered <= {"200", "503"}, tally.reads
    assert "200" in answered, tally.reads


def test_a_streamed_body_goes_out_in_blocks() -> None:
    rows = (f"row {n}\n" for n in range(10))  # 6 bytes each
    assert list(in_blocks(rows, size=20)) == [
        b"row 0\nrow 1\nrow 2\nrow 3\n",
        b"row 4\nrow 5\nrow 6\nrow 7\n",
        b"row 8\nrow 9\n",
    ]
