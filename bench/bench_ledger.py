"""Ledger benchmark: prints figures beside baselines measured in the same run, as ratios.

    .venv/bin/python bench/bench_ledger.py [--leaves 1000000] [--pg-url URL] [--skip-http]
        [--skip-proofs]

(``--skip-http --skip-proofs`` measures only the export and its verification.)

1. HTTP appends/s (16 clients, real uvicorn, one worker) on SQLite and PostgreSQL, beside
   (a) a bare FastAPI POST endpoint served with the same settings, the two taking turns
   ``--repeats`` times (medians compared), and (b) raw single-row INSERT + COMMIT into the
   same database.
2. Verify rate of an export of ``--leaves`` entries (made by the real export code from a
   database of that size) beside raw hashlib.sha256 over the same lines (measured before and
   after the verifier runs; the load average is printed, and the ratio of CPU times, which
   other work on a shared machine disturbs less); peak RSS of ``smartsteps verify``. Also
   the rate for an export with a checkpoint after every entry.
3. Inclusion proof latency at ``--leaves`` leaves: the service call and GET over HTTP.

PostgreSQL parts need --pg-url (a server where this user may CREATE DATABASE); the
databases made here are dropped afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, pool, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from api.auth import Role, issue_key  # noqa: E402
from api.db import make_engine  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.settings import Settings  # noqa: E402
from procurement.ledger import merkle, service  # noqa: E402
from procurement.ledger.export import export_lines  # noqa: E402
from procurement.ledger.verify import entry_line  # noqa: E402
from tests.servers import free_port, start_server  # noqa: E402

CLIENTS = 16
OCIDS = 5000
HIGH_LIMITS = {
    "SMARTSTEPS_RATE_LIMIT_PER_KEY": "100000000/minute",
    "SMARTSTEPS_RATE_LIMIT_ANONYMOUS": "100000000/minute",
    "SMARTSTEPS_RATE_LIMIT_EXPORTS": "100000000/minute",
}


# --- databases ---------------------------------------------------------------------------


class Databases:
    def __init__(self, tmp: Path, pg_url: str | None) -> None:
        self.tmp = tmp
        self.pg_url = pg_url
        self.created: list[str] = []

    def sqlite(self, name: str) -> str:
        return f"sqlite:///{self.tmp / name}.sqlite3"

    def postgres(self) -> str:
        assert self.pg_url
        name = f"ss_ledger_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(self.pg_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return make_url(self.pg_url).set(database=name).render_as_string(hide_password=False)

    def drop(self) -> None:
        if not self.created:
            return
        assert self.pg_url
        admin = create_engine(self.pg_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- 1. HTTP appends -----------------------------------------------------------------------

BARE_APP = """
from typing import Any
from fastapi import FastAPI
app = FastAPI()

@app.post("/echo", status_code=201)
def echo(body: dict[str, Any]) -> dict[str, Any]:
    return body
