"""The checked-in OpenAPI document is current, valid, and documents problem+json errors."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from typer.testing import CliRunner

from api.cli import OPENAPI_PATH, app, current_openapi


def test_checked_in_spec_is_current() -> None:
    result = CliRunner().invoke(app, ["openapi", "--check"])
    assert result.exit_code == 0, result.output
    assert OPENAPI_PATH.read_text() == current_openapi()


def test_spec_is_valid_openapi() -> None:
    validate(json.loads(current_openapi()))


def test_errors_are_documented_as_problem_json() -> None:
    spec = json.loads(current_openapi())
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (
                        f"{method} {path} {status}"
                    )


def test_operation_ids_are_route_names() -> None:
    spec = json.loads(current_openapi())
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert "create_key" in ids
    assert len(ids) == len(set(ids))


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower()
    assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200


def test_the_root_is_the_home_page_and_links_the_docs(client: TestClient) -> None:
    """A browser at / gets the Czech home page (web/), which links the API docs."""
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="cs"' in response.text
    assert 'href="/docs"' in response.text
