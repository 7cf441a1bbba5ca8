"""Schemathesis over the whole OpenAPI document: anonymously, with an admin key and with an
officer key, no operation answers 5xx or breaks its own documented contract."""

from __future__ import annotations

import os

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from api.auth import Role
from tests.conftest import MakeKey

# Schema-valid bodies may still break a business rule (an unknown municipality, an end
# before a start, a step out of order): a clear 4xx there is right, not a contract breach.
BUSINESS_RULE_CHECKS = [positive_data_acceptance]
EXAMPLES = int(os.environ.get("SMARTSTEPS_SCHEMATHESIS_EXAMPLES", "15"))


@pytest.mark.parametrize("who", ["anonymous", "admin", "officer"])
def test_api_keeps_its_contract(app: FastAPI, make_key: MakeKey, who: str) -> None:
    headers: dict[str, str] = {}
    if who == "admin":
        headers = make_key(Role.admin)
    elif who == "officer":
        headers = make_key(Role.officer, municipality_code="554979")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations

    for operation in operations:

        @given(case=operation.as_strategy(), data=st.data())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case, data: st.DataObject) -> None:
            # The caller's own key; a generated Authorization header would test nothing.
            case.headers = {**(case.headers or {}), **headers}
            if not headers:
                case.headers.pop("Authorization", None)
            case.call_and_validate(excluded_checks=BUSINESS_RULE_CHECKS)

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert failures == [], "\n\n".join(failures)
