"""The schema comes only from Alembic revisions, and they agree with the models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, pool, text

from api.metadata import metadata
from api.migrate import alembic_config, downgrade, head_revision, upgrade


@pytest.fixture
def empty_database_url(fresh_database_url: Callable[[], str]) -> str:
    return fresh_database_url()


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_check_downgrade_upgrade(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    assert _tables(empty_database_url) >= set(metadata.tables)
    # No drift between the models and the migrations (raises when autogenerate finds any).
    command.check(alembic_config(empty_database_url))
    downgrade(empty_database_url, "base")
    assert _tables(empty_database_url) <= {t for t in _tables(empty_database_url) if "fts" in t}
    upgrade(empty_database_url)
    assert _tables(empty_database_url) >= set(metadata.tables)
    command.check(alembic_config(empty_database_url))


def test_single_head() -> None:
    assert head_revision() is not None


def test_step_types_are_backfilled_from_the_recorded_steps(empty_database_url: str) -> None:
    upgrade(empty_database_url, "0005_ledger")
    engine = create_engine(empty_database_url, poolclass=pool.NullPool)
    procurement = (
        "INSERT INTO procurements (id, ocid, buyer_code, ocid_year, ocid_number, title,"
        " description, subject, procedure, regime, estimated_value_excl_vat, currency,"
        " cpv_codes, solution_ids, external_ids, created_at, status, last_seq)"
        " VALUES (:id, :ocid, '554979', 2026, :id, 't', '', 'supplies', 'open', 'above',"
        " 1, 'CZK', '[]', '[]', '{}', '2026-01-01', 'planned', 0)"
    )
    step = (
        "INSERT INTO procurement_steps (procurement_id, seq, leaf_index, type, occurred_at,"
        " recorded_at, entry_hash, findings) VALUES (1, :seq, :seq, :type, '2026-01-02',"
        " '2026-01-02', 'h', '[]')"
    )
    try:
        with engine.begin() as connection:
            for id_ in (1, 2):
                connection.execute(text(procurement), {"id": id_, "ocid": f"ocds-x-{id_}"})
            for seq, type_ in enumerate(
                ["procurement_approved", "notice_published", "bid_received", "bid_received"]
            ):
                connection.execute(
                    text(
                        "INSERT INTO ledger_entries (leaf_index, entry_bytes, leaf_hash)"
                        " VALUES (:i, :b, :h)"
                    ),
                    {"i": seq, "b": b"{}", "h": bytes(32)},
                )
                connection.execute(text(step), {"seq": seq, "type": type_})
        upgrade(empty_database_url)
        with engine.connect() as connection:
            kept = dict(connection.execute(text("SELECT id, step_types FROM procurements")).all())
    finally:
        engine.dispose()
    assert kept == {1: "bid_received,notice_published,procurement_approved", 2: ""}
