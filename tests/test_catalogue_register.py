"""The municipalities register: CLI import (all or nothing, file line and reason on error),
demo seed, and the municipalities API (name prefix, region, size, distance)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, pool, select
from sqlmodel import Session

from api.migrate import upgrade
from catalogue.models import Municipality, Pilot, Solution, Vendor
from catalogue.registry import (
    BUILTIN_REGISTER,
    RegisterError,
    parse_register,
    upsert_municipalities,
)
from tests.factories_catalogue import KNEZICE

REGISTER = BUILTIN_REGISTER
HEADER = "code,name,district,district_lau1,region,region_nuts3,postcode,lat,lon,population\n"
GOOD_ROW = (
    "554979,Abertamy,Karlovy Vary,CZ0412,Karlovarský kraj,CZ041,36235,50.368855,12.818377,939\n"
)


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SMARTSTEPS_DATABASE_URL": url}
    return subprocess.run(
        [str(Path(sys.executable).parent / "smartsteps"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def _count(url: str, model: type) -> int:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(model)).scalar_one())
    finally:
        engine.dispose()


def test_cli_imports_full_register_all_or_nothing_and_seeds_demo_once(
    fresh_database_url: Callable[[], str], tmp_path: Path
) -> None:
    url = fresh_database_url()
    upgrade(url)
    done = _cli(url, "import", "municipalities", str(REGISTER))
    assert done.returncode == 0, done.stderr
    assert "imported 6258 municipalities" in done.stdout
    assert _count(url, Municipality) == 6258

    # A bad row anywhere: the file line and the reason, and nothing written.
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER
        + GOOD_ROW.replace("554979", "100001")
        + "12345,Chyba,x,CZ0412,y,CZ041,36235,50.1,14.1,10\n"
    )
    failed = _cli(url, "import", "municipalities", str(bad))
    assert failed.returncode == 1
    assert "line 3" in failed.stderr
    assert "code" in failed.stderr
    assert _count(url, Municipality) == 6258

    assert _cli(url, "import", "municipalities", "--if-empty", str(REGISTER)).returncode == 0
    first = _cli(url, "seed", "demo")
    assert first.returncode == 0, first.stderr
    counts = (_count(url, Vendor), _count(url, Solution), _count(url, Pilot))
    assert counts[1] >= 10
    assert counts[2] >= 15
    again = _cli(url, "seed", "demo")
    assert "nothing to do" in again.stdout
    assert (_count(url, Vendor), _count(url, Solution), _count(url, Pilot)) == counts


def test_without_a_file_the_built_in_register_is_loaded_once(
    fresh_database_url: Callable[[], str], tmp_path: Path
) -> None:
    """What `make run` does: the register shipped in catalogue/data, into an empty database,
    from any folder (here one with nothing beside it)."""
    url = fresh_database_url()
    upgrade(url)
    env = {**os.environ, "SMARTSTEPS_DATABASE_URL": url}
    smartsteps = str(Path(sys.executable).parent / "smartsteps")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [smartsteps, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )

    first = run("import", "municipalities", "--if-empty")
    assert first.returncode == 0, first.stderr
    assert "imported 6258 municipalities" in first.stdout
    assert _count(url, Municipality) == 6258
    again = run("import", "municipalities", "--if-empty")
    assert again.returncode == 0, again.stderr
    assert "already loaded" in again.stdout


def test_built_in_register_has_its_provenance_note() -> None:
    note = (BUILTIN_REGISTER.parent / "README.md").read_text()
    assert "Czech Statistical Office" in note
    assert "volně k použití" in note
    assert BUILTIN_REGISTER.read_text().startswith(HEADER)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("55497,Abertamy,Karlovy Vary,CZ0412,Karlovarský kraj,CZ041,36235,50.36,12.81,939", "code"),
        (
            "554979,Abertamy,Karlovy Vary,CZ0412,Karlovarský kraj,CZ041,36235,52.5,13.4,939",
            "outside",
        ),
        (
            "554979,Abertamy,Karlovy Vary,CZ0412,Karlovarský kraj,CZ041,36235,50.36,12.81,-5",
            "negative",
        ),
        (
            "554979,Abertamy,Karlovy Vary,CZ0412,Karlovarský kraj,CZ041,36235,abc,12.81,939",
            "not a number",
        ),
        (
            "554979,,Karlovy Vary,CZ0412,Karlovarský kraj,CZ041,36235,50.36,12.81,939",
            "name is empty",
        ),
    ],
)
def test_bad_row_names_line_and_reason(row: str, reason: str) -> None:
    with pytest.raises(RegisterError) as caught:
        parse_register(HEADER + GOOD_ROW.replace("554979", "100001") + row + "\n")
    assert caught.value.errors[0].line == 3
    assert reason in caught.value.errors[0].reason


def test_repeated_code_and_missing_columns_are_refused() -> None:
    with pytest.raises(RegisterError, match="repeats line 2"):
        parse_register(HEADER + GOOD_ROW + GOOD_ROW)
    with pytest.raises(RegisterError, match="missing columns: population"):
        parse_register(HEADER.replace(",population", "") + GOOD_ROW)


def test_the_optional_ico_column_is_checked_and_kept(session: Session, client: TestClient) -> None:
    with_ico = HEADER.replace("population\n", "population,ico\n")
    with pytest.raises(RegisterError, match="not an IČO"):
        parse_register(with_ico + GOOD_ROW.replace("939\n", "939,00254658\n"))
    with pytest.raises(RegisterError, match="not an IČO"):
        parse_register(with_ico + GOOD_ROW.replace("939\n", "939,００２５４６５７\n"))
    upsert_municipalities(
        session, parse_register(with_ico + GOOD_ROW.replace("939\n", "939,00254657\n"))
    )
    assert client.get("/v1/municipalities/554979").json()["ico"] == "00254657"
    # A newer register without the column leaves the IČO as it was.
    upsert_municipalities(session, parse_register(HEADER + GOOD_ROW.replace(",939", ",940")))
    town = client.get("/v1/municipalities/554979").json()
    assert (town["population"], town["ico"]) == (940, "00254657")


@pytest.mark.usefixtures("municipalities_register")
class TestMunicipalitiesApi:
    def test_name_prefix_ignores_diacritics(self, client: TestClient) -> None:
        names = [
            m["name"]
            for m in client.get("/v1/municipalities", params={"q": "hustopece"}).json()["items"]
        ]
        assert names == ["Hustopeče", "Hustopeče nad Bečvou"]

    def test_prefix_of_a_later_word(self, client: TestClient) -> None:
        names = {
            m["name"]
            for m in client.get(
                "/v1/municipalities", params={"q": "nad becv", "limit": 200}
            ).json()["items"]
        }
        assert "Hustopeče nad Bečvou" in names
        assert all("nad Bečvou" in n for n in names)

    def test_near_sorts_by_distance(self, client: TestClient) -> None:
        items = client.get(
            "/v1/municipalities", params={"near": KNEZICE, "radius_km": 10, "limit": 200}
        ).json()["items"]
        distances = [m["distance_km"] for m in items]
        assert items[0]["code"] == KNEZICE
        assert distances[0] == 0.0
        assert distances == sorted(distances)
        assert 0 < max(distances) <= 10
        assert len(items) > 5

    def test_region_and_population_band(self, client: TestClient) -> None:
        items = client.get(
            "/v1/municipalities",
            params={"region": "CZ041", "population_band": "ge100k"},
        ).json()["items"]
        assert items == []  # no town of 100,000+ in the Karlovy Vary region
        big = client.get("/v1/municipalities", params={"population_min": 250000}).json()["items"]
        assert {m["name"] for m in big} == {"Praha", "Brno", "Ostrava"}

    def test_read_one_and_unknown(self, client: TestClient) -> None:
        body = client.get(f"/v1/municipalities/{KNEZICE}").json()
        assert body["name"] == "Kněžice"
        assert body["population_band"] == "500-999"
        assert client.get("/v1/municipalities/999999").status_code == 404

    def test_register_counts_every_row(self, municipalities_register: int) -> None:
        assert municipalities_register == 6258
