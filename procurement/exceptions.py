"""Procurement errors, as problem+json through the AppError hierarchy."""

from __future__ import annotations

from typing import Any

from api.errors import Conflict, NotFound, Unprocessable


class ProcurementNotFound(NotFound):
    def __init__(self, ocid: str) -> None:
        super().__init__(f"There is no procurement with ocid '{ocid}'.")


class StepNotFound(NotFound):
    def __init__(self, ocid: str, seq: int) -> None:
        super().__init__(f"Procurement '{ocid}' has no step {seq}.")


class StepOutOfOrder(Conflict):
    """The step needs steps that are not recorded yet; ``missing`` names them."""

    title = "Step out of order"

    def __init__(self, detail: str, *, missing: list[str], **extra: Any) -> None:
        super().__init__(detail, missing=missing, **extra)


class StepNotAllowed(Conflict):
    """Repeating a non-repeatable step, or a step the law does not allow after the end."""

    title = "Step not allowed"


class InvalidProcurement(Unprocessable):
    """Valid JSON whose values break a rule (regime, CPV list, step type)."""

    def __init__(self, detail: str, pointer: str) -> None:
        super().__init__(detail, errors=[{"pointer": pointer, "detail": detail}])


class InvalidQuery(Unprocessable):
    """A query parameter whose value breaks a rule (a day outside the law table)."""

    def __init__(self, detail: str, parameter: str) -> None:
        super().__init__(detail)
        self.extra["errors"] = [{"in": "query", "pointer": f"/{parameter}", "detail": detail}]
