"""The Czech pages over HTTP (TestClient), on SQLite and PostgreSQL: what a person sees,
where the links go, and that pages show what the API returns."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from catalogue.schemas import MunicipalityPublic, PilotPublic, SolutionPublic
from procurement.audit.redflags import RULES
from procurement.schemas import ProcurementPublic, TimelineStep
from procurement.service import procedures_public
from tests.conftest import MakeKey
from tests.factories_web import HOSTETIN, KNEZICE, seed_catalogue, seed_procurements
from tests.html_dom import Element, parse
from web import labels
from web.forms import PilotSearchForm

NBSP = "\u00a0"


@pytest.fixture
def seeded(client: TestClient, session: Session, make_key: MakeKey) -> dict[str, str]:
    seed_catalogue(session)
    return seed_procurements(client, make_key("admin"))


def page(client: TestClient, path: str, status: int = 200) -> Element:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == status, (path, response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    return parse(response.text)


def text_of(dom: Element) -> str:
    return dom.find("main").text


def pilot_id(client: TestClient, title: str) -> int:
    items = client.get("/v1/pilots", params={"q": title}).json()["items"]
    return int(next(p["id"] for p in items if p["title"] == title))


def solution_id(client: TestClient, name: str) -> int:
    items = client.get("/v1/solutions", params={"q": name}).json()["items"]
    return int(next(s["id"] for s in items if s["name"] == name))


# --- every page -------------------------------------------------------------------------


def _paths(client: TestClient, ocids: dict[str, str]) -> list[str]:
    return [
        "/",
        "/pilots",
        "/pilots?q=osvetleni",
        f"/pilots/{pilot_id(client, 'Veřejné osvětlení s regulací')}",
        f"/solutions/{solution_id(client, 'Chytré veřejné osvětlení')}",
        f"/municipalities/{KNEZICE}",
        f"/procurements/{ocids['full']}",
        f"/procurements/{ocids['single']}",
        "/audit",
    ]


def test_every_page_is_czech_with_one_heading_and_labelled_fields(
    client: TestClient, seeded: dict[str, str]
) -> None:
    for path in _paths(client, seeded):
        dom = page(client, path)
        assert dom.find("html").attrs["lang"] == "cs", path
        assert len(dom.find_all("h1")) == 1, path
        assert dom.find_all("main"), path
        assert dom.find_all("nav"), path
        labelled = {label.attrs.get("for") for label in dom.find_all("label")}
        for field in dom.select(lambda e: e.tag in ("input", "select", "textarea")):
            if field.attrs.get("type") in ("hidden", "submit"):
                continue
            assert field.attrs.get("id") in labelled, (path, field.attrs)
        # The stylesheet and script come from the app itself, not from a CDN.
        for asset in dom.find_all("link") + dom.find_all("script"):
            source = asset.attrs.get("href") or asset.attrs.get("src") or ""
            assert source.startswith("/static/"), (path, source)


def test_every_link_on_the_pages_leads_somewhere(
    client: TestClient, seeded: dict[str, str]
) -> None:
    seen: set[str] = set()
    for path in _paths(client, seeded):
        for link in page(client, path).find_all("a", href=True):
            href = link.attrs["href"]
            if not href.startswith("/") or href.startswith("/docs") or href in seen:
                continue
            seen.add(href)
            response = client.get(href.split("#")[0])
            assert response.status_code == 200, (path, href, response.status_code)
    assert any(h.startswith("/v1/exports/") for h in seen)
    assert any(h.startswith("/procurements/") for h in seen)


def test_pages_are_not_in_the_openapi_document(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for path in ("/", "/pilots", "/pilots/{pilot_id}", "/audit", "/static/{name}"):
        assert path not in paths
    assert "/v1/pilots" in paths


def test_static_files_are_served_by_the_app(client: TestClient) -> None:
    css = client.get("/static/site.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "@media print" in css.text
    assert ":focus" in css.text
    assert client.get("/static/site.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/../api/settings.py").status_code == 404
    assert client.get("/static/nothing.css").status_code == 404


# --- home and search --------------------------------------------------------------------


def test_home_shows_the_areas_with_the_api_counts_and_the_newest_pilots(
    client: TestClient, seeded: dict[str, str]
) -> None:
    dom = page(client, "/")
    api = client.get("/v1/pilots", params={"facets": "area,status", "limit": 6}).json()
    for area, name in labels.AREAS.items():
        link = dom.find("a", href=f"/pilots?area={area}")
        count = api["facets"]["area"].get(area, 0)
        assert name in link.text
        assert f"{count} " in link.text.replace(NBSP, " ")
    total = sum(api["facets"]["status"].values())
    assert f"V katalogu je {total} projekt" in text_of(dom)
    newest = [
        a.attrs["href"]
        for a in dom.find_all("a")
        if re.match(r"^/pilots/\d+$", a.attrs.get("href", ""))
    ]
    assert newest == [f"/pilots/{p['id']}" for p in api["items"]]
    form = dom.find("form", role="search")
    assert form.attrs["action"] == "/pilots"
    assert dom.find("label", for_="q").text == "Hledat projekty"


def test_search_shows_the_api_results_facets_and_map_points(
    client: TestClient, seeded: dict[str, str]
) -> None:
    dom = page(client, "/pilots?q=verejne+osvetleni")
    api = client.get(
        "/v1/pilots", params={"q": "verejne osvetleni", "limit": 20, "facets": "area,status"}
    ).json()
    shown = [e.attrs["data-pilot-id"] for e in dom.find_all("article", class_="pilot-card")]
    assert shown == [str(p["id"]) for p in api["items"]]
    assert "Veřejné osvětlení s regulací" in text_of(dom)
    total = sum(api["facets"]["status"].values())
    assert f"Nalezeno {total} projekt" in text_of(dom)
    # One point per town of the results, placed on the map.
    points = {c.attrs["data-code"] for c in dom.find_all("circle", class_="map-point")}
    assert points == {p["municipality_code"] for p in api["items"]}
    assert dom.find("svg", role="img").find_all("path")  # the country, from the register
    # Facets are links that add the value to the same search.
    facet = dom.find("div", data_facet="area")
    hrefs = [a.attrs["href"] for a in facet.find_all("a")]
    for area in api["facets"]["area"]:
        wanted = [h for h in hrefs if parse_qs(urlsplit(h).query).get("area") == [area]]
        assert wanted
        assert parse_qs(urlsplit(wanted[0]).query)["q"] == ["verejne osvetleni"]


def test_following_a_facet_narrows_the_results_as_the_api_does(
    client: TestClient, seeded: dict[str, str]
) -> None:
    dom = page(client, "/pilots")
    link = next(a for a in dom.find("div", data_facet="area").find_all("a") if "Mobilita" in a.text)
    narrowed = page(client, link.attrs["href"])
    api = client.get("/v1/pilots", params={"area": "mobility", "limit": 20}).json()
    shown = [e.attrs["data-pilot-id"] for e in narrowed.find_all("article", class_="pilot-card")]
    assert shown == [str(p["id"]) for p in api["items"]]
    assert len(shown) < len(dom.find_all("article", class_="pilot-card"))
    # The chosen value is marked, and its link takes it away again.
    chosen = narrowed.find("div", data_facet="area").find("a", aria_current="true")
    assert "area" not in parse_qs(urlsplit(chosen.attrs["href"]).query)
    checkbox = narrowed.find("input", name="area", value="mobility")
    assert "checked" in checkbox.attrs


def test_the_search_form_has_every_filter_of_the_api(app: FastAPI) -> None:
    operation = app.openapi()["paths"]["/v1/pilots"]["get"]
    api_params = {p["name"] for p in operation["parameters"]}
    page_only = {"facets", "limit"}  # the page always asks for every facet and 20 rows
    assert api_params - page_only <= set(PilotSearchForm.model_fields)


def test_search_pages_through_results_with_the_api_cursor(
    client: TestClient, seeded: dict[str, str]
) -> None:
    first = page(client, "/pilots?sort=newest")
    ids = [e.attrs["data-pilot-id"] for e in first.find_all("article", class_="pilot-card")]
    api = client.get("/v1/pilots", params={"sort": "newest", "limit": 20}).json()
    assert ids == [str(p["id"]) for p in api["items"]]
    nexts = first.find_all("a", rel="next")
    assert bool(nexts) == (api["next_cursor"] is not None)
    if nexts:  # the demo has 15 pilots: one page
        second = page(client, nexts[0].attrs["href"])
        assert second.find_all("article", class_="pilot-card")


def test_a_town_name_becomes_a_near_search(client: TestClient, seeded: dict[str, str]) -> None:
    response = client.get("/pilots?town=Hostetin&radius_km=30", follow_redirects=False)
    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["near"] == [HOSTETIN]
    assert query["radius_km"] == ["30.0"] or query["radius_km"] == ["30"]
    dom = page(client, response.headers["location"])
    assert "od obce Hostětín" in text_of(dom)
    near = client.get("/v1/pilots", params={"near": HOSTETIN, "radius_km": 30}).json()["items"]
    shown = [e.attrs["data-pilot-id"] for e in dom.find_all("article", class_="pilot-card")]
    assert shown == [str(p["id"]) for p in near]


def test_an_ambiguous_town_name_offers_the_towns(
    client: TestClient, seeded: dict[str, str]
) -> None:
    dom = page(client, "/pilots?town=Kne%C5%BEice")  # two villages are called Kněžice
    choices = dom.find("section", class_="choices").find_all("a")
    assert len(choices) >= 2
    codes = {parse_qs(urlsplit(a.attrs["href"]).query)["near"][0] for a in choices}
    assert KNEZICE in codes


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("area=bogus", "Oblast: neplatná hodnota „bogus“"),
        ("max_lockin=101", "Nejvyšší závislost na dodavateli: neplatná hodnota"),
        ("near=12", "V okolí obce: neplatná hodnota „12“. Kód obce má 6 číslic."),
        ("standard=nope", "Standard: neplatná hodnota"),
        ("q=%21%21%21", "Hledaný text neobsahuje žádné slovo"),
        ("town=Neexistujicov", "Obec „Neexistujicov“ v registru není."),
        ("sort=distance", "řazení podle vzdálenosti potřebuje obec"),
        ("near=999999", "Obec, v jejímž okolí hledáte, v registru není."),
    ],
)
def test_bad_search_input_is_a_czech_page_not_a_500(
    client: TestClient, seeded: dict[str, str], query: str, message: str
) -> None:
    response = client.get(f"/pilots?{query}")
    assert response.status_code == 422, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    summary = parse(response.text).find("div", class_="error-summary")
    assert summary.attrs["role"] == "alert"
    assert message in summary.text


def test_a_foreign_cursor_is_a_czech_400_page(client: TestClient) -> None:
    response = client.get("/pilots?cursor=not-a-cursor")
    assert response.status_code == 400
    assert "Odkaz na další stránku je neplatný" in response.text


# --- one pilot, one solution ------------------------------------------------------------


def test_pilot_page_shows_what_was_done_for_how_much_and_whats_nearby(
    client: TestClient, seeded: dict[str, str], session: Session
) -> None:
    from tests.factories_catalogue import make_pilot

    # Běrunice (835 inhabitants, Central Bohemia, 8 km away): near and of a similar size.
    make_pilot(session, municipality_code="537021", title="Sdílené elektrokolo")
    # Bílé Podolí (613) is similar but 30 km away; Tábor (34,277) is neither.
    make_pilot(session, municipality_code="533971", title="Chytrý rozhlas")
    make_pilot(session, municipality_code="552046", title="Městský parkovací dům")
    session.commit()
    number = pilot_id(client, "Veřejné osvětlení s regulací")
    api = client.get(f"/v1/pilots/{number}").json()
    dom = page(client, f"/pilots/{number}")
    main = text_of(dom)
    assert dom.find("h1").text == api["title"]
    assert dom.find("a", href=f"/municipalities/{KNEZICE}").text == "Kněžice"
    # 3,200,000 CZK for 505 inhabitants, in Czech format.
    assert Decimal(api["cost_per_inhabitant"]) == Decimal("6336.63")
    assert f"6{NBSP}336,63{NBSP}Kč" in main
    assert f"3{NBSP}200{NBSP}000{NBSP}Kč" in main
    assert api["lessons_learned"] in main
    for solution in api["solution_ids"]:
        assert dom.find_all("a", href=f"/solutions/{solution}")
    nearby = dom.find("section", aria_labelledby="v-okoli")
    near_api = client.get(
        "/v1/pilots", params={"near": KNEZICE, "radius_km": 20, "sort": "distance", "limit": 11}
    ).json()["items"]
    expected = [str(p["id"]) for p in near_api if p["id"] != number][:5]
    assert [a.attrs["data-pilot-id"] for a in nearby.find_all("article")] == expected
    # Kněžice has 505 inhabitants: towns of 200-1,999 in the Central Bohemian Region.
    similar = dom.find("section", aria_labelledby="podobne")
    similar_api = client.get(
        "/v1/pilots",
        params={
            "population_band": ["200-499", "500-999", "1k-2k"],
            "region": "CZ020",
            "sort": "newest",
            "limit": 11,
        },
    ).json()["items"]
    expected = [str(p["id"]) for p in similar_api if p["municipality_code"] != KNEZICE][:5]
    assert [a.attrs["data-pilot-id"] for a in similar.find_all("article")] == expected
    assert "Sdílené elektrokolo" in similar.text
    assert "Chytrý rozhlas" in similar.text
    assert "Městský parkovací dům" not in similar.text
    assert "Sdílené elektrokolo" in nearby.text
    assert "Chytrý rozhlas" not in nearby.text


def test_solution_page_shows_the_lockin_profile_standards_towns_and_compatible(
    client: TestClient, seeded: dict[str, str]
) -> None:
    number = solution_id(client, "Chytré veřejné osvětlení")
    api = client.get(f"/v1/solutions/{number}").json()
    dom = page(client, f"/solutions/{number}")
    lockin = dom.find("section", aria_labelledby="lockin")
    score = api["lockin"]["score"]
    assert f"{score} ze 100 bodů" in lockin.find("h2").text
    bar = lockin.find("svg", role="img")
    assert bar.attrs["aria-label"] == f"Závislost na dodavateli {score} ze 100 bodů"
    segments = sum(int(r.attrs["width"]) for r in bar.find_all("rect", class_="bar-seg"))
    assert segments == score
    rows = lockin.find("tbody").find_all("tr")
    assert len(rows) == len(api["lockin"]["reasons"])
    assert "Vyžaduje proprietární hardware dodavatele." in lockin.text  # the demo has some
    standards = dom.find("section", aria_labelledby="standardy").text
    assert "LoRaWAN" in standards
    assert "MQTT" in standards
    towns = dom.find("section", aria_labelledby="obce")
    assert towns.find_all("a", href=f"/municipalities/{KNEZICE}")
    compatible = client.get(f"/v1/solutions/{number}/compatible", params={"limit": 10}).json()
    links = dom.find("section", aria_labelledby="kompatibilni").find_all("a")
    assert [a.attrs["href"] for a in links] == [
        f"/solutions/{c['solution']['id']}" for c in compatible["items"]
    ]


@pytest.mark.parametrize(
    "path",
    ["/pilots/999999", "/pilots/abc", "/solutions/0", "/municipalities/12", "/procurements/x"],
)
def test_unknown_records_are_czech_404_pages(client: TestClient, path: str) -> None:
    dom = page(client, path, status=404)
    assert "neexistuje" in text_of(dom)


# --- a town and its procurements ----------------------------------------------------------


def test_municipality_page_lists_pilots_and_procurements_with_deadlines_findings_and_flags(
    client: TestClient, seeded: dict[str, str]
) -> None:
    dom = page(client, f"/municipalities/{KNEZICE}")
    assert dom.find("h1").text == "Kněžice"
    pilots = client.get("/v1/pilots", params={"municipality": KNEZICE}).json()["items"]
    shown = [a.attrs["data-pilot-id"] for a in dom.find_all("article", class_="pilot-card")]
    assert shown == [str(p["id"]) for p in pilots]
    cards = {c.attrs["data-ocid"]: c for c in dom.find_all("li", class_="procurement-card")}
    assert set(cards) == {seeded["full"], seeded["single"]}
    single = cards[seeded["single"]]
    timeline = client.get(f"/v1/procurements/{seeded['single']}/timeline").json()
    assert "Smlouva uzavřena" in single.text
    assert f"{len(timeline['findings'])} zjištění" in single.text
    assert "Jediná nabídka" in single.text  # its red flag
    flags = client.get("/v1/red-flags", params={"buyer": KNEZICE}).json()["items"]
    rules = {f["rule"] for f in flags if f["ocid"] == seeded["single"]}
    assert rules == {"single_bid", "contract_not_published"}
    assert "Smlouva nebyla včas uveřejněna" in single.text
    assert "Bez varovných signálů." in cards[seeded["full"]].text


def test_the_next_statutory_deadline_is_shown_as_the_api_computes_it(
    client: TestClient, seeded: dict[str, str]
) -> None:
    timeline = client.get(f"/v1/procurements/{seeded['fresh']}/timeline").json()
    due = timeline["next_deadline"]
    assert due is not None
    assert due["step_type"] == "contract_published"
    day = due["due_date"]
    czech = f"{int(day[8:10])}.{NBSP}{int(day[5:7])}.{NBSP}{day[:4]}"
    for path in (f"/municipalities/{HOSTETIN}", f"/procurements/{seeded['fresh']}"):
        dom = page(client, path)
        deadline = dom.find("time", datetime=day)
        assert deadline.text == czech
        assert "Uveřejnění smlouvy" in text_of(dom)
        assert due["legal_reference"] in text_of(dom)


# --- one procurement ----------------------------------------------------------------------


def test_procurement_page_shows_each_step_with_its_verified_ledger_entry(
    client: TestClient, seeded: dict[str, str]
) -> None:
    ocid = seeded["full"]
    timeline = client.get(f"/v1/procurements/{ocid}/timeline").json()
    dom = page(client, f"/procurements/{ocid}")
    steps = dom.find_all("li", class_="step")
    assert [s.attrs["data-seq"] for s in steps] == [str(s["seq"]) for s in timeline["steps"]]
    for shown, step in zip(steps, timeline["steps"], strict=True):
        assert labels.STEP_TYPES[step["type"]] in shown.find("h3").text
        assert shown.find("span", class_="leaf-index").text == str(step["leaf_index"])
        assert shown.find("code", class_="entry-hash").text == step["entry_hash"]
        assert shown.find("p", data_verified="true")  # checked against the signed checkpoint
    main = text_of(dom)
    assert f"3{NBSP}900{NBSP}000{NBSP}Kč" in main  # the contract value, Czech format
    assert f"+{NBSP}150{NBSP}000{NBSP}Kč" in main  # the amendment, with its sign
    assert "ab" * 32 in main  # a document's SHA-256
    # The correction: the corrected step says so and shows the value in force.
    corrected = dom.find("li", id="krok-2")
    assert "Opraveno" in corrected.text
    assert "Z2026-000124" in corrected.text
    checkpoint = client.get("/v1/ledger/checkpoint").text
    assert dom.find("pre", class_="note-text").text == " ".join(checkpoint.split())


def test_findings_and_red_flags_come_with_their_legal_references(
    client: TestClient, seeded: dict[str, str]
) -> None:
    ocid = seeded["single"]
    timeline = client.get(f"/v1/procurements/{ocid}/timeline").json()
    dom = page(client, f"/procurements/{ocid}")
    findings = dom.find("section", aria_labelledby="zjisteni").find_all("li", class_="finding")
    assert len(findings) == len(timeline["findings"]) > 0
    for shown, finding in zip(findings, timeline["findings"], strict=True):
        assert finding["legal_reference"] in shown.text
        assert labels.STEP_TYPES[finding["step_type"]] in shown.text
    flags = dom.find("section", aria_labelledby="signaly").find_all("li", class_="flag")
    assert [f.attrs["data-rule"] for f in flags] == ["single_bid", "contract_not_published"]
    api = client.get("/v1/red-flags", params={"buyer": KNEZICE}).json()["items"]
    late = next(f for f in api if f["rule"] == "contract_not_published")
    assert late["legal_reference"] in flags[1].text
    evidence = flags[0].find("a")
    assert evidence.attrs["href"] == f"/procurements/{ocid}#krok-3"


def test_a_proof_is_shown_verified_only_when_it_leads_to_the_signed_root(
    client: TestClient, seeded: dict[str, str], session: Session
) -> None:
    from web import service

    timeline = client.get(f"/v1/procurements/{seeded['single']}/timeline").json()
    step = timeline["steps"][0]
    checkpoint = service.current_checkpoint(session)
    assert checkpoint is not None
    assert checkpoint.verified
    pair = [(step["leaf_index"], step["entry_hash"])]
    assert service.step_proofs(session, pair, checkpoint)[step["leaf_index"]].verified
    # Another root (a checkpoint of another log): the same path does not lead there.
    forged = service.CheckpointView(**{**checkpoint.__dict__, "root_b64": "A" * 43 + "="})
    proof = service.step_proofs(session, pair, forged)[step["leaf_index"]]
    assert not proof.verified
    assert proof.problem
    assert "neplatí" in proof.problem
    # A hash shown that is not the stored entry's.
    wrong = [(step["leaf_index"], "0" * 64)]
    proof = service.step_proofs(session, wrong, checkpoint)[step["leaf_index"]]
    assert not proof.verified
    assert proof.problem
    assert "nesouhlasí" in proof.problem
    # A checkpoint whose signature does not hold verifies nothing.
    unsigned = service.CheckpointView(**{**checkpoint.__dict__, "verified": False})
    proof = service.step_proofs(session, pair, unsigned)[step["leaf_index"]]
    assert not proof.verified


# --- audit --------------------------------------------------------------------------------


def test_audit_page_lists_flags_the_checkpoint_the_key_and_every_export(
    client: TestClient, seeded: dict[str, str]
) -> None:
    dom = page(client, "/audit")
    api = client.get("/v1/red-flags").json()["items"]
    flags = dom.find_all("li", class_="flag")
    assert [(f.attrs["data-rule"], f.find("a").attrs["href"]) for f in flags] == [
        (f["rule"], f"/procurements/{f['ocid']}") for f in api
    ]
    key = client.get("/v1/ledger/public-key").json()["verifier_key"]
    assert key in text_of(dom)
    exports = {a.attrs["href"] for a in dom.find("table", class_="exports").find_all("a")}
    for path in (
        "/v1/exports/procurements?format=jsonl",
        "/v1/exports/procurements?format=csv",
        "/v1/exports/procurements?format=ocds",
        "/v1/exports/steps?format=jsonl",
        "/v1/exports/steps?format=ocds",
        "/v1/exports/ledger?format=jsonl",
        "/v1/exports/pilots?format=geojson",
        "/v1/exports/solutions?format=csv",
        "/v1/feed",
    ):
        assert path in exports
    assert "smartsteps verify ledger.jsonl --public-key" in text_of(dom)


def test_audit_filters_are_the_red_flag_filters(client: TestClient, seeded: dict[str, str]) -> None:
    dom = page(client, f"/audit?buyer={KNEZICE}&rule=single_bid")
    assert [f.attrs["data-rule"] for f in dom.find_all("li", class_="flag")] == ["single_bid"]
    assert dom.find("option", value="single_bid").attrs.get("selected") is not None
    empty = page(client, f"/audit?buyer={HOSTETIN}&rule=single_bid")
    assert not empty.find_all("li", class_="flag")
    bad = client.get("/audit?rule=nonsense&from=2026-13-01")
    assert bad.status_code == 422
    assert "Pravidlo: neplatná hodnota" in bad.text


# --- pages and the API stay in step -----------------------------------------------------


@pytest.mark.parametrize(
    ("model", "vocabulary"),
    [
        (PilotPublic, labels.PILOT_FIELDS),
        (SolutionPublic, labels.SOLUTION_FIELDS),
        (MunicipalityPublic, labels.MUNICIPALITY_FIELDS),
        (ProcurementPublic, labels.PROCUREMENT_FIELDS),
        (TimelineStep, labels.STEP_RECORD_FIELDS),
    ],
)
def test_every_field_the_api_returns_has_a_czech_label(
    model: Any, vocabulary: dict[str, str]
) -> None:
    assert set(model.model_fields) <= set(vocabulary)


def test_every_step_type_rule_and_procedure_has_czech_words() -> None:
    procedures = procedures_public(date.today()).procedures
    step_types = {s.type for p in procedures for s in p.steps}
    assert step_types <= set(labels.STEP_TYPES)
    assert set(RULES) <= set(labels.RED_FLAG_RULES)
    assert all(p.name_cs for p in procedures)


def test_a_field_the_api_adds_shows_under_more_details() -> None:
    from pydantic import Field, create_model

    from web import service

    extended = create_model("Extended", __base__=MunicipalityPublic, water_quality=(str, Field()))
    town = extended(
        code=KNEZICE,
        name="Kněžice",
        district="Nymburk",
        district_lau1="CZ0208",
        region="Středočeský kraj",
        region_nuts3="CZ020",
        postcode="28902",
        lat=50.2,
        lon=15.3,
        population=505,
        population_band="500-999",
        water_quality="výborná",
    )
    details = service.more_details(town, labels.MUNICIPALITY_FIELDS, service.MUNICIPALITY_SHOWN)
    assert ("water_quality", "výborná") in details
    assert ("PSČ", "28902") in details


def test_town_and_audit_pages_page_through_procurements(
    client: TestClient, seeded: dict[str, str], make_key: MakeKey
) -> None:
    headers = make_key("admin")
    for n in range(21):
        body = {
            "buyer_code": HOSTETIN,
            "title": f"Drobný nákup {n + 1}",
            "subject": "services",
            "procedure": "small_scale",
            "estimated_value_excl_vat": "50000.00",
        }
        assert client.post("/v1/procurements", json=body, headers=headers).status_code == 201
    first = page(client, f"/municipalities/{HOSTETIN}")
    cards = [c.attrs["data-ocid"] for c in first.find_all("li", class_="procurement-card")]
    following = first.find("a", rel="next").attrs["href"]
    second = page(client, following.split("#")[0])
    cards += [c.attrs["data-ocid"] for c in second.find_all("li", class_="procurement-card")]
    listed = client.get("/v1/procurements", params={"buyer_code": HOSTETIN, "limit": 100})
    assert cards == [p["ocid"] for p in listed.json()["items"]]
    assert not second.find_all("a", rel="next")
    assert client.get(f"/municipalities/{HOSTETIN}?after=x").status_code == 422

    shown: list[str] = []
    path: str | None = "/audit"
    while path:
        dom = page(client, path)
        shown += [f.find("a").attrs["href"] for f in dom.find_all("li", class_="flag")]
        nexts = dom.find_all("a", rel="next")
        path = nexts[0].attrs["href"] if nexts else None
    flags = client.get("/v1/red-flags", params={"limit": 200}).json()["items"]
    assert shown == [f"/procurements/{f['ocid']}" for f in flags]


def test_the_map_is_drawn_from_the_register(session: Session) -> None:
    from sqlmodel import select

    from catalogue.models import Municipality
    from web import service

    country = service.register(session).map
    assert len(country.regions) == 14  # the 14 regions (kraje), one path each
    assert sum(len(d) for _, d, _ in country.regions) < 60_000  # small enough to inline
    towns = {m.code: m for m in session.exec(select(Municipality))}
    for town in towns.values():
        x, y = country.project(town.lat, town.lon)
        assert 0 <= x <= country.width
        assert 0 <= y <= country.height
    as_ = country.project(towns["554499"].lat, towns["554499"].lon)  # Aš, the far west
    ostrava = country.project(towns["554821"].lat, towns["554821"].lon)
    assert as_[0] < country.width * 0.1 < country.width * 0.8 < ostrava[0]
