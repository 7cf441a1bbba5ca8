"""Real uvicorn server processes for tests that need them (concurrency, crash, load)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flush; as a power cut would."""
        self.process.kill()
        self.process.wait(timeout=30)


def start_server(env: dict[str, str], port: int | None = None) -> Server:
    """Start ``uvicorn api.main:app`` and return once it says it is accepting connections."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "info",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    seen: list[str] = []
    for raw in process.stderr:
        line = raw.decode(errors="replace")
        seen.append(line)
        if "Uvicorn running on" in line:
            break
    else:
        process.wait(timeout=30)
        raise RuntimeError("the server did not start:\n" + "".join(seen[-30:]))
    # Keep draining stderr so the server never blocks on a full pipe.
    import threading

    threading.Thread(target=_drain, args=(process,), daemon=True).start()
    return Server(base_url=f"http://127.0.0.1:{port}", process=process)


def _drain(process: subprocess.Popen[bytes]) -> None:
    assert process.stderr is not None
    for _ in process.stderr:
        pass


@contextmanager
def running_server(env: dict[str, str]) -> Iterator[Server]:
    server = start_server(env)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.terminate()
            try:
                server.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def screenshot_dir() -> Path:
    """Where the browser tests keep their screenshots (printed at the end of the run):
    ``SMARTSTEPS_SCREENSHOTS``, else a folder in the system's temp dir, per database."""
    import tempfile

    base = os.environ.get("SMARTSTEPS_SCREENSHOTS") or Path(tempfile.gettempdir()) / (
        "smartsteps-screenshots"
    )
    kind = "postgresql" if os.environ.get("SMARTSTEPS_TEST_DATABASE_URL") else "sqlite"
    return Path(base) / kind
