"""The ``smartsteps`` console entry.

``smartsteps verify`` runs the offline ledger verifier with only the standard library and
``cryptography`` loaded (an auditor's machine needs no database driver or web framework in
memory for it); every other command goes to the Typer app in ``api.cli``.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    # What the service writes (the SQLite database and its -wal/-shm, keys, backups,
    # exports) is readable by its owner only.
    os.umask(0o077)
    args = sys.argv[1:]
    if args[:1] == ["verify"] and not {"--help", "-h"} & set(args):
        from procurement.ledger.verify import main as verify

        raise SystemExit(verify(args[1:], prog="smartsteps verify"))
    from api.cli import app

    app()
