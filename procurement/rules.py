"""Procedure rules as data: for each procedure type of zákon č. 134/2016 Sb. (ZZVZ), the
step types it uses, which steps must come first, and the statutory periods that hang on its
steps.

A rule here says *when* a period runs (from which step, to which step, for which regime,
subject and value); *how long* it is, above which value, and the legal reference are dated
rows of the law table (``procurement.law``), looked up for the day the period starts. What a
step type is (its data, status, whether it repeats or ends the trail) is the step-type
registry (``procurement.steptypes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from procurement import law
from procurement.law import ZZVZ
from procurement.steptypes import AFTER_CANCELLED, AFTER_COMPLETED, STEP_TYPES

DeadlineKind = Literal["within", "at_least", "after"]
Severity = Literal["low", "medium", "high", "critical"]

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


@dataclass(frozen=True)
class Deadline:
    """A statutory period, checked when the step it belongs to is recorded and over the
    whole trail.

    The period starts on the date of ``from_step`` (its ``from_field`` date, else the day
    it occurred, in Prague) and is compared with this step's ``at_field`` date (else the day
    it occurred): ``within`` = no later than the last day; ``at_least`` = no earlier than
    the last day (a minimum period such as the bid period); ``after`` = only once the period
    is over (no contract before the objection period has ended). Its days, value limit and
    legal reference come from the law table (``law_id``, default ``rule_id``), in the
    version in force on the day the period starts. ``description`` may name ``{days}``,
    ``{unit}`` and ``{value_above}``.
    """

    rule_id: str
    from_step: str
    kind: DeadlineKind
    description: str
    severity: Severity = "high"
    law_id: str | None = None
    from_field: str | None = None
    at_field: str | None = None
    regimes: tuple[str, ...] | None = None
    subjects: tuple[str, ...] | None = None
    when: tuple[tuple[str, str], ...] = ()
    value_field: str | None = None
    value_step: str | None = None  # the step whose data holds value_field (default from_step)
    # An open period closes with any step of its type, whatever ``when`` says (a contract
    # in the contract register need not also go on the profile, § 219 odst. 1 písm. d)).
    closed_by_any: bool = False
    # Later steps that move the measured date (an extended bid deadline): (type, member).
    moved_by: tuple[str, str] | None = None
    # No period when only one supplier bid (§ 246 odst. 2).
    not_with_single_bid: bool = False

    @property
    def law_rule(self) -> str:
        return self.law_id or self.rule_id

    def version(self, on: date) -> law.DeadlineVersion | None:
        """The law's values for a period that starts on ``on`` (None: not in force)."""
        return law.deadline_version(self.law_rule, on)

    def describe(self, version: law.DeadlineVersion) -> str:
        unit = {"calendar": "days", "working": "working days", "months": "months"}
        value = f"{version.value_above:,.0f}" if version.value_above is not None else ""
        return self.description.format(
            days=version.days, unit=unit[version.day_kind], value_above=value
        )


@dataclass(frozen=True)
class StepRule:
    """How a step type fits a procedure: what must come before it and its deadlines
    (whether it repeats or ends the trail is the step type's, see ``steptypes``)."""

    type: str
    requires: tuple[str, ...] = ()
    requires_one_of: tuple[str, ...] = ()
    deadlines: tuple[Deadline, ...] = ()

    @property
    def repeatable(self) -> bool:
        return STEP_TYPES[self.type].repeatable

    @property
    def terminal(self) -> bool:
        return STEP_TYPES[self.type].terminal


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
    confidence: law.Confidence = "confirmed"
    note: str = ""
    _by_type: dict[str, StepRule] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_type.update({s.type: s for s in self.steps})

    def step(self, step_type: str) -> StepRule | None:
        return self._by_type.get(step_type)


# --- deadlines ---------------------------------------------------------------------------

BELOW = ("below_threshold", "small_scale")
ABOVE = ("above_threshold",)
EXTENDED = ("bid_deadline_extended", "new_bid_deadline")

BID_PERIOD_OPEN_ABOVE = Deadline(
    rule_id="bid_period_open_above_threshold",
    from_step="notice_published",
    at_field="bid_deadline",
    kind="at_least",
    description="Open procedure above the EU threshold: at least {days} {unit} for bids "
    "from sending the notice.",
    regimes=ABOVE,
    moved_by=EXTENDED,
)
BID_PERIOD_OPEN_BELOW_SUPPLIES = Deadline(
    rule_id="bid_period_open_below_threshold_supplies_services",
    from_step="notice_published",
    at_field="bid_deadline",
    kind="at_least",
    description="Open procedure below the EU threshold, supplies or services: at least "
    "{days} {unit} for bids from the start of the procedure.",
    regimes=BELOW,
    subjects=("supplies", "services"),
    moved_by=EXTENDED,
)
BID_PERIOD_OPEN_BELOW_WORKS = Deadline(
    rule_id="bid_period_open_below_threshold_works",
    from_step="notice_published",
    at_field="bid_deadline",
    kind="at_least",
    description="Open procedure below the EU threshold, works: at least {days} {unit} for "
    "bids from the start of the procedure.",
    regimes=BELOW,
    subjects=("works",),
    moved_by=EXTENDED,
)


