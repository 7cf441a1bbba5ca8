"""Which contract-register record is a trail's contract: the matching rules, and what the
imported dumps cover. Pure functions over plain data; the red flags
(``procurement.audit.redflags``) and the auditors' list of unmatched records both use them,
so a record and a trail match the same way in both directions.

A trail's contract is its effective ``contract_signed`` step (corrections applied). It
matches a current register record when

1. **explicit link**: the procurement's ``external_ids.contract_register``, or the ``id`` of
   one of its ``contract_published`` steps with ``register: contract_register``, equals the
   record's ``idSmlouvy`` (digits only); or
2. **parties and date**: the buyer's IČO (the municipality's ``ico``) and the supplier's
   IČO (``supplier_ico``) are both parties of the record (publisher or counterparty), and
   the record's ``datumUzavreni`` lies within ``DATE_TOLERANCE_DAYS`` of ``signed_on``
   (the parties sign on different days; the register states the day the contract was
   concluded).

The value is not a condition (a wrong value is a flag of its own, ``register_value_differs``)
but it chooses among several matches: an explicit link first, then a record whose value
agrees, then the nearest signature date, then the newest record. A record can answer for
more than one trail (two orders from one supplier signed in the same week).

Values: the trail states its contract value excluding VAT. When the record states
``hodnotaBezDph``, the two must be equal to the haléř. When it states only
``hodnotaVcetneDph``, it agrees when it lies between the value excluding VAT and that value
plus ``MAX_VAT_RATE`` (21 %, the standard rate; a supplier who is no VAT payer charges
none, the reduced rates lie between), rounded to the haléř. A record with neither (a price
in a foreign currency only, or ``cenaNeuvedena``) cannot be compared: no flag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from procurement.calendar import as_local_date
from procurement.register.parser import Party

DATE_TOLERANCE_DAYS = 7
MAX_VAT_RATE = Decimal("0.21")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class TrailContract:
    """A trail's contract as the matching sees it."""

    ocid: str
    buyer_ico: str | None
    supplier_ico: str
    value_excl_vat: Decimal
    signed_on: date
    register_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class RegisterFacts:
    """A current register record as the matching sees it."""

    contract_id: int
    version_id: int
    signed_on: date | None
    value_excl_vat: Decimal | None
    value_incl_vat: Decimal | None
    party_icos: frozenset[str]
    url: str | None = None
    published_at: datetime | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> RegisterFacts:
        """From a row of ``contract_register_records``."""
        return cls(
            contract_id=int(row["contract_id"]),
            version_id=int(row["version_id"]),
            signed_on=row["signed_on"],
            value_excl_vat=row["value_excl_vat"],
            value_incl_vat=row["value_incl_vat"],
            party_icos=frozenset(p.ico for p in parties_of(row) if p.ico),
            url=row["url"],
            published_at=row["published_at"],
        )


def parties_of(row: Mapping[str, Any]) -> list[Party]:
    """The parties of a row of ``contract_register_records`` (stored as arrays)."""
    return [Party(*party) for party in row["parties"] or ()]


