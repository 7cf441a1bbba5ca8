"""Red flags: patterns in a procurement trail that an auditor should look at.

Pure functions over plain data (a procurement header and its entry documents). A flag is
not a verdict: it names its rule, the legal reference where there is one, the steps that are
its evidence, and says in one sentence what was found.

Flags about statutory periods (bid period, objection period, publication of the contract and
of the price paid) are the findings of the one evaluation of periods
(``procurement.deadlines``) over the effective trail (``procurement.trail``), so a flag and a
finding about the same period always agree. Statutory values come from the dated law table
(``procurement.law``); settings (``SMARTSTEPS_REDFLAG_*``) override them only where an
operator sets them.

ZZVZ = zákon č. 134/2016 Sb., o zadávání veřejných zakázek; RS = zákon č. 340/2015 Sb.,
o registru smluv.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from procurement import law
from procurement.audit.ocds import ProcurementHeader
from procurement.calendar import as_local_date, local_date, period_end
from procurement.deadlines import Overrides, TrailFacts, evaluate_trail
from procurement.register.matching import RegisterLookup, best_match, trail_contract, value_agrees
from procurement.rules import procedure
from procurement.schemas import Finding
from procurement.trail import EffectiveStep, effective_steps, without_corrections

SINGLE_BID = "single_bid"
SHORT_BID_PERIOD = "short_bid_period"
CONTRACT_BEFORE_OBJECTION_PERIOD = "contract_before_objection_period"
CONTRACT_NOT_PUBLISHED = "contract_not_published"
PRICE_PAID_NOT_PUBLISHED = "price_paid_not_published"
PAID_ABOVE_CONTRACT_VALUE = "paid_above_contract_value"
AMENDMENTS_ABOVE_SHARE = "amendments_above_share"
SPLIT_CONTRACTS = "split_contracts"
WINNER_NOT_AMONG_BIDDERS = "winner_not_among_bidders"
CONTRACT_MISSING_FROM_REGISTER = "contract_missing_from_register"
REGISTER_VALUE_DIFFERS = "register_value_differs"
# The cross-checks against the contract-register mirror (procurement.register).
REGISTER_RULES = frozenset({CONTRACT_MISSING_FROM_REGISTER, REGISTER_VALUE_DIFFERS})

# rule id -> (legal reference or None, what it means); the list served with the flags.
RULES: dict[str, tuple[str | None, str]] = {
    SINGLE_BID: (
        None,
        "Only one bid was received in a competitive procedure (an indicator of weak "
        "competition, not a breach by itself).",
    ),
    SHORT_BID_PERIOD: (
        "§ 54, § 57, § 59 a § 62 zákona č. 134/2016 Sb.",
        "The period between the call and the deadline for bids (or for requests to "
        "participate) is shorter than the statutory minimum for the procedure.",
    ),
    CONTRACT_BEFORE_OBJECTION_PERIOD: (
        "§ 246 odst. 1 písm. a) a § 242 odst. 2 zákona č. 134/2016 Sb.",
        "The contract was signed before the period for objections against the selection had ended.",
    ),
    CONTRACT_NOT_PUBLISHED: (
        "§ 219 odst. 1 zákona č. 134/2016 Sb.; § 5 odst. 2 a § 7 odst. 1 zákona č. 340/2015 Sb.",
        "The contract was not published on the buyer profile or in the contract register "
        "within the statutory period after its signature.",
    ),
    PRICE_PAID_NOT_PUBLISHED: (
        "§ 219 odst. 3 zákona č. 134/2016 Sb.",
        "The price actually paid was not published within three months of completion.",
    ),
    PAID_ABOVE_CONTRACT_VALUE: (
        "§ 222 zákona č. 134/2016 Sb.",
        "The payments add up to more than the contract value including its amendments.",
    ),
    AMENDMENTS_ABOVE_SHARE: (
        "§ 222 odst. 4 zákona č. 134/2016 Sb.",
        "Amendments change the contract value by more than the share the law allows "
        "without a new procedure.",
    ),
    WINNER_NOT_AMONG_BIDDERS: (
        None,
        "The selected supplier is not among the recorded bids, or its bid had been excluded "
        "in the evaluation (a record error or a selection outside the competition).",
    ),
    CONTRACT_MISSING_FROM_REGISTER: (
        "§ 5 odst. 2 zákona č. 340/2015 Sb.",
        "The trail's contract is above the register's value limit, the imported dumps of the "
        "contract register cover the period for publishing it, and no current record of the "
        "register matches it (see the matching rules).",
    ),
    REGISTER_VALUE_DIFFERS: (
        None,
        "The contract register's record of the trail's contract states another value than "
        "the trail (excl. VAT to the haléř; a value incl. VAT only when no VAT rate from 0 "
        "to 21 % explains it).",
    ),
    SPLIT_CONTRACTS: (
        "§ 16 a § 18 zákona č. 134/2016 Sb.; limity § 27",
        "One buyer's purchases in one CPV division within 12 months together exceed the "
        "small-scale threshold while each stays just under it (possible splitting).",
    ),
}

# Findings (rule ids of procurement.rules) that are red flags, and the flag they raise.
FINDING_FLAGS: tuple[tuple[str, str], ...] = (
    ("bid_period_", SHORT_BID_PERIOD),
    ("participation_period_", SHORT_BID_PERIOD),
    ("contract_after_objection_period", CONTRACT_BEFORE_OBJECTION_PERIOD),
    ("contract_on_buyer_profile", CONTRACT_NOT_PUBLISHED),
    ("contract_register_", CONTRACT_NOT_PUBLISHED),
    ("price_paid_on_buyer_profile", PRICE_PAID_NOT_PUBLISHED),
)


def flag_rule_of(finding_rule_id: str) -> str | None:
    """The red flag a finding of ``finding_rule_id`` raises (None: it raises none)."""
    for prefix, flag in FINDING_FLAGS:
        if finding_rule_id.startswith(prefix):
            return flag
    return None


# Procedures where one supplier is expected (negotiated without publication).
NO_COMPETITION = frozenset({"negotiated_without_publication"})


@dataclass(frozen=True)
class RedFlagConfig:
    """Operator overrides (CZK excluding VAT, days, shares). ``None`` = the law's value on
    the day concerned; only the split heuristic has defaults of its own (it is no rule of
    law)."""

    small_scale_supplies_services: Decimal | None = None
    small_scale_works: Decimal | None = None
    split_near_share: Decimal = Decimal("0.75")
    split_window_days: int = 365
    amendment_share_supplies_services: Decimal | None = None
    amendment_share_works: Decimal | None = None
    publication_threshold: Decimal | None = None
    publication_days: int | None = None
    objection_days: int | None = None
    price_paid_months: int | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> RedFlagConfig:
        """From ``api.settings.Settings`` (its ``redflag_*`` fields; unset = the law)."""

        def decimal(value: Any) -> Decimal | None:
            return None if value is None else Decimal(str(value))

        return cls(
            small_scale_supplies_services=decimal(settings.redflag_small_scale_supplies_services),
            small_scale_works=decimal(settings.redflag_small_scale_works),
            split_near_share=Decimal(str(settings.redflag_split_near_share)),
            split_window_days=settings.redflag_split_window_days,
            amendment_share_supplies_services=decimal(
                settings.redflag_amendment_share_supplies_services
            ),
            amendment_share_works=decimal(settings.redflag_amendment_share_works),
            publication_threshold=decimal(settings.redflag_publication_threshold),
            publication_days=settings.redflag_publication_days,
            objection_days=settings.redflag_objection_days,
            price_paid_months=settings.redflag_price_paid_months,
        )

    def overrides(self) -> Overrides:
        """The operator's values as overrides of the law's periods, by rule id."""
        out: dict[str, dict[str, Any]] = {}
        if self.publication_days is not None:
            for rule_id in ("contract_on_buyer_profile", "contract_register_30_days"):
                out.setdefault(rule_id, {})["days"] = self.publication_days
        if self.publication_threshold is not None:
            out.setdefault("contract_on_buyer_profile", {})["value_above"] = (
                self.publication_threshold
            )
            out.setdefault("price_paid_on_buyer_profile", {})["value_above"] = (
                self.publication_threshold
            )
        if self.objection_days is not None:
            out.setdefault("contract_after_objection_period", {})["days"] = self.objection_days
        if self.price_paid_months is not None:
            out.setdefault("price_paid_on_buyer_profile", {})["days"] = self.price_paid_months
        return out

    def small_scale_limit(self, subject: str, on: date) -> Decimal:
        override = (
            self.small_scale_works if subject == "works" else (self.small_scale_supplies_services)
        )
        if override is not None:
            return override
        return law.threshold("small_scale", subject, on).amount_czk

    def amendment_share(self, subject: str, on: date) -> Decimal:
        override = (
            self.amendment_share_works
            if subject == "works"
            else self.amendment_share_supplies_services
        )
        if override is not None:
            return override
        key = "works" if subject == "works" else "supplies_services"
        return law.limit(f"amendment_share_{key}", on).value


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


def to_date(value: Any) -> date:
    """A recorded date or moment as its Prague date (the calendar's one definition)."""
    return as_local_date(value)


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
    """The steps in seq order with their corrections applied (``procurement.trail``), the
    correction steps themselves left out."""
    return [s.as_entry() for s in without_corrections(effective_steps(entries))]


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


def trail_facts(header: ProcurementHeader) -> TrailFacts:
    started = header.started_on or local_date(
        datetime.fromisoformat(header.created_at.replace("Z", "+00:00"))
    )
    return TrailFacts(
        procedure=header.procedure,
        regime=header.regime or "below_threshold",
        subject=header.subject,
        started_on=started,
    )


_UNIT = {"short_bid_period": "deadline", "contract_before_objection_period": "signed"}


def period_flags(
    header: ProcurementHeader,
    steps: Sequence[EffectiveStep],
    config: RedFlagConfig,
    as_of: date,
) -> list[RedFlag]:
    """One flag per finding of a period the flags cover (see ``FINDING_FLAGS``)."""
    measured = evaluate_trail(
        trail_facts(header), procedure(header.procedure), steps, as_of, config.overrides()
    )
    by_seq = {s.seq: s.as_entry() for s in steps}
    flags = []
    for finding in measured.findings:
        rule = flag_rule_of(finding.rule_id)
        if rule is not None:
            flags.append(_finding_flag(rule, header, finding, by_seq, as_of))
    return flags


def _finding_flag(
    rule: str,
    header: ProcurementHeader,
    finding: Finding,
    by_seq: Mapping[int, Mapping[str, Any]],
    as_of: date,
) -> RedFlag:
    seqs = (finding.from_seq, finding.seq)
    evidence = [by_seq[seq] for seq in seqs if seq is not None and seq in by_seq]
    evidence = list({int(e["seq"]): e for e in evidence}.values())
    if finding.actual_date is None:
        happened = f"not done by {as_of}"
    elif finding.kind == "at_least":
        happened = f"the deadline was {finding.actual_date}"
    elif finding.kind == "after":
        happened = f"done on {finding.actual_date}"
    else:
        happened = f"done on {finding.actual_date}"
    limit = {"at_least": "the minimum ends on", "after": "the period ends on"}.get(
        finding.kind, "due by"
    )
    return _flag(
        rule,
        header,
        evidence,
        f"{finding.description} {happened.capitalize()}; {limit} {finding.due_date}.",
        legal_reference=finding.legal_reference,
        finding_rule_id=finding.rule_id,
        due=finding.due_date.isoformat(),
        actual=finding.actual_date.isoformat() if finding.actual_date else None,
        confidence=finding.confidence,
    )


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
    contract = contracts[0].get("data") or {}
    original = _decimal(contract.get("value_excl_vat"))
    # The law adds the changes up; a decrease does not cancel an increase.
    change = sum(
        (abs(_decimal((a.get("data") or {}).get("value_change_excl_vat"))) for a in amendments),
        Decimal(0),
    )
    signed = to_date(contract.get("signed_on") or contracts[0]["occurred_at"])
    share = config.amendment_share(header.subject, signed)
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
    register: RegisterLookup | None = None,
) -> list[RedFlag]:
    """Every per-procurement rule over one trail (split contracts need many: see below);
    the cross-checks against the contract register when ``register`` is given."""
    config = config or RedFlagConfig()
    as_of = as_of or date.today()
    header = (
        header_source
        if isinstance(header_source, ProcurementHeader)
        else ProcurementHeader.of(header_source)
    )
    effective = without_corrections(effective_steps(entries))
    steps = [s.as_entry() for s in effective]
    flags = [
        *single_bid(header, steps),
        *winner_not_among_bidders(header, steps),
        *period_flags(header, effective, config, as_of),
        *paid_above_contract_value(header, steps),
        *amendments_above_share(header, steps, config),
    ]
    if register is not None:
        external_ids = _field(header_source, "external_ids") or {}
        flags += register_flags(header, external_ids, steps, register, config)
    order = list(RULES)
    flags.sort(key=lambda f: order.index(f.rule))
    return flags


