"""Audit export errors, each an ``api.errors.AppError`` rendered as problem+json (the CLI
prints the same detail)."""

from __future__ import annotations

from api.errors import NotFound


class NothingToPackage(NotFound):
    def __init__(self) -> None:
        super().__init__(
            "Nothing matches these filters, and an OCDS package must hold at least one "
            "release (or record). Widen the filters, or use format=jsonl or csv, which may "
            "be empty."
        )
