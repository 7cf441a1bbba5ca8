"""A buyer profile import beside the same steps appended over HTTP by 16 clients, as a ratio.

    python bench/import_buyer_profile.py [--pg-url URL] [--procurements 1000]
                                         [--batch-size 100] [--rounds 4] [--skip-sqlite]

Generates a buyer profile export (the current structure) of N procurements, each proving ten
steps (publication, tender documents, a clarification, the bids, the selection, the contract,
its publication, the written report and two years of payments). Then, on each database kind,
with two new databases:

1. import: what ``smartsteps import buyer-profile`` does, in this process: the file read and
   planned once, then written in batches (one transaction and one signed checkpoint each).
   Rate: the steps recorded per second, the reading and planning included.
2. HTTP: a real uvicorn server (one worker) and 16 clients, each opening its share of the
   same procurements (``POST /v1/procurements``) and posting their steps in order
   (``POST /steps``). The order rules make each trail start with an approval the export
   does not prove (the import records without it), so every procurement gets one more step
   over HTTP; the documents are left out (the export gives no hash, which a posted document
   needs). Rate: every step posted per second, approvals included (which favours HTTP).

The two take turns over ``--rounds`` shares of the procurements (the machine is shared: a
change of its load falls on both), each round's rates and the totals are printed.
``--pg-url`` names a PostgreSQL server and a role that may create databases: the bench
creates two scratch databases there and drops them at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from sqlalchemy import create_engine, pool, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from api.auth import Caller, Role, issue_key  # noqa: E402
from api.db import make_engine, session_scope  # noqa: E402
from api.migrate import upgrade  # noqa: E402
from api.settings import Settings  # noqa: E402
from catalogue.registry import import_register  # noqa: E402
from procurement.imports.mapping import PartPlan  # noqa: E402
from procurement.imports.service import open_import, plans_in_batches  # noqa: E402
from procurement.ledger import service as ledger_service  # noqa: E402
from tests.servers import running_server  # noqa: E402

CLIENTS = 16
BUYER = "554979"
REGISTER_ROW = (
    "code,name,district,district_lau1,region,region_nuts3,postcode,lat,lon,population\n"
    "554979,Abertamy,Karlovy Vary,CZ0412,Karlovarský kraj,CZ041,36235,50.368855,12.818377,939\n"
)
HIGH_LIMITS = {
    "SMARTSTEPS_RATE_LIMIT_PER_KEY": "100000000/minute",
    "SMARTSTEPS_RATE_LIMIT_ANONYMOUS": "100000000/minute",
    "SMARTSTEPS_RATE_LIMIT_EXPORTS": "100000000/minute",
}
SUPPLIERS = (
    ("27100006", "Světla Morava s.r.o."),
    ("45670005", "Lampy a.s."),
    ("60890002", "Levné světlo s.r.o."),
)


# --- the export ------------------------------------------------------------------------------


def _part(n: int) -> str:
    start = date(2023, 1, 2) + timedelta(days=n % 500)
    deadline = start + timedelta(days=30)
    selected = deadline + timedelta(days=7)
    signed = selected + timedelta(days=20)
    value = 500_000 + (n * 1_379) % 1_400_000
    base = f"https://profil.abertamy.example/vz/{n}"
    bids = "".join(
        f"<ucastnik><subjekt><ico>{ico}</ico><nazev_subjektu>{name}</nazev_subjektu></subjekt>"
        f"<nabidkova_cena_bez_dph>{value + k * 25_000}.00</nabidkova_cena_bez_dph>"
        "<ucastnik_vyloucen>ne</ucastnik_vyloucen></ucastnik>"
        for k, (ico, name) in enumerate(SUPPLIERS)
    )

    def document(name: str, kind: str, day: date, hour: int) -> str:
        return (
            f"<dokument><url>{base}/{name}.pdf</url><typ_dokumentu>{kind}</typ_dokumentu>"
            f"<cas_vlozeni_na_profil>{day}T{hour:02d}:00:00</cas_vlozeni_na_profil></dokument>"
        )

    documents = "".join(
        (
            document("vyzva", "Výzva k podání nabídek", start, 9),
            document("zd", "Zadávací dokumentace", start, 10),
            document("vysvetleni", "Vysvětlení zadávací dokumentace", start + timedelta(7), 9),
            document("vyber", "Oznámení o výběru dodavatele", selected, 9),
            document("smlouva", "Smlouva", signed + timedelta(days=5), 9),
            document("zprava", "Písemná zpráva zadavatele", signed + timedelta(days=10), 9),
        )
    )
    ico, name = SUPPLIERS[0]
    return f"""<zakazka><id_objektu>P23V{n:08d}</id_objektu><nazev_vz>Zakázka {n}</nazev_vz>
