"""Step appends over HTTP through one real uvicorn process, beside a baseline of
``GET /health`` on the same server, as a ratio (one client, sequential requests).

    python bench/procurement_append_http.py [--url postgresql+psycopg://...] [--steps 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from sqlmodel import Session  # noqa: E402

from api.auth import Role, issue_key  # noqa: E402
from api.db import make_engine  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.settings import Settings  # noqa: E402
from tests.servers import running_server  # noqa: E402


def moment(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def timed(client: httpx.Client, count: int, send: object) -> list[float]:
    timings = []
    for i in range(count):
        t0 = time.perf_counter()
        response = send(client, i)  # type: ignore[operator]
        timings.append(time.perf_counter() - t0)
        assert response.status_code in (200, 201), response.text
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=None)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ss-bench-http-"))
    settings = Settings(data_dir=tmp, database_url=args.url)
    url = settings.effective_database_url
    if url.startswith("postgresql"):
        from tests.conftest import reset_postgres

        reset_postgres(url)
    upgrade(url)
    engine = make_engine(settings)
    with Session(engine) as session:
        secret = issue_key(session, role=Role.admin, label="bench").secret
        session.commit()
    engine.dispose()
    env = {
        "SMARTSTEPS_DATABASE_URL": url,
        "SMARTSTEPS_DATA_DIR": str(tmp),
        "SMARTSTEPS_RATE_LIMIT_PER_KEY": "1000000/minute",
        "SMARTSTEPS_RATE_LIMIT_ANONYMOUS": "1000000/minute",
    }
    headers = {"Authorization": f"Bearer {secret}"}
    with (
        running_server(env) as server,
        httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client,
    ):
        created = client.post(
            "/v1/procurements",
            json={
                "buyer_code": "554979",
                "title": "bench",
                "subject": "supplies",
                "procedure": "simplified_below_threshold",
                "estimated_value_excl_vat": "3500000.00",
            },
        )
        ocid = created.json()["ocid"]
        client.post(
            f"/v1/procurements/{ocid}/steps",
            json={"type": "procurement_approved", "occurred_at": moment(30),
                  "data": {"body": "council", "resolution_id": "1"}},
        )  # fmt: skip
        client.post(
            f"/v1/procurements/{ocid}/steps",
            json={"type": "invitation_sent", "occurred_at": moment(29),
                  "data": {"suppliers": [{"ico": "44992785", "name": "A"}],
                           "bid_deadline": moment(5)}},
        )  # fmt: skip
        health = timed(client, args.steps, lambda c, _i: c.get("/health"))
        appends = timed(
            client,
            args.steps,
            lambda c, i: c.post(
                f"/v1/procurements/{ocid}/steps",
                json={
                    "type": "clarification_published",
                    "occurred_at": moment(1),
                    "data": {"summary": f"question {i}"},
                },
            ),  # fmt: skip
        )
    engine_name = "postgresql" if url.startswith("postgresql") else "sqlite"
    h, a = statistics.median(health), statistics.median(appends)
    print(f"database: {engine_name}, requests: {args.steps} each, one client")
    print(f"baseline GET /health: median {h * 1000:.2f} ms ({1 / h:,.0f}/s)")
    print(f"POST step: median {a * 1000:.2f} ms ({1 / a:,.0f}/s), "
          f"p95 {sorted(appends)[int(len(appends) * 0.95)] * 1000:.2f} ms")  # fmt: skip
    print(f"ratio append/health latency: {a / h:.1f}")


if __name__ == "__main__":
    main()
