"""Backup and restore: a restored database holds exactly what the original held."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session

from api.app import create_app
from api.auth import Role, issue_key
from api.backup import BackupError, backup, restore
from api.db import make_engine
from api.metadata import metadata
from api.migrate import upgrade
from api.settings import Settings
from tests import factories_procurement as f
from tests.conftest import upgrade_with_register


def _snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in primary-key order."""
    with engine.connect() as connection:
        return {
            name: [
                tuple(row)
                for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for name, table in metadata.tables.items()
        }


def _trail(client: TestClient) -> dict[str, object]:
    """What an auditor sees: the signed checkpoint, the live verification, every
    procurement and its timeline."""
    procurements = client.get("/v1/procurements", params={"limit": 200}).json()["items"]
    return {
        "checkpoint": client.get("/v1/ledger/checkpoint").text,
        "procurements": procurements,
        "timelines": [
            client.get(f"/v1/procurements/{p['ocid']}/timeline").json() for p in procurements
        ],
    }


def test_restore_gives_back_every_row_and_the_same_ledger_root(
    fresh_database_url: Callable[[], str], tmp_path: Path
) -> None:
    original_url, restored_url = fresh_database_url(), fresh_database_url()
    upgrade_with_register(original_url)
    settings = Settings(data_dir=tmp_path, database_url=original_url)
    original = make_engine(settings)
    with Session(original) as session:
        admin = issue_key(session, role=Role.admin, label="operator")
        session.commit()
    headers = {"Authorization": f"Bearer {admin.secret}"}
    with TestClient(create_app(settings)) as client:
        created = client.post(
            "/v1/keys",
            json={"role": "auditor", "label": "NGO"},
            headers={**headers, "Idempotency-Key": "backup-1"},
        )
        assert created.status_code == 201
        for _ in range(2):
            ocid = f.create_procurement(
                client, headers, procedure="small_scale", estimated_value_excl_vat="300000.00"
            )
            f.post_step(client, headers, ocid, f.approved(f.ago(30)))
            f.post_step(client, headers, ocid, f.invitation(f.ago(29), f.ago(20)))
        before_trail = _trail(client)
        live = client.get("/v1/ledger/verify", headers=headers).json()
        assert live["ok"]
        assert live["tree_size"] == 4

    archive = tmp_path / "smartsteps.backup"
    backup(original_url, archive)
    restore(restored_url, archive)
    restored_settings = Settings(data_dir=tmp_path, database_url=restored_url)
    restored = make_engine(restored_settings)
    try:
        before, after = _snapshot(original), _snapshot(restored)
        assert sum(len(rows) for rows in before.values()) >= 3
        assert after == before
        with TestClient(create_app(restored_settings)) as client:
            assert _trail(client) == before_trail
            again = client.get("/v1/ledger/verify", headers=headers).json()
            assert again["ok"]
            assert again["root"] == live["root"]
            assert again["tree_size"] == live["tree_size"]
    finally:
        original.dispose()
        restored.dispose()


def test_backup_refuses_to_overwrite(fresh_database_url: Callable[[], str], tmp_path: Path) -> None:
    url = fresh_database_url()
    upgrade(url)
    existing = tmp_path / "exists.backup"
    existing.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="exists"):
        backup(url, existing)
    assert existing.read_bytes() == b"keep me"
