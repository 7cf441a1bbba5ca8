"""Red flags, table-driven: for each rule a trail that raises it and one that does not."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from procurement.audit import redflags as rf
from procurement.audit.ocds import ProcurementHeader
from tests.factories_audit import THIRD, WINNER, happy_path, header

Entries = list[dict[str, Any]]
LATE = date(2030, 1, 1)


def step(entries: Entries, step_type: str) -> dict[str, Any]:
    return next(e for e in entries if e["type"] == step_type)


def without(*types: str) -> Callable[[Entries], Entries]:
    return lambda entries: [e for e in entries if e["type"] not in types]


def set_data(step_type: str, **data: Any) -> Callable[[Entries], Entries]:
    def change(entries: Entries) -> Entries:
        step(entries, step_type)["data"].update(data)
        return entries

    return change


def then(*changes: Callable[[Entries], Entries]) -> Callable[[Entries], Entries]:
    def change(entries: Entries) -> Entries:
        for one in changes:
            entries = one(entries)
        return entries

    return change


def signed_days_after_selection(days: int) -> Callable[[Entries], Entries]:
    def change(entries: Entries) -> Entries:
        decided = date.fromisoformat(step(entries, "selection_decided")["occurred_at"][:10])
        step(entries, "contract_signed")["data"]["signed_on"] = str(decided + timedelta(days=days))
        return entries

    return change


def published_days_after_signing(days: int) -> Callable[[Entries], Entries]:
    def change(entries: Entries) -> Entries:
        signed = date.fromisoformat(step(entries, "contract_signed")["data"]["signed_on"])
        step(entries, "contract_published")["occurred_at"] = (
            f"{signed + timedelta(days=days)}T10:00:00Z"
        )
        return entries

    return change


def bid_period_working_days(days: int) -> Callable[[Entries], Entries]:
    """Notice on Monday 2026-02-02, deadline after ``days`` working days (no holidays then)."""

    def change(entries: Entries) -> Entries:
        entries = without("bid_deadline_extended")(entries)
        notice = step(entries, "notice_published")
        notice["occurred_at"] = "2026-02-02T09:00:00Z"
        end = date(2026, 2, 2)
        counted = 0
        while counted < days:
            end += timedelta(days=1)
            if end.weekday() < 5:
                counted += 1
        notice["data"]["bid_deadline"] = f"{end}T10:00:00Z"
        return entries

    return change


def extra_payment(amount: str) -> Callable[[Entries], Entries]:
    def change(entries: Entries) -> Entries:
        last = entries[-1]
        entries.append(
            {
                **copy.deepcopy(step(entries, "payment_made")),
                "seq": last["seq"] + 1,
                "leaf_index": last["leaf_index"] + 1,
                "data": {"amount_excl_vat": amount, "paid_on": "2026-09-01"},
            }
        )
        return entries

    return change


def correction(corrects: str, **corrected: Any) -> Callable[[Entries], Entries]:
    def change(entries: Entries) -> Entries:
        last = entries[-1]
        entries.append(
            {
                **copy.deepcopy(last),
                "seq": last["seq"] + 1,
                "leaf_index": last["leaf_index"] + 1,
                "type": "correction",
                "data": {
                    "corrects_seq": step(entries, corrects)["seq"],
                    "reason": "oprava",
                    "corrected": corrected,
                },
            }
        )
        return entries

    return change


def identity(entries: Entries) -> Entries:
    return entries


# (rule, case name, header overrides, change to the happy path, as_of, flagged?)
CASES: list[tuple[str, str, dict[str, Any], Callable[[Entries], Entries], date, bool]] = [
    (
        rf.SINGLE_BID,
        "one bid",
        {},
        set_data("bids_opened", bids=[{**WINNER, "price_excl_vat": "1.00"}]),
        LATE,
        True,
    ),
    (rf.SINGLE_BID, "three bids", {}, identity, LATE, False),
    (rf.WINNER_NOT_AMONG_BIDDERS, "winner among the bids", {}, identity, LATE, False),
    (
        rf.WINNER_NOT_AMONG_BIDDERS,
        "winner never bid",
        {},
        set_data("selection_decided", winner_ico="00064581"),
        LATE,
        True,
    ),
    (
        rf.WINNER_NOT_AMONG_BIDDERS,
        "winner was excluded",
        {},
        set_data("selection_decided", winner_ico=THIRD["ico"]),
        LATE,
        True,
    ),
    (
        rf.SINGLE_BID,
        "one bid in JŘBU is expected",
        {"procedure": "negotiated_without_publication"},
        set_data("bids_opened", bids=[{**WINNER, "price_excl_vat": "1.00"}]),
        LATE,
        False,
    ),
    (rf.SHORT_BID_PERIOD, "14 working days", {}, bid_period_working_days(14), LATE, True),
    (rf.SHORT_BID_PERIOD, "15 working days", {}, bid_period_working_days(15), LATE, False),
    (
        rf.SHORT_BID_PERIOD,
        "works need 20",
        {"subject": "works"},
        bid_period_working_days(19),
        LATE,
        True,
    ),
    (
        rf.SHORT_BID_PERIOD,
        "above threshold 30 days",
        {"regime": "above_threshold"},
        bid_period_working_days(20),
        LATE,
        True,
    ),
    (
        rf.SHORT_BID_PERIOD,
        "small scale has no minimum",
        {"procedure": "small_scale"},
        lambda e: e,
        LATE,
        False,
    ),
    (
        rf.CONTRACT_BEFORE_OBJECTION_PERIOD,
        "signed after 10 days",
        {},
        signed_days_after_selection(10),
        LATE,
        True,
    ),
    (
        rf.CONTRACT_BEFORE_OBJECTION_PERIOD,
        "signed after 20 days",
        {},
        signed_days_after_selection(20),
        LATE,
        False,
    ),
    (
        rf.CONTRACT_BEFORE_OBJECTION_PERIOD,
        "small scale has no objections",
        {"procedure": "small_scale"},
        signed_days_after_selection(2),
        LATE,
        False,
    ),
    (
        rf.CONTRACT_BEFORE_OBJECTION_PERIOD,
        "corrected signature date",
        {},
        then(
            signed_days_after_selection(10), correction("contract_signed", signed_on="2026-05-01")
        ),
        LATE,
        False,
    ),
    (rf.CONTRACT_NOT_PUBLISHED, "never published", {}, without("contract_published"), LATE, True),
    (
        rf.CONTRACT_NOT_PUBLISHED,
        "not yet due",
        {},
        without("contract_published"),
        date(2026, 4, 20),
        False,
    ),
    # Signed on Friday 10 April 2026: day 30 is Sunday 10 May, so the period ends on
    # Monday 11 May (§ 607 of the Civil Code), and day 32 is late.
    (
        rf.CONTRACT_NOT_PUBLISHED,
        "published on day 32",
        {},
        published_days_after_signing(32),
        LATE,
        True,
    ),
    (
        rf.CONTRACT_NOT_PUBLISHED,
        "published on day 31, the period moved past the weekend",
        {},
        published_days_after_signing(31),
        LATE,
        False,
    ),
    (
        rf.CONTRACT_NOT_PUBLISHED,
        "small contract (50,000 CZK: neither the register nor the profile)",
        {},
        then(without("contract_published"), set_data("contract_signed", value_excl_vat="50000.00")),
        LATE,
        False,
    ),
    (
        rf.CONTRACT_NOT_PUBLISHED,
        "400,000 CZK in the register after 40 days (the register's 50,000 CZK limit)",
        {},
        then(
            set_data("contract_signed", value_excl_vat="400000.00"),
            published_days_after_signing(40),
        ),
        LATE,
        True,
    ),
    (
        rf.PRICE_PAID_NOT_PUBLISHED,
        "never published",
        {},
        without("price_paid_published"),
        LATE,
        True,
    ),
    (
        rf.PRICE_PAID_NOT_PUBLISHED,
        "within three months",
        {},
        without("price_paid_published"),
        date(2026, 8, 1),
        False,
    ),
    (rf.PAID_ABOVE_CONTRACT_VALUE, "one payment too many", {}, extra_payment("0.01"), LATE, True),
    (rf.PAID_ABOVE_CONTRACT_VALUE, "paid exactly the amended value", {}, identity, LATE, False),
    (
        rf.AMENDMENTS_ABOVE_SHARE,
        "10.3 % on supplies",
        {},
        set_data("contract_amended", value_change_excl_vat="400000.00"),
        LATE,
        True,
    ),
    (
        rf.AMENDMENTS_ABOVE_SHARE,
        "10.3 % on works",
        {"subject": "works"},
        set_data("contract_amended", value_change_excl_vat="400000.00"),
        LATE,
        False,
    ),
    (
        rf.AMENDMENTS_ABOVE_SHARE,
        "a decrease counts too",
        {},
        set_data("contract_amended", value_change_excl_vat="-400000.00"),
        LATE,
        True,
    ),
]


@pytest.mark.parametrize(
    ("rule", "overrides", "change", "as_of", "flagged"),
    [pytest.param(rule, o, c, a, f, id=f"{rule}: {name}") for rule, name, o, c, a, f in CASES],
)
def test_rule(
    rule: str,
    overrides: dict[str, Any],
    change: Callable[[Entries], Entries],
    as_of: date,
    flagged: bool,
) -> None:
    head = header(**overrides)
    entries = change(copy.deepcopy(happy_path(head["procedure"])))
    flags = [f for f in rf.procurement_flags(head, entries, as_of=as_of) if f.rule == rule]
    assert bool(flags) is flagged, [f.explanation for f in flags]
    for flag in flags:
        assert flag.ocid == head["ocid"]
        assert flag.legal_reference or rule in (rf.SINGLE_BID, rf.WINNER_NOT_AMONG_BIDDERS)
        assert flag.evidence
        assert all(e.seq >= 1 and e.leaf_index >= 0 for e in flag.evidence)
        assert flag.explanation


def test_every_rule_has_cases_both_ways() -> None:
    seen = {(rule, flagged) for rule, *_, flagged in CASES}
    # The contract-register cross-checks have their cases in test_register_crosschecks.py.
    per_procurement = set(rf.RULES) - {rf.SPLIT_CONTRACTS} - rf.REGISTER_RULES
    assert seen == {(rule, b) for rule in per_procurement for b in (True, False)}


def test_the_happy_path_raises_no_flag() -> None:
    for procedure in ("open", "simplified_below_threshold", "small_scale"):
        assert (
            rf.procurement_flags(header(procedure=procedure), happy_path(procedure), as_of=LATE)
            == []
        )


def test_evidence_names_the_steps() -> None:
    entries = without("contract_published")(happy_path("open"))
    flags = rf.procurement_flags(header(), entries, as_of=LATE)
    signed = step(entries, "contract_signed")
    # 3,900,000 CZK never published: on the profile (§ 219), in the register (RS § 5) and,
    # after three months, cancelled from the start (RS § 7); each flag is one finding.
    assert {f.details["finding_rule_id"] for f in flags} == {
        "contract_on_buyer_profile",
        "contract_register_30_days",
        "contract_register_void_after_3_months",
    }
    for flag in flags:
        assert flag.rule == rf.CONTRACT_NOT_PUBLISHED
        assert flag.as_dict()["evidence"] == [
            {
                "ocid": header()["ocid"],
                "seq": signed["seq"],
                "leaf_index": signed["leaf_index"],
                "type": "contract_signed",
            }
        ]


def test_thresholds_come_from_the_config() -> None:
    entries = set_data("contract_amended", value_change_excl_vat="400000.00")(happy_path("open"))
    loose = rf.RedFlagConfig(amendment_share_supplies_services=Decimal("0.2"))
    assert list(rf.procurement_flags(header(), entries, loose, LATE)) == []
    assert rf.procurement_flags(header(), entries, rf.RedFlagConfig(), LATE)


# -- split contracts ----------------------------------------------------------------------


def purchase(
    n: int,
    value: str,
    on: date,
    *,
    buyer: str = "554782",
    cpv: str = "34993000-4",
    subject: str = "supplies",
) -> rf.Purchase:
    head = header(
        ocid=f"ocds-smstps-{buyer}-2026-{n}",
        buyer_code=buyer,
        cpv_codes=[cpv],
        subject=subject,
        estimated_value_excl_vat=value,
        created_at=f"{on}T08:00:00Z",
    )
    found = rf.purchase_of(ProcurementHeader.of(head), [])
    assert found is not None
    return found


SPLIT_CASES: list[tuple[str, list[rf.Purchase], set[int]]] = [
    (
        "two just under within a year",
        [purchase(1, "2900000", date(2026, 1, 10)), purchase(2, "2800000", date(2026, 11, 30))],
        {1, 2},
    ),
    (
        "thirteen months apart",
        [purchase(1, "2900000", date(2026, 1, 10)), purchase(2, "2800000", date(2027, 2, 15))],
        set(),
    ),
    (
        "other CPV division",
        [
            purchase(1, "2900000", date(2026, 1, 10)),
            purchase(2, "2800000", date(2026, 3, 1), cpv="45233000-9"),
        ],
        set(),
    ),
    (
        "other buyer",
        [
            purchase(1, "2900000", date(2026, 1, 10)),
            purchase(2, "2800000", date(2026, 3, 1), buyer="500011"),
        ],
        set(),
    ),
    (
        "one far under the limit",
        [purchase(1, "2900000", date(2026, 1, 10)), purchase(2, "300000", date(2026, 3, 1))],
        set(),
    ),
    (
        "one above the limit",
        [purchase(1, "2900000", date(2026, 1, 10)), purchase(2, "3500000", date(2026, 3, 1))],
        set(),
    ),
    (
        "works have their own limit",
        [
            purchase(1, "2900000", date(2026, 1, 10), subject="works", cpv="45233000-9"),
            purchase(2, "2800000", date(2026, 3, 1), subject="works", cpv="45233000-9"),
        ],
        set(),
    ),
    (
        "works just under 9 M",
        [
            purchase(1, "8000000", date(2026, 1, 10), subject="works", cpv="45233000-9"),
            purchase(2, "7500000", date(2026, 12, 1), subject="works", cpv="45111000-8"),
        ],
        {1, 2},
    ),
    (
        "before the 2025 amendment: just under 2 M",
        [purchase(1, "1900000", date(2024, 6, 10)), purchase(2, "1800000", date(2025, 2, 1))],
        {1, 2},
    ),
    (
        "across the amendment: each just under its own day's limit",
        [purchase(1, "1900000", date(2025, 1, 10)), purchase(2, "2800000", date(2025, 6, 1))],
        {1, 2},
    ),
    (
        "2,100,000 in 2026 is not just under the 3 M limit",
        [purchase(1, "2100000", date(2026, 1, 10)), purchase(2, "2100000", date(2026, 6, 1))],
        set(),
    ),
    (
        "a chain across 12-month windows",
        [
            purchase(1, "2400000", date(2026, 1, 10)),
            purchase(2, "2400000", date(2026, 10, 1)),
            purchase(3, "2400000", date(2027, 6, 1)),
            purchase(4, "2400000", date(2028, 9, 1)),
        ],
        {1, 2, 3},
    ),
]


@pytest.mark.parametrize(
    ("purchases", "expected"), [pytest.param(p, e, id=name) for name, p, e in SPLIT_CASES]
)
def test_split_contracts(purchases: list[rf.Purchase], expected: set[int]) -> None:
    flags = rf.split_contracts(purchases)
    assert {int(f.ocid.rsplit("-", 1)[1]) for f in flags} == expected
    for flag in flags:
        assert flag.rule == rf.SPLIT_CONTRACTS
        assert flag.ocid in flag.details["related_ocids"]
        assert len(flag.details["related_ocids"]) >= 2


def test_split_uses_the_signed_contract_value_and_date() -> None:
    entries = happy_path("open")
    head = header(estimated_value_excl_vat="9000000.00")
    step(entries, "contract_signed")["data"]["value_excl_vat"] = "1950000.00"
    found = rf.purchase_of(head, entries)
    assert found is not None
    assert found.value == Decimal("1950000.00")
    assert found.on == date.fromisoformat(step(entries, "contract_signed")["data"]["signed_on"])
    assert [e.type for e in found.evidence] == ["contract_signed"]
    cancelled = [*entries, {**entries[-1], "seq": 99, "type": "cancelled", "data": {}}]
    assert rf.purchase_of(head, cancelled) is None


def test_flag_dates_are_prague_dates() -> None:
    """A step at 23:30 UTC on 31 March happened on 1 April in Prague."""
    assert rf.to_date("2026-03-31T23:30:00Z") == date(2026, 4, 1)
    assert rf.to_date("2026-03-31") == date(2026, 3, 31)


def test_operator_settings_override_the_law_only_where_set() -> None:
    from api.settings import Settings

    entries = published_days_after_signing(25)(happy_path("open"))
    assert rf.RedFlagConfig.from_settings(Settings()) == rf.RedFlagConfig()
    assert rf.procurement_flags(header(), entries, as_of=LATE) == []
    strict = rf.RedFlagConfig.from_settings(Settings(redflag_publication_days=20))
    flags = rf.procurement_flags(header(), entries, strict, LATE)
    assert [(f.rule, f.details["finding_rule_id"]) for f in flags] == [
        (rf.CONTRACT_NOT_PUBLISHED, "contract_register_30_days")
    ]