def _zpr_bid_period(from_step: str) -> Deadline:
    return Deadline(
        rule_id=f"bid_period_simplified_below_threshold_{from_step}",
        law_id="bid_period_simplified_below_threshold",
        from_step=from_step,
        at_field="bid_deadline",
        kind="at_least",
        description="Simplified below-threshold procedure (zjednodušené podlimitní řízení): "
        "at least {days} {unit} for bids from the start of the procedure.",
        moved_by=EXTENDED,
    )


def _invited_bid_period(procedure_id: str, regimes: tuple[str, ...], what: str) -> Deadline:
    above = regimes == ABOVE
    return Deadline(
        rule_id=f"bid_period_{procedure_id}_{'above' if above else 'below'}_threshold",
        from_step="invitation_sent",
        at_field="bid_deadline",
        kind="at_least",
        description=f"{'Above' if above else 'Below'} the EU threshold: at least {{days}} "
        f"{{unit}} for {what} from sending the invitation.",
        regimes=regimes,
        moved_by=EXTENDED,
    )


def _participation_period(procedure_id: str, regimes: tuple[str, ...]) -> Deadline:
    above = regimes == ABOVE
    return Deadline(
        rule_id=f"participation_period_{procedure_id}_{'above' if above else 'below'}_threshold",
        from_step="notice_published",
        at_field="bid_deadline",
        kind="at_least",
        description=f"{'Above' if above else 'Below'} the EU threshold: at least {{days}} "
        "{unit} for requests to participate (žádosti o účast) from the start of the "
        "procedure; the notice's bid_deadline is that deadline.",
        regimes=regimes,
        moved_by=EXTENDED,
    )