# -- cross-checks against the contract register -------------------------------------------


def _field(source: Any, name: str) -> Any:
    if isinstance(source, Mapping):
        return source.get(name)
    return getattr(source, name, None)


def register_flags(
    header: ProcurementHeader,
    external_ids: Mapping[str, Any],
    entries: Sequence[Mapping[str, Any]],
    register: RegisterLookup,
    config: RedFlagConfig,
) -> list[RedFlag]:
    """The trail's contract against the contract-register mirror (effective entries):
    ``contract_missing_from_register`` and ``register_value_differs``. The matching rules
    and what "covers" means are ``procurement.register.matching``'s."""
    contract = trail_contract(
        header.ocid, register.buyer_ico(header.buyer_code), external_ids, entries
    )
    if contract is None:
        return []
    version = law.deadline_version("contract_register_30_days", contract.signed_on)
    if version is None:  # signed before the register existed (1 July 2016)
        return []
    signed = _of_type(entries, "contract_signed")[-1]
    published = [
        e
        for e in _of_type(entries, "contract_published")
        if (e.get("data") or {}).get("register") == "contract_register"
    ]
    match = best_match(contract, register.candidates(contract))
    if match is None:
        if contract.value_excl_vat <= (version.value_above or Decimal(0)):
            return []
        if not contract.buyer_ico and not contract.register_ids:
            return []  # nothing to match by: the town's IČO is unknown
        days = config.publication_days if config.publication_days is not None else version.days
        due = period_end(contract.signed_on, days, version.day_kind)
        if not register.coverage.covers(contract.signed_on, due):
            return []
        return [
            _flag(
                CONTRACT_MISSING_FROM_REGISTER,
                header,
                [signed, *published],
                f"No current record of the contract register matches the contract signed on "
                f"{contract.signed_on} with IČO {contract.supplier_ico} "
                f"({contract.value_excl_vat:.2f} CZK excl. VAT), though the imported dumps "
                f"hold everything published from {contract.signed_on} to {due}.",
                legal_reference=version.legal_reference,
                buyer_ico=contract.buyer_ico,
                supplier_ico=contract.supplier_ico,
                signed_on=contract.signed_on.isoformat(),
                value_excl_vat=f"{contract.value_excl_vat:.2f}",
                covered_until=due.isoformat(),
                register_ids=sorted(contract.register_ids),
            )
        ]
    if value_agrees(contract.value_excl_vat, match) is not False:
        return []
    stated = (
        f"{match.value_excl_vat:.2f} CZK excl. VAT"
        if match.value_excl_vat is not None
        else f"{match.value_incl_vat:.2f} CZK incl. VAT"
    )
    return [
        _flag(
            REGISTER_VALUE_DIFFERS,
            header,
            [signed, *published],
            f"The contract register's record {match.contract_id} (version {match.version_id}) "
            f"states {stated}; the trail's contract is {contract.value_excl_vat:.2f} CZK "
            "excl. VAT.",
            register_id=match.contract_id,
            register_version_id=match.version_id,
            register_url=match.url,
            register_value_excl_vat=_money_or_none(match.value_excl_vat),
            register_value_incl_vat=_money_or_none(match.value_incl_vat),
            value_excl_vat=f"{contract.value_excl_vat:.2f}",
        )
    ]


