# ruff: noqa: E501  (data rows read better on one line)
"""Demo content for a first start, written by the smartsteps team and marked ``demo``.

The municipalities are real (public facts from the register: code, name, coordinates,
population at 1 January 2020); the vendors, solutions and pilots are invented examples
that show what the catalogue holds. Every demo row has ``demo: true``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from api.auth import Caller, Role
from catalogue import service
from catalogue.models import Municipality, Pilot, Solution, Vendor, columns
from catalogue.registry import upsert_municipalities
from catalogue.schemas import PilotCreate, SolutionCreate, VendorCreate
from catalogue.text import normalized_name

VC = columns(Vendor)
MC = columns(Municipality)
SEED_CALLER = Caller(key_id="seed-demo", role=Role.admin)

# code, name, district, LAU1, region, NUTS3, postcode, lat, lon, population (ČSÚ, 2020)
MUNICIPALITIES: tuple[tuple[Any, ...], ...] = (
    (
        "554979",
        "Abertamy",
        "Karlovy Vary",
        "CZ0412",
        "Karlovarský kraj",
        "CZ041",
        "36235",
        50.368855,
        12.818377,
        939,
    ),
    (
        "539210",
        "Dolní Břežany",
        "Praha-západ",
        "CZ020A",
        "Středočeský kraj",
        "CZ020",
        "25241",
        49.963314,
        14.458611,
        4231,
    ),
    (
        "550736",
        "Hostětín",
        "Uherské Hradiště",
        "CZ0722",
        "Zlínský kraj",
        "CZ072",
        "68771",
        49.050017,
        17.879516,
        214,
    ),
    (
        "584495",
        "Hustopeče",
        "Břeclav",
        "CZ0644",
        "Jihomoravský kraj",
        "CZ064",
        "69301",
        48.940946,
        16.737726,
        5975,
    ),
    (
        "537292",
        "Kněžice",
        "Nymburk",
        "CZ0208",
        "Středočeský kraj",
        "CZ020",
        "28902",
        50.257311,
        15.335464,
        505,
    ),
    (
        "599565",
        "Kopřivnice",
        "Nový Jičín",
        "CZ0804",
        "Moravskoslezský kraj",
        "CZ080",
        "74221",
        49.599570,
        18.144910,
        21851,
    ),
    (
        "578347",
        "Litomyšl",
        "Svitavy",
        "CZ0533",
        "Pardubický kraj",
        "CZ053",
        "57001",
        49.870623,
        16.311162,
        10378,
    ),
    (
        "549240",
        "Písek",
        "Písek",
        "CZ0314",
        "Jihočeský kraj",
        "CZ031",
        "39701",
        49.303554,
        14.158129,
        30415,
    ),
    (
        "576964",
        "Semily",
        "Semily",
        "CZ0514",
        "Liberecký kraj",
        "CZ051",
        "51301",
        50.605258,
        15.328241,
        8353,
    ),
    (
        "552046",
        "Tábor",
        "Tábor",
        "CZ0317",
        "Jihočeský kraj",
        "CZ031",
        "39002",
        49.413089,
        14.677566,
        34277,
    ),
    (
        "541265",
        "Velké Losiny",
        "Šumperk",
        "CZ0715",
        "Olomoucký kraj",
        "CZ071",
        "78815",
        50.032070,
        17.040687,
        2568,
    ),
    (
        "579858",
        "Vrchlabí",
        "Trutnov",
        "CZ0525",
        "Královéhradecký kraj",
        "CZ052",
        "54301",
        50.617189,
        15.605106,
        12340,
    ),
)

VENDORS = (
    {
        "ico": "27100014",
        "name": "Demo Světlo a data s.r.o.",
        "website": "https://demo-svetlo.example",
    },
    {"ico": "27100022", "name": "Demo Mobilita a.s.", "website": "https://demo-mobilita.example"},
    {
        "ico": "27100031",
        "name": "Demo Open Region z.ú.",
        "website": "https://demo-openregion.example",
    },
    {"ico": "27100049", "name": "Demo Úřad Online s.r.o.", "website": "https://demo-urad.example"},
)

OPEN = {
    "open_api_documented": True,
    "standard_data_model": True,
    "bulk_export": True,
    "data_owned_by_municipality": True,
    "exit_clause": True,
}

# (vendor index, fields)
SOLUTIONS: tuple[tuple[int, dict[str, Any]], ...] = (
    (
        0,
        {
            "name": "Chytré veřejné osvětlení",
            "summary": "Stmívatelné LED lampy s dálkovou správou a senzory pohybu.",
            "description": "Řízení veřejného osvětlení obce přes LoRaWAN; data o spotřebě v otevřeném formátu.",
            "areas": ["energy_environment"],
            "standards": ["lorawan", "mqtt", "ogc-sensorthings"],
            "mims": ["mim2"],
            "trl": 9,
            "hosting": "cloud",
            "price_model": "subscription",
            **OPEN,
            "proprietary_hardware": True,
        },
    ),
    (
        0,
        {
            "name": "Energetický management budov",
            "summary": "Měření spotřeby energie ve veřejných budovách.",
            "description": "Odečty elektroměrů a plynoměrů, upozornění na únik, reporty pro energetického manažera.",
            "areas": ["energy_environment", "public_administration"],
            "standards": ["modbus", "bacnet", "mqtt"],
            "trl": 8,
            "hosting": "hybrid",
            "price_model": "subscription",
            "open_api_documented": True,
            "bulk_export": True,
        },
    ),
    (
        0,
        {
            "name": "Senzory kvality ovzduší",
            "summary": "Síť levných čidel prachu a CO2 s otevřenými daty.",
            "description": "Čidla PM2.5, PM10 a CO2, data publikovaná v Národním katalogu otevřených dat.",
            "areas": ["energy_environment", "everyday_life"],
            "standards": ["lorawan", "ogc-sensorthings", "dcat-ap-cz"],
            "mims": ["mim1", "mim2"],
            "trl": 8,
            "hosting": "cloud",
            "price_model": "per_unit",
            **OPEN,
            "open_source": True,
            "licence": "EUPL-1.2",
            "published_in_nkod": True,
        },
    ),
    (
        1,
        {
            "name": "Parkovací senzory a navigace",
            "summary": "Obsazenost parkovacích míst v reálném čase.",
            "description": "Magnetické senzory v parkovacích místech a mobilní aplikace; výměna dat přes DATEX II.",
            "areas": ["mobility"],
            "standards": ["datex-ii", "lorawan"],
            "trl": 9,
            "hosting": "cloud",
            "price_model": "subscription",
            "proprietary_hardware": True,
        },
    ),
    (
        1,
        {
            "name": "Poptávková doprava",
            "summary": "Autobus na zavolání pro malé obce.",
            "description": "Objednávka spoje přes aplikaci nebo telefon, jízdní řády v GTFS.",
            "areas": ["mobility", "everyday_life"],
            "standards": ["gtfs", "gtfs-rt"],
            "trl": 7,
            "hosting": "cloud",
            "price_model": "subscription",
            "open_api_documented": True,
            "data_owned_by_municipality": True,
        },
    ),
    (
        1,
        {
            "name": "Nabíjení elektromobilů",
            "summary": "Veřejné nabíjecí stanice s otevřeným protokolem.",
            "description": "Nabíječky řízené přes OCPP, možnost změnit provozovatele back-office.",
            "areas": ["mobility", "energy_environment"],
            "standards": ["ocpp", "openapi"],
            "trl": 9,
            "hosting": "cloud",
            "price_model": "per_unit",
            **OPEN,
        },
    ),
    (
        2,
        {
            "name": "Otevřená datová platforma obce",
            "summary": "Katalog otevřených dat a API pro obce.",
            "description": "Publikace datových sad podle DCAT-AP-CZ do NKOD, kontextová data přes NGSI-LD.",
            "areas": ["public_administration", "economy"],
            "standards": ["ngsi-ld", "smart-data-models", "dcat-ap-cz", "openapi"],
            "mims": ["mim1", "mim2", "mim7"],
            "trl": 8,
            "hosting": "on_premises",
            "price_model": "free",
            **OPEN,
            "open_source": True,
            "licence": "EUPL-1.2",
            "published_in_nkod": True,
        },
    ),
    (
        2,
        {
            "name": "Digitální mapa obce",
            "summary": "3D model a pasport majetku obce.",
            "description": "Pasport zeleně, komunikací a osvětlení v CityJSON a INSPIRE.",
            "areas": ["public_administration"],
            "standards": ["cityjson", "citygml", "inspire"],
            "mims": ["mim7"],
            "trl": 8,
            "hosting": "hybrid",
            "price_model": "one_off",
            **OPEN,
            "open_source": True,
            "licence": "MIT",
        },
    ),
    (
        3,
        {
            "name": "Elektronické podání a platby",
            "summary": "Formuláře a platby poplatků online.",
            "description": "Přihlášení přes identitu občana (eIDAS), platby za odpady a psy.",
            "areas": ["public_administration", "everyday_life"],
            "standards": ["eidas", "oidc", "oauth2"],
            "mims": ["mim4"],
            "trl": 9,
            "hosting": "cloud",
            "price_model": "subscription",
            "open_api_documented": True,
        },
    ),
    (
        3,
        {
            "name": "Mobilní rozhlas a hlášení závad",
            "summary": "Zprávy občanům a hlášení závad s fotografií.",
            "description": "Aplikace pro hlášení závad na veřejném osvětlení a komunikacích.",
            "areas": ["everyday_life", "public_administration"],
            "standards": [],
            "trl": 9,
            "hosting": "cloud",
            "price_model": "subscription",
        },
    ),
)

# (municipality code, solution indexes, fields)
PILOTS: tuple[tuple[str, tuple[int, ...], dict[str, Any]], ...] = (
    (
        "537292",
        (0,),
        {
            "title": "Veřejné osvětlení s regulací",
            "summary": "Výměna 120 svítidel za LED s regulací podle provozu.",
            "areas": ["energy_environment"],
            "status": "in_production",
            "started_on": "2021-04-01",
            "budget_czk": "3200000.00",
            "lessons_learned": "Zakázka rozdělená na světla a řízení by dala obci víc dodavatelů.",
            "adoption": {"users": 505},
        },
    ),
    (
        "550736",
        (2,),
        {
            "title": "Měření ovzduší v obci",
            "summary": "Pět čidel kvality ovzduší, data otevřená pro školy.",
            "areas": ["energy_environment", "everyday_life"],
            "status": "implemented",
            "started_on": "2022-03-01",
            "ended_on": "2023-03-01",
            "budget_czk": "180000.00",
            "lessons_learned": "Čidla je třeba kalibrovat dvakrát ročně.",
        },
    ),
    (
        "584495",
        (3,),
        {
            "title": "Chytré parkování v centru",
            "summary": "Senzory obsazenosti na náměstí a navigace k volným místům.",
            "areas": ["mobility"],
            "status": "pilot",
            "started_on": "2023-05-01",
            "budget_czk": "950000.00",
            "lessons_learned": "Bez vlastnictví dat nelze změnit dodavatele aplikace.",
            "adoption": {"users": 1200},
        },
    ),
    (
        "541265",
        (4,),
        {
            "title": "Autobus na zavolání",
            "summary": "Poptávková doprava mezi místními částmi obce.",
            "areas": ["mobility", "everyday_life"],
            "status": "pilot",
            "started_on": "2023-09-01",
            "budget_czk": "1400000.00",
            "lessons_learned": "Senioři objednávají spíše telefonem než aplikací.",
            "adoption": {"users": 310},
        },
    ),
    (
        "599565",
        (5,),
        {
            "title": "Nabíjecí stanice u radnice",
            "summary": "Čtyři veřejné nabíječky s otevřeným protokolem OCPP.",
            "areas": ["mobility", "energy_environment"],
            "status": "in_production",
            "started_on": "2022-06-01",
            "budget_czk": "2600000.00",
            "lessons_learned": "OCPP umožnilo vyměnit provozovatele bez výměny stanic.",
        },
    ),
    (
        "578347",
        (6,),
        {
            "title": "Otevřená data města",
            "summary": "Rozpočet, zakázky a doprava jako otevřená data.",
            "areas": ["public_administration", "economy"],
            "status": "in_production",
            "started_on": "2020-01-15",
            "budget_czk": "400000.00",
            "lessons_learned": "Nejčtenější datovou sadou jsou veřejné zakázky.",
        },
    ),
    (
        "549240",
        (7,),
        {
            "title": "Pasport zeleně a komunikací",
            "summary": "Digitální mapa majetku města ve 3D.",
            "areas": ["public_administration"],
            "status": "implemented",
            "started_on": "2021-02-01",
            "ended_on": "2022-10-31",
            "budget_czk": "1800000.00",
            "lessons_learned": "Sběr dat trvá déle než nasazení software.",
        },
    ),
    (
        "552046",
        (8,),
        {
            "title": "Poplatky online",
            "summary": "Platba poplatků za odpad a psy přes portál občana.",
            "areas": ["public_administration", "everyday_life"],
            "status": "in_production",
            "started_on": "2021-09-01",
            "budget_czk": "750000.00",
            "adoption": {"users": 8200},
            "lessons_learned": "Přihlášení identitou občana zvýšilo využití.",
        },
    ),
    (
        "576964",
        (9,),
        {
            "title": "Hlášení závad občany",
            "summary": "Aplikace pro hlášení rozbitých lamp a výtluků.",
            "areas": ["everyday_life"],
            "status": "in_production",
            "started_on": "2020-05-01",
            "budget_czk": "60000.00",
            "adoption": {"users": 900},
            "lessons_learned": "Rychlá odpověď úřadu je důležitější než aplikace.",
        },
    ),
    (
        "539210",
        (0, 1),
        {
            "title": "Energetické úspory v obci",
            "summary": "Řízené osvětlení a měření spotřeby budov školy a úřadu.",
            "areas": ["energy_environment", "public_administration"],
            "status": "in_production",
            "started_on": "2019-03-01",
            "budget_czk": "5200000.00",
            "lessons_learned": "Energetický manažer obce se zaplatil za dva roky.",
        },
    ),
    (
        "554979",
        (),
        {
            "title": "Sdílená kola pro turisty",
            "summary": "Elektrokola k zapůjčení u informačního centra.",
            "areas": ["mobility", "economy"],
            "status": "discontinued",
            "started_on": "2019-06-01",
            "ended_on": "2021-09-30",
            "budget_czk": "350000.00",
            "lessons_learned": "V horském terénu bez servisu kola rychle chátrala.",
        },
    ),
    (
        "579858",
        (2, 6),
        {
            "title": "Data o ovzduší a dopravě",
            "summary": "Otevřená datová platforma spojující čidla a dopravu.",
            "areas": ["energy_environment", "mobility", "public_administration"],
            "status": "in_development",
            "started_on": "2024-02-01",
            "budget_czk": "2100000.00",
            "lessons_learned": "Standardní datové modely zkrátily integraci.",
        },
    ),
    (
        "537292",
        (),
        {
            "title": "Obecní výtopna na biomasu",
            "summary": "Vytápění obce z místní štěpky, podpora místních zemědělců.",
            "areas": ["energy_environment", "economy"],
            "status": "in_production",
            "started_on": "2006-01-01",
            "budget_czk": "130000000.00",
            "lessons_learned": "Místní palivo drží peníze v regionu.",
        },
    ),
    (
        "584495",
        (),
        {
            "title": "Coworking pro místní podnikatele",
            "summary": "Sdílená kancelář v budově radnice.",
            "areas": ["economy"],
            "status": "planned",
            "budget_czk": "900000.00",
            "lessons_learned": "",
        },
    ),
    (
        "541265",
        (8,),
        {
            "title": "Elektronická úřední deska",
            "summary": "Úřední deska a formuláře online pro malou obec.",
            "areas": ["public_administration"],
            "status": "implemented",
            "started_on": "2022-01-01",
            "budget_czk": "120000.00",
            "adoption": {"users": 640},
            "lessons_learned": "Menší obce mohou sdílet jednu smlouvu přes mikroregion.",
        },
    ),
)


def seed_demo(session: Session) -> bool:
    """Load the demo content once; False (and nothing written) when it is there already."""
    if session.execute(select(VC.id).where(VC.is_demo.is_(True)).limit(1)).first():
        return False
    present = set(session.execute(select(MC.code)).scalars())
    missing = [
        dict(
            zip(
                (
                    "code",
                    "name",
                    "district",
                    "district_lau1",
                    "region",
                    "region_nuts3",
                    "postcode",
                    "lat",
                    "lon",
                    "population",
                ),
                row,
                strict=True,
            )
        )
        for row in MUNICIPALITIES
        if row[0] not in present
    ]
    for row in missing:
        row["name_search"] = normalized_name(row["name"])
    if missing:
        upsert_municipalities(session, missing)
    vendors: list[Vendor] = []
    for data in VENDORS:
        vendor = service.create_vendor(session, SEED_CALLER, VendorCreate.model_validate(data))
        vendor.is_demo = True
        vendors.append(vendor)
    solutions: list[Solution] = []
    for vendor_index, data in SOLUTIONS:
        solution_in = SolutionCreate.model_validate({**data, "vendor_id": vendors[vendor_index].id})
        solution = service.create_solution(session, SEED_CALLER, solution_in)
        solution.is_demo = True
        solutions.append(solution)
    for code, used, data in PILOTS:
        body = PilotCreate.model_validate(
            {
                **data,
                "municipality_code": code,
                "solution_ids": [solutions[i].id for i in used],
                "contact": {"name": "Demo kontakt", "email": "demo@example.org", "public": True},
            }
        )
        pilot: Pilot = service.create_pilot(session, SEED_CALLER, body)
        pilot.is_demo = True
    session.flush()
    return True