"""


def _start_bare(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    (tmp / "bare_app.py").write_text(BARE_APP)
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bare_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "info",
            "--no-access-log",
        ],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    for raw in process.stderr:
        if b"Uvicorn running on" in raw:
            break
    threading.Thread(target=lambda: [None for _ in process.stderr or []], daemon=True).start()
    return process, f"http://127.0.0.1:{port}"


def _hammer(
    base_url: str,
    paths: list[str],
    body: dict[str, object],
    headers: dict[str, str],
    per_client: int,
) -> float:
    """16 clients, each posting ``per_client`` times to its path; returns requests/s."""
    errors: list[str] = []
    start_gate = threading.Barrier(len(paths) + 1)

    def client(path: str) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=60) as http:
            start_gate.wait()
            for _ in range(per_client):
                response = http.post(path, json=body)
                if response.status_code != 201:
                    errors.append(response.text[:200])
                    return

    threads = [threading.Thread(target=client, args=(p,)) for p in paths]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return len(paths) * per_client / elapsed


def _raw_commits(url: str, count: int) -> float:
    engine = make_engine(Settings(database_url=url, data_dir=Path(tempfile.gettempdir())))
    with engine.connect() as connection:
        connection.execute(text("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, payload TEXT)"))
        connection.commit()
        payload = "x" * 300
        began = time.perf_counter()
        for i in range(count):
            connection.execute(
                text("INSERT INTO bench_raw (id, payload) VALUES (:i, :p)"), {"i": i, "p": payload}
            )
            connection.commit()
        elapsed = time.perf_counter() - began
    engine.dispose()
    return count / elapsed


def bench_http(label: str, url: str, tmp: Path, per_client: int, repeats: int) -> None:
    from tests.conftest import upgrade_with_register

    upgrade_with_register(url)  # procurements name their buyer from the register
    data_dir = tmp / f"data-{label}"
    data_dir.mkdir()
    engine = make_engine(Settings(database_url=url, data_dir=data_dir))
    with Session(engine) as session:
        secret = issue_key(session, role=Role.admin, label="bench").secret
        session.commit()
    engine.dispose()
    headers = {"Authorization": f"Bearer {secret}"}
    env = {"SMARTSTEPS_DATABASE_URL": url, "SMARTSTEPS_DATA_DIR": str(data_dir), **HIGH_LIMITS}
    server = start_server(env)
    try:
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=60) as http:
            paths = []
            for _ in range(CLIENTS):
                created = http.post(
                    "/v1/procurements",
                    json={
                        "buyer_code": "554979",
                        "title": "Chytré veřejné osvětlení",
                        "description": "LED lamps with remote dimming",
                        "subject": "supplies",
                        "procedure": "simplified_below_threshold",
                        "estimated_value_excl_vat": "3500000.00",
                        "cpv": ["34993000-4"],
                    },
                )
                assert created.status_code == 201, created.text
                ocid = created.json()["ocid"]
                for body in (
                    {
                        "type": "procurement_approved",
                        "occurred_at": "2026-03-02T10:00:00Z",
                        "data": {"body": "council", "resolution_id": "ZO/1/2026"},
                    },
                    {
                        "type": "invitation_sent",
                        "occurred_at": "2026-03-03T10:00:00Z",
                        "data": {
                            "suppliers": [
                                {"ico": "00064581", "name": "A"},
                                {"ico": "44992785", "name": "B"},
                                {"ico": "00845451", "name": "C"},
                            ],
                            "bid_deadline": "2026-03-20T10:00:00Z",
                        },
                    },
                ):
                    response = http.post(f"/v1/procurements/{ocid}/steps", json=body)
                    assert response.status_code == 201, response.text
                paths.append(f"/v1/procurements/{ocid}/steps")
        step = {
            "type": "clarification_published",
            "occurred_at": "2026-03-04T10:00:00Z",
            "data": {"summary": "Odpověď na dotaz uchazeče č. 1"},
        }
        # Appends and the bare endpoint take turns, so a change in the machine's load
        # (it is shared) falls on both; the medians are compared.
        bare_process, bare_url = _start_bare(tmp)
        appends: list[float] = []
        bares: list[float] = []
        try:
            for _ in range(repeats):
                appends.append(_hammer(server.base_url, paths, step, headers, per_client))
                bares.append(_hammer(bare_url, ["/echo"] * CLIENTS, step, {}, per_client))
        finally:
            bare_process.terminate()
            bare_process.wait(timeout=30)
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
    raw = _raw_commits(url, 3000)
    append, bare = statistics.median(appends), statistics.median(bares)
    runs = ", ".join(f"{a / b:.0%}" for a, b in zip(appends, bares, strict=True))
    print(f"[{label}] HTTP appends (16 clients): {append:8.0f}/s  (median of {repeats})")
    print(f"[{label}] bare FastAPI POST        : {bare:8.0f}/s   ratio {append / bare:.0%}")
    print(f"[{label}]   ratio per turn: {runs}")
    print(f"[{label}] raw INSERT+COMMIT (1 conn): {raw:7.0f}/s   ratio {append / raw:.0%}")


# --- 2. a large log, its export and its verification ---------------------------------------


def synthetic_entries(count: int) -> Iterator[bytes]:
    """Canonical entry documents (RFC 8785 key order) over OCIDS procurements, with chains."""
    heads: dict[int, tuple[int, str | None]] = {}
    for index in range(count):
        p = index % OCIDS
        seq, prev = heads.get(p, (0, None))
        prev_text = "null" if prev is None else f'"{prev}"'
        entry = (
            '{"actor":"k_3f2a9c1b7e","data":{"summary":"Odpověď na dotaz uchazeče č. %d"},'  # noqa: UP031
            '"documents":[{"media_type":"application/pdf","sha256":"%s","size":18234,'
            '"title":"Vysvětlení zadávací dokumentace","url":"https://profil.example.cz/d/%d"}],'
            '"findings":[],"leaf_index":%d,"occurred_at":"2026-03-04T10:00:00Z",'
            '"ocid":"ocds-smstps-554979-2026-%d","prev_hash":%s,'
            '"recorded_at":"2026-03-04T10:00:01Z","seq":%d,"type":"clarification_published",'
            '"v":1}' % (seq + 1, "ab" * 32, index, index, p, prev_text, seq + 1)
        ).encode()
        heads[p] = (seq + 1, hashlib.sha256(entry).hexdigest())
        yield entry


def build_log(url: str, count: int, checkpoint_every: int, data_dir: Path) -> None:
    """Fill a migrated database with ``count`` entries, their nodes, head and checkpoints."""
    upgrade(url)
    signer = service.configure("bench.example/ledger", data_dir / "ledger.key", 0)
    engine = make_engine(Settings(database_url=url, data_dir=data_dir))
    frontier = merkle.Frontier()
    entries: list[dict[str, object]] = []
    checkpoints: list[dict[str, object]] = []
    with engine.begin() as connection:

        def flush() -> None:
            if entries:
                connection.execute(
                    text(
                        "INSERT INTO ledger_entries (leaf_index, entry_bytes, leaf_hash, nodes) "
                        "VALUES (:i, :b, :h, :n)"
                    ),
                    entries,
                )
            if checkpoints:
                connection.execute(
                    text(
                        "INSERT INTO ledger_checkpoints (tree_size, root_hash, note, created_at)"
                        " VALUES (:s, :r, :n, CURRENT_TIMESTAMP)"
                    ),
                    checkpoints,
                )
            entries.clear()
            checkpoints.clear()

        for index, entry in enumerate(synthetic_entries(count)):
            leaf = merkle.leaf_hash(entry)
            completed = frontier.append(leaf)
            nodes = b"".join(h for _, _, h in completed) or None
            entries.append({"i": index, "b": entry, "h": leaf, "n": nodes})
            if frontier.size % checkpoint_every == 0 or frontier.size == count:
                root = frontier.root()
                checkpoints.append(
                    {"s": frontier.size, "r": root, "n": signer.sign(frontier.size, root)}
                )
            if len(entries) >= 20000:
                flush()
        flush()
        connection.execute(
            text("UPDATE ledger_head SET size = :s, frontier = :f WHERE id = 1"),
            {"s": frontier.size, "f": frontier.pack()},
        )
    engine.dispose()


def export_file(url: str, path: Path) -> float:
    engine = make_engine(Settings(database_url=url, data_dir=path.parent))
    began = time.perf_counter()
    with Session(engine) as session, path.open("wb") as handle:
        for line in export_lines(session):
            handle.write(line)
    engine.dispose()
    return time.perf_counter() - began


def _timed_rss(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB, the largest process of the tree) and CPU seconds (user +
    system, children included) of a command."""
    began = time.perf_counter()
    result = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", *command], cwd=ROOT, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - began
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    rss, user, system = result.stderr.strip().splitlines()[-1].split()
    return elapsed, int(rss) / 1024, float(user) + float(system)


