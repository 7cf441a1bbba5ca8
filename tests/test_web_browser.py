"""The pages in a real browser: Chromium (the Debian package) driven by Playwright against a
real uvicorn server on a seeded database (SQLite, or PostgreSQL when the suite runs there).

What a person does: search and follow a facet, open a pilot, a solution, a town and a
procurement, use the keyboard, read on a 360 px phone, print, browse without JavaScript;
axe-core's rules run on every page (no serious or critical violation); screenshots at
1280 px and 360 px (and a PDF of a procurement) are kept as artefacts in the folder the
run prints at the end (``SMARTSTEPS_SCREENSHOTS`` chooses it).

Without a Chromium binary (or the playwright package) these tests are skipped on a
developer machine with the reason; under CI (``CI`` set) they fail instead, so CI always
runs them (``.ci/run`` installs Chromium).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from api.app import create_app
from api.auth import Role, issue_key
from api.settings import Settings
from tests.conftest import TEST_DATABASE_URL, on_postgres, upgrade_with_register
from tests.factories_web import KNEZICE, seed_catalogue, seed_procurements
from tests.servers import screenshot_dir, start_server

CHROMIUM = Path(os.environ.get("SMARTSTEPS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = screenshot_dir()


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"no Chromium binary at {CHROMIUM} (apt-get install chromium)"
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright / axe-playwright-python missing (pip install -e '.[dev]')"
    return None


MISSING = _missing()
IN_CI = bool(os.environ.get("CI"))
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(MISSING is not None and not IN_CI, reason=f"browser tests: {MISSING}"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A uvicorn server on a new database with the demo catalogue and three procurements."""
    data_dir = tmp_path_factory.mktemp("browser-site")
    admin = None
    name = f"smartsteps_b_{uuid.uuid4().hex[:10]}"
    if on_postgres():
        assert TEST_DATABASE_URL is not None
        admin = create_engine(
            TEST_DATABASE_URL, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{data_dir / 'site.sqlite3'}"
    upgrade_with_register(url)
    settings = Settings(data_dir=data_dir, database_url=url)
    app = create_app(settings)
    with TestClient(app) as client:
        with app.state.database.session(write=True) as session:
            seed_catalogue(session)
            key = issue_key(session, role=Role.admin, label="browser test seed")
            session.commit()
        ocids = seed_procurements(client, {"Authorization": f"Bearer {key.secret}"})
        pilots = client.get("/v1/pilots", params={"limit": 100}).json()["items"]
        solutions = client.get("/v1/solutions", params={"limit": 100}).json()["items"]
    app.state.database.engine.dispose()
    server = start_server(
        {
            "SMARTSTEPS_DATABASE_URL": url,
            "SMARTSTEPS_DATA_DIR": str(data_dir),
            "SMARTSTEPS_RATE_LIMIT_ANONYMOUS": "100000/minute",
            "SMARTSTEPS_RATE_LIMIT_EXPORTS": "100000/minute",
        }
    )
    try:
        yield {
            "base": server.base_url,
            "ocids": ocids,
            "pilot": next(p["id"] for p in pilots if p["title"] == "Veřejné osvětlení s regulací"),
            "solution": next(s["id"] for s in solutions if s["name"] == "Chytré veřejné osvětlení"),
        }
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if MISSING is not None:
        pytest.fail(f"CI must run the browser tests: {MISSING}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="cs-CZ")
    yield context.new_page()
    context.close()


def _shot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --- what a person does -----------------------------------------------------------------


def test_search_then_follow_a_facet(site: dict[str, Any], desktop: Any) -> None:
    page = desktop
    page.goto(site["base"] + "/")
    page.get_by_label("Hledat projekty").fill("veřejné osvětlení")
    page.get_by_label("Hledat projekty").press("Enter")
    page.wait_for_url(re.compile(r"/pilots\?q="))
    assert "veřejné osvětlení" in page.locator("h1").inner_text()
    titles = page.locator("article.pilot-card h3").all_inner_texts()
    assert "Veřejné osvětlení s regulací" in titles
    # The map shows one point per town of the results.
    towns = {
        href.rsplit("/", 1)[1]
        for href in page.locator("article.pilot-card .meta a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
    }
    points = page.locator("svg circle.map-point")
    assert {points.nth(i).get_attribute("data-code") for i in range(points.count())} == towns
    assert points.first.is_visible()
    # Follow a facet: the results narrow to that area.
    page.locator("[data-facet=area] a", has_text="Energetika a životní prostředí").click()
    page.wait_for_url(re.compile(r"area=energy_environment"))
    cards = page.locator("article.pilot-card")
    assert cards.count() >= 1
    for i in range(cards.count()):
        assert "Energetika a životní prostředí" in cards.nth(i).locator(".tags").inner_text()
    assert page.get_by_label("Energetika a životní prostředí").is_checked()


def test_a_pilot_its_solution_its_town_and_a_procurement(
    site: dict[str, Any], desktop: Any
) -> None:
    page = desktop
    page.goto(site["base"] + "/pilots?q=osvetleni")
    page.get_by_role("link", name="Veřejné osvětlení s regulací").click()
    assert page.locator("h1").inner_text() == "Veřejné osvětlení s regulací"
    assert page.get_by_role("heading", name="Poučení pro další obce").is_visible()
    assert "6\u00a0336,63\u00a0Kč" in page.locator("main").inner_text()

    page.get_by_role("link", name="Chytré veřejné osvětlení").first.click()
    assert page.locator("h1").inner_text() == "Chytré veřejné osvětlení"
    lockin = page.locator("section.lockin")
    assert re.search(r"\d+ ze 100 bodů", lockin.locator("h2").inner_text())
    assert lockin.get_by_role("img").is_visible()
    assert lockin.locator("tbody tr").count() == 8

    page.locator("#obce").locator("..").get_by_role("link", name="Kněžice").click()
    assert page.locator("h1").inner_text() == "Kněžice"
    card = page.locator("li.procurement-card", has_text="Chytré měřiče vody")
    assert "Smlouva uzavřena" in card.inner_text()
    card.get_by_text("varovné signály").click()  # opens the details
    assert card.get_by_text("Jediná nabídka").is_visible()

    page.get_by_role("link", name="Obnova veřejného osvětlení").click()
    assert page.locator("h1").inner_text() == "Obnova veřejného osvětlení"
    steps = page.locator("li.step")
    assert steps.count() == 21
    assert page.locator("li.step .verified").count() == steps.count()
    first = steps.first
    assert "Krok 1: Schválení zakázky" in first.inner_text()
    assert re.search(r"otisk [0-9a-f]{64}", first.locator(".ledger").inner_text())


def test_keyboard_alone_reaches_the_search(site: dict[str, Any], desktop: Any) -> None:
    page = desktop
    page.goto(site["base"] + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Přeskočit na obsah"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    assert page.locator(".skip-link").is_visible()
    page.keyboard.press("Enter")
    for _ in range(15):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("kola")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/pilots\?q=kola"))
    assert "Sdílená kola pro turisty" in page.locator("main").inner_text()


def test_pages_work_without_javascript_and_print(site: dict[str, Any], browser: Any) -> None:
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.goto(site["base"] + "/")
    page.get_by_label("Hledat projekty").fill("kola")
    page.get_by_role("button", name="Hledat").click()
    page.wait_for_url(re.compile(r"/pilots\?q=kola"))
    assert "Sdílená kola pro turisty" in page.locator("main").inner_text()
    page.get_by_label("V okolí obce").fill("Hostětín")
    page.get_by_role("button", name="Hledat").click()
    page.wait_for_url(re.compile(r"near=550736"))
    assert "od obce Hostětín" in page.locator("main").inner_text()
    ocid = site["ocids"]["single"]
    page.goto(site["base"] + f"/procurements/{ocid}")
    assert page.locator("li.step").count() == 6
    page.emulate_media(media="print")
    assert not page.get_by_role("navigation", name="Hlavní navigace").is_visible()
    assert page.locator("li.step").first.is_visible()
    context.close()
    # The printed procurement (with the script: its details open for paper).
    printing = browser.new_context()
    printed = printing.new_page()
    printed.goto(site["base"] + f"/procurements/{ocid}")
    printed.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert printed.locator("details[open]").count() == printed.locator("details").count()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    printed.pdf(path=str(SCREENSHOTS / "procurement-print.pdf"), format="A4")
    printing.close()


# --- every page: accessibility rules, a phone, screenshots --------------------------------

PAGES = {
    "home": lambda s: "/",
    "search": lambda s: "/pilots?q=osvetleni",
    "search-all": lambda s: "/pilots",
    "pilot": lambda s: f"/pilots/{s['pilot']}",
    "solution": lambda s: f"/solutions/{s['solution']}",
    "municipality": lambda s: f"/municipalities/{KNEZICE}",
    "procurement": lambda s: f"/procurements/{s['ocids']['full']}",
    "procurement-flags": lambda s: f"/procurements/{s['ocids']['single']}",
    "audit": lambda s: "/audit",
    "not-found": lambda s: "/pilots/999999",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_passes_axe_and_fits_a_phone(site: dict[str, Any], browser: Any, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    path = PAGES[name](site)
    for width in (1280, 360):
        context = browser.new_context(viewport={"width": width, "height": 800}, locale="cs-CZ")
        page = context.new_page()
        page.goto(site["base"] + path)
        _shot(page, f"{name}-{width}")
        results = Axe().run(page).response
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], f"{path} at {width} px"
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{path} scrolls sideways at {width} px ({scroll} px wide)"
        context.close()
