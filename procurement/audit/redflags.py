"""Red flags: patterns in a procurement trail that an auditor should look at.

Pure functions over plain data (a procurement header and its entry documents). A flag is
not a verdict: it names its rule, the legal reference where there is one, the steps that are
its evidence, and says in one sentence what was found. Thresholds come from settings
(``SMARTSTEPS_REDFLAG_*``); the statutory values below are the defaults.

ZZVZ = zákon č. 134/2016 Sb., o zadávání veřejných zakázek; RS = zákon č. 340/2015 Sb.,
o registru smluv.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import holidays

from procurement.audit.ocds import ProcurementHeader

SINGLE_BID = "single_bid"
SHORT_BID_PERIOD = "short_bid_period"
CONTRACT_BEFORE_OBJECTION_PERIOD = "contract_before_objection_period"
CONTRACT_NOT_PUBLISHED = "contract_not_published"
PRICE_PAID_NOT_PUBLISHED = "price_paid_not_published"
PAID_ABOVE_CONTRACT_VALUE = "paid_above_contract_value"
AMENDMENTS_ABOVE_SHARE = "amendments_above_share"
SPLIT_CONTRACTS = "split_contracts"
WINNER_NOT_AMONG_BIDDERS = "winner_not_among_bidders"

# rule id -> (legal reference or None, what it means); the list served with the flags.
RULES: dict[str, tuple[str | None, str]] = {
    SINGLE_BID: (
        None,
        "Only one bid was received in a competitive procedure (an indicator of weak "
        "competition, not a breach by itself).",
    ),
    SHORT_BID_PERIOD: (
        "§ 54 a § 57 ZZVZ",
        "The period between the call for bids and the bid deadline is shorter than the "
        "statutory minimum for the procedure.",
    ),
    CONTRACT_BEFORE_OBJECTION_PERIOD: (
        "§ 246 odst. 1 písm. a) a § 242 odst. 2 ZZVZ",
        "The contract was signed before the period for objections against the selection had ended.",
    ),
    CONTRACT_NOT_PUBLISHED: (
        "§ 219 odst. 1 ZZVZ; § 5 odst. 2 RS",
        "The contract was not published (buyer profile or contract register) within the "
        "period after its signature.",
    ),
    PRICE_PAID_NOT_PUBLISHED: (
        "§ 219 odst. 3 ZZVZ",
        "The price actually paid was not published within three months of completion.",
    ),
    PAID_ABOVE_CONTRACT_VALUE: (
        "§ 222 ZZVZ",
        "The payments add up to more than the contract value including its amendments.",
    ),
    AMENDMENTS_ABOVE_SHARE: (
        "§ 222 odst. 4 ZZVZ",
        "Amendments change the contract value by more than the share the law allows "
        "without a new procedure.",
    ),
    WINNER_NOT_AMONG_BIDDERS: (
        None,
        "The selected supplier is not among the recorded bids, or its bid had been excluded "
        "in the evaluation (a record error or a selection outside the competition).",
    ),
    SPLIT_CONTRACTS: (
        "§ 16 a § 18 ZZVZ; limity § 27 ZZVZ",
        "One buyer's purchases in one CPV division within 12 months together exceed the "
        "small-scale threshold while each stays just under it (possible splitting).",
    ),
}

# Minimum bid periods: (procedure, regime, subject or "*") -> (days, working?, legal ref).
# Values as in DESIGN.md "Procurement model"; the consolidated text should be checked.
BID_PERIOD_MINIMUMS: dict[tuple[str, str, str], tuple[int, bool, str]] = {
    ("open", "above_threshold", "*"): (30, False, "§ 57 odst. 1 ZZVZ"),
    ("open", "below_threshold", "supplies"): (15, True, "§ 54 ZZVZ"),
    ("open", "below_threshold", "services"): (15, True, "§ 54 ZZVZ"),
    ("open", "below_threshold", "works"): (20, True, "§ 54 ZZVZ"),
    ("simplified_below_threshold", "*", "*"): (11, True, "§ 54 ZZVZ"),
}

# Procedures where one supplier is expected (negotiated without publication) or where the
# objection rules of ZZVZ do not apply (small-scale contracts, § 31).
NO_COMPETITION = frozenset({"negotiated_without_publication"})
NO_OBJECTIONS = frozenset({"small_scale"})


@dataclass(frozen=True)
class RedFlagConfig:
    """Thresholds (CZK excluding VAT, days, shares)."""

    small_scale_supplies_services: Decimal = Decimal("2000000")
    small_scale_works: Decimal = Decimal("6000000")
    split_near_share: Decimal = Decimal("0.75")
    split_window_days: int = 365
    amendment_share_supplies_services: Decimal = Decimal("0.10")
    amendment_share_works: Decimal = Decimal("0.15")
    publication_threshold: Decimal = Decimal("500000")
    publication_days: int = 30
    objection_days: int = 15
    price_paid_months: int = 3

    @classmethod
    def from_settings(cls, settings: Any) -> RedFlagConfig:
        """From ``api.settings.Settings`` (its ``redflag_*`` fields)."""
        return cls(
            small_scale_supplies_services=Decimal(
                str(settings.redflag_small_scale_supplies_services)
            ),
            small_scale_works=Decimal(str(settings.redflag_small_scale_works)),
            split_near_share=Decimal(str(settings.redflag_split_near_share)),
            split_window_days=settings.redflag_split_window_days,
            amendment_share_supplies_services=Decimal(
                str(settings.redflag_amendment_share_supplies_services)
            ),
            amendment_share_works=Decimal(str(settings.redflag_amendment_share_works)),
            publication_threshold=Decimal(str(settings.redflag_publication_threshold)),
            publication_days=settings.redflag_publication_days,
            objection_days=settings.redflag_objection_days,
            price_paid_months=settings.redflag_price_paid_months,
        )

    def small_scale_limit(self, subject: str) -> Decimal:
        return self.small_scale_works if subject == "works" else self.small_scale_supplies_services

    def amendment_share(self, subject: str) -> Decimal:
        if subject == "works":
            return self.amendment_share_works
        return self.amendment_share_supplies_services


@dataclass(frozen=True)
class Evidence:
    ocid: str
    seq: int
    leaf_index: int
    type: str


@dataclass(frozen=True)
class RedFlag:
    rule: str
    legal_reference: str | None
    ocid: str
    buyer_code: str
    evidence: tuple[Evidence, ...]
    explanation: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "legal_reference": self.legal_reference,
            "ocid": self.ocid,
            "buyer_code": self.buyer_code,
            "evidence": [
                {"ocid": e.ocid, "seq": e.seq, "leaf_index": e.leaf_index, "type": e.type}
                for e in self.evidence
            ],
            "explanation": self.explanation,
            "details": dict(self.details),
        }


# -- helpers -----------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _czech_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("CZ", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _czech_holidays(day.year)


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]: the day after the event is day one."""
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        if is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count


