"""Search over pilots and solutions: Czech full text, filters, proximity, similarity, sorting,
facets and pagination. The suite runs on SQLite (FTS5) and PostgreSQL (tsvector); each
test asserts the exact ids, so both databases must answer alike."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from catalogue import search, service
from catalogue.registry import COLUMNS, upsert_municipalities
from catalogue.schemas import PilotUpdate, SolutionUpdate
from catalogue.text import query_groups
from tests.conftest import MakeKey, on_postgres
from tests.factories_catalogue import (
    ABERTAMY,
    ADMIN,
    HOSTETIN,
    KNEZICE,
    NYMBURK,
    TABOR,
    VALID_ICOS,
    make_pilot,
    make_solution,
    make_vendor,
)
from tests.factories_procurement import make_procurement


@dataclass
class Corpus:
    lights: int  # Kněžice
    parking: int  # Nymburk
    bikes: int  # Abertamy
    city_lights: int  # Tábor
    air: int  # Hostětín
    open_solution: int
    closed_solution: int


@pytest.fixture
def corpus(session: Session, municipalities_register: int) -> Corpus:
    vendor = make_vendor(session)
    open_solution = make_solution(
        session,
        vendor,
        name="Řízení veřejného osvětlení",
        summary="Stmívání lamp přes LoRaWAN",
        standards=["lorawan", "mqtt"],
        mims=["mim2"],
        open_api_documented=True,
        standard_data_model=True,
        bulk_export=True,
        data_owned_by_municipality=True,
        open_source=True,
        licence="EUPL-1.2",
        exit_clause=True,
    )
    closed_solution = make_solution(
        session,
        vendor,
        name="Parkovací systém",
        summary="Senzory obsazenosti parkovišť",
        areas=["mobility"],
        standards=["datex-ii"],
        proprietary_hardware=True,
    )
    lights = make_pilot(
        session,
        municipality_code=KNEZICE,
        title="Veřejné osvětlení obce",
        description="Zakázka na LED lampy s regulací.",
        areas=["energy_environment"],
        status="in_production",
        budget_czk="505000.00",
        solution_ids=[open_solution.id],
        procurement_ocids=[make_procurement(session, buyer_code=KNEZICE)],
    )
    parking = make_pilot(
        session,
        municipality_code=NYMBURK,
        title="Parkovací senzory na náměstí",
        lessons_learned="Zakázky je lepší dělit na části.",
        areas=["mobility"],
        status="pilot",
        budget_czk="2000000.00",
        solution_ids=[closed_solution.id],
    )
    bikes = make_pilot(
        session,
        municipality_code=ABERTAMY,
        title="Sdílená kola pro turisty",
        areas=["mobility", "economy"],
        status="discontinued",
        budget_czk="93900.00",
    )
    city_lights = make_pilot(
        session,
        municipality_code=TABOR,
        title="Chytré osvětlení města",
        areas=["public_administration"],
        status="implemented",
        budget_czk="10000000.00",
    )
    air = make_pilot(
        session,
        municipality_code=HOSTETIN,
        title="Měření ovzduší",
        description="Čidla prachu v obci u školy.",
        areas=["energy_environment", "everyday_life"],
        status="pilot",
    )
    session.commit()
    ids = [p.id for p in (lights, parking, bikes, city_lights, air)]
    assert all(isinstance(i, int) for i in ids)
    return Corpus(
        lights=lights.id,  # type: ignore[arg-type]
        parking=parking.id,  # type: ignore[arg-type]
        bikes=bikes.id,  # type: ignore[arg-type]
        city_lights=city_lights.id,  # type: ignore[arg-type]
        air=air.id,  # type: ignore[arg-type]
        open_solution=open_solution.id,  # type: ignore[arg-type]
        closed_solution=closed_solution.id,  # type: ignore[arg-type]
    )


def _ids(client: TestClient, path: str = "/v1/pilots", **params: object) -> list[int]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def _set(client: TestClient, **params: object) -> set[int]:
    return set(_ids(client, **params))


# --- text -----------------------------------------------------------------------------


def test_inflected_query_finds_other_case_of_the_word(client: TestClient, corpus: Corpus) -> None:
    # "zakázky" (plural) finds "Zakázka" (pilot description) and "Zakázky" (lessons).
    assert _set(client, q="zakázky") == {corpus.lights, corpus.parking}
    assert _set(client, q="zakázka") == {corpus.lights, corpus.parking}


def test_query_without_diacritics_finds_accented_text(client: TestClient, corpus: Corpus) -> None:
    assert _set(client, q="verejne osvetleni") == {corpus.lights}
    assert _set(client, q="VEŘEJNÉ Osvětlení") == {corpus.lights}


def test_every_query_word_must_match(client: TestClient, corpus: Corpus) -> None:
    assert _set(client, q="osvetleni") == {corpus.lights, corpus.city_lights}
    assert _set(client, q="osvetleni mesta") == {corpus.city_lights}


def test_prefix_of_a_word_matches(client: TestClient, corpus: Corpus) -> None:
    assert _set(client, q="osvět") == {corpus.lights, corpus.city_lights}
    assert _set(client, q="parkov") == {corpus.parking}


def test_nominative_with_mobile_e_finds_declined_forms(client: TestClient, corpus: Corpus) -> None:
    # obec -> obce (lights), obci (air): the stemmer alone cannot see these.
    assert _set(client, q="obec") == {corpus.lights, corpus.air}


def test_text_search_covers_lessons_learned(client: TestClient, corpus: Corpus) -> None:
    assert _set(client, q="dělit části") == {corpus.parking}


def test_query_of_only_stop_words_is_422(client: TestClient, corpus: Corpus) -> None:
    response = client.get("/v1/pilots", params={"q": "a v na"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/q"


def test_solution_text_search(client: TestClient, corpus: Corpus) -> None:
    assert _set(client, path="/v1/solutions", q="verejne osvetleni") == {corpus.open_solution}
    assert _set(client, path="/v1/solutions", q="parkoviste") == {corpus.closed_solution}
    assert _set(client, path="/v1/solutions", q="ovzdusi") == set()
    assert _set(client, path="/v1/solutions", q="obsazenost") == {corpus.closed_solution}


def test_relevance_is_default_with_q_and_stable(client: TestClient, corpus: Corpus) -> None:
    first = _ids(client, q="osvetleni")
    assert first == _ids(client, q="osvetleni", sort="relevance")
    assert sorted(first) == sorted([corpus.lights, corpus.city_lights])


# --- filters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"area": "mobility"}, {"parking", "bikes"}),
        ({"area": ["mobility", "everyday_life"]}, {"parking", "bikes", "air"}),
        ({"status": "in_production"}, {"lights"}),
        ({"standard": "lorawan"}, {"lights"}),
        ({"mim": "mim2"}, {"lights"}),
        ({"region": "CZ020"}, {"lights", "parking"}),
        ({"region": "Středočeský kraj"}, {"lights", "parking"}),
        ({"region": "stredocesky KRAJ"}, {"lights", "parking"}),
        ({"region": "cz020"}, {"lights", "parking"}),
        ({"region": ["jihocesky kraj", "CZ020"]}, {"lights", "parking", "city_lights"}),
        ({"district": "CZ0208"}, {"lights", "parking"}),
        ({"population_band": "500-999"}, {"lights", "bikes"}),
        ({"population_min": 10000}, {"parking", "city_lights"}),
        ({"budget_min": "1000000"}, {"parking", "city_lights"}),
        ({"budget_max": "600000"}, {"lights", "bikes"}),
        ({"has_procurement": "true"}, {"lights"}),
        ({"open_source": "true"}, {"lights"}),
        ({"data_owned_by_municipality": "true"}, {"lights"}),
        ({"max_lockin": 20}, {"lights"}),
        ({"municipality": KNEZICE}, {"lights"}),
        ({"q": "osvetleni", "region": "CZ031"}, {"city_lights"}),
    ],
)
def test_filters(
    client: TestClient, corpus: Corpus, params: dict[str, object], expected: set[str]
) -> None:
    assert _set(client, **params) == {getattr(corpus, name) for name in expected}


def test_solution_filters(client: TestClient, corpus: Corpus) -> None:
    assert _set(client, path="/v1/solutions", open_source="true") == {corpus.open_solution}
    assert _set(client, path="/v1/solutions", max_lockin=30) == {corpus.open_solution}
    assert _set(client, path="/v1/solutions", area="mobility") == {corpus.closed_solution}
    assert _set(client, path="/v1/solutions", standard="datex-ii") == {corpus.closed_solution}
    # Where a solution is used: the parking system runs in Nymburk (CZ0208).
    assert _set(client, path="/v1/solutions", region="CZ020") == {
        corpus.open_solution,
        corpus.closed_solution,
    }
    assert _set(client, path="/v1/solutions", near=NYMBURK, radius_km=5) == {corpus.closed_solution}


@pytest.mark.parametrize(
    "path",
    ["/v1/pilots", "/v1/solutions", "/v1/municipalities", "/v1/exports/pilots"],
)
def test_region_ignores_case_and_diacritics_and_an_unknown_one_is_422(
    client: TestClient, corpus: Corpus, path: str
) -> None:
    def body(region: object) -> bytes:
        response = client.get(path, params={"region": region, "limit": 200})
        assert response.status_code == 200, response.text
        return response.content

    some = body("CZ020")  # something to compare: JSON items, or CSV rows after the header
    assert b'"items":[{' in some or some.count(b"\n") > 1
    assert body("stredocesky kraj") == body("Středočeský kraj") == body("CZ020")
    assert body("cz020") == body("CZ020")
    unknown = client.get(path, params={"region": ["CZ064", "Moravskoslezsko"]})
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["errors"] == [
        {"pointer": "/region/1", "in": "query", "detail": unknown.json()["errors"][0]["detail"]}
    ]
    assert "Moravskoslezsko" not in unknown.text  # the input is not echoed


def test_a_region_filter_matches_its_municipalities(client: TestClient, corpus: Corpus) -> None:
    items = client.get(
        "/v1/municipalities", params={"region": "kraj vysocina", "limit": 200}
    ).json()["items"]
    assert items
    assert {m["region_nuts3"] for m in items} == {"CZ063"}
    single = client.get("/v1/municipalities", params={"region": "Atlantis"})
    assert single.status_code == 422
    assert single.json()["errors"][0]["pointer"] == "/region"


# --- proximity and similarity ---------------------------------------------------------


def test_near_sorts_by_distance_and_reports_it(client: TestClient, corpus: Corpus) -> None:
    response = client.get("/v1/pilots", params={"near": KNEZICE, "radius_km": 30})
    items = response.json()["items"]
    assert [i["id"] for i in items] == [corpus.lights, corpus.parking]
    assert items[0]["distance_km"] == 0.0
    assert 15 < items[1]["distance_km"] < 25  # Kněžice - Nymburk


def test_near_radius_excludes_farther_towns(client: TestClient, corpus: Corpus) -> None:
    assert _ids(client, near=KNEZICE, radius_km=5) == [corpus.lights]


def test_similar_to_prefers_same_population_band(client: TestClient, corpus: Corpus) -> None:
    # Kněžice has 505 inhabitants (band 500-999): Abertamy (939) shares it, Hostětín (214)
    # is in the adjacent band; Nymburk and Tábor are far bigger; the town itself is left out.
    response = client.get("/v1/pilots", params={"similar_to": KNEZICE})
    items = response.json()["items"]
    assert [i["id"] for i in items] == [corpus.bikes, corpus.air]
    assert all(i["distance_km"] > 100 for i in items)


def test_sort_distance_needs_a_place(client: TestClient, corpus: Corpus) -> None:
    response = client.get("/v1/pilots", params={"sort": "distance"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/sort"


def test_near_unknown_municipality_is_422(client: TestClient, corpus: Corpus) -> None:
    response = client.get("/v1/pilots", params={"near": "999999"})
    assert response.status_code == 422
    assert "999999" in response.json()["errors"][0]["detail"]


# --- sorting, facets, pages -----------------------------------------------------------


def test_sort_cost_per_inhabitant(client: TestClient, corpus: Corpus) -> None:
    # Abertamy 93,900 / 939 = 100; Nymburk 2,000,000 / 15,154 = 132; Tábor 10 M / 34,277
    # = 292; Kněžice 505,000 / 505 = 1,000; Hostětín has no budget and comes last.
    response = client.get("/v1/pilots", params={"sort": "cost_per_inhabitant"})
    items = response.json()["items"]
    assert [i["id"] for i in items] == [
        corpus.bikes,
        corpus.parking,
        corpus.city_lights,
        corpus.lights,
        corpus.air,
    ]
    assert items[0]["cost_per_inhabitant"] == "100.00"
    assert items[3]["budget_czk"] == "505000.00"


def test_newest_first_by_default(client: TestClient, corpus: Corpus) -> None:
    assert _ids(client)[:1] == [corpus.air]


def test_facets_count_the_filtered_set(client: TestClient, corpus: Corpus) -> None:
    response = client.get(
        "/v1/pilots", params={"area": "mobility", "facets": "area,status,standard,region"}
    )
    facets = response.json()["facets"]
    assert facets["area"] == {"mobility": 2, "economy": 1}
    assert facets["status"] == {"pilot": 1, "discontinued": 1}
    assert facets["standard"] == {"datex-ii": 1}
    assert facets["region"] == {"CZ020": 1, "CZ041": 1}


def test_unknown_facet_is_422(client: TestClient, corpus: Corpus) -> None:
    assert client.get("/v1/pilots", params={"facets": "colour"}).status_code == 422


def test_cursor_pages_cover_every_result_once(client: TestClient, corpus: Corpus) -> None:
    seen: list[int] = []
    params: dict[str, object] = {"limit": 2}
    while True:
        response = client.get("/v1/pilots", params=params)
        body = response.json()
        seen += [i["id"] for i in body["items"]]
        if body["next_cursor"] is None:
            assert "Link" not in response.headers
            break
        assert 'rel="next"' in response.headers["Link"]
        params = {"limit": 2, "cursor": body["next_cursor"]}
    assert sorted(seen) == sorted(
        [corpus.lights, corpus.parking, corpus.bikes, corpus.city_lights, corpus.air]
    )


def test_forged_cursor_is_400(client: TestClient, corpus: Corpus) -> None:
    assert client.get("/v1/pilots", params={"cursor": "bm90LW91cnM"}).status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"q": "osvetleni"},
        {"sort": "cost_per_inhabitant"},
        {"area": "mobility"},
        {"sort": "cost_per_inhabitant", "limit": 2, "cursor": None},
    ],
)
def test_page_is_the_same_with_and_without_facets(
    client: TestClient, corpus: Corpus, params: dict[str, object]
) -> None:
    params = {k: v for k, v in params.items() if v is not None}
    plain = client.get("/v1/pilots", params=params).json()
    faceted = client.get("/v1/pilots", params={**params, "facets": "area,status,region"}).json()
    assert [i["id"] for i in faceted["items"]] == [i["id"] for i in plain["items"]]
    assert (faceted["next_cursor"] is None) == (plain["next_cursor"] is None)
    assert sum(faceted["facets"]["status"].values()) >= len(plain["items"])


# --- large match sets and the index's filter tags ---------------------------------------


@pytest.mark.parametrize("probed", [True, False])
def test_relevance_ranks_the_newest_window_then_older_matches_newest_first(
    client: TestClient,
    session: Session,
    corpus: Corpus,
    monkeypatch: pytest.MonkeyPatch,
    probed: bool,
) -> None:
    # PostgreSQL probes the newest documents for a full window only when its statistics
    # allow the text to be common: the order is the same either way.
    monkeypatch.setattr(search, "may_be_common", lambda *_: probed)
    # "kanalizace" matches both index forms of the exact word, "kanalizaci" only the stem:
    # ranked over every match, the four exact ones come first.
    exact = [
        make_pilot(session, title=f"Kanalizace {n}", municipality_code=TABOR) for n in range(3)
    ]
    newest_exact = make_pilot(session, title="Kanalizace obce", municipality_code=TABOR)
    newest_other = make_pilot(session, title="Oprava kanalizaci", municipality_code=TABOR)
    session.commit()
    ids = [p.id for p in (*exact, newest_exact, newest_other)]
    assert _ids(client, q="kanalizace") == [*ids[:4], ids[4]]
    # With a window of two, only the two newest matches are ranked; the rest follow,
    # newest first, and pages of any size walk the same order once, with facets (whose
    # first page reads the window in one pass on SQLite) or without.
    monkeypatch.setattr(service, "RELEVANCE_WINDOW", 2)
    expected = [ids[3], ids[4], ids[2], ids[1], ids[0]]
    assert _ids(client, q="kanalizace") == expected
    for extra in (
        {},
        {"facets": "status,region"},
        {"facets": "status,region", "municipality": TABOR},  # a filter in the index
    ):
        for size in (1, 2, 3):
            seen: list[int] = []
            params: dict[str, object] = {"q": "kanalizace", "limit": size, **extra}
            while True:
                body = client.get("/v1/pilots", params=params).json()
                seen += [i["id"] for i in body["items"]]
                if extra and "cursor" not in params:
                    assert body["facets"]["region"] == {"CZ031": 5}, size
                if body["next_cursor"] is None:
                    break
                params = {**params, "cursor": body["next_cursor"]}
            assert seen == expected, (extra, size)


def test_text_query_never_matches_the_filter_tags(client: TestClient, corpus: Corpus) -> None:
    # The index holds tag tokens such as area6d6f..., status70..., town35...: no text
    # query word may reach them, not even as a prefix.
    for word in ("area", "status", "town", "standard", "mim", "vendor", "solution"):
        assert _set(client, q=word) == set(), word


def test_text_search_with_filters_follows_pilot_updates(
    client: TestClient, corpus: Corpus, make_key: MakeKey
) -> None:
    admin = make_key("admin")
    etag = client.get(f"/v1/pilots/{corpus.bikes}").headers["ETag"]
    response = client.patch(
        f"/v1/pilots/{corpus.bikes}",
        json={"status": "in_production", "areas": ["everyday_life"], "municipality_code": TABOR},
        headers={**admin, "If-Match": etag},
    )
    assert response.status_code == 200, response.text
    assert _set(client, q="kola", status="in_production") == {corpus.bikes}
    assert _set(client, q="kola", status="discontinued") == set()
    assert _set(client, q="kola", area="everyday_life") == {corpus.bikes}
    assert _set(client, q="kola", area="mobility") == set()
    assert _set(client, q="kola", municipality=TABOR) == {corpus.bikes}
    assert _set(client, q="kola", near=ABERTAMY, radius_km=5) == set()
    facets = client.get("/v1/pilots", params={"q": "kola", "facets": "area,status,region"}).json()[
        "facets"
    ]
    assert facets == {
        "area": {"everyday_life": 1},
        "status": {"in_production": 1},
        "region": {"CZ031": 1},
    }


@pytest.mark.parametrize(
    "params",
    [
        {"area": ["mobility", "energy_environment"], "status": ["pilot", "in_production"]},
        {"standard": "lorawan"},
        {"mim": "mim2", "status": "in_production"},
        {"municipality": NYMBURK},
        {"near": KNEZICE, "radius_km": 30},
        {"similar_to": KNEZICE},
        {"region": "CZ020", "budget_max": "600000"},
    ],
)
@pytest.mark.parametrize("word", ["zakázky", "osvetleni", "obec", "kola"])
def test_text_with_filters_is_the_text_matches_that_pass_the_filters(
    client: TestClient, corpus: Corpus, params: dict[str, object], word: str
) -> None:
    # With q the tag filters are answered inside the text index, without q by SQL.
    assert _set(client, q=word, **params) == _set(client, q=word) & _set(client, **params)


def test_text_with_vendor_or_solution_filter(client: TestClient, corpus: Corpus) -> None:
    vendor_id = client.get(f"/v1/solutions/{corpus.open_solution}").json()["vendor_id"]
    assert _set(client, q="zakázky", vendor_id=vendor_id) == {corpus.lights, corpus.parking}
    assert _set(client, q="zakázky", solution_id=corpus.closed_solution) == {corpus.parking}


def test_facets_of_a_text_search_with_filters(client: TestClient, corpus: Corpus) -> None:
    response = client.get(
        "/v1/pilots",
        params={
            "q": "zakázky",
            "status": ["pilot", "in_production"],
            "facets": "area,status,region,standard,mim",
        },
    )
    facets = response.json()["facets"]
    assert facets["area"] == {"energy_environment": 1, "mobility": 1}
    assert facets["status"] == {"in_production": 1, "pilot": 1}
    assert facets["region"] == {"CZ020": 2}
    assert facets["standard"] == {"lorawan": 1, "mqtt": 1, "datex-ii": 1}
    assert facets["mim"] == {"mim2": 1}


def test_region_facet_of_a_text_search_follows_the_register(
    client: TestClient, session: Session, corpus: Corpus
) -> None:
    # The index entry carries the town's region: a register import that moves a town to
    # another region re-indexes its pilots.
    def regions() -> dict[str, int]:
        response = client.get("/v1/pilots", params={"q": "zakázky", "facets": "region"})
        assert response.status_code == 200, response.text
        return dict(response.json()["facets"]["region"])

    assert regions() == {"CZ020": 2}
    town = service.get_municipality(session, KNEZICE)
    row = {name: getattr(town, name) for name in COLUMNS} | {"name_search": town.name_search}
    upsert_municipalities(session, [row | {"region": "Zlínský kraj", "region_nuts3": "CZ072"}])
    session.commit()
    assert regions() == {"CZ020": 1, "CZ072": 1}
    assert _set(client, q="zakázky", region="CZ072") == {corpus.lights}


def test_solutions_near_report_the_distance_to_the_nearest_town_using_them(
    client: TestClient, corpus: Corpus
) -> None:
    # The open solution runs in Kněžice itself, the parking system in Nymburk (~20 km).
    response = client.get("/v1/solutions", params={"near": KNEZICE, "radius_km": 30})
    distances = {i["id"]: i["distance_km"] for i in response.json()["items"]}
    assert distances[corpus.open_solution] == 0.0
    assert 15 < distances[corpus.closed_solution] < 25
    plain = client.get("/v1/solutions").json()["items"]
    assert {i["distance_km"] for i in plain} == {None}


@pytest.mark.parametrize("limit", [0, 1, 16])
def test_prefix_expansion_keeps_the_matches(
    client: TestClient, corpus: Corpus, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    # SQLite expands a prefix into the index terms it stands for (up to a limit, beyond
    # which it stays a prefix query): the documents found are the same either way.
    monkeypatch.setattr(search, "MAX_PREFIX_TERMS", limit)
    assert _set(client, q="osvět") == {corpus.lights, corpus.city_lights}
    assert _set(client, q="zakázky") == {corpus.lights, corpus.parking}
    assert _set(client, q="obec") == {corpus.lights, corpus.air}
    assert _set(client, q="parkov", area="mobility") == {corpus.parking}


def test_prefixes_become_the_index_terms_they_stand_for(session: Session, corpus: Corpus) -> None:
    if on_postgres():
        pytest.skip("PostgreSQL's GIN index answers prefixes itself")
    groups = search._expanded(session, "pilot", query_groups("zakázky obec"))
    # zakazk* -> the indexed forms; no document holds "obec" itself, and of its declined
    # forms only "obce" (Kněžice's title) and "obci" (Hostětín's description) occur.
    assert groups == [([], ["zakazk", "zakazka", "zakazky"]), ([], ["obce", "obci"])]


def test_postgres_index_facet_tags_alone_carry_weight_a(session: Session, corpus: Corpus) -> None:
    # Facets of a text search count ts_filter(document, '{a}'): exactly the tag lexemes of
    # the kinds facets count; towns, solutions and vendors are weight B.
    if not on_postgres():
        pytest.skip("SQLite keeps the tags in a column of their own")
    rows = session.execute(
        text(
            "SELECT tsvector_to_array(document), tsvector_to_array(ts_filter(document, '{a}')), "
            "tsvector_to_array(ts_filter(document, '{b}')) FROM pilot_fts"
        )
    ).all()
    assert rows
    facet_kinds = ("~area", "~status", "~standard", "~mim", "~region")
    for lexemes, a, b in rows:
        tags = {lexeme for lexeme in lexemes if lexeme.startswith("~")}
        assert a
        assert b
        assert set(a) == {tag for tag in tags if tag.startswith(facet_kinds)}
        assert set(b) == tags - set(a)


def test_postgres_statistics_tell_common_words_from_rare_ones(
    session: Session, corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not on_postgres():
        pytest.skip("only PostgreSQL probes for a full relevance window")
    monkeypatch.setattr(search, "LEXEME_STATS_SECONDS", 0.0)

    def common(query: str, share: float) -> bool:
        found = search.ranking(session, "pilot", query)
        assert found is not None
        return search.may_be_common(session, "pilot", found, share)

    session.execute(text("ANALYZE pilot_fts"))
    # A word's share is bounded by the sum of its lexemes' shares (a stem and a form of
    # the same word in one document count twice): "osvětlení" is in 2 of the 5 pilots
    # (osvetlen, osvetleni: 0.8), "kola" in 1 (kol, kola: 0.4).
    assert common("osvětlení", 0.5)
    assert common("kola", 0.3)
    assert not common("kola", 0.5)
    assert not common("osvětlení kola", 0.5)  # every word must be common enough
    assert not common("kanalizace", 0.01)  # in no document
    # Without statistics (before any ANALYZE) nothing is ruled out.
    monkeypatch.setattr(search, "_lexeme_shares", lambda *_: None)
    assert common("kanalizace", 0.9)


def test_facets_of_the_whole_catalogue_equal_the_facets_of_a_filter_that_keeps_all(
    client: TestClient, session: Session
) -> None:
    """Without text and filters the facets come from the index's term statistics (SQLite)
    or grouped tags (PostgreSQL): they must count what walking every pilot counts."""
    vendor = make_vendor(session)
    sensors = make_solution(
        session, vendor, name="Sensors", standards=["lorawan", "mqtt"], mims=["mim1"]
    )
    meters = make_solution(session, vendor, name="Meters", standards=["modbus"], mims=["mim2"])
    for code, status, areas, used in (
        (KNEZICE, "pilot", ["energy_environment"], [sensors.id]),
        (NYMBURK, "in_production", ["mobility", "economy"], [meters.id]),
        (ABERTAMY, "pilot", ["everyday_life"], [sensors.id, meters.id]),
        (TABOR, "planned", ["public_administration"], []),
        (HOSTETIN, "discontinued", ["energy_environment", "mobility"], [meters.id]),
    ):
        make_pilot(
            session,
            municipality_code=code,
            status=status,
            areas=areas,
            solution_ids=used,
            # Words that begin like the tag kinds must not count as tags.
            description="area status standard mim region areal standardni statusy",
        )
    session.commit()
    facets = "area,status,standard,mim,region"
    whole = client.get("/v1/pilots", params={"facets": facets}).json()["facets"]
    walked = client.get("/v1/pilots", params={"facets": facets, "population_min": 0}).json()
    assert whole == walked["facets"]
    assert whole["status"] == {"pilot": 2, "in_production": 1, "planned": 1, "discontinued": 1}
    assert whole["mim"] == {"mim1": 2, "mim2": 3}
    assert sum(whole["region"].values()) == 5


def test_facets_of_the_whole_catalogue_are_counted_once_per_revision(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole catalogue's facets are counted once, then reused until a committed change
    of a pilot (new, edited status or areas, a solution's standards) gives the catalogue a
    new revision; a change rolled back leaves it as it was."""
    vendor = make_vendor(session)
    sensors = make_solution(session, vendor, name="Sensors", standards=["lorawan"], mims=[])
    first = make_pilot(session, municipality_code=KNEZICE, status="pilot", areas=["mobility"])
    session.commit()
    counted: list[int] = []
    count = service._catalogue_facets

    def spy(*args: object, **kwargs: object) -> dict[str, dict[str, int]]:
        counted.append(1)
        return count(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_catalogue_facets", spy)

    def facets() -> dict[str, dict[str, int]]:
        answer = client.get("/v1/pilots", params={"facets": "area,status,standard"})
        assert answer.status_code == 200, answer.text
        found: dict[str, dict[str, int]] = answer.json()["facets"]
        return found

    revision = service.catalogue_revision(session)
    assert facets() == {"area": {"mobility": 1}, "status": {"pilot": 1}, "standard": {}}
    assert facets()["area"] == {"mobility": 1}
    assert len(counted) == 1
    # A new pilot: a new revision, counted again.
    make_pilot(
        session,
        municipality_code=NYMBURK,
        status="planned",
        areas=["economy"],
        solution_ids=[sensors.id],
    )
    session.commit()
    assert service.catalogue_revision(session) != revision
    assert facets() == {
        "area": {"mobility": 1, "economy": 1},
        "status": {"pilot": 1, "planned": 1},
        "standard": {"lorawan": 1},
    }
    assert len(counted) == 2
    # An edit of the status and areas.
    service.update_pilot(
        session, ADMIN, first, PilotUpdate(status="in_production", areas=["economy"])
    )
    session.commit()
    assert facets()["status"] == {"in_production": 1, "planned": 1}
    assert facets()["area"] == {"economy": 2}
    assert len(counted) == 3
    # A solution's standards reach its pilots.
    service.update_solution(session, ADMIN, sensors, SolutionUpdate(standards=["mqtt"]))
    session.commit()
    assert facets()["standard"] == {"mqtt": 1}
    # Rolled back: the same revision, the same counts, not counted again.
    before = len(counted)
    make_pilot(session, municipality_code=TABOR, status="pilot", areas=["mobility"])
    session.rollback()
    assert facets()["area"] == {"economy": 2}
    assert len(counted) == before


def test_facets_of_tag_filters_without_text_come_from_the_index(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without text, filters the index holds tokens for (area, status, standard, MIM,
    vendor, solution, town) are counted from the index; they must count what walking the
    filtered pilots counts (population_min=0 keeps every pilot but needs the tables)."""
    vendor = make_vendor(session)
    other = make_vendor(session, ico=VALID_ICOS[1], name="Jiný dodavatel")
    sensors = make_solution(
        session, vendor, name="Sensors", standards=["lorawan", "mqtt"], mims=["mim1"]
    )
    meters = make_solution(session, other, name="Meters", standards=["modbus"], mims=["mim2"])
    for code, status, areas, used in (
        (KNEZICE, "pilot", ["energy_environment"], [sensors.id]),
        (NYMBURK, "in_production", ["mobility", "economy"], [meters.id]),
        (ABERTAMY, "pilot", ["everyday_life", "mobility"], [sensors.id, meters.id]),
        (TABOR, "planned", ["public_administration"], []),
        (HOSTETIN, "discontinued", ["energy_environment", "mobility"], [meters.id]),
        (HOSTETIN, "pilot", ["mobility"], [sensors.id]),
    ):
        make_pilot(session, municipality_code=code, status=status, areas=areas, solution_ids=used)
    session.commit()
    calls: list[object] = []
    counted = search.filtered_tag_counts

    def spy(*args: object, **kwargs: object) -> dict[str, int]:
        calls.append(args[1])
        return counted(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(search, "filtered_tag_counts", spy)
    facets = "area,status,standard,mim,region"
    for filters in (
        {"area": "mobility"},
        {"area": ["mobility", "energy_environment"], "status": "pilot"},
        {"status": ["pilot", "discontinued"], "standard": "lorawan"},
        {"mim": "mim2"},
        {"vendor_id": vendor.id},
        {"solution_id": meters.id, "area": "mobility"},
        {"municipality": HOSTETIN},
        {"area": "economy", "status": "planned"},
    ):
        before = len(calls)
        indexed = client.get("/v1/pilots", params={**filters, "facets": facets}).json()
        assert len(calls) == before + 1, filters
        walked = client.get(
            "/v1/pilots", params={**filters, "facets": facets, "population_min": 0}
        ).json()
        assert len(calls) == before + 1, filters
        assert indexed["facets"] == walked["facets"], filters
        assert indexed["items"] == walked["items"], filters
    by_area = client.get("/v1/pilots", params={"area": "mobility", "facets": facets}).json()
    assert by_area["facets"]["area"] == {
        "mobility": 4,
        "economy": 1,
        "everyday_life": 1,
        "energy_environment": 1,
    }
    assert by_area["facets"]["status"] == {"in_production": 1, "pilot": 2, "discontinued": 1}
