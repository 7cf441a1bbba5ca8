"""The offline verifier: parallel blocks agree with one process, and it refuses what it must."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from procurement.ledger import merkle
from procurement.ledger.checkpoint import Signer, verifier_key
from procurement.ledger.verify import (
    VerificationFailure,
    entry_line,
    verify_export,
    verify_file,
)
from tests.factories_ledger import FAKE_OCIDS, entry_document


def _signer() -> Signer:
    key = Ed25519PrivateKey.generate()
    return Signer("test.example/log", key, verifier_key("test.example/log", key.public_key()))


def _export(signer: Signer, count: int, every: int) -> list[bytes]:
    """An export of ``count`` entries over the fake procurements, a checkpoint every ``every``."""
    lines = [
        json.dumps(
            {
                "format": "smartsteps-ledger-export",
                "version": 1,
                "origin": signer.origin,
                "public_key": signer.verifier.text(),
                "tree_size": count,
            }
        ).encode()
        + b"\n"
    ]
    frontier = merkle.Frontier()
    heads: dict[str, tuple[int, str | None]] = {}
    checkpoints = 0
    for index in range(count):
        ocid = FAKE_OCIDS[index % len(FAKE_OCIDS)] if index % 7 else f"ocds-x-{index}"
        seq, prev = heads.get(ocid, (0, None))
        entry = entry_document(ocid, seq + 1, index, prev)
        heads[ocid] = (seq + 1, hashlib.sha256(entry).hexdigest())
        leaf = merkle.leaf_hash(entry)
        frontier.append(leaf)
        lines.append(entry_line(index, leaf, entry))
        if (index + 1) % every == 0 or index + 1 == count:
            note = signer.sign(frontier.size, frontier.root())
            lines.append(
                json.dumps({"checkpoint": note, "tree_size": frontier.size}).encode() + b"\n"
            )
            checkpoints += 1
    lines.append(
        json.dumps({"end": True, "entries": count, "checkpoints": checkpoints}).encode() + b"\n"
    )
    return lines


def _outcome(run: object) -> str:
    try:
        run()  # type: ignore[operator]
    except VerificationFailure as failure:
        return f"{failure.where}: {failure.reason}"
    return "ok"


# Where the first failure is, when a block of the file may start right at the damage.
NAMED = {
    "checkpoint first": "checkpoint of size 17: signed for 17 entries but only 0 precede it: "
    "entries 0..16 are missing",
    "index digit": "entry 142: leaf index 14 where 142 was expected (duplicate or reordered)",
    "first not an entry": "entry 0: line 2 is not a well-formed entry",
}


@pytest.mark.parametrize(
    "damage", ["none", "byte", "drop", "swap", "cut", "checkpoint", *sorted(NAMED)]
)
def test_blocks_of_any_size_find_the_same_first_failure_as_one_block(
    tmp_path: Path, damage: str
) -> None:
    signer = _signer()
    lines = _export(signer, 300, 17)
    entry_at = [i for i, line in enumerate(lines) if line.startswith(b'{"leaf_index"')]
    if damage == "byte":
        i = entry_at[150]
        lines[i] = lines[i].replace(b"step ", b"stop ", 1)
    elif damage == "drop":
        del lines[entry_at[200]]
    elif damage == "swap":
        a, b = entry_at[40], entry_at[260]
        lines[a], lines[b] = lines[b], lines[a]
    elif damage == "cut":
        lines = lines[: entry_at[250]]
    elif damage == "checkpoint":
        i = next(i for i, line in enumerate(lines) if line.startswith(b'{"checkpoint"') and i > 100)
        lines[i] = lines[i].replace(b"\\n", b"\\n ", 1)
    elif damage == "checkpoint first":  # the first checkpoint line swapped with entry 0
        i = next(i for i, line in enumerate(lines) if line.startswith(b'{"checkpoint"'))
        lines[entry_at[0]], lines[i] = lines[i], lines[entry_at[0]]
    elif damage == "index digit":  # one digit of a line's leaf index lost
        i = entry_at[142]
        lines[i] = lines[i].replace(b'{"leaf_index":142,', b'{"leaf_index":14,', 1)
    elif damage == "first not an entry":
        lines[entry_at[0]] = b'{"leaf_index":"0"}\n'
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(b"".join(lines))
    key = signer.verifier.text()
    one = _outcome(lambda: verify_export(lines, public_key=key))
    # Blocks of one line each, of a few lines, and the default sizes, in one process or two.
    for jobs, block_bytes in ((1, 1), (1, 4096), (2, 4096), (1, None), (2, None)):
        many = _outcome(
            lambda jobs=jobs, block_bytes=block_bytes: verify_file(
                path, public_key=key, jobs=jobs, block_bytes=block_bytes
            )
        )
        assert many == one, (jobs, block_bytes)
    assert (one == "ok") is (damage == "none")
    if damage in NAMED:
        assert one == NAMED[damage]


def test_a_saved_checkpoint_inside_a_block_is_checked(tmp_path: Path) -> None:
    signer = _signer()
    lines = _export(signer, 200, 50)
    path = tmp_path / "ledger.jsonl"
    path.write_bytes(b"".join(lines))
    other = _export(signer, 120, 50)  # another history signed by the same key
    frontier = merkle.Frontier()
    for line in other[1:]:
        if line.startswith(b'{"leaf_index"'):
            frontier.append(bytes.fromhex(json.loads(line)["leaf_hash"]))
        if frontier.size == 77:
            break
    saved = signer.sign(77, frontier.root())
    outcome = _outcome(
        lambda: verify_file(path, signer.verifier.text(), saved, jobs=2, block_bytes=4096)
    )
    assert outcome == "ok" or outcome.startswith("entries 0..76:")


def test_cli_exports_and_verifies_a_real_database(
    fresh_database_url: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlmodel import Session
    from typer.testing import CliRunner

    from api.cli import app as cli
    from api.db import make_engine
    from api.migrate import upgrade
    from api.settings import Settings, get_settings
    from procurement.ledger import service
    from tests.factories_ledger import append_steps

    url = fresh_database_url()  # type: ignore[operator]
    upgrade(url)
    settings = Settings(database_url=url, data_dir=tmp_path)
    service.configure_from(settings)
    engine = make_engine(settings)
    with Session(engine) as session:
        append_steps(session, FAKE_OCIDS, 4)
    engine.dispose()
    monkeypatch.setenv("SMARTSTEPS_DATABASE_URL", url)
    monkeypatch.setenv("SMARTSTEPS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        key = runner.invoke(cli, ["ledger", "public-key"])
        assert key.exit_code == 0, key.output
        (tmp_path / "key.txt").write_text(key.output)
        out = tmp_path / "ledger.jsonl"
        exported = runner.invoke(cli, ["export", "ledger", "-o", str(out)])
        assert exported.exit_code == 0, exported.output
        checked = runner.invoke(
            cli, ["verify", str(out), "--public-key", str(tmp_path / "key.txt"), "--jobs", "2"]
        )
        assert checked.exit_code == 0, checked.output
        assert "OK: 12 entries, 3 procurements, 12 signed checkpoints" in checked.output
    finally:
        get_settings.cache_clear()


CONSOLE = """
import sys
sys.argv = ["smartsteps", *sys.argv[1:]]
from api.console import main
try:
    main()
