"""Ledger errors (mapped to problem+json by the router)."""


class LedgerError(Exception):
    """Base of ledger errors."""


class LeafIndexMismatch(LedgerError):
    """An append did not use the index the head lock handed out."""