def register_id(text: Any) -> int | None:
    """An ``idSmlouvy`` named by a trail (digits, nothing else), or None."""
    value = str(text or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        return None
    return int(value)


def trail_contract(
    ocid: str,
    buyer_ico: str | None,
    external_ids: Mapping[str, Any],
    steps: Sequence[Mapping[str, Any]],
) -> TrailContract | None:
    """The contract of a trail from its effective entries (``procurement.trail``,
    corrections applied and left out); None without a ``contract_signed`` step."""
    contracts = [s for s in steps if s["type"] == "contract_signed"]
    if not contracts:
        return None
    contract = contracts[-1]
    data = contract.get("data") or {}
    links = {register_id(external_ids.get("contract_register"))}
    for step in steps:
        published = step.get("data") or {}
        if step["type"] == "contract_published" and published.get("register") == (
            "contract_register"
        ):
            links.add(register_id(published.get("id")))
    return TrailContract(
        ocid=ocid,
        buyer_ico=buyer_ico,
        supplier_ico=str(data.get("supplier_ico") or ""),
        value_excl_vat=Decimal(str(data.get("value_excl_vat") or "0")),
        signed_on=as_local_date(data.get("signed_on") or contract["occurred_at"]),
        register_ids=frozenset(link for link in links if link is not None),
    )


def linked(contract: TrailContract, record: RegisterFacts) -> bool:
    return record.contract_id in contract.register_ids


def same_parties_and_date(contract: TrailContract, record: RegisterFacts) -> bool:
    if not contract.buyer_ico or not contract.supplier_ico or record.signed_on is None:
        return False
    if contract.buyer_ico not in record.party_icos:
        return False
    if contract.supplier_ico not in record.party_icos:
        return False
    return abs((record.signed_on - contract.signed_on).days) <= DATE_TOLERANCE_DAYS


def matches(contract: TrailContract, record: RegisterFacts) -> bool:
    """Is ``record`` this contract (see the module's rules)?"""
    return linked(contract, record) or same_parties_and_date(contract, record)


def value_agrees(value_excl_vat: Decimal, record: RegisterFacts) -> bool | None:
    """Does the record's value agree with the trail's (excl. VAT)? None: it states no
    value in CZK to compare."""
    if record.value_excl_vat is not None:
        return record.value_excl_vat == value_excl_vat
    if record.value_incl_vat is not None:
        highest = (value_excl_vat * (1 + MAX_VAT_RATE)).quantize(CENT, rounding=ROUND_HALF_UP)
        return value_excl_vat <= record.value_incl_vat <= highest
    return None


def best_match(contract: TrailContract, records: Sequence[RegisterFacts]) -> RegisterFacts | None:
    """The record that is this contract, when any matches (chosen as the module says)."""
    found = [r for r in records if matches(contract, r)]
    if not found:
        return None

    def preference(record: RegisterFacts) -> tuple[bool, bool, int, int]:
        distance = (
            abs((record.signed_on - contract.signed_on).days)
            if record.signed_on is not None
            else 1 << 30
        )
        agrees = value_agrees(contract.value_excl_vat, record) is True
        return (not linked(contract, record), not agrees, distance, -record.version_id)

    return min(found, key=preference)


def candidate_window(contract: TrailContract) -> tuple[date, date]:
    """The signature days a record matched by parties and date can have."""
    tolerance = timedelta(days=DATE_TOLERANCE_DAYS)
    return contract.signed_on - tolerance, contract.signed_on + tolerance


@dataclass(frozen=True)
class Coverage:
    """The publication days the imported dumps cover: a dump of month M lists what was
    published in M, the whole month when the register marked it complete
    (``dokoncenyMesic``), otherwise up to the day before it was generated (Prague days)."""

    last_day_of_month: Mapping[tuple[int, int], date]

    @classmethod
    def of(cls, dumps: Sequence[tuple[int, int, datetime | None, bool]]) -> Coverage:
        covered: dict[tuple[int, int], date] = {}
        for year, month, generated_at, complete in dumps:
            end = _month_end(year, month)
            if not complete:
                if generated_at is None:
                    continue
                end = min(end, as_local_date(generated_at) - timedelta(days=1))
            if end >= date(year, month, 1):
                covered[(year, month)] = max(end, covered.get((year, month), end))
        return cls(covered)

    def covers(self, first: date, last: date) -> bool:
        """Does the mirror hold every record published from ``first`` to ``last``?"""
        day = first
        while day <= last:
            end = self.last_day_of_month.get((day.year, day.month))
            if end is None:
                return False
            needed = min(_month_end(day.year, day.month), last)
            if end < needed:
                return False
            day = needed + timedelta(days=1)
        return True

    def __bool__(self) -> bool:
        return bool(self.last_day_of_month)


def _month_end(year: int, month: int) -> date:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


class RegisterLookup(Protocol):
    """What the red flags need of the mirror (``procurement.register.service`` has one
    over the database)."""

    coverage: Coverage

    def buyer_ico(self, buyer_code: str) -> str | None: ...

    def candidates(self, contract: TrailContract) -> Sequence[RegisterFacts]: ...
