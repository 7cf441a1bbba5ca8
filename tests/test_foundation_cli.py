"""The command line run from a folder that is not the server's: a command never creates what
it only reads, and an expected condition (no database, no key, a server that does not answer,
a database without the schema) is one line naming what was looked at, never a traceback.
Also ``bootstrap`` on a database that has an admin, and ``keys create``'s checks."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import create_engine, pool
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from api.auth import ApiKey, Role, as_utc, issue_key
from api.cli import app as cli
from api.migrate import upgrade
from api.settings import get_settings

# Every command that needs the database, with the arguments it needs to get that far.
NEEDS_DATABASE = [
    ["keys", "list"],
    ["keys", "revoke", "0123456789ab"],
    ["keys", "create", "--role", "auditor", "--label", "x"],
    ["bootstrap"],
    ["seed", "demo"],
    ["import", "municipalities"],
    ["export", "procurements"],
    ["export", "steps", "--format", "csv"],
    ["export", "ocds", "-o", "records.json"],
    ["export", "ledger", "-o", "ledger.jsonl"],
    ["db", "backup", "backup.sqlite3"],
    ["serve"],
]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty folder as the working directory, with no SMARTSTEPS_* setting."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    for name in (
        "SMARTSTEPS_DATABASE_URL",
        "SMARTSTEPS_DATA_DIR",
        "SMARTSTEPS_LEDGER_KEY_PATH",
        "SMARTSTEPS_SECRET_KEY_PATH",
    ):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def assert_one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize("args", NEEDS_DATABASE, ids=" ".join)
def test_a_missing_database_is_named_and_not_created(elsewhere: Path, args: list[str]) -> None:
    result = run(*args)
    assert_one_line_error(
        result,
        f"no database at {elsewhere / 'data' / 'smartsteps.sqlite3'}",
        "SMARTSTEPS_DATA_DIR",
        "SMARTSTEPS_DATABASE_URL",
    )
    assert list(elsewhere.iterdir()) == []


def test_the_named_data_folder_is_where_it_looks(elsewhere: Path, tmp_path: Path) -> None:
    folder = tmp_path / "srv"
    result = CliRunner().invoke(cli, ["keys", "list"], env={"SMARTSTEPS_DATA_DIR": str(folder)})
    assert_one_line_error(
        result, f"no database at {folder / 'smartsteps.sqlite3'}", "SMARTSTEPS_DATA_DIR="
    )
    assert not folder.exists()


def test_public_key_never_creates_a_signing_key(elsewhere: Path) -> None:
    result = run("ledger", "public-key")
    assert_one_line_error(
        result,
        f"no ledger signing key at {elsewhere / 'data' / 'ledger-ed25519.key'}",
        "SMARTSTEPS_DATA_DIR",
    )
    assert list(elsewhere.iterdir()) == []


def test_export_ledger_needs_the_servers_key_too(
    elsewhere: Path, fresh_database_url: Callable[[], str]
) -> None:
    url = fresh_database_url()
    upgrade(url)
    result = CliRunner().invoke(
        cli, ["export", "ledger", "-o", "ledger.jsonl"], env={"SMARTSTEPS_DATABASE_URL": url}
    )
    assert_one_line_error(result, "no ledger signing key at")
    assert list(elsewhere.iterdir()) == []


def test_a_database_that_does_not_answer_is_one_line(elsewhere: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://smartsteps:secret@127.0.0.1:{port}/smartsteps"
    result = CliRunner().invoke(cli, ["keys", "list"], env={"SMARTSTEPS_DATABASE_URL": url})
    assert_one_line_error(result, "cannot open the database", f"127.0.0.1:{port}")
    assert "secret" not in result.output


def test_a_database_without_the_schema_says_upgrade(elsewhere: Path) -> None:
    (elsewhere / "empty.sqlite3").touch()
    url = f"sqlite:///{elsewhere / 'empty.sqlite3'}"
    result = CliRunner().invoke(cli, ["keys", "list"], env={"SMARTSTEPS_DATABASE_URL": url})
    assert_one_line_error(result, "has no smartsteps schema", "smartsteps db upgrade")
    assert (elsewhere / "empty.sqlite3").stat().st_size == 0


def test_an_export_into_a_missing_folder_is_one_line(elsewhere: Path) -> None:
    result = run("export", "steps", "-o", "no/such/folder/steps.jsonl")
    assert_one_line_error(result, "cannot write no/such/folder/steps.jsonl", "no folder")


# --- bootstrap and keys create ---------------------------------------------------------


@pytest.fixture
def database(elsewhere: Path, fresh_database_url: Callable[[], str]) -> str:
    url = fresh_database_url()
    upgrade(url)
    return url


def _admin_keys(url: str) -> list[ApiKey]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with Session(engine) as session:
            return list(session.exec(select(ApiKey).where(ApiKey.role == "admin")).all())
    finally:
        engine.dispose()


def test_bootstrap_on_a_database_with_an_admin_says_so_and_creates_nothing(database: str) -> None:
    env = {"SMARTSTEPS_DATABASE_URL": database}
    first = CliRunner().invoke(cli, ["bootstrap"], env=env)
    assert first.exit_code == 0, first.output
    assert "First admin API key" in first.output
    assert "ssk_" in first.output
    assert len(_admin_keys(database)) == 1

    again = CliRunner().invoke(cli, ["bootstrap"], env=env)
    assert again.exit_code == 0, again.output
    assert "an active admin key exists already" in again.output
    assert "ssk_" not in again.output
    assert len(_admin_keys(database)) == 1

    asked = CliRunner().invoke(cli, ["bootstrap", "--another"], env=env)
    assert asked.exit_code == 0, asked.output
    assert "ssk_" in asked.output
    assert len(_admin_keys(database)) == 2


def test_bootstrap_counts_only_admin_keys_that_still_work(database: str) -> None:
    engine = create_engine(database, poolclass=pool.NullPool)
    with Session(engine) as session:
        revoked = issue_key(session, role=Role.admin, label="old")
        revoked.key.revoked_at = datetime.now(UTC)
        session.commit()
    engine.dispose()
    result = CliRunner().invoke(cli, ["bootstrap"], env={"SMARTSTEPS_DATABASE_URL": database})
    assert result.exit_code == 0, result.output
    assert "ssk_" in result.output
    assert len(_admin_keys(database)) == 2


@pytest.mark.parametrize(
    ("expires", "says"),
    [
        ("2027-12-31", "give the time zone, e.g. 2027-12-31T00:00:00Z"),
        ("2027-12-31T00:00:00", "give the time zone"),
        ("31.12.2027", "is not a time"),
        ("2001-01-01T00:00:00Z", "must lie in the future"),
        ("2999-01-01T00:00:00Z", "must lie within 10 years"),
    ],
)
def test_keys_create_refuses_an_expiry_the_api_refuses(
    database: str, expires: str, says: str
) -> None:
    result = CliRunner().invoke(
        cli,
        ["keys", "create", "--role", "auditor", "--label", "x", "--expires", expires],
        env={"SMARTSTEPS_DATABASE_URL": database},
    )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.output.startswith("error: --expires: ")
    assert says in result.output


def test_keys_create_takes_an_expiry_as_the_api_does(database: str) -> None:
    when = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    result = CliRunner().invoke(
        cli,
        ["keys", "create", "--role", "admin", "--label", "x", "--expires", when.isoformat()],
        env={"SMARTSTEPS_DATABASE_URL": database},
    )
    assert result.exit_code == 0, result.output
    (key,) = _admin_keys(database)
    assert key.expires_at is not None
    assert as_utc(key.expires_at) == when


def test_keys_create_help_states_the_expiry_the_api_accepts() -> None:
    from api.keys_router import EXPIRY_RULE

    result = CliRunner().invoke(cli, ["keys", "create", "--help"], env={"COLUMNS": "400"})
    assert " ".join(EXPIRY_RULE.split()) in " ".join(result.output.split())


def test_keys_create_names_the_option_of_a_wrong_scope(database: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["keys", "create", "--role", "officer", "--label", "x"],
        env={"SMARTSTEPS_DATABASE_URL": database},
    )
    assert result.exit_code == 2
    assert "error: --municipality: an officer key needs the municipality" in result.output
    engine = create_engine(database, poolclass=pool.NullPool)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(ApiKey)).one() == 0
    engine.dispose()
