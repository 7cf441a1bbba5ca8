"""``smartsteps import contract-register FILE``: a report, idempotent, all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session
from typer.testing import CliRunner

from api.cli import app as cli
from api.db import make_engine
from api.migrate import upgrade
from api.settings import Settings, get_settings
from procurement.register.models import RegisterDump, RegisterRecord
from procurement.register.service import BATCH
from tests.factories_register import FEBRUARY, JANUARY, Rec, write_dump


@pytest.fixture
def database_url(
    fresh_database_url: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A new, migrated database, as the CLI sees it."""
    url = fresh_database_url()
    upgrade(url)
    monkeypatch.setenv("SMARTSTEPS_DATABASE_URL", url)
    monkeypatch.setenv("SMARTSTEPS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def counts(url: str, tmp_path: Path) -> tuple[int, int]:
    engine = make_engine(Settings(data_dir=tmp_path, database_url=url))
    with Session(engine) as session:
        records = session.execute(sa.select(sa.func.count()).select_from(RegisterRecord)).scalar()
        dumps = session.execute(sa.select(sa.func.count()).select_from(RegisterDump)).scalar()
    engine.dispose()
    return int(records or 0), int(dumps or 0)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["import", "contract-register", *args])
    return result.exit_code, result.stdout, result.stderr


def test_import_reports_and_a_second_run_changes_nothing(database_url: str, tmp_path: Path) -> None:
    code, out, err = run(str(JANUARY))
    assert code == 0, err
    assert "dump of 2026-01 (complete month" in out
    assert "6 new, 0 updated, 0 unchanged" in out
    assert "1 skipped" in out
    assert f"{JANUARY.name}:" in err
    assert "idVerze" in err
    assert counts(database_url, tmp_path) == (6, 1)
    code, out, _ = run(str(JANUARY))
    assert code == 0
    assert "imported before: nothing changed" in out
    assert "dump of 2026-01 (complete month" in out
    assert counts(database_url, tmp_path) == (6, 1)
    code, out, _ = run(str(FEBRUARY))
    assert code == 0
    assert "2 new" in out
    assert counts(database_url, tmp_path) == (8, 2)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not xml at all", "not XML"),
        (b'<?xml version="1.0"?><profil><zakazka/></profil>', "not a contract-register dump"),
        (b'<?xml version="1.0"?><!DOCTYPE dump [<!ENTITY e "x">]><dump/>', "DTD"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_written(
    database_url: str, tmp_path: Path, content: bytes, reason: str
) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(content)
    code, _, err = run(str(bad))
    assert code == 1
    assert reason in err
    assert "nothing was imported" in err
    assert counts(database_url, tmp_path) == (0, 0)


def test_a_dump_broken_in_the_middle_writes_nothing(database_url: str, tmp_path: Path) -> None:
    # more records than one batch, so a batch is stored before the break is read
    records = [Rec(9000000 + n, 9500000 + n, "2026-01-05", excl="1000") for n in range(BATCH + 100)]
    whole = write_dump(tmp_path / "whole.xml", records).read_bytes()
    broken = tmp_path / "broken.xml"
    broken.write_bytes(whole[: whole.rindex(b"<zaznam>")] + b"<zaznam><identifikator>")
    code, _, err = run(str(broken))
    assert code == 1
    assert "not well-formed" in err
    assert counts(database_url, tmp_path) == (0, 0)


def test_a_missing_file_is_a_usage_error(database_url: str, tmp_path: Path) -> None:
    code, _, _ = run(str(tmp_path / "nowhere.xml"))
    assert code == 2
