"""The controlled vocabularies: areas, pilot statuses, standards and the OASC MIMs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Area(StrEnum):
    """The five areas of a smart municipality (the Czech smart-city guide)."""

    economy = "economy"
    mobility = "mobility"
    energy_environment = "energy_environment"
    everyday_life = "everyday_life"
    public_administration = "public_administration"


class PilotStatus(StrEnum):
    planned = "planned"
    in_development = "in_development"
    pilot = "pilot"
    implemented = "implemented"
    in_production = "in_production"
    discontinued = "discontinued"


@dataclass(frozen=True)
class Standard:
    slug: str
    name: str
    domain: str
    description: str
    url: str
    kind: str = "standard"  # "standard" or "mim"


STANDARDS: tuple[Standard, ...] = (
    Standard(
        "ngsi-ld",
        "NGSI-LD",
        "context data",
        "ETSI API and information model for context information (linked data).",
        "https://www.etsi.org/committee/cim",
    ),
    Standard(
        "smart-data-models",
        "Smart Data Models",
        "data models",
        "Open, shared data models for smart cities (FIWARE, TM Forum, IUDX, OASC).",
        "https://smartdatamodels.org/",
    ),
    Standard(
        "ogc-sensorthings",
        "OGC SensorThings API",
        "sensors",
        "OGC standard API for IoT sensor observations.",
        "https://www.ogc.org/standard/sensorthings/",
    ),
    Standard(
        "mqtt",
        "MQTT",
        "messaging",
        "OASIS lightweight publish/subscribe messaging protocol for IoT.",
        "https://mqtt.org/",
    ),
    Standard(
        "lorawan",
        "LoRaWAN",
        "networks",
        "LoRa Alliance low-power wide-area network protocol.",
        "https://lora-alliance.org/about-lorawan/",
    ),
    Standard(
        "w3c-wot-td",
        "W3C WoT Thing Description",
        "devices",
        "W3C Web of Things description of device interfaces.",
        "https://www.w3.org/TR/wot-thing-description/",
    ),
    Standard(
        "gtfs",
        "GTFS",
        "public transport",
        "General Transit Feed Specification: static timetables.",
        "https://gtfs.org/",
    ),
    Standard(
        "gtfs-rt",
        "GTFS Realtime",
        "public transport",
        "Real-time vehicle positions, delays and alerts for GTFS feeds.",
        "https://gtfs.org/realtime/",
    ),
    Standard(
        "netex",
        "NeTEx",
        "public transport",
        "CEN network and timetable exchange format (EU NAP).",
        "https://netex-cen.eu/",
    ),
    Standard(
        "siri",
        "SIRI",
        "public transport",
        "CEN Service Interface for Real-time Information.",
        "https://transmodel-cen.eu/siri-standard/",
    ),
    Standard(
        "datex-ii",
        "DATEX II",
        "traffic",
        "CEN standard for exchanging traffic and parking data.",
        "https://datex2.eu/",
    ),
    Standard(
        "ocpp",
        "OCPP",
        "e-mobility",
        "Open Charge Point Protocol between chargers and their back office.",
        "https://openchargealliance.org/",
    ),
    Standard(
        "openadr",
        "OpenADR",
        "energy",
        "Open Automated Demand Response for energy flexibility.",
        "https://www.openadr.org/",
    ),
    Standard(
        "iec-61850",
        "IEC 61850",
        "energy",
        "Communication in electrical substations and distributed energy resources.",
        "https://webstore.iec.ch/en/publication/6028",
    ),
    Standard(
        "bacnet",
        "BACnet",
        "buildings",
        "ISO 16484-5 building automation and control networks.",
        "https://bacnet.org/",
    ),
    Standard(
        "knx",
        "KNX",
        "buildings",
        "ISO/IEC 14543-3 home and building control.",
        "https://www.knx.org/",
    ),
    Standard(
        "modbus",
        "Modbus",
        "industrial",
        "Open serial/TCP protocol for meters and controllers.",
        "https://modbus.org/",
    ),
    Standard(
        "citygml",
        "CityGML",
        "3D city models",
        "OGC model for 3D city and landscape models.",
        "https://www.ogc.org/standard/citygml/",
    ),
    Standard(
        "cityjson",
        "CityJSON",
        "3D city models",
        "JSON encoding of the CityGML data model (OGC community standard).",
        "https://cityjson.org/",
    ),
    Standard(
        "inspire",
        "INSPIRE",
        "spatial data",
        "EU directive 2007/2/EC spatial data infrastructure and its data specifications.",
        "https://knowledge-base.inspire.ec.europa.eu/overview_en",
    ),
    Standard(
        "dcat-ap-cz",
        "DCAT-AP-CZ",
        "open data",
        "Czech profile of DCAT-AP for the national open data catalogue (NKOD).",
        "https://ofn.gov.cz/dcat-ap-cz-rozhraní-katalogů-otevřených-dat/2024-05-28/",
    ),
    Standard(
        "openapi",
        "OpenAPI",
        "APIs",
        "OpenAPI Specification for describing HTTP APIs.",
        "https://spec.openapis.org/oas/latest.html",
    ),
    Standard(
        "oauth2",
        "OAuth 2.0",
        "identity",
        "IETF RFC 6749 authorisation framework.",
        "https://www.rfc-editor.org/info/rfc6749",
    ),
    Standard(
        "oidc",
        "OpenID Connect",
        "identity",
        "Identity layer on top of OAuth 2.0.",
        "https://openid.net/connect/",
    ),
    Standard(
        "eidas",
        "eIDAS",
        "identity",
        "EU regulation 910/2014 on electronic identification and trust services.",
        "https://digital-strategy.ec.europa.eu/en/policies/eidas-regulation",
    ),
    Standard(
        "mim1",
        "MIM1 Context Information Management",
        "OASC MIM",
        "OASC Minimal Interoperability Mechanism 1: context information management (NGSI-LD).",
        "https://oascities.org/minimal-interoperability-mechanisms/",
        "mim",
    ),
    Standard(
        "mim2",
        "MIM2 Data Models",
        "OASC MIM",
        "OASC Minimal Interoperability Mechanism 2: shared data models.",
        "https://oascities.org/minimal-interoperability-mechanisms/",
        "mim",
    ),
    Standard(
        "mim3",
        "MIM3 Contracts / Marketplace",
        "OASC MIM",
        "OASC Minimal Interoperability Mechanism 3: contracts and data marketplace.",
        "https://oascities.org/minimal-interoperability-mechanisms/",
        "mim",
    ),
    Standard(
        "mim4",
        "MIM4 Personal Data Management",
        "OASC MIM",
        "OASC Minimal Interoperability Mechanism 4: trust and personal data management.",
        "https://oascities.org/minimal-interoperability-mechanisms/",
        "mim",
    ),
    Standard(
        "mim5",
        "MIM5 Transparency / Fair AI",
        "OASC MIM",
        "OASC Minimal Interoperability Mechanism 5: fair and transparent artificial intelligence.",
        "https://oascities.org/minimal-interoperability-mechanisms/",
        "mim",
    ),
    Standard(
        "mim6",
        "MIM6 Security",
        "OASC MIM",
        "OASC Minimal Interoperability Mechanism 6: security.",
        "https://oascities.org/minimal-interoperability-mechanisms/",
        "mim",
    ),
    Standard(
        "mim7",
        "MIM7 Places",
        "OASC MIM",
        "OASC Minimal Interoperability Mechanism 7: geospatial information (places).",
        "https://oascities.org/minimal-interoperability-mechanisms/",
        "mim",
    ),
)

STANDARD_SLUGS = frozenset(s.slug for s in STANDARDS if s.kind == "standard")
MIM_SLUGS = frozenset(s.slug for s in STANDARDS if s.kind == "mim")
