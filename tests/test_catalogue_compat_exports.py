"""Compatibility ranking, the standards vocabulary and the open-data exports."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from catalogue.vocabulary import STANDARDS
from tests.factories_catalogue import ABERTAMY, KNEZICE, make_pilot, make_solution, make_vendor

pytestmark = pytest.mark.usefixtures("municipalities_register")


@pytest.fixture
def stack(session: Session) -> dict[str, int]:
    vendor = make_vendor(session)
    sensors = make_solution(
        session, vendor, name="Sensors", standards=["lorawan", "mqtt", "ogc-sensorthings"]
    )
    platform = make_solution(
        session,
        vendor,
        name="Platform",
        standards=["mqtt", "ogc-sensorthings", "ngsi-ld"],
        open_api_documented=True,
        bulk_export=True,
        data_owned_by_municipality=True,
    )
    broker = make_solution(session, vendor, name="Broker", standards=["mqtt"])
    dashboard = make_solution(
        session, vendor, name="Dashboard", standards=["mqtt"], open_source=True
    )
    unrelated = make_solution(session, vendor, name="Payments", standards=["eidas"])
    session.commit()
    return {
        "sensors": sensors.id,
        "platform": platform.id,
        "broker": broker.id,
        "dashboard": dashboard.id,
        "unrelated": unrelated.id,
    }  # type: ignore[dict-item]


def test_compatible_ranks_by_shared_standards_then_lockin(
    client: TestClient, stack: dict[str, int]
) -> None:
    body = client.get(f"/v1/solutions/{stack['sensors']}/compatible").json()
    assert body["stack"] == ["lorawan", "mqtt", "ogc-sensorthings"]
    ids = [i["solution"]["id"] for i in body["items"]]
    # Platform shares two; dashboard and broker one each, the open-source dashboard has
    # the lower lock-in; payments shares nothing; the solution itself is left out.
    assert ids == [stack["platform"], stack["dashboard"], stack["broker"]]
    first = body["items"][0]
    assert first["shares"] == ["mqtt", "ogc-sensorthings"]
    assert first["lacks"] == ["lorawan"]
    assert 0 < first["score"] < 1


def test_stack_of_standards_and_solutions(client: TestClient, stack: dict[str, int]) -> None:
    response = client.post(
        "/v1/compatibility", json={"standards": ["ngsi-ld"], "solution_ids": [stack["broker"]]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["stack"] == ["mqtt", "ngsi-ld"]
    assert [i["solution"]["id"] for i in body["items"]][:1] == [stack["platform"]]
    assert stack["broker"] not in [i["solution"]["id"] for i in body["items"]]


def test_compatibility_needs_a_stack(client: TestClient) -> None:
    assert client.post("/v1/compatibility", json={}).status_code == 422
    unknown = client.post("/v1/compatibility", json={"solution_ids": [999999]})
    assert unknown.status_code == 422


def test_standards_vocabulary_has_domains_and_mims(client: TestClient) -> None:
    page = client.get("/v1/standards").json()
    assert set(page) == {"items", "next_cursor"}  # the shape of every other list
    assert page["next_cursor"] is None
    items = page["items"]
    slugs = {s["slug"] for s in items}
    assert {"ngsi-ld", "gtfs", "ocpp", "dcat-ap-cz", "eidas"} <= slugs
    assert {f"mim{i}" for i in range(1, 8)} <= slugs
    assert all(s["domain"] and s["url"].startswith("https://") for s in items)
    assert len(client.get("/v1/standards", params={"kind": "mim"}).json()["items"]) == 7
    assert len(items) == len(STANDARDS)


# --- exports --------------------------------------------------------------------------


@pytest.fixture
def pilots(session: Session) -> list[int]:
    first = make_pilot(session, title='=HYPERLINK("http://evil")', budget_czk="1000.50")
    second = make_pilot(session, municipality_code=ABERTAMY, title='Kola; "sdílená"')
    session.commit()
    return [first.id, second.id]  # type: ignore[list-item]


def test_csv_for_czech_excel(client: TestClient, pilots: list[int]) -> None:
    response = client.get(
        "/v1/exports/pilots", params={"format": "csv", "bom": "true", "delimiter": "semicolon"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert (
        response.headers["content-disposition"]
        == "attachment; filename=\"pilots.csv\"; filename*=UTF-8''pilots.csv"
    )
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffid;municipality_code;")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert [int(r["id"]) for r in rows] == pilots
    assert rows[0]["title"] == '\'=HYPERLINK("http://evil")'  # formula neutralised
    assert rows[0]["budget_czk"] == "1000.50"
    assert rows[1]["title"] == 'Kola; "sdílená"'
    assert rows[0]["municipality_code"] == KNEZICE


def test_csv_defaults_to_comma_without_bom(client: TestClient, pilots: list[int]) -> None:
    text = client.get("/v1/exports/pilots").content.decode()
    assert text.startswith("id,municipality_code,")


def test_jsonl_and_geojson(client: TestClient, pilots: list[int]) -> None:
    lines = client.get("/v1/exports/pilots", params={"format": "jsonl"}).text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == pilots
    geo = client.get("/v1/exports/pilots", params={"format": "geojson"})
    assert geo.headers["content-type"] == "application/geo+json"
    collection = geo.json()
    assert collection["type"] == "FeatureCollection"
    point = collection["features"][0]["geometry"]
    assert point == {"type": "Point", "coordinates": [15.335464, 50.257311]}  # Kněžice
    assert collection["features"][1]["properties"]["municipality"]["name"] == "Abertamy"


def test_export_takes_search_filters(client: TestClient, pilots: list[int]) -> None:
    lines = client.get(
        "/v1/exports/pilots", params={"format": "jsonl", "municipality": ABERTAMY}
    ).text.splitlines()
    assert [json.loads(line)["id"] for line in lines] == pilots[1:]


def test_solutions_export(client: TestClient, session: Session) -> None:
    solution = make_solution(session, name="+SUM(A1)", standards=["gtfs", "netex"])
    session.commit()
    rows = list(csv.DictReader(io.StringIO(client.get("/v1/exports/solutions").text)))
    assert rows[-1]["id"] == str(solution.id)
    assert rows[-1]["name"] == "'+SUM(A1)"
    assert rows[-1]["standards"] == "gtfs|netex"
    assert client.get("/v1/exports/solutions", params={"format": "geojson"}).status_code == 422


def test_compatible_ranking_in_sql_equals_ranking_every_candidate(
    client: TestClient, session: Session
) -> None:
    """The SQL ranking (counted in the tags, only the best loaded) gives what ranking every
    candidate by hand gives: most shared, then lower lock-in, then id."""
    import random

    rng = random.Random(3)
    vendor = make_vendor(session)
    slugs = sorted(s.slug for s in STANDARDS)
    areas = ["mobility", "economy", "energy_environment"]
    made = []
    for n in range(40):
        chosen = rng.sample(slugs, rng.randint(0, 5))
        made.append(
            make_solution(
                session,
                vendor,
                name=f"S{n}",
                areas=rng.sample(areas, rng.randint(1, 2)),
                standards=[s for s in chosen if not s.startswith("mim")],
                mims=[s for s in chosen if s.startswith("mim")],
                open_source=rng.random() < 0.5,
                bulk_export=rng.random() < 0.5,
            )
        )
    session.commit()
    standards = [s for s in slugs if not s.startswith("mim")]
    for _ in range(15):
        stack = set(rng.sample(standards, rng.randint(1, 4)))
        area = rng.choice([None, *areas])
        body: dict[str, object] = {"standards": sorted(stack), "limit": 10}
        if area:
            body["areas"] = [area]
        answer = client.post("/v1/compatibility", json=body).json()
        expected = sorted(
            (-len(stack & set(s.standards)), s.lockin_score, s.id)
            for s in made
            if (not area or area in s.areas) and stack & set(s.standards)
        )[:10]
        assert [item["solution"]["id"] for item in answer["items"]] == [e[2] for e in expected]
        assert [len(item["shares"]) for item in answer["items"]] == [-e[0] for e in expected]
