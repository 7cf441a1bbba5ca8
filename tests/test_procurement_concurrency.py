"""Concurrent appends to one procurement through real uvicorn processes: seq 1..n with no
gap or duplicate, one linear hash chain, contiguous leaf indexes, and every entry hash the
SHA-256 of its stored bytes. Runs on the database under test: PostgreSQL (row locks) and
SQLite (one writer at a time, two processes on one WAL file)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, pool, text
from sqlmodel import Session

from api.auth import Role, issue_key
from tests.conftest import upgrade_with_register
from tests.factories_procurement import BUYER, ago, approved, invitation, procurement_body, step
from tests.servers import Server, running_server

CLIENTS = 16
STEPS_PER_CLIENT = 3


@pytest.fixture
def live_database(fresh_database_url: Callable[[], str]) -> Iterator[tuple[str, str]]:
    """A new, migrated database and an admin key for it."""
    url = fresh_database_url()
    upgrade_with_register(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    with Session(engine) as session:
        issued = issue_key(session, role=Role.admin, label="concurrency test")
        session.commit()
    yield url, issued.secret
    engine.dispose()


def _servers(stack: ExitStack, url: str, data_dir: Path, count: int) -> list[Server]:
    env = {
        "SMARTSTEPS_DATABASE_URL": url,
        "SMARTSTEPS_DATA_DIR": str(data_dir),
        "SMARTSTEPS_RATE_LIMIT_PER_KEY": "100000/minute",
        "SMARTSTEPS_RATE_LIMIT_ANONYMOUS": "100000/minute",
    }
    return [stack.enter_context(running_server(env)) for _ in range(count)]


def _append_concurrently(servers: list[Server], key: str) -> tuple[str, list[int]]:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=servers[0].base_url, headers=headers, timeout=60) as client:
        created = client.post("/v1/procurements", json=procurement_body(buyer_code=BUYER))
        assert created.status_code == 201, created.text
        ocid = created.json()["ocid"]
        for body in (approved(ago(10)), invitation(ago(9), ago(1))):
            assert client.post(f"/v1/procurements/{ocid}/steps", json=body).status_code == 201

    barrier = threading.Barrier(CLIENTS)

    def worker(number: int) -> list[int]:
        server = servers[number % len(servers)]
        seqs = []
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client:
            barrier.wait(timeout=30)
            for i in range(STEPS_PER_CLIENT):
                body = step("clarification_published", ago(1), summary=f"client {number} q {i}")
                response = client.post(
                    f"/v1/procurements/{ocid}/steps",
                    json=body,
                    headers={"Idempotency-Key": f"c{number}-{i}"},
                )
                assert response.status_code == 201, response.text
                seqs.append(response.json()["seq"])
        return seqs

    with ThreadPoolExecutor(max_workers=CLIENTS) as executor:
        results = list(executor.map(worker, range(CLIENTS)))
    return ocid, [seq for seqs in results for seq in seqs]


def _check_chain(url: str, ocid: str, expected_steps: int) -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT s.seq, s.leaf_index, s.prev_hash, s.entry_hash, e.entry_bytes "
                "FROM procurement_steps s JOIN procurements p ON p.id = s.procurement_id "
                "JOIN ledger_entries e ON e.leaf_index = s.leaf_index "
                "WHERE p.ocid = :ocid ORDER BY s.seq"
            ),
            {"ocid": ocid},
        ).all()
        head = connection.execute(
            text("SELECT last_seq, last_entry_hash FROM procurements WHERE ocid = :o"),
            {"o": ocid},
        ).one()
        size = connection.execute(text("SELECT size FROM ledger_head WHERE id = 1")).scalar_one()
    engine.dispose()
    assert [r.seq for r in rows] == list(range(1, expected_steps + 1))
    assert [r.leaf_index for r in rows] == list(range(expected_steps))
    assert size == expected_steps
    previous = None
    for row in rows:
        assert row.prev_hash == previous
        assert hashlib.sha256(bytes(row.entry_bytes)).hexdigest() == row.entry_hash
        previous = row.entry_hash
    assert head.last_seq == expected_steps
    assert head.last_entry_hash == previous


@pytest.mark.slow
@pytest.mark.parametrize("processes", [1, 2])
def test_concurrent_appends_make_one_linear_chain(
    live_database: tuple[str, str], tmp_path: Path, processes: int
) -> None:
    url, key = live_database
    with ExitStack() as stack:
        servers = _servers(stack, url, tmp_path, processes)
        ocid, seqs = _append_concurrently(servers, key)
    total = 2 + CLIENTS * STEPS_PER_CLIENT
    assert sorted(seqs) == list(range(3, total + 1))
    _check_chain(url, ocid, total)


@pytest.mark.slow
def test_refused_step_with_idempotency_key_answers_at_once(
    live_database: tuple[str, str], tmp_path: Path
) -> None:
    """A refused step frees its Idempotency-Key without waiting for the request's own
    write lock (SQLite): a 409, not a 503 after the busy timeout."""
    url, key = live_database
    headers = {"Authorization": f"Bearer {key}"}
    env = {
        "SMARTSTEPS_DATABASE_URL": url,
        "SMARTSTEPS_DATA_DIR": str(tmp_path),
        "SMARTSTEPS_SQLITE_BUSY_TIMEOUT_MS": "3000",
    }
    with (
        running_server(env) as server,
        httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as client,
    ):
        ocid = client.post("/v1/procurements", json=procurement_body()).json()["ocid"]
        assert (
            client.post(f"/v1/procurements/{ocid}/steps", json=approved(ago(3))).status_code == 201
        )
        body = step("contract_signed", ago(1), supplier_ico="44992785", supplier_name="X",
                    value_excl_vat="1.00", signed_on=ago(1)[:10])  # fmt: skip
        refused = client.post(
            f"/v1/procurements/{ocid}/steps", json=body, headers={"Idempotency-Key": "k1"}
        )
        assert refused.status_code == 409, refused.text
        assert refused.json()["missing"] == ["selection_decided"]
        # The key was freed: the same request may be sent again (and is refused again).
        again = client.post(
            f"/v1/procurements/{ocid}/steps", json=body, headers={"Idempotency-Key": "k1"}
        )
        assert again.status_code == 409


@pytest.mark.slow
def test_concurrent_creates_get_distinct_consecutive_ocids(
    live_database: tuple[str, str], tmp_path: Path
) -> None:
    url, key = live_database
    headers = {"Authorization": f"Bearer {key}"}
    with ExitStack() as stack:
        servers = _servers(stack, url, tmp_path, 2)
        barrier = threading.Barrier(CLIENTS)

        def create(number: int) -> str:
            base = servers[number % 2].base_url
            with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                barrier.wait(timeout=30)
                response = client.post("/v1/procurements", json=procurement_body())
                assert response.status_code == 201, response.text
                return str(response.json()["ocid"])

        with ThreadPoolExecutor(max_workers=CLIENTS) as executor:
            ocids = list(executor.map(create, range(CLIENTS)))
    numbers = sorted(int(ocid.rsplit("-", 1)[1]) for ocid in ocids)
    assert numbers == list(range(1, CLIENTS + 1))
