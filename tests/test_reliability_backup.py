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


def test_restore_gives_back_every_row(
    fresh_database_url: Callable[[], str], tmp_path: Path
) -> None:
    original_url, restored_url = fresh_database_url(), fresh_database_url()
    upgrade(original_url)
    settings = Settings(data_dir=tmp_path, database_url=original_url)
    original = make_engine(settings)
    with Session(original) as session:
        admin = issue_key(session, role=Role.admin, label="operator")
        session.commit()
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {admin.secret}", "Idempotency-Key": "backup-1"}
        created = client.post("/v1/keys", json={"role": "auditor", "label": "NGO"}, headers=headers)
        assert created.status_code == 201

    archive = tmp_path / "smartsteps.backup"
    backup(original_url, archive)
    restore(restored_url, archive)
    restored = make_engine(Settings(data_dir=tmp_path, database_url=restored_url))
    try:
        before, after = _snapshot(original), _snapshot(restored)
        assert sum(len(rows) for rows in before.values()) >= 3
        assert after == before
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
