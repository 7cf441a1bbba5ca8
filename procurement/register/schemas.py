"""API models of the contract-register mirror."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainSerializer

from api.auth import as_utc
from procurement.register.matching import parties_of


def _amount_text(value: Decimal) -> str:
    return f"{value:.2f}"


Amount = Annotated[
    Decimal,
    PlainSerializer(_amount_text, return_type=str, when_used="json"),
    Field(examples=["80000.00"]),
]


class PartyPublic(BaseModel):
    """A party as the register names it: the publisher (``subjekt``) or a counterparty
    (``smluvniStrana``). ``ico`` is normalised to 8 digits (null when the register gives
    none or something else, such as a foreign company number)."""

    role: Literal["publisher", "counterparty"]
    ico: str | None
    name: str | None


class ForeignValue(BaseModel):
    """``ciziMena``: the value in a foreign currency, as stated (its VAT basis is not
    stated by the register)."""

    amount: Amount
    currency: str = Field(description="ISO 4217 code")


class RegisterRecordPublic(BaseModel):
    """One record (one version of one contract) of the contract register (registr smluv)."""

    id: int = Field(description="idSmlouvy: the contract")
    version_id: int = Field(description="idVerze: this version of it")
    published_at: datetime | None = Field(description="casZverejneni (UTC)")
    signed_on: date | None = Field(description="datumUzavreni: the day it was concluded")
    subject: str | None = Field(description="predmet, whitespace collapsed")
    value_excl_vat: Amount | None = Field(description="hodnotaBezDph (CZK)")
    value_incl_vat: Amount | None = Field(description="hodnotaVcetneDph (CZK)")
    currency: Literal["CZK"] | None = Field(
        description="The currency of value_excl_vat and value_incl_vat (the register states "
        "them in CZK); null when it states neither"
    )
    foreign_value: ForeignValue | None = Field(description="ciziMena, when stated")
    price_not_stated: str | None = Field(
        description="cenaNeuvedena: why no price is published (2026 dumps)"
    )
    parties: list[PartyPublic]
    url: str | None = Field(description="odkaz: the record in the register")
    valid: bool = Field(description="platnyZaznam as the dump that wrote it stated")
    current: bool = Field(
        description="valid, and no newer version of the contract is in the mirror"
    )

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> RegisterRecordPublic:
        excl, incl = row["value_excl_vat"], row["value_incl_vat"]
        foreign = None
        if row["foreign_value"] is not None and row["foreign_currency"]:
            foreign = ForeignValue(
                amount=Decimal(row["foreign_value"]), currency=row["foreign_currency"]
            )
        published = row["published_at"]
        return cls(
            id=row["contract_id"],
            version_id=row["version_id"],
            published_at=as_utc(published) if published is not None else None,
            signed_on=row["signed_on"],
            subject=row["subject"],
            value_excl_vat=None if excl is None else Decimal(excl),
            value_incl_vat=None if incl is None else Decimal(incl),
            currency="CZK" if excl is not None or incl is not None else None,
            foreign_value=foreign,
            price_not_stated=row["price_not_stated"],
            parties=[
                PartyPublic(role=p.role, ico=p.ico, name=p.name)  # type: ignore[arg-type]
                for p in parties_of(row)
            ],
            url=row["url"],
            valid=bool(row["valid"]),
            current=bool(row["current"]),
        )
