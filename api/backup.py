"""Backup and restore.

SQLite: an online, consistent copy through SQLite's backup API (the service may keep
running). PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore`` (the standard tools; they
must match the server's major version).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    pass


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _libpq_env(database_url: str) -> tuple[list[str], dict[str, str]]:
    url = make_url(database_url)
    args = ["--dbname", url.database or ""]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def backup(database_url: str, target: Path) -> None:
    """Write a consistent backup of the database to ``target``."""
    if target.exists():
        raise BackupError(f"{target} exists; choose a new file")
    backend = make_url(database_url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"no backup method for {backend}")
    _create_private(target)
    if backend == "sqlite":
        source = sqlite3.connect(_sqlite_path(database_url))
        destination = sqlite3.connect(target)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()
            source.close()
        return
    if backend == "postgresql":
        args, env = _libpq_env(database_url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args], env)


def _create_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 (whatever the umask): the copy of a database
    is as private as the database; the tools then write into it."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise BackupError(f"{path} exists; choose a new file") from None


def restore(database_url: str, source: Path) -> None:
    """Restore ``source`` into an empty database (refuses to overwrite data)."""
    if not source.exists():
        raise BackupError(f"{source} does not exist")
    backend = make_url(database_url).get_backend_name()
    if backend == "sqlite":
        target = _sqlite_path(database_url)
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(f"{target} exists; restore into a new database file")
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            _create_private(target)
        shutil.copyfile(source, target)
        return
    if backend == "postgresql":
        args, env = _libpq_env(database_url)
        _run(["pg_restore", "--no-owner", "--exit-on-error", *args, str(source)], env)
        return
    raise BackupError(f"no restore method for {backend}")


def _run(command: list[str], env: dict[str, str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (it comes with the PostgreSQL client)")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()}")
