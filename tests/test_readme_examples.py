"""The README's shell examples run as pasted, against a real server: only the placeholders a
reader fills in (the key, and the server's address where it differs) are put in. Every
`curl` fails on an HTTP error here (``--fail-with-body``), so an example that stops
working fails this test."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, pool
from sqlmodel import Session

from api.auth import Role, issue_key
from tests.conftest import upgrade_with_register
from tests.servers import ROOT, running_server

README = (ROOT / "README.md").read_text()
DEFAULT_ADDRESS = "http://127.0.0.1:8000"
PRELUDE = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n'

pytestmark = pytest.mark.slow


def section(title: str) -> str:
    """The text of a ``## title`` section of the README."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.M | re.S)
    assert match is not None, title
    return match.group(1)


def shell_blocks(text: str) -> list[str]:
    """The fenced blocks of ``text`` that are shell commands (``sh``, or plain with curl)."""
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", text, re.M | re.S)
    return [body for lang, body in blocks if lang == "sh" or (not lang and "curl " in body)]


def officer_key(url: str, municipality: str) -> str:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with Session(engine) as session:
            issued = issue_key(
                session, role=Role.officer, label="readme", municipality_code=municipality
            )
            session.commit()
            return issued.secret
    finally:
        engine.dispose()


def run_pasted(script: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in bash from a project-like folder (``.venv/bin/python`` is there)."""
    venv = folder / ".venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    return subprocess.run(
        ["bash", "-c", PRELUDE + script],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_readme_examples_use_no_tool_a_newcomer_lacks() -> None:
    for tool in ("uuidgen", "jq ", "../shared"):
        assert tool not in README


def test_the_procurement_trail_example_runs_as_pasted(
    fresh_database_url: Callable[[], str], tmp_path: Path
) -> None:
    url = fresh_database_url()
    upgrade_with_register(url)
    key = officer_key(url, "554979")
    (script,) = shell_blocks(section("Procurement trail"))
    assert "KEY=ssk_..." in script
    env = {"SMARTSTEPS_DATABASE_URL": url, "SMARTSTEPS_DATA_DIR": str(tmp_path / "data")}
    with running_server(env) as server:
        script = script.replace("KEY=ssk_...", f"KEY={key}").replace(
            DEFAULT_ADDRESS, server.base_url
        )
        done = run_pasted(script, tmp_path / "project")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        (ocid,) = set(re.findall(r"ocds-smstps-554979-\d{4}-\d+", done.stdout))
        timeline = httpx.get(f"{server.base_url}/v1/procurements/{ocid}/timeline").json()
    assert [s["type"] for s in timeline["steps"]] == [
        "procurement_approved",
        "invitation_sent",
        "bids_opened",
        "selection_decided",
        "contract_signed",
        "contract_published",
    ]
    assert "contract_register_30_days" in {f["rule_id"] for f in timeline["findings"]}


def test_the_search_examples_run_as_pasted(
    fresh_database_url: Callable[[], str], tmp_path: Path
) -> None:
    url = fresh_database_url()
    upgrade_with_register(url)
    blocks = [b for b in shell_blocks(section("Catalogue")) if "/v1/pilots" in b]
    assert blocks
    env = {"SMARTSTEPS_DATABASE_URL": url, "SMARTSTEPS_DATA_DIR": str(tmp_path / "data")}
    with running_server(env) as server:
        for number, block in enumerate(blocks):
            pasted = block.replace(DEFAULT_ADDRESS, server.base_url)
            done = run_pasted(pasted, tmp_path / f"project{number}")
            assert done.returncode == 0, block + done.stdout[-2000:] + done.stderr[-2000:]
            assert done.stdout.count('"items"') == block.count("curl ")
