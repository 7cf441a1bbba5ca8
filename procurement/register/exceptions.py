"""Contract-register errors, as problem+json through the AppError hierarchy."""

from __future__ import annotations

from api.errors import NotFound, Unprocessable


class DumpRefused(Unprocessable):
    """A file that is not a contract-register dump the mirror can read (not XML, not a
    ``dump``, a DTD); nothing of it is written."""

    title = "Not a contract-register dump"


class MunicipalityWithoutIco(Unprocessable):
    """The cross-checks need the buyer's IČO, and the municipalities register has none."""

    def __init__(self, code: str) -> None:
        detail = (
            f"Municipality {code} has no IČO in the municipalities register (import the "
            "register with its optional ico column); the contract register names parties "
            "by IČO."
        )
        super().__init__(detail)
        self.extra["errors"] = [{"in": "query", "pointer": "/buyer", "detail": detail}]


class UnknownBuyer(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"There is no municipality with code {code}.")
