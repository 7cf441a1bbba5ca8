"""The request's transaction: a failed commit is an error response, never a lost 2xx."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from api.app import create_app
from api.auth import ApiKey, Role
from api.settings import Settings
from tests.conftest import MakeKey, TestDatabase


class FailingCommitDatabase(TestDatabase):
    """Sessions whose commit fails, as when the disk is full or the server goes away."""

    def session(self, *, write: bool, pool: str = "main") -> Session:
        session = super().session(write=write, pool=pool)
        if write:

            def fail() -> None:
                raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

            session.commit = fail  # type: ignore[method-assign]
        return session


def test_failed_commit_is_an_error_and_writes_nothing(
    settings: Settings,
    database: TestDatabase,
    session: Session,
    make_key: MakeKey,
    client: TestClient,
) -> None:
    admin = make_key(Role.admin)
    # Use the key once so its last_used_at is fresh and authentication writes nothing.
    assert client.get("/v1/me", headers=admin).status_code == 200
    before = session.exec(select(func.count()).select_from(ApiKey)).one()
    failing = FailingCommitDatabase(database.connection)
    app = create_app(settings, database=failing)
    # The key lookup uses a read session; only the request's write session fails to commit.
    with TestClient(app, raise_server_exceptions=False) as failing_client:
        assert failing_client.get("/v1/me", headers=admin).status_code == 200
        response = failing_client.post(
            "/v1/keys", json={"role": "auditor", "label": "x"}, headers=admin
        )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert session.exec(select(func.count()).select_from(ApiKey)).one() == before
