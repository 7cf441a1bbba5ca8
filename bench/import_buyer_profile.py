"""A buyer profile import beside the same steps appended over HTTP by 16 clients, as a ratio.

    python bench/import_buyer_profile.py [--pg-url URL] [--procurements 1000]
                                         [--batch-size 100] [--skip-sqlite]

Generates a buyer profile export (the current structure) of N procurements, each proving ten
steps (publication, tender documents, a clarification, the bids, the selection, the contract,
its publication, the written report and two years of payments). Then, on each database:

1. import: what ``smartsteps import buyer-profile`` does, in this process: read and plan
   the file, then write it in batches (one transaction and one signed checkpoint each);
   timed from the bytes to the last commit. Rate: the steps recorded per second.
2. HTTP: on a new database of the same kind, a real uvicorn server (one worker) and 16
   clients, each opening its share of the same procurements (``POST /v1/procurements``)
   and posting their steps in order (``POST /steps``). The order rules make each trail start
   with an approval the export does not prove (the import records without it), so every
   procurement gets one more step over HTTP; the documents are left out (the export gives
   no hash, which a posted document needs). Rate: every step posted per second, approvals
   included (which favours HTTP).

PostgreSQL (``--pg-url``): the public schema of that database is dropped and made again
before each run; point it at a scratch database.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from sqlalchemy import create_engine, pool, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from api.auth import Caller, Role, issue_key  # noqa: E402
from api.db import make_engine  # noqa: E402
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


def fresh_database(kind: str, tmp: Path, pg_url: str | None, name: str) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{tmp / name}.sqlite3"
    else:
        assert pg_url is not None
        url = pg_url
        engine = create_engine(url, poolclass=pool.NullPool)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    register = tmp / "register.csv"
    register.write_text(REGISTER_ROW, encoding="utf-8")
    engine = create_engine(url, poolclass=pool.NullPool)
    with Session(engine) as session:
        import_register(session, register)
        session.commit()
    engine.dispose()
    return url


# --- 1. the import ---------------------------------------------------------------------------


def bench_import(
    url: str, data_dir: Path, export: bytes, batch_size: int
) -> tuple[float, int, list[PartPlan]]:
    """(seconds, steps recorded, the plans): bytes to the last commit, as the CLI runs it."""
    settings = Settings(database_url=url, data_dir=data_dir)
    ledger_service.configure_from(settings)
    engine = make_engine(settings)
    writer = engine.execution_options(sqlite_begin="IMMEDIATE")
    caller = Caller(key_id="bench-import", role=Role.admin)
    began = time.perf_counter()
    with Session(engine, expire_on_commit=False) as session:
        run = open_import(
            session, export, caller, buyer_code=BUYER, ocid_prefix=settings.ocid_prefix
        )
    planned = time.perf_counter()
    for batch in plans_in_batches(run.plans, batch_size):
        with Session(writer, expire_on_commit=False) as session:
            run.import_batch(session, batch)
            session.commit()
    elapsed = time.perf_counter() - began
    engine.dispose()
    report = run.report()
    if report.skipped or report.conflicts:
        raise RuntimeError(f"the generated profile did not import: {report.items[0]}")
    print(f"    read and planned in {planned - began:.2f} s")
    return elapsed, report.steps_recorded, run.plans


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


def bench_http(url: str, data_dir: Path, plans: list[PartPlan]) -> tuple[float, int]:
    """(seconds, steps posted) for 16 clients opening the procurements and posting their
    steps through one uvicorn worker."""
    engine = make_engine(Settings(database_url=url, data_dir=data_dir))
    with Session(engine) as session:
        secret = issue_key(session, role=Role.admin, label="bench").secret
        session.commit()
    engine.dispose()
    headers = {"Authorization": f"Bearer {secret}"}
    env = {"SMARTSTEPS_DATABASE_URL": url, "SMARTSTEPS_DATA_DIR": str(data_dir), **HIGH_LIMITS}
    shares = [plans[k::CLIENTS] for k in range(CLIENTS)]
    posted = [0] * CLIENTS
    errors: list[str] = []
    gate = threading.Barrier(CLIENTS + 1)

    def client(k: int, base_url: str) -> None:
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

    with running_server(env) as server:
        threads = [
            threading.Thread(target=client, args=(k, server.base_url)) for k in range(CLIENTS)
        ]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg-url", default=None, help="a scratch PostgreSQL database")
    parser.add_argument("--procurements", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    export = buyer_profile(args.procurements)
    print(f"buyer profile: {args.procurements} procurements, {len(export):,} bytes")
    kinds = ([] if args.skip_sqlite else ["sqlite"]) + (["postgresql"] if args.pg_url else [])
    for kind in kinds:
        tmp = Path(tempfile.mkdtemp(prefix=f"ss-bench-import-{kind}-"))
        (tmp / "import").mkdir()
        (tmp / "http").mkdir()
        url = fresh_database(kind, tmp, args.pg_url, "import")
        seconds, steps, plans = bench_import(url, tmp / "import", export, args.batch_size)
        imported = steps / seconds
        print(f"[{kind}] import      : {steps} steps in {seconds:.2f} s = {imported:8.0f} steps/s")
        url = fresh_database(kind, tmp, args.pg_url, "http")
        seconds, posted = bench_http(url, tmp / "http", plans)
        over_http = posted / seconds
        print(
            f"[{kind}] HTTP (16 clients): {posted} steps in {seconds:.2f} s = "
            f"{over_http:8.0f} steps/s (with {args.procurements} procurements opened)"
        )
        print(f"[{kind}] ratio import / HTTP: {imported / over_http:.1f}x")


if __name__ == "__main__":
    main()
