"""Append cost of a procurement step through the service (no HTTP), beside a baseline of
raw single-row commits on the same database, as a ratio.

    python bench/procurement_append.py [--url postgresql+psycopg://...] [--steps 500]

Without --url it uses a temporary SQLite file (WAL, synchronous=FULL). Each append is one
transaction, as in a request: lock the procurement row, check the order, take the ledger
head, write the entry and the step, sign its checkpoint, commit. It also prints the SQL
statements per append.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import TypeAdapter  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from api.auth import Caller, Role  # noqa: E402
from api.db import EngineDatabase, commit, make_engine  # noqa: E402
from api.settings import Settings  # noqa: E402
from procurement import service  # noqa: E402
from procurement.schemas import ProcurementCreate  # noqa: E402
from procurement.steptypes import StepCreate  # noqa: E402

STEP: TypeAdapter[Any] = TypeAdapter(StepCreate)
ADMIN = Caller(key_id="bench0000000", role=Role.admin)


def moment(days_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=None)
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ss-bench-"))
    settings = Settings(data_dir=tmp, database_url=args.url)
    url = settings.effective_database_url
    if url.startswith("postgresql"):
        from tests.conftest import reset_postgres

        reset_postgres(url)
    from tests.conftest import upgrade_with_register

    upgrade_with_register(url)  # procurements name their buyer from the register
    database = EngineDatabase(make_engine(settings))

    # Baseline: raw single-row INSERT + COMMIT on the same database.
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, v TEXT)"))
    started = time.perf_counter()
    for i in range(args.steps):
        with database.session(write=True) as session:
            session.execute(text("INSERT INTO bench_rows (id, v) VALUES (:i, 'x')"), {"i": i})
            session.commit()
    baseline = args.steps / (time.perf_counter() - started)

    with database.session(write=True) as session:
        body = ProcurementCreate(
            buyer_code="554979",
            title="bench",
            subject="supplies",
            procedure="simplified_below_threshold",
            estimated_value_excl_vat="3500000",  # type: ignore[arg-type]
        )
        ocid = service.create_procurement(session, body, ADMIN, ocid_prefix="bnchmk").ocid
        for first in (
            {"type": "procurement_approved", "occurred_at": moment(30),
             "data": {"body": "council", "resolution_id": "1"}},
            {"type": "invitation_sent", "occurred_at": moment(29),
             "data": {"suppliers": [{"ico": "44992785", "name": "A"}],
                      "bid_deadline": moment(5)}},
        ):  # fmt: skip
            service.record_step(session, ocid, STEP.validate_python(first), ADMIN)
        commit(session)

    statements: list[int] = []
    timings: list[float] = []
    started = time.perf_counter()
    for i in range(args.steps):
        body = {
            "type": "clarification_published",
            "occurred_at": moment(1),
            "data": {"summary": f"question {i}"},
        }
        step = STEP.validate_python(body)
        with database.session(write=True) as session:
            count = [0]

            def tick(*_: Any, _count: list[int] = count) -> None:
                _count[0] += 1

            t0 = time.perf_counter()
            connection = session.connection()
            event.listen(connection, "before_cursor_execute", tick)
            service.record_step(session, ocid, step, ADMIN)
            event.remove(connection, "before_cursor_execute", tick)
            commit(session)  # signs the checkpoint the append made due, as a request does
            timings.append(time.perf_counter() - t0)
            statements.append(count[0])
    rate = args.steps / (time.perf_counter() - started)
    engine_name = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"database: {engine_name}, appends: {args.steps}")
    print(f"baseline raw single-row commits: {baseline:,.0f}/s")
    print(f"step appends (service, one transaction each): {rate:,.0f}/s")
    print(f"ratio appends/baseline: {rate / baseline:.2f}")
    print(
        f"per append: median {statistics.median(timings) * 1000:.2f} ms, "
        f"p95 {sorted(timings)[int(len(timings) * 0.95)] * 1000:.2f} ms"
    )
    print(
        f"SQL statements per append (before COMMIT): first {statements[0]}, "
        f"last {statements[-1]}, max {max(statements)}"
    )
    database.engine.dispose()


if __name__ == "__main__":
    main()