def _raw_lines(path: Path) -> tuple[float, float]:
    """Raw hashlib.sha256 over each line as read from the file: wall and CPU seconds."""
    began, cpu = time.perf_counter(), time.process_time()
    with path.open("rb") as handle:
        for line in handle:
            hashlib.sha256(line).digest()
    return time.perf_counter() - began, time.process_time() - cpu


def bench_verify(path: Path, key: str, entries: int, label: str) -> None:
    # Baselines: raw sha256 over the same bytes, (a) each line as read from the file, before
    # and after the verifier runs (their mean is the baseline: the machine may be shared),
    # (b) each entry's bytes alone (sliced out first, the slicing not timed).
    load = os.getloadavg()[0]
    raw_wall, raw_cpu = _raw_lines(path)
    sample: list[bytes] = []
    with path.open("rb") as handle:
        for line in handle:
            if line.startswith(b'{"leaf_index"'):
                sample.append(line[line.index(b'"entry":') + 8 : -2])
                if len(sample) == 200_000:
                    break
    began = time.perf_counter()
    for entry in sample:
        hashlib.sha256(entry).digest()
    raw_entries = len(sample) / (time.perf_counter() - began)
    del sample
    python = str(Path(sys.executable))
    runs = [
        (
            "python -m procurement.ledger.verify --jobs 1",
            [
                python,
                "-m",
                "procurement.ledger.verify",
                str(path),
                "--public-key",
                key,
                "--jobs",
                "1",
            ],
        ),
        (
            "python -m procurement.ledger.verify --jobs 2",
            [
                python,
                "-m",
                "procurement.ledger.verify",
                str(path),
                "--public-key",
                key,
                "--jobs",
                "2",
            ],
        ),
        (
            "smartsteps verify",
            [
                str(Path(sys.executable).parent / "smartsteps"),
                "verify",
                str(path),
                "--public-key",
                key,
            ],
        ),
    ]
    results = [(name, *_timed_rss(command)) for name, command in runs]
    after_wall, after_cpu = _raw_lines(path)
    raw_lines = entries / ((raw_wall + after_wall) / 2)
    raw_lines_cpu = entries / ((raw_cpu + after_cpu) / 2)
    print(
        f"[{label}] raw sha256: {raw_lines:9.0f} lines/s (before {entries / raw_wall:.0f}, "
        f"after {entries / after_wall:.0f}), {raw_entries:9.0f} entries/s; load average "
        f"{load:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    for name, elapsed, rss, cpu in results:
        rate = entries / elapsed
        print(
            f"[{label}] {name:44s}: {rate:8.0f} entries/s = {rate / raw_lines:5.1%} of raw "
            f"lines, {rate / raw_entries:5.1%} of raw entries; peak RSS {rss:5.1f} MB; "
            f"CPU time {entries / cpu / raw_lines_cpu:5.1%} of raw lines"
        )


def per_append_export(path: Path, count: int, data_dir: Path) -> str:
    """An export with a checkpoint after every entry (the default cadence)."""
    signer = service.configure("bench.example/ledger", data_dir / "ledger.key", 0)
    frontier = merkle.Frontier()
    with path.open("wb") as handle:
        handle.write(
            json.dumps(
                {
                    "format": "smartsteps-ledger-export",
                    "version": 1,
                    "origin": signer.origin,
                    "public_key": signer.verifier.text(),
                    "tree_size": count,
                }
            ).encode()
            + b"\n"
        )
        for index, entry in enumerate(synthetic_entries(count)):
            leaf = merkle.leaf_hash(entry)
            frontier.append(leaf)
            handle.write(entry_line(index, leaf, entry))
            note = signer.sign(frontier.size, frontier.root())
            handle.write(
                json.dumps({"checkpoint": note, "tree_size": frontier.size}).encode() + b"\n"
            )
        handle.write(
            json.dumps({"end": True, "entries": count, "checkpoints": count}).encode() + b"\n"
        )
    return signer.verifier.text()


# --- 3. proofs -------------------------------------------------------------------------------


def bench_proofs(url: str, size: int, data_dir: Path, label: str, samples: int = 2000) -> None:
    engine = make_engine(Settings(database_url=url, data_dir=data_dir))
    rng = random.Random(7)
    timings: list[float] = []
    with Session(engine) as session:
        for _ in range(samples):
            index = rng.randrange(size)
            began = time.perf_counter()
            leaf, root, proof = service.inclusion_bundle(session, index, size)
            timings.append(time.perf_counter() - began)
            if _ == 0:
                merkle.verify_inclusion(leaf, index, size, proof, root)
    engine.dispose()
    timings.sort()
    p50, p95 = statistics.median(timings), timings[int(len(timings) * 0.95)]
    print(
        f"[{label}] inclusion proof at {size} leaves, service call: "
        f"p50 {p50 * 1000:.2f} ms  p95 {p95 * 1000:.2f} ms  (target p95 <= 5 ms)"
    )
    env = {
        "SMARTSTEPS_DATABASE_URL": url,
        "SMARTSTEPS_DATA_DIR": str(data_dir),
        **HIGH_LIMITS,
        "SMARTSTEPS_LEDGER_ORIGIN": "bench.example/ledger",
        "SMARTSTEPS_LEDGER_KEY_PATH": str(data_dir / "ledger.key"),
    }
    server = start_server(env)
    http_timings: list[float] = []
    try:
        with httpx.Client(base_url=server.base_url, timeout=60) as http:
            for _ in range(samples // 2):
                index = rng.randrange(size)
                began = time.perf_counter()
                response = http.get(
                    "/v1/ledger/proofs/inclusion", params={"leaf_index": index, "tree_size": size}
                )
                http_timings.append(time.perf_counter() - began)
                assert response.status_code == 200, response.text
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
    http_timings.sort()
    p50, p95 = statistics.median(http_timings), http_timings[int(len(http_timings) * 0.95)]
    print(
        f"[{label}] inclusion proof at {size} leaves, GET over HTTP: "
        f"p50 {p50 * 1000:.2f} ms  p95 {p95 * 1000:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--checkpoint-every", type=int, default=1024)
    parser.add_argument("--per-append-sample", type=int, default=50_000)
    parser.add_argument("--per-client", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=5, help="turns of appends and bare")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL"))
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-log", action="store_true")
    parser.add_argument("--skip-proofs", action="store_true", help="no inclusion proof timings")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ss-ledger-bench-") as name:
        tmp = Path(name)
        dbs = Databases(tmp, args.pg_url)
        try:
            if not args.skip_http:
                bench_http("sqlite", dbs.sqlite("http"), tmp, args.per_client, args.repeats)
                if args.pg_url:
                    bench_http("postgresql", dbs.postgres(), tmp, args.per_client, args.repeats)
            if not args.skip_log:
                data_dir = tmp / "log"
                data_dir.mkdir()
                url = dbs.sqlite("log")
                began = time.perf_counter()
                build_log(url, args.leaves, args.checkpoint_every, data_dir)
                print(
                    f"[sqlite] built a log of {args.leaves} entries in "
                    f"{time.perf_counter() - began:.1f} s"
                )
                export = tmp / "ledger.jsonl"
                took = export_file(url, export)
                print(
                    f"[sqlite] exported {export.stat().st_size / 1e6:.0f} MB in {took:.1f} s "
                    f"(a checkpoint every {args.checkpoint_every} entries)"
                )
                key = service.signer().verifier.text()
                bench_verify(export, key, args.leaves, f"checkpoint every {args.checkpoint_every}")
                export.unlink()
                if not args.skip_proofs:
                    bench_proofs(url, args.leaves, data_dir, "sqlite")
                if args.pg_url and not args.skip_proofs:
                    pg_url = dbs.postgres()
                    began = time.perf_counter()
                    build_log(pg_url, args.leaves, args.checkpoint_every, data_dir)
                    print(
                        f"[postgresql] built a log of {args.leaves} entries in "
                        f"{time.perf_counter() - began:.1f} s"
                    )
                    bench_proofs(pg_url, args.leaves, data_dir, "postgresql")
                sample = tmp / "per-append.jsonl"
                key = per_append_export(sample, args.per_append_sample, data_dir)
                bench_verify(sample, key, args.per_append_sample, "checkpoint every entry")
        finally:
            dbs.drop()


if __name__ == "__main__":
    main()