except SystemExit as done:
    heavy = sorted(m for m in ("fastapi", "sqlalchemy", "sqlmodel", "typer") if m in sys.modules)
    print("loaded:", ",".join(heavy) or "-")
    raise
"""


def test_console_verify_runs_without_loading_the_service(tmp_path: Path) -> None:
    """``smartsteps verify`` on an auditor's machine loads no web framework or database
    layer, so its memory is the verifier's own; the verdict and exit codes are the same."""
    import subprocess
    import sys

    signer = _signer()
    good = tmp_path / "ledger.jsonl"
    good.write_bytes(b"".join(_export(signer, 40, 8)))
    key = tmp_path / "key.txt"
    key.write_text(signer.verifier.text())

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", CONSOLE, "verify", *args],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
            check=False,
        )

    ok = run(str(good), "--public-key", str(key))
    assert ok.returncode == 0, ok.stderr
    assert "OK: 40 entries" in ok.stdout
    assert "loaded: -" in ok.stdout
    lines = good.read_bytes().splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"".join(lines[:3] + lines[4:]))
    failed = run(str(bad), "--public-key", str(key))
    assert failed.returncode == 1
    assert "FAILED at" in failed.stderr
    missing = run(str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2
    assert "error:" in missing.stderr


def _entry_at(lines: list[bytes], n: int) -> tuple[int, bytes]:
    """(line position, entry bytes) of the n-th entry line."""
    entries = [(i, line) for i, line in enumerate(lines) if line.startswith(b'{"leaf_index":')]
    return entries[n]


def test_a_failure_names_the_procurement_and_step_of_its_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from procurement.ledger.verify import main

    signer = _signer()
    lines = _export(signer, 40, 8)
    at, line = _entry_at(lines, 12)
    document = json.loads(line)["entry"]
    lines[at] = line.replace(b'"seq":', b'"seq": ', 1)  # one byte more: the hash breaks
    export = tmp_path / "ledger.jsonl"
    export.write_bytes(b"".join(lines))
    key = tmp_path / "key.txt"
    key.write_text(signer.verifier.text())

    assert main([str(export), "--public-key", str(key)]) == 1
    message = capsys.readouterr().err.strip()
    assert message.startswith("FAILED at entry 12: ")
    assert message.endswith(f"(entry 12 is step {document['seq']} of {document['ocid']})")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--public-key", "{tmp}/key.txt"], "error: --public-key {tmp}/key.txt: not found"),
        (["--checkpoint", "{tmp}/cp.txt"], "error: --checkpoint {tmp}/cp.txt: not found"),
    ],
)
def test_a_missing_key_or_checkpoint_file_is_not_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], says: str
) -> None:
    from procurement.ledger.verify import main

    export = tmp_path / "ledger.jsonl"
    export.write_bytes(b"".join(_export(_signer(), 4, 2)))
    argv = [str(export), *(a.format(tmp=tmp_path) for a in args)]
    assert main(argv) == 2
    (line,) = capsys.readouterr().err.splitlines()  # one line, no traceback
    assert line.startswith(says.format(tmp=tmp_path))


def test_a_missing_export_is_not_found(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from procurement.ledger.verify import main

    assert main([str(tmp_path / "nope.jsonl")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope.jsonl'}: not found\n"