def period_end(start: date, days: int) -> date:
    """The last day of a period of ``days`` calendar days counted from the day after
    ``start``; a period ending on a weekend or holiday ends on the next working day."""
    end = start + timedelta(days=days)
    while not is_working_day(end):
        end += timedelta(days=1)
    return end


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value if value is not None else "0"))


def _evidence(ocid: str, entry: Mapping[str, Any]) -> Evidence:
    return Evidence(
        ocid=ocid,
        seq=int(entry["seq"]),
        leaf_index=int(entry.get("leaf_index", -1)),
        type=str(entry["type"]),
    )


def effective_entries(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The steps in seq order with corrections applied to the data of the steps they
    correct (the correction steps themselves left out)."""
    ordered = sorted((dict(e) for e in entries), key=lambda e: int(e["seq"]))
    by_seq = {int(e["seq"]): e for e in ordered}
    for entry in ordered:
        if entry["type"] == "correction":
            data = entry.get("data") or {}
            target = by_seq.get(int(data.get("corrects_seq") or 0))
            if target is not None and target["type"] != "correction":
                target["data"] = {**(target.get("data") or {}), **(data.get("corrected") or {})}
    return [e for e in ordered if e["type"] != "correction"]


def _of_type(entries: Sequence[Mapping[str, Any]], *types: str) -> list[Mapping[str, Any]]:
    return [e for e in entries if e["type"] in types]


def _flag(
    rule: str,
    header: ProcurementHeader,
    evidence: Iterable[Mapping[str, Any]],
    explanation: str,
    legal_reference: str | None = None,
    **details: Any,
) -> RedFlag:
    return RedFlag(
        rule=rule,
        legal_reference=legal_reference or RULES[rule][0],
        ocid=header.ocid,
        buyer_code=header.buyer_code,
        evidence=tuple(_evidence(header.ocid, e) for e in evidence),
        explanation=explanation,
        details=details,
    )


# -- the rules over one procurement ------------------------------------------------------


def single_bid(header: ProcurementHeader, entries: Sequence[Mapping[str, Any]]) -> list[RedFlag]:
    if header.procedure in NO_COMPETITION:
        return []
    openings = _of_type(entries, "bids_opened")
    if not openings:
        return []
    last = openings[-1]
    bids = (last.get("data") or {}).get("bids") or []
    if len(bids) != 1:
        return []
    return [
        _flag(
            SINGLE_BID,
            header,
            [last],
            f"One bid received ({bids[0].get('name') or bids[0].get('ico')}).",
            bidders=1,
        )
    ]


def winner_not_among_bidders(
    header: ProcurementHeader, entries: Sequence[Mapping[str, Any]]
) -> list[RedFlag]:
    openings = _of_type(entries, "bids_opened")
    selections = _of_type(entries, "selection_decided")
    if not openings or not selections:
        return []
    selection = selections[-1]
    winner = (selection.get("data") or {}).get("winner_ico")
    bidders = {bid.get("ico") for o in openings for bid in (o.get("data") or {}).get("bids") or []}
    evaluations = _of_type(entries, "evaluation_completed")
    excluded = {
        item.get("ico") for e in evaluations for item in (e.get("data") or {}).get("excluded") or []
    }
    if winner in bidders and winner not in excluded:
        return []
    if winner not in bidders:
        evidence, why = [*openings, selection], "is not among the recorded bids"
    else:
        evidence, why = [*evaluations, selection], "had been excluded in the evaluation"
    return [
        _flag(
            WINNER_NOT_AMONG_BIDDERS,
            header,
            evidence,
            f"The selected supplier (IČO {winner}) {why}.",
            winner_ico=winner,
        )
    ]


def short_bid_period(
    header: ProcurementHeader, entries: Sequence[Mapping[str, Any]]
) -> list[RedFlag]:
    rule = _bid_period_rule(header)
    calls = _of_type(entries, "notice_published", "invitation_sent")
    if rule is None or not calls:
        return []
    minimum, working, reference = rule
    call = calls[0]
    deadline = (call.get("data") or {}).get("bid_deadline")
    evidence: list[Mapping[str, Any]] = [call]
    for extension in _of_type(entries, "bid_deadline_extended"):
        deadline = (extension.get("data") or {}).get("new_bid_deadline") or deadline
        evidence.append(extension)
    if not deadline:
        return []
    start, end = to_date(call["occurred_at"]), to_date(deadline)
    length = working_days_between(start, end) if working else (end - start).days
    if length >= minimum:
        return []
    unit = "working days" if working else "days"
    return [
        _flag(
            SHORT_BID_PERIOD,
            header,
            evidence,
            f"Bid period of {length} {unit} ({start} to {end}); the minimum is {minimum}.",
            legal_reference=reference,
            days=length,
            minimum=minimum,
            day_kind="working" if working else "calendar",
        )
    ]


def _bid_period_rule(header: ProcurementHeader) -> tuple[int, bool, str] | None:
    regime, subject = header.regime or "*", header.subject or "*"
    for key in (
        (header.procedure, regime, subject),
        (header.procedure, regime, "*"),
        (header.procedure, "*", "*"),
    ):
        if key in BID_PERIOD_MINIMUMS:
            return BID_PERIOD_MINIMUMS[key]
    return None


def contract_before_objection_period(
    header: ProcurementHeader, entries: Sequence[Mapping[str, Any]], config: RedFlagConfig
) -> list[RedFlag]:
    if header.procedure in NO_OBJECTIONS:
        return []
    flags = []
    openings = _of_type(entries, "bids_opened")
    if openings and len((openings[-1].get("data") or {}).get("bids") or []) == 1:
        return []  # § 246 odst. 2: no waiting period when only one supplier took part
    selection: Mapping[str, Any] | None = None
    for entry in entries:
        if entry["type"] == "selection_decided":
            selection = entry
        elif entry["type"] == "contract_signed" and selection is not None:
            decided = to_date(selection["occurred_at"])
            end = period_end(decided, config.objection_days)
            signed = to_date((entry.get("data") or {}).get("signed_on") or entry["occurred_at"])
            if signed <= end:
                flags.append(
                    _flag(
                        CONTRACT_BEFORE_OBJECTION_PERIOD,
                        header,
                        [selection, entry],
                        f"Signed on {signed}; objections against the selection of {decided} "
                        f"could be filed until {end}.",
                        signed_on=signed.isoformat(),
                        objection_period_ends=end.isoformat(),
                    )
                )
    return flags


def contract_not_published(
    header: ProcurementHeader,
    entries: Sequence[Mapping[str, Any]],
    config: RedFlagConfig,
    as_of: date,
) -> list[RedFlag]:
    flags = []
    publications = _of_type(entries, "contract_published")
    for contract in _of_type(entries, "contract_signed"):
        data = contract.get("data") or {}
        if _decimal(data.get("value_excl_vat")) <= config.publication_threshold:
            continue
        signed = to_date(data.get("signed_on") or contract["occurred_at"])
        due = signed + timedelta(days=config.publication_days)
        later = [p for p in publications if int(p["seq"]) > int(contract["seq"])]
        if later:
            published = to_date(later[0]["occurred_at"])
            if published > due:
                flags.append(
                    _flag(
                        CONTRACT_NOT_PUBLISHED,
                        header,
                        [contract, later[0]],
                        f"Signed on {signed}, published on {published} (due by {due}).",
                        due=due.isoformat(),
                        published_on=published.isoformat(),
                    )
                )
        elif as_of > due:
            flags.append(
                _flag(
                    CONTRACT_NOT_PUBLISHED,
                    header,
                    [contract],
                    f"Signed on {signed}, not published by {as_of} (due by {due}).",
                    due=due.isoformat(),
                    published_on=None,
                )
            )
    return flags


def price_paid_not_published(
    header: ProcurementHeader,
    entries: Sequence[Mapping[str, Any]],
    config: RedFlagConfig,
    as_of: date,
) -> list[RedFlag]:
    completions = _of_type(entries, "completed")
    contracts = _of_type(entries, "contract_signed")
    if not completions or not contracts:
        return []
    value = _decimal((contracts[-1].get("data") or {}).get("value_excl_vat"))
    if value <= config.publication_threshold:
        return []
    completed = to_date(completions[0]["occurred_at"])
    due = add_months(completed, config.price_paid_months)
    published = _of_type(entries, "price_paid_published")
    if published:
        on = to_date(published[0]["occurred_at"])
        if on <= due:
            return []
        return [
            _flag(
                PRICE_PAID_NOT_PUBLISHED,
                header,
                [completions[0], published[0]],
                f"Completed on {completed}, price paid published on {on} (due by {due}).",
                due=due.isoformat(),
                published_on=on.isoformat(),
            )
        ]
    if as_of <= due:
        return []
    return [
        _flag(
            PRICE_PAID_NOT_PUBLISHED,
            header,
            [completions[0]],
            f"Completed on {completed}, price paid not published by {as_of} (due by {due}).",
            due=due.isoformat(),
            published_on=None,
        )
    ]


def paid_above_contract_value(
    header: ProcurementHeader, entries: Sequence[Mapping[str, Any]]
) -> list[RedFlag]:
    contracts = _of_type(entries, "contract_signed")
    payments = _of_type(entries, "payment_made")
    if not contracts or not payments:
        return []
    amendments = _of_type(entries, "contract_amended")
    value = _decimal((contracts[-1].get("data") or {}).get("value_excl_vat"))
    value += sum(
        (_decimal((a.get("data") or {}).get("value_change_excl_vat")) for a in amendments),
        Decimal(0),
    )
    paid = sum(
        (_decimal((p.get("data") or {}).get("amount_excl_vat")) for p in payments), Decimal(0)
    )
    if paid <= value:
        return []
    return [
        _flag(
            PAID_ABOVE_CONTRACT_VALUE,
            header,
            [contracts[-1], *amendments, *payments],
            f"Paid {paid:.2f} CZK excl. VAT against a contract value of {value:.2f}.",
            paid_excl_vat=f"{paid:.2f}",
            contract_value_excl_vat=f"{value:.2f}",
        )
    ]


def amendments_above_share(
    header: ProcurementHeader, entries: Sequence[Mapping[str, Any]], config: RedFlagConfig
) -> list[RedFlag]:
    contracts = _of_type(entries, "contract_signed")
    amendments = _of_type(entries, "contract_amended")
    if not contracts or not amendments:
        return []
    original = _decimal((contracts[0].get("data") or {}).get("value_excl_vat"))
    # The law adds the changes up; a decrease does not cancel an increase.
    change = sum(
        (abs(_decimal((a.get("data") or {}).get("value_change_excl_vat"))) for a in amendments),
        Decimal(0),
    )
    share = config.amendment_share(header.subject)
    if original <= 0 or change <= original * share:
        return []
    return [
        _flag(
            AMENDMENTS_ABOVE_SHARE,
            header,
            [contracts[0], *amendments],
            f"Amendments change the value by {change:.2f} CZK, "
            f"{change / original:.1%} of the original {original:.2f} (limit {share:.0%}).",
            change_excl_vat=f"{change:.2f}",
            original_value_excl_vat=f"{original:.2f}",
            share=f"{change / original:.4f}",
            limit=f"{share}",
        )
    ]


def procurement_flags(
    header_source: Any,
    entries: Iterable[Mapping[str, Any]],
    config: RedFlagConfig | None = None,
    as_of: date | None = None,
) -> list[RedFlag]:
    """Every per-procurement rule over one trail (split contracts need many: see below)."""
    config = config or RedFlagConfig()
    as_of = as_of or date.today()
    header = (
        header_source
        if isinstance(header_source, ProcurementHeader)
        else ProcurementHeader.of(header_source)
    )
    steps = effective_entries(entries)
    return [
        *single_bid(header, steps),
        *winner_not_among_bidders(header, steps),
        *short_bid_period(header, steps),
        *contract_before_objection_period(header, steps, config),
        *contract_not_published(header, steps, config, as_of),
        *price_paid_not_published(header, steps, config, as_of),
        *paid_above_contract_value(header, steps),
        *amendments_above_share(header, steps, config),
    ]


# -- split contracts, over many procurements ----------------------------------------------


@dataclass(frozen=True)
class Purchase:
    """One procurement as the split rule sees it."""

    ocid: str
    buyer_code: str
    subject: str
    cpv_division: str
    value: Decimal
    on: date
    evidence: tuple[Evidence, ...] = ()


def purchase_of(header_source: Any, entries: Iterable[Mapping[str, Any]]) -> Purchase | None:
    """The contract (or, before one, the estimate) of a procurement that was not cancelled."""
    header = (
        header_source
        if isinstance(header_source, ProcurementHeader)
        else ProcurementHeader.of(header_source)
    )
    steps = effective_entries(entries)
    if _of_type(steps, "cancelled") or not header.cpv_codes:
        return None
    contracts = _of_type(steps, "contract_signed")
    if contracts:
        data = contracts[-1].get("data") or {}
        value = _decimal(data.get("value_excl_vat"))
        on = to_date(data.get("signed_on") or contracts[-1]["occurred_at"])
        evidence: tuple[Evidence, ...] = (_evidence(header.ocid, contracts[-1]),)
    elif header.estimated_value_excl_vat is not None:
        value = _decimal(header.estimated_value_excl_vat)
        on = to_date(header.created_at)
        evidence = ()
    else:
        return None
    return Purchase(
        ocid=header.ocid,
        buyer_code=header.buyer_code,
        subject=header.subject,
        cpv_division=header.cpv_codes[0][:2],
        value=value,
        on=on,
        evidence=evidence,
    )


def split_contracts(
    purchases: Iterable[Purchase], config: RedFlagConfig | None = None
) -> list[RedFlag]:
    """Groups of one buyer's purchases in one CPV division (and threshold class) whose
    dates fit in ``split_window_days`` and that together exceed the small-scale limit while
    each lies between ``split_near_share`` of it and the limit. One flag per purchase."""
    config = config or RedFlagConfig()
    groups: dict[tuple[str, str, bool], list[Purchase]] = defaultdict(list)
    for purchase in purchases:
        limit = config.small_scale_limit(purchase.subject)
        if limit * config.split_near_share <= purchase.value <= limit:
            key = (purchase.buyer_code, purchase.cpv_division, purchase.subject == "works")
            groups[key].append(purchase)
    flags: list[RedFlag] = []
    for (buyer, division, works), members in sorted(groups.items()):
        limit = config.small_scale_works if works else config.small_scale_supplies_services
        members.sort(key=lambda p: (p.on, p.ocid))
        flagged: set[int] = set()
        start, total = 0, Decimal(0)
        windows: list[tuple[int, int]] = []
        for end, purchase in enumerate(members):
            total += purchase.value
            while (purchase.on - members[start].on).days > config.split_window_days:
                total -= members[start].value
                start += 1
            if end > start and total > limit:
                windows.append((start, end))
                flagged.update(range(start, end + 1))
        for index in sorted(flagged):
            # the purchases that share a qualifying window with this one
            related = sorted({i for s, e in windows if s <= index <= e for i in range(s, e + 1)})
            cluster = [members[i] for i in related]
            together = sum((p.value for p in cluster), Decimal(0))
            purchase = members[index]
            flags.append(
                RedFlag(
                    rule=SPLIT_CONTRACTS,
                    legal_reference=RULES[SPLIT_CONTRACTS][0],
                    ocid=purchase.ocid,
                    buyer_code=buyer,
                    evidence=tuple(e for p in cluster for e in p.evidence),
                    explanation=(
                        f"{len(cluster)} purchases in CPV division {division} between "
                        f"{cluster[0].on} and {cluster[-1].on} add up to {together:.2f} CZK "
                        f"excl. VAT, over the small-scale limit of {limit:.0f}; this one is "
                        f"{purchase.value:.2f}."
                    ),
                    details={
                        "cpv_division": division,
                        "related_ocids": [p.ocid for p in cluster],
                        "total_excl_vat": f"{together:.2f}",
                        "limit_excl_vat": f"{limit:.2f}",
                    },
                )
            )
    return flags