<druh_vz>služby</druh_vz><delena_na_casti>ne</delena_na_casti><casti_vz><cast_zakazky>
<id_objektu>P23V{n:08d}</id_objektu><zadavaci_postup_casti><lhuty_zadavaciho_postupu><lhuta>
<druh_lhuty>lhůta pro podání nabídek</druh_lhuty>
<datum_konce_lhuty>{deadline}T10:00:00</datum_konce_lhuty></lhuta></lhuty_zadavaciho_postupu>
<stav_zadavaciho_postupu>dokončen</stav_zadavaciho_postupu>
<druh_zadavaciho_postupu>otevřené řízení</druh_zadavaciho_postupu>
<datum_uverejneni>{start}T08:00:00</datum_uverejneni>
<datum_uzavreni_smlouvy>{signed}</datum_uzavreni_smlouvy><dokumenty>{documents}</dokumenty>
<ucastnici>{bids}</ucastnici><vybrani_dodavatele><vybrany_dodavatel>
<subjekt><ico>{ico}</ico><nazev_subjektu>{name}</nazev_subjektu></subjekt>
<uzavrena_smlouva_nebo_rd>ano</uzavrena_smlouva_nebo_rd>
<smluvni_cena_bez_DPH>{value}.00</smluvni_cena_bez_DPH><plneni_dodavateli>
<plneni><rok_smlouvy>2024</rok_smlouvy><cena_za_rok_bez_dph>{value // 2}.00</cena_za_rok_bez_dph></plneni>
<plneni><rok_smlouvy>2025</rok_smlouvy><cena_za_rok_bez_dph>{value // 4}.00</cena_za_rok_bez_dph></plneni>
</plneni_dodavateli></vybrany_dodavatel></vybrani_dodavatele></zadavaci_postup_casti>
</cast_zakazky></casti_vz></zakazka>
"""  # noqa: E501


def buyer_profile(procurements: int) -> bytes:
    parts = "".join(_part(n) for n in range(1, procurements + 1))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<profil xmlns="urn:cz:isvz:mmr:schemas:vz-z-profilu-zadavatele:v100">'
        "<profil_kod>60054321</profil_kod><zadavatel><nazev_zadavatele>Město Abertamy"
        "</nazev_zadavatele><ico_zadavatele>00254428</ico_zadavatele></zadavatel>"
        f"{parts}</profil>"
    ).encode()


# --- databases ---------------------------------------------------------------------------------


def fresh_database(kind: str, tmp: Path, pg_url: str | None, name: str, pg_name: str) -> str:
    """A new, migrated database with the buyer in the register."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp / name}.sqlite3"
    else:
        assert pg_url is not None
        admin = create_engine(pg_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{pg_name}"'))
        admin.dispose()
        url = make_url(pg_url).set(database=pg_name).render_as_string(hide_password=False)
    upgrade(url)
    register = tmp / "register.csv"
    register.write_text(REGISTER_ROW, encoding="utf-8")
    engine = create_engine(url, poolclass=pool.NullPool)
    with Session(engine) as session:
        import_register(session, register)
        session.commit()
    engine.dispose()
    return url


def drop_databases(kind: str, pg_url: str | None, names: list[str]) -> None:
    if kind != "postgresql":
        return
    assert pg_url is not None
    admin = create_engine(pg_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# --- 1. the import ---------------------------------------------------------------------------


class Importer:
    """What ``smartsteps import buyer-profile`` does, in this process: the file read and
    planned once (timed), then written in batches of one transaction each."""

    def __init__(self, url: str, data_dir: Path, export: bytes, batch_size: int) -> None:
        settings = Settings(database_url=url, data_dir=data_dir)
        ledger_service.configure_from(settings)
        self.engine = make_engine(settings)
        self.batch_size = batch_size
        caller = Caller(key_id="bench-import", role=Role.admin)
        began = time.perf_counter()
        with session_scope(self.engine, write=False) as session:
            self.run = open_import(
                session, export, caller, buyer_code=BUYER, ocid_prefix=settings.ocid_prefix
            )
        self.plan_seconds = time.perf_counter() - began

    def write(self, plans: list[PartPlan]) -> tuple[float, int]:
        """(seconds, steps recorded) for these parts, to their last commit."""
        done = len(self.run.items)
        began = time.perf_counter()
        for batch in plans_in_batches(plans, self.batch_size):
            with session_scope(self.engine, write=True) as session:
                self.run.import_batch(session, batch)
        elapsed = time.perf_counter() - began
        written = self.run.items[done:]
        if any(i.outcome != "created" for i in written) or self.run.conflicts:
            raise RuntimeError(f"the generated profile did not import: {written[0]}")
        return elapsed, sum(i.steps_recorded for i in written)

    def close(self) -> None:
        self.engine.dispose()


# --- 2. the same steps over HTTP ----------------------------------------------------------------


def _bodies(plan: PartPlan) -> Iterator[dict[str, Any]]:
    assert plan.create is not None
    first = plan.steps[0].occurred_at - timedelta(days=1)
    yield {
        "type": "procurement_approved",
        "occurred_at": first.isoformat().replace("+00:00", "Z"),
        "data": {"body": "council", "resolution_id": "ZO/1"},
    }
    for step in plan.steps:
        facts = step.facts()
        yield {"type": step.type, "occurred_at": facts["occurred_at"], "data": facts["data"]}


def admin_key(url: str, data_dir: Path) -> dict[str, str]:
    engine = make_engine(Settings(database_url=url, data_dir=data_dir))
    with Session(engine) as session:
        secret = issue_key(session, role=Role.admin, label="bench").secret
        session.commit()
    engine.dispose()
    return {"Authorization": f"Bearer {secret}"}


def post_over_http(
    base_url: str, headers: dict[str, str], plans: list[PartPlan]
) -> tuple[float, int]:
    """(seconds, steps posted) for 16 clients opening these procurements and posting their
    steps in order."""
    shares = [plans[k::CLIENTS] for k in range(CLIENTS)]
    posted = [0] * CLIENTS
    errors: list[str] = []
    gate = threading.Barrier(CLIENTS + 1)

    def client(k: int) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
            gate.wait()
            for plan in shares[k]:
                assert plan.create is not None
                created = http.post("/v1/procurements", json=plan.create.model_dump(mode="json"))
                if created.status_code != 201:
                    errors.append(created.text[:300])
                    return
                ocid = created.json()["ocid"]
                for body in _bodies(plan):
                    response = http.post(f"/v1/procurements/{ocid}/steps", json=body)
                    if response.status_code != 201:
                        errors.append(f"{body['type']}: {response.text[:300]}")
                        return
                    posted[k] += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for thread in threads:
        thread.start()
    gate.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[0]}")
    return elapsed, sum(posted)


def bench(kind: str, export: bytes, args: argparse.Namespace) -> None:
    """Import and HTTP take turns over ``rounds`` shares of the procurements (the machine is
    shared: a change of its load falls on both); the totals are compared."""
    tmp = Path(tempfile.mkdtemp(prefix=f"ss-bench-import-{kind}-"))
    for folder in ("import", "http"):
        (tmp / folder).mkdir()
    suffix = uuid.uuid4().hex[:8]
    names = [f"ss_import_bench_{suffix}", f"ss_import_bench_http_{suffix}"]
    import_url = fresh_database(kind, tmp, args.pg_url, "import", names[0])
    http_url = fresh_database(kind, tmp, args.pg_url, "http", names[1])
    importer = Importer(import_url, tmp / "import", export, args.batch_size)
    plans = importer.run.plans
    size = -(-len(plans) // args.rounds)
    env = {"SMARTSTEPS_DATABASE_URL": http_url, "SMARTSTEPS_DATA_DIR": str(tmp / "http")}
    headers = admin_key(http_url, tmp / "http")
    imported = [importer.plan_seconds, 0.0]
    over_http = [0.0, 0.0]
    print(f"[{kind}] read and planned in {importer.plan_seconds:.2f} s")
    try:
        with running_server({**env, **HIGH_LIMITS}) as server:
            for k in range(args.rounds):
                chunk = plans[k * size : (k + 1) * size]
                turns = ["import", "http"] if k % 2 == 0 else ["http", "import"]
                result = {}
                for turn in turns:
                    if turn == "import":
                        result[turn] = importer.write(chunk)
                    else:
                        result[turn] = post_over_http(server.base_url, headers, chunk)
                (i_s, i_n), (h_s, h_n) = result["import"], result["http"]
                imported[0] += i_s
                imported[1] += i_n
                over_http[0] += h_s
                over_http[1] += h_n
                print(
                    f"[{kind}]   round {k + 1}: import {i_n / i_s:6.0f} steps/s, "
                    f"HTTP {h_n / h_s:6.0f} steps/s, ratio {(i_n / i_s) / (h_n / h_s):.1f}x"
                )
    finally:
        importer.close()
        drop_databases(kind, args.pg_url, names)
    import_rate = imported[1] / imported[0]
    http_rate = over_http[1] / over_http[0]
    print(
        f"[{kind}] import      : {imported[1]:6.0f} steps in {imported[0]:6.2f} s = "
        f"{import_rate:6.0f} steps/s (reading and planning included)"
    )
    print(
        f"[{kind}] HTTP, 16 clients: {over_http[1]:6.0f} steps in {over_http[0]:6.2f} s = "
        f"{http_rate:6.0f} steps/s (approvals included; {len(plans)} procurements opened)"
    )
    print(f"[{kind}] ratio import / HTTP: {import_rate / http_rate:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--pg-url",
        default=None,
        help="a PostgreSQL server (a role that may "
        "create databases); the bench creates and drops its own",
    )
    parser.add_argument("--procurements", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    export = buyer_profile(args.procurements)
    print(f"buyer profile: {args.procurements} procurements, {len(export):,} bytes")
    kinds = ([] if args.skip_sqlite else ["sqlite"]) + (["postgresql"] if args.pg_url else [])
    for kind in kinds:
        bench(kind, export, args)


if __name__ == "__main__":
    main()
