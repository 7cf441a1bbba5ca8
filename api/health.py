"""``/health`` (the process answers) and ``/ready`` (the database is reachable and current)."""

from __future__ import annotations

from typing import Literal

from alembic.runtime.migration import MigrationContext
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from api.errors import problem_response, problem_responses
from api.migrate import head_revision

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    database: str
    revision: str


@router.get("/health")
def health() -> Health:
    """The process is up and answering."""
    return Health(status="ok")


@router.get("/ready", response_model=Ready, responses=problem_responses(503))
def ready(request: Request) -> JSONResponse:
    """The database answers and its schema is at the head revision."""
    engine = request.app.state.database.engine
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError:
        return problem_response(
            503, "Service Unavailable", "The database is not reachable.", {"Retry-After": "5"}
        )
    head = head_revision()
    if current != head:
        return problem_response(
            503,
            "Service Unavailable",
            f"The database schema is at {current or 'nothing'}, not {head}: run "
            "'smartsteps db upgrade'.",
            {"Retry-After": "5"},
        )
    return JSONResponse(
        Ready(status="ready", database=engine.dialect.name, revision=current or "").model_dump()
    )