NO_CONTRACT_BEFORE_OBJECTION_PERIOD = Deadline(
    rule_id="contract_after_objection_period",
    from_step="selection_decided",
    at_field="signed_on",
    kind="after",
    description="No contract before the {days}-day period for objections against the "
    "selection of the supplier has ended (not when only one supplier bid).",
    not_with_single_bid=True,
)
OBJECTION_DECIDED_IN_TIME = Deadline(
    rule_id="objection_decided_within_15_days",
    from_step="objection_filed",
    kind="within",
    description="The buyer decides on objections within {days} {unit} of receiving them.",
    severity="medium",
)
CONTRACT_ON_PROFILE = Deadline(
    rule_id="contract_on_buyer_profile",
    from_step="contract_signed",
    from_field="signed_on",
    kind="within",
    description="A contract above {value_above} CZK excl. VAT on the buyer profile within "
    "{days} {unit} of its signature (not needed when it is in the contract register).",
    when=(("register", "profile"),),
    value_field="value_excl_vat",
    closed_by_any=True,
    severity="medium",
)
CONTRACT_REGISTER_30_DAYS = Deadline(
    rule_id="contract_register_30_days",
    from_step="contract_signed",
    from_field="signed_on",
    kind="within",
    description="A contract above {value_above} CZK excl. VAT in the contract register "
    "(registr smluv) within {days} {unit} of its signature.",
    when=(("register", "contract_register"),),
    value_field="value_excl_vat",
    severity="medium",
)
CONTRACT_REGISTER_3_MONTHS = Deadline(
    rule_id="contract_register_void_after_3_months",
    from_step="contract_signed",
    from_field="signed_on",
    kind="within",
    description="A contract above {value_above} CZK excl. VAT that is not in the contract "
    "register within {days} {unit} of its signature is cancelled from the start.",
    when=(("register", "contract_register"),),
    value_field="value_excl_vat",
    severity="critical",
)
PRICE_PAID_ON_PROFILE = Deadline(
    rule_id="price_paid_on_buyer_profile",
    from_step="completed",
    kind="within",
    description="The price actually paid for a contract above {value_above} CZK excl. VAT "
    "on the buyer profile within {days} {unit} of the contract's performance.",
    value_step="contract_signed",
    value_field="value_excl_vat",
    severity="medium",
)
RESULT_NOTICE = Deadline(
    rule_id="result_notice_30_days",
    from_step="contract_signed",
    from_field="signed_on",
    kind="within",
    description="The notice of the result of the procedure within {days} {unit} of the contract.",
    severity="medium",
)
WRITTEN_REPORT = Deadline(
    rule_id="written_report_30_days",
    from_step="contract_signed",
    from_field="signed_on",
    kind="within",
    description="The written report (písemná zpráva zadavatele) on the buyer profile within "
    "{days} {unit} of the end of the procedure (counted from the contract).",
    severity="low",
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
        StepRule("clarification_published", requires_one_of=TENDER_OPENERS),
        StepRule("bid_deadline_extended", requires_one_of=TENDER_OPENERS),
        StepRule("evaluation_completed", requires=("bids_opened",)),
        StepRule("selection_decided", requires=("bids_opened",)),
        StepRule("contract_signed", requires=("selection_decided",), deadlines=contract_deadlines),
        StepRule(
            "contract_published",
            requires=("contract_signed",),
            deadlines=(CONTRACT_ON_PROFILE, CONTRACT_REGISTER_30_DAYS, CONTRACT_REGISTER_3_MONTHS),
        ),
        StepRule("contract_amended", requires=("contract_signed",)),
        StepRule("payment_made", requires=("contract_signed",)),
        StepRule(
            "price_paid_published",
            requires=("payment_made",),
            deadlines=(PRICE_PAID_ON_PROFILE,),
        ),
        StepRule("completed", requires=("contract_signed",)),
        StepRule("cancelled"),
    ]
    if objections:
        steps += [
            StepRule(
                "objection_filed",
                requires_one_of=(*TENDER_OPENERS, "selection_decided", "cancelled"),
            ),
            StepRule(
                "objection_decided",
                requires=("objection_filed",),
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
    report_deadlines = (WRITTEN_REPORT,) if report else ()
    steps.append(
        StepRule(
            "report_published",
            requires_one_of=("contract_signed", "cancelled"),
            deadlines=report_deadlines,
        )
    )
    return tuple(steps)


APPROVED = StepRule("procurement_approved")
ZZVZ_TAIL = _common_tail(objections=True, result_notice=True, report=True, standstill=True)
ALL_REGIMES = ("small_scale", "below_threshold", "above_threshold")


def _two_stage(procedure_id: str, *, below: bool, what: str) -> tuple[StepRule, ...]:
    """Two-stage procedures: a call for competition (requests to participate), then
    invitations to the qualified to bid. ``below``: the below-threshold periods of § 54
    odst. 3 apply to this procedure too."""
    notice_rules = [_participation_period(procedure_id, ABOVE)]
    invitation_rules = [_invited_bid_period(procedure_id, ABOVE, what)] if what else []
    if below:
        notice_rules.append(_participation_period(procedure_id, BELOW))
        invitation_rules.append(_invited_bid_period(procedure_id, BELOW, what))
    return (
        APPROVED,
        StepRule(
            "notice_published", requires=("procurement_approved",), deadlines=tuple(notice_rules)
        ),
        StepRule("tender_documents_published", requires=("notice_published",)),
        StepRule(
            "invitation_sent", requires=("notice_published",), deadlines=tuple(invitation_rules)
        ),
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
        steps=_two_stage("restricted", below=True, what="bids"),
    ),
    Procedure(
        id="negotiated_with_publication",
        name_cs="jednací řízení s uveřejněním",
        name_en="competitive procedure with negotiation",
        legal_reference=f"§ 60 {ZZVZ}",
        regimes=ALL_REGIMES,
        steps=_two_stage("negotiated_with_publication", below=True, what="preliminary bids"),
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
            *ZZVZ_TAIL,
        ),
        note="Used only on the grounds of §§ 63-66; the grounds are not checked.",
    ),
    Procedure(
        id="competitive_dialogue",
        name_cs="řízení se soutěžním dialogem",
        name_en="competitive dialogue",
        legal_reference=f"§ 68 {ZZVZ}",
        regimes=ALL_REGIMES,
        steps=_two_stage("competitive_dialogue", below=False, what=""),
        confidence="unconfirmed",
        note="The dialogue rounds are logged as clarification_published steps. Above the "
        "threshold the 30 days for requests to participate apply; no statutory minimum "
        "period for the final bids was found, so none is checked.",
    ),
    Procedure(
        id="innovation_partnership",
        name_cs="řízení o inovačním partnerství",
        name_en="innovation partnership",
        legal_reference=f"§ 70 {ZZVZ}",
        regimes=ALL_REGIMES,
        steps=_two_stage("innovation_partnership", below=False, what=""),
        confidence="unconfirmed",
        note="Above the threshold the 30 days for requests to participate apply; no "
        "statutory minimum bid period was found, so none is checked.",
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