def _money_or_none(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


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
        on = header.started_on or to_date(header.created_at)
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
    # A purchase is "just under" by the limit in force on its own day; a window's total is
    # measured against the limit in force on its latest purchase (§ 27 changed on 3 April
    # 2025: 2,000,000 / 6,000,000 CZK before, 3,000,000 / 9,000,000 CZK since).
    groups: dict[tuple[str, str, bool], list[Purchase]] = defaultdict(list)
    for purchase in purchases:
        limit = config.small_scale_limit(purchase.subject, purchase.on)
        if limit * config.split_near_share <= purchase.value <= limit:
            works = purchase.subject == "works"
            groups[(purchase.buyer_code, purchase.cpv_division, works)].append(purchase)
    flags: list[RedFlag] = []
    for (buyer, division, _works), members in sorted(groups.items()):
        members.sort(key=lambda p: (p.on, p.ocid))
        flagged: set[int] = set()
        start, total = 0, Decimal(0)
        windows: list[tuple[int, int, Decimal]] = []
        for end, purchase in enumerate(members):
            total += purchase.value
            while (purchase.on - members[start].on).days > config.split_window_days:
                total -= members[start].value
                start += 1
            limit = config.small_scale_limit(purchase.subject, purchase.on)
            if end > start and total > limit:
                windows.append((start, end, limit))
                flagged.update(range(start, end + 1))
        for index in sorted(flagged):
            # the purchases that share a qualifying window with this one
            around = [(s, e, lim) for s, e, lim in windows if s <= index <= e]
            related = sorted({i for s, e, _ in around for i in range(s, e + 1)})
            limit = max(lim for _, _, lim in around)
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
