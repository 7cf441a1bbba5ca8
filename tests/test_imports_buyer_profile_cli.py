"""``smartsteps import buyer-profile FILE --buyer CODE``: batches, the report, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import CliRunner

from api.cli import app as cli
from api.db import make_engine
from api.settings import Settings, get_settings
from procurement.ledger import service as ledger
from procurement.ledger.models import LedgerCheckpoint, LedgerEntry
from procurement.models import Procurement
from tests.conftest import upgrade_with_register
from tests.factories_imports import changed, current_export
from tests.factories_procurement import BUYER


@pytest.fixture
def database_url(
    fresh_database_url: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A new database with the register and the server's ledger key, as the CLI sees it."""
    url = fresh_database_url()
    upgrade_with_register(url)
    ledger.configure_from(Settings(data_dir=tmp_path, database_url=url))  # makes the key
    monkeypatch.setenv("SMARTSTEPS_DATABASE_URL", url)
    monkeypatch.setenv("SMARTSTEPS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def counts(url: str, tmp_path: Path) -> tuple[int, int, int]:
    """(procurements, ledger entries, the tree size of the latest signed checkpoint)."""
    engine = make_engine(Settings(database_url=url, data_dir=tmp_path))
    with Session(engine) as session:
        procurements, entries = (
            int(session.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (Procurement, LedgerEntry)
        )
        signed = session.execute(select(func.max(LedgerCheckpoint.tree_size))).scalar_one()
    engine.dispose()
    return procurements, entries, int(signed or 0)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["import", "buyer-profile", *args])
    return result.exit_code, result.stdout, result.stderr


def export_file(tmp_path: Path, data: bytes | None = None, name: str = "profil.xml") -> str:
    path = tmp_path / name
    path.write_bytes(current_export() if data is None else data)
    return str(path)


def test_the_command_imports_and_prints_the_report(database_url: str, tmp_path: Path) -> None:
    code, out, err = run(export_file(tmp_path), "--buyer", BUYER)
    assert code == 0, out + err
    assert "structure current, 18 parts: created 14, appended 0, unchanged 0, skipped 4" in out
    assert "steps recorded 32, unchanged 0, conflicts 0" in out
    assert "signed checkpoint at tree size 32" in out
    assert "order note: contract_signed: 'contract_signed' needs selection_decided" in out
    assert "stav_zadavaciho_postupu = 'pozastaven': imported without its state" in out
    assert "parts" in err  # the progress bar
    assert counts(database_url, tmp_path) == (14, 32, 32)


def test_the_same_file_twice_writes_nothing_the_second_time(
    database_url: str, tmp_path: Path
) -> None:
    path = export_file(tmp_path)
    assert run(path, "--buyer", BUYER)[0] == 0
    before = counts(database_url, tmp_path)
    code, out, _ = run(path, "--buyer", BUYER)
    assert code == 0
    assert "created 0, appended 0, unchanged 14, skipped 4" in out
    assert "steps recorded 0, unchanged 32" in out
    assert counts(database_url, tmp_path) == before


def test_batches_give_the_same_trail_as_one_transaction_all_signed(
    database_url: str, tmp_path: Path
) -> None:
    code, out, err = run(export_file(tmp_path), "--buyer", BUYER, "--batch-size", "5")
    assert code == 0, out + err
    assert counts(database_url, tmp_path) == (14, 32, 32)


def test_a_dry_run_writes_nothing(database_url: str, tmp_path: Path) -> None:
    code, out, _ = run(export_file(tmp_path), "--buyer", BUYER, "--dry-run")
    assert code == 0
    assert "(dry run: nothing written)" in out
    assert "created 14" in out
    assert counts(database_url, tmp_path) == (0, 0, 0)


def test_a_refused_file_exits_1_and_writes_nothing(database_url: str, tmp_path: Path) -> None:
    code, out, err = run(export_file(tmp_path, b"<profil><zakazka>"), "--buyer", BUYER)
    assert code == 1
    assert err.startswith("error: The file is not well-formed XML")
    assert out == ""
    assert counts(database_url, tmp_path) == (0, 0, 0)


def test_without_the_servers_ledger_key_nothing_is_imported(
    database_url: str, tmp_path: Path
) -> None:
    (tmp_path / "ledger-ed25519.key").unlink()
    code, _, err = run(export_file(tmp_path), "--buyer", BUYER)
    assert code == 1
    assert "no ledger signing key" in err
    assert not (tmp_path / "ledger-ed25519.key").exists()
    assert counts(database_url, tmp_path) == (0, 0, 0)


def test_an_unknown_buyer_exits_1(database_url: str, tmp_path: Path) -> None:
    code, _, err = run(export_file(tmp_path), "--buyer", "999999")
    assert code == 1
    assert "no municipality with code 999999" in err


def test_conflicts_exit_3_and_are_listed(database_url: str, tmp_path: Path) -> None:
    assert run(export_file(tmp_path), "--buyer", BUYER)[0] == 0
    contradicting = changed(
        current_export(),
        "<smluvni_cena_bez_DPH>180000.00</smluvni_cena_bez_DPH>",
        "<smluvni_cena_bez_DPH>195000.00</smluvni_cena_bez_DPH>",
    )
    before = counts(database_url, tmp_path)
    code, out, _ = run(export_file(tmp_path, contradicting, "newer.xml"), "--buyer", BUYER)
    assert code == 3
    assert "conflicts (2), nothing of them written:" in out
    assert "contract_signed data.value_excl_vat: trail '180000.00', export '195000.00'" in out
    assert counts(database_url, tmp_path) == before


def test_json_prints_the_report_as_the_api_returns_it(database_url: str, tmp_path: Path) -> None:
    code, out, _ = run(export_file(tmp_path), "--buyer", BUYER, "--json", "--dry-run")
    assert code == 0
    report = json.loads(out)
    assert (report["created"], report["steps_recorded"], report["dry_run"]) == (14, 32, True)
