"""Procedure rules as data: for each procedure type of zákon č. 134/2016 Sb. (ZZVZ), the
step types it uses, which steps must come first, which may repeat, which end it, and the
statutory deadlines with their legal reference and the date from which they apply.

A value that could not be checked against the consolidated text is marked
``confidence="unconfirmed"`` with a note; a change in the law is a data change here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from procurement.calendar import DayKind

ZZVZ = "zákon č. 134/2016 Sb."
RS = "zákon č. 340/2015 Sb."  # zákon o registru smluv
ZZVZ_FROM = date(2016, 10, 1)
RS_FROM = date(2016, 7, 1)

Confidence = Literal["confirmed", "unconfirmed"]
DeadlineKind = Literal["within", "at_least", "after"]
Severity = Literal["low", "medium", "high", "critical"]

STEP_TYPES: tuple[str, ...] = (
    "procurement_approved",
    "notice_published",
    "invitation_sent",
    "tender_documents_published",
    "clarification_published",
    "bid_deadline_extended",
    "bids_opened",
    "evaluation_completed",
    "selection_decided",
    "objection_filed",
    "objection_decided",
    "contract_signed",
    "contract_published",
    "result_notice_published",
    "contract_amended",
    "payment_made",
    "price_paid_published",
    "report_published",
    "completed",
    "cancelled",
    "correction",
)

PROCEDURE_IDS: tuple[str, ...] = (
    "open",
    "restricted",
    "negotiated_with_publication",
    "negotiated_without_publication",
    "competitive_dialogue",
    "innovation_partnership",
    "simplified_below_threshold",
    "concession",
    "design_contest",
    "small_scale",
)

TERMINAL_TYPES = frozenset({"completed", "cancelled"})
# What the law still expects after the end: publication, amendments, payments, reports.
AFTER_COMPLETED = (
    "contract_published",
    "result_notice_published",
    "contract_amended",
    "payment_made",
    "price_paid_published",
    "report_published",
    "correction",
)
# After a cancellation (zrušení): its notice, the report, objections against it (§ 242).
AFTER_CANCELLED = (
    "result_notice_published",
    "report_published",
    "objection_filed",
    "objection_decided",
    "correction",
)


@dataclass(frozen=True)
class Deadline:
    """A statutory period checked when the step it belongs to is recorded.

    The period starts on the date of ``from_step`` (its ``from_field`` date, else the day it
    occurred, in Prague) and is compared with this step's ``at_field`` date (else the day it
    occurred): ``within`` = no later than the last day; ``at_least`` = no earlier than the
    last day (a minimum period such as the bid period); ``after`` = only once the period is
    over (no contract before the objection period has ended).
    """

    rule_id: str
    from_step: str
    days: int
    day_kind: DayKind
    kind: DeadlineKind
    legal_reference: str
    effective_from: date
    description: str
    severity: Severity = "high"
    from_field: str | None = None
    at_field: str | None = None
    regimes: tuple[str, ...] | None = None
    subjects: tuple[str, ...] | None = None
    when: tuple[tuple[str, str], ...] = ()
    value_field: str | None = None
    value_step: str | None = None  # the step whose data holds value_field (default from_step)
    value_above: Decimal | None = None
    # An open period closes with any step of its type, whatever ``when`` says (a contract
    # in the contract register need not also go on the profile, § 219 odst. 1).
    closed_by_any: bool = False
    confidence: Confidence = "confirmed"
    note: str = ""


@dataclass(frozen=True)
class StepRule:
    type: str
    requires: tuple[str, ...] = ()
    requires_one_of: tuple[str, ...] = ()
    repeatable: bool = False
    terminal: bool = False
    deadlines: tuple[Deadline, ...] = ()


@dataclass(frozen=True)
class Procedure:
    id: str
    name_cs: str
    name_en: str
    legal_reference: str
    regimes: tuple[str, ...]
    steps: tuple[StepRule, ...]
    after_completed: tuple[str, ...] = AFTER_COMPLETED
    after_cancelled: tuple[str, ...] = AFTER_CANCELLED
    confidence: Confidence = "confirmed"
    note: str = ""
    _by_type: dict[str, StepRule] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_type.update({s.type: s for s in self.steps})

    def step(self, step_type: str) -> StepRule | None:
        return self._by_type.get(step_type)


# --- deadlines ---------------------------------------------------------------------------

BID_PERIOD_OPEN_ABOVE = Deadline(
    rule_id="bid_period_open_above_threshold",
    from_step="notice_published",
    at_field="bid_deadline",
    days=30,
    day_kind="calendar",
    kind="at_least",
    legal_reference=f"§ 57 odst. 1 {ZZVZ}",
    effective_from=ZZVZ_FROM,
    description="Open procedure above the EU threshold: at least 30 days for bids.",
    regimes=("above_threshold",),
    note="30 calendar days confirmed by a secondary source on the 2016 act; the paragraph "
    "number is from the design notes. Shortening after a prior information notice is not "
    "modelled.",
)
BID_PERIOD_OPEN_BELOW_SUPPLIES = Deadline(
    rule_id="bid_period_open_below_threshold_supplies_services",
    from_step="notice_published",
    at_field="bid_deadline",
    days=15,
    day_kind="working",
    kind="at_least",
    legal_reference=f"§ 54 odst. 2 písm. a) {ZZVZ}",
    effective_from=ZZVZ_FROM,
    description="Open procedure below the EU threshold, supplies or services: at least 15 "
    "working days for bids from the start of the procedure.",
    regimes=("below_threshold", "small_scale"),
    subjects=("supplies", "services"),
    note="Text of § 54 odst. 2 checked. § 54 odst. 4 (shorter by up to 5 working days after "
    "a prior information notice) is not modelled.",
)
BID_PERIOD_OPEN_BELOW_WORKS = Deadline(
    rule_id="bid_period_open_below_threshold_works",
    from_step="notice_published",
    at_field="bid_deadline",
    days=20,
    day_kind="working",
    kind="at_least",
    legal_reference=f"§ 54 odst. 2 písm. b) {ZZVZ}",
    effective_from=ZZVZ_FROM,
    description="Open procedure below the EU threshold, works: at least 20 working days "
    "for bids from the start of the procedure.",
    regimes=("below_threshold", "small_scale"),
    subjects=("works",),
    note="Text of § 54 odst. 2 checked.",
)


def _zpr_bid_period(from_step: str) -> Deadline:
    return Deadline(
        rule_id=f"bid_period_simplified_below_threshold_{from_step}",
        from_step=from_step,
        at_field="bid_deadline",
        days=11,
        day_kind="working",
        kind="at_least",
        legal_reference=f"§ 54 odst. 1 {ZZVZ}",
        effective_from=ZZVZ_FROM,
        description="Simplified below-threshold procedure (zjednodušené podlimitní "
        "řízení): at least 11 working days for bids from the start of the procedure.",
        note="Text of § 54 odst. 1 checked; the same period for supplies, services and works.",
    )


def _invited_bid_period_below(rule_id: str, what: str) -> Deadline:
    return Deadline(
        rule_id=rule_id,
        from_step="invitation_sent",
        at_field="bid_deadline",
        days=15,
        day_kind="working",
        kind="at_least",
        legal_reference=f"§ 54 odst. 3 {ZZVZ}",
        effective_from=ZZVZ_FROM,
        description=f"Below the EU threshold: at least 15 working days for {what} from "
        "sending the invitation.",
        regimes=("below_threshold", "small_scale"),
        note="Text of § 54 odst. 3 checked (bids in the restricted procedure, preliminary "
        "bids in the negotiated procedure with publication).",
    )


def _invited_bid_period(rule_id: str, reference: str) -> Deadline:
    return Deadline(
        rule_id=rule_id,
        from_step="invitation_sent",
        at_field="bid_deadline",
        days=30,
        day_kind="calendar",
        kind="at_least",
        legal_reference=reference,
        effective_from=ZZVZ_FROM,
        description="Above the EU threshold: at least 30 days for bids from the "
        "invitation to tender.",
        regimes=("above_threshold",),
        confidence="unconfirmed",
        note="Period recalled from the directive (Art. 28-30 of 2014/24/EU) as transposed; "
        "not checked against the consolidated ZZVZ text.",
    )


NO_CONTRACT_BEFORE_OBJECTION_PERIOD = Deadline(
    rule_id="contract_after_objection_period",
    from_step="selection_decided",
    at_field="signed_on",
    days=15,
    day_kind="calendar",
    kind="after",
    legal_reference=f"§ 242 odst. 2 a § 246 odst. 1 písm. a) {ZZVZ}",
    effective_from=ZZVZ_FROM,
    description="No contract before the 15-day period for objections against the "
    "selection of the supplier has ended.",
    severity="high",
    confidence="unconfirmed",
    note="Counted from the day the selection is decided (recorded step); the law counts "
    "from its notification to the participants. Exceptions of § 246 odst. 2 (e.g. a "
    "single participant) are not modelled.",
)
OBJECTION_DECIDED_IN_TIME = Deadline(
    rule_id="objection_decided_within_15_days",
    from_step="objection_filed",
    days=15,
    day_kind="calendar",
    kind="within",
    legal_reference=f"§ 245 odst. 1 {ZZVZ}",
    effective_from=ZZVZ_FROM,
    description="The buyer decides on objections within 15 days of receiving them.",
    severity="medium",
    confidence="unconfirmed",
    note="Recalled from the consolidated text; not checked in this session.",
)
CONTRACT_ON_PROFILE = Deadline(
    rule_id="contract_on_buyer_profile",
    from_step="contract_signed",
    from_field="signed_on",
    days=30,
    day_kind="calendar",
    kind="within",
    legal_reference=f"§ 219 odst. 1 {ZZVZ}",
    effective_from=ZZVZ_FROM,
    description="A contract above 500,000 CZK excl. VAT on the buyer profile within 30 "
    "days of its signature (not needed when it is in the contract register).",
    when=(("register", "profile"),),
    value_field="value_excl_vat",
    value_above=Decimal("500000.00"),
    closed_by_any=True,
    severity="medium",
    note="Text of § 219 odst. 1 checked (consolidated at 16 July 2023, and ÚOHS decisions "
    "of 2023-2024 apply 30 days); exemption d) (contract in the contract register) closes "
    "the period; framework agreements (quarterly) are not modelled.",
)
CONTRACT_REGISTER_30_DAYS = Deadline(
    rule_id="contract_register_30_days",
    from_step="contract_signed",
    from_field="signed_on",
    days=30,
    day_kind="calendar",
    kind="within",
    legal_reference=f"§ 5 odst. 2 {RS}",
    effective_from=RS_FROM,
    description="A contract above 50,000 CZK excl. VAT in the contract register (registr "
    "smluv) within 30 days of its signature.",
    when=(("register", "contract_register"),),
    value_field="value_excl_vat",
    value_above=Decimal("50000.00"),
    severity="medium",
    confidence="unconfirmed",
    note="From memory of the act, consistent with secondary sources; the text was not "
    "read. Exemptions of § 3 odst. 2 are not modelled.",
)
CONTRACT_REGISTER_3_MONTHS = Deadline(
    rule_id="contract_register_void_after_3_months",
    from_step="contract_signed",
    from_field="signed_on",
    days=3,
    day_kind="months",
    kind="within",
    legal_reference=f"§ 7 odst. 1 {RS}",
    effective_from=RS_FROM,
    description="A contract that must be in the contract register and is not published "
    "within 3 months of its signature is cancelled from the start.",
    when=(("register", "contract_register"),),
    value_field="value_excl_vat",
    value_above=Decimal("50000.00"),
    severity="critical",
    confidence="unconfirmed",
    note="Same exemptions as contract_register_30_days.",
)
PRICE_PAID_ON_PROFILE = Deadline(
    rule_id="price_paid_on_buyer_profile",
    from_step="completed",
    days=3,
    day_kind="months",
    kind="within",
    legal_reference=f"§ 219 odst. 3 {ZZVZ}",
    effective_from=ZZVZ_FROM,
    description="The price actually paid for a contract above 500,000 CZK excl. VAT on "
    "the buyer profile within 3 months of the contract's performance.",
    value_step="contract_signed",
    value_field="value_excl_vat",
    value_above=Decimal("500000.00"),
    severity="medium",
    note="Text of § 219 odst. 3 checked; counted from the 'completed' step. Contracts "
    "longer than a year (by 31 March of the next year) and the exemption of contracts in "
    "the contract register (§ 219 odst. 1 písm. d) are not modelled.",
)
RESULT_NOTICE = Deadline(
    rule_id="result_notice_30_days",
    from_step="contract_signed",
    from_field="signed_on",
    days=30,
    day_kind="calendar",
    kind="within",
    legal_reference=f"§ 126 {ZZVZ}",
    effective_from=ZZVZ_FROM,
    description="The notice of the result of the procedure within 30 days of the contract.",
    severity="medium",
    confidence="unconfirmed",
    note="30 days as in Art. 50 of Directive 2014/24/EU; a secondary source states 48 days "
    "(the period of the repealed Directive 2004/18/EC). Not checked against the text.",
)
WRITTEN_REPORT = Deadline(
    rule_id="written_report_30_days",
    from_step="contract_signed",
    from_field="signed_on",
    days=30,
    day_kind="calendar",
    kind="within",
    legal_reference=f"§ 217 {ZZVZ}",
    effective_from=ZZVZ_FROM,
    description="The written report (písemná zpráva zadavatele) on the buyer profile within "
    "30 days of the end of the procedure.",
    severity="low",
    confidence="unconfirmed",
    note="Period from the design notes, marked uncertain there; a secondary source says "
    "the act sets no period for making the report. Counted from the contract.",
)


# --- step lists ------------------------------------------------------------------------

TENDER_OPENERS = ("notice_published", "invitation_sent")


def _common_tail(
    *,
    objections: bool,
    result_notice: bool,
    report: bool,
    standstill: bool,
) -> tuple[StepRule, ...]:
    """Steps from the evaluation to the end, shared by the procedures."""
    contract_deadlines = (NO_CONTRACT_BEFORE_OBJECTION_PERIOD,) if standstill else ()
    steps = [
        StepRule("clarification_published", requires_one_of=TENDER_OPENERS, repeatable=True),
        StepRule("bid_deadline_extended", requires_one_of=TENDER_OPENERS, repeatable=True),
        StepRule("evaluation_completed", requires=("bids_opened",)),
        StepRule("selection_decided", requires=("bids_opened",)),
        StepRule("contract_signed", requires=("selection_decided",), deadlines=contract_deadlines),
        StepRule(
            "contract_published",
            requires=("contract_signed",),
            repeatable=True,
            deadlines=(CONTRACT_ON_PROFILE, CONTRACT_REGISTER_30_DAYS, CONTRACT_REGISTER_3_MONTHS),
        ),
        StepRule("contract_amended", requires=("contract_signed",), repeatable=True),
        StepRule("payment_made", requires=("contract_signed",), repeatable=True),
        StepRule(
            "price_paid_published",
            requires=("payment_made",),
            repeatable=True,
            deadlines=(PRICE_PAID_ON_PROFILE,),
        ),
        StepRule("completed", requires=("contract_signed",), terminal=True),
        StepRule("cancelled", terminal=True),
    ]
    if objections:
        steps += [
            StepRule(
                "objection_filed",
                requires_one_of=(*TENDER_OPENERS, "selection_decided", "cancelled"),
                repeatable=True,
            ),
            StepRule(
                "objection_decided",
                requires=("objection_filed",),
                repeatable=True,
                deadlines=(OBJECTION_DECIDED_IN_TIME,),
            ),
        ]
    if result_notice:
        steps.append(
            StepRule(
                "result_notice_published",
                requires_one_of=("contract_signed", "cancelled"),
                deadlines=(RESULT_NOTICE,),
            )
        )
    if report:
        steps.append(
            StepRule(
                "report_published",
                requires_one_of=("contract_signed", "cancelled"),
                deadlines=(WRITTEN_REPORT,),
            )
        )
    else:
        steps.append(StepRule("report_published", requires_one_of=("contract_signed", "cancelled")))
    return tuple(steps)


APPROVED = StepRule("procurement_approved")
ZZVZ_TAIL = _common_tail(objections=True, result_notice=True, report=True, standstill=True)
ALL_REGIMES = ("small_scale", "below_threshold", "above_threshold")


def _with_notice_then_invitation(*bid_rules: Deadline) -> tuple[StepRule, ...]:
    """Two-stage procedures: a call for competition, then invitations to the qualified."""
    return (
        APPROVED,
        StepRule("notice_published", requires=("procurement_approved",)),
        StepRule("tender_documents_published", requires=("notice_published",)),
        StepRule("invitation_sent", requires=("notice_published",), deadlines=bid_rules),
        StepRule("bids_opened", requires=("invitation_sent",)),
        *ZZVZ_TAIL,
    )


PROCEDURES: tuple[Procedure, ...] = (
    Procedure(
        id="open",
        name_cs="otevřené řízení",
        name_en="open procedure",
        legal_reference=f"§ 56 {ZZVZ} (podlimitní režim § 52)",
        regimes=ALL_REGIMES,
        steps=(
            APPROVED,
            StepRule(
                "notice_published",
                requires=("procurement_approved",),
                deadlines=(
                    BID_PERIOD_OPEN_ABOVE,
                    BID_PERIOD_OPEN_BELOW_SUPPLIES,
                    BID_PERIOD_OPEN_BELOW_WORKS,
                ),
            ),
            StepRule("tender_documents_published", requires=("notice_published",)),
            StepRule("bids_opened", requires=("notice_published",)),
            *ZZVZ_TAIL,
        ),
    ),
    Procedure(
        id="restricted",
        name_cs="užší řízení",
        name_en="restricted procedure",
        legal_reference=f"§ 58 {ZZVZ}",
        regimes=ALL_REGIMES,
        steps=_with_notice_then_invitation(
            _invited_bid_period("bid_period_restricted_above_threshold", f"§ 58 {ZZVZ}"),
            _invited_bid_period_below("bid_period_restricted_below_threshold", "bids"),
        ),
    ),
    Procedure(
        id="negotiated_with_publication",
        name_cs="jednací řízení s uveřejněním",
        name_en="competitive procedure with negotiation",
        legal_reference=f"§ 60 {ZZVZ}",
        regimes=ALL_REGIMES,
        steps=_with_notice_then_invitation(
            _invited_bid_period(
                "bid_period_negotiated_with_publication_above_threshold", f"§ 61 {ZZVZ}"
            ),
            _invited_bid_period_below(
                "bid_period_negotiated_with_publication_below_threshold", "preliminary bids"
            ),
        ),
    ),
    Procedure(
        id="negotiated_without_publication",
        name_cs="jednací řízení bez uveřejnění",
        name_en="negotiated procedure without prior publication",
        legal_reference=f"§ 63 {ZZVZ}",
        regimes=ALL_REGIMES,
        steps=(
            APPROVED,
            StepRule("invitation_sent", requires=("procurement_approved",)),
            StepRule("tender_documents_published", requires=("invitation_sent",)),
            StepRule("bids_opened", requires=("invitation_sent",)),
            *_common_tail(objections=True, result_notice=True, report=True, standstill=True),
        ),
        note="Used only on the grounds of §§ 63-66; the grounds are not checked.",
    ),
    Procedure(
        id="competitive_dialogue",
        name_cs="soutěžní dialog",
        name_en="competitive dialogue",
        legal_reference=f"§ 68 {ZZVZ}",
        regimes=ALL_REGIMES,
        steps=_with_notice_then_invitation(
            _invited_bid_period("bid_period_competitive_dialogue_above_threshold", f"§ 68 {ZZVZ}")
        ),
        note="The dialogue rounds are logged as clarification_published steps.",
    ),
    Procedure(
        id="innovation_partnership",
        name_cs="řízení o inovačním partnerství",
        name_en="innovation partnership",
        legal_reference=f"§ 70 {ZZVZ}",
        regimes=ALL_REGIMES,
        steps=_with_notice_then_invitation(
            _invited_bid_period("bid_period_innovation_partnership_above_threshold", f"§ 70 {ZZVZ}")
        ),
    ),
    Procedure(
        id="simplified_below_threshold",
        name_cs="zjednodušené podlimitní řízení",
        name_en="simplified below-threshold procedure",
        legal_reference=f"§ 53 {ZZVZ}",
        regimes=("small_scale", "below_threshold"),
        steps=(
            APPROVED,
            StepRule(
                "notice_published",
                requires=("procurement_approved",),
                deadlines=(_zpr_bid_period("notice_published"),),
            ),
            StepRule(
                "invitation_sent",
                requires=("procurement_approved",),
                deadlines=(_zpr_bid_period("invitation_sent"),),
            ),
            StepRule("tender_documents_published", requires_one_of=TENDER_OPENERS),
            StepRule("bids_opened", requires_one_of=TENDER_OPENERS),
            *_common_tail(objections=True, result_notice=False, report=True, standstill=True),
        ),
        note="The call (výzva) is published on the buyer profile (notice_published, channel "
        "profile) and may also be sent to chosen suppliers (invitation_sent). Works above "
        "50,000,000 CZK may not use it (§ 52 písm. a)); not checked.",
    ),
    Procedure(
        id="concession",
        name_cs="koncesní řízení",
        name_en="concession award procedure",
        legal_reference=f"§ 174 {ZZVZ}",
        regimes=ALL_REGIMES,
        steps=(
            APPROVED,
            StepRule("notice_published", requires=("procurement_approved",)),
            StepRule("invitation_sent", requires=("procurement_approved",)),
            StepRule("tender_documents_published", requires_one_of=TENDER_OPENERS),
            StepRule("bids_opened", requires_one_of=TENDER_OPENERS),
            *ZZVZ_TAIL,
        ),
        confidence="unconfirmed",
        note="Concession thresholds (small concession, § 178) differ from the supply and "
        "works thresholds; the regime here uses the general table.",
    ),
    Procedure(
        id="design_contest",
        name_cs="soutěž o návrh",
        name_en="design contest",
        legal_reference=f"§ 143 {ZZVZ}",
        regimes=ALL_REGIMES,
        steps=(
            APPROVED,
            StepRule("notice_published", requires=("procurement_approved",)),
            StepRule("tender_documents_published", requires=("notice_published",)),
            StepRule("bids_opened", requires=("notice_published",)),
            *ZZVZ_TAIL,
        ),
        note="Designs received are logged as bids_opened, the jury's assessment as "
        "evaluation_completed; a follow-up negotiated procedure is a procurement of its own.",
    ),
    Procedure(
        id="small_scale",
        name_cs="veřejná zakázka malého rozsahu",
        name_en="small-scale public contract",
        legal_reference=f"§ 27 a § 31 {ZZVZ}",
        regimes=("small_scale",),
        steps=(
            APPROVED,
            # poptávka: a price inquiry to several suppliers, or a call on the profile
            StepRule("invitation_sent", requires=("procurement_approved",)),
            StepRule("notice_published", requires=("procurement_approved",)),
            StepRule("tender_documents_published", requires_one_of=TENDER_OPENERS),
            StepRule("bids_opened", requires_one_of=TENDER_OPENERS),
            *_common_tail(objections=False, result_notice=False, report=False, standstill=False),
        ),
        note="Outside the award procedures of the act (§ 31): the buyer follows the "
        "principles of § 6 and its own internal rules; the statutory deadlines that still "
        "apply are publication (§ 219, contract register). The council resolution that "
        "picks the supplier is selection_decided; an order (objednávka) is contract_signed.",
    ),
)

PROCEDURES_BY_ID: dict[str, Procedure] = {p.id: p for p in PROCEDURES}


def procedure(procedure_id: str) -> Procedure:
    return PROCEDURES_BY_ID[procedure_id]


def all_deadlines(proc: Procedure) -> list[tuple[str, Deadline]]:
    """Every (step type, deadline) of a procedure."""
    return [(s.type, d) for s in proc.steps for d in s.deadlines]
