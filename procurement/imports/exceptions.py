"""Errors of imports, as problem+json through the AppError hierarchy."""

from __future__ import annotations

from api.errors import AppError, Unprocessable


class UnsupportedMediaType(AppError):
    status = 415
    title = "Unsupported Media Type"


class NotXml(Unprocessable):
    """The file is no well-formed XML, or brings what an export never has (a DTD)."""

    title = "Not an XML file"


class NotBuyerProfile(Unprocessable):
    """Well-formed XML, but not a buyer profile export."""

    title = "Not a buyer profile export"


class NotThisBuyer(Unprocessable):
    """The export names another buyer (its IČO differs from the municipality's)."""

    title = "Another buyer's profile"


class UnknownBuyer(Unprocessable):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"There is no municipality with code {code}.",
            errors=[{"pointer": "/buyer", "detail": "not a municipality of the register"}],
        )
        self.extra["errors"] = [
            {"in": "query", "pointer": "/buyer", "detail": "not a municipality of the register"}
        ]
