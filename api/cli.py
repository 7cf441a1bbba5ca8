"""The ``smartsteps`` command line: serve, database, keys, OpenAPI."""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlmodel import Session, func, or_, select

from api.auth import ApiKey, KeyScopeError, Role, issue_key, revoke_key, utcnow
from api.keys_router import EXPIRY_RULE, expiry_problem
from api.preflight import fail, redacted, require_database, require_folder
from api.settings import get_settings
from catalogue import cli as catalogue_cli
from procurement import cli as procurement_cli
from procurement.audit.cli import export_app
from procurement.imports import cli as imports_cli
from procurement.ledger import cli as ledger_cli
from procurement.register import cli as register_cli

app = typer.Typer(help="smartsteps: smart-city catalogue and verifiable procurement trail.")
db_app = typer.Typer(help="Database schema.")
keys_app = typer.Typer(help="API keys.")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
import_app = typer.Typer(help="Import official registers and reference lists.")
app.add_typer(import_app, name="import")
# Each domain owns its commands; the groups are composed here.
import_app.command("municipalities")(catalogue_cli.import_municipalities)
import_app.command("cpv")(procurement_cli.import_cpv_list)
import_app.command("contract-register")(register_cli.import_contract_register)
import_app.command("buyer-profile")(imports_cli.import_buyer_profile)
app.add_typer(catalogue_cli.seed_app, name="seed")
app.add_typer(export_app, name="export")
ledger_cli.register(app, export_app)

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def _engine() -> Engine:
    from api.db import make_engine

    return make_engine(get_settings())


def _session(*, write: bool) -> AbstractContextManager[Session]:
    """``session_scope`` on the configured database (commits a write block at its end)."""
    from api.db import session_scope

    return session_scope(_engine(), write=write)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the API (run 'smartsteps db upgrade' first)."""
    import os

    import uvicorn

    from api.settings import bound_url

    # Links name the bound address unless SMARTSTEPS_PUBLIC_URL says otherwise; proxy
    # headers are read by the app, from SMARTSTEPS_TRUSTED_PROXIES only. (Set before the
    # settings are first read: they are read once per process.)
    os.environ.setdefault("SMARTSTEPS_PUBLIC_URL", bound_url(host, port))
    require_database(get_settings())
    uvicorn.run(
        "api.main:app", host=host, port=port, workers=workers, log_level="info", proxy_headers=False
    )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Bring the database schema up to date (creates the SQLite file if needed)."""
    from api.migrate import upgrade

    settings = get_settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url, revision)
    typer.echo(f"database at {revision}: {redacted(settings.effective_database_url)}")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="What the revision does.")],
    rev_id: Annotated[str, typer.Option(help="Revision id, e.g. 0003_catalogue.")],
) -> None:
    """(Developers) Autogenerate a migration from the models against an upgraded database."""
    from alembic import command

    from api.migrate import alembic_config

    settings = get_settings()
    command.revision(
        alembic_config(settings.effective_database_url),
        message=message,
        rev_id=rev_id,
        autogenerate=True,
    )


@db_app.command("backup")
def db_backup(target: Annotated[Path, typer.Argument(help="New file to write.")]) -> None:
    """Write a consistent backup (SQLite online backup; PostgreSQL pg_dump -Fc)."""
    from api.backup import BackupError, backup

    settings = get_settings()
    require_folder(target)
    require_database(settings, schema=False)
    try:
        backup(settings.effective_database_url, target)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"backup written to {target}")


@db_app.command("restore")
def db_restore(source: Annotated[Path, typer.Argument(help="A file from 'db backup'.")]) -> None:
    """Restore a backup into a new, empty database (stop the service first)."""
    from api.backup import BackupError, restore

    try:
        restore(get_settings().effective_database_url, source)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"restored {source}")


