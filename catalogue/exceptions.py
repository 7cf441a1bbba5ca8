"""Catalogue errors, each an ``api.errors.AppError`` rendered as problem+json."""

from __future__ import annotations

from api.errors import NotFound, Unprocessable


class MunicipalityNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"There is no municipality with code {code}.")


class VendorNotFound(NotFound):
    def __init__(self, vendor_id: int) -> None:
        super().__init__(f"There is no vendor {vendor_id}.")


class SolutionNotFound(NotFound):
    def __init__(self, solution_id: int) -> None:
        super().__init__(f"There is no solution {solution_id}.")


class PilotNotFound(NotFound):
    def __init__(self, pilot_id: int) -> None:
        super().__init__(f"There is no pilot {pilot_id}.")


class InvalidReference(Unprocessable):
    """A body names something that does not exist (a municipality, a solution, ...)."""

    def __init__(self, pointer: str, detail: str) -> None:
        super().__init__(
            "The request refers to something that does not exist; see errors.",
            errors=[{"pointer": pointer, "detail": detail}],
        )


class InvalidQuery(Unprocessable):
    """A query parameter combination that cannot be answered."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__("The query cannot be answered as asked; see errors.")
        self.extra["errors"] = [{"pointer": f"/{parameter}", "in": "query", "detail": detail}]
