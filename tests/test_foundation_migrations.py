"""The schema comes only from Alembic revisions, and they agree with the models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, inspect, pool, text
from sqlmodel import Session

from api.metadata import metadata
from api.migrate import alembic_config, downgrade, head_revision, upgrade
from catalogue.registry import BUILTIN_REGISTER, import_register


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


def _index_tags(connection: Connection) -> dict[int, set[str]]:
    """Each pilot's tag tokens as its full-text index entry holds them."""
    if connection.dialect.name == "postgresql":
        # With their weight: A (what facets count) or B.
        rows = connection.execute(
            text(
                "SELECT f.id, t.lexeme, t.weights[1] FROM pilot_fts AS f, unnest(f.document) AS t "
                "WHERE t.lexeme LIKE '~%'"
            )
        ).all()
        found: dict[int, set[str]] = {}
        for i, lexeme, weight in rows:
            found.setdefault(i, set()).add(f"{lexeme[1:]}:{weight}")
        return found
    rows = connection.execute(text("SELECT rowid, tags FROM pilot_fts")).all()
    found = {i: set(tags.split()) for i, tags in rows}
    # And the facets' copy of those of the kinds they count, marked "facets:".
    if inspect(connection).has_table("pilot_fts_facets"):
        for i, tags in connection.execute(text("SELECT id, tags FROM pilot_fts_facets")):
            found[i] |= {f"facets:{t}" for t in tags.split()}
    return found


def test_region_tags_are_added_to_and_removed_from_the_index(empty_database_url: str) -> None:
    from catalogue.text import tag_token
    from tests.factories_catalogue import HOSTETIN, KNEZICE, make_pilot

    upgrade(empty_database_url)
    engine = create_engine(empty_database_url, poolclass=pool.NullPool)
    try:
        with Session(engine) as session:
            import_register(session, BUILTIN_REGISTER)
            ids = [make_pilot(session, municipality_code=c).id for c in (KNEZICE, HOSTETIN)]
            session.commit()
        regions = {ids[0]: tag_token("region", "CZ020"), ids[1]: tag_token("region", "CZ072")}
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            regions = {i: f"{token}:A" for i, token in regions.items()}
        with engine.connect() as connection:
            fresh = _index_tags(connection)
        assert all(regions[i] in fresh[i] for i in ids)
        # 0008 had no region tags, and (PostgreSQL) every tag at weight A, (SQLite) no
        # facets' table, which holds the tags of the kinds facets count.
        before = {i: fresh[i] - {regions[i]} for i in ids}
        if postgres:
            before = {i: {t[:-1] + "A" for t in tags} for i, tags in before.items()}
        else:
            kinds = ("area", "status", "standard", "mim", "region")
            for i in ids:
                assert {t for t in fresh[i] if t.startswith("facets:")} == {
                    f"facets:{t}" for t in fresh[i] if t.startswith(kinds)
                }
            before = {
                i: {t for t in tags if not t.startswith("facets:")} for i, tags in before.items()
            }
        downgrade(empty_database_url, "0008_catalogue_tag_weights")
        with engine.connect() as connection:
            assert _index_tags(connection) == before
        upgrade(empty_database_url)
        with engine.connect() as connection:
            assert _index_tags(connection) == fresh
    finally:
        engine.dispose()
