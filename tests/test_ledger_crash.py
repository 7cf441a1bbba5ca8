"""kill -9 of a real server while 8 clients append steps: after a restart every step that got
a 201 is present, the leaf indexes are contiguous and the ledger verifies."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlmodel import Session

from api.auth import Role, issue_key
from api.db import make_engine
from api.settings import Settings
from procurement.ledger.verify import verify_export
from tests.conftest import upgrade_with_register
from tests.factories_procurement import approved, at, invitation, procurement_body, step
from tests.servers import running_server, start_server

CLIENTS = 8
KILL_AFTER = 120  # successful appends before the kill


def _admin_key(url: str, data_dir: Path) -> str:
    engine = make_engine(Settings(database_url=url, data_dir=data_dir))
    with Session(engine) as session:
        issued = issue_key(session, role=Role.admin, label="crash test")
        session.commit()
    engine.dispose()
    return issued.secret


def test_kill_9_while_appending_loses_no_acknowledged_step(
    fresh_database_url: Callable[[], str], tmp_path: Path
) -> None:
    url = fresh_database_url()
    upgrade_with_register(url)
    env = {
        "SMARTSTEPS_DATABASE_URL": url,
        "SMARTSTEPS_DATA_DIR": str(tmp_path),
        "SMARTSTEPS_RATE_LIMIT_PER_KEY": "10000000/minute",
        "SMARTSTEPS_RATE_LIMIT_ANONYMOUS": "10000000/minute",
        "SMARTSTEPS_RATE_LIMIT_EXPORTS": "10000000/minute",
    }
    headers = {"Authorization": f"Bearer {_admin_key(url, tmp_path)}"}
    server = start_server(env)
    acknowledged: list[tuple[str, int, int, str]] = []
    lock = threading.Lock()
    enough = threading.Event()
    try:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as http:
            ocids = []
            for _ in range(CLIENTS):
                created = http.post("/v1/procurements", json=procurement_body())
                assert created.status_code == 201, created.text
                ocid = created.json()["ocid"]
                for body in (
                    approved(at("2026-03-02")),
                    invitation(at("2026-03-03"), at("2026-03-20")),
                ):
                    assert http.post(f"/v1/procurements/{ocid}/steps", json=body).status_code == 201
                ocids.append(ocid)

        def append(ocid: str) -> None:
            body = step("clarification_published", at("2026-03-04"), summary="Odpověď na dotaz")
            with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as http:
                while True:
                    try:
                        response = http.post(f"/v1/procurements/{ocid}/steps", json=body)
                    except httpx.HTTPError:
                        return  # the server is gone
                    if response.status_code == 201:
                        got = response.json()
                        with lock:
                            acknowledged.append(
                                (ocid, got["seq"], got["leaf_index"], got["entry_hash"])
                            )
                            if len(acknowledged) >= KILL_AFTER:
                                enough.set()
                    elif response.status_code != 503:
                        raise AssertionError(response.text)

        threads = [threading.Thread(target=append, args=(o,), daemon=True) for o in ocids]
        for thread in threads:
            thread.start()
        assert enough.wait(timeout=120)
        server.kill()  # SIGKILL mid-flight
        for thread in threads:
            thread.join(timeout=60)
    finally:
        if server.process.poll() is None:
            server.kill()

    assert len(acknowledged) >= KILL_AFTER
    with running_server(env) as restarted:
        with httpx.Client(base_url=restarted.base_url, headers=headers, timeout=60) as http:
            for ocid, seq, leaf_index, entry_hash in acknowledged:
                stored = http.get(f"/v1/procurements/{ocid}/steps/{seq}")
                assert stored.status_code == 200, (ocid, seq)
                assert stored.json()["leaf_index"] == leaf_index
                assert stored.json()["entry_hash"] == entry_hash
            indexes: list[int] = []
            start: int | None = 0
            while start is not None:
                page = http.get("/v1/ledger/entries", params={"start": start, "limit": 1000})
                indexes += [item["leaf_index"] for item in page.json()["items"]]
                start = page.json()["next_start"]
            assert indexes == list(range(len(indexes)))
            assert len(indexes) >= len(acknowledged) + 2 * CLIENTS  # approval and invitation
            report = http.get("/v1/ledger/verify").json()
            assert report["ok"] is True, report
            export = http.get("/v1/exports/ledger", params={"format": "jsonl"})
            key = http.get("/v1/ledger/public-key").json()["verifier_key"]
            offline = verify_export(export.content.splitlines(keepends=True), public_key=key)
            assert offline.entries == len(indexes)
