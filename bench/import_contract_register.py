"""Contract-register import: records/s and peak memory of ``smartsteps import
contract-register`` beside ``lxml.etree.iterparse`` alone over the same file, in the same
run, as a ratio; on SQLite and (with --pg-url) PostgreSQL.

    .venv/bin/python bench/import_contract_register.py [--records 100000] [--rounds 3]
        [--pg-url postgresql+psycopg://user@host/db] [--keep DIR]

1. Generates a dump of --records records in the shape of the 2026 dumps (the elements the
   1.2.1 schema lacks: ``cenaNeuvedena``, ``smluvniStrana/identifikace``, a
   ``navazanyZaznam`` URL under ``zaznam``; one to three counterparties, some without IČO;
   values with and without VAT, foreign currencies, prices not stated; a tenth of the
   contracts with a second version in the same month), and one of a tenth of the size.
2. Each measurement runs in a child process of its own; its peak RSS is the child's
   ``VmHWM`` (/proc/self/status, read when the work is done), its rate the records over the
   wall time the child measured around the work (interpreter start-up and module imports
   left out on both sides):

   * iterparse: ``for event, element in iterparse(FILE): element.clear()`` — iterparse
     over the file, clearing every element, nothing else (records are also dropped from
     the root as they end, or the cleared elements would pile up): the baseline the issue
     names;
   * iterparse, records only: ``iterparse(FILE, events=("end",), tag="{*}zaznam")``, each
     record cleared and dropped: the least work lxml can do to stream through the records
     (libxml2 filters the tags, Python sees one element per record), a stricter baseline;
   * import: the command itself (``smartsteps import contract-register FILE`` through the
     Typer app, into a new, migrated database: SQLite file or a scratch PostgreSQL
     database), from opening the database to the commit.

   The three take turns --rounds times; the medians are compared. The child's CPU time
   is printed too (on PostgreSQL the server's share is not in it); on a machine others
   share, CPU times are disturbed less than wall times.
3. The import of the small dump shows that memory does not grow with the dump.

The target (issue 15): the import keeps RSS <= 200 MB and runs at >= 25 % of the rate of
iterparse alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NS = "http://portal.gov.cz/rejstriky/ISRS/1.2/"
SUBJECTS = (
    "Dodávka LED svítidel veřejného osvětlení",
    "Servisní smlouva  k parkovacímu systému",
    "Rekonstrukce chodníku v ulici Husova ",
    "Nájem nebytových prostor",
    "Licence a podpora informačního systému",
    "Darovací smlouva",
    "Zajištění svozu komunálního odpadu",
)
FIRMS = ("Svítidla s.r.o.", "Chytrá města a.s.", "Stavby  Vltava a.s.", "Energie & teplo s.r.o.")


def _ico(rng: random.Random) -> str:
    """An 8-digit IČO with its mod-11 check digit."""
    digits = [rng.randint(0, 9) for _ in range(7)]
    remainder = sum(d * w for d, w in zip(digits, range(8, 1, -1), strict=True)) % 11
    check = (11 - remainder) % 10
    return "".join(map(str, digits)) + str(check)


def generate(path: Path, records: int, seed: int = 2026) -> int:
    """A January 2026 dump of ``records`` records (versions); returns how many."""
    rng = random.Random(seed)
    towns = [_ico(rng) for _ in range(400)]
    firms = [_ico(rng) for _ in range(5000)]
    written = 0
    contract = 10_000_000
    version = 20_000_000
    with path.open("w", encoding="utf-8") as out:
        out.write(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<dump xmlns="{NS}"><mesic>01</mesic>'
            "<rok>2026</rok><casGenerovani>2026-02-01T03:12:44+01:00</casGenerovani>"
            "<dokoncenyMesic>1</dokoncenyMesic>\n"
        )
        while written < records:
            contract += rng.randint(1, 3)
            versions = 2 if rng.random() < 0.1 else 1
            town = rng.choice(towns)
            day = rng.randint(1, 31)
            for n in range(versions):
                if written >= records:
                    break
                version += rng.randint(1, 4)
                out.write(_record(rng, contract, version, town, firms, day, n + 1 == versions))
                written += 1
        out.write("</dump>\n")
    return written


def _record(
    rng: random.Random,
    contract: int,
    version: int,
    town: str,
    firms: list[str],
    day: int,
    last: bool,
) -> str:
    parties = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        ico = rng.choice(firms)
        kind = rng.choice(("PO", "PO", "PFO", "FO"))
        ico_element = "" if kind == "FO" else f"<ico>{ico}</ico>"
        parties.append(
            f"<smluvniStrana><datovaSchranka>{ico[:7]}</datovaSchranka>"
            f"<nazev>{rng.choice(FIRMS).replace('&', '&amp;')}</nazev>{ico_element}"
            f"<adresa>Náměstí Míru {rng.randint(1, 200)}, Praha</adresa><prijemce>1</prijemce>"
            f"<identifikace>{kind}</identifikace></smluvniStrana>"
        )
    value = rng.randint(5_000, 20_000_000)
    shape = rng.random()
    if shape < 0.55:
        price = f"<hodnotaBezDph>{value}</hodnotaBezDph><hodnotaVcetneDph>{value * 121 / 100:.2f}</hodnotaVcetneDph>"  # noqa: E501
    elif shape < 0.75:
        price = f"<hodnotaBezDph>{value}</hodnotaBezDph>"
    elif shape < 0.9:
        price = f"<hodnotaVcetneDph>{value}</hodnotaVcetneDph>"
    elif shape < 0.95:
        price = f"<ciziMena><hodnota>{value // 25}</hodnota><mena>EUR</mena></ciziMena>"
    else:
        price = "<cenaNeuvedena>obchodní tajemství</cenaNeuvedena>"
    attachments = "".join(
        f"<priloha><nazevSouboru>smlouva-{version}-{k}.pdf</nazevSouboru>"
        f'<hash algoritmus="sha256">{rng.getrandbits(256):064x}</hash>'
        f"<odkaz>https://smlouvy.gov.cz/smlouva/soubor/{version}/smlouva-{k}.pdf</odkaz></priloha>"
        for k in range(rng.choice((1, 1, 2)))
    )
    return (
        f"<zaznam><identifikator><idSmlouvy>{contract}</idSmlouvy><idVerze>{version}</idVerze>"
        f"</identifikator><odkaz>https://smlouvy.gov.cz/smlouva/{version}</odkaz>"
        f"<casZverejneni>2026-01-{day:02d}T{rng.randint(6, 20):02d}:{rng.randint(0, 59):02d}:"
        f"{rng.randint(0, 59):02d}+01:00</casZverejneni><smlouva><subjekt>"
        f"<datovaSchranka>{town[:7]}</datovaSchranka><nazev>Obec {town}</nazev><ico>{town}</ico>"
        f"<adresa>Náměstí 1</adresa><utvar>Odbor správní</utvar><platce>1</platce></subjekt>"
        + "".join(parties)
        + f"<predmet>{rng.choice(SUBJECTS)}</predmet>"
        f"<datumUzavreni>2025-12-{rng.randint(1, 31):02d}</datumUzavreni>"
        f"<cisloSmlouvy>SML/{contract}/2025</cisloSmlouvy><schvalil>starosta</schvalil>"
        + price
        + "</smlouva><prilohy>"
        + attachments
        + f"</prilohy><platnyZaznam>{int(last)}</platnyZaznam>"
        f"<navazanyZaznam>https://smlouvy.gov.cz/smlouva/{version}</navazanyZaznam></zaznam>\n"
    )


# -- children: each prints one JSON line ---------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not ru_maxrss: Linux carries the parent's
    peak across fork and exec into a child's ru_maxrss."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def timed(work: Any, *args: Any) -> dict[str, Any]:
    started, cpu = time.perf_counter(), time.process_time()
    records = work(*args)
    return {
        "records": records,
        "seconds": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu,
        "rss_mb": peak_rss_mb(),
    }


def child_records(path: str) -> int:
    from lxml import etree

    count = 0
    for _event, element in etree.iterparse(path, events=("end",), tag="{*}zaznam"):
        count += 1
        element.clear(keep_tail=False)
        parent = element.getparent()
        while element.getprevious() is not None:
            del parent[0]
    return count


def child_every(path: str) -> int:
    from lxml import etree

    count = 0
    for _event, element in etree.iterparse(path):
        element.clear(keep_tail=False)
        parent = element.getparent()
        if parent is not None and parent.getparent() is None:
            count += 1  # the dump's own elements and its records
            while element.getprevious() is not None:
                del parent[0]
    return count - len(("mesic", "rok", "casGenerovani", "dokoncenyMesic"))


def child_import(path: str) -> int:
    """The command as an operator runs it (SMARTSTEPS_DATABASE_URL is set by the parent);
    the modules it loads are loaded before the clock starts."""
    import contextlib
    import io

    import api.db  # noqa: F401
    import procurement.register.service  # noqa: F401
    from api.cli import app

    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(io.StringIO()):
        app(["import", "contract-register", path], standalone_mode=False)
    report = output.getvalue()
    return int(report.split(" records in ")[0].rsplit("\n", 1)[-1])


# -- the parent ----------------------------------------------------------------------------


def measure(kind: str, path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run one child; its JSON result (records, seconds, cpu_s, rss_mb) and the rate."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", kind, str(path)],
        stdout=subprocess.PIPE,
        env={**os.environ, "SMARTSTEPS_DATA_DIR": tempfile.gettempdir(), **(env or {})},
        cwd=ROOT,
    )
    output, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{kind} child failed ({process.returncode})")
    result: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    result["rate"] = result["records"] / result["seconds"]
    return result


@contextmanager
def sqlite_database(tmp: Path) -> Iterator[str]:
    from api.migrate import upgrade

    url = f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
    upgrade(url)
    yield url


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    from sqlalchemy import create_engine, pool, text
    from sqlalchemy.engine import make_url

    from api.migrate import upgrade

    name = f"smartsteps_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


LABELS = {
    "every": "iterparse (every element cleared)",
    "records": "iterparse, records only (tag filter)",
    "import": "smartsteps import contract-register",
}


def compare(label: str, path: Path, rounds: int, database: Any) -> None:
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in LABELS}
    for _ in range(rounds):
        runs["every"].append(measure("every", path))
        runs["records"].append(measure("records", path))
        with database() as url:
            runs["import"].append(measure("import", path, {"SMARTSTEPS_DATABASE_URL": url}))
    rate = {kind: statistics.median(r["rate"] for r in rs) for kind, rs in runs.items()}
    cpu = {kind: statistics.median(r["cpu_s"] for r in rs) for kind, rs in runs.items()}
    rss = {kind: max(r["rss_mb"] for r in rs) for kind, rs in runs.items()}
    records = runs["import"][0]["records"]
    print(f"\n{label}: {records:,} records, {rounds} rounds (medians; each round in brackets)")
    for kind, name in LABELS.items():
        rounds_text = ", ".join(f"{r['rate']:,.0f}" for r in runs[kind])
        print(
            f"  {name:<37} {rate[kind]:>7,.0f} records/s ({rounds_text})  "
            f"CPU {cpu[kind]:5.1f} s  peak RSS {rss[kind]:6.1f} MB"
        )
    for kind in ("every", "records"):
        print(
            f"  import / {LABELS[kind]}: {rate['import'] / rate[kind]:.1%} of the rate, "
            f"{cpu[kind] / cpu['import']:.1%} by CPU time"
        )
    print(f"  import peak RSS {rss['import']:.1f} MB (target <= 200 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--pg-url", default=None, help="a server where this user may CREATE DATABASE"
    )
    parser.add_argument("--keep", type=Path, default=None, help="write the dumps here")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path = args.child
        work = {"every": child_every, "records": child_records, "import": child_import}
        print(json.dumps(timed(work[kind], path)))
        return

    tmp = Path(tempfile.mkdtemp(prefix="ss-register-bench-"))
    folder = args.keep or tmp
    folder.mkdir(parents=True, exist_ok=True)
    big, small = folder / "dump-big.xml", folder / "dump-small.xml"
    started = time.perf_counter()
    count = generate(big, args.records)
    generate(small, max(args.records // 10, 1))
    size = big.stat().st_size / 1e6
    print(f"generated {count:,} records ({size:.0f} MB) in {time.perf_counter() - started:.1f} s")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    flat = measure("import", small, {"SMARTSTEPS_DATABASE_URL": _fresh_sqlite(tmp)})
    print(
        f"memory: importing {flat['records']:,} records peaks at {flat['rss_mb']:.1f} MB "
        "(SQLite); the large dump's figure follows"
    )
    compare("SQLite", big, args.rounds, lambda: sqlite_database(tmp))
    if args.pg_url:
        compare("PostgreSQL", big, args.rounds, lambda: postgres_database(args.pg_url))
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


def _fresh_sqlite(tmp: Path) -> str:
    from api.migrate import upgrade

    url = f"sqlite:///{tmp / 'bench-small.sqlite3'}"
    upgrade(url)
    return url


if __name__ == "__main__":
    main()
