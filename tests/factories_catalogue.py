"""Small factories for catalogue rows (through the services, so tags and the text index
are written as the API writes them)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from api.auth import Caller, Role
from catalogue import service
from catalogue.models import Pilot, Solution, Vendor
from catalogue.schemas import PilotCreate, SolutionCreate, VendorCreate

ADMIN = Caller(key_id="test-admin", role=Role.admin)
# Real municipalities (codes from the register) used across the tests.
KNEZICE = "537292"  # Kněžice (Nymburk), 505 inhabitants
NYMBURK = "537004"  # Nymburk, the district town ~20 km away
ABERTAMY = "554979"  # Abertamy (Karlovy Vary), 939 inhabitants
HOSTETIN = "550736"  # Hostětín (Uherské Hradiště), 214 inhabitants
TABOR = "552046"  # Tábor, 34,277 inhabitants

VALID_ICOS = ("27100014", "27100022", "27100031", "27100049", "27100057")


def make_vendor(session: Session, **overrides: Any) -> Vendor:
    data = {"ico": VALID_ICOS[0], "name": "Test vendor s.r.o.", **overrides}
    return service.create_vendor(session, ADMIN, VendorCreate.model_validate(data))


def make_solution(session: Session, vendor: Vendor | None = None, **overrides: Any) -> Solution:
    vendor = vendor or make_vendor(session)
    data = {
        "vendor_id": vendor.id,
        "name": "Test solution",
        "areas": ["energy_environment"],
        **overrides,
    }
    return service.create_solution(session, ADMIN, SolutionCreate.model_validate(data))


def make_pilot(session: Session, **overrides: Any) -> Pilot:
    data = {
        "municipality_code": KNEZICE,
        "title": "Test pilot",
        "areas": ["energy_environment"],
        "status": "pilot",
        **overrides,
    }
    return service.create_pilot(session, ADMIN, PilotCreate.model_validate(data))
