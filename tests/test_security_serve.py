"""What ``smartsteps`` does as a process: the files it writes are its owner's only, and
``smartsteps serve`` links to the address it binds and believes no proxy headers unless
told to (SMARTSTEPS_TRUSTED_PROXIES, tested in test_security_headers.py)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from catalogue.registry import BUILTIN_REGISTER
from tests.servers import ROOT, free_port

SMARTSTEPS = str(Path(sys.executable).parent / "smartsteps")
pytestmark = pytest.mark.slow


def _env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SMARTSTEPS_") or k == "SMARTSTEPS_SHARED_DIR"
    }
    env["SMARTSTEPS_DATA_DIR"] = str(data_dir)
    env.update({f"SMARTSTEPS_{k.upper()}": v for k, v in settings.items()})
    return env


def _run(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [SMARTSTEPS, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


@contextmanager
def _serving(env: dict[str, str], port: int) -> Iterator[str]:
    process = subprocess.Popen(
        [SMARTSTEPS, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        for raw in process.stderr:
            if b"Uvicorn running on" in raw:
                break
        else:
            raise AssertionError("the server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_its_journal_keys_and_backups_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = _env(data)
    _run(env, "db", "upgrade")
    _run(env, "db", "backup", str(tmp_path / "backup.sqlite3"))
    assert _mode(tmp_path / "backup.sqlite3") == 0o600
    with _serving(env, free_port()) as url:
        assert httpx.get(f"{url}/v1/procurements").status_code == 200
        written = sorted(p.name for p in data.iterdir())
        assert {"smartsteps.sqlite3-wal", "smartsteps.sqlite3-shm"} <= set(written)
        modes = {name: oct(_mode(data / name)) for name in written}
    assert set(modes.values()) == {oct(0o600)}, modes
    assert {"smartsteps.sqlite3", "secret.key", "ledger-ed25519.key"} <= set(modes)
    assert _mode(data) == 0o700


def test_serve_links_to_its_address_and_ignores_proxy_headers_it_was_not_told_to_trust(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path / "data", rate_limit_anonymous="3/minute")
    _run(env, "db", "upgrade")
    _run(env, "import", "municipalities", str(BUILTIN_REGISTER))
    port = free_port()
    with _serving(env, port) as url:
        statuses = []
        for forwarded in ("198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"):
            response = httpx.get(
                f"{url}/v1/municipalities",
                params={"limit": 1},
                headers={
                    "Host": "evil.example",
                    "X-Forwarded-For": forwarded,
                    "X-Forwarded-Proto": "https",
                    "X-Forwarded-Host": "evil.example",
                },
            )
            statuses.append(response.status_code)
            if response.status_code == 200:
                assert response.headers["link"].startswith(
                    f"<http://127.0.0.1:{port}/v1/municipalities?"
                )
                assert "evil.example" not in response.text + str(response.headers)
    # Every request came from 127.0.0.1, whatever X-Forwarded-For said: one budget.
    assert statuses == [200, 200, 200, 429]
