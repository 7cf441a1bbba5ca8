"""Codes are ASCII digits, and names and texts hold no invisible characters: full-width or
Arabic-Indic digits made a second vendor with the same IČO, and bidi overrides made a name
read otherwise than it is stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.auth import Role
from procurement.audit.cli import _filters
from tests import factories_catalogue as cf
from tests import factories_procurement as pf
from tests.conftest import MakeKey

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
ICO = cf.VALID_ICOS[0]


def _problem(response: Any, pointer: str) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [e["pointer"] for e in errors] == [pointer], errors
    return str(errors[0]["detail"])


@pytest.mark.parametrize("digits", [FULL_WIDTH, ARABIC_INDIC], ids=["full-width", "arabic"])
def test_an_ico_in_other_digits_is_422_and_makes_no_twin_vendor(
    client: TestClient, make_key: MakeKey, digits: dict[int, str]
) -> None:
    admin = make_key(Role.admin)
    assert client.post("/v1/vendors", json={"ico": ICO, "name": "A"}, headers=admin).is_success
    twin = client.post(
        "/v1/vendors", json={"ico": ICO.translate(digits), "name": "B"}, headers=admin
    )
    _problem(twin, "/ico")
    assert [v["ico"] for v in client.get("/v1/vendors").json()["items"]] == [ICO]


@pytest.mark.parametrize("digits", [FULL_WIDTH, ARABIC_INDIC], ids=["full-width", "arabic"])
def test_municipality_codes_in_other_digits_are_422(
    client: TestClient, make_key: MakeKey, digits: dict[int, str]
) -> None:
    admin = make_key(Role.admin)
    code = cf.KNEZICE.translate(digits)
    officer = {"role": "officer", "label": "x", "municipality_code": code}
    _problem(client.post("/v1/keys", json=officer, headers=admin), "/municipality_code")
    for path, parameter in (
        ("/v1/pilots", "near"),
        ("/v1/pilots", "municipality"),
        ("/v1/municipalities", "near"),
        ("/v1/solutions", "similar_to"),
    ):
        response = client.get(path, params={parameter: code})
        assert response.status_code == 422, (path, parameter)
        assert response.json()["errors"][0]["pointer"] == f"/{parameter}"
    assert client.get(f"/v1/municipalities/{code}").status_code == 422


def test_money_in_other_digits_is_422(
    client: TestClient, make_key: MakeKey, session: Session
) -> None:
    admin = make_key(Role.admin)
    body = pf.procurement_body(estimated_value_excl_vat="３５００００.00")
    _problem(client.post("/v1/procurements", json=body, headers=admin), "/estimated_value_excl_vat")
    pilot = {
        "municipality_code": cf.KNEZICE,
        "title": "Pilot",
        "areas": ["mobility"],
        "status": "pilot",
        "budget_czk": "٥٠٠٠",
    }
    _problem(client.post("/v1/pilots", json=pilot, headers=admin), "/budget_czk")
    response = client.get("/v1/pilots", params={"budget_min": "１０"})
    assert response.status_code == 422
    assert client.get("/v1/procurements").json()["items"] == []


def test_the_export_command_wants_an_ascii_buyer_code() -> None:
    with pytest.raises(typer.BadParameter):
        _filters(pf.BUYER.translate(FULL_WIDTH), None, None, None, None)
    assert _filters(pf.BUYER, None, None, None, None).buyer_code == pf.BUYER


BIDI = "Firma \u202esy s.r.o."  # a right-to-left override
HIDDEN = [
    ("\u202e", "U+202E"),
    ("\u2066", "U+2066"),
    ("\u200b", "U+200B"),
    ("\ufeff", "U+FEFF"),
    ("\u00ad", "U+00AD"),
    ("\x07", "U+0007"),
    ("\x85", "U+0085"),
]


def _vendor(text: str) -> tuple[str, dict[str, Any], str]:
    return "/v1/vendors", {"ico": ICO, "name": text}, "/name"


def _pilot_title(text: str) -> tuple[str, dict[str, Any], str]:
    body = {"municipality_code": cf.KNEZICE, "title": text, "areas": ["mobility"]}
    return "/v1/pilots", {**body, "status": "pilot"}, "/title"


def _pilot_description(text: str) -> tuple[str, dict[str, Any], str]:
    path, body, _ = _pilot_title("Pilot")
    return path, {**body, "description": text}, "/description"


def _pilot_partner(text: str) -> tuple[str, dict[str, Any], str]:
    path, body, _ = _pilot_title("Pilot")
    return path, {**body, "partners": [{"name": text, "kind": "firm"}]}, "/partners/0/name"


def _pilot_contact(text: str) -> tuple[str, dict[str, Any], str]:
    path, body, _ = _pilot_title("Pilot")
    return path, {**body, "contact": {"email": f"a{text}@obec.cz"}}, "/contact/email"


def _key_label(text: str) -> tuple[str, dict[str, Any], str]:
    return "/v1/keys", {"role": "auditor", "label": text}, "/label"


def _procurement_title(text: str) -> tuple[str, dict[str, Any], str]:
    return "/v1/procurements", pf.procurement_body(title=text), "/title"


def _procurement_link(text: str) -> tuple[str, dict[str, Any], str]:
    ids = {"buyer_profile": f"https://profil.example.cz/{text}obec"}
    return "/v1/procurements", pf.procurement_body(external_ids=ids), "/external_ids/buyer_profile"


BODIES: dict[str, Callable[[str], tuple[str, dict[str, Any], str]]] = {
    "vendor name": _vendor,
    "pilot title": _pilot_title,
    "pilot description": _pilot_description,
    "partner name": _pilot_partner,
    "contact e-mail": _pilot_contact,
    "key label": _key_label,
    "procurement title": _procurement_title,
    "procurement link": _procurement_link,
}


@pytest.mark.parametrize("field", sorted(BODIES))
@pytest.mark.parametrize(("char", "code"), HIDDEN, ids=[c for _, c in HIDDEN])
def test_invisible_characters_are_422_naming_the_field(
    client: TestClient, make_key: MakeKey, field: str, char: str, code: str
) -> None:
    admin = make_key(Role.admin)
    path, body, pointer = BODIES[field](f"Obec{char}Kněžice")
    detail = _problem(client.post(path, json=body, headers=admin), pointer)
    assert code in detail


def test_a_step_with_a_bidi_override_in_a_supplier_name_is_422(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    ocid = pf.create_procurement(client, admin)
    body = pf.step(
        "invitation_sent",
        pf.at("2026-01-12"),
        suppliers=[{"ico": pf.ICO_B, "name": BIDI}],
        bid_deadline=pf.at("2026-02-06"),
    )
    response = client.post(f"/v1/procurements/{ocid}/steps", json=body, headers=admin)
    _problem(response, "/data/suppliers/0/name")
    assert client.get(f"/v1/procurements/{ocid}/steps").json()["items"] == []


def test_names_are_one_line_and_texts_keep_their_lines(
    client: TestClient, make_key: MakeKey
) -> None:
    admin = make_key(Role.admin)
    for text in ("Obec\nKněžice", "Obec\tKněžice", "Obec\u2028Kněžice", "Obec\u200dKněžice"):
        path, body, pointer = _pilot_title(text)
        _problem(client.post(path, json=body, headers=admin), pointer)
    path, body, _ = _pilot_description("Řádek 1\r\n\tŘádek 2\nŘádek 3 👩‍💻")
    body["lessons_learned"] = "Poučení:\n- první\n- druhé"
    created = client.post(path, json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["description"] == body["description"]