@app.command()
def bootstrap(
    another: Annotated[
        bool,
        typer.Option("--another", help="Create an admin key even though an active one exists."),
    ] = False,
) -> None:
    """First start: create the first admin key (printed once); with an active admin key
    already there, say so and create nothing."""
    settings = get_settings()
    require_database(settings)
    with _session(write=True) as session:
        now = utcnow()
        admins = session.exec(
            select(func.count())
            .select_from(ApiKey)
            .where(
                ApiKey.role == Role.admin.value,
                ApiKey.revoked_at.is_(None),  # type: ignore[union-attr]
                or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),  # type: ignore[union-attr,operator]
            )
        ).one()
        if admins and not another:
            typer.echo(
                "an active admin key exists already; no key created. 'smartsteps keys list' "
                "shows the keys; 'smartsteps bootstrap --another' or 'smartsteps keys create "
                "--role admin --label ...' makes another"
            )
            return
        label = "first admin (bootstrap)" if not admins else "admin (bootstrap --another)"
        issued = issue_key(session, role=Role.admin, label=label)
    # Printed once it is committed (the block's end commits).
    typer.echo("")
    typer.echo(
        f"  {'First admin' if not admins else 'Admin'} API key (shown only now; keep it safe):"
    )
    typer.echo(f"    {issued.secret}")
    typer.echo("  Use it as:  Authorization: Bearer <key>")
    typer.echo("")


OPTION_OF_SCOPE = {"municipality_code": "--municipality", "vendor_id": "--vendor"}


def _expiry(text: str | None) -> datetime | None:
    """--expires as the API takes expires_at: a time with its zone, within 10 years."""
    if text is None:
        return None
    try:
        expires_at = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--expires: {text!r} is not a time; give {EXPIRY_RULE}", 2)
    if expires_at.tzinfo is None:
        fail(f"--expires: give the time zone, e.g. {expires_at.isoformat()}Z (UTC)", 2)
    problem = expiry_problem(expires_at)
    if problem is not None:
        fail(f"--expires: {problem[1]}", 2)
    return expires_at


@keys_app.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="admin, officer, auditor or vendor.")],
    label: Annotated[str, typer.Option(help="Who or what uses the key.")],
    municipality: Annotated[
        str | None, typer.Option(help="Municipality code (officer keys).")
    ] = None,
    vendor: Annotated[int | None, typer.Option(help="Vendor id (vendor keys).")] = None,
    expires: Annotated[
        str | None,
        typer.Option(help=f"Expiry: {EXPIRY_RULE}. Without it the key does not expire."),
    ] = None,
) -> None:
    """Create an API key and print it once."""
    expires_at = _expiry(expires)
    require_database(get_settings())
    try:
        with _session(write=True) as session:
            issued = issue_key(
                session,
                role=role,
                label=label,
                municipality_code=municipality,
                vendor_id=vendor,
                expires_at=expires_at,
            )
    except KeyScopeError as exc:
        fail(f"{OPTION_OF_SCOPE.get(exc.field, exc.field)}: {exc}", 2)
    typer.echo(issued.secret)
    typer.echo(f"key id {issued.key.id}, role {role.value}; shown only now", err=True)


@keys_app.command("list")
def keys_list() -> None:
    """List keys (ids, roles, labels; never secrets)."""
    require_database(get_settings())
    with _session(write=False) as session:
        for key in session.exec(select(ApiKey).order_by(ApiKey.created_at)):  # type: ignore[arg-type]
            state = "revoked" if key.revoked_at else "active"
            scope = key.municipality_code or (str(key.vendor_id) if key.vendor_id else "-")
            typer.echo(f"{key.id}\t{key.role}\t{scope}\t{state}\t{key.label}")


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key by its id."""
    require_database(get_settings())
    with _session(write=True) as session:
        revoked = revoke_key(session, key_id)
    if revoked is None:
        fail(f"no key with id {key_id} ('smartsteps keys list' shows them)")
    typer.echo(f"revoked {key_id}")


def current_openapi() -> str:
    from api.app import create_app
    from api.settings import Settings

    settings = Settings(database_url="sqlite://")
    spec = create_app(settings).openapi()
    return json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


@app.command()
def openapi(
    check: Annotated[
        bool, typer.Option("--check", help="Fail when openapi/openapi.json is out of date.")
    ] = False,
    output: Annotated[Path, typer.Option(help="Where to write the spec.")] = OPENAPI_PATH,
) -> None:
    """Write openapi/openapi.json from the app, or check that it is current."""
    spec = current_openapi()
    if check:
        if not output.exists() or output.read_text() != spec:
            typer.echo(f"{output} is out of date: run 'smartsteps openapi' and commit it", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is current")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(spec)
    typer.echo(f"wrote {output}", err=sys.stderr.isatty())
